"""What the report knows of a corpus besides its text: its kind and the period of its documents.

    a corpus built by llmcompression-corpus   NAME.manifest.json: settings.kind, period.first/last
    the paper's cc, python, arxiv_math        paper_periods.csv (its Table 1, the source in its header)

A kind names the paper's area its BPC speaks for: ``text`` knowledge, ``code`` coding,
``latex`` mathematics (arXiv 2404.09937v2, Table 3: Common Crawl, GitHub Python and arXiv
mathematics for the three areas).
"""

import csv
import datetime
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, Optional

from ..core.corpus_files import CorpusError, locate_corpus
from .paper_reference import CORPORA, paper_corpus_of

HERE = os.path.dirname(os.path.abspath(__file__))
KIND_AREA = {'text': 'knowledge', 'code': 'coding', 'latex': 'mathematics'}
PAPER_KIND = {'cc': 'text', 'python': 'code', 'arxiv_math': 'latex'}


@dataclass(frozen=True, order=True)
class Period:
    """The first and last day of a corpus's documents (inclusive)."""

    first: datetime.date
    last: datetime.date

    @property
    def label(self) -> str:
        """``2024-01`` for one month, ``2024-01 to 2024-03`` for more, ``2024-01-05 to
        2024-01-20`` for part of one month."""
        months = (self.first.strftime('%Y-%m'), self.last.strftime('%Y-%m'))
        whole = self.first.day == 1 and (self.last + datetime.timedelta(days=1)).day == 1
        if months[0] == months[1]:
            return months[0] if whole else f'{self.first.isoformat()} to {self.last.isoformat()}'
        return f'{months[0]} to {months[1]}'

    @property
    def months(self) -> str:
        """The months it spans, ``2026-01`` or ``2026-01 to 2026-03``: corpora of one build split
        by month share it whatever days their documents fall on."""
        first, last = self.first.strftime('%Y-%m'), self.last.strftime('%Y-%m')
        return first if first == last else f'{first} to {last}'

    def overlaps(self, other: 'Period') -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class CorpusInfo:
    """A corpus's ``kind`` (text, code, latex; None: unknown) and ``period`` (None: undated,
    ``problem`` says why), ``paper``: one of the paper's corpora, downloaded (no manifest)."""

    abbr: str
    kind: Optional[str] = None
    period: Optional[Period] = None
    paper: bool = False
    problem: Optional[str] = None

    @property
    def area(self) -> Optional[str]:
        return KIND_AREA.get(self.kind)


@lru_cache(maxsize=None)
def paper_periods() -> Dict[str, Period]:
    """``{corpus: Period}`` of the paper's three corpora (``paper_periods.csv``)."""
    with open(os.path.join(HERE, 'paper_periods.csv'), encoding='utf-8') as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith('#')))
    day = datetime.date.fromisoformat
    return {r['corpus']: Period(day(r['first']), day(r['last'])) for r in rows}


def corpus_info(abbr: str, location: Optional[dict]) -> CorpusInfo:
    """The kind and period of the corpus ``abbr`` measures (``location``: ``{path, name}``
    from the run's config, None when unknown). A manifest beside the corpus file decides;
    without one, the paper's corpus names (``cc``, ``python``, ``arxiv_math``, or an abbr
    ending in ``-cc`` ...) give the paper's kind, and its period where the path is the paper's
    (``llm-compression`` or ``hkust-nlp`` in it, as ``paper_reference`` checks). Never raises: a manifest
    that cannot be read leaves the kind unknown, with the reason in ``problem``."""
    manifest, problem = None, None
    if location and location.get('path') and location.get('name'):
        try:
            found = locate_corpus(str(location['path']), str(location['name']), logger=None, check=False)
            if found is not None and found.manifest is not None:
                with open(found.manifest, encoding='utf-8') as f:
                    manifest = json.load(f)
                if not isinstance(manifest, dict):
                    raise ValueError('not a JSON object')
        except (CorpusError, OSError, ValueError) as err:
            return CorpusInfo(abbr, problem=f'its manifest cannot be read ({err})')
    if manifest is None:
        corpus = paper_corpus_of(abbr, location)
        if corpus in CORPORA and re.search(
            r'llm-compression|hkust-nlp', str((location or {}).get('path', ''))
        ):
            return CorpusInfo(abbr, PAPER_KIND[corpus], paper_periods()[corpus], paper=True)
        if corpus in CORPORA:  # the paper's name, elsewhere: its kind, but no date
            return CorpusInfo(
                abbr,
                PAPER_KIND[corpus],
                problem='no manifest beside the corpus, and not the paper\'s by its path: no period',
            )
        return CorpusInfo(
            abbr, problem='no manifest beside the corpus (build it with llmcompression-corpus to date it)'
        )
    settings, span = manifest.get('settings'), manifest.get('period')
    kind = settings.get('kind') if isinstance(settings, dict) else None
    span = span if isinstance(span, dict) else {}
    try:
        period = Period(
            datetime.date.fromisoformat(span['first'][:10]), datetime.date.fromisoformat(span['last'][:10])
        )
    except (KeyError, TypeError, ValueError):
        period = None
        problem = 'no dated document (its manifest\'s period is empty): build it from dated sources'
    return CorpusInfo(abbr, kind if kind in KIND_AREA else None, period, problem=problem)
