"""The web path: cc_net's steps over WET and WARC files, two passes over each file, a process
per file (``jobs`` at a time).

    kept, digests, dumps = web_documents(paths, WebRecipe(window, 300, None, models), jobs, report, tmp)

1. Hash pass (cc_net's hash stage): read the file (``web.read_web``), the date window and the
   length rule, then the hashes of the lines of each document left (``dedup.line_hashes``),
   saved to a private file; the file's distinct hashes and its SHA-256 go back to the main
   process. The main process takes the files in input order and keeps one ``HashSet`` of
   every line hash so far: the hashes of file i found in it are those of files 0..i-1.
2. Keep pass: read the file again, the same window and length, then line deduplication (the
   hashes of pass 1; seen: those of earlier files, given, then this file's own earlier lines,
   worked out for the whole file in one call),
   language (fastText lid.176) and quality (KenLM or the rules standing in for it), all as
   steps (``steps.Steps``). The kept documents go to the file's spool (``spool``); back to
   the main process go the counts, the file's report and the kept documents' handles.

A line is dropped when its hash was seen before in input order, in the same document or an
earlier one that reached line deduplication, exactly as one pass over all files in order would
drop it; so the output does not depend on ``jobs``. The main process holds one hash set
(8 to 16 bytes a distinct line) and, for each kept document, its size, date and source.
"""

import collections
import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Dict, Iterator, List, Optional, Tuple

import numpy as np

from ..core.checksums import file_sha256
from .dates import DateWindow
from .dedup import HashSet, LineDeduplicator, line_hashes, normalising_table
from .documents import BuildError, Document, Report
from .spool import DocumentSpool, SpooledDocument
from .steps import LengthFilter, Step, Steps
from .text_cleaning import LanguageFilter, quality_filter

NOT_READ = 'file not read to its end ({})'
BATCH_CHARS = 4_000_000  # characters of documents each step takes at a time in the keep pass


@dataclass(frozen=True)
class WebRecipe:
    """What each process reading a web file needs to know: the date window, the length rule
    (``min_chars``, ``max_chars``, counted without the title line) and the quality models
    (``kenlm_model``, ``sentencepiece_model``: both None for the quality rules)."""

    window: DateWindow
    min_chars: int
    max_chars: Optional[int] = None
    models: Tuple[Optional[str], Optional[str]] = (None, None)

    def front(self) -> List[Step]:
        """The steps before line deduplication: the window (when there is one), the length."""
        window = [dataclasses.replace(self.window, dated_by='published, else crawl')] if self.window else []
        return window + [LengthFilter(self.min_chars, self.max_chars, title_line='left out')]


_CHECKS: dict = {}


def _checks(models: Tuple[Optional[str], Optional[str]]) -> Tuple[Step, Step]:
    """This process's language and quality filters (loaded once per process)."""
    if models not in _CHECKS:
        _CHECKS[models] = (LanguageFilter(), quality_filter(*models))
    return _CHECKS[models]


def _read(path: str, report: Report, counts: collections.Counter, dated: bool) -> Iterator[Document]:
    """The file's documents (``counts['read']`` counts them, ``counts['dump: ...']`` their
    dumps); a reader's own fault on input no test foresaw ends this file there, as a fault,
    and the build goes on."""
    from .web import read_web

    try:
        for doc in read_web(path, report, dates_from_html=dated):
            counts['read'] += 1
            if doc.meta.get('dump'):
                counts['dump: ' + doc.meta['dump']] += 1
            yield doc
    except BuildError:
        raise
    except Exception as e:
        report.fault(NOT_READ.format(type(e).__name__), path)


def hash_pass(task: Tuple[str, str, WebRecipe]) -> Tuple[np.ndarray, Optional[str]]:
    """Pass 1 for one file: its documents' line hashes saved to ``hashes`` (``np.savez``:
    ``hashes``, uint64, and ``lines``, how many a document); returns the distinct hashes
    (sorted uint64) and the file's SHA-256 (None when it is not a file)."""
    path, hashes, recipe = task
    report, counts = Report(), collections.Counter()
    parts, lines = [], []
    dated = bool(recipe.window)  # publication dates matter to the window only
    for doc in Steps(recipe.front()).run(_read(path, report, counts, dated), report):
        parts.append(np.array(line_hashes(doc.content), dtype=np.uint64))
        lines.append(len(parts[-1]))
    every = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)
    with open(hashes, 'wb') as f:
        np.savez(f, hashes=every, lines=np.array(lines, dtype=np.int64))
    return np.unique(every), file_sha256(path) if os.path.isfile(path) else None


