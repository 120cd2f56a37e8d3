"""A run's models on the paper's lines: what their BPC predicts, beside what they scored.

Only a BPC measured the paper's way is placed (``paper_reference.measurement_problems``): the
BPC scale depends on the corpus and the window, so any other abbr gets a reason, not a
prediction.
"""

from typing import Dict, List, Optional, Sequence, Tuple

from ..core.atomic_files import atomic_write
from ..core.settings import MeasurementSettings
from .benchmark_scores import Scores, benchmark_scores
from .leaderboard import chars_unseen
from .paper_fits import (
    AREA_CORPUS,
    AVERAGE,
    LEVEL,
    OVERALL,
    SCALE,
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


def draw_placed(ax, ours: Sequence[Placement], colours: Dict[str, object], label_at_measured: bool) -> None:
    """Each model of ``ours`` on a panel of a line, in its colour: at the line's prediction
    with its interval (a hollow circle; a triangle at the scale's end where the line is past
    it) and at its measured score (a star), named beside the star (``label_at_measured``,
    where there is one) or the circle."""
    for p in ours:
        colour = colours[p.model]
        ax.errorbar(
            [p.bpc],
            [p.predicted],
            yerr=[[p.predicted - p.low], [p.high - p.predicted]],
            fmt=('v' if p.line_value < 0 else '^') if p.past_scale else 'o',
            mfc='none',
            color=colour,
            capsize=3,
        )
        if p.measured is not None:
            ax.scatter([p.bpc], [p.measured], color=colour, marker='*', s=90)
        at = p.measured if label_at_measured and p.measured is not None else p.predicted
        ax.annotate(p.model, (p.bpc, at), fontsize=7, color=colour, xytext=(4, 4), textcoords='offset points')


def plot(placed: Sequence[Placement], path: str) -> None:
    """The paper's four scatter plots (its Figure 1: the three areas and overall) with their
    lines and 95% prediction bands (models a line leaves out hollow); each model of ``placed``
    in its own colour, at its measured score (a star) and at the line's prediction with its
    interval (a hollow circle), written to ``path`` whole or not at all."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    averages = [li for li in paper_lines() if li.benchmark == AVERAGE]
    models = list(dict.fromkeys(p.model for p in placed))
    colours = {m: plt.get_cmap('tab10')(i % 10) for i, m in enumerate(models)}
    figure, axes = plt.subplots(1, len(averages), figsize=(4.6 * len(averages), 4.2))
    for ax, li in zip(axes, averages):
        xs = [p[1] for p in li.points]
        ours = [p for p in placed if p.line is li]
        low = min(xs + [p.bpc for p in ours])
        high = max(xs + [p.bpc for p in ours])
        grid = np.linspace(low - 0.01, high + 0.01, 50)
        bands = np.clip([li.predict(x) for x in grid], *SCALE)
        ax.fill_between(
            grid,
            bands[:, 1],
            bands[:, 2],
            color='tab:red',
            alpha=0.12,
            label=f'{LEVEL:.0%} prediction interval',
        )
        ax.plot(grid, bands[:, 0], color='tab:red', linewidth=1)
        ax.scatter(xs, [p[2] for p in li.points], color='grey', s=14, label='the paper\'s models')
        if li.left_out:
            _, rows = paper_table(li.area)
            ax.scatter(
                [rows[m]['BPC'] for m in li.left_out],
                [rows[m][li.benchmark] for m in li.left_out],
                facecolors='none',
                edgecolors='grey',
                s=14,
                label='left out of the fit',
            )
            ax.legend(fontsize=7, loc='upper right')
        draw_placed(ax, ours, colours, label_at_measured=True)
        corpus = 'mean of the three' if li.area == OVERALL else AREA_CORPUS[li.area]
        ax.set_title(f'{li.area}: r = {li.fit["pearson"]:.3f}, n = {li.n}', fontsize=10)
        ax.set_xlabel(f'BPC ({corpus})')
        ax.set_ylabel('average score (%)')
    axes[0].legend(fontsize=7, loc='upper right')
    figure.tight_layout()
    with atomic_write(path, 'wb') as f:
        figure.savefig(f, format='png', dpi=120)
    plt.close(figure)
