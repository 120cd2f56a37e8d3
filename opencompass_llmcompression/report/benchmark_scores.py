"""Benchmark scores of a run's models, grouped into the paper's areas.

An area pairs a compression corpus with named benchmarks, each a list of shell-style patterns
matched (case-insensitively) against OpenCompass dataset abbreviations. The default follows
Table 3 of "Compression Represents Intelligence Linearly" (arXiv 2404.09937v2), on the
abbreviations of OpenCompass's own configs and of this plugin's suite:

    knowledge   (cc)          HellaSwag, ARC-C, NQ, TriviaQA, MMLU (cloze style);
                              and OpenCompass's MMLU with options shown, which has no line
    coding      (python)      HumanEval, MBPP, DS-1000
    mathematics (arxiv_math)  GSM8K, MATH, SAT-Math (AGIEval), MMLU-Math (cloze style)

A benchmark's score is the mean of the datasets its patterns match (57 MMLU subjects weigh as
one benchmark); an area's score is the mean of its benchmarks that have one. Scores are in
percent, as OpenCompass reports them.
"""

import csv
import fnmatch
from typing import Dict, List, Optional

from .results import is_compression_result, main_score

DEFAULT_AREAS = {
    'knowledge': dict(
        corpus='cc',
        benchmarks={
            'HellaSwag': ['hellaswag'],
            'ARC-C': ['ARC-c', 'ARC-c-test_*shot'],
            'NQ': ['nq', 'nq_*shot'],
            'TriviaQA': ['triviaqa', 'triviaqa_*shot', 'triviaqa_wiki_*'],
            'MMLU': ['mmlu_cloze-*'],  # the paper's: the question alone (cloze style)
            # OpenCompass's own MMLU shows the options: not the paper's MMLU (its Figure 10 finds
            # it far less tied to BPC, rho -0.66), so it has no line of the paper; it still counts
            # in a line through the run's own models
            'MMLU (usual style)': ['lukaemon_mmlu_*'],
        },
    ),
    'coding': dict(
        corpus='python',
        benchmarks={
            'HumanEval': ['openai_humaneval'],
            'MBPP': ['mbpp', 'sanitized_mbpp'],
            'DS-1000': ['ds1000_*'],
        },
    ),
    'mathematics': dict(
        corpus='arxiv_math',
        benchmarks={
            'GSM8K': ['gsm8k', 'gsm8k_*shot'],
            'MATH': ['math'],
            'SAT-Math': ['agieval-sat-math'],
            'MMLU-Math': ['mmlu_math_cloze'],
        },
    ),
}
OVERALL, AVERAGE = 'overall', 'Average'  # the overall line; an area's own score
Scores = Dict[str, Dict[str, float]]  # {model: {benchmark, dataset abbr or area: percent}}


def named_benchmarks(spec: dict) -> Dict[str, List[str]]:
    """``{benchmark: patterns}`` of an area; a plain list of patterns names each by itself."""
    benchmarks = spec['benchmarks']
    if isinstance(benchmarks, dict):
        return {name: list(patterns) for name, patterns in benchmarks.items()}
    return {pattern: [pattern] for pattern in benchmarks}


def check_areas(areas: Dict[str, dict]) -> Dict[str, dict]:
    """The mapping itself, or a ValueError naming what is wrong with it."""
    example = '{"coding": {"corpus": "python", "benchmarks": {"HumanEval": ["*humaneval*"]}}}'
    if not isinstance(areas, dict) or not areas:
        raise ValueError(f'areas must map area names to settings, e.g. {example}')
    for area, spec in areas.items():
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get('corpus'), str)
            or not isinstance(spec.get('benchmarks'), (list, tuple, dict))
        ):
            raise ValueError(
                f'area {area!r} needs a "corpus" name and "benchmarks": a list of '
                f'patterns or a mapping of names to patterns, e.g. {example}'
            )
    return areas


def _matches(name: str, patterns: List[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), p.lower()) for p in patterns)


