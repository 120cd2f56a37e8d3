"""Lines anchored on a run's corpus: the paper's method on any text.

The paper (arXiv 2404.09937v2, Appendix B) publishes the benchmark scores of 28 models that
anyone can still run. Where a run measured at least ``MIN_POINTS`` of them on a corpus that is
not the paper's (or not measured the paper's way), their published scores against this run's
BPC on that corpus make the corpus's own line, and every other model of the run is placed on
it with its 95% prediction interval (t with n - 2 degrees of freedom):

    corpus kind (manifest)   area           line
    text                     knowledge      each benchmark and the average of Table 4
    code                     coding         ... of Table 6
    latex                    mathematics    ... of Table 8 (Qwen left out, as the paper's line)
    one of each              overall        mean of the three averages against mean of the three BPCs

An anchor is a model of the run whose name is a model of the paper's table
(``paper_reference.normalise``: ``meta-llama/Llama-2-7b-hf`` is ``Llama-2-7b``).
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .benchmark_scores import Scores, benchmark_scores
from .corpus_periods import CorpusInfo
from .leaderboard import chars_unseen
from .paper_fits import (
    AREA_CORPUS,
    AVERAGE,
    MIN_POINTS,
    OVERALL,
    Line,
    Placement,
    area_line,
    area_lines,
    benchmarks_of,
    line,
    overall_line,
    paper_table,
    place,
)
from .paper_predictions import complete_averages
from .paper_reference import normalise
from .results import is_compression_result

ANCHOR_CONFIG = 'llm_compression_anchors'


def anchor_names(area: str) -> Dict[str, str]:
    """``{normalised name: the paper's name}`` of the models of ``area``'s table."""
    return {normalise(model): model for model in paper_table(area)[1]}


@dataclass
class AnchoredCorpus:
    """A corpus's lines (``lines``: each benchmark's and the average's, in the paper's order)
    and its anchors (``{the paper's name: the run's model}``)."""

    abbr: str
    area: str
    info: CorpusInfo
    anchors: Dict[str, str]
    bpc: Dict[str, float]  # {the paper's name: this run's BPC}
    lines: List[Line] = field(default_factory=list)


def usable_bpc(result: Optional[dict]) -> Optional[float]:
    """A result's BPC, or None where it has none or was measured on text its tokenizer changed."""
    if not is_compression_result(result) or chars_unseen(result) is not None:
        return None
    return float(result['bpc'])


def find_anchors(
    results: Dict[str, Dict[str, dict]], models: Sequence[str], abbr: str, area: str
) -> Tuple[Dict[str, str], Dict[str, float], List[str]]:
    """``(anchors, bpc, notes)``: the run's models that are models of ``area``'s table and have
    a BPC on ``abbr``; a model of the paper listed twice counts once, its first model's BPC,
    with a note naming both."""
    names = anchor_names(area)
    anchors, bpc, twice = {}, {}, {}
    for model in models:
        name = names.get(normalise(model))
        value = usable_bpc(results.get(model, {}).get(abbr))
        if name is None or value is None:
            continue
        if name in anchors:
            twice.setdefault(name, [anchors[name]]).append(model)
            continue
        anchors[name], bpc[name] = model, value
    notes = [
        f'{abbr}: {name} is listed twice ({", ".join(found)}): it anchors the line once, with '
        f'{found[0]}\'s BPC ({bpc[name]:.4f}); keep one of them'
        for name, found in twice.items()
    ]
    return anchors, bpc, notes


def missing_anchors(area: str, have: Sequence[str], count: int = 6) -> str:
    """Some models of ``area``'s table the run lacks, in the table's order."""
    return ', '.join([m for m in paper_table(area)[1] if m not in have][:count])


