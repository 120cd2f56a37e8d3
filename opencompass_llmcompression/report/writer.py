"""``write_report``: the report's files and printed text, one function per section.

    RunData (collect) + ReportOptions ──> write_report ──> summary/compression_<stamp>.md,
                                                           its CSVs and PNGs, the printed text

Each section returns its lines and writes its files through a ``ReportFolder``, each file
whole or not at all (``core.atomic_files``).
"""

import logging
import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from ..core.atomic_files import atomic_write
from ..core.corpus_files import CorpusError, load_corpus
from ..core.finite_output import check_text
from ..core.logs import LOGGER
from ..core.settings import MeasurementSettings
from . import anchored_lines, over_time, paper_predictions
from .baselines import baseline_rates
from .benchmark_scores import DEFAULT_AREAS, check_areas
from .collect import Results, RunData
from .corpus_periods import corpus_info
from .documents import document_table
from .failures import Failure, no_results_message
from .intervals import RESAMPLES, SEED
from .leaderboard import (
    METRICS,
    RATE,
    compression_abbrs,
    leaderboard,
    long_rows,
    lossy_notes,
    metric_title,
    to_csv,
    to_markdown,
)
from .linear_fit import area_points, fit_areas, fit_table, plot_fits
from .paper_fits import SOURCE as TABLES_SOURCE
from .paper_reference import SOURCE, reference_rows
from .results import ResultsError, corpus_measurements, pooling_refusal, read_document_rows
from .token_losses import read_token_losses
from .token_page import page_lines, token_page
from .uncertainty import Bootstrap


@dataclass(frozen=True)
class ReportOptions:
    """What the user asked of the report (the summarizer's arguments, the command's flags)."""

    metrics: Tuple[str, ...] = ('bpc',)  # leaderboards, of METRICS: bpc, bpb, compression_rate
    baselines: bool = True  # gzip, bzip2, xz, zstd rows
    document_count: int = 10  # lowest and highest BPC documents per model and corpus (0: none)
    scores: Optional[Dict[str, Dict[str, float]]] = None  # benchmark scores from a CSV
    areas: Optional[Dict[str, dict]] = None  # benchmark areas for the fit (default: paper's)
    resamples: int = RESAMPLES  # bootstrap draws over documents (0: no intervals)
    seed: int = SEED

    def __post_init__(self):
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown or not self.metrics:
            raise ValueError(f'metrics {list(self.metrics)}: each must be one of {", ".join(METRICS)}')


class ReportFolder:
    """The report's output folder: files named with the run's time stamp, listed as written."""

    def __init__(self, out_dir: str, stamp: str):
        os.makedirs(out_dir, exist_ok=True)
        self.out_dir, self.stamp, self.written = out_dir, stamp, []

    def path(self, name: str) -> str:
        target = os.path.join(self.out_dir, name.format(stamp=self.stamp))
        self.written.append(target)
        return target

    def write(self, name: str, text: str) -> None:
        """Writes ``text`` whole or not at all, after refusing NaN or an infinity in its
        tables (``core.finite_output.check_text``)."""
        path = self.path(name)
        check_text(path, text)
        with atomic_write(path, encoding='utf-8') as f:
            f.write(text)


def write_report(
    run: RunData, options: ReportOptions, out_dir: str, stamp: str, logger: logging.Logger = LOGGER
) -> str:
    """Writes the report's files into ``out_dir`` and returns the text to print.

    Refuses (ResultsError) results that hold no compression result, or whose models were
    measured under different settings on one abbr; abbrs measured under different settings
    get no average."""
    abbrs = compression_abbrs(run.results, run.abbr_order)
    if not abbrs:
        raise ResultsError(no_results_message(run.failures))
    measurements = corpus_measurements(run.results)
    refusal = pooling_refusal(measurements, abbrs)
    models = list(run.models) or sorted(run.results)
    folder = ReportFolder(out_dir, stamp)
    wants_documents = options.document_count > 0
    texts = (
        corpus_texts(run.locations, abbrs, logger)  # read only for what needs them
        if options.baselines or wants_documents
        else {}
    )
    rates = {abbr: baseline_rates(docs) for abbr, docs in texts.items() if options.baselines and any(docs)}
    rows = document_rows(run.run_dirs, models, abbrs) if options.resamples or wants_documents else {}
    boot = (
        Bootstrap(run.results, rows, abbrs, models, options.resamples, options.seed)
        if options.resamples
        else None
    )
    sections = measurement_lines(measurements, abbrs) + ['']
    sections += leaderboard_sections(
        run.results, abbrs, models, rates, boot, options, measurements, refusal, folder
    )
    sections += comparison_section(boot, abbrs, models, folder)
    sections += reference_section(run.results, abbrs, models, run.locations, measurements, folder)
    write_document_tables(rows, options.document_count, texts, folder)
    sections += paper_lines_section(run, abbrs, models, measurements, options, folder)
    sections += over_time_section(run, abbrs, models, measurements, folder)
    sections += failures_section(run.failures)
    sections += token_pages_section(run, abbrs, models, folder)
    sections += fit_section(run.results, options, bool(run.failures), folder)
    folder.write('compression_{stamp}.md', '# Compression\n\n' + '\n'.join(sections) + '\n')
    written = folder.written[-1:] + folder.written[:-1]  # the report itself first
    printed = sections + ['', 'Written: ' + ', '.join(os.path.abspath(p) for p in written)]
    return '\n'.join(printed)


