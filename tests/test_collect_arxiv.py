"""collect/arxiv_oai.py and collect/arxiv_sources.py against servers on 127.0.0.1 replaying
OAI-PMH pages, an arXiv bulk manifest and S3 errors recorded by others
(tests/data/collect/README.md): a chain of three pages, OAI errors, a 503 with Retry-After, the
metadata the builder reads, e-prints at arXiv's pace, bulk tars through boto3 (requester pays,
resumed, checked), and a 403 or no credentials at all."""

import argparse
import datetime
import hashlib
import io
import json
import os
import tarfile
from urllib.parse import parse_qs, urlsplit

import pytest
from loopback_server import Answer, LoopbackServer

from opencompass_llmcompression.collect import arxiv_oai, arxiv_sources
from opencompass_llmcompression.collect.collection import Collection
from opencompass_llmcompression.collect.http import Client, CollectError
from opencompass_llmcompression.corpus.arxiv import load_metadata

DATA = os.path.join(os.path.dirname(__file__), 'data', 'collect')
PAPER = os.path.join(os.path.dirname(__file__), 'data', 'arxiv', 'equational-theories-paper.tar.gz')
OAI = '/oai'
XML = {'Content-Type': 'text/xml; charset=utf-8'}


def data(name: str) -> bytes:
    with open(os.path.join(DATA, name), 'rb') as f:
        return f.read()


def listing(name: str, token: str = None, cursor: int = 0) -> bytes:
    """A recorded OAI-PMH answer as a ``ListRecords`` page: a ``GetRecord`` answer's envelope
    renamed, and ``token`` (a resumption token the test chooses) added before its end."""
    text = data(name).decode('utf-8').replace('%s', '1')  # the invenio test's version template
    text = text.replace('verb="GetRecord"', 'verb="ListRecords"')
    text = text.replace('<GetRecord>', '<ListRecords>').replace('</GetRecord>', '</ListRecords>')
    if token:
        element = f'<resumptionToken cursor="{cursor}" completeListSize="7">{token}</resumptionToken>\n'
        text = text.replace('</ListRecords>', element + '</ListRecords>')
    return text.encode('utf-8')


