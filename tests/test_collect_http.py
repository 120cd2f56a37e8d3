"""collect/http.py and collect/collection.py against a server on 127.0.0.1 replaying answers
recorded by others (tests/data/collect/README.md names each): retries and waits, resumed
downloads, integrity checks, Ctrl-C, a second run that fetches nothing."""

import gzip
import hashlib
import json
import os
import re

import pytest
from loopback_server import Answer, LoopbackServer, replayed

from opencompass_llmcompression.collect.collection import Collection
from opencompass_llmcompression.collect.http import Client, CollectError

DATA = os.path.join(os.path.dirname(__file__), 'data', 'collect')


def data(name: str) -> bytes:
    with open(os.path.join(DATA, name), 'rb') as f:
        return f.read()


def wet_file() -> bytes:
    """cc_net's recorded WET sample as Common Crawl stores WET files: one gzip member per record."""
    text = data('cc_net-sample.warc.wet').decode('utf-8')
    records = ['WARC/1.0' + r for r in text.split('WARC/1.0')[1:]]
    return b''.join(gzip.compress(r.encode('utf-8'), mtime=0) for r in records)


WET = wet_file()
WET_SHA256 = hashlib.sha256(WET).hexdigest()
SLOW_DOWN = data('s3-slow-down.xml')


class Sleeps(list):
    """A ``sleep`` that records the waits asked for and waits for none of them; ``clock`` is a
    wall clock that those waits move forward."""

    def __init__(self, start: float = 1_700_000_000.0):
        super().__init__()
        self.now = start

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def client(server, **kwargs) -> Client:
    c = Client(server.url(), sleep=kwargs.pop('sleep', Sleeps()), **kwargs)
    c.chunk_size = 256
    return c


def test_a_503_slow_down_then_the_file(server, tmp_path):
    server.serve('/a.warc.wet.gz', WET)
    server.script('/a.warc.wet.gz', Answer(503, {'Content-Type': 'application/xml'}, SLOW_DOWN))
    sleeps = Sleeps()
    fetched = client(server, sleep=sleeps, backoff=2.0).download('a.warc.wet.gz', str(tmp_path / 'a.gz'))
    assert sleeps == [2.0]  # no Retry-After: the first backoff
    assert fetched.sha256 == WET_SHA256 and fetched.size == len(WET)
    assert (tmp_path / 'a.gz').read_bytes() == WET and not (tmp_path / 'a.gz.part').exists()


def test_503s_past_the_retries_name_the_url_and_what_the_server_said(server, tmp_path):
    server.serve('/a.gz', WET)
    server.script('/a.gz', *[Answer(503, {}, SLOW_DOWN)] * 3)
    with pytest.raises(CollectError, match=r'a\.gz: HTTP 503 .*SlowDown.*still after 3 tries'):
        client(server, max_retries=2).download('a.gz', str(tmp_path / 'a.gz'))
    assert not os.path.exists(tmp_path / 'a.gz')


def test_the_backoff_doubles_up_to_its_cap(server):
    server.serve('/x', b'ok')
    server.script('/x', *[Answer(503, {}, SLOW_DOWN)] * 4)
    sleeps = Sleeps()
    assert client(server, sleep=sleeps, backoff=1.0, backoff_cap=3.0).get('x').text == 'ok'
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


def test_a_connection_cut_mid_file_resumes_with_range_to_the_same_sha256(server, tmp_path):
    server.serve('/a.gz', WET)
    server.script('/a.gz', Answer(cut_after=700), Answer(cut_after=300))
    fetched = client(server).download('a.gz', str(tmp_path / 'a.gz'), size=len(WET), sha256=WET_SHA256)
    assert fetched.sha256 == WET_SHA256
    ranges = [headers.get('Range') for _, _, headers in server.requests_for('/a.gz')]
    assert ranges == [None, 'bytes=512-', 'bytes=768-']  # the whole 256-byte blocks received kept


def test_a_server_without_ranges_starts_again(server, tmp_path):
    server.serve('/a.gz', WET, ranges=False)
    server.script('/a.gz', Answer(cut_after=700))
    fetched = client(server).download('a.gz', str(tmp_path / 'a.gz'))
    assert fetched.sha256 == WET_SHA256 and fetched.size == len(WET)


def test_429_waits_the_seconds_of_retry_after(server):
    server.serve('/crawls.json', b'[]')
    server.script('/crawls.json', Answer(429, {'Retry-After': '7'}, b'Too Many Requests'))
    sleeps = Sleeps()
    assert client(server, sleep=sleeps).get('crawls.json').json() == []
    assert sleeps == [7.0]
    assert server.log[0][2]['User-Agent'].startswith('opencompass-llmcompression-collect/')


