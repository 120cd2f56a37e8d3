"""The leaderboard: one row per model, one column per corpus and their average, best first."""

import csv
import io
import os
from typing import Dict, List, Optional, Sequence

from .results import is_compression_result

MISSING = '-'


def compression_corpora(results: Dict[str, Dict[str, dict]],
                        order: Sequence[str] = ()) -> List[str]:
    """Dataset abbreviations holding compression results: ``order`` first, then as found."""
    found = {d for per_model in results.values() for d, r in per_model.items()
             if is_compression_result(r)}
    listed = [d for d in order if d in found]
    return listed + sorted(found - set(listed))


def column_labels(abbrs: Sequence[str]) -> List[str]:
    """Short column names: a prefix that every abbreviation shares (up to '-') is dropped."""
    if len(abbrs) < 2:
        return [a.split('-', 1)[-1] if a.startswith('llm_compression-') else a for a in abbrs]
    prefix = os.path.commonprefix(list(abbrs))
    cut = prefix.rfind('-') + 1
    return [a[cut:] or a for a in abbrs]


def leaderboard(results: Dict[str, Dict[str, dict]], corpora: Sequence[str],
                metric: str = 'bpc', models: Sequence[str] = (),
                baselines: Optional[Dict[str, Dict[str, Dict[str, float]]]] = None):
    """``(header, rows)``: models sorted by their average over ``corpora`` (lower first).

    A model lacking a corpus shows ``-`` there and has no average; such models come after the
    complete ones. ``baselines`` (``{corpus: {compressor: {metric: value}}}``) adds a row per
    compressor below the models.
    """
    models = list(models) or sorted(results)
    header = ['model'] + column_labels(corpora) + ['average']
    rows = []
    for model in models:
        values = [results.get(model, {}).get(c) for c in corpora]
        values = [r[metric] if is_compression_result(r) else None for r in values]
        average = _average(values)
        rows.append((average is None, average or 0.0, model, values, average))
    rows.sort(key=lambda row: row[:3])
    table = [[model] + [_cell(v) for v in values] + [_cell(average)]
             for *_, model, values, average in rows]
    compressors = list(dict.fromkeys(c for per_corpus in (baselines or {}).values()
                                     for c in per_corpus))
    for compressor in compressors:
        values = [baselines.get(c, {}).get(compressor, {}).get(metric) for c in corpora]
        table.append([f'({compressor})'] + [_cell(v) for v in values] + [_cell(_average(values))])
    return header, table


def _average(values: List[Optional[float]]) -> Optional[float]:
    """The mean, only when every corpus has a value."""
    return sum(values) / len(values) if values and None not in values else None


def _cell(value: Optional[float]) -> str:
    return MISSING if value is None else f'{value:.4f}'


def to_markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
