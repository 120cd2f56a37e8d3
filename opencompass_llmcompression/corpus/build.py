"""One build: inputs found and recognised, read, dated, cleaned by their kind's recipe,
sampled, written.

    build('cc', 'text', ['crawl/'], 'data/llm-compression', after=date(2026, 1, 1)) -> Report

By input (``sources``):

    wet, warc     web.read_web -> --after/--before -> >= 300 characters -> lines seen before out
                  (dedup) -> English (lid.176 >= 0.5) -> KenLM head bucket, or quality rules
    git           git_sources.read_git_sources -> --after/--before -> code_cleaning.clean_code
    arxiv         arxiv.read_arxiv -> --after/--before
    plain, records local_files -> --after/--before -> local_cleaning.clean -> exact and near
                  duplicates out (dedup.drop_duplicates)

then all kept documents (plain and records first, then git, arXiv and web inputs, each in
path order) -> whole documents in a seeded order up to ``budget`` -> manifest.write_corpus;
with ``split_by``, the kept documents first grouped by the period of their own date, each
period sampled and written on its own (``NAME_PERIOD``).

Web files are read in parallel, one process per file up to ``jobs``; each writes what it
read to a private temporary file, read back in input order; the language and quality filters
run in batches over the same processes, their verdicts taken in order. So the output does not
depend on ``jobs``, and memory holds the line hashes, the batches in flight and, for each kept
document, its size and date (its text waits on disk, ``spool``).
"""

import collections
import copy
import datetime
import os
import pickle
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..core.checksums import file_sha256
from .dates import DATE_FROM, SPLITS, DateWindow, keep_window, split_by_period
from .dedup import LineDeduplicator, drop_duplicates, line_hashes, normalising_table
from .documents import BuildError, Document, Report
from .local_cleaning import KINDS, clean
from .local_files import read_file, read_records
from .manifest import collections_of, input_record, write_corpus
from .sampling import sample
from .sources import Input, find_inputs
from .spool import DocumentSpool, SpooledDocument
from .text_cleaning import MIN_CHARS, LanguageFilter, quality_filter

PLAIN_MIN_CHARS = 200


@dataclass
class WebOptions:
    """What each process reading a web file needs to know."""

    window: DateWindow = field(default_factory=DateWindow)
    min_chars: int = MIN_CHARS
    max_chars: Optional[int] = None

    def length_reason(self, doc: Document) -> Optional[str]:
        if len(doc.content) < self.min_chars:
            return f'shorter than {self.min_chars} characters'
        if self.max_chars is not None and len(doc.content) > self.max_chars:
            return f'longer than {self.max_chars} characters'
        return None


def _read_web_file(task: Tuple[str, str, WebOptions]) -> Tuple[str, Report, List[str], dict, Optional[str]]:
    """Read one web file into ``spool`` (pickled documents with their line hashes): returns the
    spool, this file's report, its dump ids, and how many documents were read and how many
    left out by the date window and by length, and the file's SHA-256."""

    path, spool, options = task
    report, dumps, counts = Report(), set(), dict(read=0, window=0, length=0)
    with open(spool, 'wb') as f:
        try:
            _spool_web_file(path, f, options, report, dumps, counts)
        except BuildError:
            raise
        except Exception as e:  # a reader's own fault on input no test foresaw: this file stops here
            report.fault(f'file not read to its end ({type(e).__name__})', path)
    return spool, report, sorted(dumps), counts, file_sha256(path) if os.path.isfile(path) else None


def _spool_web_file(path: str, f, options: WebOptions, report: Report, dumps: set, counts: dict) -> None:
    from .web import read_web

    for doc in read_web(path, report):
        counts['read'] += 1
        if doc.meta.get('dump'):
            dumps.add(doc.meta['dump'])
        reason, step = (options.window.reason_out(doc) if options.window else None), 'window'
        if reason is None:
            reason, step = options.length_reason(doc), 'length'
        if reason:
            report.skip(reason, doc.source)
            counts[step] += 1
            continue
        hashes = np.array(line_hashes(doc.content), dtype=np.uint64).tobytes()
        pickle.dump((doc, hashes), f, protocol=pickle.HIGHEST_PROTOCOL)


def _spooled(spool: str) -> Iterator[Tuple[Document, np.ndarray]]:
    with open(spool, 'rb') as f:
        while True:
            try:
                doc, hashes = pickle.load(f)
            except EOFError:
                return
            yield doc, np.frombuffer(hashes, dtype=np.uint64)


_CHECKS: dict = {}
BATCH_CHARS = 4_000_000


