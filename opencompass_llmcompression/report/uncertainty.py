"""The leaderboard's intervals and the "which model compresses better" table, from the
per-document prediction rows (``intervals`` has the statistics).

The draws depend only on the number of documents and the seed, so every model of an abbr is
resampled with the same documents: each model's resampled sums are computed once, and a pair's
paired bootstrap is a subtraction of two of them.
"""

import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.document_rows import DOC_INDEX_COLUMN
from .intervals import LEVEL, RESAMPLES, SEED, Interval, difference_interval, ratio_interval, resampled_sums
from .leaderboard import RATE, rate_of
from .results import is_compression_result

Rows = Dict[str, Dict[str, List[dict]]]  # {model: {abbr: per-document rows}}
# Each metric's per-document count: the metric is bits per that count (the summed NLL over it),
# and its interval a ratio interval of the resampled sums. compression_rate is bpb's, rescaled.
# A metric of the leaderboard that is not here gets no interval, and the report says so.
SIZE = dict(bpc='chars', bpb='bytes', compression_rate='bytes')


def _check_rows(rows: List[dict], result: dict) -> Optional[str]:
    """Why these rows cannot stand for the result, or None when they can."""
    for field in ('chars', 'bytes', 'tokens'):
        total = sum(r.get(field, 0) for r in rows)
        if field in result and total != result[field]:
            return (
                f'its predictions add up to {total} {field}, its result has '
                f'{result[field]}: the prediction files are from another run'
            )
    nll = math.fsum(r['nll'] for r in rows)
    if 'nll' in result and not math.isclose(nll, result['nll'], rel_tol=1e-6, abs_tol=1e-9):
        return (
            f'its predictions add up to an NLL of {nll:.6g}, its result has '
            f'{result["nll"]:.6g}: the prediction files are from another run'
        )
    return None


class Bootstrap:
    """The resampled sums of every model x abbr that has usable per-document rows."""

    def __init__(
        self,
        results: Dict[str, Dict[str, dict]],
        rows: Rows,
        abbrs: Sequence[str],
        models: Sequence[str],
        resamples: int = RESAMPLES,
        seed: int = SEED,
        level: float = LEVEL,
    ):
        self.level, self.rows, self.notes = level, {}, []
        self.sums: Dict[Tuple[str, str], Dict[str, np.ndarray]] = {}
        for model in models:
            for abbr in abbrs:
                result = results.get(model, {}).get(abbr)
                if not is_compression_result(result):
                    continue
                found = rows.get(model, {}).get(abbr)
                reason = (
                    _check_rows(found, result)
                    if found
                    else f'no per-document predictions (predictions/{model}/{abbr}*.json)'
                )
                if reason:
                    self.notes.append(f'{model} on {abbr}: no interval, {reason}.')
                    continue
                fields = ('nll', *sorted(set(SIZE.values())))  # the counts resampled beside nll
                arrays = [np.array([r[f] for r in found], dtype=np.float64) for f in fields]
                self.rows[model, abbr] = found
                self.sums[model, abbr] = dict(
                    zip(fields, resampled_sums(arrays, resamples, seed)),
                    **{f'total_{f}': a.sum() for f, a in zip(fields, arrays)},
                )

    def intervals(self, metric: str = 'bpc') -> Dict[str, Dict[str, Interval]]:
        """``{model: {abbr: Interval}}`` of ``metric`` (bpc, bpb, or compression_rate: bpb's
        interval in percent, ``bpb / 8 * 100``); ``{}`` for a metric ``SIZE`` does not know,
        with a note saying so."""
        if metric not in SIZE:
            note = (
                f'{metric}: no intervals: the report draws them for bits per a per-document count '
                f'({", ".join(f"{m}: {c}" for m, c in SIZE.items())}; report/uncertainty.py SIZE)'
            )
            if note not in self.notes:
                self.notes.append(note)
            return {}
        scale = rate_of(1.0) if metric == RATE else 1.0
        size, out = SIZE[metric], {}
        for (model, abbr), s in self.sums.items():
            found = ratio_interval(s['total_nll'], s[f'total_{size}'], s['nll'], s[size], self.level)
            out.setdefault(model, {})[abbr] = Interval(*(scale * x for x in found))
        return out

    def difference(self, model_a: str, model_b: str, abbr: str) -> Interval:
        """BPC of A minus BPC of B on ``abbr``, paired over its documents."""
        a, b = self.sums[model_a, abbr], self.sums[model_b, abbr]
        return difference_interval(
            a['total_nll'], b['total_nll'], a['total_chars'], a['nll'], b['nll'], a['chars'], self.level
        )

    def documents_differ(self, model_a: str, model_b: str, abbr: str) -> Optional[str]:
        """How two models' documents of ``abbr`` differ (other documents, or the same ones
        of other lengths), so that they cannot be paired; None when they are the same."""
        a, b = self.rows[model_a, abbr], self.rows[model_b, abbr]
        if len(a) != len(b):
            return f'{model_a} has {len(a)} documents, {model_b} {len(b)}'
        for ra, rb in zip(a, b):
            index = ra[DOC_INDEX_COLUMN]
            if index != rb[DOC_INDEX_COLUMN]:
                return (
                    f'different documents ({model_a} has document {index} '
                    f'where {model_b} has {rb[DOC_INDEX_COLUMN]})'
                )
            if ra['chars'] != rb['chars']:
                return (
                    f'document {index} has {ra["chars"]} characters for '
                    f'{model_a}, {rb["chars"]} for {model_b}: not the same text'
                )
        return None

    def comparison_table(self, abbrs: Sequence[str], models: Sequence[str]):
        """``(header, rows, refused)``: every pair of models with intervals on an abbr, the
        one with the lower BPC first; ``refused`` says which pairs could not be compared."""
        header = ['corpus', 'model A', 'model B', 'BPC A - B', f'{self.level:.0%} interval', 'verdict']
        rows, refused = [], []
        for abbr in abbrs:
            present = [m for m in models if (m, abbr) in self.sums]
            for i, first in enumerate(present):
                for second in present[i + 1 :]:
                    reason = self.documents_differ(first, second, abbr)
                    if reason:
                        refused.append(f'{abbr}: {first} and {second} not compared, {reason}.')
                        continue
                    d = self.difference(first, second, abbr)
                    a, b = (first, second) if d.value <= 0 else (second, first)
                    if a != first:
                        d = Interval(-d.value, -d.high, -d.low)
                    verdict = (
                        f'{a} compresses better'
                        if d.excludes_zero
                        else 'no clear difference (the interval holds 0)'
                    )
                    rows.append([abbr, a, b, f'{d.value:+.4f}', f'[{d.low:+.4f}, {d.high:+.4f}]', verdict])
        return header, rows, refused
