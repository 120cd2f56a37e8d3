"""Mathematics from arXiv sources, made as the paper's ``arxiv_math`` was: each paper's main
``.tex`` converted to Markdown by pandoc, of papers whose first category is mathematics.

    read_arxiv(['arXiv_src_2601_001.tar'], report, 'arxiv-metadata-oai-snapshot.json',
               keep_latex=False, pandoc_timeout=10.0) -> Documents

Sources, recognised by content (``is_arxiv_source``):

- a bulk source tar as arXiv's S3 bucket serves it, ``arXiv_src_YYMM_NNN.tar``, holding
  ``YYMM/<id>.gz`` (a gzipped tar of the paper's sources, or a gzipped single ``.tex``) and
  ``YYMM/<id>.pdf`` (papers submitted as PDF only);
- a paper's e-print (``https://arxiv.org/e-print/<id>``) under any name: a tar (gzipped or
  not) holding a ``.tex`` at its top, or a gzipped TeX file; named by its id (``2601.01234v2``,
  ``arXiv-2601.01234v2.tar.gz``), also a PDF or plain TeX; or a folder holding e-prints, whose
  every file is then read (or counted with why not).

The id and version of an e-print come from its file name (``name_id``), else from the name its
gzip header records; without either the paper is read without an id: no metadata to filter or
date it by (with ``metadata`` it is skipped, saying so), undated (``meta['date_unknown']``).

The paper's pipeline (hkust-nlp/llm-compression-intelligence, ``code/data_collection/arxiv``,
after The Pile's arXiv script), step by step, and what is done here:

1. Categories from arXiv's metadata snapshot (JSON lines with ``id``, ``categories``,
   ``versions``; ``data_tag_filter.py``): a paper is kept when the archive of its first
   category is ``math`` (``math.AG``... kept; ``math-ph`` first is not). Here the same, given
   ``metadata``; without it no category filter runs (every paper is kept) and the log says so.
2. Each paper's ``.gz`` unpacked (``arxiv_extractor.py``): a tar of sources, or a single
   ``.tex``; anything else (PDF) dropped. Here read in memory, never extracted to disk, with
   every read bounded (``archive_members``); a PDF-only paper is skipped with that reason.
3. The main ``.tex``, among the files at the top of the paper's sources: the first whose name
   holds ``main``, ``Main``, ``MAIN``, ``paper`` or ``Paper`` (in that order of words); else
   the only ``.tex``; else every ``.tex`` holding ``\\title`` (each its own document, as the
   paper's loop yields them all).
4. pandoc, run in the paper's folder so that ``\\input``/``\\include`` reach the other files:
   ``pandoc -s FILE -o OUT.md --wrap=none`` under ``timeout 10s``; a failure drops the paper.
   Here ``\\input`` and ``\\include`` are followed by this module (outside comments, from the
   paper's own files only, 20 levels deep at most) and the whole text is given to pandoc on
   standard input with ``--sandbox`` (it reads no file), from an empty private folder, with
   ``pandoc_timeout`` seconds (killed past it: a fault) and a heap bound; a paper pandoc
   cannot convert is skipped with pandoc's own message (``pandoc_message``); ``keep_latex``
   keeps the LaTeX (inputs followed) and runs no pandoc.
5. Lines that start with ``:::`` (after leading spaces) removed (``data_clean.py``: pandoc's
   fenced divs).
6. No deduplication and no other filter. Here one document per arXiv id (``latest_copies``):
   a paper given twice (an e-print folder and a bulk tar, two versions) is read once, the
   highest version named, a copy without a version counting as the latest; the others are
   skipped, and the manifest names them with the copy kept. Papers of different ids are not
   compared, as the paper compared none.

Dates: with ``metadata``, the first version's date (``versions[0].created``, in UTC),
``date_source`` ``first-version``; without it, the first day of the month the id names
(``2601.01234`` -> 2026-01-01), ``date_source`` ``id-month``. The source text is read as
UTF-8, else as Latin-1 (the paper guessed the encoding with chardet), a UTF-8 byte-order mark
at a file's start left out. Each document's ``meta`` holds ``id``, ``main_tex``, ``version``
when the name gives one and, with metadata, ``categories`` and ``title``.
"""

import codecs
import collections
import datetime
import email.utils
import gzip
import importlib.util
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ..core.logs import LOGGER
from .archive_members import (
    ARCHIVE_ERRORS,
    TooLarge,
    gunzip,
    read_bounded,
    safe_name,
    tar_cut_short,
    tar_files,
)
from .documents import BuildError, Document, Report, is_binary

