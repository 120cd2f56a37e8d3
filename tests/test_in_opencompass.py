"""The plugin inside OpenCompass as users have it: an OpenCompass checkout, the plain
`opencompass` command, and one suite with OpenCompass's own MMLU and GSM8K configs.

Every run goes through OpenCompass's command line with its default `HuggingFaceBaseModel`
(what `--hf-type base` builds), after the documented one-time step `llmcompression-configs
install`; the BPC it prints is checked against the brute-force scorer of `brute_force.py`.
"""

import csv
import glob
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from brute_force import brute_force_nll
from conftest import make_tiny_model
from opencompass_runs import output_of

pytestmark = pytest.mark.cli

BIN = os.path.dirname(sys.executable)
CORPORA = ('cc', 'python', 'arxiv_math')
ABBRS = [f'llm_compression-{c}' for c in CORPORA]
PLUGIN_LINE = 'opencompass-llmcompression {version}: dataset config llm_compression'
PAPERS_WINDOW = dict(block_size=1900, stride=512, reference_compat=False)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory, corpus_root):
    """Our three corpora (those of ``corpus_root``, with 6 to 11 paper windows each), and tiny
    MMLU and GSM8K in their formats."""
    root = tmp_path_factory.mktemp('compass-data')
    shutil.copytree(os.path.join(corpus_root, 'data'), os.path.join(root, 'data'))
    questions = [(f'What is {a} plus {b}?', a + b) for a, b in [(2, 3), (10, 7), (4, 4), (12, 30), (1, 8)]]
    for split in ('dev', 'test'):  # MMLU: question,A,B,C,D,answer, no header
        os.makedirs(os.path.join(root, 'data', 'mmlu', split))
        with open(os.path.join(root, 'data', 'mmlu', split, f'anatomy_{split}.csv'), 'w', newline='') as f:
            csv.writer(f).writerows([q, s, s + 1, s - 1, s * 2, 'A'] for q, s in questions)
    os.makedirs(os.path.join(root, 'data', 'gsm8k'))
    for split in ('train', 'test'):  # GSM8K: {question, answer ending "#### N"}
        with open(os.path.join(root, 'data', 'gsm8k', f'{split}.jsonl'), 'w') as f:
            for q, s in questions:
                f.write(json.dumps({'question': q, 'answer': f'It is {s}.\n#### {s}'}) + '\n')
    return str(root)


@pytest.fixture(scope='module')
def model_dirs(tmp_path_factory, tiny_model_dir):
    """The tiny model (seed 0) and two more."""
    return [tiny_model_dir] + [
        make_tiny_model(str(tmp_path_factory.mktemp(f'tiny{seed}')), seed=seed) for seed in (1, 2)
    ]


def run(args, cwd, data_root):
    env = dict(os.environ, COMPASS_DATA_CACHE=data_root, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1500)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-5000:]
    return output


def results_of(work):
    (run_dir,) = glob.glob(os.path.join(work, '*', ''))
    results = {}
    for path in glob.glob(os.path.join(run_dir, 'results', '*', '*.json')):
        with open(path) as f:
            results.setdefault(os.path.basename(os.path.dirname(path)), {})[os.path.basename(path)[:-5]] = (
                json.load(f)
            )
    return run_dir, results


def opencompass_summary(run_dir):
    """OpenCompass's own summary table (its CSV): {(dataset, metric): (mode, {model: value})}."""
    (path,) = glob.glob(os.path.join(run_dir, 'summary', 'summary_*.csv'))
    with open(path) as f:
        rows = list(csv.DictReader(f))
    fixed = ('dataset', 'version', 'metric', 'mode')
    return {
        (r['dataset'], r['metric']): (r['mode'], {k: v for k, v in r.items() if k not in fixed}) for r in rows
    }


