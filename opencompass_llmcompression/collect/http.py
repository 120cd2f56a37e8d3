"""The polite HTTP client of the collection wing, and the whole-file download.

One ``Client`` per service (Common Crawl, GitHub, arXiv). It waits as the service asks and
never hammers it:

- ``min_interval``: at least that many seconds between the starts of two requests (arXiv asks
  for 3 s), shared by every thread that uses the client;
- 429 and 5xx answers, and rate-limit answers, are retried up to ``max_retries`` times, waiting
  what the service says: ``Retry-After`` (seconds or an HTTP date), GitHub's
  ``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset`` (epoch seconds; without it, a
  minute), GitHub's secondary limits (a 403 with ``Retry-After``, or whose message speaks of a
  rate limit or of abuse detection: at least a minute);
  without a word from the service, ``backoff`` seconds doubled at each try up to
  ``backoff_cap`` (Common Crawl's 503 "Please reduce your request rate" / "SlowDown" says
  nothing more);
- a connection refused, reset or timed out is retried the same way;
- a wait longer than ``max_wait`` seconds, a 401/403 that is no rate limit (named with
  ``auth_hint``, e.g. "set GITHUB_TOKEN"), a 404 or another 4xx raise ``CollectError`` at once.

``Client.download`` writes ``dest + '.part'`` and renames it onto ``dest`` only once it is whole:
its size is the one announced (``Content-Length``, ``Content-Range``, ``size=``), a ``.gz``
file decompresses to its end, and ``sha256=``/``md5=`` (and an MD5 ``ETag`` where the client is
told ETags are MD5s, as S3's single-part ones are) match. A cut connection resumes from the
``.part``'s end with an HTTP ``Range`` request (a 206 appends; a 200 starts again); Ctrl-C
leaves the ``.part`` for the next run to resume and never a ``dest``.
"""

import email.utils
import os
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable, Optional
from urllib.parse import urljoin

import requests

from ..core.logs import LOGGER
from ..core.provenance import PLUGIN, plugin_version
from .errors import CollectError
from .integrity import WholeFile

RETRY_STATUSES = (429, 500, 502, 503, 504)
LIMIT_WAIT = 60.0  # GitHub: "wait for at least one minute" when it names no time


@dataclass(frozen=True)
class Fetched:
    """A whole file on disk: where it came from, where it is, ``size`` in bytes, its SHA-256
    (hex), when it was fetched (ISO 8601, UTC) and the server's ``ETag`` (or None)."""

    url: str
    path: str
    size: int
    sha256: str
    fetched_at: str
    etag: Optional[str] = None

    def as_record(self) -> dict:
        return asdict(self)


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace('+00:00', 'Z')


def _retry_after(value: Optional[str], now: float) -> Optional[float]:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date; None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def _snippet(response: requests.Response, limit: int = 200) -> str:
    try:
        text = response.text
    except Exception:  # a body that cannot be read is no reason to hide the status
        return ''
    text = ' '.join(text.split())
    return text[:limit] + ('...' if len(text) > limit else '')