PAPER_PANDOC_TIMEOUT = 10.0  # seconds, the paper's `timeout 10s`
PANDOC_ARGS = ('--from=latex', '--to=markdown', '--standalone', '--wrap=none', '--sandbox')
PANDOC_HEAP = '2G'  # pandoc's own memory bound (+RTS -M), as its manual advises for untrusted input
MAX_PAPER_BYTES = 256 * 1024**2  # one paper's sources, unpacked
MAX_LATEX_CHARS = 64 * 1024**2  # one paper's LaTeX with its inputs followed
MAX_INPUT_DEPTH = 20
MAX_MESSAGE_CHARS = 160  # pandoc's message, in a reason
MAX_REPLACED_SHOWN = 20  # copies of a paper given twice, named in the manifest
TAR_PEEK = 1000  # members looked at to tell a tar of a paper's sources
MAIN_WORDS = ('main', 'Main', 'MAIN', 'paper', 'Paper')
FIRST_CATEGORY_ARCHIVE = 'math'

# arXiv ids in file names: 2601.01234 (new style), math0601001 (old style, no slash), with a
# version or not, anywhere in a new-style name (``arXiv-2601.01234v2.tar.gz``), at the start of
# an old-style one (after ``arXiv-`` or ``arXiv_`` if any)
NEW_ID = r'\d{4}\.\d{4,5}'
OLD_ID = r'[a-z][a-z-]*(?:\.[A-Z]{2})?\d{7}'
NEW_IN_NAME = re.compile(rf'(?<![\d.])(?P<id>{NEW_ID})(?!\d)(?:v(?P<version>\d+)(?!\d))?')
OLD_IN_NAME = re.compile(rf'^(?i:arxiv[-_:]?)?(?P<id>{OLD_ID})(?!\d)(?:v(?P<version>\d+)(?!\d))?')
BULK_MEMBER = re.compile(rf'^\d{{4}}/(?:{NEW_ID}|{OLD_ID})(?:v\d+)?\.(?:gz|pdf)$')
OLD_SPLIT = re.compile(r'^([a-z][a-z-]*(?:\.[A-Z]{2})?)(\d{7})$')
INPUT = re.compile(r'\\(?:input|include)(?![A-Za-z@])\s*(?:\{([^{}]*)\}|([^\s{}%\\]+))')
COMMENT = re.compile(r'(?<!\\)((?:\\\\)*)%')
TEX_MARKERS = re.compile(r'\\(documentclass|documentstyle|begin\s*\{document\}|input|section|title)\b')
PANDOC_POSITION = re.compile(r'^Error at (?:"[^"]*" )?\(line \d+, column \d+\):\s*')
ID_IN_METADATA = re.compile(r'"id"\s*:\s*"([^"]+)"')

GZIP_MAGIC = b'\x1f\x8b'
SINGLE_TEX = 'main.tex'  # the name a paper submitted as one .tex goes by (``meta['main_tex']``)


def name_id(filename: str) -> Tuple[Optional[str], Optional[int]]:
    """The paper id a file's name holds, as the metadata writes it (``2601.01234``,
    ``math/0601001``), and its version (``v2`` -> 2; None when the name gives none); ``(None,
    None)`` when the name holds no arXiv id. ``arXiv-2410.17197v2.tar.gz`` ->
    ``('2410.17197', 2)``."""
    match = NEW_IN_NAME.search(filename) or OLD_IN_NAME.match(filename)
    if not match:
        return None, None
    paper = match.group('id')
    old = OLD_SPLIT.match(paper)
    version = match.group('version')
    return (f'{old.group(1)}/{old.group(2)}' if old else paper), (int(version) if version else None)


def arxiv_id(filename: str) -> Optional[str]:
    """The paper id a file's name holds (``name_id``), or None."""
    return name_id(filename)[0]


def id_month(paper: str) -> Optional[datetime.date]:
    """The first day of the month an id names: ``2601.01234`` -> 2026-01-01 (new ids began
    in April 2007), ``math/9901001`` -> 1999-01-01; None for a month that does not exist."""
    digits = paper.split('/')[-1]
    yy, mm = int(digits[:2]), int(digits[2:4])
    if not 1 <= mm <= 12:
        return None
    return datetime.date(1900 + yy if yy >= 91 else 2000 + yy, mm, 1)


# ---- what a source is -------------------------------------------------------------------


