"""The corpus builder on real web archives and the damaged copies a download or a disk leaves:
whatever is readable is built, each damaged record or file is counted once as a fault (exit
status 2), and a source that names nothing or input of another kind is refused by name.

Inputs: a WARC written by wget (allenai/dolma's test data, 15 HTML pages), a real Common Crawl
capture (WARC and WET) and a WET of ten real cc_net documents (tests/data/*/README.md name
their sources); the damage is made here, on copies."""

import datetime
import gzip
import json
import os
import re
import shutil
import subprocess
import zlib

import pytest

from opencompass_llmcompression.corpus import sources
from opencompass_llmcompression.corpus.cli import main
from opencompass_llmcompression.corpus.documents import BuildError, Report
from opencompass_llmcompression.corpus.sources import find_inputs
from opencompass_llmcompression.corpus.web import read_web

DATA = os.path.join(os.path.dirname(__file__), 'data')
DOLMA = os.path.join(DATA, 'web_archives', 'dolma-sample-0001.warc.gz')
CC_WARC = os.path.join(DATA, 'corpus_identical', 'web', 'whirlwind.warc.gz')
CC_WET = os.path.join(DATA, 'corpus_identical', 'web', 'whirlwind.warc.wet.gz')
CC_NET_WET = os.path.join(DATA, 'corpus_identical', 'web', 'cc_en_head-0091.warc.wet.gz')
EPRINT = os.path.join(DATA, 'corpus_identical', 'eprints', '2311.00001v1')

# An S3 bucket's answer to a request it refuses, as S3 writes it (what `curl -o` saves)
S3_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied'
    b'</Message><RequestId>4B5C8D9E2F1A3B7C</RequestId><HostId>aGVsbG8=</HostId></Error>'
)
HTML_ERROR = (
    b'<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n'
    b'<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n'
    b'</body>\r\n</html>\r\n'
)


def members(data: bytes):
    """Each gzip member of ``data`` as (start, end, WARC-Type, WARC-Target-URI), by zlib alone."""
    found, at = [], 0
    while at < len(data):
        inflate = zlib.decompressobj(wbits=31)
        text = inflate.decompress(data[at:])
        end = len(data) - len(inflate.unused_data)
        kind = re.search(rb'WARC-Type: (\S+)', text).group(1).decode()
        uri = re.search(rb'WARC-Target-URI: <?([^>\r\n]+)', text)
        found.append((at, end, kind, uri.group(1).decode() if uri else None))
        at = end
    return found


def read(path):
    report = Report()
    return [d.meta['url'].strip('<>') for d in read_web(path, report)], report


def flipped(data: bytes, at: int, count: int = 4) -> bytes:
    damaged = bytearray(data)
    for i in range(at, at + count):
        damaged[i] ^= 0xFF
    return bytes(damaged)


def copy(source, target) -> str:
    return str(shutil.copy(source, target))


def write(path, data: bytes) -> str:
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)


def test_the_intact_files_give_their_pages():
    urls, report = read(DOLMA)
    with open(DOLMA, 'rb') as f:
        pages = [uri for _, _, kind, uri in members(f.read()) if kind == 'response']
    assert len(urls) == 15 and urls == pages and report.faults == 0
    assert len(read(CC_NET_WET)[0]) == 10 and len(read(CC_WET)[0]) == 1


@pytest.mark.parametrize('where', ['middle', 'end'])
def test_four_bytes_flipped_in_any_member_cost_that_record_only(tmp_path, capsys, where):
    """Every one of the 34 members of the real WARC damaged in turn (4 bytes flipped in the
    middle of its deflate data, or in its CRC): the 15 pages less the one that member holds."""
    with open(DOLMA, 'rb') as f:
        data = f.read()
    intact, _ = read(DOLMA)
    layout = members(data)
    assert len(layout) == 34
    pages = 0  # pages before the member
    for number, (start, end, kind, uri) in enumerate(layout, start=1):
        at = (start + end) // 2 if where == 'middle' else end - 8  # the CRC-32 of the member
        path = write(tmp_path / 'damaged.warc.gz', flipped(data, at))
        urls, report = read(path)
        if kind == 'response':
            assert intact[pages] == uri
            assert urls == intact[:pages] + intact[pages + 1 :], number
            pages += 1
        else:
            assert urls == intact, number
        assert report.faults == 1 and sum(report.skipped.values()) == 1, (number, report.skipped)
        (example,) = report.examples.values()
        assert example == f'{path}:{number}'
    assert capsys.readouterr().err == ''  # no reader's message printed once per read attempt


