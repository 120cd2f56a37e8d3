"""One build, in stages: the settings checked, the inputs found and recognised, each kind of
input read and cleaned by its recipe's steps, the kept documents sampled and written.

    build('cc', 'text', ['crawl/'], 'data/llm-compression', after=date(2026, 1, 1)) -> Report

By input (``sources``), each recipe a list of steps (``steps``: every drop counted by reason,
every step's entry in the manifest):

    wet, warc     web_pipeline: web.read_web -> date window -> length (300) -> lines seen before
                  out -> English (lid.176 >= 0.5) -> KenLM head bucket, or quality rules
    git           git_sources.read_git_sources -> date window -> code_cleaning.code_steps
    arxiv         arxiv.read_arxiv -> date window
    plain, records local_files -> date window -> local_cleaning.LocalRules (with the length
                  rule) -> exact and near duplicates out (dedup.Duplicates)

then all kept documents (plain and records first, then git, arXiv and web inputs, each in
path order) -> whole documents in a seeded order up to ``budget`` -> manifest.write_corpus;
with ``split_by``, the kept documents first grouped by the period of their own date, each
period sampled and written on its own (``NAME_PERIOD``).

A file whose reader fails in a way no test foresaw (anything but a ``BuildError``) is counted
as a fault (``file not read to its end``) and the rest is built. Web files are read by
``jobs`` processes (``web_pipeline``); the output does not depend on ``jobs``.
"""

import dataclasses
import datetime
import os
import tempfile
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence

from ..core.logs import LOGGER
from .dates import DATE_FROM, GIT_DATE_FROM, SPLITS, DateWindow, period_key, split_by_period
from .dedup import Duplicates
from .documents import BuildError, Document, Report
from .local_cleaning import KINDS, PLAIN_MIN_CHARS, LocalRules
from .local_files import read_file, read_records
from .manifest import collections_of, input_record, write_corpus
from .sampling import sample
from .sources import Input, find_inputs
from .spool import close_readers, dump_of
from .steps import Step, Steps
from .text_cleaning import MIN_CHARS

NOT_READ = 'file not read to its end ({})'


@dataclass(frozen=True)
class Settings:
    """A build's settings (``build``'s keyword arguments; see ``cli`` for each one's meaning)."""

    budget: Optional[int] = None
    seed: int = 0
    after: Optional[datetime.date] = None
    before: Optional[datetime.date] = None
    records: Sequence[str] = ()
    text_field: str = 'text'
    date_field: Optional[str] = None
    near_duplicate: float = 0.8
    min_chars: Optional[int] = None
    max_chars: Optional[int] = None
    subset: Optional[str] = None
    date_from: str = 'auto'
    kenlm_model: Optional[str] = None
    sentencepiece_model: Optional[str] = None
    tokenizer: object = None
    arxiv_metadata: Optional[str] = None
    keep_latex: bool = False
    pandoc_timeout: float = 10.0
    jobs: Optional[int] = None
    suffixes: Optional[Sequence[str]] = None
    split_by: Optional[str] = None

    @property
    def window(self) -> DateWindow:
        return DateWindow(self.after, self.before)

    @property
    def processes(self) -> int:
        return self.jobs or os.cpu_count() or 1

    def manifest(self, kind: str, sources: List[str]) -> dict:
        """The settings as the manifest records them."""
        return dict(
            kind=kind,
            sources=list(sources),
            records=list(self.records),
            budget=self.budget,
            seed=self.seed,
            after=self.after.isoformat() if self.after else None,
            before=self.before.isoformat() if self.before else None,
            date_from=self.date_from,
            near_duplicate=self.near_duplicate,
            min_chars=self.min_chars,
            max_chars=self.max_chars,
        )