def _is_bulk_tar(path: str) -> bool:
    try:
        with tarfile.open(path, 'r:') as tar:
            for _, info in zip(range(8), tar):
                if BULK_MEMBER.match(info.name):
                    return True
    except ARCHIVE_ERRORS:
        return False
    return False


def _head(path: str, size: int = 65536) -> Tuple[bytes, bytes]:
    """The file's first ``size`` bytes, and as many of their gunzipped bytes as they give
    (b'' when the file is not gzipped or unreadable)."""
    try:
        with open(path, 'rb') as f:
            raw = f.read(size)
    except OSError:
        return b'', b''
    if not raw.startswith(GZIP_MAGIC):
        return raw, b''
    try:
        return raw, zlib.decompressobj(wbits=31).decompress(raw, size)
    except zlib.error:
        return raw, b''


def _tar_holds_tex(path: str) -> bool:
    """Whether a (gzipped) tar holds a ``.tex`` file at its top (where a paper's main file is;
    a repository archive holds everything under one folder) among its first ``TAR_PEEK``
    members."""
    try:
        with tarfile.open(path, 'r:*') as tar:
            for _, info in zip(range(TAR_PEEK), tar):
                name = safe_name(info.name) or ''
                if info.isfile() and '/' not in name and name.lower().endswith('.tex'):
                    return True
    except ARCHIVE_ERRORS:
        return False
    return False


def _is_eprint(path: str) -> bool:
    """A paper's e-print by its content: a tar (gzipped or not) holding a ``.tex`` file at its
    top, or a gzipped TeX file (starting with a command or a comment), under any name; a file
    named by an arXiv id may also be a PDF, TeX, or any gzip (its damage then counted when it
    is read)."""
    raw, unpacked = _head(path)
    if name_id(os.path.basename(path))[0] is not None:
        if raw.startswith((GZIP_MAGIC, b'%PDF')) or raw[:1] in (b'\\', b'%'):
            return True
    if (unpacked or raw)[257:262] == b'ustar':
        return _tar_holds_tex(path)
    text = _decode_tex(unpacked).lstrip() if unpacked else ''
    return text[:1] in ('\\', '%') and _looks_like_tex(text)  # not JSON or Markdown quoting TeX


def gzip_name(raw: bytes) -> Optional[str]:
    """The file name a gzip header records (its FNAME field), or None."""
    if len(raw) < 10 or not raw.startswith(GZIP_MAGIC) or not raw[3] & 0x08:
        return None
    at = 10
    if raw[3] & 0x04:  # FEXTRA: two bytes of length, then the field
        at += 2 + int.from_bytes(raw[10:12], 'little')
    end = raw.find(b'\0', at)
    return raw[at:end].decode('latin-1') if end > at else None


def is_arxiv_source(path: str) -> bool:
    """Whether ``read_arxiv`` reads ``path``: an arXiv bulk source tar (its members named
    ``YYMM/<id>.gz`` or ``.pdf``), a paper's e-print (``_is_eprint``: recognised by content,
    under any name), or a folder holding e-prints at its top."""
    if os.path.isdir(path):
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return False
        return any(_is_eprint(os.path.join(path, n)) for n in names if os.path.isfile(os.path.join(path, n)))
    if not os.path.isfile(path):
        return False
    return _is_bulk_tar(path) or _is_eprint(path)


# ---- papers in a source -----------------------------------------------------------------


@dataclass
class _Paper:
    id: Optional[str]  # None: neither the name nor the gzip header holds one
    version: Optional[int]  # None: not named (taken as the latest, as arXiv serves it)
    source: str
    read: Callable[[], bytes]


def _file_paper(path: str) -> _Paper:
    """A paper's e-print file: its id and version from its name, else from the name its gzip
    header records."""
    paper, version = name_id(os.path.basename(path))
    if paper is None:
        recorded = gzip_name(_head(path, 4096)[0])
        if recorded:
            paper, version = name_id(posixpath.basename(recorded.replace('\\', '/')))
    return _Paper(paper, version, path, lambda: _read_file(path))


