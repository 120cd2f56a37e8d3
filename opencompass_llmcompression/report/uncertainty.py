"""Intervals for the leaderboard and the "which model compresses better" table, from the
per-document rows of the prediction files (see ``intervals`` for the statistics).

Every model of a corpus is resampled with the same documents (the draws depend only on the
number of documents and the seed), so each model's resampled sums are computed once and a
pair's difference is a subtraction of two of them (``intervals.difference_interval``): the
paired bootstrap, for all pairs at the cost of one pass per model.
"""

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np

from .intervals import (LEVEL, RESAMPLES, SEED, Interval, difference_interval, ratio_interval,
                        resampled_sums)
from .results import is_compression_result

Rows = Dict[str, Dict[str, List[dict]]]  # {model: {corpus: per-document rows}}
SIZE = dict(bpc='chars', bpb='bytes')


def _check_rows(rows: List[dict], result: dict) -> str:
    """Why these rows cannot stand for the result ('' when they can)."""
    for field in ('chars', 'bytes', 'tokens'):
        total = sum(r.get(field, 0) for r in rows)
        if field in result and total != result[field]:
            return (f'its predictions add up to {total} {field}, its result has '
                    f'{result[field]}: the prediction files are from another run')
    nll = math.fsum(r['nll'] for r in rows)
    if 'nll' in result and not math.isclose(nll, result['nll'], rel_tol=1e-6, abs_tol=1e-9):
        return (f'its predictions add up to an NLL of {nll:.6g}, its result has '
                f'{result["nll"]:.6g}: the prediction files are from another run')
    return ''


class Bootstrap:
    """The resampled sums of every model x corpus that has usable per-document rows."""

    def __init__(self, results: Dict[str, Dict[str, dict]], rows: Rows,
                 corpora: Sequence[str], models: Sequence[str], resamples: int = RESAMPLES,
                 seed: int = SEED, level: float = LEVEL):
        self.level, self.rows, self.notes = level, {}, []
        self.sums: Dict[Tuple[str, str], Dict[str, np.ndarray]] = {}
        for model in models:
            for corpus in corpora:
                result = results.get(model, {}).get(corpus)
                if not is_compression_result(result):
                    continue
                found = rows.get(model, {}).get(corpus)
                reason = (_check_rows(found, result) if found else
                          f'no per-document predictions (predictions/{model}/{corpus}*.json)')
                if reason:
                    self.notes.append(f'{model} on {corpus}: no interval, {reason}.')
                    continue
                fields = ('nll', 'chars', 'bytes')
                arrays = [np.array([r[f] for r in found], dtype=np.float64) for f in fields]
                self.rows[model, corpus] = found
                self.sums[model, corpus] = dict(
                    zip(fields, resampled_sums(arrays, resamples, seed)),
                    **{f'total_{f}': a.sum() for f, a in zip(fields, arrays)})

    def intervals(self, metric: str = 'bpc') -> Dict[str, Dict[str, Interval]]:
        """``{model: {corpus: Interval}}`` of ``metric`` (bpc or bpb)."""
        size, out = SIZE[metric], {}
        for (model, corpus), s in self.sums.items():
            out.setdefault(model, {})[corpus] = ratio_interval(
                s['total_nll'], s[f'total_{size}'], s['nll'], s[size], self.level)
        return out

    def difference(self, model_a: str, model_b: str, corpus: str) -> Interval:
        """BPC of A minus BPC of B on ``corpus``, paired over its documents."""
        a, b = self.sums[model_a, corpus], self.sums[model_b, corpus]
        return difference_interval(a['total_nll'], b['total_nll'], a['total_chars'], a['nll'],
                                   b['nll'], a['chars'], self.level)

    def same_documents(self, model_a: str, model_b: str, corpus: str) -> str:
        """Why two models' documents of ``corpus`` cannot be paired ('' when they can)."""
        a, b = self.rows[model_a, corpus], self.rows[model_b, corpus]
        if len(a) != len(b):
            return f'{model_a} has {len(a)} documents, {model_b} {len(b)}'
        for ra, rb in zip(a, b):
            if ra['document_index'] != rb['document_index']:
                return (f'different documents ({model_a} has document {ra["document_index"]} '
                        f'where {model_b} has {rb["document_index"]})')
            if ra['chars'] != rb['chars']:
                return (f'document {ra["document_index"]} has {ra["chars"]} characters for '
                        f'{model_a}, {rb["chars"]} for {model_b}: not the same text')
        return ''

    def comparison_table(self, corpora: Sequence[str], models: Sequence[str]):
        """``(header, rows, refused)``: every pair of models with intervals on a corpus, the
        one with the lower BPC first; ``refused`` says which pairs could not be compared."""
        header = ['corpus', 'model A', 'model B', 'BPC A - B',
                  f'{self.level:.0%} interval', 'verdict']
        rows, refused = [], []
        for corpus in corpora:
            present = [m for m in models if (m, corpus) in self.sums]
            for i, first in enumerate(present):
                for second in present[i + 1:]:
                    reason = self.same_documents(first, second, corpus)
                    if reason:
                        refused.append(f'{corpus}: {first} and {second} not compared, {reason}.')
                        continue
                    d = self.difference(first, second, corpus)
                    a, b = (first, second) if d.value <= 0 else (second, first)
                    if a != first:
                        d = Interval(-d.value, -d.high, -d.low)
                    verdict = (f'{a} compresses better' if d.excludes_zero else
                               'no clear difference (the interval holds 0)')
                    rows.append([corpus, a, b, f'{d.value:+.4f}',
                                 f'[{d.low:+.4f}, {d.high:+.4f}]', verdict])
        return header, rows, refused