HEP_TH, SINGLE, HEP_EX = (
    'oai-hepcrawl-arxiv-physics-hep-th.xml',
    'oai-hepcrawl-arxiv-single.xml',
    'oai-hepcrawl-arxiv-physics-hep-ex.xml',
)
# the chain the tests serve: 3 + 1 + 3 records, two tokens of arXiv's own shape
CHAIN = (
    Answer(200, XML, listing(HEP_TH, '6625712|1001', 0)),
    Answer(200, XML, listing(SINGLE, '6625712|2001', 3)),
    Answer(200, XML, listing(HEP_EX)),
)
# OAI-PMH's own example of the error (openarchives.org/OAI/openarchivesprotocol.html, 3.6)
NO_RECORDS = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">
<responseDate>2002-05-01T19:20:30Z</responseDate>
<request verb="ListRecords" set="math" metadataPrefix="arXivRaw" from="2030-01-01">http://an.oa.org/OAI-script</request>
<error code="noRecordsMatch">The combination of the values of the from, until, set and \
metadataPrefix arguments results in an empty list.</error>
</OAI-PMH>"""


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def server():
    with LoopbackServer() as s:
        yield s


def oai_client(server, sleeps=None):
    return Client(server.url(OAI), sleep=sleeps if sleeps is not None else Sleeps())


def query(entry) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(entry[1]).query).items()}


def test_a_chain_of_three_pages_followed_by_resumption_tokens(server):
    server.script(OAI, *CHAIN)
    papers = arxiv_oai.harvest(
        oai_client(server), server.url(OAI), 'math', datetime.date(2014, 1, 1), prefix='arXiv'
    )
    requests = [query(entry) for entry in server.log]
    assert requests == [
        {'verb': 'ListRecords', 'metadataPrefix': 'arXiv', 'set': 'math', 'from': '2014-01-01'},
        {'verb': 'ListRecords', 'resumptionToken': '6625712|1001'},
        {'verb': 'ListRecords', 'resumptionToken': '6625712|2001'},
    ]
    ids = ['1412.8323', '1507.07790', '1607.01710', '1401.2122', '1706.05371', '1706.09418', '1707.00874']
    assert [p['id'] for p in papers] == ids
    single = papers[3]
    assert single['categories'] == 'math.AP hep-th math-ph math.DG math.MP nlin.SI'
    assert single['authors'] == 'A. Sergyeyev'
    assert single['versions'] == [{'version': 'v1', 'created': 'Thu, 09 Jan 2014 00:00:00 GMT'}]
    assert single['update_date'] == '2018-01-25'
    assert single['journal-ref'] == 'Lett. Math. Phys. 108 (2018), no. 2, 359-376'
    assert single['license'] == 'http://arxiv.org/licenses/nonexclusive-distrib/1.0/'
    assert papers[6]['report-no'] == 'IITH-PH-0001/17, IMSc/2017/07/05'


def test_what_is_written_is_what_the_builder_reads(server, tmp_path):
    server.script(OAI, *CHAIN)
    papers = arxiv_oai.harvest(
        oai_client(server), server.url(OAI), 'math', datetime.date(2014, 1, 1), prefix='arXiv'
    )
    path = str(tmp_path / 'arxiv-metadata-oai.jsonl')
    arxiv_oai.write_metadata(path, papers)
    info = load_metadata(path, {'1401.2122', '1412.8323'})
    assert info['1401.2122'].first_version == datetime.date(2014, 1, 9)
    assert info['1401.2122'].first_category_archive == 'math'
    assert info['1412.8323'].first_category_archive == 'quant-ph'
    assert arxiv_oai.read_metadata(path) == sorted(papers, key=lambda p: p['id'])


def test_arxivraw_records_carry_every_versions_date(server, tmp_path):
    server.script(OAI, Answer(200, XML, listing('oai-invenio-arXivRaw-GetRecord.xml')))
    (paper,) = arxiv_oai.harvest(
        oai_client(server), server.url(OAI), 'physics:cond-mat', datetime.date(2013, 4, 1)
    )
    assert query(server.log[0])['metadataPrefix'] == 'arXivRaw'
    assert paper['versions'] == [{'version': 'v1', 'created': 'Mon, 15 Apr 2013 19:33:21 GMT'}]
    assert paper['submitter'] == 'John M. Tranquada'
    assert paper['authors'] == 'Igor A. Zaliznyak and John M. Tranquada'
    assert paper['categories'] == 'cond-mat.str-el'
    assert arxiv_oai.first_version(paper) == datetime.date(2013, 4, 15)
    assert arxiv_oai.first_archive(paper) == 'cond-mat'


def test_no_records_is_an_error_naming_the_set_and_the_dates(server):
    server.script(OAI, Answer(200, XML, NO_RECORDS))
    with pytest.raises(
        CollectError, match=r"set 'maths' from 2030-01-01 to today: .*noRecordsMatch.*check the category"
    ):
        arxiv_oai.harvest(oai_client(server), server.url(OAI), 'maths', datetime.date(2030, 1, 1))


def bad_token() -> Answer:
    body = NO_RECORDS.replace(b'code="noRecordsMatch"', b'code="badResumptionToken"')
    return Answer(200, XML, body.replace(b'The combination', b'The token expired; the combination'))


def test_an_expired_token_starts_the_harvest_again_once(server):
    server.script(OAI, CHAIN[0], bad_token(), *CHAIN)
    papers = arxiv_oai.harvest(
        oai_client(server), server.url(OAI), 'math', datetime.date(2014, 1, 1), prefix='arXiv'
    )
    assert len(papers) == 7 and len(server.log) == 5
    assert 'resumptionToken' not in query(server.log[2])  # the second harvest, from its start
    server.script(OAI, CHAIN[0], bad_token(), CHAIN[0], bad_token())
    with pytest.raises(CollectError, match='expired twice'):
        arxiv_oai.harvest(
            oai_client(server), server.url(OAI), 'math', datetime.date(2014, 1, 1), prefix='arXiv'
        )


def test_a_harvest_cut_off_goes_on_at_the_next_page(server, tmp_path):
    class CutAfter(Client):
        def __init__(self, *args, calls, **kwargs):
            super().__init__(*args, **kwargs)
            self.calls = calls

        def get(self, url, **kwargs):
            self.calls -= 1
            if self.calls < 0:
                raise KeyboardInterrupt
            return super().get(url, **kwargs)

    server.script(OAI, *CHAIN)
    keep = str(tmp_path / 'arxiv-metadata-oai.jsonl')
    start = datetime.date(2014, 1, 1)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C after two pages
        arxiv_oai.harvest(
            CutAfter(server.url(OAI), calls=2), server.url(OAI), 'math', start, prefix='arXiv', keep=keep
        )
    assert len(server.log) == 2
    papers = arxiv_oai.harvest(oai_client(server), server.url(OAI), 'math', start, prefix='arXiv', keep=keep)
    assert query(server.log[2]) == {'verb': 'ListRecords', 'resumptionToken': '6625712|2001'}  # page 3 only
    assert len(papers) == 7 and sorted(os.listdir(tmp_path)) == []  # the pages kept are gone once whole


def test_a_503_with_retry_after_is_waited_out(server):
    # arXiv's flow control: 503 and Retry-After (info.arxiv.org/help/oa), then the page
    server.script(OAI, Answer(503, {'Retry-After': '10', 'Content-Type': 'text/html'}, b''), CHAIN[2])
    sleeps = Sleeps()
    papers = arxiv_oai.harvest(
        oai_client(server, sleeps), server.url(OAI), 'math', datetime.date(2014, 1, 1), prefix='arXiv'
    )
    assert sleeps == [10.0] and len(papers) == 3


def test_an_answer_that_is_no_oai_is_refused(server):
    server.script(OAI, Answer(200, {'Content-Type': 'text/html'}, b'<html><body>Maintenance</body></html>'))
    with pytest.raises(CollectError, match='not OAI-PMH'):
        arxiv_oai.harvest(oai_client(server), server.url(OAI), 'math', datetime.date(2014, 1, 1))


def test_sets_and_first_categories():
    assert arxiv_oai.set_archive('math') == 'math'
    assert arxiv_oai.set_archive('physics:hep-th') == 'hep-th'
    assert arxiv_oai.first_archive({'categories': 'math-ph math.MP'}) == 'math-ph'
    assert arxiv_oai.first_archive({'categories': ''}) == ''


# ---- the kind, e-prints ---------------------------------------------------------------------


def arxiv_args(server, **extra):
    args = argparse.Namespace(
        start='2014-01-01',
        end='2014-01-31',
        category='math',
        source='eprint',
        metadata_format='arXiv',
        oai_url=server.url(OAI),
        eprint_url=server.url('/e-print'),
    )
    for key, value in extra.items():
        setattr(args, key, value)
    return args


def paper_bytes() -> bytes:
    with open(PAPER, 'rb') as f:
        return f.read()


def test_eprints_of_the_period_and_a_second_run_that_fetches_nothing(server, tmp_path):
    server.script(OAI, *CHAIN)
    server.serve('/e-print/1401.2122', paper_bytes(), {'Content-Type': 'application/x-eprint-tar'})
    out = str(tmp_path / 'math')
    args = arxiv_args(server)
    collection = arxiv_sources.collect(
        args, out, oai_client=oai_client(server), eprint_client=Client(server.url(), sleep=Sleeps())
    )
    # of 7 records, one paper was first submitted in January 2014 (1401.2122, math.AP first)
    metadata = arxiv_oai.read_metadata(os.path.join(out, 'arxiv-metadata-oai.jsonl'))
    assert [p['id'] for p in metadata] == ['1401.2122']
    (eprint,) = [i for i in collection.items if i['path'].startswith('eprints/')]
    assert eprint['path'] == 'eprints/1401.2122' and eprint['size'] == len(paper_bytes())
    assert eprint['sha256'] == hashlib.sha256(paper_bytes()).hexdigest()
    assert eprint['meta']['categories'].startswith('math.AP')
    (meta,) = [i for i in collection.items if i['path'] == 'arxiv-metadata-oai.jsonl']
    assert meta['meta'] == {'papers': 1, 'records_harvested': 7}
    assert arxiv_sources.corpus_arguments(collection) == [
        '--kind',
        'latex',
        '--source',
        os.path.join(out, 'eprints'),
        '--arxiv-metadata',
        os.path.join(out, 'arxiv-metadata-oai.jsonl'),
    ]

    seen = len(server.log)
    arxiv_sources.collect(
        args, out, oai_client=oai_client(server), eprint_client=Client(server.url(), sleep=Sleeps())
    )
    assert len(server.log) == seen


def test_eprints_are_asked_three_seconds_apart_from_the_base_given(monkeypatch, tmp_path, server):
    made = []

    class Recording(Client):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            made.append(self)

    monkeypatch.setattr(arxiv_sources, 'Client', Recording)
    monkeypatch.setenv('LLMCOMPRESSION_ARXIV_EPRINT_URL', server.url('/mirror'))
    server.script(OAI, *CHAIN)
    server.serve('/mirror/1401.2122', paper_bytes())
    args = arxiv_args(server, eprint_url=None)
    arxiv_sources.collect(args, str(tmp_path / 'm'), oai_client=oai_client(server))
    assert made[0].min_interval == 3.0 == arxiv_sources.EPRINT_INTERVAL
    assert [entry[1] for entry in server.log][-1] == '/mirror/1401.2122'


def test_a_gzip_cut_short_is_not_kept_and_the_next_run_fetches_it(server, tmp_path):
    whole = paper_bytes()
    server.script(OAI, *CHAIN)
    server.script('/e-print/1401.2122', Answer(200, {}, whole[: len(whole) // 2]))  # a short file, said whole
    server.serve('/e-print/1401.2122', whole)
    out = str(tmp_path / 'math')
    args = arxiv_args(server)
    collection = arxiv_sources.collect(
        args, out, oai_client=oai_client(server), eprint_client=Client(server.url(), sleep=Sleeps())
    )
    assert not [i for i in collection.items if i['path'].startswith('eprints/')]
    assert not os.path.exists(os.path.join(out, 'eprints', '1401.2122'))
    collection = arxiv_sources.collect(
        args, out, oai_client=oai_client(server), eprint_client=Client(server.url(), sleep=Sleeps())
    )
    assert [i['size'] for i in collection.items if i['path'].startswith('eprints/')] == [len(whole)]


def test_a_period_without_papers_names_the_category_and_writes_nothing(server, tmp_path):
    server.script(OAI, *CHAIN)
    out = tmp_path / 'math'
    with pytest.raises(
        CollectError, match="no paper of 'math' first submitted from 2020-01-01 to 2020-01-31 .of 7"
    ):
        arxiv_sources.collect(
            arxiv_args(server, start='2020-01-01', end='2020-01-31'), str(out), oai_client(server)
        )
    assert not (out / 'collection.json').exists() and not (out / 'arxiv-metadata-oai.jsonl').exists()


def test_bad_days_are_refused_before_anything_is_asked(server, tmp_path):
    with pytest.raises(CollectError, match="--until 2014-01-01 is before --from 2014-02-01"):
        arxiv_sources.collect(arxiv_args(server, start='2014-02-01', end='2014-01-01'), str(tmp_path / 'x'))
    with pytest.raises(CollectError, match="--from '2014-13-01': give a day as YYYY-MM-DD"):
        arxiv_sources.collect(arxiv_args(server, start='2014-13-01'), str(tmp_path / 'x'))
    assert server.log == []


# ---- bulk tars through boto3 ------------------------------------------------------------------


def bulk_tar(member: str = '0001/math0001001.gz') -> bytes:
    """A month's bulk tar as arXiv's bucket holds them: ``YYMM/<id>.gz`` members."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        payload = paper_bytes()
        info = tarfile.TarInfo(member)
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def manifest_for(tar: bytes) -> bytes:
    """The recorded manifest excerpt with its 0001 tar's size and MD5 set to the test's tar."""
    text = data('arXiv_src_manifest-excerpt.xml').decode('utf-8')
    text = text.replace('<size>225605507</size>', f'<size>{len(tar)}</size>')
    text = text.replace('949ae880fbaf4649a485a8d9e07f370b', hashlib.md5(tar).hexdigest())
    return text.encode('utf-8')