class Client:
    """HTTP for one service: relative URLs joined to ``base_url``, waits and retries as the
    module says. ``timeout`` is requests' (seconds to connect and between bytes); ``headers``
    are sent with every request (a token). ``sleep`` and ``clock`` (wall-clock epoch seconds,
    for the waits and ``min_interval``) are ``time.sleep`` and ``time.time`` unless a test
    hands in its own."""

    def __init__(
        self,
        base_url: str,
        *,
        min_interval: float = 0.0,
        max_retries: int = 5,
        timeout: float = 60,
        headers: Optional[dict] = None,
        max_wait: float = 900,
        backoff: float = 1.0,
        backoff_cap: float = 60.0,
        auth_hint: str = 'check the credentials',
        etag_is_md5: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.base_url = base_url if base_url.endswith('/') else base_url + '/'
        self.min_interval, self.max_retries, self.timeout = min_interval, max_retries, timeout
        self.max_wait, self.auth_hint = max_wait, auth_hint
        self.backoff, self.backoff_cap = backoff, backoff_cap
        self.etag_is_md5 = etag_is_md5
        self.sleep, self.clock = sleep, clock
        self.chunk_size = 1 << 20
        self.session = requests.Session()
        self.session.headers['User-Agent'] = (
            f'{PLUGIN}-collect/{plugin_version()} {requests.utils.default_user_agent()}'
        )
        self.session.headers.update(headers or {})
        self._lock = threading.Lock()
        self._last_start = None

    def url(self, url: str) -> str:
        return urljoin(self.base_url, url)

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.request('GET', url, **kwargs)

    def post(self, url: str, **kwargs) -> requests.Response:
        return self.request('POST', url, **kwargs)

    # -- waiting ---------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2**attempt, self.backoff_cap)

    def _pace(self) -> None:
        if self.min_interval <= 0:
            return
        with self._lock:
            now = self.clock()
            if self._last_start is not None:
                wait = self._last_start + self.min_interval - now
                if wait > 0:
                    self.sleep(wait)
                    now = self.clock()
            self._last_start = now

    def _wait_for(self, response: requests.Response, attempt: int) -> Optional[float]:
        """Seconds to wait before trying again, or None when the answer is no rate limit."""
        status, headers = response.status_code, response.headers
        now = self.clock()
        if status in (403, 429) and headers.get('X-RateLimit-Remaining') == '0':
            reset = headers.get('X-RateLimit-Reset', '')
            if reset.isdigit():
                return max(0.0, int(reset) - now) + 1.0
            return max(LIMIT_WAIT, self._backoff(attempt))
        after = _retry_after(headers.get('Retry-After'), now)
        if status in RETRY_STATUSES:
            return after if after is not None else self._backoff(attempt)
        if status == 403:
            if after is not None:
                return after
            said = _snippet(response, 2000).lower()
            if 'rate limit' in said or 'abuse' in said:
                return max(LIMIT_WAIT, self._backoff(attempt))
        return None

    def _refuse(self, response: requests.Response, url: str) -> None:
        status = response.status_code
        if status < 400:
            return
        said = _snippet(response)
        said = f' (the server said: {said})' if said else ''
        if status in (401, 403):
            raise CollectError(f'{url}: HTTP {status}, access refused{said}; {self.auth_hint}', status)
        if status == 404:
            raise CollectError(f'{url}: HTTP 404, not found{said}; check the name or the base URL', status)
        raise CollectError(f'{url}: HTTP {status} {response.reason}{said}', status)

    def _give_up(self, url: str, reason: str, attempt: int, wait: float) -> None:
        if attempt > self.max_retries:
            raise CollectError(
                f'{url}: {reason}, still after {attempt} tries; try again later, or raise the retries'
            )
        if wait > self.max_wait:
            raise CollectError(
                f'{url}: {reason}, and the service asks to wait {wait:.0f} s, more than the '
                f'{self.max_wait:.0f} s allowed; run the same command again after that'
            )
        LOGGER.warning('%s: %s; waiting %.1f s (try %d of %d)', url, reason, wait, attempt, self.max_retries)
        self.sleep(wait)

    # -- requests --------------------------------------------------------------------------

    def request(self, method: str, url: str, *, accept: tuple = (), **kwargs) -> requests.Response:
        """One request, retried as the module says; a response with a status below 400 (206
        included) or in ``accept``, or ``CollectError``. ``kwargs`` are requests' (``headers``,
        ``stream``, ...)."""
        url = self.url(url)
        kwargs.setdefault('timeout', self.timeout)
        attempt = 0
        while True:
            self._pace()
            try:
                response = self.session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                reason, wait = f'no answer ({type(error).__name__})', self._backoff(attempt)
            else:
                wait = self._wait_for(response, attempt)
                if wait is None:
                    if response.status_code not in accept:
                        self._refuse(response, url)
                    return response
                reason = f'HTTP {response.status_code} {_snippet(response, 120)}'.strip()
                response.close()
            attempt += 1
            self._give_up(url, reason, attempt, wait)

    def download(
        self,
        url: str,
        dest: str,
        *,
        size: Optional[int] = None,
        sha256: Optional[str] = None,
        md5: Optional[str] = None,
        progress: Optional[Callable[[int], None]] = None,
    ) -> Fetched:
        """``url`` -> the whole file ``dest`` (see the module's docstring), resuming
        ``dest + '.part'`` if an earlier run left one. ``size`` in bytes, ``sha256``/``md5`` in
        hex, when known beforehand; ``progress(n)`` is called with each ``n`` bytes written.
        Raises ``CollectError`` (the ``.part`` removed when its bytes are wrong, kept when they
        can be resumed)."""
        url = self.url(url)
        part = dest + '.part'
        attempt = 0
        while True:
            try:
                return self._fetch_once(url, dest, part, size, sha256, md5, progress)
            except _Cut as cut:
                attempt += 1
                self._give_up(url, str(cut), attempt, self._backoff(attempt - 1))

    def _fetch_once(self, url, dest, part, size, sha256, md5, progress) -> Fetched:
        have = os.path.getsize(part) if os.path.exists(part) else 0
        headers = {'Accept-Encoding': 'identity'}  # the bytes as stored, never re-encoded
        if have:
            headers['Range'] = f'bytes={have}-'
        response = self.request('GET', url, accept=(416,) if have else (), headers=headers, stream=True)
        with response:
            if response.status_code == 416 and have:  # the .part is already as long as the file
                total = _range_total(response.headers.get('Content-Range'))
                if total != have:
                    os.remove(part)
                    raise _Cut(f'the partial file ({have} bytes) does not fit the file ({total} bytes)')
                expected, mode = have, None
            elif response.status_code == 206 and have:
                start, total = _content_range(response.headers.get('Content-Range'))
                if start != have:
                    raise CollectError(f'{url}: asked for bytes from {have}, the server sent from {start}')
                expected, mode = total, 'ab'
            elif response.status_code == 200:
                length = response.headers.get('Content-Length')
                expected, mode = (int(length) if length and length.isdigit() else None), 'wb'
            else:
                raise CollectError(f'{url}: unexpected HTTP {response.status_code} for a download')
            check = WholeFile(dest, dest.endswith('.gz'), md5 or self._etag_md5(response.headers.get('ETag')))
            if mode != 'wb' and have:  # the bytes already there, then those that come
                with open(part, 'rb') as f:
                    for block in iter(lambda: f.read(1 << 20), b''):
                        check.update(block)
            if mode is not None:
                os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)  # once answered
                try:
                    with open(part, mode) as f:
                        for block in response.iter_content(self.chunk_size):
                            f.write(block)
                            check.update(block)
                            if progress is not None:
                                progress(len(block))
                except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as e:
                    # a read timeout mid-body comes as a ConnectionError too
                    raise _Cut(
                        f'connection cut after {os.path.getsize(part)} bytes ({type(e).__name__})'
                    ) from None
        got = os.path.getsize(part)
        if expected is not None and got < expected:
            raise _Cut(f'connection cut after {got} of {expected} bytes')
        etag = response.headers.get('ETag')
        try:
            if expected is not None and got != expected:
                raise CollectError(f'{url}: {got} bytes received, {expected} announced')
            if size is not None and got != size:
                raise CollectError(f'{url}: {got} bytes, the listing says {size}')
            digest = check.finish()
            if sha256 is not None and digest != sha256.lower():
                raise CollectError(f'{url}: SHA-256 {digest}, expected {sha256}')
        except CollectError as error:
            os.remove(part)
            raise CollectError(f'{error}; the download was removed, run again to fetch it anew') from None
        os.replace(part, dest)
        return Fetched(url, dest, got, digest, utc_now(), etag)

    def _etag_md5(self, etag: Optional[str]) -> Optional[str]:
        if not (self.etag_is_md5 and etag):
            return None
        value = etag.strip('"')
        return value if len(value) == 32 and all(c in '0123456789abcdefABCDEF' for c in value) else None


class _Cut(Exception):
    """A download that stopped before its end and can be resumed."""


def _content_range(value: Optional[str]):
    """``bytes START-END/TOTAL`` -> (START, TOTAL or None)."""
    try:
        unit, spec = value.split(' ', 1)
        span, total = spec.split('/')
        return int(span.split('-')[0]), (None if total == '*' else int(total))
    except (AttributeError, ValueError):
        raise CollectError(f'unreadable Content-Range {value!r} in a partial answer') from None


def _range_total(value: Optional[str]) -> Optional[int]:
    try:
        return int(value.rsplit('/', 1)[1])
    except (AttributeError, IndexError, ValueError):
        return None
