"""arXiv metadata by OAI-PMH, written as the metadata snapshot ``--arxiv-metadata`` reads.

    harvest(client, OAI_URL, 'math', date(2026, 1, 1)) -> [paper, ...]

``ListRecords`` from arXiv's OAI-PMH interface (``https://oaipmh.arxiv.org/oai``; another base
from ``--oai-url`` / ``LLMCOMPRESSION_ARXIV_OAI_URL``) for one set (``math``, ``cs``,
``physics:hep-th``, ...) and the records whose datestamp lies from ``from`` (to ``until`` when
given), following ``resumptionToken`` from page to page. A datestamp is when a record last
changed, not when the paper was submitted (arXiv's notes for harvesters): a paper first
submitted in a period has a datestamp in it or later, so ``arxiv_sources`` harvests from the
period's first day to today and keeps the papers whose first version (``first_version``) lies
in the period.

Metadata formats: ``arXivRaw`` (the default) carries every version with its date
(``<version version="v1"><date>Mon, 2 Apr 2007 19:18:42 GMT</date>``), which is what the
builder dates by; ``arXiv`` carries only the first version's day (``<created>``), written as
that day at 00:00 GMT. Either is written as one JSON object a line, the fields of Kaggle's
``arxiv-metadata-oai-snapshot.json``: ``id``, ``submitter``, ``authors``, ``title``,
``comments``, ``journal-ref``, ``doi``, ``report-no``, ``categories``, ``license``,
``abstract``, ``versions`` ([{``version``, ``created``}]) and ``update_date``; deleted records
are left out.

OAI-PMH's own errors: ``noRecordsMatch`` (nothing in that set and period) and
``badArgument``/``cannotDisseminateFormat``/``noSetHierarchy`` raise ``CollectError`` naming
the set and dates; ``badResumptionToken`` (a token that expired during a long harvest) starts
the harvest again, once. A harvest given ``keep`` keeps its pages on disk as they come, so
that one cut off (Ctrl-C, a network failure) goes on at the next page when run again. arXiv's
``503`` with ``Retry-After`` (its flow control) is waited out
by ``http.Client``, made by ``arxiv_sources`` to keep ``INTERVAL`` (3 s) between requests.
"""

import datetime
import email.utils
import json
import os
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Tuple

from ..core.atomic_files import atomic_write
from ..core.logs import LOGGER
from .http import Client, CollectError

OAI_URL = 'https://oaipmh.arxiv.org/oai'
URL_VARIABLE = 'LLMCOMPRESSION_ARXIV_OAI_URL'
INTERVAL = 3.0  # seconds between requests: arXiv's terms for automated access
PREFIXES = ('arXivRaw', 'arXiv')
OAI = '{http://www.openarchives.org/OAI/2.0/}'
NAMESPACES = {'arXivRaw': '{http://arxiv.org/OAI/arXivRaw/}', 'arXiv': '{http://arxiv.org/OAI/arXiv/}'}
FIELDS = ('id', 'submitter', 'authors', 'title', 'comments', 'journal-ref', 'doi', 'report-no')
FIELDS_AFTER = ('categories', 'license', 'abstract')
REFUSALS = {
    'noRecordsMatch': 'no record of that set changed in that period',
    'badArgument': 'arXiv refused the request',
    'cannotDisseminateFormat': 'arXiv does not serve that metadata format',
    'noSetHierarchy': 'arXiv serves no sets',
}


def _text(element: Optional[ET.Element]) -> Optional[str]:
    if element is None or element.text is None:
        return None
    return element.text.strip()


def _authors_of_arxiv(meta: ET.Element, ns: str) -> Optional[str]:
    """The ``arXiv`` format's ``<authors><author><keyname>, <forenames>`` as the snapshot's
    one string (``Forenames Keyname, ...``)."""
    names = []
    for author in meta.iter(ns + 'author'):
        parts = [_text(author.find(ns + 'forenames')), _text(author.find(ns + 'keyname'))]
        name = ' '.join(p for p in parts if p)
        suffix = _text(author.find(ns + 'suffix'))
        names.append(f'{name} {suffix}' if suffix else name)
    return ', '.join(names) or None


