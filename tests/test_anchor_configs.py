"""The anchor models' config and the folder-of-corpora helper, as OpenCompass's config loader
(mmengine) reads them, in this process."""

import json
import os

import pytest

from opencompass_llmcompression import CorpusError, configs_cli
from opencompass_llmcompression.core.checksums import file_sha256
from opencompass_llmcompression.report.paper_fits import LEFT_OUT, paper_table
from opencompass_llmcompression.report.paper_reference import normalise

AREAS = ('knowledge', 'coding', 'mathematics')


def anchors_config():
    from mmengine.config import Config

    from opencompass_llmcompression import CONFIG_DIR

    return Config.fromfile(os.path.join(CONFIG_DIR, 'models', 'llm_compression_anchors.py'))


def test_the_anchor_models_are_the_papers_and_the_cheap_set_spans_its_range():
    config = anchors_config()
    names = {normalise(m): m for area in AREAS for m in paper_table(area)[1]}
    every = [names.get(normalise(m['abbr'])) for m in config['all_anchor_models']]
    assert None not in every and len(set(every)) == len(every) == len(names) == 31
    cheap = [names[normalise(m['abbr'])] for m in config['models']]
    assert len(cheap) == 14 and all(m['type'].__name__ == 'HuggingFaceBaseModel' for m in config['models'])
    # the ranges and counts the config's header states, per corpus's average line
    stated = {'knowledge': (8, 0.581, 0.649), 'coding': (12, 0.262, 0.393), 'mathematics': (9, 0.420, 0.541)}
    for area in AREAS:
        rows = paper_table(area)[1]
        left_out = LEFT_OUT.get((area, 'Average'), ())
        bpc = [rows[m]['BPC'] for m in cheap if m in rows and m not in left_out]
        assert (len(bpc), min(bpc), max(bpc)) == stated[area], area
    paths = {m['abbr']: m['path'] for m in config['all_anchor_models']}
    assert (
        paths['llama-1-7b-hf'] == 'huggyllama/llama-7b' and paths['starcoder2-7b'] == 'bigcode/starcoder2-7b'
    )


def test_opencompass_finds_the_anchors_after_install(tmp_path):
    from opencompass.utils.run import match_cfg_file

    configs_cli.install(str(tmp_path))
    (found,) = match_cfg_file([str(tmp_path / 'models')], ['llm_compression_anchors'])
    from mmengine.config import Config

    assert len(Config.fromfile(found[1])['models']) == 14


def write_corpus(folder, name, kind, first, last):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f'{name}.jsonl'), 'w') as f:
        f.write(json.dumps({'content': f'{name} text'}) + '\n')
    manifest = {
        'file': f'{name}.jsonl',
        'sha256': file_sha256(os.path.join(folder, f'{name}.jsonl')),
        'settings': {'kind': kind},
        'period': {'first': first, 'last': last},
    }
    with open(os.path.join(folder, f'{name}.manifest.json'), 'w') as f:
        json.dump(manifest, f)