def benchmark_scores(
    results: Dict[str, dict], given: Dict[str, float], areas: Dict[str, dict]
) -> Dict[str, Dict[str, float]]:
    """``{area: {benchmark: percent}}`` of one model: its run's results (``{abbr: result}``)
    and ``given`` scores (a scores CSV's row: benchmark names, dataset abbreviations or area
    names), a given benchmark name overriding the run's datasets; plus each area's score
    under ``AVERAGE`` (given as the area's name, or the mean of its benchmarks), and
    ``{'overall': {'Average': mean of the three areas}}`` when all three have one."""
    values = {d: main_score(r) for d, r in results.items() if not is_compression_result(r)}
    values.update(given)
    lowered = {name.lower(): v for name, v in given.items()}
    found = {}
    for area, spec in areas.items():
        per = {}
        for name, patterns in named_benchmarks(spec).items():
            matched = [v for d, v in values.items() if v is not None and _matches(d, patterns)]
            if name.lower() in lowered:
                per[name] = lowered[name.lower()]
            elif matched:
                per[name] = sum(matched) / len(matched)
        if area.lower() in lowered:
            per[AVERAGE] = lowered[area.lower()]
        elif per:
            per[AVERAGE] = sum(per.values()) / len(per)
        if per:
            found[area] = per
    averages = [found[a][AVERAGE] for a in DEFAULT_AREAS if a in found]
    if OVERALL in lowered:
        found[OVERALL] = {AVERAGE: lowered[OVERALL]}
    elif len(averages) == len(DEFAULT_AREAS):
        found[OVERALL] = {AVERAGE: sum(averages) / len(averages)}
    return found


def read_scores_csv(path: str, areas: Optional[Dict[str, dict]] = None) -> Scores:
    """``{model: {name: percent}}`` from a CSV whose first column is ``model`` and whose other
    columns are benchmark names, dataset abbreviations or area names of ``areas`` (default:
    the paper's); blank cells are gaps. A cell may end in ``%``.

    Raises ValueError naming the line or column and the fix for: no ``model`` column, a cell
    that is not a number, an unknown column name, a model listed twice, a score outside
    0-100, and scores that look like fractions (all within 0-1, or one column so while the
    others are percentages; write ``0.5%`` for a score that truly is below 1%)."""
    try:
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f'cannot read the scores CSV {path}: {err}') from err
    if not rows or 'model' not in rows[0]:
        raise ValueError(
            f'{path}: a scores CSV needs a header whose first column is `model`, '
            f'then one column per benchmark or area, e.g. model,MMLU,HumanEval'
        )
    _check_names(
        path, [n for n in rows[0] if n not in ('model', None)], areas if areas is not None else DEFAULT_AREAS
    )
    scores, lines, marked = {}, {}, set()
    for line, row in enumerate(rows, start=2):
        model = (row.get('model') or '').strip()
        if model in lines:
            raise ValueError(
                f'{path}, line {line}: model {model!r} is listed twice (lines '
                f'{lines[model]} and {line}); keep one row per model'
            )
        lines[model] = line
        values = {}
        for name, cell in row.items():
            if name == 'model' or name is None or cell is None or not cell.strip():
                continue
            text = cell.strip()
            try:
                values[name] = float(text.rstrip('%'))
            except ValueError:
                raise ValueError(f'{path}, line {line}: {name}={cell!r} is not a number') from None
            if text.endswith('%'):
                marked.add((model, name))
            if not 0 <= values[name] <= 100:
                raise ValueError(
                    f'{path}, line {line}: {name}={cell!r} is not a percentage; '
                    'scores are percent, from 0 to 100, as OpenCompass reports '
                    'them'
                )
        scores[model] = values
    _check_scale(path, scores, marked)
    return scores


def _check_names(path: str, names: List[str], areas: Dict[str, dict]) -> None:
    known = {OVERALL} | {a.lower() for a in areas}
    patterns = []
    for spec in areas.values():
        for name, pats in named_benchmarks(spec).items():
            known.add(name.lower())
            patterns += pats
    unknown = [n for n in names if n.lower() not in known and not _matches(n, patterns)]
    if unknown:
        benchmarks = ', '.join(n for spec in areas.values() for n in named_benchmarks(spec))
        raise ValueError(
            f'{path}: unknown benchmark name(s) {", ".join(map(repr, unknown))}. A column is a '
            f'benchmark ({benchmarks}), an area ({", ".join(areas)}, {OVERALL}) or an '
            'OpenCompass dataset abbreviation that an area\'s patterns match (e.g. '
            'openai_humaneval, mmlu_cloze-anatomy). Rename the column, or pass areas= '
            '(--areas) that name it'
        )


def _check_scale(path: str, scores: Scores, marked: set) -> None:
    columns: Dict[str, List[float]] = {}
    for model, values in scores.items():
        for name, value in values.items():
            if (model, name) not in marked:
                columns.setdefault(name, []).append(value)
    fractional = sorted(
        n for n, vs in columns.items() if all(v <= 1 for v in vs) and any(0 < v < 1 for v in vs)
    )
    if not fractional:
        return
    if len(fractional) == len(columns):
        raise ValueError(
            f'{path}: every score lies between 0 and 1; scores are percentages '
            '(OpenCompass reports 45.3, not 0.453): multiply them by 100'
        )
    raise ValueError(
        f'{path}: column(s) {", ".join(fractional)} lie between 0 and 1 while '
        'the others are percentages: multiply them by 100 (or, for a score that '
        'really is below 1%, write it as e.g. 0.5%)'
    )
