"""A document's own date, and the window ``--after`` / ``--before`` keep.

Where dates come from (``Document.date_source``):

    crawl          a WARC record's ``WARC-Date`` (when Common Crawl fetched the page)
    published      the publication date the page's HTML states (meta tags, structured data,
                   the URL; found by htmldate), which takes precedence over the crawl date
    first-commit   a code file's first commit; ``repo-created``: its repository's first commit
    first-version  an arXiv paper's first version
    record         the ``--date-field`` of a records file
    mtime          a plain file's modification time, only with ``--date-from mtime`` (a copy or
                   a clone sets it to the day it was made, so it says nothing by default)

All dates are calendar days in UTC. A window keeps a document dated on or after ``after`` and
before ``before``; an undated document is left out of any window, with its reason (the
reader's ``meta['date_unknown']`` when it gives one: a shallow clone, a paper without an id).
"""

import collections
import datetime
import os
from dataclasses import dataclass
from typing import Dict, List, Optional

from .documents import Document, Report
from .steps import Filter

GIT_DATE_FROM = ('first-commit', 'repo-created')  # how git sources may be dated
DATE_FROM = ('auto', 'mtime', *GIT_DATE_FROM)


def parse_date(value) -> Optional[datetime.date]:
    """The UTC calendar day of ``value``: a date, a datetime (naive ones taken as UTC), or a
    string starting with an ISO date (``2026-01-05``, ``2026-01-05T22:21:08Z``,
    ``2026-01-05 10:00:00+02:00``). None for anything else."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > 10 and text[10] in 'T ':
        try:
            return parse_date(datetime.datetime.fromisoformat(text.replace('Z', '+00:00')))
        except ValueError:
            pass
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def iso_day(value: str) -> datetime.date:
    """A command-line YYYY-MM-DD; ValueError naming the format otherwise."""
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f'{value!r} is not a date as YYYY-MM-DD') from None


def file_mtime(path: str) -> datetime.date:
    """The UTC day of the file's modification time. OSError when it cannot be read."""
    return datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc).date()


@dataclass(frozen=True)
class DateWindow(Filter):
    """Documents dated on or after ``after`` and before ``before`` (either may be None), a
    step (``steps``) named ``date_window``; ``dated_by`` says in the manifest where the dates
    came from (``dataclasses.replace(window, dated_by=...)`` for each kind of input)."""

    after: Optional[datetime.date] = None
    before: Optional[datetime.date] = None
    dated_by: Optional[str] = None
    name = 'date_window'

    def __bool__(self) -> bool:
        return self.after is not None or self.before is not None

    def reason_out(self, doc: Document) -> Optional[str]:
        """Why ``doc`` is outside the window, or None when it is inside."""
        if doc.date is None:  # why, where the reader knows it (a shallow clone: how to deepen it)
            why = doc.meta.get('date_unknown') or 'no date of its own; see --date-from'
            return f'undated, outside --after/--before ({why})'
        if self.after is not None and doc.date < self.after:
            return f'dated before {self.after} (--after)'
        if self.before is not None and doc.date >= self.before:
            return f'dated on or after {self.before} (--before)'
        return None

    def parameters(self) -> dict:
        return {
            'after': self.after.isoformat() if self.after else None,
            'before': self.before.isoformat() if self.before else None,
            'date_from': self.dated_by,
        }


def period(docs: List[Document]) -> dict:
    """The span of the documents' dates: ``first`` and ``last`` day (ISO, None when no document
    is dated), ``undated`` (how many have no date), and how many are dated by each source."""
    dates = [d.date for d in docs if d.date is not None]
    sources = collections.Counter(d.date_source or 'unknown' for d in docs if d.date is not None)
    return {
        'first': min(dates).isoformat() if dates else None,
        'last': max(dates).isoformat() if dates else None,
        'undated': len(docs) - len(dates),
        'date_sources': dict(sorted(sources.items())),
    }


SPLITS = ('month', 'quarter', 'year')


def period_key(day: datetime.date, split_by: str) -> str:
    """The period ``day`` falls in, as a corpus name's suffix: ``2026-01`` (month),
    ``2026-Q1`` (quarter), ``2026`` (year)."""
    if split_by == 'month':
        return day.strftime('%Y-%m')
    if split_by == 'quarter':
        return f'{day.year}-Q{(day.month - 1) // 3 + 1}'
    if split_by == 'year':
        return str(day.year)
    raise ValueError(f'split_by must be one of {", ".join(SPLITS)}, got {split_by!r}')


def split_by_period(docs: list, split_by: str, report: Report) -> Dict[str, list]:
    """``{period: documents}`` in period order, each list in the order of ``docs``; an
    undated document is skipped (``report``), since it belongs to no period."""
    parts: Dict[str, list] = {}
    for doc in docs:
        if doc.date is None:
            report.skip(f'undated (--split-by {split_by} needs each document\'s own date)', doc.source)
            continue
        parts.setdefault(period_key(doc.date, split_by), []).append(doc)
    return dict(sorted(parts.items()))