def measurement_lines(
    measurements: Dict[str, Optional[MeasurementSettings]], abbrs: Sequence[str]
) -> List[str]:
    """The settings the results record: one line when the abbrs share them."""
    described = {abbr: str(measurements.get(abbr) or 'settings not recorded') for abbr in abbrs}
    if len(set(described.values())) == 1:
        shared = measurements.get(abbrs[0])
        return (
            [f'Measured with {shared} (as the results record it).']
            if shared
            else ['Measured with window settings that the results do not record.']
        )
    return ['Measured with, per corpus (as the results record it):'] + [
        f'- {abbr}: {text}' for abbr, text in described.items()
    ]


def corpus_texts(
    locations: Dict[str, dict], abbrs: Sequence[str], logger: logging.Logger
) -> Dict[str, List[str]]:
    """``{abbr: documents}`` of the corpora that can still be loaded (for baselines and
    snippets)."""
    texts = {}
    for abbr in abbrs:
        if abbr not in locations:
            continue
        try:
            where = {k: locations[abbr].get(k) for k in ('path', 'name', 'samples')}
            texts[abbr] = [r['content'] for r in load_corpus(**where)]
        except (CorpusError, OSError, ValueError) as err:  # moved or changed since the run
            logger.warning(
                f'{abbr}: corpus not loadable now, so no compressor baselines or snippets for it ({err})'
            )
    return texts


def document_rows(
    run_dirs: Sequence[str], models: Sequence[str], abbrs: Sequence[str]
) -> Dict[str, Dict[str, List[dict]]]:
    """``{model: {abbr: per-document rows}}`` from the newest run that has them."""
    found = {}
    for model in models:
        for abbr in abbrs:
            for run_dir in reversed(run_dirs):
                rows = read_document_rows(run_dir, model, abbr)
                if rows:
                    found.setdefault(model, {})[abbr] = rows
                    break
    return found


def leaderboard_sections(
    results: Results,
    abbrs,
    models,
    rates,
    boot: Optional[Bootstrap],
    options: ReportOptions,
    measurements,
    refusal: str,
    folder: ReportFolder,
) -> List[str]:
    lines = []
    for metric in options.metrics:
        intervals = boot.intervals(metric) if boot else {}
        header, rows = leaderboard(results, abbrs, metric, models, rates, intervals, pool=not refusal)
        lines += [
            f'## {metric_title(metric)} (lower is better; compressors in parentheses)',
            '',
            to_markdown(header, rows),
        ]
        if intervals:
            lines += [
                f'`± x`: half the width of the {boot.level:.0%} bootstrap interval over '
                f'documents ({options.resamples} resamples, seed {options.seed}); the '
                f'bounds are `{metric}_ci_low`/`{metric}_ci_high` in the CSV.',
                '',
            ]
        folder.write(
            'compression_rate_{stamp}.csv' if metric == RATE else f'compression_{metric}_{{stamp}}.csv',
            to_csv(
                *long_rows(results, abbrs, metric, models, rates, intervals, measurements, pool=not refusal)
            ),
        )
    if refusal:
        lines += [f'No average over the corpora: {refusal}.', '']
    lossy = lossy_notes(results, abbrs)
    if lossy:
        lines += [f'- {note}' for note in lossy] + ['']
    if boot and boot.notes:
        lines += [f'- {note}' for note in boot.notes] + ['']
    return lines


def comparison_section(boot: Optional[Bootstrap], abbrs, models, folder: ReportFolder) -> List[str]:
    if not boot:
        return []
    header, rows, refused = boot.comparison_table(abbrs, models)
    if not rows and not refused:
        return []
    lines = ['## Which model compresses better (paired bootstrap over the same documents)', '']
    if rows:
        lines.append(to_markdown(header, rows))
        folder.write('compression_pairs_{stamp}.csv', to_csv(header, rows))
    return lines + [f'- {reason}' for reason in refused] + [''] * bool(refused)


