"""Lines of benchmark score against BPC through the paper's models: the paper's own (its BPCs) and
those anchored on a run's corpus (the run's BPCs of the paper's models, the paper's scores).

Source: "Compression Represents Intelligence Linearly" (Huang, Zhang, Shan, He; COLM 2024;
arXiv 2404.09937v2), Appendix B, Tables 4, 6, 8 (shipped beside this file as
``paper_{knowledge,coding,mathematics}.csv``) and the fits it reports in Tables 5, 7, 9 and
Figure 1. Scores are in percent everywhere, as OpenCompass and the paper's tables report them:
slopes in percent per BPC, intercepts, RMSE and predictions in percent (the paper prints its RMSE
on the 0-1 scale: its 0.019 is 1.9 here).

    score(x) = slope * x + intercept      (least squares over the paper's models)
    95% prediction interval at x0:
        score(x0) +- t(0.975, n-2) * s * sqrt(1 + 1/n + (x0 - mean(x))^2 / Sxx)
    s^2 = sum(residual^2) / (n - 2)       (the spread of models around the line)

The printed figures need two choices (docs/paper_lines.md):
mathematics leaves out Qwen-7b, Qwen-14b and Qwen-72b, except for MMLU-Math; the overall line
is the mean of a model's three area averages against the mean of its three BPCs, over the 19
models with all three areas.
"""

import csv
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .benchmark_scores import AVERAGE, OVERALL
from .linear_fit import fit_line

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = (
    '"Compression Represents Intelligence Linearly" (Huang et al., COLM 2024, '
    'arXiv 2404.09937v2), Appendix B, Tables 4, 6, 8'
)
AREA_CORPUS = {'knowledge': 'cc', 'coding': 'python', 'mathematics': 'arxiv_math'}
LEVEL = 0.95
QWEN = ('Qwen-7b', 'Qwen-14b', 'Qwen-72b')
LEFT_OUT = {('mathematics', name): QWEN for name in ('GSM8K', 'MATH', 'SAT-Math', AVERAGE)}
# (Pearson rho, RMSE on the 0-1 scale) as printed: Tables 5, 7, 9 and Figure 1 (left);
# ``Line.reported`` gives the RMSE in percent.
REPORTED = {
    ('knowledge', 'HellaSwag'): (-0.881, 0.016),
    ('knowledge', 'ARC-C'): (-0.913, 0.023),
    ('knowledge', 'NQ'): (-0.925, 0.023),
    ('knowledge', 'TriviaQA'): (-0.951, 0.022),
    ('knowledge', 'MMLU'): (-0.890, 0.021),
    ('knowledge', AVERAGE): (-0.935, 0.019),
    ('coding', 'HumanEval'): (-0.903, 0.050),
    ('coding', 'MBPP'): (-0.916, 0.055),
    ('coding', 'DS-1000'): (-0.946, 0.032),
    ('coding', AVERAGE): (-0.937, 0.040),
    ('mathematics', 'GSM8K'): (-0.922, 0.068),
    ('mathematics', 'MATH'): (-0.899, 0.033),
    ('mathematics', 'SAT-Math'): (-0.933, 0.044),
    ('mathematics', 'MMLU-Math'): (-0.916, 0.022),
    ('mathematics', AVERAGE): (-0.953, 0.031),
    (OVERALL, AVERAGE): (-0.931, 0.031),
}


@lru_cache(maxsize=None)
def paper_table(area: str) -> Tuple[Tuple[str, ...], Dict[str, Dict[str, float]]]:
    """``(benchmarks, {model: {benchmark: score in %, 'Average': %, 'BPC': bits}})`` of one
    area's table (``benchmarks`` in the paper's column order, without Average and BPC)."""
    with open(os.path.join(HERE, f'paper_{area}.csv'), encoding='utf-8') as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith('#')))
    benchmarks = tuple(k for k in rows[0] if k not in ('model', AVERAGE, 'BPC'))
    return benchmarks, {r['model']: {k: float(v) for k, v in r.items() if k != 'model'} for r in rows}


def benchmarks_of(area: str) -> Tuple[str, ...]:
    return paper_table(area)[0]


MIN_POINTS = 4  # a line's fewest models: n - 2 = 2 degrees of freedom for its interval
PAPER_LINE = 'the paper\'s own line'


