"""Documents from Common Crawl's files: WET (extracted text) and WARC (HTML responses).

    read_web('CC-MAIN-...-00000.warc.wet.gz', report) -> Documents, one per page

Records are read with warcio, one gzip member at a time (Common Crawl writes one member per
record), so a record whose ``Content-Length`` lies, or whose member is cut short, does not
decompress or fails its CRC, costs that record only: it is counted once as a fault
(``Report.fault``) and reading goes on at the next gzip member that starts a WARC record.

- A WET ``conversion`` record's body is Common Crawl's text of the page: its first line is the
  page's title, which cc_net (the paper's cc pipeline) leaves out of ``raw_content``, and so do
  we; every line is stripped of surrounding white space, as cc_net does.
- A WARC ``response`` record with status 200 and an HTML ``Content-Type`` is decoded in the
  charset it declares (HTTP header, else ``<meta charset>``), else as UTF-8; bytes that are not
  in that charset are a fault, and so are single-byte charsets declared for bytes that are
  UTF-8 with non-ASCII characters (the page would read as mojibake). The main text comes from
  resiliparse's ``extract_plain_text(main_content=True)`` (navigation, asides, footers and
  boilerplate out; chosen over trafilatura by measurement, docs/corpora.md: about ten times
  faster, the same article text).
- ``warcinfo`` records name the dump (``isPartOf: CC-MAIN-2026-05``); the file's name is used
  when no record does. Other record types (requests, metadata) are not documents.

Each document's date is the page's publication date when its HTML states one, no later than
the crawl (its JSON-LD ``datePublished`` or ``article:published_time`` tag, else htmldate's
original date; never a later modification date), else the record's ``WARC-Date``
(``date_source`` ``published`` or ``crawl``). ``meta`` holds ``url``, ``warc_record_id`` and ``dump``.
"""

import re
import zlib
from typing import Iterator, Optional, Tuple

from .dates import parse_date
from .documents import BuildError, Document, Report

DUMP_ID = re.compile(r'CC-MAIN-\d{4}-\d{2}')
HTML_TYPES = ('text/html', 'application/xhtml+xml')
META_CHARSET = re.compile(rb'<meta[^>]+charset\s*=\s*["\']?\s*([A-Za-z0-9_.:-]+)', re.IGNORECASE)
HEADER_CHARSET = re.compile(r'charset\s*=\s*["\']?\s*([A-Za-z0-9_.:-]+)', re.IGNORECASE)
CONTENT_LENGTH = re.compile(rb'^Content-Length:\s*(\d+)', re.IGNORECASE | re.MULTILINE)
SINGLE_BYTE = re.compile(r'^(iso-?8859|latin|windows-125|cp125|us-ascii|ascii$)', re.IGNORECASE)


def _needs(module: str, what: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise BuildError(
            f'{what} needs the Python package "{module}", which is not installed: '
            "pip install -e '.[corpus]' in the package's checkout"
        ) from None


def dump_of(path: str) -> Optional[str]:
    """The Common Crawl dump id (``CC-MAIN-YYYY-WW``) in a file's name, or None."""
    match = DUMP_ID.search(path)
    return match.group(0) if match else None


def declared_charset(content_type: str, html: bytes) -> Optional[str]:
    """The charset the HTTP ``Content-Type`` declares, else the one a ``<meta>`` tag in the
    first 4 KiB of the page declares, lower-cased; None when neither does."""
    match = HEADER_CHARSET.search(content_type or '')
    if match:
        return match.group(1).lower()
    match = META_CHARSET.search(html[:4096])
    return match.group(1).decode('ascii').lower() if match else None


def decode_html(content_type: str, html: bytes) -> Tuple[Optional[str], Optional[str]]:
    """``(text, None)``, or ``(None, fault)`` naming why the bytes cannot be trusted as text."""
    charset = declared_charset(content_type, html)
    if charset is None:
        try:
            return html.decode('utf-8'), None
        except UnicodeDecodeError:
            return None, 'HTML in an undeclared charset that is not UTF-8'
    try:
        text = html.decode(charset)
    except LookupError:
        return None, 'HTML declares a charset Python does not know'
    except UnicodeDecodeError:
        return None, 'HTML not in the charset it declares'
    if SINGLE_BYTE.match(charset) and not html.isascii():
        try:
            html.decode('utf-8')
            return None, 'HTML declares a single-byte charset but its bytes are UTF-8'
        except UnicodeDecodeError:
            pass
    return text, None


def main_text(html: str) -> str:
    """The page's main text, a block per line (resiliparse), without alt texts or links."""
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(html)
    return extract_plain_text(tree, main_content=True, alt_texts=False, links=False, form_fields=False)


JSON_LD = re.compile(r'<script[^>]+application/ld\+json[^>]*>(.*?)</script>', re.IGNORECASE | re.DOTALL)
JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{10,40})"')
META_PUBLISHED = re.compile(
    r'<(?:meta|time)\b[^>]*(?:property|name|itemprop)\s*=\s*["\']'
    r'(?:article:published_time|datePublished)["\'][^>]*>',
    re.IGNORECASE,
)
META_VALUE = re.compile(r'\b(?:content|datetime)\s*=\s*["\']([^"\']{10,40})["\']', re.IGNORECASE)