def reference_section(
    results: Results,
    abbrs,
    models,
    locations,
    measurements: Dict[str, Optional[MeasurementSettings]],
    folder: ReportFolder,
) -> List[str]:
    (header, table), notes, (csv_header, csv_rows) = reference_rows(
        results, abbrs, models, locations, measurements
    )
    if not table:
        return []
    folder.write('compression_reference_{stamp}.csv', to_csv(csv_header, csv_rows))
    return [
        '## The paper\'s published BPC beside this run\'s',
        '',
        to_markdown(header, table),
        'What to expect, per corpus:',
        *notes,
        '',
        f'Source: {SOURCE}.',
        '',
    ]


def write_document_tables(rows, count: int, texts, folder: ReportFolder) -> None:
    if count <= 0 or not rows:
        return
    header, table = document_table(rows, count, texts)
    folder.write(
        'compression_documents_{stamp}.md',
        f'# Documents with the lowest and highest BPC ({count} each)\n\n'
        'A very low BPC hints that the model saw the document in training.\n\n' + to_markdown(header, table),
    )
    folder.write('compression_documents_{stamp}.csv', to_csv(header, table))


def paper_lines_section(
    run: RunData,
    abbrs,
    models,
    measurements: Dict[str, Optional[MeasurementSettings]],
    options: ReportOptions,
    folder: ReportFolder,
) -> List[str]:
    """Each model measured the paper's way on the paper's lines (table, CSV, plot); the other
    abbrs on lines anchored on the paper's models where the run has them
    (``anchored_section``), and one line each for those that get no prediction, saying why."""
    eligible, reasons = paper_predictions.paper_corpora(abbrs, run.locations, measurements)
    placed = paper_predictions.placements(run.results, models, eligible, options.scores, _areas(options))
    paper_predictions.plot(placed, folder.path('compression_paper_lines_{stamp}.png'))
    infos = [corpus_info(abbr, run.locations.get(abbr)) for abbr in abbrs if abbr not in eligible]
    corpora, notes = anchored_lines.anchored_corpora(run.results, models, infos)
    lines = ['## What the BPC predicts: the paper\'s lines', '']
    if placed:
        lines += [to_markdown(*paper_predictions.table(placed)), *paper_predictions.READING]
        folder.write(
            'compression_paper_predictions_{stamp}.csv',
            to_csv(paper_predictions.CSV_HEADER, paper_predictions.csv_rows(placed)),
        )
    else:
        lines += ['No model of this run is placed on the paper\'s lines:']
    own = {c.abbr for c in corpora}
    for abbr, reason in reasons.items():
        if abbr in own:
            reason += ' It has a line of its own, anchored on the paper\'s models (below).'
        why = next((n for n in notes if n.startswith(f'{abbr}: no line of its own: ')), None)
        if why is not None:  # said once, in its corpus's line
            notes.remove(why)
            reason += ' No line of its own either: ' + why[len(f'{abbr}: no line of its own: ') :] + '.'
        lines.append(f'- {reason}')
    lines += [f'- Lines fitted on {TABLES_SOURCE}; llmcompression-summary --paper prints them.', '']
    return lines + anchored_section(run, models, eligible, corpora, notes, options, folder)


def anchored_section(
    run: RunData, models, eligible: Dict[str, str], corpora, notes: List[str], options: ReportOptions, folder
) -> List[str]:
    """The run's corpora on their own lines, anchored on the paper's models (tables, CSVs,
    plot; beside the paper's own lines of the areas ``eligible`` measures the paper's way), and
    a line for each corpus or overall line that could not be drawn."""
    if not corpora and not notes:
        return []
    overall, overall_notes = anchored_lines.overall_lines(corpora)
    notes = notes + overall_notes
    lines = ['## What the BPC predicts on the run\'s own corpora: lines anchored on the paper\'s models', '']
    if corpora:
        header, rows = anchored_lines.compared_lines(corpora, overall, sorted(set(eligible.values())))
        lines += [to_markdown(header, [r for r in rows if r[1].endswith('average')])]
        folder.write('compression_anchored_fits_{stamp}.csv', to_csv(header, rows))
        placed = anchored_lines.anchored_placements(
            run.results, models, corpora, overall, options.scores, _areas(options)
        )
        anchored_lines.plot(corpora, overall, placed, folder.path('compression_anchored_lines_{stamp}.png'))
        if placed:
            header, rows = paper_predictions.table(placed)
            lines += (
                [to_markdown(header, rows)]
                if rows
                else [
                    'No average line to place a model on: its predictions on the benchmarks\' lines are in '
                    'compression_anchored_predictions (CSV).',
                    '',
                ]
            )
            folder.write(
                'compression_anchored_predictions_{stamp}.csv',
                to_csv(
                    ANCHORED_CSV_HEADER,
                    [
                        row[:1] + [p.line.corpus] + row[1:]
                        for p, row in zip(placed, paper_predictions.csv_rows(placed))
                    ],
                ),
            )
        else:
            lines += [
                '',
                'Every model of the run with a BPC on these corpora anchors them: none is left to place.',
            ]
        lines += anchored_lines.READING
    return lines + [f'- {note}' for note in notes] + ['']