@dataclass(frozen=True)
class Line:
    """One line: ``score = slope * bpc + intercept``, scores in percent, fitted on the paper's
    models (its ``anchors``).

    ``area`` is knowledge, coding, mathematics or overall; ``benchmark`` one of the area's
    benchmarks or ``Average``; ``points`` ``(model, bpc, score in %)``, the score always the one
    the paper publishes (Appendix B) and the BPC the paper's (``corpus`` one of its corpora,
    ``anchored`` False) or a run's on ``corpus``, a dataset abbr (``anchored`` True);
    ``left_out`` the models of the table the line leaves out (the same for both kinds).
    """

    area: str
    benchmark: str
    points: Tuple[Tuple[str, float, float], ...]  # (model, bpc, score in %)
    left_out: Tuple[str, ...] = ()
    corpus: str = ''
    anchored: bool = False

    @property
    def n(self) -> int:
        return len(self.points)

    @cached_property
    def fit(self) -> dict:
        """``fit_line``'s slope (% per BPC), intercept (%), pearson and rmse (%; residuals over n,
        as the paper)."""
        return fit_line([p[1] for p in self.points], [p[2] for p in self.points])

    @property
    def reported(self) -> Tuple[float, float]:
        """The paper's printed (rho, RMSE in percent) for this area and benchmark."""
        rho, rmse = REPORTED[(self.area, self.benchmark)]
        return rho, 100 * rmse

    @property
    def kind(self) -> str:
        """``anchored on N models of the paper`` or ``the paper's own line``."""
        return f'anchored on {self.n} models of the paper' if self.anchored else PAPER_LINE

    @property
    def bpc_range(self) -> Tuple[float, float]:
        return min(p[1] for p in self.points), max(p[1] for p in self.points)

    def predict(self, bpc: float) -> Tuple[float, float, float]:
        """``(score, low, high)`` in percent at ``bpc``: the line and its 95% prediction
        interval (the spread of models around the line, not the uncertainty of the mean), as
        the straight line gives them: possibly past 0-100 (``Placement`` keeps them on it)."""
        return prediction([p[1] for p in self.points], [p[2] for p in self.points], bpc, self.fit)


def prediction(xs: Sequence[float], ys: Sequence[float], x0: float, fit: Optional[dict] = None):
    """``(y0, low, high)`` at ``x0``, in the units of ``ys``, for the least-squares line through
    ``(xs, ys)`` (``fit``: its ``fit_line``, when already computed): the 95% prediction interval
    of one new point, ``t(0.975, n - 2) * s * sqrt(1 + 1/n + (x0 - mean)^2 / Sxx)``, ``n >= 3``."""
    from scipy.stats import t

    x = np.asarray(xs, dtype=float)
    n = len(x)
    fit = fit or fit_line(xs, ys)
    spread = fit['rmse'] * np.sqrt(n / (n - 2))
    half = (
        t.ppf(0.5 + LEVEL / 2, n - 2)
        * spread
        * np.sqrt(1 + 1 / n + (x0 - x.mean()) ** 2 / ((x - x.mean()) ** 2).sum())
    )
    score = fit['slope'] * x0 + fit['intercept']
    return score, score - half, score + half


def area_line(area: str, benchmark: str, bpc: Dict[str, float], corpus: str, anchored: bool = True) -> Line:
    """The line of ``benchmark`` (or ``Average``) of ``area`` through the paper's models of
    ``bpc`` (``{model as the paper names it: bits}``), in the table's order, their scores the
    paper's, the models the paper's fit leaves out (``LEFT_OUT``) left out."""
    left_out = LEFT_OUT.get((area, benchmark), ())
    _, rows = paper_table(area)
    return Line(
        area,
        benchmark,
        tuple(
            (model, bpc[model], row[benchmark])
            for model, row in rows.items()
            if model in bpc and model not in left_out
        ),
        left_out,
        corpus,
        anchored,
    )


def overall_line(bpc: Dict[str, Tuple[float, float, float]], corpus: str, anchored: bool = True) -> Line:
    """The overall line: the mean of a model's three area averages against the mean of its
    three BPCs (``bpc``: ``{model: (knowledge, coding, mathematics) bits}``), over the models
    in all three tables, in Table 4's order."""
    tables = {area: paper_table(area)[1] for area in AREA_CORPUS}
    models = [m for m in tables['knowledge'] if m in bpc and all(m in rows for rows in tables.values())]
    return Line(
        OVERALL,
        AVERAGE,
        tuple(
            (m, float(np.mean(bpc[m])), float(np.mean([tables[a][m][AVERAGE] for a in tables])))
            for m in models
        ),
        (),
        corpus,
        anchored,
    )


def area_lines(area: str, bpc: Dict[str, float], corpus: str, anchored: bool = True) -> List[Line]:
    """Each benchmark's line of ``area``, then its average's."""
    return [area_line(area, name, bpc, corpus, anchored) for name in benchmarks_of(area) + (AVERAGE,)]


