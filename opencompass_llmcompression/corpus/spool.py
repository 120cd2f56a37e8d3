"""Kept documents on disk until they are written, so that a build's memory does not grow with
the text it keeps: a ``SpooledDocument`` holds its size, date, source and dump in memory, the
rest in a file of a private temporary folder, written by the process that kept it (a web
file's reader) and read back once, by the process that writes the corpus.

    spool = DocumentSpool(path); kept = spool.add(doc); spool.close(); ...; kept.load() -> Document
"""

import pickle
from dataclasses import dataclass
from typing import BinaryIO, Dict, Optional

from .documents import Document


@dataclass(frozen=True)
class SpooledDocument:
    """A document kept on disk at ``offset`` of the file ``path``: ``chars`` is
    ``len(content)``, ``dump`` its ``meta['dump']``; ``load()`` gives it back whole. Small to
    pickle: it crosses from a worker process to the main one."""

    path: str
    offset: int
    chars: int
    source: str
    date: Optional[object] = None
    date_source: Optional[str] = None
    dump: Optional[str] = None

    def load(self) -> Document:
        return _load(self.path, self.offset)


class DocumentSpool:
    """An append-only file of pickled documents at ``path`` (in a private temporary folder)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file = open(path, 'wb')

    def add(self, doc: Document) -> SpooledDocument:
        offset = self._file.tell()
        pickle.dump(doc, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        dump = doc.meta.get('dump')
        return SpooledDocument(
            self.path, offset, len(doc.content), doc.source, doc.date, doc.date_source, dump
        )

    def close(self) -> None:
        self._file.close()


_READERS: Dict[str, BinaryIO] = {}


def _load(path: str, offset: int) -> Document:
    if path not in _READERS:
        _READERS[path] = open(path, 'rb')
    f = _READERS[path]
    f.seek(offset)
    return pickle.load(f)


def close_readers() -> None:
    """Close the files ``load`` opened (before their folder is removed)."""
    while _READERS:
        _READERS.popitem()[1].close()


def chars(doc) -> int:
    """``len(doc.content)`` of a Document or a SpooledDocument, without loading the latter."""
    return doc.chars if isinstance(doc, SpooledDocument) else len(doc.content)


def loaded(doc) -> Document:
    return doc.load() if isinstance(doc, SpooledDocument) else doc


def dump_of(doc) -> Optional[str]:
    """The Common Crawl dump a Document or SpooledDocument came from, or None."""
    return doc.dump if isinstance(doc, SpooledDocument) else doc.meta.get('dump')
