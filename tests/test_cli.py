"""The OpenCompass command line, end to end, on a tiny model: unsplit, split, and in suites.

The unsplit run is conftest's ``unsplit`` (read by other modules too). Each other run starts in
a fresh working folder holding a link to this project's ``configs/``, which is what running
from the project's root looks like to OpenCompass (``opencompass_runs.run_opencompass``).
"""

import glob
import json
import math
import os
import sys
import textwrap

import pytest
from brute_force import brute_force_nll
from opencompass_runs import CORPORA, OPENCOMPASS, cli, predictions, run_opencompass, same_as_unsplit

from opencompass_llmcompression import CONFIG_DIR

pytestmark = pytest.mark.cli


def test_unsplit_run_prints_bpc_for_the_three_corpora(unsplit):
    results, run_dir, stdout = unsplit
    assert sorted(results) == sorted(f'llm_compression-{c}' for c in CORPORA)
    for result in results.values():
        assert 0 < result['bpc'] < 30 and result['chars'] > 0
    assert 'llm_compression-python' in stdout and '| bpc |' in stdout


def test_summarizer_reports_the_run(unsplit, corpus_root, tmp_path, monkeypatch, capsys):
    """The compression report of a real run, checked against the predictions and the stdlib,
    then rebuilt by the summary command with a second model's results and a scores CSV."""
    import gzip
    import math

    from opencompass_llmcompression import summary_cli

    results, run_dir, stdout = unsplit
    assert '## BPC' in stdout and '(gzip -9)' in stdout
    python = results['llm_compression-python']
    with open(os.path.join(corpus_root, 'data', 'llm-compression', 'python.jsonl')) as f:
        text = ''.join(json.loads(line)['content'] for line in f)
    gzip_bpc = 8 * len(gzip.compress(text.encode(), 9)) / python['chars']
    (model,) = os.listdir(os.path.join(run_dir, 'results'))
    board = next(line for line in stdout.splitlines() if line.startswith(f'| {model} |'))
    value, plus_minus = board.split(' | ')[2].split(' ± ')  # the interval: predictions exist
    assert value == f'{python["bpc"]:.4f}' and 0 < float(plus_minus) < 1
    assert (
        next(line for line in stdout.splitlines() if line.startswith('| (gzip -9) |')).split(' | ')[2]
        == f'{gzip_bpc:.4f}'
    )
    (documents,) = glob.glob(os.path.join(run_dir, 'summary', 'compression_documents_*.csv'))
    with open(documents) as f:
        lowest = next(line.split(',') for line in f if ',llm_compression-python,lowest,' in line)
    rows, _ = predictions(run_dir, 'llm_compression-python')
    bpcs = [r['nll'] / (r['chars'] * math.log(2)) for r in rows if r['tokens']]
    assert lowest[3] == str(bpcs.index(min(bpcs))) and lowest[4] == f'{min(bpcs):.4f}'
    # the corpora lie where the paper's do, measured with its window: placed on its lines
    # (far outside the range of the paper's models, so marked as an extrapolation)
    cc = results['llm_compression-cc']['bpc']
    placed = next(
        line for line in stdout.splitlines() if line.startswith(f'| {model} | knowledge average | {cc:.4f} |')
    )
    assert 'an extrapolation' in placed
    assert glob.glob(os.path.join(run_dir, 'summary', 'compression_paper_predictions_*.csv'))

    other = tmp_path / 'other' / '20260101_000000'
    os.makedirs(other / 'results' / 'other')
    for abbr, result in results.items():
        with open(other / 'results' / 'other' / f'{abbr}.json', 'w') as f:
            json.dump(dict(result, bpc=result['bpc'] + 1), f)
    scores = tmp_path / 'scores.csv'
    scores.write_text(f'model,humaneval\n{model},12\nother,3\n')
    monkeypatch.setenv('COMPASS_DATA_CACHE', corpus_root)
    out = tmp_path / 'report'
    assert summary_cli.main([run_dir, str(other), '--scores', str(scores), '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.index(f'| {model} |') < printed.index('| other |') < printed.index('(gzip')
    assert 'no fit: 2 model(s)' in printed
    assert any(name.endswith('.png') for name in os.listdir(out))


@pytest.mark.parametrize('workers', [2, 3])
def test_split_over_workers_gives_the_same_numbers(
    unsplit, tiny_model_dir, corpus_root, tmp_path_factory, workers
):
    """2 workers from the project's root; 3 from elsewhere, with the installed package's
    configs named by ``--config-dir``."""
    cwd = str(tmp_path_factory.mktemp(f'workers{workers}'))
    elsewhere = ('--config-dir', CONFIG_DIR) if workers == 3 else ()
    split, split_dir, _ = run_opencompass(
        cli(tiny_model_dir, '--max-num-workers', str(workers), *elsewhere),
        cwd,
        corpus_root,
        project_root=not elsewhere,
    )
    for rows, whole_rows in same_as_unsplit(split, split_dir, unsplit, workers, ('bpc', 'bpb', 'ppl', 'nll')):
        assert [r['chars'] for r in rows] == [r['chars'] for r in whole_rows]
        for a, b in zip(rows, whole_rows):
            assert a['nll'] == pytest.approx(b['nll'], rel=1e-6)


SUITE = '''
from mmengine.config import read_base
from opencompass.models import HuggingFaceBaseModel
from opencompass.partitioners import {partitioner}
from opencompass.runners import LocalRunner
from opencompass.tasks import OpenICLInferTask

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression import \\
        llm_compression_datasets

{datasets}

models = [dict(type=HuggingFaceBaseModel, abbr='tiny', path={model!r}, batch_size=4,
               max_out_len=16, run_cfg=dict(num_gpus=0))]
infer = dict(partitioner=dict(type={partitioner}, {partitioner_args}),
             runner=dict(type=LocalRunner, max_num_workers=2,
                         task=dict(type=OpenICLInferTask)))
'''

BUILTIN = '''
from opencompass.datasets import LLMCompressionDataset
from opencompass.openicl.icl_evaluator import BPCEvaluator
from opencompass.openicl.icl_inferencer import SWCELossInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever
from opencompass.tasks import OpenICLEvalTask

builtin_datasets = [
    dict(abbr='builtin-' + name, type=LLMCompressionDataset, path='data/llm-compression',
         name=name, reader_cfg=dict(input_columns=['content'], output_column=None),
         infer_cfg=dict(prompt_template=dict(type=PromptTemplate, template='{content}'),
                        retriever=dict(type=ZeroRetriever),
                        inferencer=dict(type=SWCELossInferencer, block_size=1900, stride=512)),
         eval_cfg=dict(evaluator=dict(type=BPCEvaluator)))
    for name in ('cc', 'python')]
paper_datasets = [dict(d, abbr=d['abbr'] + '-paper',
                       infer_cfg=dict(d['infer_cfg'],
                                      inferencer=dict(d['infer_cfg']['inferencer'],
                                                      reference_compat=True)))
                  for d in llm_compression_datasets[:2]]
datasets = paper_datasets + builtin_datasets
# two tasks of two datasets each, to infer and to evaluate: ours, and the built-in's
eval = dict(partitioner=dict(type=NaivePartitioner, n=2),
            runner=dict(type=LocalRunner, max_num_workers=2, task=dict(type=OpenICLEvalTask)))
summarizer = dict(type='opencompass_llmcompression.CompressionSummarizer', resamples=0,
                  baselines=False, documents=0)
'''


def test_suite_mixing_ours_and_an_opencompass_dataset(
    unsplit, tiny_model_dir, corpus_root, tmp_path_factory, capsys
):
    """A user's suite with our corpora beside OpenCompass's own built-in compression dataset.

    Unsplit and with several windows per batch, the built-in computes the paper's number, which
    must equal ours in reference_compat mode: an independent check of that mode. Not on `cc`:
    one of its documents holds a literal "{idx}", which the built-in's prompt template rewrites
    before tokenizing, and ours scores as written. Ours in the default mode is the unsplit run.
    """
    cwd = str(tmp_path_factory.mktemp('suite'))
    suite = os.path.join(cwd, 'suite.py')
    with open(suite, 'w') as f:
        f.write(
            SUITE.format(
                partitioner='NaivePartitioner', partitioner_args='n=2', datasets=BUILTIN, model=tiny_model_dir
            )
        )
    results, run_dir, stdout = run_opencompass([OPENCOMPASS, suite, '-w', 'work'], cwd, corpus_root)
    assert sorted(results) == sorted(
        f'{prefix}-{corpus}{suffix}'
        for corpus in ('cc', 'python')
        for prefix, suffix in (('llm_compression', '-paper'), ('builtin', ''))
    )
    whole = unsplit[0]
    for corpus in ('cc', 'python'):
        ours = whole[f'llm_compression-{corpus}']
        paper = results[f'llm_compression-{corpus}-paper']['bpc']
        assert paper != pytest.approx(ours['bpc'], rel=1e-9)  # the dropped tail is visible
        builtin = results[f'builtin-{corpus}']['bpc']
        if corpus == 'python':
            assert paper == pytest.approx(builtin, rel=1e-5)
        else:
            assert paper != pytest.approx(builtin, rel=1e-5)

    # the report tells the built-in's real output apart, and leaves it out of the table: at the
    # end of the run (the summarizer) and from the folder afterwards (llmcompression-summary)
    assert (
        "builtin-cc, builtin-python of tiny were measured by OpenCompass's built-in compression evaluator"
    ) in stdout
    report = stdout.split('## BPC')[1]  # after OpenCompass's own table, which lists them all
    assert '| tiny |' in report and 'builtin-' not in report
    from opencompass_llmcompression import summary_cli

    assert (
        summary_cli.main(
            [run_dir, '--resamples', '0', '--no-baselines', '--out', os.path.join(cwd, 'report')]
        )
        == 0
    )
    printed = capsys.readouterr()
    assert (
        "builtin-cc, builtin-python of tiny were measured by OpenCompass's built-in compression evaluator"
    ) in printed.err
    assert 'SWCELossInferencer predictions' in printed.err
    assert 'builtin-' not in printed.out  # no column, no row, no failure for them


def test_size_partitioner_through_run_py(unsplit, tiny_model_dir, corpus_root, tmp_path_factory):
    """An OpenCompass checkout's `python run.py CONFIG`, splitting with SizePartitioner: the
    python corpus's 50 rows in three shards, each its own task (the corpora are alike to a
    partitioner; the other splits cover all three)."""
    cwd = str(tmp_path_factory.mktemp('runpy'))
    suite = os.path.join(cwd, 'suite.py')
    with open(suite, 'w') as f:
        f.write(
            SUITE.format(
                partitioner='SizePartitioner',
                partitioner_args='max_task_size=20, gen_task_coef=1',
                datasets="datasets = [d for d in llm_compression_datasets if d['name'] == 'python']",
                model=tiny_model_dir,
            )
        )
    with open(os.path.join(cwd, 'run.py'), 'w') as f:
        f.write(
            textwrap.dedent('''
            from opencompass.cli.main import main

            if __name__ == '__main__':
                main()
        ''')
        )
    results, run_dir, _ = run_opencompass([sys.executable, 'run.py', suite, '-w', 'work'], cwd, corpus_root)
    assert len(glob.glob(os.path.join(run_dir, 'logs', 'infer', 'tiny', '*.out'))) == 3
    abbr = 'llm_compression-python'
    assert list(results) == [abbr] and predictions(run_dir, abbr)[1] == 3
    rows, whole_rows = predictions(run_dir, abbr)[0], predictions(unsplit[1], abbr)[0]
    assert [r['tokens'] for r in rows] == [r['tokens'] for r in whole_rows]
    for metric in ('bpc', 'bpb', 'ppl', 'nll'):
        assert results[abbr][metric] == pytest.approx(unsplit[0][abbr][metric], rel=1e-6)


def test_paper_command_line_gives_the_opencompass_number(
    unsplit, tiny_model_dir, corpus_root, tmp_path, capsys
):
    """The paper's `main.py` flags, on the same windows, scorer and cache: the same BPC."""
    from opencompass_llmcompression.paper_cli import main

    data = os.path.join(corpus_root, 'data', 'llm-compression')
    out = str(tmp_path / 'r.json')
    assert (
        main(
            [
                '--model_name',
                tiny_model_dir,
                '--task_name',
                'arxiv-math',
                '--data_dir',
                data,
                '--batch_size',
                '3',
                '--flash',
                '--gpu',
                '0',
                '--output',
                out,
            ]
        )
        == 0
    )
    printed = capsys.readouterr()
    lines = printed.out.strip().splitlines()
    assert [line.split(':')[0] for line in lines] == ['Total loss', 'Character num', 'BPC']
    expected = unsplit[0]['llm_compression-arxiv_math']
    assert float(lines[2].split(': ')[1]) == pytest.approx(expected['bpc'], rel=1e-6)
    assert int(lines[1].split(': ')[1]) == expected['chars']
    assert 'flash-attention 2 needs the flash-attn package' in printed.err
    with open(out) as f:
        assert json.load(f)['bpc'] == pytest.approx(expected['bpc'], rel=1e-6)


EDGES = '''
from opencompass.openicl.icl_evaluator import BPCEvaluator

datasets = [
    dict(llm_compression_datasets[0], abbr='llm_compression-one', path={one!r}, name='one'),
    llm_compression_datasets[0],
    dict(llm_compression_datasets[1], abbr='llm_compression-crash',
         eval_cfg=dict(evaluator=dict(type=BPCEvaluator))),
]
summarizer = dict(type='opencompass_llmcompression.CompressionSummarizer', resamples=0,
                  baselines=False, documents=0)
'''


def test_a_corpus_that_scores_nothing_and_a_crashed_evaluation_fail_alone(
    tiny_model, tokenizer, tiny_model_dir, corpus_root, tmp_path_factory, capsys
):
    """One task infers three corpora (NumWorkerPartitioner, one worker): the first scores no
    token, the last has an evaluator that crashes (OpenCompass's BPCEvaluator on our rows,
    as a suite that mixes the built-in's parts with ours would).
    Each fails with its reason, the others go on, and the report names both."""
    from opencompass_llmcompression import summary_cli

    cwd = str(tmp_path_factory.mktemp('edges'))
    with open(os.path.join(cwd, 'one.jsonl'), 'w') as f:
        f.write('{"content": "a"}\n')
    suite = os.path.join(cwd, 'suite.py')
    with open(suite, 'w') as f:
        f.write(
            SUITE.format(
                partitioner='NumWorkerPartitioner',
                partitioner_args='num_worker=1',
                datasets=EDGES.format(one=cwd),
                model=tiny_model_dir,
            )
        )
    results, run_dir, stdout = run_opencompass(
        [OPENCOMPASS, suite, '-w', 'work'], cwd, corpus_root, failing=('llm_compression-one',)
    )
    assert len(glob.glob(os.path.join(run_dir, 'logs', 'infer', 'tiny', '*.out'))) == 1
    assert sorted(results) == ['llm_compression-cc', 'llm_compression-one']  # none for crash
    assert results['llm_compression-one'] == {
        'error': (
            'no token of this corpus was scored (1 document, 1 character): the whole corpus '
            'tokenizes to one token or none, and a token is scored only when one precedes it: '
            'nothing can be scored (a BPC of 0 would mean nothing). Measure a corpus of more '
            'text.'
        )
    }
    with open(os.path.join(corpus_root, 'data', 'llm-compression', 'cc.jsonl')) as f:
        contents = [json.loads(line)['content'] for line in f]
    nll, _ = brute_force_nll(tiny_model, tokenizer, contents, 1900, 512)  # the paper's window
    expected_bpc = nll.sum() / (sum(map(len, contents)) * math.log(2))
    assert results['llm_compression-cc']['bpc'] == pytest.approx(expected_bpc, rel=1e-6)

    crash_log = os.path.join(run_dir, 'logs', 'eval', 'tiny', 'llm_compression-crash.out')
    for printed in (stdout, None):  # the summarizer at the end of the run, then the command
        if printed is None:
            assert (
                summary_cli.main(
                    [run_dir, '--resamples', '0', '--no-baselines', '--out', os.path.join(cwd, 'report')]
                )
                == 0
            )
            printed = capsys.readouterr().out
        failed = printed.split('## Datasets of the run without a result')[1]
        assert (
            '- llm_compression-one (tiny): no token of this corpus was scored (1 document, '
            '1 character): the whole corpus tokenizes to one token or none'
        ) in failed
        # OpenCompass looks for the built-in's `loss` in our rows: the eval task dies there
        assert f"- llm_compression-crash (tiny): KeyError: 'loss' (log: {crash_log})" in failed


def test_batch_size_auto_asked_from_the_seed_command(
    unsplit, tiny_model_dir, corpus_root, tmp_path, monkeypatch
):
    """`LLMCOMPRESSION_BATCH_SIZE=auto opencompass --datasets llm_compression ... --hf-path M`:
    OpenCompass's --batch-size takes whole numbers only. The same sums as the unsplit run
    (batch size 8), the inferencer's log naming the size it chose."""
    monkeypatch.setenv('LLMCOMPRESSION_BATCH_SIZE', 'auto')
    results, run_dir, _ = run_opencompass(cli(tiny_model_dir), str(tmp_path / 'auto'), corpus_root)
    whole, _, _ = unsplit
    for abbr, result in whole.items():
        assert results[abbr]['nll'] == pytest.approx(result['nll'], rel=1e-6)
        assert results[abbr]['chars'] == result['chars']
    logs = ''.join(open(p).read() for p in glob.glob(os.path.join(run_dir, 'logs', 'infer', '*', '*.out')))
    assert 'batch_size=auto: 4 windows per forward pass' in logs  # a CPU's fixed size