ANCHORED_CSV_HEADER = paper_predictions.CSV_HEADER[:1] + ['corpus'] + paper_predictions.CSV_HEADER[1:]


def over_time_section(run: RunData, abbrs, models, measurements, folder: ReportFolder) -> List[str]:
    """For each kind of corpus measured in two or more periods: each model's BPC per period
    (table, CSV, plot) and the memorization check of each older period against the newest."""
    infos = [corpus_info(abbr, run.locations.get(abbr)) for abbr in abbrs]
    bpc = {
        model: {
            abbr: v
            for abbr in abbrs
            if (v := anchored_lines.usable_bpc(run.results.get(model, {}).get(abbr))) is not None
        }
        for model in models
    }
    found, notes = over_time.series(infos, bpc, models, measurements)
    if not found and not notes:
        return []
    lines = ['## BPC over time', '']
    for s in found:
        lines += [f'{s.kind} corpora, oldest first:', '', to_markdown(*over_time.bpc_table(s, models))]
    if found:
        folder.write(
            'compression_over_time_{stamp}.csv',
            to_csv(over_time.LONG_HEADER, [row for s in found for row in over_time.long_rows(s, models)]),
        )
        over_time.plot(found, models, folder.path('compression_periods_{stamp}.png'))
    checks = [c for s in found for c in s.checks]
    if checks:
        lines += [
            'Memorization check: each model\'s BPC on an older period against the line of the '
            'other models\' (older-period BPC against newest-period BPC), with its 95% prediction '
            'interval:',
            '',
            to_markdown(*over_time.check_table(checks)),
            *over_time.MEANING,
        ]
        folder.write(
            'compression_memorization_{stamp}.csv',
            to_csv(over_time.CHECK_HEADER, over_time.check_rows(checks)),
        )
    return lines + [f'- {note}' for note in notes] + ['']


def token_pages_section(run: RunData, abbrs, models, folder: ReportFolder) -> List[str]:
    """A page per abbr whose token losses a model kept (``report.token_page``)."""
    pages, shown = [], {}
    for abbr in abbrs:
        kept = {m: found for m in models if (found := read_token_losses(run.run_dirs, m, abbr))}
        if kept:
            name = 'compression_tokens_' + re.sub(r'[^\w.-]', '_', abbr) + '_{stamp}.html'
            folder.write(name, token_page(abbr, kept))
            pages.append(os.path.basename(folder.written[-1]))
            shown[pages[-1]] = list(kept)
    return page_lines(pages, shown)


def _areas(options: ReportOptions) -> Dict[str, dict]:
    return check_areas(options.areas) if options.areas is not None else DEFAULT_AREAS


def failures_section(failures: Sequence[Failure]) -> List[str]:
    if not failures:
        return []
    return ['## Datasets of the run without a result', '', *[f'- {failure}' for failure in failures], '']


def fit_section(results: Results, options: ReportOptions, failed: bool, folder: ReportFolder) -> List[str]:
    metric = options.metrics[0]
    areas = _areas(options)
    points = area_points(results, areas, options.scores, metric)
    if any(points.values()):
        fits = fit_areas(points)
        plot_fits(points, fits, folder.path('compression_fit_{stamp}.png'), metric)
        return [
            f'## Benchmark score against {metric.upper()}, fitted per area',
            '',
            to_markdown(*fit_table(fits, areas)),
        ]
    if failed:
        return [
            'No benchmark scores next to the BPC results, so no fit: the datasets listed '
            'above failed; their logs say why.'
        ]
    return [
        'No benchmark scores next to the BPC results, so no fit: run benchmarks (e.g. '
        'mmlu, humaneval, gsm8k) in the same suite, or pass a scores CSV.'
    ]
