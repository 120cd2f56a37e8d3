"""llmcompression-collect cc: Common Crawl's recorded list of crawls and a recorded wet.paths.gz
served on 127.0.0.1, WET files picked as cc_net picks them, fetched whole and resumably."""

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import web_archives as wa
from conftest import real_documents
from loopback_server import Answer, LoopbackServer
from test_collect_http import SLOW_DOWN, Sleeps, data

from opencompass_llmcompression.collect import cli, common_crawl
from opencompass_llmcompression.collect.http import Client, CollectError

DUMP = 'CC-MAIN-2025-33'
LISTING = data(f'{DUMP}-wet.paths.gz')
PATHS = gzip.decompress(LISTING).decode().split()
# the three files cc_net's shards take for num_shards=3 of the listing's 100,000 (i * n // 3)
SPREAD_3 = [
    'crawl-data/CC-MAIN-2025-33/segments/1754151279521.11/wet/CC-MAIN-20250802220907-20250803010907-00000.warc.wet.gz',
    'crawl-data/CC-MAIN-2025-33/segments/1754151279938.13/wet/CC-MAIN-20250807054540-20250807084540-00333.warc.wet.gz',
    'crawl-data/CC-MAIN-2025-33/segments/1754151280336.32/wet/CC-MAIN-20250811131148-20250811161148-00666.warc.wet.gz',
]


def web_text_wet(name: str, first: int) -> bytes:
    """A WET file as Common Crawl writes them (tests/web_archives.py) of real English prose."""
    docs = real_documents('prose', first + 4, 3000)[first : first + 4]
    records = [wa.warcinfo(name, DUMP)]
    for i, text in enumerate(docs):
        url = f'https://docs.example/{name}/{i}'
        records.append(wa.conversion(url, '2025-08-05T10:00:00Z', f'Page {i}', text))
    return b''.join(records)


WETS = {path: web_text_wet(path.rsplit('/', 1)[1], 4 * i) for i, path in enumerate(SPREAD_3)}


@pytest.fixture
def server():
    with LoopbackServer() as s:
        s.serve('/collinfo.json', data('collinfo.json'), {'Content-Type': 'application/json'})
        s.serve(f'/crawl-data/{DUMP}/wet.paths.gz', LISTING)
        for path, body in WETS.items():
            s.serve('/' + path, body)
        yield s


def args(server, *extra):
    return cli.parser().parse_args(
        [
            'cc',
            '--out',
            'unused',
            '--cc-url',
            server.url(),
            '--crawls-url',
            server.url('/collinfo.json'),
            *extra,
        ]
    )


def collect(server, out, *extra, sleeps=None):
    client = Client(server.url(), sleep=sleeps if sleeps is not None else Sleeps(), etag_is_md5=True)
    return common_crawl.collect(args(server, *extra), str(out), client=client, progress=False)


def test_the_paper_picks_the_first_file_of_each_of_180_shards():
    positions = common_crawl.pick(100_000, 180)
    assert len(positions) == 180 and positions[:3] == [0, 555, 1111] and positions[-1] == 99444
    assert common_crawl.pick(len(PATHS), 3) == [0, 33333, 66666]
    assert [PATHS[i] for i in common_crawl.pick(len(PATHS), 3)] == SPREAD_3


def test_a_random_pick_is_the_seeds():
    one, again, other = (common_crawl.pick(100_000, 20, 'random', s) for s in (0, 0, 1))
    assert one == again != other and one == sorted(set(one)) and len(one) == 20
    with pytest.raises(CollectError, match='lists only 3 WET files'):
        common_crawl.pick(3, 4)