def stated_publication(html: str, crawled=None):
    """The publication date the page's HTML states explicitly: the first ``datePublished`` of
    its JSON-LD, else its ``article:published_time`` or ``itemprop="datePublished"`` tag; None
    when it states none, or only dates after ``crawled``. A page's later modification date
    (``dateModified``, ``article:modified_time``) is never taken for it."""
    found = [m.group(1) for block in JSON_LD.findall(html) for m in JSON_LD_PUBLISHED.finditer(block)]
    for tag in META_PUBLISHED.findall(html):
        value = META_VALUE.search(tag)
        if value:
            found.append(value.group(1))
    for value in found:
        day = parse_date(value)
        if day is not None and (crawled is None or day <= crawled):
            return day
    return None


def publication_date(html: str, url: Optional[str], crawled) -> Optional[object]:
    """The publication date the page states, no later than ``crawled``: the one its structured
    data or meta tags name as the publication (``stated_publication``), else htmldate's quick
    search for the original date (meta tags, structured data, the URL); None when it states
    none."""
    stated = stated_publication(html, crawled)
    if stated is not None:
        return stated
    import htmldate

    try:
        found = htmldate.find_date(
            html,
            extensive_search=False,
            original_date=True,
            url=url,
            max_date=crawled.isoformat() if crawled else None,
        )
    except Exception:  # a library fault on odd markup: the page keeps its crawl date
        return None
    return parse_date(found) if found else None


def _wet_text(body: str) -> Tuple[str, str]:
    lines = [line.strip() for line in body.split('\n')]
    title, rest = (lines[0], lines[1:]) if lines else ('', [])
    return title, '\n'.join(rest).strip('\n')


LIES = 'record longer than its Content-Length (the length lies)'
NOT_GZIP = 'gzip member does not decompress (damaged), read on from the next record'
CUT = 'gzip member cut short, read on from the next record'
NOT_WARC = 'not a WARC record (damaged), read on from the next record'
PLAIN_DAMAGE = 'damaged WARC file ({}), read up to the damage (an uncompressed file has no next member)'


class Damaged(Exception):
    """A gzip member that does not decompress or ends before its end; ``reason`` is the fault."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class GzipMember:
    """The decompressed bytes of the one gzip member that starts at ``f``'s position, as a
    stream for warcio; ``read`` raises ``Damaged`` where the member is damaged (its CRC
    included) or cut short, and gives b'' only once the member ended whole. ``end``: the file
    offset after the member, once it ended."""

    def __init__(self, f):
        self.f = f
        self.inflate = zlib.decompressobj(wbits=31)
        self.given = 0
        self.end: Optional[int] = None

    def tell(self) -> int:
        return self.given

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (64 KiB when -1), at least one unless the member ended."""
        limit = size if size > 0 else 1 << 16
        while self.end is None:
            data = self.inflate.unconsumed_tail or self.f.read(1 << 16)
            if not data:
                raise Damaged(CUT)
            try:
                out = self.inflate.decompress(data, limit)
            except zlib.error:
                raise Damaged(NOT_GZIP) from None
            if self.inflate.eof:
                self.end = self.f.tell() - len(self.inflate.unused_data)
            if out:
                self.given += len(out)
                return out
        return b''

    def drain(self) -> int:
        """Read the member to its end (``Damaged`` where it is damaged); returns ``end``."""
        while self.read():
            pass
        return self.end


