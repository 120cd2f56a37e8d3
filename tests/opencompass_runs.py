"""OpenCompass's command line run from the tests: the run, its results and its predictions.

Each run starts in a working folder of its own; unless told otherwise it holds a link to this
project's ``configs/``, which is what running from the project's root looks like to OpenCompass
(it also keeps OpenCompass's ``.cache/dataset_size.json`` out of the project).
"""

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
OPENCOMPASS = os.path.join(BIN, 'opencompass')
CORPORA = ('cc', 'python', 'arxiv_math')
# where a run's standard output and error are kept, in its working folder
STDOUT, STDERR = 'opencompass.out', 'opencompass.err'


def opencompass_env(corpus_root):
    return dict(
        os.environ, COMPASS_DATA_CACHE=corpus_root, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false'
    )


def run_opencompass(args, cwd, corpus_root, timeout=900, project_root=True, failing=()):
    """Runs ``args`` in ``cwd``, as from the project's root unless ``project_root=False``;
    every result but those of the ``failing`` datasets must be a number. Returns the results
    by dataset, the run's folder and its standard output (kept in ``cwd`` with its standard
    error)."""
    os.makedirs(cwd, exist_ok=True)
    if project_root and not os.path.exists(os.path.join(cwd, 'configs')):
        os.symlink(os.path.join(ROOT, 'configs'), os.path.join(cwd, 'configs'))
    proc = subprocess.run(
        args, cwd=cwd, env=opencompass_env(corpus_root), capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for name, text in ((STDOUT, proc.stdout), (STDERR, proc.stderr)):
        with open(os.path.join(cwd, name), 'w') as f:
            f.write(text)
    return read_run(cwd, failing)


def read_run(cwd, failing=()):
    """What ``run_opencompass`` returns, read again from the run's working folder."""
    (run_dir,) = glob.glob(os.path.join(cwd, 'work', '*', ''))
    results = {}
    for path in glob.glob(os.path.join(run_dir, 'results', '*', '*.json')):
        with open(path) as f:
            results[os.path.basename(path)[:-5]] = json.load(f)
    for name, result in results.items():
        assert 'error' not in result or name in failing, (name, result, _logs(run_dir))
    with open(os.path.join(cwd, STDOUT)) as f:
        return results, run_dir, f.read()


def output_of(run_dir):
    """A run's standard output and error, as one text."""
    cwd = os.path.dirname(os.path.dirname(os.path.normpath(run_dir)))
    texts = []
    for name in (STDOUT, STDERR):
        with open(os.path.join(cwd, name)) as f:
            texts.append(f.read())
    return ''.join(texts)


def _logs(run_dir):
    return '\n'.join(
        open(p).read()[-2000:] for p in glob.glob(os.path.join(run_dir, 'logs', '*', '*', '*.out'))
    )


def predictions(run_dir, abbr):
    """The per-document predictions of one corpus, shards concatenated in order."""
    folder = glob.glob(os.path.join(run_dir, 'predictions', '*'))[0]
    whole = os.path.join(folder, abbr + '.json')
    files = (
        [whole]
        if os.path.exists(whole)
        else sorted(
            glob.glob(os.path.join(folder, abbr + '_*.json')), key=lambda p: int(p.rsplit('_', 1)[1][:-5])
        )
    )
    rows = []
    for path in files:
        with open(path) as f:
            shard = json.load(f)
        rows += [shard[str(i)]['prediction'] for i in range(len(shard))]
    return rows, len(files)


def cli(model_dir, *extra):
    return [
        OPENCOMPASS,
        '--datasets',
        'llm_compression',
        '--hf-type',
        'base',
        '--hf-path',
        model_dir,
        '--hf-num-gpus',
        '0',
        '-w',
        'work',
        *extra,
    ]


def same_as_unsplit(split, split_dir, unsplit, shards, metrics):
    """Checks a split run against the unsplit one, corpus by corpus: the number of shard
    files, scored tokens per document, ``metrics`` (1e-6 relative) and characters. Returns the
    (split, unsplit) prediction rows of each corpus for further checks."""
    import pytest

    whole, whole_dir, _ = unsplit
    pairs = []
    for corpus in CORPORA:
        abbr = f'llm_compression-{corpus}'
        rows, files = predictions(split_dir, abbr)
        assert files == shards
        whole_rows, _ = predictions(whole_dir, abbr)
        assert [r['tokens'] for r in rows] == [r['tokens'] for r in whole_rows]
        for metric in metrics:
            assert split[abbr][metric] == pytest.approx(whole[abbr][metric], rel=1e-6)
        assert split[abbr]['chars'] == whole[abbr]['chars']
        pairs.append((rows, whole_rows))
    return pairs