def anchored_corpora(
    results: Dict[str, Dict[str, dict]], models: Sequence[str], infos: Sequence[CorpusInfo]
) -> Tuple[List[AnchoredCorpus], List[str]]:
    """``(corpora, notes)``: each corpus of ``infos`` (of a known kind) with its lines where it
    has at least ``MIN_POINTS`` anchors of distinct BPCs; a note per corpus without, saying
    what is missing and what to add, and per anchor listed twice."""
    found, notes = [], []
    for info in infos:
        if info.area is None:
            why = f' ({info.problem})' if info.problem else ''
            notes.append(
                f'{info.abbr}: no line of its own: its kind is unknown{why}; a corpus built by '
                'llmcompression-corpus says its kind (text, code, latex) in its manifest'
            )
            continue
        anchors, bpc, twice = find_anchors(results, models, info.abbr, info.area)
        notes += twice
        corpus = AnchoredCorpus(info.abbr, info.area, info, anchors, bpc)
        if len(anchors) < MIN_POINTS:
            have = f' ({", ".join(anchors)})' if anchors else ''
            notes.append(
                f'{info.abbr}: no line of its own: {len(anchors)} model(s) of the paper\'s '
                f'{info.area} table measured on it{have}, a line needs at least {MIN_POINTS}. '
                f'Add {MIN_POINTS - len(anchors)} or more of them to the run (e.g. '
                f'{missing_anchors(info.area, list(anchors))}; {ANCHOR_CONFIG} runs a set)'
            )
            continue
        if len(set(bpc.values())) < 2:
            notes.append(f'{info.abbr}: no line of its own: all its anchors have the same BPC')
            continue
        lines = area_lines(info.area, bpc, info.abbr)
        short = [li for li in lines if li.n < MIN_POINTS]
        if short:
            notes.append(
                f'{info.abbr}: {", ".join(li.benchmark for li in short)}: fewer than '
                f'{MIN_POINTS} anchors once the paper\'s left-out models '
                f'({", ".join(short[0].left_out)}) are left out: no such line; add other anchors'
            )
        corpus.lines = [li for li in lines if li.n >= MIN_POINTS]
        if corpus.lines:
            found.append(corpus)
    return found, notes


def overall_groups(
    corpora: Sequence[AnchoredCorpus],
) -> Tuple[List[Tuple[str, Dict[str, AnchoredCorpus]]], List[str]]:
    """``([(label, {area: corpus})], notes)``: the sets of one anchored corpus per area that an
    overall line takes: the only one of each, or, with several, those spanning the same months."""
    by_area: Dict[str, List[AnchoredCorpus]] = {}
    for c in corpora:
        by_area.setdefault(c.area, []).append(c)
    if set(by_area) != set(AREA_CORPUS):
        return [], []
    if all(len(cs) == 1 for cs in by_area.values()):
        return [('', {a: cs[0] for a, cs in by_area.items()})], []
    periods: Dict[str, Dict[str, List[AnchoredCorpus]]] = {}
    for area, cs in by_area.items():
        for c in cs:
            if c.info.period is not None:
                periods.setdefault(c.info.period.months, {}).setdefault(area, []).append(c)
    groups = [
        (label, {a: cs[0] for a, cs in per.items()})
        for label, per in sorted(periods.items())
        if set(per) == set(AREA_CORPUS) and all(len(cs) == 1 for cs in per.values())
    ]
    notes = (
        []
        if groups
        else [
            'no overall line of the run\'s corpora: it takes one corpus of each kind (text, code, '
            'latex), and the run has several of a kind without one of each sharing a period'
        ]
    )
    return groups, notes


def overall_lines(corpora: Sequence[AnchoredCorpus]) -> Tuple[List[Tuple[Dict[str, str], Line]], List[str]]:
    """``([({area: abbr}, line)], notes)``: the overall line of each group of ``overall_groups``
    with at least ``MIN_POINTS`` anchors measured on all three of its corpora."""
    groups, notes = overall_groups(corpora)
    found = []
    for _, group in groups:
        names = set.intersection(*(set(group[a].bpc) for a in AREA_CORPUS))
        bpc = {m: tuple(group[a].bpc[m] for a in AREA_CORPUS) for m in names}
        abbrs = {a: group[a].abbr for a in AREA_CORPUS}
        li = overall_line(bpc, ', '.join(abbrs.values()))
        if li.n < MIN_POINTS:
            notes.append(
                f'no overall line of {", ".join(abbrs.values())}: {li.n} of the paper\'s models '
                f'are measured on all three, it needs {MIN_POINTS}; measure the same anchors on each'
            )
        else:
            found.append((abbrs, li))
    return found, notes


def anchored_placements(
    results: Dict[str, Dict[str, dict]],
    models: Sequence[str],
    corpora: Sequence[AnchoredCorpus],
    overall: Sequence[Tuple[Dict[str, str], Line]],
    scores: Optional[Scores],
    areas: Dict[str, dict],
) -> List[Placement]:
    """Every model of the run that does not anchor a line, on each line its BPCs allow."""
    placed = []
    for model in models:
        per = results.get(model, {})
        given = (scores or {}).get(model, {})
        found = complete_averages(benchmark_scores(per, given, areas), given)
        measured = {(area, name): v for area, by_name in found.items() for name, v in by_name.items()}
        for c in corpora:
            x = usable_bpc(per.get(c.abbr))
            if x is not None and model not in c.anchors.values():
                placed += place(model, {c.area: x}, measured, c.lines)
        for abbrs, li in overall:
            xs = {a: usable_bpc(per.get(abbr)) for a, abbr in abbrs.items()}
            anchors = {c.anchors.get(p[0]) for c in corpora if c.abbr in abbrs.values() for p in li.points}
            if None not in xs.values() and model not in anchors:
                placed += place(model, xs, measured, [li])
    return placed


