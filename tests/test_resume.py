"""A real OpenCompass run killed with SIGKILL in the middle of a shard, resumed with `-r`,
gives exactly the numbers of an uninterrupted run; shard files of another split are refused."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from opencompass_runs import OPENCOMPASS, predictions, run_opencompass

pytestmark = pytest.mark.cli

# Many short windows (432 on the python corpus), a checkpoint after every batch: slow enough
# to be caught mid-shard.
SUITE = '''
from mmengine.config import read_base
from opencompass.models import HuggingFaceBaseModel

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression import \\
        llm_compression_datasets

datasets = [dict(d, infer_cfg=dict(d['infer_cfg'], inferencer=dict(
                 d['infer_cfg']['inferencer'], block_size=48, stride=16, checkpoint_interval=0)))
            for d in llm_compression_datasets if d['name'] == 'python']
models = [dict(type=HuggingFaceBaseModel, abbr='tiny', path={model!r}, batch_size=2,
               max_out_len=16, run_cfg=dict(num_gpus=0))]
'''


def write_suite(cwd, model_dir):
    os.makedirs(cwd, exist_ok=True)
    with open(os.path.join(cwd, 'suite.py'), 'w') as f:
        f.write(SUITE.format(model=model_dir))
    return os.path.join(cwd, 'suite.py')


def test_killed_mid_shard_and_resumed_equals_uninterrupted(
    tiny_model_dir, corpus_root, tmp_path, monkeypatch
):
    monkeypatch.setenv('OMP_NUM_THREADS', '1')  # the same arithmetic in every run
    whole, whole_dir, _ = run_opencompass(
        [OPENCOMPASS, write_suite(str(tmp_path / 'whole'), tiny_model_dir), '-w', 'work'],
        str(tmp_path / 'whole'),
        corpus_root,
    )

    cwd = str(tmp_path / 'killed')
    suite = write_suite(cwd, tiny_model_dir)
    os.symlink(
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs'),
        os.path.join(cwd, 'configs'),
    )
    env = dict(os.environ, COMPASS_DATA_CACHE=corpus_root, HF_HUB_OFFLINE='1', TOKENIZERS_PARALLELISM='false')
    proc = subprocess.Popen(
        [OPENCOMPASS, suite, '-w', 'work', '--max-num-workers', '1'],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline, done = time.time() + 600, 0
    while time.time() < deadline and proc.poll() is None:
        found = glob.glob(os.path.join(cwd, 'work', '*', 'predictions', 'tiny', 'tmp_*.progress.npz'))
        if found:
            try:
                with np.load(found[0]) as saved:
                    done = int(saved['done'])
            except (OSError, ValueError, KeyError):
                done = 0  # between the write and the rename: look again
            if done >= 40:
                os.killpg(proc.pid, signal.SIGKILL)
                break
        time.sleep(0.05)
    proc.wait()
    assert done >= 40, 'the run ended before a checkpoint with 40 windows was seen'
    (run_dir,) = glob.glob(os.path.join(cwd, 'work', '*', ''))
    left = os.listdir(os.path.join(run_dir, 'predictions', 'tiny'))
    assert any(name.endswith('.progress.npz') for name in left)
    assert not any(name.endswith('.json') for name in left)  # the shard unfinished
    # what the person waiting sees of the stopped run: the windows its checkpoint holds, of
    # the 432 the python corpus has under this suite's window, and how long ago it was saved
    with np.load(glob.glob(os.path.join(run_dir, 'predictions', 'tiny', 'tmp_*.progress.npz'))[0]) as saved:
        saved_done = int(saved['done'])
    shown = subprocess.run(
        [
            sys.executable,
            '-m',
            'opencompass_llmcompression.summary_cli',
            '--progress',
            os.path.join(cwd, 'work'),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    line = next(line for line in shown.stdout.splitlines() if 'llm_compression-python' in line)
    assert (
        f'tiny  llm_compression-python  {saved_done} of 432 windows ({100 * saved_done / 432:.1f}%), ' in line
    )
    assert 'windows/s, about ' in line and ' left  (saved ' in line

    resumed, resumed_dir, _ = run_opencompass([OPENCOMPASS, suite, '-w', 'work', '-r'], cwd, corpus_root)
    assert resumed_dir == run_dir
    logs = ''.join(open(p).read() for p in glob.glob(os.path.join(run_dir, 'logs', 'infer', '*', '*.out')))
    assert 'windows already scored' in logs and 'resuming from' in logs
    # the task log's progress lines: where it took up, and the end
    assert f'llm_compression-python: {saved_done} of 432 windows' in logs
    assert 'llm_compression-python: 432 of 432 windows (100.0%), done in ' in logs
    abbr = 'llm_compression-python'
    rows, _ = predictions(resumed_dir, abbr)
    want, _ = predictions(whole_dir, abbr)
    assert rows == want  # every document's float64 sum, exactly
    assert resumed[abbr] == whole[abbr]
    leftovers = glob.glob(os.path.join(run_dir, 'predictions', 'tiny', 'tmp_*'))
    assert leftovers == []

    # shard files of two different splits side by side, as a re-run split another way leaves
    # them: OpenCompass's evaluation reads _0, _1, ... and cuts the list to the corpus size
    folder = os.path.join(run_dir, 'predictions', 'tiny')
    with open(os.path.join(folder, f'{abbr}.json')) as f:
        records = [r for _, r in sorted(json.load(f).items(), key=lambda kv: int(kv[0]))]
    for shard, part in enumerate((records[:25], records[10:])):  # rows 10-24 twice
        with open(os.path.join(folder, f'{abbr}_{shard}.json'), 'w') as f:
            json.dump({str(i): r for i, r in enumerate(part)}, f)
    os.remove(os.path.join(folder, f'{abbr}.json'))
    os.remove(os.path.join(run_dir, 'results', 'tiny', f'{abbr}.json'))
    subprocess.run(
        [OPENCOMPASS, suite, '-w', 'work', '-r', '-m', 'eval'],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=600,
    )
    with open(os.path.join(run_dir, 'results', 'tiny', f'{abbr}.json')) as f:
        stale = json.load(f)
    assert set(stale) == {'error'} and 'repeated' in stale['error']