def _papers(path: str, report: Report) -> Iterator[_Paper]:
    """Each paper of a source: every file at the top of a folder of e-prints, in name order
    (what is no e-print is counted when it is read); the one paper of an e-print file; the
    ``YYMM/<id>.gz`` members of a bulk tar, in archive order."""
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if os.path.isfile(full):
                yield _file_paper(full)
        return
    if not _is_bulk_tar(path):
        yield _file_paper(path)
        return
    try:
        with tarfile.open(path, 'r:') as tar:
            for info in tar:
                where = f'{path}!{info.name}'
                paper, version = name_id(posixpath.basename(info.name))
                if not info.isfile() or paper is None:
                    if info.issym() or info.islnk():
                        report.fault('link member in a bulk source tar (not followed)', where)
                    elif info.isfile():
                        report.skip('member of a bulk source tar not named by an arXiv id', where)
                    continue
                if info.size > MAX_PAPER_BYTES:
                    report.fault(f'paper larger than {MAX_PAPER_BYTES} bytes (not read)', where)
                    continue
                yield _Paper(paper, version, where, lambda info=info, tar=tar: tar.extractfile(info).read())
            if tar_cut_short(tar):
                report.fault('archive cut short (the rest not read)', path)
    except ARCHIVE_ERRORS as e:
        report.fault(f'damaged tar ({type(e).__name__})', path)


def _read_file(path: str) -> bytes:
    with open(path, 'rb') as f:
        return read_bounded(f, MAX_PAPER_BYTES)


# ---- metadata ---------------------------------------------------------------------------


@dataclass
class PaperInfo:
    categories: str
    first_version: Optional[datetime.date]
    title: Optional[str]
    licence: Optional[str]

    @property
    def first_category_archive(self) -> str:
        first = self.categories.split()
        return first[0].split('.')[0] if first else ''


def _first_version(versions) -> Optional[datetime.date]:
    try:
        created = email.utils.parsedate_to_datetime(versions[0]['created'])
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if created.tzinfo is not None:
        created = created.astimezone(datetime.timezone.utc)
    return created.date()


def load_metadata(path: str, wanted: Set[str]) -> Dict[str, PaperInfo]:
    """The ``wanted`` papers' entries of an arXiv metadata snapshot (JSON lines, plain or
    gzipped, as Kaggle's ``arxiv-metadata-oai-snapshot.json``), by id; lines that are not
    JSON objects with an ``id`` are passed over. BuildError for a file that cannot be read."""
    found: Dict[str, PaperInfo] = {}
    try:
        with open(path, 'rb') as f:
            gzipped = f.read(2) == GZIP_MAGIC
        opener = gzip.open if gzipped else open
        with opener(path, 'rt', encoding='utf-8', errors='replace') as f:
            for line in f:
                match = ID_IN_METADATA.search(line[:200])
                if not match or match.group(1) not in wanted:
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(row, dict) or not isinstance(row.get('categories'), str):
                    continue
                found[row['id']] = PaperInfo(
                    row['categories'],
                    _first_version(row.get('versions')),
                    row.get('title'),
                    row.get('license'),
                )
    except (OSError, EOFError) as e:
        raise BuildError(
            f'cannot read the arXiv metadata {path} ({e}); give the JSON-lines snapshot '
            '(arxiv-metadata-oai-snapshot.json, plain or gzipped)'
        ) from None
    return found


# ---- one paper's sources ----------------------------------------------------------------


def _decode_tex(data: bytes) -> str:
    """A TeX file's text: UTF-8, else Latin-1; a UTF-8 byte-order mark at its start left out
    (TeX ignores it; in an ``\\input`` file it would land mid-text)."""
    data = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return data.decode('latin-1')


def _looks_like_tex(text: str) -> bool:
    return bool(TEX_MARKERS.search(text[:100_000]))


def _is_tar(payload: bytes) -> bool:
    if payload[257:262] == b'ustar':
        return True
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode='r:') as tar:
            return tar.next() is not None
    except ARCHIVE_ERRORS:
        return False


