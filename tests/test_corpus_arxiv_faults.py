"""arXiv sources as a month of downloads leaves them, on a real paper's sources and real metadata
(tests/data/arxiv) and damaged copies made here: e-prints recognised by content under any name,
one document per arXiv id, pandoc's own reasons, a shallow clone told how to deepen it, and a
byte-order mark kept out of the text."""

import datetime
import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest

from opencompass_llmcompression.corpus import build as builder
from opencompass_llmcompression.corpus.arxiv import (
    PandocFailed,
    follow_inputs,
    is_arxiv_source,
    name_id,
    read_arxiv,
    to_markdown,
)
from opencompass_llmcompression.corpus.dates import DateWindow
from opencompass_llmcompression.corpus.documents import Report
from opencompass_llmcompression.corpus.git_sources import read_git_sources
from opencompass_llmcompression.corpus.sources import find_inputs

DATA = os.path.join(os.path.dirname(__file__), 'data', 'arxiv')
PAPER = os.path.join(DATA, 'equational-theories-paper.tar.gz')
METADATA = os.path.join(DATA, 'arxiv-metadata-sample.json')
SECTIONS = ['intro', 'foundations', 'project', 'constructions', 'metatheorems', 'automated', 'austin']
SECTIONS += ['spectrum', 'higman', 'ml', 'GUI', 'data', 'conclusions', 'numbering', 'contributions']
OTHER_COPY = 'another copy of the paper kept (one document per arXiv id: the latest version given)'
NOT_TEX = 'neither TeX nor a tar of sources'


def paper_files():
    """The real paper's files: name -> text (16 .tex files, main.tex inputs the 15 others)."""
    with tarfile.open(PAPER) as tar:
        return {m.name: tar.extractfile(m).read().decode('utf-8') for m in tar}