def expected_metrics(model_dir, data_root):
    """The brute-force scorer on each corpus, the paper's windows: {abbr: {metric: value}},
    the rows of OpenCompass's table (bpc, bpb, ppl, nll, tokens, chars, bytes)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    expected = {}
    for corpus in CORPORA:
        with open(os.path.join(data_root, 'data', 'llm-compression', f'{corpus}.jsonl')) as f:
            contents = [json.loads(line)['content'] for line in f]
        nll, tokens = brute_force_nll(model, tokenizer, contents, 1900, 512)
        nll, tokens = nll.sum(), int(tokens.sum())
        chars, size = sum(map(len, contents)), sum(len(c.encode('utf-8')) for c in contents)
        expected[f'llm_compression-{corpus}'] = {
            'bpc': nll / (chars * math.log(2)),
            'bpb': nll / (size * math.log(2)),
            'ppl': math.exp(nll / tokens),
            'nll': nll,
            'tokens': tokens,
            'chars': chars,
            'bytes': size,
        }
    return expected


def assert_ours(output, results, expected):
    from opencompass_llmcompression import __version__

    assert PLUGIN_LINE.format(version=__version__) in output
    assert 'unknown inferencer' not in output
    assert sorted(results) == sorted(expected)
    for abbr, bpc in expected.items():
        assert results[abbr]['plugin'] == 'opencompass-llmcompression'
        assert results[abbr]['plugin_version'] == __version__
        assert results[abbr]['measurement'] == PAPERS_WINDOW  # from the rows, not the config
        assert results[abbr]['bpc'] == pytest.approx(bpc, rel=1e-5)


@pytest.fixture(scope='module')
def checkout_run(tmp_path_factory, model_dirs, data_root):
    """`python run.py --datasets llm_compression` in a folder shaped like OpenCompass's
    repository today: run.py, and a configs/ holding only model configs."""
    checkout = tmp_path_factory.mktemp('opencompass-checkout')
    os.makedirs(checkout / 'configs' / 'models' / 'hf_llama')
    (checkout / 'configs' / 'models' / 'hf_llama' / 'hf_llama2_7b.py').write_text(
        "from opencompass.models import HuggingFaceBaseModel\n\nmodels = [dict(type="
        "HuggingFaceBaseModel, abbr='llama-2-7b-hf', path='meta-llama/Llama-2-7b-hf')]\n"
    )
    (checkout / 'run.py').write_text(
        'from opencompass.cli.main import main\n\nif __name__ == \'__main__\':\n    main()\n'
    )
    installed = run([os.path.join(BIN, 'llmcompression-configs'), 'install'], checkout, data_root)
    assert 'written: configs/datasets/llm_compression/llm_compression.py' in installed
    output = run(
        [
            sys.executable,
            'run.py',
            '--datasets',
            'llm_compression',
            '--summarizer',
            'llm_compression',
            '--hf-type',
            'base',
            '--hf-path',
            model_dirs[0],
            '--hf-num-gpus',
            '0',
            '-w',
            'work',
        ],
        checkout,
        data_root,
    )
    return output, *results_of(str(checkout / 'work'))


def test_run_py_in_an_opencompass_checkout_gives_our_numbers(checkout_run, model_dirs, data_root):
    output, run_dir, results = checkout_run
    (model,) = results
    expected = expected_metrics(model_dirs[0], data_root)
    assert_ours(output, results[model], {abbr: m['bpc'] for abbr, m in expected.items()})
    table = opencompass_summary(run_dir)  # every row, as OpenCompass prints it (2 decimals)
    assert sorted(table) == sorted((abbr, metric) for abbr in ABBRS for metric in expected[abbr])
    printed = {  # the same table in the run's output: dataset, version, metric, mode, value
        (f[0], f[2]): f[4]
        for f in (line.split() for line in output.splitlines())
        if len(f) == 5 and f[3] == 'ppl'
    }
    for abbr in ABBRS:
        for metric, value in expected[abbr].items():
            mode, values = table[abbr, metric]
            assert mode == 'ppl' and float(values[model]) == pytest.approx(value, rel=1e-4, abs=6e-3)
            assert float(printed[abbr, metric]) == float(values[model])
    assert '## BPC' in output  # the compression report of `--summarizer llm_compression`
    assert 'Measured with block_size=1900, stride=512, reference_compat=False' in output
    with open(glob.glob(os.path.join(run_dir, 'predictions', model, ABBRS[1] + '.json'))[0]) as f:
        row = json.load(f)['0']['prediction']
    assert row['plugin'] == 'opencompass-llmcompression' and 'plugin_version' in row
    assert row['measurement'] == PAPERS_WINDOW
    assert row['model']['name_or_path'] == model_dirs[0]
    assert row['model']['dtype'] == 'torch.float32'


def test_plain_opencompass_from_an_empty_folder(unsplit, checkout_run):
    """conftest's ``unsplit``: ``opencompass --datasets llm_compression`` in an empty folder
    after ``llmcompression-configs install``, on the same model and corpora as the checkout's
    run."""
    results, run_dir, _ = unsplit
    (model,) = os.listdir(os.path.join(run_dir, 'results'))
    expected = {abbr: r['bpc'] for abbr, r in checkout_run[2][model].items()}
    assert_ours(output_of(run_dir), results, expected)


def test_the_papers_flash_attention_flag_gets_a_clear_message(tmp_path, model_dirs, data_root):
    """The paper's README passes `--model-kwargs use_flash_attention_2=True`; transformers
    no longer takes it. The run ends, and the report names the failure and the fix."""
    run([os.path.join(BIN, 'llmcompression-configs'), 'install'], tmp_path, data_root)
    output = run(
        [
            os.path.join(BIN, 'opencompass'),
            '--datasets',
            'llm_compression',
            '--summarizer',
            'llm_compression',
            '--hf-type',
            'base',
            '--hf-path',
            model_dirs[0],
            '--hf-num-gpus',
            '0',
            '--model-kwargs',
            'use_flash_attention_2=True',
            '-w',
            'work',
        ],
        tmp_path,
        data_root,
    )
    named = [line for line in output.splitlines() if 'no result: llm_compression-' in line]
    assert len(named) == 3, output[-3000:]
    assert all(
        "unexpected keyword argument 'use_flash_attention_2'" in line
        and 'attn_implementation=flash_attention_2' in line
        and 'log: ' in line
        for line in named
    )


SUITE = '''
from mmengine.config import read_base
from opencompass.models import HuggingFaceBaseModel
from opencompass.partitioners import NaivePartitioner
from opencompass.runners import LocalRunner
from opencompass.tasks import OpenICLEvalTask, OpenICLInferTask

with read_base():
    from opencompass.configs.datasets.gsm8k.gsm8k_gen import gsm8k_datasets
    from opencompass.configs.datasets.mmlu.mmlu_ppl import mmlu_datasets
    from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression import \\
        llm_compression_datasets
    from opencompass_llmcompression.configs.summarizers.llm_compression import summarizer

# anatomy has data; astronomy has none here, so it fails as a benchmark of a suite can
anatomy, astronomy = [[d for d in mmlu_datasets if d['name'] == name] for name in ('anatomy', 'astronomy')]
for d in gsm8k_datasets:
    d['infer_cfg']['inferencer']['max_out_len'] = 16
datasets = [*llm_compression_datasets, *anatomy, *gsm8k_datasets, *astronomy]
models = [dict(type=HuggingFaceBaseModel, abbr=f'tiny-{{i}}', path=path, batch_size=4,
               max_out_len=16, run_cfg=dict(num_gpus=0)) for i, path in enumerate({paths!r})]
# for each model, one task holds our corpora, MMLU and GSM8K (the model loaded once, our
# inferencer and OpenCompass's own one after another on it), and one the failing astronomy,
# so that its failure stops nothing else
grouped = len(datasets) - 1
infer = dict(partitioner=dict(type=NaivePartitioner, n=grouped),
             runner=dict(type=LocalRunner, max_num_workers=2, task=dict(type=OpenICLInferTask)))
eval = dict(partitioner=dict(type=NaivePartitioner, n=grouped),
            runner=dict(type=LocalRunner, max_num_workers=2, task=dict(type=OpenICLEvalTask)))
'''


def test_one_suite_with_mmlu_and_gsm8k_three_models(tmp_path, model_dirs, data_root):
    suite = tmp_path / 'suite.py'
    suite.write_text(SUITE.format(paths=model_dirs))
    output = run([os.path.join(BIN, 'opencompass'), str(suite), '-w', 'work'], tmp_path, data_root)
    run_dir, results = results_of(str(tmp_path / 'work'))
    models = [f'tiny-{i}' for i in range(3)]
    for kind in ('infer', 'eval'):  # two tasks per model: the grouped datasets, astronomy
        logs = glob.glob(os.path.join(run_dir, 'logs', kind, '*', '*.out'))
        assert sorted(os.path.relpath(p, os.path.join(run_dir, 'logs', kind)) for p in logs) == [
            f'{m}/{abbr}.out' for m in models for abbr in ('llm_compression-cc', 'lukaemon_mmlu_astronomy')
        ], logs

    table = opencompass_summary(run_dir)  # OpenCompass's own table: every dataset scored
    for key, mode in [
        *[((a, 'bpc'), 'ppl') for a in ABBRS],
        (('lukaemon_mmlu_anatomy', 'accuracy'), 'ppl'),
        (('gsm8k', 'accuracy'), 'gen'),
    ]:
        assert table[key][0] == mode
        assert all(table[key][1][m] not in ('', '-') for m in models), (key, table[key])
    assert all(
        v == '-'
        for (abbr, _), (_, values) in table.items()
        if abbr == 'lukaemon_mmlu_astronomy'
        for v in values.values()
    )
    assert 'unknown inferencer' not in output

    board = {}  # our BPC table, one row per model: the first rows naming them
    for line in output.splitlines():
        if line.startswith('| tiny-'):
            board.setdefault(line.split(' | ')[0][2:], line)
    assert sorted(board) == models
    for model in models:
        assert f'{results[model]["llm_compression-cc"]["bpc"]:.4f}' in board[model]

    # the fit, from the scores OpenCompass wrote: knowledge is cc against MMLU
    bpc = [results[m]['llm_compression-cc']['bpc'] for m in models]
    accuracy = [results[m]['lukaemon_mmlu_anatomy']['accuracy'] for m in models]
    slope, intercept = np.polyfit(bpc, accuracy, 1)
    knowledge = next(line for line in output.splitlines() if line.startswith('| knowledge |'))
    assert knowledge.split(' | ')[2:5] == ['3', f'{slope:.3f}', f'{intercept:.3f}']
    assert (
        next(line for line in output.splitlines() if line.startswith('| mathematics |')).split(' | ')[2]
        == '3'
    )  # GSM8K

    failed = [line for line in output.splitlines() if line.startswith('- lukaemon_mmlu_astronomy (tiny-')]
    assert len(failed) == 3 and all('FileNotFoundError' in line and 'log: ' in line for line in failed)
    log = failed[0].split('log: ')[1].split(')')[0]
    assert os.path.isfile(log)