def build(name: str, kind: str, sources: List[str], out: str, **settings) -> Report:
    """Build ``{out}/{name}.jsonl`` and its manifest from ``sources`` (folders, files, globs),
    cleaned for ``kind`` (``code``, ``text``, ``latex``); ``settings`` are keyword-only, the
    fields of ``Settings``. Returns what was kept and skipped (``report.faults`` > 0 when
    input was damaged; ``report.written``: each corpus written and its documents).
    ``split_by`` (month, quarter, year): the same cleaning, then one corpus and manifest per
    period of the documents' own dates, ``NAME_PERIOD`` (``cc_2026-01``), each sampled up to
    ``budget`` on its own; undated documents are skipped. ``min_chars`` defaults to 300 for
    web records (cc_net's) and 200 for plain files and records. BuildError when nothing can
    be built, naming why and what to change; TypeError for a setting ``Settings`` lacks."""
    s = Settings(**settings)
    _check(kind, s)
    inputs = _inputs(sources, kind, s)
    by_kind = {
        k: [i.path for i in inputs if i.kind == k]
        for k in ('wet', 'warc', 'git', 'arxiv', 'records', 'plain')
    }
    web = sorted(by_kind['wet'] + by_kind['warc'])
    _check_routes(kind, s, web, by_kind)
    report = Report()
    for damaged in (i for i in inputs if i.kind == 'damaged'):  # a failed download, say
        report.fault(damaged.fault, damaged.path)
    with tempfile.TemporaryDirectory(prefix='llmcompression-corpus-') as tmp:  # kept web documents
        try:
            docs, digests, dumps = _documents(by_kind, web, kind, s, report, tmp)
            provenance = {
                'inputs': [input_record(i.path, i.kind, digests.get(i.path)) for i in inputs],
                'dumps': sorted(dumps),
                'collections': collections_of([i.path for i in inputs]),
            }
            _write_all(docs, out, name, kind, sources, s, report, provenance)
        finally:
            close_readers()
    return report


# ---- stage 1: the settings and the inputs ------------------------------------------------


def _check(kind: str, s: Settings) -> None:
    if kind not in KINDS:
        raise BuildError(f'kind must be one of {", ".join(KINDS)}, got {kind!r}')
    if s.split_by is not None and s.split_by not in SPLITS:
        raise BuildError(f'split_by must be one of {", ".join(SPLITS)}, got {s.split_by!r}')
    if s.date_from not in DATE_FROM:
        raise BuildError(f'date_from must be one of {", ".join(DATE_FROM)}, got {s.date_from!r}')
    if s.after and s.before and s.after >= s.before:
        raise BuildError(f'--after {s.after} is not before --before {s.before}: no day is in between')
    if s.jobs is not None and s.jobs < 1:
        raise BuildError('--jobs must be 1 or more')
    for path in s.records:
        if not os.path.isfile(path):
            raise BuildError(f'records file {path} does not exist')


def _inputs(sources: List[str], kind: str, s: Settings) -> List[Input]:
    inputs = find_inputs(sources, kind, s.text_field) + [Input(p, 'records') for p in s.records]
    if not inputs:
        raise BuildError(
            f'no files match the sources {list(sources)}; give folders, globs (quote them) or --records FILE.'
        )
    return inputs


def _check_routes(kind: str, s: Settings, web: List[str], by_kind: Dict[str, List[str]]) -> None:
    if web and kind != 'text':
        raise BuildError(f'{web[0]} is a WARC/WET file of web pages: build it with --kind text')
    local = by_kind['plain'] + by_kind['records']
    if s.tokenizer is not None and local and not by_kind['git']:
        raise BuildError(
            f'--tokenizer drives the characters-per-token step of the code cleaning of git sources, '
            f'and none is given: the {len(local)} files given ({local[0]}, ...) are cleaned by the '
            f'rules of plain files, which use no tokenizer. Give the repositories (folders holding '
            f'.git) as --source, or leave --tokenizer out'
        )
    if s.tokenizer is not None and local:
        LOGGER.warning(
            '--tokenizer applies to the git sources only: the %d plain files given (%s, ...) are '
            'cleaned without the characters-per-token step',
            len(local),
            local[0],
        )
    if s.date_from == 'mtime' and (web or by_kind['git'] or by_kind['arxiv']):
        raise BuildError(
            '--date-from mtime dates plain files only; web records, git and arXiv sources carry dates '
            'of their own: leave --date-from at auto'
        )


# ---- stage 2: each kind of input read and cleaned ----------------------------------------


def _documents(
    by_kind: Dict[str, List[str]], web: List[str], kind: str, s: Settings, report: Report, tmp: str
):
    """Every kind of input read and cleaned by its recipe: the kept documents (plain files and
    records, then git, arXiv and web inputs), the web files' SHA-256 and their dumps."""
    docs: list = []
    if by_kind['plain'] or by_kind['records']:
        docs += _local_documents(by_kind['plain'], by_kind['records'], kind, s, report)
    if by_kind['git']:
        docs += _git_documents(by_kind['git'], s, report)
    if by_kind['arxiv']:
        docs += _arxiv_documents(by_kind['arxiv'], s, report)
    if not web:
        return docs, {}, set()
    from .web_pipeline import WebRecipe, web_documents

    min_chars = MIN_CHARS if s.min_chars is None else s.min_chars
    recipe = WebRecipe(s.window, min_chars, s.max_chars, (s.kenlm_model, s.sentencepiece_model))
    kept, digests, dumps = web_documents(web, recipe, s.processes, report, tmp)
    return docs + kept, digests, dumps


