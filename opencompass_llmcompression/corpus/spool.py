"""Kept documents on disk until they are written, so that a build's memory does not grow with
the text it keeps: a ``SpooledDocument`` holds its size, date and source in memory, the rest in
a temporary file.

    spool = DocumentSpool(folder); kept = spool.add(doc); ...; kept.load() -> Document
"""

import os
import pickle
from dataclasses import dataclass
from typing import Optional

from .documents import Document


@dataclass(frozen=True)
class SpooledDocument:
    """A document kept on disk: ``chars`` is ``len(content)``; ``load()`` gives it back whole."""

    spool: 'DocumentSpool'
    offset: int
    chars: int
    source: str
    date: Optional[object] = None
    date_source: Optional[str] = None

    def load(self) -> Document:
        return self.spool.load(self.offset)


class DocumentSpool:
    """An append-only file of pickled documents in ``folder`` (a private temporary folder)."""

    def __init__(self, folder: str) -> None:
        self.path = os.path.join(folder, 'kept.pickle')
        self._file = open(self.path, 'w+b')

    def add(self, doc: Document) -> SpooledDocument:
        self._file.seek(0, os.SEEK_END)
        offset = self._file.tell()
        pickle.dump(doc, self._file, protocol=pickle.HIGHEST_PROTOCOL)
        return SpooledDocument(self, offset, len(doc.content), doc.source, doc.date, doc.date_source)

    def load(self, offset: int) -> Document:
        self._file.seek(offset)
        return pickle.load(self._file)

    def close(self) -> None:
        self._file.close()


def chars(doc) -> int:
    """``len(doc.content)`` of a Document or a SpooledDocument, without loading the latter."""
    return doc.chars if isinstance(doc, SpooledDocument) else len(doc.content)


def loaded(doc) -> Document:
    return doc.load() if isinstance(doc, SpooledDocument) else doc
