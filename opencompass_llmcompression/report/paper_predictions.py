"""A run's models on the paper's lines: what their BPC predicts, beside what they scored.

Only a BPC measured the paper's way is placed (``paper_reference.measurement_problems``): the
BPC scale depends on the corpus and the window, so any other abbr gets a reason, not a
prediction.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from ..core.settings import MeasurementSettings
from .benchmark_scores import Scores, benchmark_scores
from .leaderboard import chars_unseen
from .paper_fits import (
    AREA_CORPUS,
    AVERAGE,
    LEVEL,
    OVERALL,
    Placement,
    benchmarks_of,
    paper_lines,
    paper_table,
    place,
)
from .paper_reference import measurement_problems, paper_corpus_of

AREA_OF = {corpus: area for area, corpus in AREA_CORPUS.items()}
CSV_HEADER = [
    'model',
    'area',
    'benchmark',
    'bpc',
    'predicted',
    'pi_low',
    'pi_high',
    'line_n',
    'line_rmse',
    'measured',
    'gap_rmse',
    'flag',
    'outside_fitted_bpc',
    'scale_note',
]


def paper_corpora(
    abbrs: Sequence[str], locations: Dict[str, dict], measurements: Dict[str, Optional[MeasurementSettings]]
) -> Tuple[Dict[str, str], Dict[str, str]]:
    """``({abbr: area}, {abbr: reason})``: the abbrs that measure a paper corpus the paper's
    way, each with the area its BPC predicts, and for each other abbr why the paper's lines
    predict nothing for it."""
    eligible, reasons = {}, {}
    for abbr in abbrs:
        corpus = paper_corpus_of(abbr, locations.get(abbr))
        problems = measurement_problems(locations.get(abbr), measurements.get(abbr))
        if corpus is None:
            problems = [f'not one of the paper\'s corpora ({", ".join(AREA_OF)})']
        if problems:
            reasons[abbr] = (
                f'{abbr}: no prediction: {"; ".join(problems)}. The paper\'s lines '
                'hold only for BPC on its corpora with its window.'
            )
        else:
            eligible[abbr] = AREA_OF[corpus]
    return eligible, reasons


def placements(
    results: Dict[str, Dict[str, dict]],
    models: Sequence[str],
    eligible: Dict[str, str],
    scores: Optional[Scores],
    areas: Dict[str, dict],
) -> List[Placement]:
    """Every model with a BPC on an ``eligible`` abbr, on every line that BPC allows; a BPC
    measured with a tokenizer that does not give back the text (``leaderboard.chars_unseen``)
    is of another text, and is not placed."""
    placed = []
    for model in models:
        per = results.get(model, {})
        bpc = {
            area: per[abbr]['bpc']
            for abbr, area in eligible.items()
            if isinstance(per.get(abbr), dict) and 'bpc' in per[abbr] and chars_unseen(per[abbr]) is None
        }
        if not bpc:
            continue
        given = (scores or {}).get(model, {})
        found = complete_averages(benchmark_scores(per, given, areas), given)
        measured = {(area, name): v for area, by_name in found.items() for name, v in by_name.items()}
        placed += place(model, bpc, measured)
    return placed


def complete_averages(
    found: Dict[str, Dict[str, float]], given: Dict[str, float]
) -> Dict[str, Dict[str, float]]:
    """``found`` with each area's average as the paper takes it: the mean of the paper's
    benchmarks of the area, only where all of them have a score (or the average was given by
    name); the overall one only where all three areas then have one."""
    named = {name.lower() for name in given}
    kept = {area: dict(by_name) for area, by_name in found.items()}
    for area in AREA_CORPUS:
        per = kept.setdefault(area, {})
        if area in named:
            continue
        scores = [per.get(name) for name in benchmarks_of(area)]
        per.pop(AVERAGE, None)
        if None not in scores:
            per[AVERAGE] = sum(scores) / len(scores)
    if OVERALL not in named:
        averages = [kept[area].get(AVERAGE) for area in AREA_CORPUS]
        kept[OVERALL] = {AVERAGE: sum(averages) / len(averages)} if None not in averages else {}
    return kept


def table(placed: Sequence[Placement]):
    """``(header, rows)`` for the report: area averages and overall, and each benchmark a
    score was measured for."""
    header = [
        'model',
        'line',
        'BPC',
        'predicted',
        f'{LEVEL:.0%} prediction interval',
        'measured',
        'measured - predicted',
        'note',
    ]
    rows = []
    for p in placed:
        if p.line.benchmark != AVERAGE and p.measured is None:
            continue
        name = (
            f'{p.line.area} average' if p.line.benchmark == AVERAGE else f'{p.line.area}: {p.line.benchmark}'
        )
        if p.line.anchored:
            name = f'{p.line.corpus}: {name}'
        fitted = 'the paper\'s' if not p.line.anchored else 'the anchors\''
        notes = [p.flag] if p.flag else []
        if p.outside_fitted_range:
            low, high = p.line.bpc_range
            notes.append(f'BPC outside {fitted} {low:.3f}-{high:.3f}: an extrapolation')
        if p.scale_note:
            notes.append(p.scale_note)
        rows.append(
            [
                p.model,
                name,
                f'{p.bpc:.4f}',
                f'{p.predicted:.1f}',
                f'{p.low:.1f} to {p.high:.1f}',
                '-' if p.measured is None else f'{p.measured:.1f}',
                '-' if p.gap is None else f'{p.gap:+.1f} RMSE',
                '; '.join(notes),
            ]
        )
    return header, rows


def csv_rows(placed: Sequence[Placement]) -> List[List[str]]:
    return [
        [
            p.model,
            p.line.area,
            p.line.benchmark,
            f'{p.bpc:.6f}',
            f'{p.predicted:.4f}',
            f'{p.low:.4f}',
            f'{p.high:.4f}',
            str(p.line.n),
            f'{p.line.fit["rmse"]:.4f}',
            '' if p.measured is None else f'{p.measured:.4f}',
            '' if p.gap is None else f'{p.gap:.4f}',
            p.flag,
            str(p.outside_fitted_range).lower(),
            p.scale_note,
        ]
        for p in placed
    ]


READING = [
    '- How to read this: the paper fits a line through its own models (Appendix B); the '
    'interval is where 95% of models like them fall around it (a prediction interval: the '
    'spread of models, not the uncertainty of the line). It predicts a score measured the '
    'paper\'s way (its benchmarks, shots, and MMLU in the cloze style: docs/paper_suite.md). '
    'The gap is in units of the line\'s RMSE over the paper\'s models. An area\'s measured '
    'average is shown only when all its benchmarks were measured.',
    '- A model above its interval scores better than its compression suggests: the paper\'s '
    'Appendix D reads such a gap as a model fitted to the benchmark\'s format. It can also '
    'come from training on the benchmark\'s data, a protocol or prompt other than the '
    'paper\'s, or chance; the gap cannot tell which, and a gap inside the interval means '
    'nothing. Below its interval: the benchmark\'s format may not suit the model (a base '
    'model prompted as a chat model, say).',
]


def plot(placed: Sequence[Placement], path: str) -> None:
    """``figure(placed)`` written to ``path`` as PNG, whole or not at all."""
    from . import line_plots

    line_plots.save(figure(placed), path)


def figure(placed: Sequence[Placement]):
    """The paper's four lines (its Figure 1: the three areas and overall) as a grid, the paper's
    models named, each model of ``placed`` on its lines (``line_plots``)."""
    from . import line_plots

    panels = []
    for li in paper_lines():
        if li.benchmark != AVERAGE:
            continue
        rows = paper_table(li.area)[1] if li.left_out else {}
        corpus = 'cc, python, arxiv_math (mean)' if li.area == OVERALL else AREA_CORPUS[li.area]
        panels.append(
            line_plots.Panel(
                li,
                f'{li.area} average on {corpus}\nr = {li.fit["pearson"]:.3f}, n = {li.n}',
                'BPC (' + ('the mean of the three' if li.area == OVERALL else corpus) + ', the paper\'s)',
                [p for p in placed if p.line is li],
                [(m, rows[m]['BPC'], rows[m][li.benchmark]) for m in li.left_out],
            )
        )
    return line_plots.lines_figure(panels, 'the paper\'s models')
