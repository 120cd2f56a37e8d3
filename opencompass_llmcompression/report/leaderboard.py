"""The leaderboard: one row per model, one column per compression dataset (its abbr) and their
average, best first."""

import csv
import io
import os
from dataclasses import fields
from typing import Dict, List, Optional, Sequence

from ..core.finite_output import check_table
from ..core.settings import MeasurementSettings
from .intervals import Interval
from .results import is_compression_result

MISSING = '-'
LOSSY_MARK = '†'  # a BPC measured with allow_lossy_tokenizer: the model did not see the text as written
SETTINGS_COLUMNS = tuple(f.name for f in fields(MeasurementSettings))
RATE = 'compression_rate'  # uncheatable_eval's: the compressed size in percent of the UTF-8 bytes
METRICS = ('bpc', 'bpb', RATE)


def rate_of(bpb: float) -> float:
    """uncheatable_eval's compression rate from bits per UTF-8 byte: ``bpb / 8 * 100`` (percent)."""
    return bpb / 8 * 100


def metric_value(values: Optional[dict], metric: str) -> Optional[float]:
    """``metric`` (one of ``METRICS``) of a result or of a compressor's rates; the compression
    rate from their ``bpb``, so results written before it existed have it too. None where absent."""
    if not values:
        return None
    if metric == RATE:
        return rate_of(values['bpb']) if 'bpb' in values else None
    return values.get(metric)


def metric_title(metric: str) -> str:
    """The leaderboard's heading for ``metric``."""
    if metric == RATE:
        return 'Compression rate, % of the UTF-8 bytes (uncheatable_eval\'s, bpb / 8 * 100)'
    return metric.upper()


def compression_abbrs(results: Dict[str, Dict[str, dict]], order: Sequence[str] = ()) -> List[str]:
    """The abbrs holding compression results: ``order`` first, then sorted."""
    found = {d for per_model in results.values() for d, r in per_model.items() if is_compression_result(r)}
    listed = [d for d in order if d in found]
    return listed + sorted(found - set(listed))


def chars_unseen(result: Optional[dict]) -> Optional[int]:
    """Characters the model did not see as written, for a result measured with
    ``allow_lossy_tokenizer`` whose tokenizer did not give back the text; else None."""
    check = (result or {}).get('text_check') or {}
    return int(check.get('chars_unseen', 0)) if check.get('round_trip') == 'allowed' else None


def lossy_notes(results: Dict[str, Dict[str, dict]], abbrs: Sequence[str]) -> List[str]:
    """One line per model and abbr whose BPC carries ``LOSSY_MARK``, saying what it left out."""
    notes = []
    for model in sorted(results):
        for abbr in abbrs:
            result = results[model].get(abbr)
            unseen = chars_unseen(result)
            if unseen is not None and is_compression_result(result):
                notes.append(
                    f'{LOSSY_MARK} {model} on {abbr}: measured with allow_lossy_tokenizer; its tokenizer '
                    f'does not give back the text, and {unseen} of {result["chars"]} characters were not '
                    'seen by the model as written (the BPC still counts them; it is not placed on '
                    'the paper\'s lines).'
                )
    return notes


def column_labels(abbrs: Sequence[str]) -> List[str]:
    """Short column names: a prefix that every abbreviation shares (up to '-') is dropped."""
    if len(abbrs) < 2:
        return [a.split('-', 1)[-1] if a.startswith('llm_compression-') else a for a in abbrs]
    prefix = os.path.commonprefix(list(abbrs))
    cut = prefix.rfind('-') + 1
    return [a[cut:] or a for a in abbrs]


def leaderboard(
    results: Dict[str, Dict[str, dict]],
    abbrs: Sequence[str],
    metric: str = 'bpc',
    models: Sequence[str] = (),
    baselines: Optional[Dict[str, Dict[str, Dict[str, float]]]] = None,
    intervals: Optional[Dict[str, Dict[str, Interval]]] = None,
    pool: bool = True,
):
    """``(header, rows)``: models sorted by their average over ``abbrs`` (lower first).

    A model lacking an abbr shows ``-`` there and has no average; such models come after the
    complete ones. ``pool=False`` (abbrs measured under different settings) leaves every
    model's average out. ``intervals`` (``{model: {abbr: Interval}}``) turns a cell into
    ``value ± half-width``. ``baselines`` (``{abbr: {compressor: {metric: value}}}``) adds a
    row per compressor below the models.
    """
    intervals = intervals or {}
    table = []
    for model, values, average in _sorted_models(results, abbrs, metric, models, pool):
        found = intervals.get(model, {})
        cells = [
            f'{_cell(v)} {found[c].plus_minus()}' if c in found and v is not None else _cell(v)
            for c, v in zip(abbrs, values)
        ]
        lossy = [chars_unseen(results.get(model, {}).get(c)) is not None for c in abbrs]
        cells = [f'{cell} {LOSSY_MARK}' if mark else cell for cell, mark in zip(cells, lossy)]
        table.append([model] + cells + [_cell(average) + f' {LOSSY_MARK}' * any(lossy)])
    header = ['model'] + column_labels(abbrs) + ['average']
    compressors = list(dict.fromkeys(c for per_abbr in (baselines or {}).values() for c in per_abbr))
    for compressor in compressors:
        values = [metric_value(baselines.get(c, {}).get(compressor), metric) for c in abbrs]
        table.append([f'({compressor})'] + [_cell(v) for v in values] + [_cell(_average(values))])
    return header, table


