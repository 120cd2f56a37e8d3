"""The paper's published BPC (``paper_leaderboard.csv``, its source in its header) beside a
run's, and what the run's corpus and settings let one expect of the comparison.

A model matches a paper row by ``normalise``d name: ``meta-llama/Llama-2-7b-hf``,
``llama-2-7b-hf`` and ``Llama-2-7b`` are all ``llama27b``.
"""

import csv
import os
import re
from typing import Dict, List, Optional, Sequence

from ..core.corpus_files import locate_corpus
from ..core.settings import PAPER, MeasurementSettings
from .linear_fit import corpus_matches

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'paper_leaderboard.csv')
CORPORA = ('cc', 'python', 'arxiv_math')
SOURCE = (
    '"Compression Represents Intelligence Linearly" (Huang et al., 2024, arXiv 2404.09937), '
    'leaderboard in the README of https://github.com/hkust-nlp/llm-compression-intelligence'
)
_SUFFIXES = re.compile(r'(-hf|-base|-v0\.1)+$')


def normalise(model: str) -> str:
    """The last part of a path or hub id, lower case, without a trailing ``-hf``, ``-base`` or
    ``-v0.1`` and a leading ``meta-``, punctuation dropped."""
    name = model.rstrip('/').split('/')[-1].lower()
    name = _SUFFIXES.sub('', name)
    name = re.sub(r'^meta-', '', name)
    return re.sub(r'[^a-z0-9]', '', name)


def paper_rows() -> List[dict]:
    """``[{model, cc, python, arxiv_math, average}]`` in the paper's order (floats)."""
    with open(DATA, encoding='utf-8') as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith('#')))
    return [dict(row, **{k: float(row[k]) for k in CORPORA + ('average',)}) for row in rows]


def paper_table():
    """``(header, rows)`` of the paper's leaderboard, as printed there."""
    header = ['model'] + list(CORPORA) + ['average']
    return header, [[r['model']] + [f'{r[k]:.3f}' for k in CORPORA + ('average',)] for r in paper_rows()]


def match(model: str) -> Optional[dict]:
    """The paper's row for ``model``, or None."""
    key = normalise(model)
    return next((row for row in paper_rows() if normalise(row['model']) == key), None)


def paper_corpus_of(abbr: str, location: Optional[dict]) -> Optional[str]:
    """Which of the paper's corpora ``abbr`` measures: its location's ``name``, else the one
    ``abbr`` names (``cc`` or ``...-cc``); None for none of them."""
    name = (location or {}).get('name')
    if name in CORPORA:
        return name
    return next((c for c in CORPORA if corpus_matches(abbr, c)), None)


def measurement_problems(location: Optional[dict], measurement: Optional[MeasurementSettings]) -> List[str]:
    """Why a corpus's numbers are not on the paper's scale ([] when they are: the paper's
    corpus by its path and name, not built by ``llmcompression-corpus``, whole, measured
    with the paper's window in either mode)."""
    if not location:
        return ['corpus unknown (no saved config found for this corpus)']
    if measurement is None:
        return ['window settings not recorded (a result written before results recorded them)']
    path, name = str(location.get('path', '')), location.get('name')
    problems = []
    if not re.search(r'llm-compression|hkust-nlp', path) or name not in CORPORA:
        problems.append(f'corpus {path}/{name} is not the paper\'s (hkust-nlp/llm-compression)')
    elif built_here(path, name):
        problems.append(
            f'corpus {path}/{name} was built by llmcompression-corpus (a manifest '
            'lies beside it), not downloaded from the paper'
        )
    if location.get('samples'):
        problems.append(f'only the first {location["samples"]} documents')
    if not measurement.is_paper:
        problems.append(
            f'windows {measurement.block_size}/{measurement.stride}, the paper\'s '
            f'are {PAPER.block_size}/{PAPER.stride}'
        )
    return problems


def compatibility(location: Optional[dict], measurement: Optional[MeasurementSettings]) -> str:
    """What a corpus's location and the run's measurement let a user expect against the
    paper's number."""
    problems = measurement_problems(location, measurement)
    if not location or measurement is None:
        return f'{problems[0]}: the paper\'s row is context, not a check'
    if problems:
        return 'different measurement (' + '; '.join(problems) + '): expect different numbers'
    path, name = location.get('path'), location.get('name')
    if measurement.reference_compat:
        return (
            f'the paper\'s corpus by its path ({path}/{name}) and windows, '
            'reference_compat=True: expect agreement to about the third decimal (model '
            'precision and library versions aside)'
        )
    return (
        f'the paper\'s corpus by its path ({path}/{name}) and windows, '
        'reference_compat=False: this run also scores the tail the paper\'s code drops, so '
        'expect agreement to about the second decimal; set reference_compat=True for the '
        'paper\'s exact measurement'
    )


def built_here(path: str, name: str) -> bool:
    """Whether the corpus file has the manifest ``llmcompression-corpus`` writes beside it."""
    corpus = locate_corpus(path, name, logger=None, check=False)
    return corpus is not None and corpus.manifest is not None


def reference_rows(
    results: Dict[str, Dict[str, dict]],
    abbrs: Sequence[str],
    models: Sequence[str],
    locations: Dict[str, dict],
    measurements: Dict[str, Optional[MeasurementSettings]],
):
    """``((header, table), notes, (csv_header, csv_rows))``.

    ``table``: for each model that matches a paper row, three rows (this run, the paper,
    their difference), one column per paper corpus that an abbr of ``abbrs`` measures (the
    first such abbr); ``notes``: one ``- abbr: what to expect`` line per column
    (``locations``: where each abbr's corpus was read, ``measurements``: its settings);
    ``csv_rows``: one per model and column where the run has a BPC."""
    abbr_of = {}  # {paper corpus: the abbr measuring it}
    for abbr in abbrs:
        corpus = paper_corpus_of(abbr, locations.get(abbr))
        if corpus and corpus not in abbr_of:
            abbr_of[corpus] = abbr
    header = ['model', 'row'] + list(abbr_of)
    table, long = [], []
    for model in models:
        paper = match(model)
        if paper is None or not abbr_of:
            continue
        ours = [results.get(model, {}).get(abbr, {}).get('bpc') for abbr in abbr_of.values()]
        if all(v is None for v in ours):
            continue
        theirs = [paper[c] for c in abbr_of]
        table.append([model, 'this run'] + ['-' if v is None else f'{v:.4f}' for v in ours])
        table.append([paper['model'], 'paper'] + [f'{v:.3f}' for v in theirs])
        table.append(
            ['', 'difference'] + ['-' if v is None else f'{v - p:+.4f}' for v, p in zip(ours, theirs)]
        )
        for abbr, v, p in zip(abbr_of.values(), ours, theirs):
            if v is not None:
                long.append(
                    [
                        model,
                        paper['model'],
                        abbr,
                        f'{v:.6f}',
                        f'{p:.3f}',
                        f'{v - p:+.6f}',
                        compatibility(locations.get(abbr), measurements.get(abbr)),
                    ]
                )
    notes = [
        f'- {abbr}: {compatibility(locations.get(abbr), measurements.get(abbr))}' for abbr in abbr_of.values()
    ]
    csv_header = ['model', 'paper_model', 'corpus', 'bpc', 'paper_bpc', 'difference', 'expectation']
    return (header, table), notes, (csv_header, long)