def _midnight(day: str) -> str:
    return email.utils.format_datetime(
        datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(), datetime.timezone.utc),
        usegmt=True,
    )


def paper_of(record: ET.Element, prefix: str) -> Optional[dict]:
    """One ``<record>`` -> the snapshot's fields (the module's docstring); None for a deleted
    record or one without metadata."""
    header = record.find(OAI + 'header')
    if header is None or header.get('status') == 'deleted':
        return None
    ns = NAMESPACES[prefix]
    meta = record.find(f'{OAI}metadata/{ns}{prefix}')
    if meta is None:
        return None
    paper: Dict[str, object] = {name: _text(meta.find(ns + name)) for name in FIELDS}
    if prefix == 'arXiv':
        paper['authors'] = _authors_of_arxiv(meta, ns)
    for name in FIELDS_AFTER:
        paper[name] = _text(meta.find(ns + name))
    if prefix == 'arXivRaw':
        paper['versions'] = [
            {'version': v.get('version'), 'created': _text(v.find(ns + 'date'))}
            for v in meta.findall(ns + 'version')
        ]
    else:
        created = _text(meta.find(ns + 'created'))
        paper['versions'] = [{'version': 'v1', 'created': _midnight(created)}] if created else []
    paper['update_date'] = _text(header.find(OAI + 'datestamp'))
    if not paper['id']:
        return None
    return paper


def parse_page(body: bytes, prefix: str) -> Tuple[List[dict], Optional[str], Optional[Tuple[str, str]]]:
    """One OAI-PMH answer -> (papers, the resumption token or None at the end, the OAI error
    ``(code, message)`` or None). ``CollectError`` for an answer that is no OAI-PMH XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise CollectError(f'the OAI-PMH answer is not XML ({e}): {body[:200]!r}') from None
    if root.tag != OAI + 'OAI-PMH':
        raise CollectError(f'the answer is not OAI-PMH (root element {root.tag}): {body[:200]!r}')
    error = root.find(OAI + 'error')
    if error is not None:
        return [], None, (error.get('code', ''), (error.text or '').strip())
    listing = root.find(OAI + 'ListRecords')
    if listing is None:
        raise CollectError(f'an OAI-PMH answer without ListRecords: {body[:200]!r}')
    papers = [p for p in (paper_of(r, prefix) for r in listing.findall(OAI + 'record')) if p is not None]
    token = _text(listing.find(OAI + 'resumptionToken'))
    return papers, token or None, None


class _Expired(Exception):
    """OAI-PMH's ``badResumptionToken``: the harvest has to start again."""


class _Progress:
    """A harvest's pages so far, kept on disk when ``path`` is given: the papers of each page
    appended to ``path.part`` (JSON lines), then the next resumption token written whole to
    ``path.state.json``, so that a harvest cut off resumes at the page after the last one
    kept (a page kept twice is harmless: the last record of an id wins)."""

    def __init__(self, path: Optional[str], first: dict):
        self.path, self.first = path, first

    def _files(self):
        return self.path + '.part', self.path + '.state.json'

    def resume(self) -> Tuple[Dict[str, dict], dict]:
        """The papers kept and the request to go on with (the first one if none is kept)."""
        if self.path is None:
            return {}, self.first
        part, state = self._files()
        try:
            with open(state, encoding='utf-8') as f:
                saved = json.load(f)
            if saved.get('first') != self.first or not saved.get('token'):
                return self.clear()
            papers = {p['id']: p for p in read_metadata(part)}
        except (OSError, ValueError, KeyError, TypeError):
            return self.clear()
        LOGGER.info('OAI-PMH: resuming a harvest cut off after %d papers', len(papers))
        return papers, {'verb': 'ListRecords', 'resumptionToken': saved['token']}

    def keep(self, found: List[dict], token: Optional[str]) -> None:
        if self.path is None:
            return
        part, state = self._files()
        with open(part, 'a', encoding='utf-8') as f:
            f.writelines(json.dumps(paper, ensure_ascii=False) + '\n' for paper in found)
        with atomic_write(state, 'w', encoding='utf-8') as f:
            json.dump({'first': self.first, 'token': token}, f)

    def clear(self) -> Tuple[Dict[str, dict], dict]:
        if self.path is not None:
            for name in self._files():
                if os.path.exists(name):
                    os.remove(name)
        return {}, self.first