@dataclass
class FileResult:
    """What the keep pass of one file hands back: its report (skips and faults), how many
    documents it read, the dumps of those documents, the steps' counts, the lines seen and kept by line
    deduplication, and the kept documents (on disk)."""

    report: Report
    read: int
    dumps: List[str]
    removed: collections.Counter
    lines: int
    lines_kept: int
    kept: List[SpooledDocument]


def keep_pass(task: Tuple[str, str, np.ndarray, str, WebRecipe]) -> FileResult:
    """Pass 2 for one file (see the module): ``seen_before`` are the hashes of its lines that
    earlier files hold; the kept documents are written to ``spool``."""
    path, hashes, seen_before, spool_path, recipe = task
    with np.load(hashes) as saved:
        every, lines = saved['hashes'], saved['lines']
    os.remove(hashes)
    seen = HashSet()
    seen.add_new(seen_before)
    fresh = seen.add_new(every)  # the whole file at once: the same as document after document
    starts = np.concatenate([[0], np.cumsum(lines)])
    position = iter(range(len(lines)))

    def new_lines(doc: Document) -> np.ndarray:
        k = next(position, None)
        if k is None or lines[k] != doc.content.count('\n') + 1:  # read otherwise than in pass 1
            return seen.add_new(np.array(line_hashes(doc.content), dtype=np.uint64))
        return fresh[starts[k] : starts[k + 1]]

    lines_out = LineDeduplicator(seen, new_lines)
    steps = Steps(recipe.front() + [lines_out, *_checks(recipe.models)])
    report, counts = Report(), collections.Counter()
    spool = DocumentSpool(spool_path)
    kept = []
    try:
        for doc in steps.run(_read(path, report, counts, True), report, BATCH_CHARS):
            kept.append(spool.add(doc))
    finally:
        spool.close()
    dumps = sorted(key[len('dump: ') :] for key in counts if key.startswith('dump: '))
    return FileResult(
        report, counts['read'], dumps, steps.removed, lines_out.lines, lines_out.lines_kept, kept
    )


def web_documents(
    paths: List[str], recipe: WebRecipe, jobs: int, report: Report, tmp: str
) -> Tuple[List[SpooledDocument], Dict[str, Optional[str]], set]:
    """The kept documents of the web files ``paths`` (in input order, on disk in ``tmp``),
    each file's SHA-256 and the dumps read; skips, faults and every step's manifest entry go
    to ``report``. BuildError when a filter cannot be loaded (before any file is read)."""
    language, quality = _checks(recipe.models)  # loaded before the processes are forked
    normalising_table()
    seen = HashSet()
    kept: List[SpooledDocument] = []
    digests: Dict[str, Optional[str]] = {}
    dumps: set = set()
    removed: collections.Counter = collections.Counter()
    read = lines = lines_kept = 0
    first = [(path, os.path.join(tmp, f'{i}.hashes.npz'), recipe) for i, path in enumerate(paths)]
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context('fork')) if jobs > 1 else None
    try:
        hashed = pool.map(hash_pass, first) if pool else map(hash_pass, first)
        results = []
        for i, (path, (distinct, digest)) in enumerate(zip(paths, hashed)):
            digests[path] = digest
            before = distinct[~seen.add_new(distinct)]
            task = (path, first[i][1], before, os.path.join(tmp, f'{i}.kept.pickle'), recipe)
            results.append(pool.submit(keep_pass, task) if pool else keep_pass(task))
        for result in results:
            result = result.result() if pool else result
            report.merge(result.report)
            dumps.update(result.dumps)
            removed.update(result.removed)
            read, lines, lines_kept = read + result.read, lines + result.lines, lines_kept + result.lines_kept
            kept += result.kept
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    report.filter_ran('web_records', {'read': read}, 0)
    lines_out = LineDeduplicator()
    lines_out.lines, lines_out.lines_kept = lines, lines_kept
    totals = Steps(recipe.front() + [lines_out, language, quality])  # the files' steps, counted together
    totals.removed = removed
    totals.record(report)
    return kept, digests, dumps
