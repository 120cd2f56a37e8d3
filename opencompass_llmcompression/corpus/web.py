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
from typing import Iterator, Optional, Tuple

from .dates import parse_date
from .documents import BuildError, Document, Report

DUMP_ID = re.compile(r'CC-MAIN-\d{4}-\d{2}')
HTML_TYPES = ('text/html', 'application/xhtml+xml')
META_CHARSET = re.compile(rb'<meta[^>]+charset\s*=\s*["\']?\s*([A-Za-z0-9_.:-]+)', re.IGNORECASE)
HEADER_CHARSET = re.compile(r'charset\s*=\s*["\']?\s*([A-Za-z0-9_.:-]+)', re.IGNORECASE)
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


def read_web(path: str, report: Report, *, dates_from_html: bool = True) -> Iterator[Document]:
    """The documents of one WET or WARC file (gzipped or not), in file order; ``report`` gets
    every record skipped (faults: damaged files and records, text that is not in its charset;
    not faults: pages that are not HTML or not status 200). ``source`` is ``path:N``, N the
    record's number in the file. BuildError when warcio or resiliparse are missing."""
    _needs('warcio', 'Reading WARC and WET files')
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    dump = dump_of(path)
    number = 0
    try:
        with open(path, 'rb') as f:
            for record in ArchiveIterator(f, arc2warc=False):
                number += 1
                where = f'{path}:{number}'
                kind = record.rec_type
                headers = record.rec_headers
                if kind not in ('warcinfo', 'conversion', 'response'):
                    record.raw_stream.read()
                    continue
                try:
                    body = record.content_stream().read()
                except Exception as e:  # a damaged Content-Encoding or chunked body
                    report.fault(f'record body cannot be decoded ({type(e).__name__})', where)
                    continue
                if record.raw_stream.limit > 0:
                    report.fault(
                        'record shorter than its Content-Length (cut short, or the length lies)', where
                    )
                    continue
                if kind == 'warcinfo':
                    match = DUMP_ID.search(body.decode('utf-8', 'replace'))
                    dump = match.group(0) if match else dump
                    continue
                url = headers.get_header('WARC-Target-URI')
                crawled = parse_date(headers.get_header('WARC-Date'))
                meta = {'url': url, 'warc_record_id': headers.get_header('WARC-Record-ID')}
                if dump:
                    meta['dump'] = dump
                if kind == 'conversion':
                    try:
                        _, text = _wet_text(body.decode('utf-8'))
                    except UnicodeDecodeError:
                        report.fault('WET text not UTF-8', where)
                        continue
                    yield Document(text, where, crawled, date_source='crawl' if crawled else None, meta=meta)
                    continue
                doc = _html_document(record, body, where, url, crawled, meta, report, dates_from_html)
                if doc is not None:
                    yield doc
    except BuildError:
        raise
    except (ArchiveLoadFailed, EOFError, OSError, ValueError) as e:
        report.fault(f'damaged WARC file, read up to the damage ({type(e).__name__})', f'{path}:{number + 1}')


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