@pytest.fixture
def aws(monkeypatch, server):
    monkeypatch.setenv('AWS_ENDPOINT_URL_S3', server.url())
    monkeypatch.setenv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE')
    monkeypatch.setenv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY')
    monkeypatch.setenv('AWS_EC2_METADATA_DISABLED', 'true')
    monkeypatch.setenv('AWS_CONFIG_FILE', os.devnull)
    monkeypatch.setenv('AWS_SHARED_CREDENTIALS_FILE', os.devnull)
    pytest.importorskip('boto3')
    return server


MANIFEST_PATH = '/arxiv/src/arXiv_src_manifest.xml'
TAR_PATH = '/arxiv/src/arXiv_src_0001_001.tar'


def test_the_months_tars_requester_pays_resumed_and_checked(aws, tmp_path):
    tar = bulk_tar()
    aws.serve(MANIFEST_PATH, manifest_for(tar), {'Content-Type': 'application/xml'})
    aws.serve(TAR_PATH, tar, {'ETag': f'"{hashlib.md5(tar).hexdigest()}"'})
    aws.script(TAR_PATH, Answer(status=None, cut_after=len(tar) // 3))  # the connection cut once
    collection = Collection.open(str(tmp_path / 'bulk'), 'arxiv', {'test': 1})
    tars = arxiv_sources.fetch_bulk(collection, datetime.date(2000, 1, 1), datetime.date(2000, 1, 31))
    assert [t.key for t in tars] == ['src/arXiv_src_0001_001.tar']
    path = tmp_path / 'bulk' / 'bulk' / 'arXiv_src_0001_001.tar'
    assert path.read_bytes() == tar
    gets = [entry for entry in aws.log if entry[0] == 'GET' and entry[1] == TAR_PATH]
    assert [e[2].get('Range') for e in gets] == [None, f'bytes={len(tar) // 3}-']
    assert all(e[2].get('x-amz-request-payer') == 'requester' for e in aws.log)
    urls = [i['url'] for i in collection.items]
    assert urls == ['s3://arxiv/src/arXiv_src_manifest.xml', 's3://arxiv/src/arXiv_src_0001_001.tar']
    assert collection.items[1]['meta']['num_items'] == 2364
    seen = len(aws.log)
    arxiv_sources.fetch_bulk(collection, datetime.date(2000, 1, 1), datetime.date(2000, 1, 31))
    assert len(aws.log) == seen  # the second run asks for nothing


def test_a_tar_whose_md5_is_not_the_manifests_is_removed(aws, tmp_path):
    tar = bulk_tar()
    manifest = manifest_for(tar).replace(
        hashlib.md5(tar).hexdigest().encode(), b'949ae880fbaf4649a485a8d9e07f370b'
    )
    aws.serve(MANIFEST_PATH, manifest)
    aws.serve(TAR_PATH, tar)
    collection = Collection.open(str(tmp_path / 'bulk'), 'arxiv', {'test': 1})
    with pytest.raises(
        CollectError, match='MD5 .* 949ae880fbaf4649a485a8d9e07f370b; the download was removed'
    ):
        arxiv_sources.fetch_bulk(collection, datetime.date(2000, 1, 1), datetime.date(2000, 1, 31))
    assert sorted(os.listdir(tmp_path / 'bulk' / 'bulk')) == ['arXiv_src_manifest.xml']


def test_a_month_the_manifest_does_not_list_is_named(aws, tmp_path):
    aws.serve(MANIFEST_PATH, data('arXiv_src_manifest-excerpt.xml'))
    collection = Collection.open(str(tmp_path / 'bulk'), 'arxiv', {'test': 1})
    with pytest.raises(CollectError, match='no source tar for 2601'):
        arxiv_sources.fetch_bulk(collection, datetime.date(2026, 1, 1), datetime.date(2026, 1, 31))


def test_a_403_access_denied_says_how_to_give_credentials(aws, tmp_path):
    denied = data('s3-access-denied.xml')
    aws.script(MANIFEST_PATH, *[Answer(403, {'Content-Type': 'application/xml'}, denied)] * 2)
    collection = Collection.open(str(tmp_path / 'bulk'), 'arxiv', {'test': 1})
    with pytest.raises(
        CollectError, match=r's3://arxiv/src/arXiv_src_manifest.xml: HTTP 403 .*aws configure'
    ):
        arxiv_sources.fetch_bulk(collection, datetime.date(2000, 1, 1), datetime.date(2000, 1, 31))
    assert not os.path.exists(tmp_path / 'bulk' / 'bulk')


def test_no_credentials_at_all_is_said_before_any_request(aws, monkeypatch, tmp_path):
    monkeypatch.delenv('AWS_ACCESS_KEY_ID')
    monkeypatch.delenv('AWS_SECRET_ACCESS_KEY')
    monkeypatch.delenv('AWS_PROFILE', raising=False)
    collection = Collection.open(str(tmp_path / 'bulk'), 'arxiv', {'test': 1})
    with pytest.raises(CollectError, match='no AWS credentials.*requester-pays'):
        arxiv_sources.fetch_bulk(collection, datetime.date(2000, 1, 1), datetime.date(2000, 1, 31))
    assert aws.log == []


def test_months_of_a_period():
    assert arxiv_sources.months(datetime.date(2025, 12, 15), datetime.date(2026, 2, 1)) == [
        '2512',
        '2601',
        '2602',
    ]
    manifest = arxiv_sources.parse_manifest(data('arXiv_src_manifest-excerpt.xml'))
    assert [(t.key, t.yymm, t.size, t.md5) for t in manifest] == [
        ('src/arXiv_src_0001_001.tar', '0001', 225605507, '949ae880fbaf4649a485a8d9e07f370b'),
        ('src/arXiv_src_0002_001.tar', '0002', 227036528, '4592ab506cf775afecf4ad560d982a00'),
    ]
    with pytest.raises(CollectError, match='root element is .*OAI-PMH, not arXivSRC'):
        arxiv_sources.parse_manifest(data(HEP_TH))


def test_the_bulk_kind_harvests_then_fetches_the_months_tars_for_the_builder(aws, tmp_path):
    from opencompass_llmcompression.corpus.cli import main as build_corpus

    tar = bulk_tar('1401/1401.2122.gz')
    # the recorded manifest, its 0001 entry moved to 1401 (the month of the recorded OAI page)
    manifest = manifest_for(tar).replace(b'arXiv_src_0001_001', b'arXiv_src_1401_001')
    manifest = manifest.replace(b'<yymm>0001</yymm>', b'<yymm>1401</yymm>')
    aws.serve('/arxiv/src/arXiv_src_manifest.xml', manifest)
    aws.serve('/arxiv/src/arXiv_src_1401_001.tar', tar)
    aws.script(OAI, *CHAIN)
    out = str(tmp_path / 'bulk')
    args = arxiv_args(aws, source='bulk')
    collection = arxiv_sources.collect(args, out, progress=False, oai_client=oai_client(aws))
    assert [i['url'] for i in collection.items] == [
        f'{aws.url(OAI)}?verb=ListRecords&metadataPrefix=arXiv&set=math&from=2014-01-01',
        's3://arxiv/src/arXiv_src_manifest.xml',
        's3://arxiv/src/arXiv_src_1401_001.tar',
    ]
    assert arxiv_sources.corpus_arguments(collection) == [
        '--kind',
        'latex',
        '--source',
        os.path.join(out, 'bulk', 'arXiv_src_1401_001.tar'),
        '--arxiv-metadata',
        os.path.join(out, 'arxiv-metadata-oai.jsonl'),
    ]
    corpora = tmp_path / 'corpora'
    assert (
        build_corpus(['--name', 'math', '--out', str(corpora), *arxiv_sources.corpus_arguments(collection)])
        == 0
    )
    with open(corpora / 'math.jsonl') as f:
        (document,) = [json.loads(line) for line in f]
    assert document['meta']['id'] == '1401.2122' and document['meta']['date'] == '2014-01-09'