def compared_lines(
    corpora: Sequence[AnchoredCorpus],
    overall: Sequence[Tuple[Dict[str, str], Line]],
    paper_areas: Sequence[str] = (),
):
    """``(header, rows)``: the paper's own lines of ``paper_areas`` (areas the run measured on
    the paper's corpora, the paper's way), then each anchored line beside the paper's own, over
    the same models and over all of the paper's (does compression still predict capability on
    this text?)."""
    header = [
        'corpus',
        'line',
        'fitted',
        'n',
        'slope (% per BPC)',
        'intercept (%)',
        'r',
        'RMSE (%)',
        'paper\'s r, same models',
        'paper\'s r (n)',
    ]
    rows = []
    own_lines = [line(area, name) for area in paper_areas for name in benchmarks_of(area) + (AVERAGE,)]
    for li in own_lines + [li for c in corpora for li in c.lines] + [li for _, li in overall]:
        own = line(li.area, li.benchmark)
        names = {p[0] for p in li.points}
        if li.area == OVERALL:
            same = overall_line(
                {m: tuple(paper_table(a)[1][m]['BPC'] for a in AREA_CORPUS) for m in names},
                '',
                anchored=False,
            )
        else:
            same = area_line(
                li.area,
                li.benchmark,
                {m: paper_table(li.area)[1][m]['BPC'] for m in names},
                '',
                anchored=False,
            )
        rows.append(
            [
                li.corpus,
                f'{li.area} average' if li.benchmark == AVERAGE else f'{li.area}: {li.benchmark}',
                li.kind,
                str(li.n),
                f'{li.fit["slope"]:.4f}',
                f'{li.fit["intercept"]:.4f}',
                f'{li.fit["pearson"]:.4f}',
                f'{li.fit["rmse"]:.4f}',
                f'{same.fit["pearson"]:.4f}',
                f'{own.fit["pearson"]:.4f} ({own.n})',
            ]
        )
    return header, rows


READING = [
    '- How to read this: each line above is the paper\'s method repeated on this run\'s corpus: '
    'the paper\'s published scores of its models (Appendix B) against the BPC this run measured '
    'for them. The interval is where 95% of models like the anchors fall around that line; with '
    'few anchors it is wide (t with n - 2 degrees of freedom), honestly. "paper\'s r, same '
    'models" is the paper\'s own BPC of the same anchors against the same scores: where this '
    'corpus\'s r is about as strong, compression on this text still predicts the area\'s scores.',
    '- The anchors\' scores are the paper\'s (2024, its protocol): a model is predicted on that '
    'scale, whatever its benchmark scores are today.',
]


def plot(
    corpora: Sequence[AnchoredCorpus],
    overall: Sequence[Tuple[Dict[str, str], Line]],
    placed: Sequence[Placement],
    path: str,
) -> None:
    """``figure(corpora, overall, placed)`` written to ``path`` as PNG, whole or not at all."""
    from . import line_plots

    line_plots.save(figure(corpora, overall, placed), path)


def figure(
    corpora: Sequence[AnchoredCorpus],
    overall: Sequence[Tuple[Dict[str, str], Line]],
    placed: Sequence[Placement],
):
    """One panel per anchored average line, two a row: the anchors (grey, named), the line and
    its 95% prediction band (red), each placed model on it (``line_plots``)."""
    from . import line_plots

    averages = [li for c in corpora for li in c.lines if li.benchmark == AVERAGE] + [li for _, li in overall]
    panels = [
        line_plots.Panel(
            li,
            f'{li.area} average on {li.corpus}\nanchored: r = {li.fit["pearson"]:.3f}, n = {li.n}',
            f'BPC ({li.corpus}' + (', mean' if li.area == OVERALL else '') + ')',
            [p for p in placed if p.line is li],
        )
        for li in averages
    ]
    return line_plots.lines_figure(panels, 'anchors (the paper\'s scores)')
