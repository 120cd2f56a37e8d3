"""`llmcompression-configs install`, and what OpenCompass then finds for the short names.

Which file `--datasets llm_compression` loads is decided with OpenCompass's own matcher
(`opencompass.utils.run.match_cfg_file`, over the folders its command line searches), so these
checks are about OpenCompass's real behaviour, not a copy of it.
"""

import os

import pytest

from opencompass_llmcompression import configs_cli


def searched_folders(config_dir, kind):
    """The folders OpenCompass's command line searches for `--datasets`/`--summarizer`."""
    import opencompass

    packaged = os.path.join(os.path.dirname(opencompass.__file__), 'configs', kind)
    return [os.path.join(config_dir, kind), packaged]


def found(config_dir, kind, name='llm_compression'):
    from opencompass.utils.run import match_cfg_file

    return match_cfg_file(searched_folders(config_dir, kind), [name])[0][1]


def test_without_the_step_opencompass_takes_its_builtin_and_with_it_ours(tmp_path, capsys):
    checkout = tmp_path / 'opencompass'  # shaped like OpenCompass's repository today
    os.makedirs(checkout / 'configs' / 'models' / 'hf_llama')
    (checkout / 'configs' / 'models' / 'hf_llama' / 'hf_llama2_7b.py').write_text('models = []\n')
    (checkout / 'run.py').write_text('from opencompass.cli.main import main\nmain()\n')
    config_dir = str(checkout / 'configs')
    assert f'{os.sep}opencompass{os.sep}configs{os.sep}datasets' in found(config_dir, 'datasets')

    assert configs_cli.main(['install', config_dir]) == 0
    printed = capsys.readouterr().out
    dataset_file = os.path.join(config_dir, 'datasets', 'llm_compression', 'llm_compression.py')
    summarizer_file = os.path.join(config_dir, 'summarizers', 'llm_compression.py')
    assert f'written: {dataset_file}' in printed and f'written: {summarizer_file}' in printed
    assert found(config_dir, 'datasets') == dataset_file
    assert found(config_dir, 'summarizers') == summarizer_file

    from mmengine.config import Config

    datasets = Config.fromfile(dataset_file)['llm_compression_datasets']
    assert [d['abbr'] for d in datasets] == [
        'llm_compression-cc',
        'llm_compression-python',
        'llm_compression-arxiv_math',
    ]
    assert (
        datasets[0]['infer_cfg']['inferencer']['type'].__name__ == 'SlidingWindowPPLInferencer'
    )  # OpenCompass's summary reads `ppl` from this name
    assert Config.fromfile(summarizer_file)['summarizer']['type'].__name__ == 'CompressionSummarizer'


def test_install_is_idempotent_updates_its_own_and_refuses_others(tmp_path, capsys):
    config_dir = str(tmp_path / 'configs')
    assert configs_cli.main(['install', config_dir]) == 0
    capsys.readouterr()
    assert configs_cli.main(['install', config_dir]) == 0
    assert capsys.readouterr().out.count('unchanged: ') == len(configs_cli.THIN_CONFIGS)

    summarizer_file = os.path.join(config_dir, 'summarizers', 'llm_compression.py')
    with open(summarizer_file, 'a') as f:
        f.write('# an older version of ours\n')
    assert configs_cli.main(['install', config_dir]) == 0
    assert f'updated: {summarizer_file}' in capsys.readouterr().out

    dataset_file = os.path.join(config_dir, 'datasets', 'llm_compression', 'llm_compression.py')
    os.remove(summarizer_file)
    with open(dataset_file, 'w') as f:
        f.write('datasets = []  # the user\'s own\n')
    assert configs_cli.main(['install', config_dir]) == 1
    err = capsys.readouterr().err
    assert dataset_file in err and 'not written by llmcompression-configs' in err
    assert open(dataset_file).read() == 'datasets = []  # the user\'s own\n'
    assert not os.path.exists(summarizer_file)  # a refusal writes nothing at all


def test_the_projects_own_configs_are_what_install_writes(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    configs_cli.install(str(tmp_path))
    for relative in configs_cli.THIN_CONFIGS:
        with (
            open(os.path.join(root, 'configs', relative)) as ours,
            open(os.path.join(tmp_path, relative)) as written,
        ):
            assert ours.read() == written.read(), relative


def test_a_loaded_config_says_which_plugin_and_version(tmp_path):
    """Through mmengine's lazy-import loading, as OpenCompass loads a suite that includes it."""
    from mmengine.config import Config
    from opencompass.utils import get_logger

    from opencompass_llmcompression import __version__

    configs_cli.install(str(tmp_path))
    seen = []
    logger = get_logger()
    logger.addFilter(lambda record: seen.append(record.getMessage()) or True)
    suite = tmp_path / 'suite.py'
    suite.write_text(
        'from mmengine.config import read_base\n\nwith read_base():\n'
        '    from opencompass_llmcompression.configs.datasets.llm_compression.'
        'llm_compression import llm_compression_datasets\n\n'
        'datasets = [*llm_compression_datasets]\n'
    )
    Config.fromfile(str(suite))
    Config.fromfile(str(tmp_path / 'summarizers' / 'llm_compression.py'))
    announced = [m for m in seen if m.startswith(f'opencompass-llmcompression {__version__}: ')]
    assert len(announced) == 2, seen
    assert 'dataset config llm_compression' in announced[0] and announced[0].endswith(
        os.path.join('configs', 'datasets', 'llm_compression', 'llm_compression.py)')
    )
    assert 'summarizer llm_compression' in announced[1]


@pytest.mark.parametrize(
    'kind', ['opencompass_llmcompression.SlidingWindowInferencer', 'SlidingWindowInferencer']
)
def test_a_config_naming_the_old_inferencer_still_shows_ppl(kind):
    from opencompass_llmcompression.openicl.summarizer import with_current_inferencer_name

    cfg = dict(abbr='x', infer_cfg=dict(inferencer=dict(type=kind, block_size=64)))
    renamed = with_current_inferencer_name(cfg)['infer_cfg']['inferencer']
    assert renamed == dict(type=kind.replace('SlidingWindow', 'SlidingWindowPPL'), block_size=64)
    assert cfg['infer_cfg']['inferencer']['type'] == kind  # the run's config is left alone
