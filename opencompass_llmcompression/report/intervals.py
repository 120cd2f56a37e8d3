"""How sure a BPC is: bootstrap intervals over documents, for one model and for a pair.

A corpus's BPC is a ratio of sums, ``sum(nll) / (sum(chars) * ln 2)``. Tokens inside a
document are not independent, so the resampled unit is the document, its NLL and characters
together: each resample draws ``n`` documents with replacement, and the interval is the
percentile interval of the resamples' ratios. The draws depend only on ``seed`` and ``n``, so
two models on the same documents share them (a paired bootstrap): what varies between
documents cancels from their difference.
"""

from typing import NamedTuple, Sequence

import numpy as np

from ..core.metrics import bits_per

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0
CHUNK_CELLS = 4_000_000  # indices drawn at a time, so memory stays bounded on large corpora


class Interval(NamedTuple):
    value: float  # the ratio on all documents
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def plus_minus(self) -> str:
        """``± 0.012``: half the interval's width, two significant digits (bounds in the CSV)."""
        return f'± {(self.high - self.low) / 2:.2g}'


def resampled_sums(values: Sequence[np.ndarray], resamples: int = RESAMPLES, seed: int = SEED) -> list:
    """For each array in ``values`` (one entry per document), its sum over each resample.

    Resample ``r`` is ``rng.integers(0, n, size=n)``, the ``r``-th such draw of
    ``np.random.default_rng(seed)``: drawing in chunks gives the same indices as one draw."""
    values = [np.asarray(v, dtype=np.float64) for v in values]
    n = len(values[0])
    if n == 0 or any(len(v) != n for v in values):
        raise ValueError('a bootstrap needs at least one document and equal-length arrays')
    rng = np.random.default_rng(seed)
    sums = [np.empty(resamples) for _ in values]
    step = max(1, CHUNK_CELLS // n)
    for start in range(0, resamples, step):
        rows = min(step, resamples - start)
        index = rng.integers(0, n, size=(rows, n))
        for v, out in zip(values, sums):
            out[start : start + rows] = v[index].sum(axis=1)
    return sums


def percentile_interval(value: float, samples: np.ndarray, level: float = LEVEL) -> Interval:
    """``value`` with the central ``level`` share of the resampled ``samples`` around it."""
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return Interval(float(value), float(low), float(high))


def ratio_interval(
    nll: float, size: float, nll_sums: np.ndarray, size_sums: np.ndarray, level: float = LEVEL
) -> Interval:
    """Bits per character (or byte) from the totals, with the resampled totals' interval."""
    return percentile_interval(bits_per(nll, size), bits_per(nll_sums, size_sums), level)


def difference_interval(
    nll_a: float,
    nll_b: float,
    size: float,
    a_sums: np.ndarray,
    b_sums: np.ndarray,
    size_sums: np.ndarray,
    level: float = LEVEL,
) -> Interval:
    """A's bits per character minus B's from the totals, with the paired resamples' interval."""
    return percentile_interval(bits_per(nll_a - nll_b, size), bits_per(a_sums - b_sums, size_sums), level)
