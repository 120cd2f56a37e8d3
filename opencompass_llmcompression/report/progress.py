"""How far the inference of a run is, shard by shard, read from what the run leaves on disk
while it goes on (or after it was stopped): ``llmcompression-summary --progress RUN_DIR``.

    predictions/<model>/tmp_<dataset>[_<k>].progress.npz   a shard being scored (checkpoint)
    predictions/<model>/<dataset>[_<k>].json               a shard done

A shard's line is its checkpoint's progress as of its last save (``core.checkpoint``: windows
done of all, the rate of the process that saved it, the time left at that rate) and how long
ago that save was: a save older than a few checkpoint intervals means the process is gone
(resume it with the same command and ``-r``). Shards not started yet leave nothing to read.
"""

import glob
import os
import re
import time
from typing import List, Optional, Sequence, Tuple

from ..core.checkpoint import read_progress
from ..core.progress import duration

CHECKPOINT = re.compile(r'tmp_(?P<shard>.+)\.progress\.npz')


def progress_rows(run_dir: str, now: Optional[float] = None) -> List[Tuple[str, str, str, str]]:
    """``(model, shard, state, last save)`` for every shard of ``run_dir`` with a checkpoint
    or a prediction file, sorted by model and shard. ``now``: Unix time (default: the clock)."""
    now = time.time() if now is None else now
    rows = []
    for folder in sorted(glob.glob(os.path.join(run_dir, 'predictions', '*', ''))):
        model = os.path.basename(os.path.normpath(folder))
        for name in sorted(os.listdir(folder)):
            found = CHECKPOINT.fullmatch(name)
            if found:
                path = os.path.join(folder, name)
                progress = read_progress(path)
                if progress is None:
                    state, saved = 'being written, or saved before checkpoints held progress', '-'
                else:
                    state = progress.line()
                    saved = f'{duration(max(0.0, now - progress.now))} ago'
                rows.append((model, found['shard'], state, saved))
            elif name.endswith('.json') and not name.startswith('tmp_'):
                rows.append((model, name[: -len('.json')], 'done', '-'))
    return rows


def progress_report(run_dirs: Sequence[str], now: Optional[float] = None) -> str:
    """The rows of each run folder as a table under its name; a run with no shard says so."""
    parts = []
    for run_dir in run_dirs:
        rows = progress_rows(run_dir, now)
        parts.append(f'{run_dir}')
        if not rows:
            parts.append('  no shard has started scoring (nothing under predictions/ yet)')
            continue
        width = [max(len(r[i]) for r in rows) for i in range(2)]
        for model, shard, state, saved in rows:
            when = '' if saved == '-' else f'  (saved {saved})'
            parts.append(f'  {model:<{width[0]}}  {shard:<{width[1]}}  {state}{when}')
    return '\n'.join(parts)