def _each(
    paths: Iterable[str], read: Callable[[str], Iterable[Document]], report: Report
) -> Iterator[Document]:
    """The documents ``read(path)`` gives for each path in turn; a reader that fails in a way
    no test foresaw costs the rest of that path only (a fault), never the build."""
    for path in paths:
        try:
            yield from read(path)
        except BuildError:
            raise
        except Exception as e:
            report.fault(NOT_READ.format(type(e).__name__), path)


def _run(docs: Iterable[Document], steps: List[Step], report: Report) -> List[Document]:
    """The documents ``steps`` keep, each step's manifest entry recorded."""
    runner = Steps(steps)
    kept = list(runner.run(docs, report))
    runner.record(report)
    return kept


def _window(s: Settings, dated_by: str) -> List[Step]:
    """The date window as a step, when ``--after`` or ``--before`` asks for one."""
    return [dataclasses.replace(s.window, dated_by=dated_by)] if s.window else []


def _local_documents(
    plain: List[str], records: List[str], kind: str, s: Settings, report: Report
) -> List[Document]:
    def read_plain(path: str) -> Iterator[Document]:
        doc = read_file(path, report, s.date_from)
        if doc:
            yield doc

    def read(path: str) -> Iterable[Document]:
        return (
            read_plain(path) if path in plain_set else read_records(path, s.text_field, s.date_field, report)
        )

    plain_set = set(plain)
    rules = LocalRules(kind, PLAIN_MIN_CHARS if s.min_chars is None else s.min_chars, s.max_chars)
    steps = _window(s, s.date_from) + [rules, Duplicates(s.near_duplicate)]
    return _run(_each(plain + records, read, report), steps, report)


def _git_documents(paths: List[str], s: Settings, report: Report) -> List[Document]:
    from .code_cleaning import code_filters, code_steps
    from .git_sources import read_git_sources

    origin = 'first-commit' if s.date_from == 'auto' else s.date_from
    if origin not in GIT_DATE_FROM:
        raise BuildError(
            f'--date-from {s.date_from} does not date git sources: use first-commit or repo-created'
        )
    code = code_steps(s.seed, s.tokenizer)
    steps = Steps(_window(s, origin) + code)
    read = _each(paths, lambda path: read_git_sources([path], report, origin, suffixes=s.suffixes), report)
    kept = list(steps.run(read, report))
    steps.record(report)
    report.filter_ran('code', code_filters(s.tokenizer), sum(steps.removed[step.name] for step in code))
    return kept


def _arxiv_documents(paths: List[str], s: Settings, report: Report) -> List[Document]:
    from .arxiv import read_arxiv

    def read(_) -> Iterator[Document]:  # every path at once: one document per paper across them
        return read_arxiv(paths, report, s.arxiv_metadata, s.keep_latex, s.pandoc_timeout, jobs=s.processes)

    return _run(_each([', '.join(paths)], read, report), _window(s, 'arxiv'), report)


# ---- stage 3: sampled and written --------------------------------------------------------


def _write_all(
    docs: list, out: str, name: str, kind: str, sources, s: Settings, report: Report, provenance
) -> None:
    settings = s.manifest(kind, sources)
    subset = s.subset or name
    if s.split_by is None:
        _write(docs, out, name, subset, report, settings, provenance, s)
        return
    parts = split_by_period(docs, s.split_by, report)
    if not parts:
        raise BuildError(
            f'no dated document is left for corpus "{name}" to split by {s.split_by}; skipped:\n  '
            + '\n  '.join(report.summary())
            + '\nCheck the sources, their dates and the filters.'
        )
    for key, part in parts.items():  # each manifest: its own documents' skips and dumps
        part_report = report.of_period(lambda day, key=key: period_key(day, s.split_by) == key)
        part_settings = dict(settings, split_by=s.split_by, period=key)
        dumps = sorted({dump_of(doc) for doc in part} - {None})
        _write(
            part, out, f'{name}_{key}', subset, part_report, part_settings, dict(provenance, dumps=dumps), s
        )
        report.written.update(part_report.written)
        report.kept += part_report.kept


def _write(docs, out, name, subset, report, settings, provenance, s: Settings) -> None:
    """Whole documents in a seeded order up to ``budget`` -> ``{out}/{name}.jsonl`` and its
    manifest; what was kept goes to ``report`` (``kept``, ``written``)."""
    docs = sample(docs, s.budget, s.seed, report)
    if not docs:
        raise BuildError(
            f'no document is left for corpus "{name}"; skipped:\n  '
            + '\n  '.join(report.summary())
            + '\nCheck the sources and filters.'
        )
    report.kept = len(docs)
    report.written[name] = len(docs)
    write_corpus(docs, out, name, subset, report, settings, provenance)
