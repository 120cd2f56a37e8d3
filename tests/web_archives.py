"""WET and WARC files as Common Crawl writes them: one gzip member per record, its headers in
Common Crawl's order, written by the tests that read them."""

import base64
import gzip
import hashlib
import uuid

DUMP = 'CC-MAIN-2026-05'


def _digest(data: bytes) -> str:
    return 'sha1:' + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _record_id(seed: str) -> str:
    return f'<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}>'


def member(headers: list, block: bytes, length: int = None) -> bytes:
    """One record as one gzip member; ``length`` overrides the true Content-Length (a lie)."""
    lines = ['WARC/1.0', *(f'{k}: {v}' for k, v in headers)]
    lines.append(f'Content-Length: {len(block) if length is None else length}')
    head = ('\r\n'.join(lines) + '\r\n\r\n').encode()
    return gzip.compress(head + block + b'\r\n\r\n', mtime=0)


def warcinfo(filename: str, dump: str = DUMP) -> bytes:
    block = (
        'Software-Info: ia-web-commons.1.1.10-SNAPSHOT-20240101\r\n'
        f'isPartOf: {dump}\r\n'
        'operator: Common Crawl Admin (info@commoncrawl.org)\r\n'
        'description: Wide crawl of the web\r\n'
    ).encode()
    return member(
        [
            ('WARC-Type', 'warcinfo'),
            ('WARC-Date', '2026-01-20T10:00:00Z'),
            ('WARC-Filename', filename),
            ('WARC-Record-ID', _record_id(filename)),
            ('Content-Type', 'application/warc-fields'),
        ],
        block,
    )


def conversion(
    url: str, date: str, title: str, text: str, language: str = 'eng', length: int = None
) -> bytes:
    """A WET ``conversion`` record: the page's title on the first line, then its text."""
    block = (title + '\n' + text).encode('utf-8')
    return member(
        [
            ('WARC-Type', 'conversion'),
            ('WARC-Target-URI', url),
            ('WARC-Date', date),
            ('WARC-Record-ID', _record_id(url + 'wet')),
            ('WARC-Refers-To', _record_id(url)),
            ('WARC-Block-Digest', _digest(block)),
            ('WARC-Identified-Content-Language', language),
            ('Content-Type', 'text/plain'),
        ],
        block,
        length,
    )


def response(
    url: str, date: str, html: bytes, content_type: str = 'text/html', status: str = '200 OK'
) -> bytes:
    """A WARC ``response`` record: HTTP headers, then the page's bytes."""
    http = (
        f'HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(html)}\r\n\r\n'.encode()
    )
    block = http + html
    return member(
        [
            ('WARC-Type', 'response'),
            ('WARC-Date', date),
            ('WARC-Record-ID', _record_id(url)),
            ('Content-Type', 'application/http; msgtype=response'),
            ('WARC-IP-Address', '192.0.2.1'),
            ('WARC-Target-URI', url),
            ('WARC-Payload-Digest', _digest(html)),
            ('WARC-Block-Digest', _digest(block)),
            ('WARC-Identified-Payload-Type', 'text/html'),
        ],
        block,
    )


def request(url: str, date: str) -> bytes:
    block = f'GET / HTTP/1.1\r\nHost: {url.split("/")[2]}\r\n\r\n'.encode()
    return member(
        [
            ('WARC-Type', 'request'),
            ('WARC-Date', date),
            ('WARC-Record-ID', _record_id(url + 'request')),
            ('Content-Type', 'application/http; msgtype=request'),
            ('WARC-Target-URI', url),
        ],
        block,
    )


def page(title: str, paragraphs: list, published: str = None, charset: str = 'utf-8') -> str:
    """An HTML page with navigation, an article, an aside and a footer; ``charset`` None
    declares none."""
    meta = f'<meta property="article:published_time" content="{published}">' if published else ''
    nav = (
        '<nav><ul>' + ''.join(f'<li><a href="/s{i}">Section {i}</a></li>' for i in range(12)) + '</ul></nav>'
    )
    body = ''.join(f'<p>{p}</p>' for p in paragraphs)
    declared = f'<meta charset="{charset}">' if charset else ''
    return (
        f'<!doctype html><html><head>{declared}<title>{title}</title>{meta}</head>'
        f'<body>{nav}<main><article><h1>{title}</h1>{body}</article></main>'
        '<aside><h3>Most read</h3><ul><li><a href="/a">Another story</a></li></ul></aside>'
        '<footer><p>Copyright 2026 Example. All rights reserved.</p><a href="/privacy">Privacy</a></footer>'
        '</body></html>'
    )
