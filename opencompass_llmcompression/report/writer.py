"""The compression report of one or more runs: leaderboard with intervals, the paired
comparison of models, the paper's reference rows, compressor baselines, documents, fit.

Shared by ``CompressionSummarizer`` (at the end of an OpenCompass run) and the
``llmcompression-summary`` command (from existing output folders).
"""

import os
from typing import Callable, Dict, List, Optional, Sequence

from ..core.corpus_files import load_corpus
from .baselines import baseline_rates
from .documents import document_table
from .failures import Failure
from .intervals import RESAMPLES, SEED
from .leaderboard import compression_corpora, leaderboard, long_rows, to_csv, to_markdown
from .linear_fit import (DEFAULT_AREAS, area_points, check_areas, fit_areas, fit_table,
                         plot_fits)
from .paper_reference import SOURCE, reference_rows
from .results import ResultsError, read_document_rows
from .uncertainty import Bootstrap


def corpus_texts(settings: Dict[str, dict], corpora: Sequence[str],
                 warn: Callable[[str], None]) -> Dict[str, List[str]]:
    """The documents of each corpus that can still be loaded (for baselines and snippets)."""
    texts = {}
    for abbr in corpora:
        if abbr not in settings:
            continue
        try:
            where = {k: settings[abbr].get(k) for k in ('path', 'name', 'samples')}
            texts[abbr] = [r['content'] for r in load_corpus(**where)]
        except Exception as err:  # the data may have moved since the run: report without it
            warn(f'{abbr}: corpus not loadable now, so no compressor baselines or snippets '
                 f'for it ({err})')
    return texts


def write_report(results: Dict[str, Dict[str, dict]], out_dir: str, stamp: str,
                 run_dirs: Sequence[str] = (), models: Sequence[str] = (),
                 corpus_order: Sequence[str] = (), settings: Optional[Dict[str, dict]] = None,
                 metrics: Sequence[str] = ('bpc',), baselines: bool = True,
                 documents: int = 10, scores: Optional[Dict[str, Dict[str, float]]] = None,
                 areas: Optional[Dict[str, dict]] = None, resamples: int = RESAMPLES,
                 seed: int = SEED, failures: Sequence[Failure] = (),
                 warn: Callable[[str], None] = print) -> str:
    """Writes the report's files into ``out_dir`` and returns the text to print.

    ``resamples`` bootstrap draws (over documents, from ``seed``) give each BPC its interval
    and each pair of models their paired difference; 0 leaves the intervals out.
    ``failures``: the datasets of the run that have no result, listed with their logs."""
    corpora = compression_corpora(results, corpus_order)
    if not corpora:
        raise ResultsError('no compression results (no result with `bpc`) in the given runs: '
                           'did the evaluation stage of an llm_compression dataset finish?')
    os.makedirs(out_dir, exist_ok=True)
    models = list(models) or sorted(results)
    texts = corpus_texts(settings or {}, corpora, warn)
    rates = {abbr: baseline_rates(docs) for abbr, docs in texts.items()
             if baselines and any(docs)}
    written, sections = [], []

    def write(name: str, text: str) -> None:
        target = os.path.join(out_dir, name.format(stamp=stamp))
        with open(target, 'w', encoding='utf-8') as f:
            f.write(text)
        written.append(target)

    rows_by_model = {}
    for model in models:
        for abbr in corpora:
            rows = _document_rows(run_dirs, model, abbr)
            if rows:
                rows_by_model.setdefault(model, {})[abbr] = rows
    boot = Bootstrap(results, rows_by_model, corpora, models, resamples, seed) if resamples \
        else None
    for metric in metrics:
        intervals = boot.intervals(metric) if boot else {}
        header, rows = leaderboard(results, corpora, metric, models, rates, intervals)
        sections += [f'## {metric.upper()} (lower is better; compressors in parentheses)', '',
                     to_markdown(header, rows)]
        if intervals:
            sections += [f'`± x`: half the width of the {boot.level:.0%} bootstrap interval '
                         f'over documents ({resamples} resamples, seed {seed}); the bounds are '
                         f'`{metric}_ci_low`/`{metric}_ci_high` in the CSV.', '']
        write(f'compression_{metric}_{{stamp}}.csv',
              to_csv(*long_rows(results, corpora, metric, models, rates, intervals)))
    if boot:
        sections += [f'- {note}' for note in boot.notes] + ([''] if boot.notes else [])
        header, rows, refused = boot.comparison_table(corpora, models)
        if rows or refused:
            sections += ['## Which model compresses better (paired bootstrap over the same '
                         'documents)', '']
            if rows:
                sections += [to_markdown(header, rows)]
                write('compression_pairs_{stamp}.csv', to_csv(header, rows))
            sections += [f'- {reason}' for reason in refused] + [''] * bool(refused)

    (header, table), notes, (csv_header, csv_rows) = reference_rows(
        results, corpora, models, settings or {})
    if table:
        sections += ['## The paper\'s published BPC beside this run\'s', '',
                     to_markdown(header, table), 'What to expect, per corpus:', *notes, '',
                     f'Source: {SOURCE}.', '']
        write('compression_reference_{stamp}.csv', to_csv(csv_header, csv_rows))

    if documents > 0 and rows_by_model:
        header, rows = document_table(rows_by_model, documents, texts)
        write('compression_documents_{stamp}.md',
              f'# Documents with the lowest and highest BPC ({documents} each)\n\n'
              'A very low BPC hints that the model saw the document in training.\n\n'
              + to_markdown(header, rows))
        write('compression_documents_{stamp}.csv', to_csv(header, rows))

    if failures:
        sections += ['## Datasets of the run without a result', '',
                     *[f'- {failure}' for failure in failures], '']
    areas = check_areas(areas) if areas is not None else DEFAULT_AREAS
    points = area_points(results, areas, scores, metrics[0])
    if any(points.values()):
        fits = fit_areas(points)
        header, rows = fit_table(fits, areas)
        sections += [f'## Benchmark score against {metrics[0].upper()}, fitted per area', '',
                     to_markdown(header, rows)]
        plot = os.path.join(out_dir, f'compression_fit_{stamp}.png')
        plot_fits(points, fits, plot, metrics[0])
        written.append(plot)
    elif failures:
        sections.append('No benchmark scores next to the BPC results, so no fit: the datasets '
                        'listed above failed; their logs say why.')
    else:
        sections.append('No benchmark scores next to the BPC results, so no fit: run benchmarks '
                        '(e.g. mmlu, humaneval, gsm8k) in the same suite, or pass a scores CSV.')

    write('compression_{stamp}.md', '# Compression\n\n' + '\n'.join(sections) + '\n')
    written.insert(0, written.pop())  # the report itself first
    printed = sections + ['', 'Written: ' + ', '.join(os.path.abspath(p) for p in written)]
    return '\n'.join(printed)


def _document_rows(run_dirs: Sequence[str], model: str, abbr: str) -> List[dict]:
    for run_dir in reversed(run_dirs):  # the newest run that has them
        rows = read_document_rows(run_dir, model, abbr)
        if rows:
            return rows
    return []