def _checks(models: Tuple[Optional[str], Optional[str]]):
    """This process's language and quality filters (loaded once per process)."""
    if models not in _CHECKS:
        _CHECKS[models] = (LanguageFilter(), quality_filter(*models)[1])
    return _CHECKS[models]


def _check_batch(
    task: Tuple[Tuple[Optional[str], Optional[str]], List[str]],
) -> List[Optional[Tuple[str, str]]]:
    """For each text: None when it passes the language and quality filters, else
    ``(filter, reason)`` for the first that leaves it out."""
    models, texts = task
    language, quality = _checks(models)
    verdicts = []
    for text in texts:
        doc = Document(text, '')
        reason = language.reason_out(doc)
        if reason:
            verdicts.append(('language', reason))
            continue
        reason = quality.reason_out(doc)
        verdicts.append(('quality', reason) if reason else None)
    return verdicts


def _web_documents(
    paths: List[str],
    report: Report,
    options: WebOptions,
    jobs: int,
    models: tuple,
    dumps: set,
    tmp: str,
    digests: dict,
) -> List[SpooledDocument]:
    """Stage 1, a process per file: read, window, length, line hashes (``_read_web_file``).
    Stage 2, here, in input order: line deduplication. Stage 3, in batches over the processes:
    language and quality (``_check_batch``). Results are taken in order, so ``jobs`` changes
    nothing in the output; at most ``2 * jobs`` batches are in flight, which bounds memory."""
    quality_name, quality_check = quality_filter(*models)
    language, _ = _checks(models)
    normalising_table()  # built once, before the processes are forked
    lines = LineDeduplicator()
    counts = dict(read=0, window=0, length=0, dedup=0, language=0, quality=0)
    kept: List[SpooledDocument] = []
    spool = DocumentSpool(tmp)
    in_flight: collections.deque = collections.deque()

    def settle(limit: int) -> None:
        while len(in_flight) > limit:
            docs, verdicts = in_flight.popleft()
            for doc, verdict in zip(docs, verdicts.result() if hasattr(verdicts, 'result') else verdicts):
                if verdict is None:
                    kept.append(spool.add(doc))
                else:
                    report.skip(verdict[1], doc.source)
                    counts[verdict[0]] += 1

    tasks = [(path, os.path.join(tmp, f'{i}.pickle'), options) for i, path in enumerate(paths)]
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context('fork')) if jobs > 1 else None
    results = pool.map(_read_web_file, tasks) if pool else map(_read_web_file, tasks)

    def check(docs: List[Document]) -> None:
        task = (models, [d.content for d in docs])
        in_flight.append((docs, pool.submit(_check_batch, task) if pool else _check_batch(task)))
        settle(2 * jobs)

    try:
        unseen: List[Tuple[Document, np.ndarray]] = []  # read, not yet deduplicated
        unseen_chars = 0

        def deduplicate() -> None:
            texts = lines.keep_new_lines_of([d.content for d, _ in unseen], [h for _, h in unseen])
            batch = []
            for (doc, _), text in zip(unseen, texts):
                if text is None:
                    report.skip('every line seen before (line deduplication)', doc.source)
                    counts['dedup'] += 1
                else:
                    doc.content = text
                    batch.append(doc)
            unseen.clear()
            if batch:
                check(batch)

        for path, (read, file_report, file_dumps, file_counts, digest) in zip(paths, results):
            digests[path] = digest
            report.merge(file_report)
            dumps.update(file_dumps)
            for key, value in file_counts.items():
                counts[key] += value
            for doc, hashes in _spooled(read):
                unseen.append((doc, hashes))
                unseen_chars += len(doc.content)
                if unseen_chars >= BATCH_CHARS:
                    deduplicate()
                    unseen_chars = 0
            os.remove(read)
        deduplicate()
        settle(0)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    report.filter_ran('web_records', {'read': counts['read']}, 0)
    if options.window:
        dated = dict(options.window.parameters(), date_from='published, else crawl')
        report.filter_ran('date_window', dated, counts['window'])
    length = {'min_chars': options.min_chars, 'max_chars': options.max_chars, 'title_line': 'left out'}
    report.filter_ran('length', length, counts['length'])
    dedup = {'normalised': 'stripped, lower-cased, digits 0, punctuation out', 'hash': 'SHA-1, 8 bytes'}
    dedup.update(lines_seen=lines.lines, lines_kept=lines.lines_kept)
    report.filter_ran('line_deduplication', dedup, counts['dedup'])
    report.filter_ran('language', language.parameters(), counts['language'])
    report.filter_ran(quality_name, quality_check.parameters(), counts['quality'])
    return kept


