"""What the ``--source`` arguments are: folders and globs expanded, each input recognised by
its content (never its name) and routed to the reader for its kind.

    find_inputs(['crawl/*.warc.wet.gz', 'repos/', 'notes/'], kind='text') -> [Input, ...]

Kinds of input, as they are recognised:

- ``wet``: a WARC file (gzipped or not) whose records are ``conversion`` records: Common
  Crawl's extracted text (``*.warc.wet.gz``).
- ``warc``: a WARC file of ``response`` records (HTTP headers, then the page).
- ``git``: a git repository, a folder holding repositories, or a ``.zip`` / ``.tar.gz``
  repository archive (``git_sources.is_git_source``).
- ``arxiv``: an arXiv bulk source tar or a folder of per-paper e-prints
  (``arxiv.is_arxiv_source``).
- ``records``: Parquet, or JSON whose first record is an object with the text field; only for
  ``--kind text`` and ``latex`` (for code, a ``.json`` file is code).
- ``plain``: anything else, read as one document per file, gunzipped when gzipped.
- ``damaged``: what a failed download leaves, a fault of the build (``Input.fault`` says
  which): a gzip file whose start does not decompress and holds no WARC record further on; a
  file named as a WARC/WET file (``.warc``, ``.wet``, ``.warc.gz``, ...) whose content is not
  one (an HTTP error page saved under that name, a partial download); an empty file named as
  a WARC/WET, gzip or archive file. A name is never what makes a file read as a kind: it only
  tells a failed download from a text file.

A ``--source`` that matches nothing is refused (``BuildError``) before any file is read, and
so is an input that is plainly another ``--kind``'s (arXiv e-prints for ``text`` or ``code``:
``latex``; git repositories for ``text``: ``code``), naming the ``--kind`` that fits.

A folder that is itself a git repository or arXiv source is one input; any other folder is
walked (``.git`` folders left out) and each file it holds recognised on its own. Inputs come
back sorted by path and without repeats, so the output does not depend on the order of the
file system.
"""

import glob
import json
import os
import re
import zlib
from dataclasses import dataclass
from typing import Iterable, List, Tuple

from .documents import BuildError

HEAD_BYTES = 65536
WEB_NAME = re.compile(r'\.(warc|wet|wat)(\.gz)?$', re.IGNORECASE)
ARCHIVE_NAME = re.compile(r'\.(gz|tgz|tar|zip|parquet)$', re.IGNORECASE)
EMPTY = 'empty file: the download failed?'
NOT_GZIP = 'gzip file that does not decompress (damaged, or cut short at its start)'


@dataclass(frozen=True)
class Input:
    """One input: its path and its kind (``wet``, ``warc``, ``git``, ``arxiv``, ``records``,
    ``plain`` or ``damaged``); ``fault``: why a ``damaged`` input cannot be read."""

    path: str
    kind: str
    fault: str = ''


def head(path: str, size: int = HEAD_BYTES) -> bytes:
    """Up to ``size`` bytes of the file's content, gunzipped when it is gzipped (member after
    member, as far as the first ``size`` bytes of the file go; a damaged file gives what could be
    read, its raw bytes when nothing could). b'' when unreadable."""
    raw = _raw_head(path, size)
    data, _ = _gunzip_head(raw, size)
    return data


def _raw_head(path: str, size: int) -> bytes:
    try:
        with open(path, 'rb') as f:
            return f.read(size)
    except OSError:
        return b''


def _gunzip_head(raw: bytes, size: int) -> Tuple[bytes, bool]:
    """``(content, whole)``: ``raw`` gunzipped member after member when gzipped, and whether
    its start decompressed (False: gzip's magic bytes, then data that does not decompress; the
    raw bytes are given back then)."""
    if raw[:2] != b'\x1f\x8b':
        return raw, True
    out = b''
    try:
        while raw[:2] == b'\x1f\x8b' and len(out) < size:  # member after member (WARC files)
            member = zlib.decompressobj(wbits=31)
            out += member.decompress(raw, size - len(out))
            if not member.eof:
                break
            raw = member.unused_data
    except zlib.error:
        return (out, True) if out else (raw, False)
    return out, True


def sniff_warc(data: bytes) -> str:
    """``wet``, ``warc`` or '' for the first bytes of a (decompressed) file."""
    if not data.startswith(b'WARC/'):
        return ''
    return 'wet' if b'\nWARC-Type: conversion' in data else 'warc'


def _is_records(path: str, data: bytes, text_field: str) -> bool:
    if data[:4] == b'PAR1':
        return True
    text = data.lstrip()
    if text[:1] not in (b'{', b'['):
        return False
    first = text.split(b'\n', 1)[0]
    try:
        row = json.loads(first)
    except ValueError:  # a JSON array over many lines, or a truncated head: look for the field
        return f'"{text_field}"'.encode() in text[:HEAD_BYTES]
    if isinstance(row, list):
        row = row[0] if row else None
    return isinstance(row, dict) and text_field in row


def _is_git(path: str) -> bool:
    try:
        from .git_sources import is_git_source
    except ImportError:  # reading git sources is not part of this installation
        return False
    return is_git_source(path)


def _is_arxiv(path: str) -> bool:
    try:
        from .arxiv import is_arxiv_source
    except ImportError:
        return False
    return is_arxiv_source(path)


def _archive(data: bytes) -> bool:
    """A zip, or a tar (gunzipped first): a candidate for a repository archive."""
    return data[:4] in (b'PK\x03\x04', b'PK\x05\x06') or data[257:262] == b'ustar'