@lru_cache(maxsize=None)
def paper_lines() -> Tuple[Line, ...]:
    """Every line the paper reports: each area's benchmarks and average, then overall; lines
    whose BPCs the paper measured."""
    lines = []
    for area, corpus in AREA_CORPUS.items():
        measured = {model: row['BPC'] for model, row in paper_table(area)[1].items()}
        lines += area_lines(area, measured, corpus, anchored=False)
    tables = {area: paper_table(area)[1] for area in AREA_CORPUS}
    both = {
        m: tuple(tables[a][m]['BPC'] for a in AREA_CORPUS)
        for m in tables['knowledge']
        if all(m in t for t in tables.values())
    }
    return tuple(lines + [overall_line(both, ', '.join(AREA_CORPUS.values()), anchored=False)])


def line(area: str, benchmark: str = AVERAGE) -> Line:
    """The paper's own line of ``area`` and ``benchmark``."""
    return next(li for li in paper_lines() if (li.area, li.benchmark) == (area, benchmark))


def lines_table():
    """``(header, rows)``: each line's fit beside the paper's printed figures, in percent."""
    header = [
        'area',
        'benchmark',
        'n',
        'slope (% per BPC)',
        'intercept (%)',
        'r',
        'RMSE (%)',
        'paper rho',
        'paper RMSE (%)',
        'left out',
    ]
    rows = [
        [
            li.area,
            li.benchmark,
            str(li.n),
            f'{li.fit["slope"]:.2f}',
            f'{li.fit["intercept"]:.2f}',
            f'{li.fit["pearson"]:.4f}',
            f'{li.fit["rmse"]:.2f}',
            f'{li.reported[0]:.3f}',
            f'{li.reported[1]:.1f}',
            ', '.join(li.left_out),
        ]
        for li in paper_lines()
    ]
    return header, rows


SCALE = (0.0, 100.0)  # a score's scale, in percent


@dataclass(frozen=True)
class Placement:
    """A model of a run on one of the paper's lines (scores in percent).

    ``line_value``, ``line_low``, ``line_high``: the line at ``bpc`` and its 95% prediction
    interval as the straight line gives them, which far from the paper's models can reach past
    the score's scale; ``predicted``, ``low`` and ``high`` are the same kept on it (0-100).
    Where the line itself is past the scale (``past_scale``), the prediction does not apply:
    no gap and no flag."""

    model: str
    line: Line
    bpc: float
    line_value: float
    line_low: float
    line_high: float
    measured: Optional[float] = None

    @property
    def predicted(self) -> float:
        return min(max(self.line_value, SCALE[0]), SCALE[1])

    @property
    def low(self) -> float:
        return min(max(self.line_low, SCALE[0]), SCALE[1])

    @property
    def high(self) -> float:
        return min(max(self.line_high, SCALE[0]), SCALE[1])

    @property
    def past_scale(self) -> bool:
        """The line itself is outside 0-100 at this BPC: it predicts no score there."""
        return not SCALE[0] <= self.line_value <= SCALE[1]

    @property
    def scale_note(self) -> str:
        """What was kept on the scale, or ``''``."""
        if self.past_scale:
            return (
                f'the line reaches {self.line_value:.1f}% here, past the 0-100 scale: no prediction '
                'applies (shown at the scale\'s end)'
            )
        if self.line_low < SCALE[0] or self.line_high > SCALE[1]:
            return (
                f'the interval reaches past the 0-100 scale ({self.line_low:.1f} to '
                f'{self.line_high:.1f}): cut at its end'
            )
        return ''

    @property
    def gap(self) -> Optional[float]:
        """(measured - predicted) in units of the line's RMSE, or None without a score or a
        prediction."""
        if self.measured is None or self.past_scale:
            return None
        return (self.measured - self.predicted) / self.line.fit['rmse']

    @property
    def flag(self) -> str:
        if self.measured is None or self.past_scale:
            return ''
        if self.measured > self.high:
            return 'above the interval'
        return 'below the interval' if self.measured < self.low else ''

    @property
    def outside_fitted_range(self) -> bool:
        low, high = self.line.bpc_range
        return not low <= self.bpc <= high


def place(
    model: str,
    bpc: Dict[str, float],
    measured: Dict[Tuple[str, str], float],
    lines: Optional[Sequence[Line]] = None,
) -> List[Placement]:
    """The model on every line of ``lines`` (default: the paper's own) its BPC allows, in
    their order.

    ``bpc``: ``{area: bits}`` on the lines' corpora (the overall line needs all three);
    ``measured``: ``{(area, benchmark): score in %}``, ``Average`` for an area's own score and
    ``('overall', 'Average')`` for the overall one."""
    placed = []
    for li in paper_lines() if lines is None else lines:
        if li.area == OVERALL and not set(AREA_CORPUS) - set(bpc):
            x = float(np.mean([bpc[a] for a in AREA_CORPUS]))
        elif li.area in bpc:
            x = bpc[li.area]
        else:
            continue
        placed.append(Placement(model, li, x, *li.predict(x), measured=measured.get((li.area, li.benchmark))))
    return placed