def long_rows(
    results: Dict[str, Dict[str, dict]],
    abbrs: Sequence[str],
    metric: str = 'bpc',
    models: Sequence[str] = (),
    baselines: Optional[Dict[str, Dict[str, Dict[str, float]]]] = None,
    intervals: Optional[Dict[str, Dict[str, Interval]]] = None,
    measurements: Optional[Dict[str, Optional[MeasurementSettings]]] = None,
    pool: bool = True,
):
    """The leaderboard for the CSV: one row per model and abbr (the ``corpus`` column holds
    the abbr; and ``average``, unless not ``pool``), with the interval's bounds as
    ``<metric>_ci_low`` and ``<metric>_ci_high`` (blank where none), and on every model's row
    the settings ``measurements`` gives for its abbr (blank where not recorded), and
    ``chars_unseen`` where the BPC carries ``LOSSY_MARK`` (blank elsewhere)."""
    header = ['model', 'corpus', metric, f'{metric}_ci_low', f'{metric}_ci_high', *SETTINGS_COLUMNS]
    header.append('chars_unseen')
    measurements = measurements or {}
    known = [measurements[c] for c in abbrs if measurements.get(c) is not None]
    rows = []
    for model, values, average in _sorted_models(results, abbrs, metric, models, pool):
        found = (intervals or {}).get(model, {})
        for abbr, value in zip(abbrs, values):
            if value is not None:
                bounds = [f'{found[abbr].low:.6f}', f'{found[abbr].high:.6f}'] if abbr in found else ['', '']
                unseen = chars_unseen(results.get(model, {}).get(abbr))
                rows.append(
                    [model, abbr, f'{value:.6f}']
                    + bounds
                    + _settings_cells(measurements.get(abbr))
                    + ['' if unseen is None else str(unseen)]
                )
        if average is not None:
            rows.append(
                [model, 'average', f'{average:.6f}', '', '']
                + _settings_cells(known[0] if known else None)
                + ['']
            )
    for abbr, per_compressor in (baselines or {}).items():
        for compressor, rates in per_compressor.items():
            value = metric_value(rates, metric)
            if abbr in abbrs and value is not None:
                rows.append([f'({compressor})', abbr, f'{value:.6f}', '', ''] + _settings_cells(None) + [''])
    return header, rows


def _settings_cells(settings: Optional[MeasurementSettings]) -> List[str]:
    if settings is None:
        return [''] * len(SETTINGS_COLUMNS)
    return [str(value) for value in settings.as_record().values()]


def _sorted_models(results, abbrs, metric, models, pool=True):
    """``[(model, values, average)]``, complete models first, by average (if ``pool``)."""
    rows = []
    for model in list(models) or sorted(results):
        values = [results.get(model, {}).get(c) for c in abbrs]
        values = [metric_value(r, metric) if is_compression_result(r) else None for r in values]
        average = _average(values) if pool else None
        rows.append((average is None, average or 0.0, model, values, average))
    rows.sort(key=lambda row: row[:3])
    return [row[2:] for row in rows]


def _average(values: List[Optional[float]]) -> Optional[float]:
    """The mean, only when every value is there."""
    return sum(values) / len(values) if values and None not in values else None


def _cell(value: Optional[float]) -> str:
    return MISSING if value is None else f'{value:.4f}'


def to_markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; NonFiniteError for a NaN or an infinity in a numeric column."""
    check_table(header, rows, 'a Markdown table of the report')
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines) + '\n'


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A CSV table; NonFiniteError for a NaN or an infinity in a numeric column."""
    check_table(header, rows, 'a CSV table of the report')
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