def _harvest_once(client: Client, url: str, progress: _Progress, where: str, prefix: str) -> List[dict]:
    papers, params = progress.resume()
    pages = 0
    while True:
        found, token, error = parse_page(client.get(url, params=params).content, prefix)
        pages += 1
        if error is not None:
            code, message = error
            if code == 'badResumptionToken':
                progress.clear()
                raise _Expired(message)
            reason = REFUSALS.get(code, 'arXiv refused the request')
            raise CollectError(
                f'arXiv OAI-PMH, {where}: {reason} ({code}: {message}); '
                "check the category (arXiv's sets: math, cs, q-bio, physics:hep-th, ...) and the dates"
            )
        for paper in found:
            papers[paper['id']] = paper
        LOGGER.info('OAI-PMH %s: page %d, %d papers so far', where, pages, len(papers))
        if token is None:
            return list(papers.values())
        progress.keep(found, token)
        params = {'verb': 'ListRecords', 'resumptionToken': token}


def harvest(
    client: Client,
    url: str,
    oai_set: str,
    start: datetime.date,
    end: Optional[datetime.date] = None,
    prefix: str = 'arXivRaw',
    keep: Optional[str] = None,
) -> List[dict]:
    """Every paper of ``oai_set`` whose record changed from ``start`` to ``end`` (days,
    inclusive; no ``end``: to this day), one per id (the last record of an id wins), from the
    OAI-PMH base ``url``. An expired resumption token starts the harvest again, once. With
    ``keep`` (a path), the pages harvested so far are kept beside it (``_Progress``) until the
    harvest ends, so that the same call after a cut goes on where it stopped."""
    if prefix not in PREFIXES:
        raise CollectError(f'metadata format {prefix!r}: give one of {", ".join(PREFIXES)}')
    first = {'verb': 'ListRecords', 'metadataPrefix': prefix, 'set': oai_set, 'from': start.isoformat()}
    if end is not None:
        first['until'] = end.isoformat()
    where = f'set {oai_set!r} from {start} to {end or "today"}'
    progress = _Progress(keep, first)
    try:
        papers = _harvest_once(client, url, progress, where, prefix)
    except _Expired as e:
        LOGGER.warning('OAI-PMH: the resumption token expired (%s); harvesting again', e)
        try:
            papers = _harvest_once(client, url, progress, where, prefix)
        except _Expired as again:
            raise CollectError(
                f'arXiv OAI-PMH, {where}: the resumption token expired twice ({again}); '
                'run the command again later'
            ) from None
    progress.clear()
    return papers


def first_version(paper: dict) -> Optional[datetime.date]:
    """The UTC day of a paper's first version, or None when its metadata has none."""
    try:
        when = email.utils.parsedate_to_datetime(paper['versions'][0]['created'])
    except (TypeError, KeyError, IndexError, ValueError):
        return None
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.date()


def set_archive(oai_set: str) -> str:
    """The archive a set names, as a paper's first category starts: ``math`` -> ``math``,
    ``physics:hep-th`` -> ``hep-th``, ``math:math:AG`` -> ``math``."""
    parts = oai_set.split(':')
    return parts[1] if parts[0] == 'physics' and len(parts) > 1 else parts[0]


def first_archive(paper: dict) -> str:
    """The archive of a paper's first category: ``math.AG physics.gen-ph`` -> ``math``
    (the paper kept the papers whose first one is ``math``)."""
    categories = (paper.get('categories') or '').split()
    return categories[0].split('.')[0] if categories else ''


def write_metadata(path: str, papers: List[dict]) -> None:
    """The papers as the snapshot's JSON lines, by id, written whole or not at all."""
    with atomic_write(path, 'w', encoding='utf-8') as f:
        for paper in sorted(papers, key=lambda p: p['id']):
            f.write(json.dumps(paper, ensure_ascii=False) + '\n')


def read_metadata(path: str) -> List[dict]:
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]