def eprint(files, encode=lambda name, text: text.encode('utf-8')):
    """A gzipped tar of ``files`` (name -> text), as arXiv serves a paper's e-print."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name, text in sorted(files.items()):
            data = encode(name, text)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def bulk_tar(path, members):
    """An arXiv bulk source tar: ``YYMM/<id>.gz`` -> bytes."""
    with tarfile.open(path, 'w') as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return str(path)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    return str(path)


def real_paper_bytes():
    with open(PAPER, 'rb') as f:
        return f.read()


def test_the_real_paper_is_whole():
    files = paper_files()
    assert len(files) == 16 and all(f'\\input{{{name}}}' in files['main.tex'] for name in SECTIONS)


def test_eprints_are_recognised_by_content_under_any_name(tmp_path):
    files = paper_files()
    real = real_paper_bytes()
    folder = tmp_path / 'downloads'
    write(folder / 'arXiv-2410.17197v2.tar.gz', real)  # a download tool's name
    write(folder / '2301.00002v1', gzip.compress(files['austin.tex'].encode()))  # a gzipped single .tex
    write(folder / 'download', real)  # a gzipped tar under a name without an id
    with open(folder / 'paper.gz', 'wb') as f:  # a gzip whose header records the file's name
        with gzip.GzipFile('2302.00003.tex', 'wb', fileobj=f, mtime=0) as z:
            z.write(files['higman.tex'].encode())
    write(folder / 'notes.txt', b'Downloaded on Monday.\n')
    assert name_id('arXiv-2410.17197v2.tar.gz') == ('2410.17197', 2)
    assert is_arxiv_source(str(folder))
    for name in ('arXiv-2410.17197v2.tar.gz', '2301.00002v1', 'download', 'paper.gz'):
        assert is_arxiv_source(str(folder / name)), name
        assert [i.kind for i in find_inputs([str(folder / name)], 'latex')] == ['arxiv']
    assert not is_arxiv_source(str(folder / 'notes.txt'))
    # a repository archive holding the same files under its one folder is no e-print
    archive = eprint({f'equational_theories-54edcda/paper/{name}': text for name, text in files.items()})
    assert not is_arxiv_source(write(tmp_path / 'repository.tar.gz', archive))
    # nor are gzipped records whose text quotes TeX
    records = json.dumps({'text': files['austin.tex']}) + '\n'
    assert not is_arxiv_source(write(tmp_path / 'records.jsonl.gz', gzip.compress(records.encode())))

    report = Report()
    docs = list(read_arxiv([str(folder)], report, None, keep_latex=True))
    assert [d.meta['id'] for d in docs] == ['2301.00002', '2410.17197', None, '2302.00003']
    assert [d.meta.get('version') for d in docs] == ['v1', 'v2', None, None]
    assert [str(d.date) for d in docs] == ['2023-01-01', '2024-10-01', 'None', '2023-02-01']
    assert docs[2].meta['date_unknown'] == 'no arXiv id in its file name or gzip header'
    assert report.skipped == {NOT_TEX: 1} and report.faults == 0  # every file counted
    whole = docs[1].content
    assert docs[2].content == whole and '\\input{' not in whole.replace('% \\input{order5}', '')
    for name in SECTIONS:  # each input's text is in the paper's document
        assert files[f'{name}.tex'].strip()[:200] in whole, name
    assert docs[0].content == files['austin.tex'] and docs[3].content == files['higman.tex']

    # given alone, the download tool's file is built as a paper, not skipped as binary
    out = tmp_path / 'out'
    built = builder.build(
        'arxiv_math', 'latex', [str(folder / 'arXiv-2410.17197v2.tar.gz')], str(out), keep_latex=True
    )
    assert built.skipped == {} and built.written == {'arxiv_math': 1}
    with open(out / 'arxiv_math.jsonl', encoding='utf-8') as f:
        row = json.loads(f.readline())
    assert row['content'] == whole and row['meta']['id'] == '2410.17197'


def test_metadata_needs_an_id(tmp_path):
    folder = tmp_path / 'downloads'
    write(folder / 'download', real_paper_bytes())
    write(folder / '0704.0004v1.tar.gz', real_paper_bytes())
    report = Report()
    docs = list(read_arxiv([str(folder)], report, METADATA, keep_latex=True))
    assert [d.meta['id'] for d in docs] == ['0704.0004']
    assert str(docs[0].date) == '2007-03-31' and docs[0].meta['categories'] == 'math.CO'
    assert report.skipped == {
        'no arXiv id in its file name or gzip header, so no metadata: name the file by its id': 1
    }


def older_version(files):
    """The paper as an earlier version might have read: one word of its abstract other."""
    older = dict(files)
    older['main.tex'] = files['main.tex'].replace('We report on', 'We describe')
    assert older['main.tex'] != files['main.tex']
    return older


def test_one_document_per_arxiv_id_the_latest_version_given(tmp_path):
    files = paper_files()
    folder = tmp_path / 'eprints'
    v1 = write(folder / '0704.0004v1.tar.gz', eprint(older_version(files)))
    v2 = write(folder / 'arXiv-0704.0004v2.tar.gz', real_paper_bytes())
    report = Report()
    docs = list(read_arxiv([str(folder)], report, None, keep_latex=True))
    assert [(d.meta['id'], d.meta['version'], d.source) for d in docs] == [
        ('0704.0004', 'v2', f'{v2}!main.tex')
    ]
    assert 'We report on' in docs[0].content
    assert report.skipped == {OTHER_COPY: 1} and report.examples[OTHER_COPY] == v1
    one = [f for f in report.filters if f['name'] == 'arxiv: one_per_id'][0]
    assert one['removed'] == 1 and one['parameters']['replaced'] == [{'dropped': v1, 'kept': v2}]

    # the same paper in a bulk tar (no version in its name: the latest arXiv had) and a paper
    # of another field beside it; the real metadata's categories and first version
    bulk = bulk_tar(
        tmp_path / 'arXiv_src_0704_001.tar',
        {
            '0704/0704.0004.gz': real_paper_bytes(),
            '2101/2101.11408.gz': eprint(older_version(files)),
            '0704/README': b'not a paper',
        },
    )
    out = tmp_path / 'out'
    built = builder.build(
        'arxiv_math', 'latex', [str(folder), bulk], str(out), arxiv_metadata=METADATA, keep_latex=True
    )
    assert built.skipped == {
        OTHER_COPY: 2,
        'first category is not math.*': 1,
        'member of a bulk source tar not named by an arXiv id': 1,
    }
    with open(out / 'arxiv_math.jsonl', encoding='utf-8') as f:
        rows = [json.loads(line) for line in f]
    assert [(r['meta']['id'], r['meta']['source'], r['meta']['date']) for r in rows] == [
        ('0704.0004', f'{bulk}!0704/0704.0004.gz!main.tex', '2007-03-31')
    ]
    with open(out / 'arxiv_math.manifest.json', encoding='utf-8') as f:
        manifest = json.load(f)
    one = [f for f in manifest['filters'] if f['name'] == 'arxiv: one_per_id'][0]
    kept = f'{bulk}!0704/0704.0004.gz'
    assert one['removed'] == 2
    assert one['parameters']['replaced'] == [{'dropped': v1, 'kept': kept}, {'dropped': v2, 'kept': kept}]
    assert manifest['skipped'][OTHER_COPY] == 2


def test_pandoc_failure_names_pandocs_own_message(tmp_path):
    files = paper_files()
    cut = dict(files)  # a copy whose main.tex was cut short inside the abstract
    cut['main.tex'] = files['main.tex'][: files['main.tex'].index('edges of the implication graph')]
    folder = tmp_path / 'eprints'
    where = write(folder / '2410.17197v1.tar.gz', eprint(cut))
    report = Report()
    assert list(read_arxiv([str(folder)], report, None, pandoc_timeout=60)) == []
    reason = 'pandoc could not convert it: unexpected end of input expecting \\end{abstract}'
    assert report.skipped == {reason: 1} and report.examples[reason] == f'{where}!main.tex'
    assert report.faults == 0
    assert [f['removed'] for f in report.filters if f['name'] == 'arxiv: pandoc'] == [1]

    # an unclosed minted block, the message on one line without pandoc's position and quote
    minted = files['main.tex'].replace('\\input{intro}', '\\begin{minted}{lean}\ntheorem t : 1 = 1 := rfl\n')
    minted = minted[: minted.index('theorem t') + len('theorem t : 1 = 1 := rfl\n')]
    with pytest.raises(PandocFailed) as failed:
        to_markdown(follow_inputs({**files, 'main.tex': minted}, 'main.tex'), 60, str(tmp_path))
    assert failed.value.reason == 'unexpected end of input expecting \\end{minted}'
    assert not failed.value.fault


def test_a_byte_order_mark_of_an_input_file_stays_out_of_the_text(tmp_path):
    files = paper_files()
    clean = write(tmp_path / 'clean' / '2410.17197v1.tar.gz', real_paper_bytes())
    marked = eprint(files, lambda name, text: ('\ufeff' + text).encode('utf-8'))  # as some editors save
    damaged = write(tmp_path / 'marked' / '2410.17197v1.tar.gz', marked)
    latex = [
        list(read_arxiv([path], Report(), None, keep_latex=True))[0].content for path in (clean, damaged)
    ]
    assert '\ufeff' not in latex[1] and latex[1] == latex[0]
    report = Report()
    markdown = [d.content for d in read_arxiv([clean, damaged], report, None, pandoc_timeout=60, jobs=2)]
    assert report.skipped == {OTHER_COPY: 1}  # the same id twice: one read
    clean_only, marked_only = Report(), Report()
    [first] = read_arxiv([clean], clean_only, None, pandoc_timeout=60)
    [second] = read_arxiv([damaged], marked_only, None, pandoc_timeout=60)
    assert '\ufeff' not in second.content and second.content == first.content == markdown[0]
    assert 'Equational Theories Project' in first.content


def git(cwd, *args):
    env = {
        **os.environ,
        'GIT_AUTHOR_NAME': 'A',
        'GIT_AUTHOR_EMAIL': 'a@example.org',
        'GIT_COMMITTER_NAME': 'A',
        'GIT_COMMITTER_EMAIL': 'a@example.org',
        'GIT_AUTHOR_DATE': '2024-10-03T12:00:00Z',
        'GIT_COMMITTER_DATE': '2024-10-03T12:00:00Z',
    }
    return subprocess.run(['git', *args], cwd=cwd, env=env, check=True, capture_output=True).stdout


def test_a_shallow_clone_is_told_how_to_deepen_it_not_to_see_date_from(tmp_path):
    origin = tmp_path / 'origin'
    for name, text in paper_files().items():
        write(origin / 'paper' / name, text.encode('utf-8'))
    git(tmp_path, 'init', '-q', str(origin))
    git(origin, 'add', '.')
    git(origin, 'commit', '-q', '-m', 'paper')
    git(origin, 'commit', '-q', '--allow-empty', '-m', 'later')
    shallow = tmp_path / 'shallow'
    git(tmp_path, 'clone', '-q', '--depth', '1', f'file://{origin}', str(shallow))
    docs = list(read_git_sources([str(shallow)], Report(), 'first-commit', suffixes=('.tex',)))
    assert len(docs) == 16 and all(d.date is None for d in docs)
    reasons = {DateWindow(after=datetime.date(2024, 1, 1)).reason_out(d) for d in docs}
    assert reasons == {
        'undated, outside --after/--before '
        '(a shallow clone has no history to date by: deepen it with git fetch --unshallow)'
    }
    full = list(read_git_sources([str(origin)], Report(), 'first-commit', suffixes=('.tex',)))
    assert {str(d.date) for d in full} == {'2024-10-03'}  # the history dates them