def recognise_file(path: str, kind: str, text_field: str = 'text') -> Input:
    """The file ``path`` as an ``Input``, recognised by its content (see the module's
    docstring); BuildError when it is plainly another ``--kind``'s input."""
    raw = _raw_head(path, HEAD_BYTES)
    data, whole = _gunzip_head(raw, HEAD_BYTES)
    web = sniff_warc(data) or ('' if whole else _later_warc(path))
    if web:
        return Input(path, web)
    name = os.path.basename(path)
    if not raw:
        if ARCHIVE_NAME.search(name) or WEB_NAME.search(name):
            return Input(path, 'damaged', EMPTY)
        return Input(path, 'plain')
    if not whole:
        return Input(path, 'damaged', NOT_GZIP)
    if WEB_NAME.search(name):
        return Input(path, 'damaged', _not_warc(data))
    if kind != 'latex' and _maybe_arxiv(raw, data) and _is_arxiv(path):
        raise BuildError(_other_kind(path, 'arXiv e-prints (LaTeX sources)', 'latex', kind))
    if kind == 'latex' and _is_arxiv(path):
        return Input(path, 'arxiv')
    if kind == 'code' and _archive(data) and _is_git(path):
        return Input(path, 'git')
    if kind in ('text', 'latex') and _is_records(path, data, text_field):
        return Input(path, 'records')
    return Input(path, 'plain')


def _later_warc(path: str) -> str:
    """``wet`` or ``warc`` when a gzip member in the first 4 MiB after a damaged start holds a
    WARC record (the reader counts the damage and reads on from there), else ''."""
    from .web import _next_record_member

    try:
        with open(path, 'rb') as f:
            at = _next_record_member(f, 1, limit=4 << 20)
            if at is None:
                return ''
            f.seek(at)
            data, _ = _gunzip_head(f.read(HEAD_BYTES), HEAD_BYTES)
    except OSError:
        return ''
    return sniff_warc(data)


def _not_warc(data: bytes) -> str:
    """Why a file named as a WARC/WET file is not one, by what it holds instead."""
    text = data.lstrip()[:512].lower()
    if text.startswith((b'<', b'{')) or b'<html' in text or b'<error' in text:
        return 'not a WARC/WET file: looks like an HTTP error page (the download failed?)'
    return 'not a WARC/WET file although named so (a failed or partial download?)'


def _maybe_arxiv(raw: bytes, data: bytes) -> bool:
    """Whether the file could be an arXiv source at all: gzip, PDF or tar (cheap to tell)."""
    return raw[:2] == b'\x1f\x8b' or raw[:4] == b'%PDF' or data[257:262] == b'ustar'


def _other_kind(path: str, what: str, fits: str, kind: str) -> str:
    return (
        f'{path} holds {what}: build it with --kind {fits}; --kind {kind} would read its files '
        f'as plain {kind} files'
    )


def _recognise_folder(path: str, kind: str) -> str:
    if kind == 'code' and os.path.isdir(os.path.join(path, '.git')) and _is_git(path):
        return 'git'
    if kind == 'latex' and _is_arxiv(path):
        return 'arxiv'
    if kind != 'latex' and _is_arxiv(path):
        raise BuildError(_other_kind(path, 'arXiv e-prints (LaTeX sources)', 'latex', kind))
    if kind == 'text' and os.path.isdir(os.path.join(path, '.git')):
        raise BuildError(
            _other_kind(path, 'a git repository', 'code', kind)
            + " (undated); for its text files, name them by a glob (--source 'repo/**/*.md')"
        )
    return ''


def _walk(folder: str, kind: str, text_field: str, found: dict) -> None:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != '.git')
        keep = []
        for d in dirs:
            sub = os.path.join(root, d)
            whole = _recognise_folder(sub, kind) if not os.path.islink(sub) else ''
            if whole:
                found[sub] = Input(sub, whole)
            else:
                keep.append(d)
        dirs[:] = keep
        for name in names:
            path = os.path.join(root, name)
            found[path] = recognise_file(path, kind, text_field)


def find_inputs(sources: Iterable[str], kind: str, text_field: str = 'text') -> List[Input]:
    """Every input the folders and globs ``sources`` name, each with its kind, sorted by path.
    ``**`` in a glob matches folders recursively; a folder that is a repository (for ``--kind
    code``) or an arXiv source (for ``latex``) is one input. BuildError, before any file is
    read, when a source matches nothing; and when an input is plainly another kind's."""
    matched = {}
    for source in sources:
        matched[source] = [source] if os.path.isdir(source) else sorted(glob.glob(source, recursive=True))
    missing = [source for source, paths in matched.items() if not paths]
    if missing:
        names = ', '.join(repr(m) for m in missing)
        raise BuildError(
            f'--source {names} matches no file or folder: check the path (from the current folder, '
            f'{os.getcwd()}) and its spelling; quote a glob so that the builder, not the shell, '
            'expands it'
        )
    found: dict = {}
    for paths in matched.values():
        for path in paths:
            if os.path.isdir(path):
                whole = _recognise_folder(path, kind) or ('git' if kind == 'code' and _is_git(path) else '')
                if whole:
                    found[path] = Input(path, whole)
                else:
                    _walk(path, kind, text_field, found)
            else:
                found[path] = recognise_file(path, kind, text_field)
    return [found[path] for path in sorted(found)]