def _in_window(docs, window: DateWindow, report: Report, dated_by: str) -> List[Document]:
    """The documents inside ``window``, the filter recorded when there is one."""
    docs = list(docs)
    inside = list(keep_window(docs, window, report))
    if window:
        report.filter_ran(
            'date_window', dict(window.parameters(), date_from=dated_by), len(docs) - len(inside)
        )
    return inside


def _git_documents(paths, report, window, date_from, seed, tokenizer, suffixes) -> List[Document]:
    from .code_cleaning import clean_code, code_filters
    from .git_sources import read_git_sources

    origin = 'first-commit' if date_from == 'auto' else date_from
    if origin not in ('first-commit', 'repo-created'):
        raise BuildError(
            f'--date-from {date_from} does not date git sources: use first-commit or repo-created'
        )
    docs = _in_window(read_git_sources(paths, report, origin, suffixes=suffixes), window, report, origin)
    cleaned = clean_code(docs, report, seed, tokenizer)
    report.filter_ran('code', code_filters(tokenizer), len(docs) - len(cleaned))
    return cleaned


def _arxiv_documents(paths, report, window, metadata, keep_latex, pandoc_timeout, jobs) -> List[Document]:
    from .arxiv import read_arxiv

    papers = read_arxiv(paths, report, metadata, keep_latex, pandoc_timeout, jobs=jobs)
    return _in_window(papers, window, report, 'arxiv')


def _local_documents(
    plain: List[str],
    records: List[str],
    kind: str,
    report: Report,
    window: DateWindow,
    date_from: str,
    text_field: str,
    date_field: Optional[str],
    min_chars: int,
    max_chars: Optional[int],
    near_duplicate: float,
) -> List[Document]:
    docs = [d for d in (read_file(p, report, date_from) for p in plain) if d]
    for path in records:
        docs += read_records(path, text_field, date_field, report)
    inside = _in_window(docs, window, report, date_from)
    cleaned = [
        c for c in (clean(d, kind, report, min_chars=min_chars, max_chars=max_chars) for d in inside) if c
    ]
    rules = {'kind': kind, 'min_chars': min_chars, 'max_chars': max_chars}
    report.filter_ran('local_rules', rules, len(inside) - len(cleaned))
    unique = drop_duplicates(cleaned, report, near_duplicate)
    report.filter_ran(
        'duplicates',
        {'exact': 'whitespace-normalised SHA-256', 'near_jaccard': near_duplicate},
        len(cleaned) - len(unique),
    )
    return unique


