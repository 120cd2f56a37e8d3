"""What every part of the corpus builder hands to the next: a ``Document``, the build's
``Report`` of what was kept and skipped, and ``BuildError`` for a build that cannot go on."""

import collections
import datetime
from dataclasses import dataclass, field
from typing import Dict, List, Optional

FAULT_PREFIX = 'fault: '
BINARY_SCAN = 8192  # bytes looked at for a NUL


def is_binary(data: bytes) -> bool:
    """Whether a file's bytes are binary rather than text: a NUL byte in the first 8 KiB
    (as git and grep judge it). Every reader of the builder asks this one question."""
    return b'\0' in data[:BINARY_SCAN]


@dataclass
class Document:
    """One candidate document. ``source`` says where it was found (a path, ``path:N`` for a
    record, ``archive!member``); ``date`` is the document's own date and ``date_source`` what
    it is (e.g. ``crawl``, ``published``, ``first-commit``, ``first-version``, ``mtime``);
    ``meta`` holds what the corpus row's ``meta`` should carry besides those (url, dump, id)."""

    content: str
    source: str
    date: Optional[datetime.date] = None
    licence: Optional[str] = None
    date_source: Optional[str] = None
    meta: Dict[str, object] = field(default_factory=dict)


@dataclass
class Report:
    """What a build kept and left out: documents kept; documents skipped, by reason, with one
    example source per reason; and the characters a ``budget`` asked for beyond what was left
    after filtering (0 when the budget was met or there was none).

    Two kinds of skip: a filter's (the input is fine, the recipe leaves it out) and a fault's
    (the input is damaged or hostile: a cut gzip member, a tar member named ``../x``, an
    archive past its size bound, pandoc past its time limit). ``fault`` records the second
    kind under a reason starting with ``FAULT_PREFIX`` (``'fault: '``); ``faults`` counts
    them, so that a command line can say by its exit status that input was damaged.

    ``skipped_on`` counts, for each reason, the skipped documents that had a date of their
    own, by day: what ``--split-by`` attributes to each period's manifest."""

    kept: int = 0
    skipped: Dict[str, int] = field(default_factory=collections.Counter)
    examples: Dict[str, str] = field(default_factory=dict)
    chars_short_of_budget: int = 0
    filters: List[dict] = field(default_factory=list)
    written: Dict[str, int] = field(default_factory=dict)  # corpus name -> documents written
    skipped_on: Dict[str, Dict[datetime.date, int]] = field(default_factory=dict)

    def skip(self, reason: str, source: str, date: Optional[datetime.date] = None) -> None:
        self.skipped[reason] += 1
        self.examples.setdefault(reason, source)
        if date is not None:
            self.skipped_on.setdefault(reason, collections.Counter())[date] += 1

    def fault(self, reason: str, source: str, date: Optional[datetime.date] = None) -> None:
        """Skip for damaged or hostile input: counted under ``'fault: ' + reason``."""
        self.skip(FAULT_PREFIX + reason, source, date)

    @property
    def faults(self) -> int:
        """How many skips were for faults (reasons starting with ``FAULT_PREFIX``)."""
        return sum(n for reason, n in self.skipped.items() if reason.startswith(FAULT_PREFIX))

    def summary(self) -> List[str]:
        """One line per reason documents were skipped, with how many and the first example:
        ``'3 documents: shorter than 300 characters (e.g. crawl/a.warc.gz:7)'``, by reason."""
        return [
            f'{count} documents: {reason} (e.g. {self.examples[reason]})'
            for reason, count in sorted(self.skipped.items())
        ]

    def filter_ran(self, name: str, parameters: dict, removed: int) -> None:
        """Record a filter for the manifest: its name, its parameters, documents it removed."""
        self.filters.append({'name': name, 'parameters': parameters, 'removed': removed})

    def merge(self, other: 'Report') -> None:
        """Add ``other``'s skips (a worker's, that read one input file) to this report."""
        for reason, count in other.skipped.items():
            self.skipped[reason] += count
            self.examples.setdefault(reason, other.examples[reason])
        for reason, days in other.skipped_on.items():
            self.skipped_on.setdefault(reason, collections.Counter()).update(days)

    def of_period(self, inside) -> 'Report':
        """A report for one period's corpus: the skips of documents dated inside it
        (``inside(day)`` true), no example sources, the same filters."""
        part = Report(filters=self.filters)
        for reason, days in sorted(self.skipped_on.items()):
            count = sum(n for day, n in days.items() if inside(day))
            if count:
                part.skipped[reason] = count
                part.examples[reason] = self.examples[reason]
        return part


class BuildError(ValueError):
    """A build that cannot produce a corpus: the message says why and what to change."""