def test_retry_after_as_an_http_date(server):
    server.serve('/x', b'ok')
    now = 1_700_000_000.0
    server.script('/x', Answer(503, {'Retry-After': 'Tue, 14 Nov 2023 22:13:40 GMT'}))  # now + 20 s
    sleeps = Sleeps()
    assert client(server, sleep=sleeps, clock=lambda: now).get('x').text == 'ok'
    assert sleeps == [20.0]


def test_githubs_primary_rate_limit_waits_for_the_reset(server):
    (limited,) = [a for a in replayed(os.path.join(DATA, 'github-rate-limit.txt')) if a.status == 403]
    now = 1_700_000_000
    limited.headers['X-RateLimit-Reset'] = str(now + 30)  # the recording predates this header
    server.serve('/users/jacquev6', b'{"login": "jacquev6"}')
    server.script('/users/jacquev6', limited)
    sleeps = Sleeps()
    c = client(server, sleep=sleeps, clock=lambda: float(now))
    assert c.get('users/jacquev6').json() == {'login': 'jacquev6'}
    assert sleeps == [31.0]  # to the reset, and a second more


def test_githubs_rate_limit_without_a_reset_and_its_abuse_limit_wait_too(server):
    limited = [a for a in replayed(os.path.join(DATA, 'github-rate-limit.txt')) if a.status == 403]
    abuse = [a for a in replayed(os.path.join(DATA, 'github-abuse-limit.txt')) if a.status == 403]
    server.serve('/search/code', b'{"items": []}')
    server.script('/search/code', *limited, *abuse)
    sleeps = Sleeps()
    assert client(server, sleep=sleeps).get('search/code', params={'q': 'x'}).json() == {'items': []}
    assert sleeps == [60.0, 60.0]  # the abuse answer's Retry-After: 60; the other, a minute


def test_a_wait_longer_than_max_wait_is_an_error_saying_when_to_come_back(server):
    server.script('/x', Answer(429, {'Retry-After': '3600'}))
    with pytest.raises(CollectError, match=r'wait 3600 s, more than the 900 s allowed'):
        client(server).get('x')


def test_401_and_403_without_credentials_name_the_fix(server):
    (bad,) = replayed(os.path.join(DATA, 'github-bad-credentials.txt'))
    server.script('/user', bad)
    with pytest.raises(CollectError, match=r'HTTP 401.*Bad credentials.*set GITHUB_TOKEN'):
        client(server, auth_hint='set GITHUB_TOKEN to a token that may read public repositories').get('user')
    server.script('/arxiv/src/arXiv_src_manifest.xml', Answer(403, {}, data('s3-access-denied.xml')))
    with pytest.raises(CollectError, match=r'HTTP 403.*AccessDenied.*AWS credentials'):
        client(server, auth_hint='the bucket is requester-pays: give AWS credentials').get(
            'arxiv/src/arXiv_src_manifest.xml'
        )
    assert len(server.log) == 2  # neither was retried


def test_404_is_an_error_at_once(server, tmp_path):
    with pytest.raises(CollectError, match=r'nope\.gz: HTTP 404, not found'):
        client(server).download('nope.gz', str(tmp_path / 'nope.gz'))
    assert os.listdir(tmp_path) == []


def test_a_refused_connection_is_retried_then_named(tmp_path):
    with LoopbackServer() as s:
        url = s.url()
    sleeps = Sleeps()
    with pytest.raises(CollectError, match=r'no answer \(ConnectionError\), still after 3 tries'):
        Client(url, max_retries=2, sleep=sleeps).get('x')
    assert sleeps == [1.0, 2.0]