def _tar_sources(payload: bytes, where: str, report: Report) -> Dict[str, str]:
    """The text files of a paper's tar, by normalised name (binary files left out)."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(payload), mode='r:') as tar:
        for name, data in tar_files(tar, where, report, MAX_PAPER_BYTES, MAX_PAPER_BYTES):
            if data is not None and not is_binary(data):
                files[name] = _decode_tex(data)
    return files


def main_tex_files(files: Dict[str, str]) -> List[str]:
    """The paper's main ``.tex`` files among ``files`` (name -> text), chosen as the paper's
    pipeline chose them (step 3 of the module's docstring): one name, or every top-level
    ``.tex`` holding ``\\title`` when neither a main/paper name nor a single file decides."""
    top = sorted(name for name in files if '/' not in name and name.endswith('.tex'))
    for word in MAIN_WORDS:
        for name in top:
            if word in name:
                return [name]
    if len(top) == 1:
        return top
    return [name for name in top if '\\title' in files[name]]


class _Expansion:
    """``\\input``/``\\include`` followed from a paper's own files."""

    def __init__(self, files: Dict[str, str]):
        self.files = files
        self.chars = 0

    def resolve(self, target: str) -> Optional[str]:
        target = target.strip().strip('"')
        for candidate in (target, target + '.tex'):
            if candidate.startswith('/'):
                return None
            name = posixpath.normpath(candidate)
            if name in self.files and not name.startswith('../'):
                return name
        return None

    def expand(self, name: str, stack: Tuple[str, ...] = ()) -> str:
        out = []
        for line in self.files[name].splitlines(keepends=True):
            comment = COMMENT.search(line)
            cut = comment.end(1) if comment else len(line)
            code, rest = line[:cut], line[cut:]
            out.append(INPUT.sub(lambda m, stack=stack + (name,): self._inline(m, stack), code) + rest)
        text = ''.join(out)
        self.chars += len(text)
        if self.chars > MAX_LATEX_CHARS:
            raise TooLarge(f'inputs expand past {MAX_LATEX_CHARS} characters')
        return text

    def _inline(self, match: re.Match, stack: Tuple[str, ...]) -> str:
        target = self.resolve(match.group(1) if match.group(1) is not None else match.group(2))
        if target is None or target in stack or len(stack) > MAX_INPUT_DEPTH:
            return match.group(0)
        return self.expand(target, stack)


def follow_inputs(files: Dict[str, str], main: str) -> str:
    """``main``'s text with each ``\\input{name}`` / ``\\include{name}`` outside comments
    replaced by that file's text (``name`` or ``name.tex``, from the paper's top folder),
    recursively; an input that is not among ``files`` (or would loop) stays as written.
    TooLarge past ``MAX_LATEX_CHARS``."""
    return _Expansion(files).expand(main)


# ---- pandoc -----------------------------------------------------------------------------


def pandoc_binary() -> str:
    """The pandoc that ``pypandoc-binary`` ships, else one on the PATH. BuildError if none."""
    spec = importlib.util.find_spec('pypandoc')
    if spec is not None and spec.origin:
        shipped = os.path.join(os.path.dirname(spec.origin), 'files', 'pandoc')
        if os.access(shipped, os.X_OK):
            return shipped
    found = shutil.which('pandoc')
    if found:
        return found
    raise BuildError(
        'pandoc is not installed: pip install pypandoc-binary (it ships pandoc), or keep the papers as LaTeX'
    )


def pandoc_version() -> str:
    """pandoc's first ``--version`` line (``pandoc 3.9``), or why there is none."""
    try:
        out = subprocess.run([pandoc_binary(), '--version'], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f'unknown ({type(e).__name__})'
    return out.stdout.decode('utf-8', 'replace').split('\n', 1)[0].strip()


def pandoc_message(stderr: bytes, limit: int = MAX_MESSAGE_CHARS) -> str:
    """pandoc's error message on one line, at most ``limit`` characters: its lines up to the
    first blank one (after which pandoc quotes the source), without the position it names
    first (``Error at (line 9, column 1):``, which differs from paper to paper). ``unexpected
    end of input expecting \\end{minted}``."""
    lines = [line.strip() for line in stderr.decode('utf-8', 'replace').strip().splitlines()]
    if lines and PANDOC_POSITION.match(lines[0]):
        lines[0] = PANDOC_POSITION.sub('', lines[0])
        lines = lines[1:] if not lines[0] else lines
    if '' in lines:
        lines = lines[: lines.index('')]
    text = ' '.join(' '.join(lines).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + '\u2026'
    return text or 'no message'


class PandocFailed(Exception):
    def __init__(self, reason: str, fault: bool):
        super().__init__(reason)
        self.reason, self.fault = reason, fault


def to_markdown(latex: str, timeout: float, folder: str) -> str:
    """pandoc's Markdown of ``latex`` (``PANDOC_ARGS``, run in ``folder``), with the lines that
    start with ``:::`` removed. PandocFailed: past ``timeout`` seconds (pandoc killed) or its
    heap bound (faults), or pandoc could not convert it."""
    command = [pandoc_binary(), *PANDOC_ARGS, '+RTS', f'-M{PANDOC_HEAP}', '-RTS']
    try:
        done = subprocess.run(
            command,
            input=latex.encode('utf-8', 'surrogatepass'),
            capture_output=True,
            timeout=timeout,
            cwd=folder,
        )
    except subprocess.TimeoutExpired:
        raise PandocFailed(f'pandoc ran past {timeout:g} s (killed)', fault=True) from None
    if done.returncode == 251:  # the GHC runtime's exit status for an exhausted heap
        raise PandocFailed(f'pandoc ran past its {PANDOC_HEAP} heap bound', fault=True)
    if done.returncode != 0:
        raise PandocFailed(pandoc_message(done.stderr), fault=False)
    markdown = done.stdout.decode('utf-8', 'replace')
    return ''.join(line for line in markdown.splitlines(keepends=True) if not line.strip().startswith(':::'))


# ---- the reader -------------------------------------------------------------------------

REASONS = {
    'other_copy': 'another copy of the paper kept (one document per arXiv id: the latest version given)',
    'no_id': 'no arXiv id in its file name or gzip header, so no metadata: name the file by its id',
    'first_category': f'first category is not {FIRST_CATEGORY_ARCHIVE}.*',
    'no_metadata_entry': 'not in the arXiv metadata',
    'pdf_only': 'PDF only (no TeX source)',
    'not_tex': 'neither TeX nor a tar of sources',
    'no_main_tex': 'no main .tex at the top of its sources',
    'pandoc': 'pandoc could not convert it',
    'empty': 'empty after conversion',
}


def arxiv_filters(
    metadata: Optional[str], keep_latex: bool, pandoc_timeout: float, replaced: Sequence[Tuple[str, str]] = ()
) -> Dict[str, object]:
    """``ARXIV_FILTERS`` with a call's choices: whether the category filter ran, whether
    pandoc ran (with its version, time limit and heap bound), which copies of a paper given
    twice were dropped for which (``replaced``: ``(dropped, kept)`` sources, the first
    ``MAX_REPLACED_SHOWN`` of them). For the manifest."""
    filters = {step: dict(parameters) for step, parameters in ARXIV_FILTERS.items()}
    filters['one_per_id']['replaced'] = [
        {'dropped': dropped, 'kept': kept} for dropped, kept in replaced[:MAX_REPLACED_SHOWN]
    ]
    filters['first_category']['ran'] = (
        f'yes, with {os.path.basename(metadata)}' if metadata else 'no: no metadata given, every paper kept'
    )
    filters['dates']['used'] = 'first-version' if metadata else 'id-month'
    if keep_latex:
        filters['pandoc'] = {'ran': 'no: LaTeX kept (inputs followed)'}
    else:
        filters['pandoc'].update(ran='yes', version=pandoc_version(), timeout_s=pandoc_timeout)
    return filters


ARXIV_FILTERS: Dict[str, Dict[str, object]] = {
    'first_category': {
        'rule': "categories.split()[0].split('.')[0] == 'math' (math.* kept; math-ph first is not)",
        'needs': 'the arXiv metadata snapshot',
    },
    'pdf_only': {'rule': 'papers without TeX source dropped'},
    'main_tex': {
        'rule': 'top-level .tex named with main/Main/MAIN/paper/Paper, else the only one, '
        'else every one holding \\title',
        'inputs': f'\\input and \\include followed from the paper\'s files, {MAX_INPUT_DEPTH} deep at most',
        'encoding': 'UTF-8, else Latin-1',
    },
    'pandoc': {
        'args': list(PANDOC_ARGS),
        'timeout_s': PAPER_PANDOC_TIMEOUT,
        'heap': PANDOC_HEAP,
        'drop_lines_starting': ':::',
    },
    'bounds': {'max_paper_bytes': MAX_PAPER_BYTES, 'max_latex_chars': MAX_LATEX_CHARS},
    'dates': {
        'first-version': 'versions[0].created of the metadata, UTC',
        'id-month': "the id's YYMM, day 1",
        'no id': 'undated',
    },
    'one_per_id': {
        'rule': 'one document per arXiv id: the copy with the highest version in its name, a copy '
        'without one counting as the latest (arXiv serves the latest under a bare id); on a tie the '
        'first given',
        'near_duplicates': 'kept: papers of different ids are not compared (the paper did no deduplication)',
    },
}


class _Reader:
    """Papers to documents. Conversions run ``jobs`` at a time (pandoc is a process of its
    own); their outcomes are taken, and reported, in the papers' order, so the result and the
    report are the same for any ``jobs``."""

    def __init__(
        self,
        report: Report,
        info: Optional[Dict[str, PaperInfo]],
        keep_latex: bool,
        timeout: float,
        jobs: int,
    ):
        self.report, self.info, self.keep_latex, self.timeout = report, info, keep_latex, timeout
        self.kept: Dict[str, str] = {}  # arXiv id -> the source of the copy read
        self.removed = {step: 0 for step in REASONS}
        self.folder = None if keep_latex else tempfile.mkdtemp(prefix='llmcompression-pandoc-')
        self.pool = ThreadPoolExecutor(max_workers=jobs) if jobs > 1 and not keep_latex else None
        self.pending = collections.deque()
        self.window = 2 * jobs

    def skip(self, step: str, where: str, detail: Optional[str] = None) -> None:
        self.removed[step] += 1
        self.report.skip(f'{REASONS[step]}: {detail}' if detail else REASONS[step], where)

    def add(self, paper: _Paper) -> Iterator[Document]:
        """Start the paper's conversions; yield the documents of those finished, in order."""
        for where, document, work in self._jobs(paper):
            outcome = self.pool.submit(work) if self.pool else _Done(work())
            self.pending.append((where, document, outcome))
        while len(self.pending) > (self.window if self.pool else 0):
            yield from self._take()

    def finish(self) -> Iterator[Document]:
        while self.pending:
            yield from self._take()

    def _take(self) -> Iterator[Document]:
        where, document, outcome = self.pending.popleft()
        kind, value = outcome.result()
        if kind == 'fault':
            self.report.fault(value, where)
        elif kind == 'skip':
            step, *detail = value
            self.skip(step, where, *detail)
        else:
            document.content = value
            yield document

    def _jobs(self, paper: _Paper) -> Iterator[Tuple[str, Document, Callable[[], Tuple[str, str]]]]:
        if paper.id is not None and self.kept.get(paper.id, paper.source) != paper.source:
            return self.skip('other_copy', paper.source)
        info = None
        if self.info is not None:
            if paper.id is None:
                return self.skip('no_id', paper.source)
            info = self.info.get(paper.id)
            if info is None:
                return self.skip('no_metadata_entry', paper.source)
            if info.first_category_archive != FIRST_CATEGORY_ARCHIVE:
                return self.skip('first_category', paper.source)
        files = self._sources(paper)
        if files is None:
            return
        mains = main_tex_files(files)
        if not mains:
            return self.skip('no_main_tex', paper.source)
        single = files.keys() == {SINGLE_TEX}
        for main in mains:
            where = paper.source if single else f'{paper.source}!{main}'
            meta = {'id': paper.id, 'main_tex': main}
            if paper.version is not None:
                meta['version'] = f'v{paper.version}'
            if info is not None:
                meta.update(categories=info.categories, title=info.title)
                date, date_source = info.first_version, 'first-version' if info.first_version else None
            elif paper.id is None:
                date, date_source = None, None
                meta['date_unknown'] = 'no arXiv id in its file name or gzip header'
            else:
                date = id_month(paper.id)
                date_source = 'id-month' if date else None
            licence = info.licence if info is not None else None
            document = Document('', where, date, licence, date_source, meta)
            yield where, document, lambda main=main: self._convert(files, main)

    def _sources(self, paper: _Paper) -> Optional[Dict[str, str]]:
        """The paper's text files by name, or None (and why, in the report)."""
        try:
            raw = paper.read()
        except TooLarge as e:
            return self.report.fault(f'paper {e} (not read)', paper.source)
        except ARCHIVE_ERRORS as e:
            return self.report.fault(f'damaged tar ({type(e).__name__})', paper.source)
        payload = raw
        if raw.startswith(GZIP_MAGIC):
            try:
                payload = gunzip(raw, MAX_PAPER_BYTES)
            except TooLarge as e:
                return self.report.fault(f'paper {e} unpacked (not read)', paper.source)
            except ARCHIVE_ERRORS as e:
                return self.report.fault(f'damaged gzip ({type(e).__name__})', paper.source)
        if payload.startswith(b'%PDF'):
            return self.skip('pdf_only', paper.source)
        if _is_tar(payload):
            try:
                return _tar_sources(payload, paper.source, self.report)
            except ARCHIVE_ERRORS as e:
                return self.report.fault(f'damaged tar ({type(e).__name__})', paper.source)
        text = _decode_tex(payload)
        if not _looks_like_tex(text):
            return self.skip('not_tex', paper.source)
        return {SINGLE_TEX: text}

    def _convert(self, files: Dict[str, str], main: str) -> Tuple[str, str]:
        """``('ok', content)``, ``('skip', step)`` or ``('fault', reason)``; touches no report
        (it may run in a worker thread)."""
        try:
            latex = follow_inputs(files, main)
        except TooLarge as e:
            return 'fault', str(e)
        if self.keep_latex:
            content = latex
        else:
            try:
                content = to_markdown(latex, self.timeout, self.folder)
            except PandocFailed as e:
                return ('fault', e.reason) if e.fault else ('skip', ('pandoc', e.reason))
        return ('ok', content) if content.strip() else ('skip', ('empty',))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


class _Done:
    """A finished outcome, shaped as a Future's."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def latest_copies(papers: Sequence[_Paper]) -> Tuple[Dict[str, str], List[Tuple[str, str]]]:
    """For papers given more than once (the same id in an e-print folder and a bulk tar, or
    two versions), the copy to read: the highest version named, a copy without a version
    counting as the latest; on a tie the first given. Returns ``id -> source`` of the copy
    read, for every id, and ``(dropped, kept)`` sources of the others, in the order given."""
    best: Dict[str, Tuple[float, int, str]] = {}
    for order, paper in enumerate(papers):
        if paper.id is None:
            continue
        rank = (float('inf') if paper.version is None else paper.version, -order, paper.source)
        if paper.id not in best or rank[:2] > best[paper.id][:2]:
            best[paper.id] = rank
    kept = {paper: rank[2] for paper, rank in best.items()}
    replaced = [(p.source, kept[p.id]) for p in papers if p.id is not None and kept[p.id] != p.source]
    return kept, replaced


def read_arxiv(
    paths: List[str],
    report: Report,
    metadata: Optional[str] = None,
    keep_latex: bool = False,
    pandoc_timeout: float = PAPER_PANDOC_TIMEOUT,
    *,
    jobs: int = 1,
) -> Iterator[Document]:
    """The documents of every paper in ``paths`` (bulk source tars, e-print files or folders
    of them), made as the module's docstring says: with ``metadata`` (the arXiv snapshot,
    JSON lines), papers whose first category's archive is ``math``, dated by their first
    version; without it every paper, dated by its id's month; one document per arXiv id (the
    latest copy given, ``latest_copies``). Markdown by pandoc (at most
    ``pandoc_timeout`` seconds a paper, ``jobs`` pandoc processes at a time; the same result
    for any ``jobs``), or LaTeX with ``keep_latex``. Papers left out are counted in
    ``report`` (faults for damaged or hostile input); each step is recorded with
    ``report.filter_ran`` once all is read. BuildError for a path that is no arXiv source, a
    metadata file that cannot be read, or no pandoc when it is needed."""
    for path in paths:
        if not is_arxiv_source(path):
            raise BuildError(
                f'{path} is not an arXiv source: give bulk source tars (arXiv_src_YYMM_NNN.tar), '
                'e-prints (a gzipped tar of a paper\'s sources, a gzipped .tex), or folders of them'
            )
    if not keep_latex:
        pandoc_binary()
    listed = [paper for path in paths for paper in _papers(path, Report())]
    kept, replaced = latest_copies(listed)
    info = None
    if metadata is not None:
        info = load_metadata(metadata, {paper.id for paper in listed if paper.id is not None})
    else:
        LOGGER.warning(
            'arXiv: no metadata given, so no category filter runs (every paper is kept) and each '
            "paper is dated by its id's month; give the metadata snapshot to keep the paper's math papers"
        )
    reader = _Reader(report, info, keep_latex, pandoc_timeout, max(1, jobs))
    reader.kept = kept
    try:
        for path in paths:
            for paper in _papers(path, report):
                yield from reader.add(paper)
        yield from reader.finish()
    finally:
        reader.close()
    removed = reader.removed
    steps = {
        'one_per_id': removed['other_copy'],
        'first_category': removed['first_category'] + removed['no_metadata_entry'] + removed['no_id'],
        'pdf_only': removed['pdf_only'] + removed['not_tex'],
        'main_tex': removed['no_main_tex'],
        'pandoc': removed['pandoc'] + removed['empty'],
    }
    filters = arxiv_filters(metadata, keep_latex, pandoc_timeout, replaced)
    for step, count in steps.items():
        report.filter_ran(f'arxiv: {step}', filters[step], count)