def test_a_damaged_member_in_a_wet_file_through_the_command_line(tmp_path, capsys):
    with open(CC_NET_WET, 'rb') as f:
        data = f.read()
    layout = members(data)
    assert [kind for *_, kind, _ in layout] == ['warcinfo'] + ['conversion'] * 10
    start, end, _, lost = layout[4]  # the fourth page
    damaged = write(tmp_path / 'cc_en_head-0091.warc.wet.gz', flipped(data, (start + end) // 2))
    intact, _ = read(CC_NET_WET)
    urls, report = read(damaged)
    assert len(intact) == 10 and urls == [u for u in intact if u != lost] and report.faults == 1
    out = str(tmp_path / 'out')
    code = main(['--name', 'cc', '--kind', 'text', '--source', damaged, '--out', out, '--jobs', '1'])
    captured = capsys.readouterr()
    assert code == 2 and 'Traceback' not in captured.err
    (line,) = [line for line in captured.out.splitlines() if 'fault' in line]
    assert line == (
        f'  skipped 1 documents: fault: gzip member does not decompress (damaged), read on from the '
        f'next record (e.g. {damaged}:5)'
    )
    with open(os.path.join(out, 'cc.manifest.json'), encoding='utf-8') as f:
        assert json.load(f)['faults'] == 1


def test_a_file_that_does_not_decompress_beside_a_good_warc(tmp_path, capsys):
    """gzip's magic bytes, then data that does not inflate: a fault, the good file built."""
    with open(CC_WET, 'rb') as f:
        data = f.read()
    broken = write(tmp_path / 'CC-MAIN-20240518-00001.warc.wet.gz', data[:10] + data[10:][::-1])
    also = write(tmp_path / 'notes.gz', data[:10] + bytes(200))  # any name
    good = copy(DOLMA, tmp_path / 'good.warc.gz')
    assert [i.kind for i in find_inputs([str(tmp_path)], 'text')] == ['damaged', 'warc', 'damaged']
    out_all, out_good = str(tmp_path / 'all'), str(tmp_path / 'good')
    code = main(['--name', 'cc', '--kind', 'text', '--source', str(tmp_path), '--out', out_all])
    captured = capsys.readouterr()
    assert code == 2 and 'Traceback' not in captured.err
    assert 'warning: 2 skipped for damaged or hostile input' in captured.err
    fault = 'fault: gzip file that does not decompress (damaged, or cut short at its start)'
    assert f'  skipped 2 documents: {fault} (e.g. {broken})' in captured.out
    assert main(['--name', 'cc', '--kind', 'text', '--source', good, '--out', out_good]) == 0
    with (
        open(os.path.join(out_all, 'cc.jsonl'), 'rb') as f,
        open(os.path.join(out_good, 'cc.jsonl'), 'rb') as g,
    ):
        rows, alone = f.read().splitlines(), g.read().splitlines()
    assert len(rows) == len(alone) > 0
    assert [json.loads(r)['meta']['url'] for r in rows] == [json.loads(r)['meta']['url'] for r in alone]
    with open(os.path.join(out_all, 'cc.manifest.json'), encoding='utf-8') as f:
        manifest = json.load(f)
    assert manifest['faults'] == 2
    assert {i['path']: i['kind'] for i in manifest['inputs']}[also] == 'damaged'


def test_a_gzip_file_damaged_past_its_start_is_a_fault(tmp_path, capsys):
    """A gzipped plain file whose deflate data stops making sense past the part read to
    recognise it (zlib: "too many length or distance symbols")."""
    with open(DOLMA, 'rb') as f:
        whole = gzip.compress(b'notes\n' + gzip.decompress(f.read()), mtime=0)  # 214 KB
    damaged = write(tmp_path / 'notes.bin', whole[:100000] + whole[100000:][::-1])
    assert [i.kind for i in find_inputs([damaged], 'text')] == ['plain']
    out = str(tmp_path / 'out')
    assert main(['--name', 'x', '--kind', 'text', '--source', damaged, '--out', out]) == 1
    err = capsys.readouterr().err
    assert f'1 documents: fault: damaged gzip file (e.g. {damaged})' in err and 'Traceback' not in err


def test_a_warc_whose_first_member_is_damaged_is_still_a_warc(tmp_path):
    with open(DOLMA, 'rb') as f:
        data = f.read()
    damaged = write(tmp_path / 'a', data[:10] + data[10:100][::-1] + data[100:])
    assert [i.kind for i in find_inputs([damaged], 'text')] == ['warc']
    urls, report = read(damaged)
    assert urls == read(DOLMA)[0] and report.faults == 1  # the warcinfo record lost


def test_a_source_that_matches_nothing_is_refused_before_anything_is_read(tmp_path, capsys, monkeypatch):
    good = copy(DOLMA, tmp_path / 'CC-MAIN-2024-18-00000.warc.gz')
    typo = str(tmp_path / 'CC-MAIN-2024-81-*.warc.gz')

    def no_reading(*args, **kwargs):
        raise AssertionError('a file was read')

    monkeypatch.setattr(sources, 'recognise_file', no_reading)
    out = tmp_path / 'out'
    args = ['--name', 'cc', '--kind', 'text', '--source', good, '--source', typo, '--out', str(out)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"--source '{typo}' matches no file or folder: check the path" in err
    assert 'Traceback' not in err and not out.exists()
    with pytest.raises(BuildError, match="'missing/', 'b/\\*.wet' matches no file"):
        find_inputs([good, 'missing/', 'b/*.wet'], 'text')


@pytest.mark.parametrize(
    'name, data, fault',
    [
        ('CC-MAIN-20240518-00002.warc.wet.gz', S3_ERROR, 'looks like an HTTP error page'),
        ('CC-MAIN-20240518-00003.warc.gz', HTML_ERROR, 'looks like an HTTP error page'),
        ('CC-MAIN-20240518-00004.warc.gz', b'', 'empty file: the download failed?'),
        (
            'CC-MAIN-20240518-00005.warc.wet.gz',
            gzip.compress(b'partial', mtime=0),
            'not a WARC/WET file although',
        ),
    ],
)
def test_a_failed_download_is_a_fault_not_a_text_file(tmp_path, capsys, name, data, fault):
    bad = write(tmp_path / name, data)
    good = copy(CC_NET_WET, tmp_path / 'CC-MAIN-20240518-00001.warc.wet.gz')
    out = str(tmp_path / 'out')
    code = main(['--name', 'cc', '--kind', 'text', '--source', str(tmp_path / '*.gz'), '--out', out])
    captured = capsys.readouterr()
    assert code == 2, captured.err
    (line,) = [line for line in captured.out.splitlines() if 'fault' in line]
    assert fault in line and line.endswith(f'(e.g. {bad})')
    assert 'too few letters' not in captured.out
    with open(os.path.join(out, 'cc.jsonl'), encoding='utf-8') as f:
        assert len(f.readlines()) == 10 == len(read(good)[0])


def test_an_empty_text_file_is_no_fault(tmp_path):
    (tmp_path / '__init__.py').write_bytes(b'')
    assert [i.kind for i in find_inputs([str(tmp_path)], 'code')] == ['plain']


def test_the_summary_on_exit_1_keeps_its_examples(tmp_path, capsys):
    bad = write(tmp_path / 'CC-MAIN-20240518-00002.warc.wet.gz', S3_ERROR)
    assert main(['--name', 'cc', '--kind', 'text', '--source', bad, '--out', str(tmp_path / 'o')]) == 1
    err = capsys.readouterr().err
    assert 'no document is left for corpus "cc"; skipped:' in err
    assert '1 documents: fault: not a WARC/WET file: looks like an HTTP error page' in err
    assert f'(e.g. {bad})' in err


def test_eprints_given_kind_text_or_code_name_kind_latex(tmp_path, capsys):
    folder = tmp_path / 'eprints'
    folder.mkdir()
    copy(EPRINT, folder / '2311.00001v1')
    for kind in ('text', 'code'):
        assert (
            main(['--name', 'x', '--kind', kind, '--source', str(folder), '--out', str(tmp_path / 'o')]) == 1
        )
        err = capsys.readouterr().err
        assert f'{folder} holds arXiv e-prints (LaTeX sources): build it with --kind latex' in err
        assert 'binary' not in err
    assert [i.kind for i in find_inputs([str(folder)], 'latex')] == ['arxiv']


def test_git_repositories_given_kind_text_name_kind_code(tmp_path, capsys):
    repos = tmp_path / 'repos'
    repo = repos / 'whirlwind'
    repo.mkdir(parents=True)
    (repo / 'ci.yaml').write_text('name: CI\non:\n  push:\n    branches: [main]\n' * 20)
    (repo / 'README.md').write_text('A walk through the files of a crawl, one record at a time.\n' * 10)
    env = dict(os.environ, GIT_AUTHOR_NAME='a', GIT_AUTHOR_EMAIL='a@b', GIT_COMMITTER_NAME='a')
    env.update(GIT_COMMITTER_EMAIL='a@b')
    for command in (['init', '-q'], ['add', '.'], ['commit', '-q', '-m', 'first']):
        subprocess.run(['git', *command], cwd=repo, env=env, check=True)
    out = str(tmp_path / 'o')
    assert main(['--name', 'x', '--kind', 'text', '--source', str(repos), '--out', out]) == 1
    err = capsys.readouterr().err
    assert f'{repo} holds a git repository: build it with --kind code' in err
    assert "name them by a glob (--source 'repo/**/*.md')" in err
    # its text files named by a glob are plain text files
    assert [i.kind for i in find_inputs([str(repos / '**' / '*.md')], 'text')] == ['plain']


def test_a_page_is_dated_by_the_publication_it_states_not_a_later_modification():
    """creativecommons.org/mission/ states ``datePublished`` 2016-08-30 in its JSON-LD and
    ``article:modified_time`` 2024-03-15 in a meta tag; the Common Crawl capture of a
    Wikipedia page states 2008-07-04 published, 2023-08-17 modified."""
    report = Report()
    dates = {d.meta['url'].strip('<>'): (d.date, d.date_source) for d in read_web(DOLMA, report)}
    assert dates['https://creativecommons.org/mission/'] == (datetime.date(2016, 8, 30), 'published')
    assert dates['https://creativecommons.org/'] == (datetime.date(2023, 9, 27), 'published')
    assert dates['https://prior.allenai.org/'] == (datetime.date(2024, 4, 25), 'crawl')  # states none
    (page,) = read_web(CC_WARC, report)
    assert (page.date, page.date_source) == (datetime.date(2008, 7, 4), 'published')
