"""How far one shard's scoring is, for the person waiting: windows done of all, the rate, the
time left.

    ShardProgress(done, total, started, done_at_start, now).line()
        -> '120 of 430 windows (27.9%), 3.10 windows/s, about 1 min 40 s left'

The scoring loop logs such a line when it starts, every ``interval_s`` seconds and when it
ends (``ProgressLog``; OpenCompass keeps them in the task's log), and saves the same fields in
the shard's checkpoint, which ``llmcompression-summary --progress RUN_DIR`` reads while the run
goes on, or after it was stopped.
"""

import logging
import time
from dataclasses import dataclass
from typing import Callable, Optional


def duration(seconds: float) -> str:
    """``100`` -> ``'1 min 40 s'``, ``7300`` -> ``'2 h 1 min'``, ``9.4`` -> ``'9 s'``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f'{seconds // 3600} h {seconds % 3600 // 60} min'
    if seconds >= 60:
        return f'{seconds // 60} min {seconds % 60} s'
    return f'{seconds} s'


@dataclass(frozen=True)
class ShardProgress:
    """``done`` of ``total`` windows at time ``now``; this process began at ``started`` (both
    Unix times, seconds) with ``done_at_start`` windows already done (resumed from a
    checkpoint). The rate counts only this process's windows."""

    done: int
    total: int
    started: float
    done_at_start: int
    now: float

    @property
    def rate(self) -> Optional[float]:
        """Windows per second since ``started``; None before the first window of this process."""
        elapsed = self.now - self.started
        scored = self.done - self.done_at_start
        return scored / elapsed if scored > 0 and elapsed > 0 else None

    @property
    def left_s(self) -> Optional[float]:
        """Seconds left at ``rate``; None when the rate is not known yet."""
        rate = self.rate
        return (self.total - self.done) / rate if rate else None

    def line(self) -> str:
        share = 100.0 * self.done / self.total if self.total else 100.0
        text = f'{self.done} of {self.total} windows ({share:.1f}%)'
        if self.done >= self.total:
            return text + f', done in {duration(self.now - self.started)}'
        if self.rate is None:
            return text + ', rate not known yet'
        return text + f', {self.rate:.2f} windows/s, about {duration(self.left_s)} left'


class ProgressLog:
    """Logs ``name: <ShardProgress.line()>`` (info) at the start, then at most every
    ``interval_s`` seconds on ``update``, and on ``finish``. ``clock`` gives Unix time."""

    def __init__(
        self,
        name: str,
        total: int,
        done: int,
        logger: logging.Logger,
        interval_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        self.name, self.total, self.logger, self.interval_s, self.clock = (
            name,
            total,
            logger,
            interval_s,
            clock,
        )
        self.started = self.last = clock()
        self.done_at_start = self.done = done
        self._log()

    def progress(self) -> ShardProgress:
        return ShardProgress(self.done, self.total, self.started, self.done_at_start, self.clock())

    def update(self, done: int) -> None:
        self.done = done
        if self.clock() - self.last >= self.interval_s:
            self._log()

    def finish(self) -> None:
        self._log()

    def _log(self) -> None:
        self.last = self.clock()
        self.logger.info(f'{self.name}: {self.progress().line()}')
