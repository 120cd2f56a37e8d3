"""What a person waiting on a long run sees: windows done, rate and time left per shard, in the
log while it runs and from its checkpoints (llmcompression-summary --progress); rates and
times computed by hand."""

import json
import logging

import numpy as np

from opencompass_llmcompression.core.checkpoint import Checkpoint, read_progress
from opencompass_llmcompression.core.progress import ProgressLog, ShardProgress, duration
from opencompass_llmcompression.report.progress import progress_report, progress_rows
from opencompass_llmcompression.summary_cli import main as summary_main


def test_line_by_hand():
    # 100 windows in 50 s since this process began (it resumed at 20): 2 windows/s,
    # 310 left: 155 s
    p = ShardProgress(done=120, total=430, started=1000.0, done_at_start=20, now=1050.0)
    assert p.rate == 2.0 and p.left_s == 155.0
    assert p.line() == '120 of 430 windows (27.9%), 2.00 windows/s, about 2 min 35 s left'
    fresh = ShardProgress(done=20, total=430, started=1000.0, done_at_start=20, now=1050.0)
    assert fresh.rate is None and fresh.line() == '20 of 430 windows (4.7%), rate not known yet'
    done = ShardProgress(done=430, total=430, started=1000.0, done_at_start=0, now=1125.0)
    assert done.line() == '430 of 430 windows (100.0%), done in 2 min 5 s'
    assert [duration(s) for s in (9.4, 60, 100, 7300)] == ['9 s', '1 min 0 s', '1 min 40 s', '2 h 1 min']


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def test_log_lines_at_start_every_interval_and_at_the_end(caplog):
    clock = Clock(0.0)
    logger = logging.getLogger('test_progress')
    with caplog.at_level(logging.INFO, logger='test_progress'):
        log = ProgressLog('llm_compression-python_0', 400, 0, logger, interval_s=60, clock=clock)
        clock.t = 30.0
        log.update(50)  # within the interval: nothing
        clock.t = 61.0
        log.update(100)  # 100 windows in 61 s; 300 left at 100/61 a second: 183 s
        clock.t = 200.0
        log.update(400)
        log.finish()
    assert [r.getMessage() for r in caplog.records] == [
        'llm_compression-python_0: 0 of 400 windows (0.0%), rate not known yet',
        'llm_compression-python_0: 100 of 400 windows (25.0%), 1.64 windows/s, about 3 min 3 s left',
        'llm_compression-python_0: 400 of 400 windows (100.0%), done in 3 min 20 s',
        'llm_compression-python_0: 400 of 400 windows (100.0%), done in 3 min 20 s',
    ]


def save(path, done, progress=None):
    checkpoint = Checkpoint(path, dict(stream='s'), interval_s=0)
    nll, tokens = np.array([1.5, 0.0]), np.array([3, 0])
    checkpoint.save(done, nll, tokens, force=True, progress=progress)


def test_checkpoint_keeps_the_progress(tmp_path):
    path = str(tmp_path / 'tmp_x.progress.npz')
    saved = ShardProgress(done=40, total=430, started=1000.5, done_at_start=10, now=1010.5)
    save(path, 40, saved)
    assert read_progress(path) == saved
    assert Checkpoint(path, dict(stream='s')).load(2)[0] == 40  # the sums still resume
    save(path, 40)  # a checkpoint without progress, as older ones
    assert read_progress(path) is None
    with open(path, 'wb') as f:
        f.write(b'cut off')
    assert read_progress(path) is None


def test_progress_of_a_run_folder(tmp_path, capsys):
    run = tmp_path / 'work' / '20261206_101010'
    shards = run / 'predictions' / 'tiny'
    shards.mkdir(parents=True)
    (run / 'logs').mkdir()
    save(str(shards / 'tmp_llm_compression-cc_1.progress.npz'), 30, ShardProgress(30, 90, 100.0, 0, 115.0))
    (shards / 'llm_compression-cc_0.json').write_text(json.dumps({}))
    rows = progress_rows(str(run), now=175.0)
    assert rows == [
        ('tiny', 'llm_compression-cc_0', 'done', '-'),
        # 30 windows in 15 s: 2 a second, 60 left: 30 s; saved 60 s before now
        (
            'tiny',
            'llm_compression-cc_1',
            '30 of 90 windows (33.3%), 2.00 windows/s, about 30 s left',
            '1 min 0 s ago',
        ),
    ]
    assert 'no shard has started' in progress_report([str(tmp_path)])  # the work dir: no run yet
    assert summary_main(['--progress', str(tmp_path / 'work')]) == 0
    out = capsys.readouterr().out
    assert 'llm_compression-cc_1  30 of 90 windows (33.3%), 2.00 windows/s, about 30 s left  (saved' in out
    assert summary_main(['--progress', str(tmp_path / 'nothing')]) != 0
    assert 'is not a folder' in capsys.readouterr().err
