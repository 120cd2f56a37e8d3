"""BPC over time: corpora of one kind from several periods, and which models compress the older
text better than their peers predict.

    periods (corpus_periods)  ──> table: each model's BPC per period, plot: BPC against period
    older vs the newest       ──> memorization check, leave one out:

For an older period and the newest, each model's older-period BPC (y) against its newest-period
BPC (x); each model is predicted from the line through the others (least squares, n - 1
points) with the 95% prediction interval (t with n - 3 degrees of freedom), and flagged when its
older-period BPC is below the interval: it compresses the older text better than the newer text
predicts, compared with its peers, which is what training on the older text does.

What a flag cannot say: that the model trained on this text. A corpus's topics drift between
periods, a model's domain mix can favour the older text's subjects, text like it (quotes,
mirrors, earlier versions) can have been read instead, and one model in twenty falls outside a
95% interval by chance. No flag does not clear a model either: when every model read the older
text, none stands out from its peers (the plot shows that as a bend shared by all).
"""

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from ..core.atomic_files import atomic_write
from .corpus_periods import CorpusInfo
from .paper_fits import prediction

MIN_MODELS = 4  # in common on two periods: each left out, a line through 3 others, 1 degree of freedom
FLAG = 'below the interval'
MEANING = [
    '- A flag: the model compresses the older text better than its BPC on the newest text '
    'predicts, compared with the other models (each model left out of the line it is predicted '
    'by). Training on the older text does that. So can other things: the corpus\'s topics drift '
    'between periods and one model\'s domain mix may favour the older ones, it may have read text '
    'like it rather than this text, and one model in twenty falls outside a 95% interval by '
    'chance. No flag does not clear a model: when all models read the older text none stands out '
    '(the plot then shows one bend shared by all).'
]


@dataclass(frozen=True)
class Check:
    """One model's older-period BPC against the line of the others (``low``/``high``: the 95%
    prediction interval, bits per character)."""

    kind: str
    older: CorpusInfo
    newest: CorpusInfo
    model: str
    x: float  # BPC on the newest period
    y: float  # BPC on the older period
    predicted: float
    low: float
    high: float
    others: int

    @property
    def flag(self) -> str:
        return FLAG if self.y < self.low else ''


@dataclass
class Series:
    """A kind's corpora in period order, each model's BPC on them, and the checks."""

    kind: str
    corpora: List[CorpusInfo]
    bpc: Dict[str, Dict[str, float]]  # {model: {abbr: bits}}
    checks: List[Check]


def series(
    infos: Sequence[CorpusInfo],
    bpc: Dict[str, Dict[str, float]],
    models: Sequence[str],
    measurements: Optional[Dict[str, object]] = None,
) -> Tuple[List[Series], List[str]]:
    """``(series, notes)``: for each kind with corpora from two or more periods, the periods in
    order and the memorization checks of each older period against the newest; a note for
    each corpus without a date, each overlap of periods, and each older period without enough
    models in common with the newest (``bpc``: ``{model: {abbr: bits}}``, usable BPCs only;
    ``measurements``: ``{abbr: settings}``, a kind whose corpora were measured with different
    windows is not compared over time)."""
    by_kind: Dict[str, List[CorpusInfo]] = {}
    for info in infos:
        if info.kind is not None:
            by_kind.setdefault(info.kind, []).append(info)
    found, notes = [], []
    for kind, corpora in by_kind.items():
        if len(corpora) < 2:
            continue
        undated = [c for c in corpora if c.period is None]
        notes += [
            f'{c.abbr}: left out of the {kind} corpora over time: {c.problem or "no period"}' for c in undated
        ]
        dated = sorted((c for c in corpora if c.period is not None), key=lambda c: (c.period, c.abbr))
        if len(dated) < 2:
            if undated:
                notes.append(f'no {kind} corpora over time: fewer than two of them have a period')
            continue
        windows = {c.abbr: (measurements or {}).get(c.abbr) for c in dated}
        differ = [c for c in dated if windows[c.abbr] != windows[dated[0].abbr]]
        if differ:
            notes.append(
                f'no {kind} corpora over time: {dated[0].abbr} was measured with {windows[dated[0].abbr]}, '
                f'{differ[0].abbr} with {windows[differ[0].abbr]}; BPCs of different windows are not '
                'compared: measure every period with one setting'
            )
            continue
        clash = next(((a, b) for a, b in zip(dated, dated[1:]) if a.period.overlaps(b.period)), None)
        if clash:
            a, b = clash
            notes.append(
                f'no {kind} corpora over time: {a.abbr} ({a.period.first} to {a.period.last}) and '
                f'{b.abbr} ({b.period.first} to {b.period.last}) overlap. Build one corpus per '
                'period (llmcompression-corpus --after/--before, or --split-by), so that each '
                'document is in one period'
            )
            continue
        checks = []
        newest = dated[-1]
        for older in dated[:-1]:
            common = [m for m in models if older.abbr in bpc.get(m, {}) and newest.abbr in bpc.get(m, {})]
            if len(common) < MIN_MODELS:
                which = f' ({", ".join(common)})' if common else ''
                notes.append(
                    f'{older.abbr} ({older.period.label}) against {newest.abbr} '
                    f'({newest.period.label}): {len(common) or "no"} model(s) measured on both{which}; '
                    f'the check needs at least {MIN_MODELS}: measure the same models on every period'
                )
                continue
            checks += leave_one_out(
                kind, older, newest, {m: (bpc[m][newest.abbr], bpc[m][older.abbr]) for m in common}
            )
        found.append(Series(kind, dated, {m: dict(bpc.get(m, {})) for m in models}, checks))
    return found, notes


