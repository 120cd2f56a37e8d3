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

A folder that is itself a git repository or arXiv source is one input; any other folder is
walked (``.git`` folders left out) and each file it holds recognised on its own. Inputs come
back sorted by path and without repeats, so the output does not depend on the order of the
file system.
"""

import glob
import json
import os
import zlib
from dataclasses import dataclass
from typing import Iterable, List

HEAD_BYTES = 65536


@dataclass(frozen=True)
class Input:
    """One input: its path and its kind (``wet``, ``warc``, ``git``, ``arxiv``, ``records`` or
    ``plain``)."""

    path: str
    kind: str


def head(path: str, size: int = HEAD_BYTES) -> bytes:
    """Up to ``size`` bytes of the file's content, gunzipped when it is gzipped (member after
    member, as far as the first ``size`` bytes of the file go; a damaged file gives what could be
    read). b'' when unreadable."""
    try:
        with open(path, 'rb') as f:
            raw = f.read(size)
    except OSError:
        return b''
    if raw[:2] != b'\x1f\x8b':
        return raw
    out = b''
    try:
        while raw[:2] == b'\x1f\x8b' and len(out) < size:  # member after member (WARC files)
            member = zlib.decompressobj(wbits=31)
            out += member.decompress(raw, size - len(out))
            if not member.eof:
                break
            raw = member.unused_data
    except zlib.error:
        return out or raw
    return out


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


def recognise_file(path: str, kind: str, text_field: str = 'text') -> str:
    """The kind of input the file ``path`` is, by its content (see the module's docstring)."""
    data = head(path)
    web = sniff_warc(data)
    if web:
        return web
    if kind == 'latex' and _is_arxiv(path):
        return 'arxiv'
    if kind == 'code' and _archive(data) and _is_git(path):
        return 'git'
    if kind in ('text', 'latex') and _is_records(path, data, text_field):
        return 'records'
    return 'plain'


def _recognise_folder(path: str, kind: str) -> str:
    if kind == 'code' and os.path.isdir(os.path.join(path, '.git')) and _is_git(path):
        return 'git'
    if kind == 'latex' and _is_arxiv(path):
        return 'arxiv'
    return ''


def _walk(folder: str, kind: str, text_field: str, found: dict) -> None:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != '.git')
        keep = []
        for d in dirs:
            sub = os.path.join(root, d)
            whole = _recognise_folder(sub, kind) if not os.path.islink(sub) else ''
            if whole:
                found[sub] = whole
            else:
                keep.append(d)
        dirs[:] = keep
        for name in names:
            path = os.path.join(root, name)
            found[path] = recognise_file(path, kind, text_field)


def find_inputs(sources: Iterable[str], kind: str, text_field: str = 'text') -> List[Input]:
    """Every input the folders and globs ``sources`` name, each with its kind, sorted by path.
    ``**`` in a glob matches folders recursively; a folder that is a repository (for ``--kind
    code``) or an arXiv source (for ``latex``) is one input."""
    found: dict = {}
    for source in sources:
        paths = [source] if os.path.isdir(source) else glob.glob(source, recursive=True)
        for path in paths:
            if os.path.isdir(path):
                whole = _recognise_folder(path, kind) or ('git' if kind == 'code' and _is_git(path) else '')
                if whole:
                    found[path] = whole
                else:
                    _walk(path, kind, text_field, found)
            else:
                found[path] = recognise_file(path, kind, text_field)
    return [Input(path, found[path]) for path in sorted(found)]