def test_ctrl_c_mid_download_leaves_only_a_part_that_the_next_run_resumes(server, tmp_path):
    server.serve('/a.gz', WET)
    dest = str(tmp_path / 'a.gz')

    def interrupt(n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client(server).download('a.gz', dest, progress=interrupt)
    assert os.listdir(tmp_path) == ['a.gz.part'] and os.path.getsize(dest + '.part') == 256
    fetched = client(server).download('a.gz', dest)
    assert fetched.sha256 == WET_SHA256 and os.listdir(tmp_path) == ['a.gz']
    assert server.log[-1][2].get('Range') == 'bytes=256-'


def test_a_part_already_whole_is_checked_and_kept(server, tmp_path):
    server.serve('/a.gz', WET)
    (tmp_path / 'a.gz.part').write_bytes(WET)
    fetched = client(server).download('a.gz', str(tmp_path / 'a.gz'))
    assert fetched.sha256 == WET_SHA256
    assert [h.get('Range') for _, _, h in server.log] == [f'bytes={len(WET)}-']  # answered 416


def test_a_gzip_cut_short_is_never_accepted(server, tmp_path):
    short = WET[: len(WET) - 40]  # the server itself holds a cut file, its length announced truly
    server.serve('/a.gz', short)
    with pytest.raises(CollectError, match=r'not a whole gzip file.*removed, run again'):
        client(server).download('a.gz', str(tmp_path / 'a.gz'))
    assert os.listdir(tmp_path) == []


def test_a_connection_closed_early_without_a_length_is_caught_by_gzip(server, tmp_path):
    server.serve('/a.gz', WET)
    server.script('/a.gz', Answer(200, {'Content-Length': ''}, WET[:500]))
    with pytest.raises(CollectError, match=r'not a whole gzip file'):
        client(server).download('a.gz', str(tmp_path / 'a.gz'))
    assert os.listdir(tmp_path) == []


def test_size_sha256_md5_and_etag_mismatches_are_never_accepted(server, tmp_path):
    server.serve('/a.gz', WET, headers={'ETag': '"' + hashlib.md5(b'other').hexdigest() + '"'})
    dest = str(tmp_path / 'a.gz')
    with pytest.raises(CollectError, match=rf'{len(WET)} bytes, the listing says {len(WET) + 1}'):
        client(server).download('a.gz', dest, size=len(WET) + 1)
    with pytest.raises(CollectError, match=r'SHA-256 [0-9a-f]{64}, expected 00'):
        client(server).download('a.gz', dest, sha256='00' * 32)
    with pytest.raises(CollectError, match=r'MD5 [0-9a-f]{32}, the server says'):
        client(server, etag_is_md5=True).download('a.gz', dest)
    assert os.listdir(tmp_path) == []
    assert client(server).download('a.gz', dest, md5=hashlib.md5(WET).hexdigest()).size == len(WET)


def test_min_interval_spaces_the_requests(server):
    server.serve('/x', b'ok')
    sleeps = Sleeps()
    c = client(server, sleep=sleeps, clock=sleeps.clock, min_interval=3.0)
    for _ in range(3):
        c.get('x')
    assert sleeps == [3.0, 3.0]


def test_a_second_run_fetches_nothing(server, tmp_path):
    for name in ('a', 'b'):
        server.serve(f'/{name}.gz', WET)
    query = {'dump': 'CC-MAIN-2019-13', 'files': 2}

    def run():
        collection = Collection.open(str(tmp_path), 'cc', query)
        c = client(server)
        for name in ('a', 'b'):
            if not collection.has(c.url(f'{name}.gz')):
                collection.add(c.download(f'{name}.gz', str(tmp_path / f'{name}.gz')), {'n': name})
        return collection

    first = run()
    requests_made = len(server.log)
    second = run()
    assert len(server.log) == requests_made == 2
    assert second.items == first.items
    record = json.loads((tmp_path / 'collection.json').read_text())
    assert record['kind'] == 'cc' and record['query'] == query
    assert [(f['path'], f['size'], f['sha256'], f['meta']) for f in record['files']] == [
        ('a.gz', len(WET), WET_SHA256, {'n': 'a'}),
        ('b.gz', len(WET), WET_SHA256, {'n': 'b'}),
    ]
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', record['files'][0]['fetched_at'])
    os.remove(tmp_path / 'b.gz')  # a file lost since: fetched again, alone
    run()
    assert [p for _, p, _ in server.log[requests_made:]] == ['/b.gz']


def test_a_file_fetched_again_from_a_mirror_replaces_its_record(tmp_path):
    from opencompass_llmcompression.collect.http import Fetched

    (tmp_path / 'a.gz').write_bytes(WET)
    collection = Collection.open(str(tmp_path), 'cc', {})
    for url in ('https://data.example/a.gz', 'https://mirror.example/a.gz'):
        collection.add(Fetched(url, str(tmp_path / 'a.gz'), len(WET), WET_SHA256, '2026-12-06T09:00:00Z'))
    assert [i['url'] for i in collection.items] == ['https://mirror.example/a.gz']


def test_a_folder_of_another_query_is_refused_naming_both(tmp_path):
    Collection.open(str(tmp_path), 'cc', {'dump': 'CC-MAIN-2023-40'}).save()
    with pytest.raises(CollectError, match=r'collection of cc .*2023-40.*not of cc .*2023-50.*another --out'):
        Collection.open(str(tmp_path), 'cc', {'dump': 'CC-MAIN-2023-50'})


def test_a_server_silent_mid_file_is_left_after_the_timeout_and_resumed(server, tmp_path):
    big = data('CC-MAIN-2025-33-wet.paths.gz') * 2  # 400 kB: more than one 256-byte block
    server.serve('/a.gz', big)
    server.script('/a.gz', Answer(stall_after=100_000))
    fetched = client(server, timeout=0.5).download('a.gz', str(tmp_path / 'a.gz'))
    assert fetched.sha256 == hashlib.sha256(big).hexdigest()
    assert [h.get('Range') for _, _, h in server.log] == [None, 'bytes=99840-']  # whole blocks kept
