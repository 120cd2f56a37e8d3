"""The paper's relation: benchmark score against BPC, fitted by a line, per area.

An area pairs one compression corpus with benchmark datasets. A model's area score is the
mean over the area's patterns of the mean of the datasets each pattern matches (so 57 MMLU
subsets weigh as one benchmark). Patterns are shell-style, matched against dataset
abbreviations; a corpus matches an abbreviation equal to it or ending in ``-<corpus>``.
"""

import csv
import fnmatch
import math
from typing import Dict, Optional, Sequence

import numpy as np

from .results import is_compression_result, main_score

DEFAULT_AREAS = {
    'knowledge': dict(corpus='cc', benchmarks=['mmlu', 'mmlu_*', 'lukaemon_mmlu_*',
                                               'triviaqa*', 'nq', 'nq_*']),
    'coding': dict(corpus='python', benchmarks=['*humaneval*', '*mbpp*']),
    'mathematics': dict(corpus='arxiv_math', benchmarks=['gsm8k*', 'math', 'math_*',
                                                         'theoremqa*']),
}
MIN_MODELS = 3


def corpus_matches(abbr: str, corpus: str) -> bool:
    return abbr == corpus or abbr.endswith('-' + corpus)


def area_points(results: Dict[str, Dict[str, dict]], areas: Dict[str, dict],
                scores: Optional[Dict[str, Dict[str, float]]] = None,
                metric: str = 'bpc') -> Dict[str, Dict[str, tuple]]:
    """``{area: {model: (bpc, score)}}`` for the models that have both.

    ``scores`` (``{model: {name: value}}``, e.g. from a CSV) adds benchmark scores; a name
    equal to an area's name is that area's score as given.
    """
    points = {}
    models = sorted(set(results) | set(scores or {}))
    for area, spec in areas.items():
        points[area] = {}
        for model in models:
            found = {d: r for d, r in results.get(model, {}).items()
                     if is_compression_result(r) and corpus_matches(d, spec['corpus'])}
            given = (scores or {}).get(model, {})
            score = given.get(area)
            if score is None:
                score = _area_score(results.get(model, {}), given, spec['benchmarks'])
            if len(found) == 1 and score is not None:
                points[area][model] = (next(iter(found.values()))[metric], score)
    return points


def _area_score(results: dict, given: dict, patterns: Sequence[str]) -> Optional[float]:
    values = {d: main_score(r) for d, r in results.items() if not is_compression_result(r)}
    values.update({name: v for name, v in given.items() if v is not None})
    per_pattern = []
    for pattern in patterns:
        matched = [v for d, v in values.items()
                   if v is not None and fnmatch.fnmatchcase(d.lower(), pattern.lower())]
        if matched:
            per_pattern.append(sum(matched) / len(matched))
    return sum(per_pattern) / len(per_pattern) if per_pattern else None


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
            fits[area] = dict(models=len(by_model), reason=(
                f'{len(by_model)} model(s) with both a BPC and a score; a fit needs at '
                f'least {MIN_MODELS}'))
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
            rows.append([area, areas[area]['corpus'], str(fit['models']), '-', '-', '-', '-',
                         f'no fit: {fit["reason"]}'])
        else:
            rows.append([area, areas[area]['corpus'], str(fit['models']),
                         f'{fit["slope"]:.3f}', f'{fit["intercept"]:.3f}',
                         f'{fit["pearson"]:.4f}', f'{fit["rmse"]:.3f}', ''])
    return header, rows


def plot_fits(points: Dict[str, Dict[str, tuple]], fits: Dict[str, dict], path: str,
              metric: str = 'bpc') -> None:
    """One panel per area: a point per model, labelled, and the fitted line where there is one."""
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
            ax.text(0.5, 0.5, fit['reason'], transform=ax.transAxes, ha='center',
                    fontsize=7, wrap=True)
        else:
            line = np.linspace(min(xs), max(xs), 2)
            ax.plot(line, fit['slope'] * line + fit['intercept'], color='tab:red')
            ax.set_title(f'{area}: r = {fit["pearson"]:.3f}, RMSE {fit["rmse"]:.2f}',
                         fontsize=10)
        ax.set_xlabel(metric.upper())
        ax.set_ylabel('score')
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def read_scores_csv(path: str) -> Dict[str, Dict[str, float]]:
    """``{model: {name: score}}`` from a CSV whose first column is ``model`` and whose other
    columns are benchmark names (dataset abbreviations) or area names; blank cells are gaps."""
    try:
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
    except OSError as err:
        raise ValueError(f'cannot read the scores CSV {path}: {err}') from err
    if not rows or 'model' not in rows[0]:
        raise ValueError(f'{path}: a scores CSV needs a header whose first column is `model`, '
                         f'then one column per benchmark or area, e.g. model,mmlu,humaneval')
    scores = {}
    for line, row in enumerate(rows, start=2):
        values = {}
        for name, cell in row.items():
            if name == 'model' or name is None or cell is None or not cell.strip():
                continue
            try:
                values[name] = float(cell)
            except ValueError:
                raise ValueError(f'{path}, line {line}: {name}={cell!r} is not a number') from None
        scores[row['model']] = values
    return scores


def check_areas(areas: Dict[str, dict]) -> Dict[str, dict]:
    """The mapping itself, or a ValueError naming what is wrong with it."""
    example = '{"coding": {"corpus": "python", "benchmarks": ["*humaneval*"]}}'
    if not isinstance(areas, dict) or not areas:
        raise ValueError(f'areas must map area names to settings, e.g. {example}')
    for area, spec in areas.items():
        if (not isinstance(spec, dict) or not isinstance(spec.get('corpus'), str)
                or not isinstance(spec.get('benchmarks'), (list, tuple))):
            raise ValueError(f'area {area!r} needs a "corpus" name and a "benchmarks" list of '
                             f'patterns, e.g. {example}')
    return areas
