"""A line through the run's own models: area score against BPC (``benchmark_scores`` for
the areas), with Pearson r, RMSE and a plot. An area's corpus (``cc``) is measured by the abbr
equal to it or ending in ``-<corpus>`` (``llm_compression-cc``).
"""

import math
from typing import Dict, Optional, Sequence

import numpy as np

from ..core.atomic_files import atomic_write
from .benchmark_scores import AVERAGE, Scores, benchmark_scores
from .results import is_compression_result

MIN_MODELS = 3


def corpus_matches(abbr: str, corpus: str) -> bool:
    """Whether ``abbr`` measures ``corpus``: equal to it, or ending in ``-<corpus>``."""
    return abbr == corpus or abbr.endswith('-' + corpus)


def area_points(
    results: Dict[str, Dict[str, dict]],
    areas: Dict[str, dict],
    scores: Optional[Scores] = None,
    metric: str = 'bpc',
) -> Dict[str, Dict[str, tuple]]:
    """``{area: {model: (bpc, score)}}`` for the models that have both (``scores``: a scores
    CSV's ``{model: {name: percent}}``, see ``benchmark_scores``)."""
    points = {}
    models = sorted(set(results) | set(scores or {}))
    for area, spec in areas.items():
        points[area] = {}
        for model in models:
            found = {
                abbr: r
                for abbr, r in results.get(model, {}).items()
                if is_compression_result(r) and corpus_matches(abbr, spec['corpus'])
            }
            score = (
                benchmark_scores(results.get(model, {}), (scores or {}).get(model, {}), {area: spec})
                .get(area, {})
                .get(AVERAGE)
            )
            if len(found) == 1 and score is not None:
                points[area][model] = (next(iter(found.values()))[metric], score)
    return points


def fit_line(x: Sequence[float], y: Sequence[float]) -> dict:
    """Least-squares ``y = slope * x + intercept`` with Pearson r and the RMSE of residuals."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    dx, dy = x - x.mean(), y - y.mean()
    slope = float((dx * dy).sum() / (dx * dx).sum())
    intercept = float(y.mean() - slope * x.mean())
    denominator = math.sqrt(float((dx * dx).sum() * (dy * dy).sum()))
    pearson = float((dx * dy).sum()) / denominator if denominator else float('nan')
    rmse = float(np.sqrt(np.mean((y - (slope * x + intercept)) ** 2)))
    return dict(slope=slope, intercept=intercept, pearson=pearson, rmse=rmse, models=len(x))


def fit_areas(points: Dict[str, Dict[str, tuple]]) -> Dict[str, dict]:
    """A fit per area, or ``{'reason': ...}`` saying why there is none."""
    fits = {}
    for area, by_model in points.items():
        xs = [p[0] for p in by_model.values()]
        if len(by_model) < MIN_MODELS:
            fits[area] = dict(
                models=len(by_model),
                reason=(
                    f'{len(by_model)} model(s) with both a BPC and a score; a fit needs at least {MIN_MODELS}'
                ),
            )
        elif len(set(xs)) < 2:
            fits[area] = dict(models=len(by_model), reason='all models have the same BPC')
        else:
            fits[area] = fit_line(xs, [p[1] for p in by_model.values()])
    return fits


def fit_table(fits: Dict[str, dict], areas: Dict[str, dict]):
    header = ['area', 'corpus', 'models', 'slope', 'intercept', 'pearson r', 'rmse', 'note']
    rows = []
    for area, fit in fits.items():
        if 'reason' in fit:
            rows.append(
                [
                    area,
                    areas[area]['corpus'],
                    str(fit['models']),
                    '-',
                    '-',
                    '-',
                    '-',
                    f'no fit: {fit["reason"]}',
                ]
            )
        else:
            defined = math.isfinite(fit['pearson'])
            rows.append(
                [
                    area,
                    areas[area]['corpus'],
                    str(fit['models']),
                    f'{fit["slope"]:.3f}',
                    f'{fit["intercept"]:.3f}',
                    f'{fit["pearson"]:.4f}' if defined else '-',
                    f'{fit["rmse"]:.3f}',
                    '' if defined else 'r undefined: every model has the same score',
                ]
            )
    return header, rows


def plot_fits(
    points: Dict[str, Dict[str, tuple]], fits: Dict[str, dict], path: str, metric: str = 'bpc'
) -> None:
    """One panel per area: a point per model, labelled, and the fitted line where there is one;
    written to ``path`` whole or not at all."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(points), figsize=(4.5 * len(points), 4), squeeze=False)
    for ax, (area, by_model) in zip(axes[0], points.items()):
        xs = [p[0] for p in by_model.values()]
        ax.scatter(xs, [p[1] for p in by_model.values()], color='tab:blue')
        for model, (x, y) in by_model.items():
            ax.annotate(model, (x, y), fontsize=7, xytext=(3, 3), textcoords='offset points')
        fit = fits[area]
        if 'reason' in fit:
            ax.set_title(f'{area}: no fit', fontsize=10)
            ax.text(0.5, 0.5, fit['reason'], transform=ax.transAxes, ha='center', fontsize=7, wrap=True)
        else:
            line = np.linspace(min(xs), max(xs), 2)
            ax.plot(line, fit['slope'] * line + fit['intercept'], color='tab:red')
            r = f'{fit["pearson"]:.3f}' if math.isfinite(fit['pearson']) else 'undefined'
            ax.set_title(f'{area}: r = {r}, RMSE {fit["rmse"]:.2f}', fontsize=10)
        ax.set_xlabel(metric.upper())
        ax.set_ylabel('score')
    figure.tight_layout()
    with atomic_write(path, 'wb') as f:
        figure.savefig(f, format='png', dpi=120)
    plt.close(figure)
