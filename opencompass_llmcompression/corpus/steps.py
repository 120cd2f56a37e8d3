"""The contract every filter and cleaner of the corpus builder follows, and the runner that
counts what each one drops.

    steps = Steps([DateWindow(after), LengthFilter(300), LanguageFilter(), QualityFilter()])
    kept = list(steps.run(documents, report))   # each drop counted by reason, in order
    steps.record(report)                        # the manifest's entries, one per step

A step has a ``name`` (its manifest entry), ``parameters()`` (a dict for the manifest, asked
for once the run is over, so that a step may report what it saw) and ``apply(doc)``: the
document to keep (the same, changed or not, or a changed copy) or, to drop it, the reason
as a ``str``. Damaged input is the readers' to report (``Report.fault``), before any step.
A ``Filter`` only judges: its ``reason_out(doc)`` gives the reason or None. Each step sees
the documents that earlier steps kept, in input order; a step that remembers what it saw
(duplicates) keeps that state itself.

The runner (``Steps``) is the only place drops are counted: ``run`` passes each document
through the steps in order, stops at the first that drops it (``report.skip`` with its
reason, source and date, and the step's count), and yields the rest;
``record`` writes ``report.filter_ran(name, parameters, removed)`` for every step.
"""

import collections
from typing import Iterable, Iterator, List, Optional, Union

from .documents import Document, Report


class Step:
    """One filter or cleaner: ``name``, ``parameters()``, ``apply(doc)`` (see the module)."""

    name: str = ''

    def parameters(self) -> dict:
        return {}

    def apply(self, doc: Document) -> Union[Document, str]:
        raise NotImplementedError


class Filter(Step):
    """A step that keeps or drops documents unchanged: ``reason_out(doc)`` is the reason to drop
    it, or None to keep it."""

    def reason_out(self, doc: Document) -> Optional[str]:
        raise NotImplementedError

    def apply(self, doc: Document) -> Union[Document, str]:
        reason = self.reason_out(doc)
        return doc if reason is None else reason


class LengthFilter(Filter):
    """At least ``min_chars`` characters (counted ``stripped`` of surrounding white space, or
    as they are), at most ``max_chars`` (None: no bound). ``extra`` is added to the manifest's
    parameters (what the count leaves out)."""

    name = 'length'

    def __init__(self, min_chars: int, max_chars: Optional[int] = None, stripped: bool = False, **extra):
        self.min_chars, self.max_chars, self.stripped, self.extra = min_chars, max_chars, stripped, extra

    def parameters(self) -> dict:
        return {'min_chars': self.min_chars, 'max_chars': self.max_chars, **self.extra}

    def reason_out(self, doc: Document) -> Optional[str]:
        text = doc.content.strip() if self.stripped else doc.content
        if len(text) < self.min_chars:
            return f'shorter than {self.min_chars} characters'
        if self.max_chars is not None and len(doc.content) > self.max_chars:
            return f'longer than {self.max_chars} characters'
        return None


class Steps:
    """Steps run in order over documents, drops counted per step (see the module)."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps: List[Step] = list(steps)
        self.removed = collections.Counter()

    def verdict(self, doc: Document) -> Union[Document, str]:
        """The document after every step, or the reason the first step that drops it gives
        (that step's count goes up)."""
        for step in self.steps:
            out = step.apply(doc)
            if isinstance(out, str):
                self.removed[step.name] += 1
                return out
            doc = out
        return doc

    def run(self, docs: Iterable[Document], report: Report, batch_chars: int = 0) -> Iterator[Document]:
        """The documents every step keeps, in order; each dropped one goes to ``report``.
        ``batch_chars`` > 0: documents taken a batch of about that many characters at a time,
        each step over the whole batch before the next (the same verdicts, since every step
        still sees the documents in order; faster where a step's model stays in the
        processor's cache from one document to the next, as fastText's does)."""
        if batch_chars <= 0:
            for doc in docs:
                out = self.verdict(doc)
                if isinstance(out, str):
                    self._drop(out, doc, report)
                else:
                    yield out
            return
        batch: List[Document] = []
        size = 0
        for doc in docs:
            batch.append(doc)
            size += len(doc.content)
            if size >= batch_chars:
                yield from self._batch(batch, report)
                batch, size = [], 0
        yield from self._batch(batch, report)

    def _batch(self, docs: List[Document], report: Report) -> List[Document]:
        for step in self.steps:
            kept = []
            for doc in docs:
                out = step.apply(doc)
                if isinstance(out, str):
                    self.removed[step.name] += 1
                    self._drop(out, doc, report)
                else:
                    kept.append(out)
            docs = kept
        return docs

    @staticmethod
    def _drop(reason: str, doc: Document, report: Report) -> None:
        report.skip(reason, doc.source, doc.date)

    def record(self, report: Report) -> None:
        """Each step's manifest entry: its name, its parameters, the documents it removed."""
        for step in self.steps:
            report.filter_ran(step.name, step.parameters(), self.removed[step.name])