def read_web(path: str, report: Report, *, dates_from_html: bool = True) -> Iterator[Document]:
    """The documents of one WET or WARC file (gzipped or not), in file order; ``report`` gets
    every record skipped (faults: damaged files and records, text that is not in its charset;
    not faults: pages that are not HTML or not status 200). ``source`` is ``path:N``, N the
    record's number in the file. BuildError when warcio or resiliparse are missing.

    A gzipped file is read one gzip member at a time, each member's records handed on only
    once the member ended whole (its CRC checked). A member that does not decompress, is cut
    short, or holds no WARC record costs its record, counted once as a fault, and reading goes
    on at the next gzip member that starts a WARC record (Common Crawl writes one record per
    member); so does a record whose ``Content-Length`` claims less than its body (the rest of
    the body stands where the next record should) or more (the member ends first). An
    uncompressed file is read up to its first damage."""
    _needs('warcio', 'Reading WARC and WET files')
    state = {'dump': dump_of(path), 'number': 0}
    with open(path, 'rb') as f:
        if f.read(2) != b'\x1f\x8b':
            f.seek(0)
            yield from _read_plain(f, path, state, report, dates_from_html)
            return
        offset: Optional[int] = 0
        while offset is not None:
            f.seek(offset)
            head = f.read(3)
            if not head:
                return
            if head != b'\x1f\x8b\x08':  # bytes between members: damage, read on after it
                state['number'] += 1
                report.fault(NOT_WARC, f'{path}:{state["number"]}')
                offset = _next_record_member(f, offset + 1)
                continue
            f.seek(offset)
            offset = yield from _read_member(f, offset, path, state, report, dates_from_html)


def _records(stream):
    """warcio's iterator over an uncompressed stream, its own warnings not printed."""
    from warcio.archiveiterator import ArchiveIterator

    records = ArchiveIterator(stream, arc2warc=False)
    records.INC_RECORD = ''  # warcio writes its own warning to stderr; the report says it
    return records


def _read_member(f, offset, path, state, report, dates_from_html):
    """The documents of the gzip member at ``offset`` (one record in Common Crawl's files, any
    number in others); returns where the next member starts, None at the end of the file or
    when no later member starts a record."""
    from warcio.exceptions import ArchiveLoadFailed
    from warcio.statusandheaders import StatusAndHeadersParserException

    member = GzipMember(f)
    records = _records(member)
    pending, errors, started, faults = None, 0, None, report.faults

    def damaged(reason: str) -> Optional[int]:  # the member's record counted once
        if pending is not None:
            report.fault(reason, pending.source)
        elif started is None:
            state['number'] += 1
            report.fault(reason, f'{path}:{state["number"]}')
        elif report.faults == faults:  # a record that is not a document, not yet counted
            report.fault(reason, f'{path}:{started}')
        return _next_record_member(f, offset + 1)

    try:
        for record in records:
            if pending is not None:
                if records.err_count > errors:
                    report.fault(LIES, pending.source)
                else:
                    yield pending
            errors, faults = records.err_count, report.faults
            state['number'] += 1
            started = state['number']
            pending = _record_document(record, path, state, report, dates_from_html)
        if pending is not None:
            if records.err_count > errors:
                report.fault(LIES, pending.source)
            else:
                yield pending
        return member.end
    except Damaged as damage:
        return damaged(damage.reason)
    except (ArchiveLoadFailed, StatusAndHeadersParserException, EOFError, ValueError):
        lies = pending is not None and records.err_count > errors  # its body ran on into them
    try:  # headers warcio cannot parse, in a member that decompresses so far
        end = member.drain()
    except Damaged as damage:
        return damaged(LIES if lies else damage.reason)
    if lies:
        report.fault(LIES, pending.source)
    else:
        if pending is not None:
            yield pending
        state['number'] += 1
        report.fault(NOT_WARC, f'{path}:{state["number"]}')
    return end