def test_a_dump_collected_whole_then_a_second_run_fetches_nothing(server, tmp_path):
    out = tmp_path / 'crawl'
    first, middle, last = SPREAD_3
    server.script('/' + first, Answer(503, {'Content-Type': 'application/xml'}, SLOW_DOWN))
    server.script('/' + middle, Answer(cut_after=1500))
    collection = collect(server, out, '--dump', DUMP, '--files', '3', '--jobs', '2')

    record = json.loads((out / 'collection.json').read_text())
    assert record['kind'] == 'cc'
    assert record['query'] == {'dumps': [DUMP], 'files': 3, 'pick': 'spread'}
    by_url = {item['url']: item for item in record['files']}
    assert by_url[server.url(f'/crawl-data/{DUMP}/wet.paths.gz')]['meta'] == {'dump': DUMP, 'role': 'listing'}
    for position, path in zip([0, 33333, 66666], SPREAD_3):
        item = by_url[server.url('/' + path)]
        name = path.rsplit('/', 1)[1]
        assert item['path'] == f'{DUMP}/{name}' and (out / DUMP / name).read_bytes() == WETS[path]
        assert item['meta'] == {'dump': DUMP, 'position': position, 'listed': 100_000}
        assert item['size'] == len(WETS[path])
    assert sorted(os.listdir(out / DUMP)) == sorted(
        ['wet.paths.gz'] + [p.rsplit('/', 1)[1] for p in SPREAD_3]
    )
    assert len(collection.items) == 4

    requests = len(server.log)
    again = collect(server, out, '--dump', DUMP, '--files', '3')
    assert [p for _, p, _ in server.log[requests:]] == ['/collinfo.json']  # the list of crawls only
    assert again.items == collection.items


def test_an_unknown_dump_names_the_nearest_and_writes_nothing(server, tmp_path, capsys):
    out = tmp_path / 'crawl'
    with pytest.raises(CollectError, match=r'CC-MAIN-2025-34 is not .*nearest are CC-MAIN-2025-33, '):
        collect(server, out, '--dump', 'CC-MAIN-2025-34')
    assert not out.exists()
    argv = ['cc', '--dump', 'CC-MAN-2025-33', '--out', str(out), '--cc-url', server.url()]
    argv += ['--crawls-url', server.url('/collinfo.json'), '--quiet']
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert 'llmcompression-collect: error: CC-MAN-2025-33 is not a Common Crawl dump' in err
    assert 'CC-MAIN-2025-33' in err.split('nearest are')[1] and 'Traceback' not in err
    assert not out.exists()


def test_crawled_after_reads_the_dates_of_the_list_of_crawls(server):
    crawls = json.loads(data('collinfo.json'))
    chosen = common_crawl.choose_dumps(crawls, crawled_after='2025-09-01')
    assert chosen == ['CC-MAIN-2025-38', 'CC-MAIN-2025-43', 'CC-MAIN-2025-47']  # began 09-05, 10-05, 11-06
    assert common_crawl.choose_dumps(crawls, ['2023-40']) == ['CC-MAIN-2023-40']  # cc_net's form
    with pytest.raises(
        CollectError, match=r'no crawl began on or after 2026-01-01; the newest, CC-MAIN-2025-47'
    ):
        common_crawl.choose_dumps(crawls, crawled_after='2026-01-01')
    with pytest.raises(CollectError, match=r"--crawled-after '2025-13-01': not a day"):
        common_crawl.choose_dumps(crawls, crawled_after='2025-13-01')


def test_a_folder_of_another_dump_is_refused(server, tmp_path):
    collect(server, tmp_path, '--dump', DUMP, '--files', '1')
    with pytest.raises(CollectError, match=r'holds a collection of cc .*"files": 1.*not of cc .*"files": 2'):
        collect(server, tmp_path, '--dump', DUMP, '--files', '2')


def test_a_listing_that_is_no_list_of_wet_files_is_refused(server, tmp_path):
    server.serve(f'/crawl-data/{DUMP}/wet.paths.gz', gzip.compress(data('cc_net-sample.warc.wet')))
    with pytest.raises(CollectError, match=r'wet.paths.gz: not a list of WET files'):
        collect(server, tmp_path, '--dump', DUMP, '--files', '1')
    assert os.listdir(tmp_path / DUMP) == []  # neither kept nor recorded: the next run asks again