def test_a_folder_of_corpora_becomes_one_dataset_each_in_a_config(tmp_path):
    from mmengine.config import Config

    folder = str(tmp_path / 'fresh')
    for month in ('2026_01', '2026_02', '2026_03'):
        write_corpus(
            folder, f'web_{month}', 'text', f'{month.replace("_", "-")}-01', f'{month.replace("_", "-")}-28'
        )
    write_corpus(folder, 'code_2026_01', 'code', '2026-01-01', '2026-01-31')
    (tmp_path / 'fresh' / 'web_2026_01.records.jsonl').write_text('{"text": "an input"}\n')
    suite = tmp_path / 'suite.py'
    suite.write_text(
        'from mmengine.config import read_base\n\n'
        'with read_base():\n'
        '    from opencompass_llmcompression.configs.models.llm_compression_anchors import models\n\n'
        'datasets = __import__(\n'
        "    'opencompass_llmcompression.openicl.corpus_folder', fromlist=['corpus_datasets']\n"
        f').corpus_datasets({folder!r}, block_size=1024)\n'
    )
    config = Config.fromfile(str(suite))
    datasets = config['datasets']
    assert [d['abbr'] for d in datasets] == [
        'llm_compression-code_2026_01',
        'llm_compression-web_2026_01',
        'llm_compression-web_2026_02',
        'llm_compression-web_2026_03',
    ]
    first = datasets[0]
    assert (first['path'], first['name'], first['type']) == (
        folder,
        'code_2026_01',
        'opencompass_llmcompression.CompressionCorpusDataset',
    )
    assert first['infer_cfg']['inferencer'] == dict(
        type='opencompass_llmcompression.SlidingWindowPPLInferencer', block_size=1024
    )
    # as OpenCompass saves a run's config and its tasks and the report read it back
    config.dump(str(tmp_path / 'saved.py'))
    saved = Config.fromfile(str(tmp_path / 'saved.py'))
    assert saved['datasets'] == datasets
    from opencompass.registry import ICL_EVALUATORS, LOAD_DATASET

    from opencompass_llmcompression.report.results import corpus_locations

    assert corpus_locations(saved['datasets'])['llm_compression-web_2026_02'] == dict(
        path=folder, name='web_2026_02', samples=None
    )
    dataset_class = LOAD_DATASET.get(first['type'])
    rows = dataset_class(path=first['path'], name=first['name'], reader_cfg=first['reader_cfg']).test
    assert rows[0]['content'] == 'code_2026_01 text'
    assert ICL_EVALUATORS.get(first['eval_cfg']['evaluator']['type']).__name__ == 'CompressionEvaluator'
    assert len(config['models']) == 14

    from opencompass_llmcompression.openicl.corpus_folder import corpus_datasets

    os.makedirs(tmp_path / 'empty')
    with pytest.raises(CorpusError, match='holds no corpus'):
        corpus_datasets(str(tmp_path / 'empty'))
    with pytest.raises(CorpusError, match='web_2027_01: no such corpus'):
        corpus_datasets(folder, names=['web_2027_01'])


def test_datasets_llm_compression_folder_takes_every_corpus_of_the_folder(tmp_path, monkeypatch):
    from mmengine.config import Config
    from opencompass.utils.run import match_cfg_file

    folder = str(tmp_path / 'fresh')
    for month in ('01', '02'):
        write_corpus(folder, f'web_2026_{month}', 'text', f'2026-{month}-01', f'2026-{month}-28')
    configs_cli.install(str(tmp_path / 'configs'))
    (found,) = match_cfg_file([str(tmp_path / 'configs' / 'datasets')], ['llm_compression_folder'])
    monkeypatch.setenv('LLMCOMPRESSION_CORPORA', folder)
    datasets = Config.fromfile(found[1])['llm_compression_folder_datasets']
    assert [(d['abbr'], d['path']) for d in datasets] == [
        ('llm_compression-web_2026_01', folder),
        ('llm_compression-web_2026_02', folder),
    ]
    monkeypatch.setenv('LLMCOMPRESSION_CORPORA', str(tmp_path / 'nothing'))
    with pytest.raises(CorpusError, match='nothing is not a folder'):
        Config.fromfile(found[1])