def build(
    name: str,
    kind: str,
    sources: List[str],
    out: str,
    budget: Optional[int] = None,
    seed: int = 0,
    after: Optional[datetime.date] = None,
    records: Sequence[str] = (),
    text_field: str = 'text',
    date_field: Optional[str] = None,
    near_duplicate: float = 0.8,
    min_chars: Optional[int] = None,
    max_chars: Optional[int] = None,
    subset: Optional[str] = None,
    *,
    before: Optional[datetime.date] = None,
    date_from: str = 'auto',
    kenlm_model: Optional[str] = None,
    sentencepiece_model: Optional[str] = None,
    tokenizer=None,
    arxiv_metadata: Optional[str] = None,
    keep_latex: bool = False,
    pandoc_timeout: float = 10.0,
    jobs: Optional[int] = None,
    suffixes: Optional[Sequence[str]] = None,
    split_by: Optional[str] = None,
) -> Report:
    """Build ``{out}/{name}.jsonl`` and its manifest; returns what was kept and skipped
    (``report.faults`` > 0 when input was damaged; ``report.written``: each corpus written and
    its documents). ``split_by`` (month, quarter, year): the same cleaning, then one corpus and
    manifest per period of the documents' own dates, ``NAME_PERIOD`` (``cc_2026-01``), each
    sampled up to ``budget`` on its own; undated documents are skipped. ``min_chars`` defaults to 300 for web
    records (cc_net's) and 200 for plain files and records. BuildError when nothing can be
    built, naming why and what to change."""
    if kind not in KINDS:
        raise BuildError(f'kind must be one of {", ".join(KINDS)}, got {kind!r}')
    if split_by is not None and split_by not in SPLITS:
        raise BuildError(f'split_by must be one of {", ".join(SPLITS)}, got {split_by!r}')
    if date_from not in DATE_FROM:
        raise BuildError(f'date_from must be one of {", ".join(DATE_FROM)}, got {date_from!r}')
    if after and before and after >= before:
        raise BuildError(f'--after {after} is not before --before {before}: no day is in between')
    for path in records:
        if not os.path.isfile(path):
            raise BuildError(f'records file {path} does not exist')
    inputs = find_inputs(sources, kind, text_field) + [Input(p, 'records') for p in records]
    if not inputs:
        raise BuildError(
            f'no files match the sources {list(sources)}; give folders, globs (quote them) or --records FILE.'
        )
    by_kind = {
        k: [i.path for i in inputs if i.kind == k]
        for k in ('wet', 'warc', 'git', 'arxiv', 'records', 'plain')
    }
    web = sorted(by_kind['wet'] + by_kind['warc'])
    if web and kind != 'text':
        raise BuildError(f'{web[0]} is a WARC/WET file of web pages: build it with --kind text')
    if date_from == 'mtime' and (web or by_kind['git'] or by_kind['arxiv']):
        raise BuildError(
            '--date-from mtime dates plain files only; web records, git and arXiv sources carry dates '
            'of their own: leave --date-from at auto'
        )
    window = DateWindow(after, before)
    report = Report()
    for damaged in (i for i in inputs if i.kind == 'damaged'):  # a failed download, say
        report.fault(damaged.fault, damaged.path)
    docs = (
        _local_documents(
            by_kind['plain'],
            by_kind['records'],
            kind,
            report,
            window,
            date_from,
            text_field,
            date_field,
            PLAIN_MIN_CHARS if min_chars is None else min_chars,
            max_chars,
            near_duplicate,
        )
        if by_kind['plain'] or by_kind['records']
        else []
    )
    if by_kind['git']:
        docs += _git_documents(by_kind['git'], report, window, date_from, seed, tokenizer, suffixes)
    if by_kind['arxiv']:
        arxiv = by_kind['arxiv']
        docs += _arxiv_documents(
            arxiv, report, window, arxiv_metadata, keep_latex, pandoc_timeout, jobs or os.cpu_count() or 1
        )
    with tempfile.TemporaryDirectory(prefix='llmcompression-corpus-') as tmp:  # web records' spools
        dumps: set = set()
        digests: dict = {}  # the web files' SHA-256, computed by the processes that read them
        if web:
            options = WebOptions(window, MIN_CHARS if min_chars is None else min_chars, max_chars)
            models = (kenlm_model, sentencepiece_model)
            docs += _web_documents(
                web, report, options, jobs or os.cpu_count() or 1, models, dumps, tmp, digests
            )
        settings = dict(
            kind=kind,
            sources=list(sources),
            records=list(records),
            budget=budget,
            seed=seed,
            after=after.isoformat() if after else None,
            before=before.isoformat() if before else None,
            date_from=date_from,
            near_duplicate=near_duplicate,
            min_chars=min_chars,
            max_chars=max_chars,
        )
        provenance = {
            'inputs': [input_record(i.path, i.kind, digests.get(i.path)) for i in inputs],
            'dumps': sorted(dumps),
            'collections': collections_of([i.path for i in inputs]),
        }
        if split_by is None:
            _write(docs, out, name, subset or name, report, settings, provenance, budget, seed)
            return report
        parts = split_by_period(docs, split_by, report)
        if not parts:
            raise BuildError(
                f'no dated document is left for corpus "{name}" to split by {split_by}; skipped:\n  '
                + '\n  '.join(report.summary())
                + '\nCheck the sources, their dates and the filters.'
            )
        for key, part in parts.items():
            part_report = copy.deepcopy(report)
            part_settings = dict(settings, split_by=split_by, period=key)
            _write(
                part,
                out,
                f'{name}_{key}',
                subset or name,
                part_report,
                part_settings,
                provenance,
                budget,
                seed,
            )
            report.written.update(part_report.written)
            report.kept += part_report.kept
    return report


def _write(docs, out, name, subset, report, settings, provenance, budget, seed) -> None:
    """Whole documents in a seeded order up to ``budget`` -> ``{out}/{name}.jsonl`` and its
    manifest; what was kept goes to ``report`` (``kept``, ``written``)."""
    docs = sample(docs, budget, seed, report)
    if not docs:
        raise BuildError(
            f'no document is left for corpus "{name}"; skipped:\n  '
            + '\n  '.join(report.summary())
            + '\nCheck the sources and filters.'
        )
    report.kept = len(docs)
    report.written[name] = len(docs)
    write_corpus(docs, out, name, subset, report, settings, provenance)