def test_ctrl_c_mid_download_leaves_a_part_that_the_same_command_resumes(server, tmp_path):
    path, name = SPREAD_3[0], SPREAD_3[0].rsplit('/', 1)[1]
    big = LISTING * 7  # a gzip file of 1.4 MB: more than one of the client's 1 MiB blocks
    server.serve('/' + path, big)
    server.script('/' + path, Answer(stall_after=1_200_000))
    out = tmp_path / 'crawl'
    argv = ['cc', '--dump', DUMP, '--files', '1', '--out', str(out), '--quiet', '--cc-url', server.url()]
    argv += ['--crawls-url', server.url('/collinfo.json')]
    code = 'import sys; from opencompass_llmcompression.collect.cli import main; sys.exit(main(sys.argv[1:]))'
    process = subprocess.Popen(
        [sys.executable, '-c', code, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    part = out / DUMP / (name + '.part')
    for _ in range(600):  # until the first block is on disk (the server then goes silent)
        if part.exists() and part.stat().st_size >= 1 << 20:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert 'interrupted: the files fetched whole are recorded' in err and 'Traceback' not in err
    assert part.stat().st_size == 1 << 20 and not (out / DUMP / name).exists()
    recorded = json.loads((out / 'collection.json').read_text())['files']
    assert [f['meta'].get('role') for f in recorded] == ['listing']  # the WET file is not taken as whole

    assert cli.main(argv) == 0  # the same command: the rest of the file only
    assert (out / DUMP / name).read_bytes() == big and not part.exists()
    assert server.log[-1][2].get('Range') == f'bytes={1 << 20}-'


def collect_and_build(server, tmp_path, *extra):
    """``llmcompression-collect cc ... --build web`` from the loopback server: the collection
    folder, the corpus folder and the exit status."""
    out, corpora = tmp_path / 'crawl', tmp_path / 'corpora'
    argv = ['cc', '--dump', DUMP, '--files', '3', '--out', str(out), '--quiet', '--cc-url', server.url()]
    argv += ['--crawls-url', server.url('/collinfo.json'), '--build', 'web', '--corpus-out', str(corpora)]
    return out, corpora, cli.main(argv + list(extra))


def test_collect_then_build_a_corpus_whose_manifest_names_the_collection(server, tmp_path, capsys):
    server.script('/' + SPREAD_3[1], Answer(cut_after=2000))
    out, corpora, status = collect_and_build(server, tmp_path, '--', '--after', '2025-08-01', '--jobs', '1')
    assert status == 0, capsys.readouterr().err
    manifest = json.loads((corpora / 'web.manifest.json').read_text())
    collection_file = out / 'collection.json'
    (named,) = manifest['collections']
    assert named['path'] == str(collection_file) and named['kind'] == 'cc'
    assert named['query'] == {'dumps': [DUMP], 'files': 3, 'pick': 'spread'}
    assert named['sha256'] == hashlib.sha256(collection_file.read_bytes()).hexdigest()
    assert sorted(i['path'] for i in manifest['inputs']) == sorted(
        str(out / DUMP / p.rsplit('/', 1)[1]) for p in SPREAD_3
    )
    assert manifest['dumps'] == [DUMP] and manifest['settings']['after'] == '2025-08-01'
    rows = [json.loads(line) for line in (corpora / 'web.jsonl').read_text().splitlines()]
    assert rows and {r['meta']['dump'] for r in rows} == {DUMP}
    assert f'{out}: 4 files' in capsys.readouterr().out


@pytest.mark.cli
def test_a_collected_dump_measures_through_opencompass(server, tmp_path, tiny_model_dir, monkeypatch):
    from opencompass_runs import OPENCOMPASS, run_opencompass

    from opencompass_llmcompression.core.metrics import bits_per

    out, corpora, status = collect_and_build(server, tmp_path)
    assert status == 0
    rows = [json.loads(line) for line in (corpora / 'web.jsonl').read_text().splitlines()]
    monkeypatch.setenv('LLMCOMPRESSION_CORPORA', str(corpora))
    args = [OPENCOMPASS, '--datasets', 'llm_compression_folder', '--hf-type', 'base', '--hf-path']
    args += [tiny_model_dir, '--hf-num-gpus', '0', '-w', 'work', '--summarizer', 'llm_compression']
    results, _, _ = run_opencompass(args, str(tmp_path / 'run'), str(tmp_path))
    web = results['llm_compression-web']
    chars = sum(len(r['content']) for r in rows)
    assert web['chars'] == chars and web['bpc'] == pytest.approx(bits_per(web['nll'], chars), rel=1e-12)


def test_a_file_that_fails_is_named_after_the_others_are_fetched(server, tmp_path, capsys):
    first, middle, last = SPREAD_3
    server.files.pop('/' + middle)  # the listing names a file the server does not have
    server.serve('/' + last, WETS[last][:-20])  # and one whose gzip is cut short
    argv = ['cc', '--dump', DUMP, '--files', '3', '--out', str(tmp_path), '--quiet', '--cc-url', server.url()]
    assert cli.main(argv + ['--crawls-url', server.url('/collinfo.json')]) == 1
    err = capsys.readouterr().err
    assert 'error: 2 of 3 files could not be fetched (the other 1 are recorded' in err
    assert f'{middle}: ' in err and 'HTTP 404' in err and 'not a whole gzip file' in err
    recorded = json.loads((tmp_path / 'collection.json').read_text())['files']
    assert [f['url'] for f in recorded if f['meta'].get('role') != 'listing'] == [server.url('/' + first)]


def test_progress_goes_to_standard_error(server, tmp_path, capsys):
    argv = ['cc', '--dump', DUMP, '--files', '3', '--out', str(tmp_path), '--cc-url', server.url()]
    assert cli.main(argv + ['--crawls-url', server.url('/collinfo.json')]) == 0
    captured = capsys.readouterr()
    assert 'fetching' in captured.err and '3/3' in captured.err and ' MB' in captured.err
    assert f'{tmp_path}: 4 files' in captured.out


def test_the_manifest_finds_a_collection_above_relative_inputs(tmp_path, monkeypatch):
    from opencompass_llmcompression.corpus.manifest import collections_of

    (tmp_path / 'crawl' / DUMP).mkdir(parents=True)
    (tmp_path / 'crawl' / DUMP / 'a.warc.wet.gz').write_bytes(WET_BODY := WETS[SPREAD_3[0]])
    record = {'kind': 'cc', 'query': {'dumps': [DUMP]}, 'files': []}
    (tmp_path / 'crawl' / 'collection.json').write_text(json.dumps(record))
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'collection.json').write_text('{"kind": "x"}')  # not one collect wrote
    (tmp_path / 'other' / 'b.warc.wet.gz').write_bytes(WET_BODY)
    monkeypatch.chdir(tmp_path)
    found = collections_of([f'crawl/{DUMP}/a.warc.wet.gz', 'other/b.warc.wet.gz', 'loose.gz'])
    digest = hashlib.sha256((tmp_path / 'crawl' / 'collection.json').read_bytes()).hexdigest()
    assert found == [
        {'path': 'crawl/collection.json', 'sha256': digest, 'kind': 'cc', 'query': record['query']}
    ]


def test_without_the_list_of_crawls_a_dump_id_is_tried_as_given(server, tmp_path, caplog):
    server.files.pop('/collinfo.json')
    collection = collect(server, tmp_path / 'a', '--dump', DUMP, '--files', '3')
    assert len(collection.items) == 4
    assert 'collinfo.json: HTTP 404' in caplog.text and f'going on with {DUMP} as given' in caplog.text
    with pytest.raises(CollectError, match=r'publishes no wet.paths.gz for CC-MAIN-2025-34 \(HTTP 404\)'):
        collect(server, tmp_path / 'b', '--dump', 'CC-MAIN-2025-34')
    assert not (tmp_path / 'b').exists()
    with pytest.raises(CollectError, match=r'collinfo.json: HTTP 404'):  # a date needs the list
        collect(server, tmp_path / 'c', '--crawled-after', '2025-01-01')