def test_llm_compression_hf_is_the_model_hf_path_builds_named_by_the_environment(monkeypatch):
    from mmengine.config import Config

    from opencompass_llmcompression import CONFIG_DIR

    config = os.path.join(CONFIG_DIR, 'models', 'llm_compression_hf.py')
    for name in ('LLMCOMPRESSION_HF_PATH', 'LLMCOMPRESSION_HF_NUM_GPUS', 'LLMCOMPRESSION_HF_BATCH_SIZE'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match='LLMCOMPRESSION_HF_PATH is not set: name the model to measure'):
        Config.fromfile(config)
    monkeypatch.setenv('LLMCOMPRESSION_HF_PATH', 'meta-llama/Llama-3.1-8B, models/mine/')
    first, second = Config.fromfile(config)['models']
    # what OpenCompass 0.5's get_config_from_arg builds for --hf-type base --hf-path meta-llama/Llama-3.1-8B
    assert first == dict(
        type='opencompass.models.huggingface_above_v4_33.HuggingFaceBaseModel',
        abbr='Llama-3.1-8B_hf',
        path='meta-llama/Llama-3.1-8B',
        max_out_len=256,
        batch_size=8,
        run_cfg=dict(num_gpus=1),
    )
    assert (second['abbr'], second['path']) == ('mine_hf', 'models/mine/')
    monkeypatch.setenv('LLMCOMPRESSION_HF_NUM_GPUS', '0')
    monkeypatch.setenv('LLMCOMPRESSION_HF_BATCH_SIZE', '2')
    (model, _) = Config.fromfile(config)['models']
    assert (model['batch_size'], model['run_cfg']) == (2, dict(num_gpus=0))
    for name, value, message in (
        ('LLMCOMPRESSION_HF_NUM_GPUS', 'one', "LLMCOMPRESSION_HF_NUM_GPUS='one': give a whole number"),
        ('LLMCOMPRESSION_HF_BATCH_SIZE', '0', "LLMCOMPRESSION_HF_BATCH_SIZE='0': give a positive"),
        (
            'LLMCOMPRESSION_HF_BATCH_SIZE',
            'auto',
            'for auto windows per forward pass, LLMCOMPRESSION_BATCH_SIZE=auto',
        ),
        ('LLMCOMPRESSION_HF_PATH', 'a/mine,b/mine', r'two models would share one name \(mine_hf, mine_hf\)'),
    ):
        with monkeypatch.context() as m:
            m.setenv(name, value)
            with pytest.raises(ValueError, match=message):
                Config.fromfile(config)


def documented_blocks(doc, word):
    """Every fenced ```bash block of ``doc`` that holds ``word``, each as its lines (stripped,
    so that a block indented in a list reads as one at the margin)."""
    from opencompass_runs import ROOT

    with open(os.path.join(ROOT, doc)) as f:
        blocks = f.read().split('```bash\n')[1:]
    found = [b.split('```')[0] for b in blocks if word in b]
    return ['\n'.join(line.strip() for line in b.strip().splitlines()) for b in found]


# Stand-ins for the anchors: tiny models under the abbrs of four of the paper's Table 4 models.
STAND_INS = {'llama-2-7b-hf': 1, 'mistral-7b-v0.1': 2, 'falcon-7b-hf': 3, 'yi-6b-hf': 4}