def _read_plain(f, path, state, report, dates_from_html):
    """The documents of an uncompressed WARC file, up to its first damage."""
    from warcio.exceptions import ArchiveLoadFailed

    records = _records(f)
    pending, errors = None, 0
    try:
        for record in records:
            if pending is not None:
                if records.err_count > errors:
                    report.fault(LIES, pending.source)
                else:
                    yield pending
            errors = records.err_count
            state['number'] += 1
            pending = _record_document(record, path, state, report, dates_from_html)
    except BuildError:
        raise
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as e:
        if pending is not None and records.err_count == errors:
            yield pending
        report.fault(PLAIN_DAMAGE.format(type(e).__name__), f'{path}:{state["number"] + 1}')
        return
    if pending is not None:
        if records.err_count > errors:
            report.fault(LIES, pending.source)
        else:
            yield pending


def _next_record_member(f, offset: int, limit: int = 64 << 20) -> Optional[int]:
    """The offset of the first gzip member at or after ``offset`` that starts a WARC record,
    looked for within ``limit`` bytes, 1 MiB at a time; None when there is none."""
    window, overlap = 1 << 20, 4096
    for start in range(offset, offset + limit, window):
        f.seek(start)
        data = f.read(window + overlap)
        at = data.find(b'\x1f\x8b\x08')
        while 0 <= at < window:
            try:
                head = zlib.decompressobj(wbits=31).decompress(data[at : at + overlap], 16)
                if head.startswith(b'WARC/'):
                    return start + at
            except zlib.error:
                pass
            at = data.find(b'\x1f\x8b\x08', at + 1)
        if len(data) <= window:
            return None
    return None


def _record_document(record, path, state, report, dates_from_html) -> Optional[Document]:
    """The document one record holds, or None (skipped into ``report``, or not a document)."""
    where = f'{path}:{state["number"]}'
    kind = record.rec_type
    headers = record.rec_headers
    if record.format != 'warc':  # warcio takes a line of five or six words for an ARC header
        record.raw_stream.read()
        report.fault(NOT_WARC, where)
        return None
    if kind not in ('warcinfo', 'conversion', 'response'):
        record.raw_stream.read()
        return None
    try:
        body = record.content_stream().read()
    except Damaged:
        raise
    except Exception as e:  # a damaged Content-Encoding or chunked body
        report.fault(f'record body cannot be decoded ({type(e).__name__})', where)
        return None
    if record.raw_stream.limit > 0:
        report.fault('record shorter than its Content-Length (cut short, or the length lies)', where)
        return None
    if kind == 'warcinfo':
        match = DUMP_ID.search(body.decode('utf-8', 'replace'))
        state['dump'] = match.group(0) if match else state['dump']
        return None
    url = headers.get_header('WARC-Target-URI')
    crawled = parse_date(headers.get_header('WARC-Date'))
    meta = {'url': url, 'warc_record_id': headers.get_header('WARC-Record-ID')}
    if state['dump']:
        meta['dump'] = state['dump']
    if kind == 'conversion':
        try:
            _, text = _wet_text(body.decode('utf-8'))
        except UnicodeDecodeError:
            report.fault('WET text not UTF-8', where)
            return None
        return Document(text, where, crawled, date_source='crawl' if crawled else None, meta=meta)
    return _html_document(record, body, where, url, crawled, meta, report, dates_from_html)


def _html_document(record, body, where, url, crawled, meta, report, dates_from_html) -> Optional[Document]:
    http = record.http_headers
    status = http.get_statuscode() if http else None
    if status != '200':
        report.skip('HTTP status other than 200', where)
        return None
    content_type = http.get_header('Content-Type') or ''
    if content_type.lower().split(';')[0].strip() not in HTML_TYPES:
        report.skip('not an HTML page', where)
        return None
    _needs('resiliparse', 'Extracting the main text of HTML pages')
    if dates_from_html:
        _needs('htmldate', 'Finding the publication date of HTML pages')
    html, fault = decode_html(content_type, body)
    if fault:
        report.fault(fault, where)
        return None
    try:
        text = main_text(html)
    except Exception as e:  # resiliparse on markup it cannot parse
        report.fault(f'HTML the extractor cannot parse ({type(e).__name__})', where)
        return None
    published = publication_date(html, url, crawled) if dates_from_html else None
    date, source = (published, 'published') if published else (crawled, 'crawl' if crawled else None)
    return Document(text, where, date, date_source=source, meta=meta)