def leave_one_out(
    kind: str, older: CorpusInfo, newest: CorpusInfo, points: Dict[str, Tuple[float, float]]
) -> List[Check]:
    """Each model of ``points`` (``{model: (newest BPC, older BPC)}``) against the line through
    the others; a model whose others all share one newest BPC gets no check."""
    checks = []
    for model, (x, y) in points.items():
        others = [p for m, p in points.items() if m != model]
        xs, ys = [p[0] for p in others], [p[1] for p in others]
        if len(set(xs)) < 2:
            continue
        predicted, low, high = prediction(xs, ys, x)
        checks.append(Check(kind, older, newest, model, x, y, predicted, low, high, len(others)))
    return checks


def bpc_table(s: Series, models: Sequence[str]):
    """``(header, rows)``: a row per model with a BPC on one of the periods, a column each."""
    header = ['model'] + [f'{c.period.label} ({c.abbr})' for c in s.corpora]
    rows = []
    for model in models:
        values = [s.bpc.get(model, {}).get(c.abbr) for c in s.corpora]
        if any(v is not None for v in values):
            rows.append([model] + ['-' if v is None else f'{v:.4f}' for v in values])
    return header, rows


def long_rows(s: Series, models: Sequence[str]) -> List[List[str]]:
    """``kind, corpus, first, last, model, bpc`` per model and period."""
    return [
        [
            s.kind,
            c.abbr,
            c.period.first.isoformat(),
            c.period.last.isoformat(),
            model,
            f'{s.bpc[model][c.abbr]:.6f}',
        ]
        for c in s.corpora
        for model in models
        if c.abbr in s.bpc.get(model, {})
    ]


LONG_HEADER = ['kind', 'corpus', 'first', 'last', 'model', 'bpc']
CHECK_HEADER = [
    'kind',
    'older',
    'newest',
    'model',
    'bpc_newest',
    'bpc_older',
    'predicted_older',
    'pi_low',
    'pi_high',
    'others',
    'flag',
]


def check_rows(checks: Sequence[Check]) -> List[List[str]]:
    return [
        [
            c.kind,
            c.older.abbr,
            c.newest.abbr,
            c.model,
            f'{c.x:.6f}',
            f'{c.y:.6f}',
            f'{c.predicted:.6f}',
            f'{c.low:.6f}',
            f'{c.high:.6f}',
            str(c.others),
            c.flag,
        ]
        for c in checks
    ]


def check_table(checks: Sequence[Check]):
    """``(header, rows)`` for the report."""
    header = [
        'model',
        'older period',
        'BPC older',
        'predicted from the others',
        '95% prediction interval',
        'flag',
    ]
    rows = [
        [
            c.model,
            f'{c.older.period.label} vs {c.newest.period.label}',
            f'{c.y:.4f}',
            f'{c.predicted:.4f}',
            f'{c.low:.4f} to {c.high:.4f}',
            c.flag,
        ]
        for c in checks
    ]
    return header, rows


def plot(all_series: Sequence[Series], models: Sequence[str], path: str) -> None:
    """One panel per kind: BPC against the middle of each period (ticks named by period), a
    line per model named at its newest point, flagged models' older points circled in red;
    written whole or not at all."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from .corpus_periods import KIND_AREA
    from .plot_labels import Label, place_labels

    figure, axes = plt.subplots(
        1, len(all_series), figsize=(6.4 * len(all_series), 4.4), dpi=110, squeeze=False
    )
    colours = {m: plt.get_cmap('tab10')(i % 10) for i, m in enumerate(models)}
    labels = {}
    for ax, s in zip(axes[0], all_series):
        middle = {c.abbr: c.period.first + (c.period.last - c.period.first) / 2 for c in s.corpora}
        labels[id(ax)] = []
        for model in models:
            points = [
                (middle[c.abbr], s.bpc[model][c.abbr]) for c in s.corpora if c.abbr in s.bpc.get(model, {})
            ]
            if points:
                ax.plot(*zip(*points), marker='o', color=colours[model], linewidth=1)
                x, y = points[-1]
                labels[id(ax)].append(Label(matplotlib.dates.date2num(x), y, model, colours[model], 8))
        for c in s.checks:
            if c.flag:
                ax.scatter([middle[c.older.abbr]], [c.y], s=160, facecolors='none', edgecolors='tab:red')
        ax.set_title(
            f'{s.kind} corpora ({KIND_AREA.get(s.kind, "unknown area")}): BPC by period\n'
            '(red circle: flagged by the memorization check)',
            fontsize=10,
        )
        ax.set_xticks([middle[c.abbr] for c in s.corpora], [c.period.label for c in s.corpora], fontsize=8)
        ax.tick_params(axis='y', labelsize=8)
        ax.set_xlabel('period of the corpus\'s documents', fontsize=9)
        ax.set_ylabel('BPC', fontsize=9)
        low, high = ax.get_xlim()
        ax.set_xlim(low, high + 0.35 * (high - low))  # room for the names
    figure.tight_layout()
    for ax in axes[0]:
        ax.set_autoscale_on(False)
        place_labels(ax, labels.get(id(ax), []))
    with atomic_write(path, 'wb') as f:
        figure.savefig(f, format='png', dpi=110)
    plt.close(figure)
