"""Documents from Common Crawl's files: WET (extracted text) and WARC (HTML responses).

    read_web('CC-MAIN-...-00000.warc.wet.gz', report) -> Documents, one per page

Records are read with warcio, one gzip member at a time (Common Crawl writes one member per
record), so a record whose ``Content-Length`` lies or whose member is cut short costs that
record only: it is skipped as a fault (``Report.fault``) and reading goes on where it can.

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

Each document's date is the page's publication date when its HTML states one (htmldate, no
later than the crawl), else the record's ``WARC-Date`` (``date_source`` ``published`` or
``crawl``). ``meta`` holds ``url``, ``warc_record_id`` and ``dump``.
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
            "pip install 'opencompass-llmcompression[corpus]'"
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


def publication_date(html: str, url: Optional[str], crawled) -> Optional[object]:
    """The publication date the page states (htmldate, its quick search: meta tags, structured
    data, the URL), no later than ``crawled``; None when it states none."""
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
CUT = 'record cut short (its gzip member runs into the next)'
MEMBER_LIMIT = 1 << 30  # bytes of one gzip member decompressed while looking for its end


def read_web(path: str, report: Report, *, dates_from_html: bool = True) -> Iterator[Document]:
    """The documents of one WET or WARC file (gzipped or not), in file order; ``report`` gets
    every record skipped (faults: damaged files and records, text that is not in its charset;
    not faults: pages that are not HTML or not status 200). ``source`` is ``path:N``, N the
    record's number in the file. BuildError when warcio or resiliparse are missing.

    A record whose ``Content-Length`` claims less than its body is seen only once the next
    record is sought (the rest of its body stands where the next record should), so each
    document is handed on only after the reader has moved past its record. Where warcio gives
    up on a gzipped file, reading starts again at the next gzip member (Common Crawl's files
    hold one record per member); an uncompressed file, or a member that does not decompress,
    ends the file's reading there."""
    _needs('warcio', 'Reading WARC and WET files')
    state = {'dump': dump_of(path), 'number': 0}
    with open(path, 'rb') as f:
        base: Optional[int] = 0
        while base is not None:
            base = yield from _read_from(f, base, path, state, report, dates_from_html)


def _read_from(f, base, path, state, report, dates_from_html):
    """Read records from offset ``base``; returns where to start again after damage, or None."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    pending, last, errors = None, None, 0
    f.seek(base)
    records = ArchiveIterator(f, arc2warc=False)
    try:
        records.INC_RECORD = ''  # warcio writes its own warning to stderr; the report says it
        for record in records:
            if pending is not None:
                if records.err_count > errors:
                    report.fault(LIES, pending.source)
                else:
                    yield pending
            errors, last = records.err_count, records.offset
            state['number'] += 1
            pending = _record_document(record, path, state, report, dates_from_html)
        if pending is not None:
            if records.err_count > errors:
                report.fault(LIES, pending.source)
            else:
                yield pending
        return None
    except BuildError:
        raise
    except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error) as e:
        damage = f'damaged WARC file ({type(e).__name__}), read on from the next whole record if any'
        at = last if last is not None else base  # the gzip member where reading stopped
        f.seek(at)
        if f.read(2) != b'\x1f\x8b':  # not gzipped: no member to go on from
            if pending is not None and records.err_count == errors:
                yield pending
            report.fault(damage, f'{path}:{state["number"] + 1}')
            return None
        end, exact = _member_end(f, at)
        if pending is not None:
            if exact:
                yield pending
            else:
                report.fault(LIES if end is not None else CUT, pending.source)
        if last is not None and exact:  # that record was whole: the damage is in the next member
            after, _ = _member_end(f, end)
            if after is None:
                after = _next_record_member(f, end + 1)
            state['number'] += 1
            report.fault(damage, f'{path}:{state["number"]}')
        else:  # the damage is in the member at ``at``: a record too long for its length, or cut
            after = end if end is not None else _next_record_member(f, at + 1)
            if pending is None:
                if last is None:
                    state['number'] += 1
                report.fault(damage, f'{path}:{state["number"]}')
        return after if after is not None and after > at else None


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


def _member_end(f, offset: int) -> Tuple[Optional[int], bool]:
    """Where the gzip member starting at ``offset`` ends (None when there is none, it does not
    decompress or is over ``MEMBER_LIMIT``), and whether it holds exactly one record: headers,
    ``Content-Length`` bytes, the blank line."""
    f.seek(offset)
    member, parts, size = zlib.decompressobj(wbits=31), [], 0
    try:
        while not member.eof:
            chunk = f.read(1 << 16)
            if not chunk:
                return None, False
            part = member.decompress(chunk)
            size += len(part)
            if size > MEMBER_LIMIT:
                return None, False
            parts.append(part)
    except zlib.error:
        return None, False
    end = f.tell() - len(member.unused_data)
    data = b''.join(parts)
    head_end = data.find(b'\r\n\r\n')
    match = CONTENT_LENGTH.search(data[: max(head_end, 0)])
    exact = match is not None and len(data) == head_end + 4 + int(match.group(1)) + 4
    return end, exact


def _record_document(record, path, state, report, dates_from_html) -> Optional[Document]:
    """The document one record holds, or None (skipped into ``report``, or not a document)."""
    where = f'{path}:{state["number"]}'
    kind = record.rec_type
    headers = record.rec_headers
    if kind not in ('warcinfo', 'conversion', 'response'):
        record.raw_stream.read()
        return None
    try:
        body = record.content_stream().read()
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