@pytest.mark.cli
def test_the_documented_anchors_command_measures_my_model_beside_them(tmp_path, tiny_model_dir):
    """The command of docs/paper_lines.md (wherever else it is shown, the same), run by bash as printed,
    with the tiny model as MY/MODEL and tiny models under anchors' names as the anchors."""
    import csv
    import glob
    import subprocess

    from conftest import make_tiny_model
    from opencompass_runs import BIN, opencompass_env
    from test_anchored_lines import built_corpus

    shown = documented_blocks('docs/paper_lines.md', 'llm_compression_hf')
    assert shown, 'docs/paper_lines.md shows no command with llm_compression_hf'
    command, others = shown[0], shown[1:] + documented_blocks('README.md', 'llm_compression_hf')
    for other in others:
        assert other in command or command in other, other  # one command wherever it is shown
    # the one-time install runs first, as documented, before the stand-ins replace the anchors
    install = 'llmcompression-configs install'
    run = '\n'.join(line for line in command.splitlines() if not line.startswith(install))
    data_root = tmp_path / 'data-root'
    built_corpus(str(tmp_path / 'records'), 'fresh', out=str(data_root / 'data' / 'fresh'))
    cwd = tmp_path / 'run'
    cwd.mkdir()
    subprocess.run([os.path.join(BIN, 'llmcompression-configs'), 'install'], cwd=cwd, check=True)
    stand_ins = [
        dict(abbr=abbr, path=make_tiny_model(str(tmp_path / abbr), seed=seed))
        for abbr, seed in STAND_INS.items()
    ]
    (cwd / 'configs' / 'models' / 'llm_compression_anchors.py').write_text(
        'models = [\n'
        + ''.join(
            f"    dict(type='opencompass.models.HuggingFaceBaseModel', abbr={m['abbr']!r}, "
            f"path={m['path']!r}, max_out_len=1, batch_size=8, run_cfg=dict(num_gpus=0)),\n"
            for m in stand_ins
        )
        + ']\n'
    )
    env = dict(
        opencompass_env(str(data_root)),
        LLMCOMPRESSION_HF_NUM_GPUS='0',  # the tests' CPU
        PATH=BIN + os.pathsep + os.environ['PATH'],
    )
    proc = subprocess.run(
        ['bash', '-euc', run.replace('MY/MODEL', tiny_model_dir)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (run_dir,) = glob.glob(str(cwd / 'outputs' / 'default' / '*' / ''))
    measured = {
        os.path.basename(os.path.dirname(p))
        for p in glob.glob(os.path.join(run_dir, 'results', '*', '*.json'))
    }
    assert measured == {'tiny-llama_hf', *STAND_INS}
    (predictions,) = glob.glob(os.path.join(run_dir, 'summary', 'compression_anchored_predictions_*.csv'))
    with open(predictions) as f:
        placed = {(r['model'], r['corpus'], r['benchmark']) for r in csv.DictReader(f)}
    assert ('tiny-llama_hf', 'llm_compression-fresh', 'Average') in placed
    assert 'anchored on 4 models of the paper' in proc.stdout


def test_llmcompression_batch_size_sets_the_corpora_inferencer_only(tmp_path, monkeypatch):
    """`LLMCOMPRESSION_BATCH_SIZE=auto`: what OpenCompass's --batch-size (whole numbers) cannot
    ask, set on this plugin's inferencer and nowhere else."""
    from mmengine.config import Config

    from opencompass_llmcompression import CONFIG_DIR

    corpora = os.path.join(CONFIG_DIR, 'datasets', 'llm_compression', 'llm_compression.py')
    folder_config = os.path.join(
        CONFIG_DIR, 'datasets', 'llm_compression_folder', 'llm_compression_folder.py'
    )
    write_corpus(str(tmp_path / 'fresh'), 'web_2026_01', 'text', '2026-01-01', '2026-01-31')
    monkeypatch.setenv('LLMCOMPRESSION_CORPORA', str(tmp_path / 'fresh'))
    monkeypatch.delenv('LLMCOMPRESSION_BATCH_SIZE', raising=False)
    for dataset in Config.fromfile(corpora)['llm_compression_datasets']:
        assert 'batch_size' not in dataset['infer_cfg']['inferencer']  # the model's, as before
    for value, want in (('auto', 'auto'), (' 16 ', 16)):
        monkeypatch.setenv('LLMCOMPRESSION_BATCH_SIZE', value)
        datasets = Config.fromfile(corpora)['llm_compression_datasets']
        assert [d['infer_cfg']['inferencer']['batch_size'] for d in datasets] == [want] * 3
        (fresh,) = Config.fromfile(folder_config)['llm_compression_folder_datasets']
        assert fresh['infer_cfg']['inferencer']['batch_size'] == want
    for bad in ('0', 'max', '2.5'):
        monkeypatch.setenv('LLMCOMPRESSION_BATCH_SIZE', bad)
        with pytest.raises(
            ValueError, match=f"LLMCOMPRESSION_BATCH_SIZE='{bad}': give windows per forward pass"
        ):
            Config.fromfile(corpora)
