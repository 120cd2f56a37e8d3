"""Mathematics from arXiv sources: bulk source tars and e-print downloads, the paper's choice of
main .tex, metadata (first category, first version), pandoc's Markdown, and hostile input."""

import gzip
import io
import json
import os
import tarfile
import time

import pytest

from opencompass_llmcompression.corpus import arxiv
from opencompass_llmcompression.corpus.arxiv import (
    arxiv_id,
    follow_inputs,
    is_arxiv_source,
    main_tex_files,
    read_arxiv,
)
from opencompass_llmcompression.corpus.documents import BuildError, Report
from opencompass_llmcompression.corpus.git_sources import is_git_source

MAIN = r"""\documentclass{article}
\newtheorem{theorem}{Theorem}
\title{Primes in short intervals}
\begin{document}
\maketitle
\section{Introduction}
Let $p$ be a prime and 100\% sure. % \input{secret}
\input{sections/proof}
\end{document}
"""
PROOF = r"""\section{Proof}
\begin{theorem}
We have $\sum_{n \le x} \Lambda(n) = x + O(x^{1/2+\epsilon})$.
\end{theorem}
"""
SINGLE = r"""\documentclass{amsart}
\title{A note on graphs}
\begin{document}
\section{Result}
Every planar graph $G$ has $\chi(G) \le 4$.
\end{document}
"""
PDF = b'%PDF-1.5\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n'


def tar_bytes(members):
    """members: name -> bytes, or ('symlink', target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                tar.addfile(info)
                continue
            data = data.encode() if isinstance(data, str) else data
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def paper_with_input():
    return gzip.compress(
        tar_bytes(
            {'main.tex': MAIN, 'sections/proof.tex': PROOF, 'fig.png': b'\x89PNG\x00\x00', 'notes.tex': 'x'}
        )
    )


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return str(path)


def metadata_line(paper, categories, created='Fri, 1 Sep 2023 10:00:00 GMT'):
    versions = [
        {'version': 'v1', 'created': created},
        {'version': 'v2', 'created': 'Mon, 5 Jan 2026 09:00:00 GMT'},
    ]
    row = {
        'id': paper,
        'title': f'Paper {paper}',
        'categories': categories,
        'versions': versions,
        'license': None,
    }
    return json.dumps(row) + '\n'


@pytest.fixture
def bulk(tmp_path):
    members = {
        '2309/2309.00001.gz': paper_with_input(),
        '2309/2309.00002.gz': gzip.compress(SINGLE.encode()),
        '2309/2309.00003.pdf': PDF,
        '2309/2309.00004.gz': gzip.compress(SINGLE.encode()),
        '2309/2309.00005.gz': gzip.compress(SINGLE.encode()),
        '2309/2309.00006.gz': gzip.compress(SINGLE.encode()),
    }
    path = write(tmp_path / 'arXiv_src_2309_001.tar', tar_bytes(members))
    meta = write(
        tmp_path / 'arxiv-metadata-oai-snapshot.json',
        metadata_line('2309.00001', 'math.NT math.CA')
        + metadata_line('2309.00002', 'math.CO cs.DM', created='Sat, 30 Sep 2023 23:30:00 GMT')
        + metadata_line('2309.00003', 'math.AG')
        + metadata_line('2309.00004', 'cs.LG math.OC')
        + metadata_line('2309.00005', 'math-ph math.MP')
        + 'not json\n',
    )
    return path, meta


def test_a_bulk_tar_the_papers_way(bulk):
    path, meta = bulk
    assert is_arxiv_source(path) and not is_git_source(path)
    report = Report()
    docs = list(read_arxiv([path], report, meta, keep_latex=False, pandoc_timeout=30))
    assert [d.meta['id'] for d in docs] == ['2309.00001', '2309.00002']
    first, second = docs
    assert first.source == f'{path}!2309/2309.00001.gz!main.tex'
    assert second.source == f'{path}!2309/2309.00002.gz'
    assert (str(first.date), str(second.date)) == ('2023-09-01', '2023-09-30')  # first versions
    assert {d.date_source for d in docs} == {'first-version'}
    assert first.meta['categories'] == 'math.NT math.CA' and first.meta['main_tex'] == 'main.tex'
    # Markdown from pandoc: the title block, headings, the \input'ed section, maths kept as TeX
    assert first.content.startswith('---\ntitle: Primes in short intervals\n---\n')
    assert '# Introduction' in first.content and '# Proof' in first.content
    assert r'$\sum_{n \le x} \Lambda(n) = x + O(x^{1/2+\epsilon})$' in first.content
    assert not any(line.lstrip().startswith(':::') for line in first.content.splitlines())
    assert 'secret' not in first.content
    assert '$\\chi(G) \\le 4$' in second.content
    assert report.skipped == {
        'PDF only (no TeX source)': 1,
        'first category is not math.*': 2,
        'not in the arXiv metadata': 1,
    }
    assert report.faults == 0
    removed = {f['name']: f['removed'] for f in report.filters}
    assert removed == {
        'arxiv: one_per_id': 0,
        'arxiv: first_category': 3,
        'arxiv: pdf_only': 1,
        'arxiv: main_tex': 0,
        'arxiv: pandoc': 0,
    }
    pandoc = [f for f in report.filters if f['name'] == 'arxiv: pandoc'][0]['parameters']
    assert pandoc['version'].startswith('pandoc ') and '--wrap=none' in pandoc['args']
    parallel = Report()  # pandoc processes side by side: the same documents, the same report
    assert list(read_arxiv([path], parallel, meta, False, 30, jobs=3)) == docs
    assert parallel == report


def test_a_folder_of_eprints_without_metadata_keeps_latex(tmp_path, caplog):
    folder = tmp_path / 'eprints'
    write(folder / '2601.00001', paper_with_input())
    write(folder / '2601.00002v2', gzip.compress(SINGLE.encode()))
    write(folder / '2601.00003.pdf', PDF)
    write(folder / 'README', 'not a paper')
    assert is_arxiv_source(str(folder)) and is_arxiv_source(str(folder / '2601.00002v2'))
    assert not is_git_source(str(folder / '2601.00001'))
    report = Report()
    docs = list(read_arxiv([str(folder)], report, None, keep_latex=True, pandoc_timeout=1))
    assert [d.meta['id'] for d in docs] == ['2601.00001', '2601.00002']
    assert {str(d.date) for d in docs} == {'2026-01-01'} and {d.date_source for d in docs} == {'id-month'}
    assert docs[0].content == MAIN.replace('\\input{sections/proof}', PROOF)  # comments untouched
    assert docs[1].content == SINGLE and docs[1].meta['main_tex'] == 'main.tex'
    # every file of the folder is counted: the README among the papers too
    assert report.skipped == {'PDF only (no TeX source)': 1, 'neither TeX nor a tar of sources': 1}
    assert 'no category filter' in caplog.text
    assert [f['parameters']['ran'] for f in report.filters if f['name'] == 'arxiv: pandoc'] == [
        'no: LaTeX kept (inputs followed)'
    ]


def test_arxiv_ids_and_months():
    assert arxiv_id('2601.01234v3.tar.gz') == '2601.01234'
    assert arxiv_id('math0601001.gz') == 'math/0601001'
    assert arxiv_id('README') is None and arxiv_id('2601.1') is None
    assert str(arxiv.id_month('math/9901001')) == '1999-01-01'
    assert arxiv.id_month('2613.00001') is None


def test_main_tex_as_the_paper_chose_it():
    assert main_tex_files({'macros.tex': '', 'paper_v2.tex': '', 'main.tex': ''}) == ['main.tex']
    assert main_tex_files({'macros.tex': '', 'Paper.tex': ''}) == ['Paper.tex']
    assert main_tex_files({'a.tex': '', 'sub/main.tex': '', 'fig.pdf': ''}) == ['a.tex']
    assert main_tex_files({'a.tex': '\\title{A}', 'b.tex': 'B', 'c.tex': '\\title{C}'}) == ['a.tex', 'c.tex']
    assert main_tex_files({'a.tex': 'A', 'b.tex': 'B'}) == []


def test_inputs_are_followed_from_the_papers_own_files_only():
    files = {
        'm.tex': '\\input{a}\\include{b.tex} \\input c \\includegraphics{a} \\input{/etc/passwd}\n'
        '\\% \\input{a} % \\input{a}\n',
        'a.tex': 'A\\input{m}',
        'b.tex': 'B',
        'c.tex': 'C',
    }
    assert follow_inputs(files, 'm.tex') == (
        'A\\input{m}B C \\includegraphics{a} \\input{/etc/passwd}\n\\% A\\input{m} % \\input{a}\n'
    )


def test_what_is_not_an_arxiv_source(tmp_path):
    write(tmp_path / 'notes.txt', 'hello')
    write(tmp_path / 'plain' / 'a.tex', SINGLE)
    assert not is_arxiv_source(str(tmp_path / 'notes.txt'))
    assert not is_arxiv_source(str(tmp_path / 'plain'))
    with pytest.raises(BuildError, match='not an arXiv source'):
        list(read_arxiv([str(tmp_path / 'plain')], Report(), None, True, 1))
    with pytest.raises(BuildError, match='cannot read the arXiv metadata'):
        write(tmp_path / 'e' / '2601.00002', gzip.compress(SINGLE.encode()))
        list(read_arxiv([str(tmp_path / 'e')], Report(), str(tmp_path / 'missing.json'), True, 1))


# ---- hostile input ----------------------------------------------------------------------


def test_hostile_papers_are_skipped_as_faults_and_the_build_goes_on(tmp_path, monkeypatch):
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(arxiv, 'MAX_PAPER_BYTES', 50_000)
    escaping = gzip.compress(
        tar_bytes({'../../evil.tex': SINGLE, 'link.tex': ('symlink', '/etc/passwd'), 'main.tex': SINGLE})
    )
    bomb = gzip.compress(b'\\documentclass{article}' + b' ' * 1_000_000)
    whole = gzip.compress(SINGLE.encode() * 50)
    cut = whole[: len(whole) // 2]
    members = {
        '2309/2309.00011.gz': escaping,
        '2309/2309.00012.gz': bomb,
        '2309/2309.00013.gz': cut,
        '2309/2309.00014.gz': gzip.compress(b'\x00\x01 binary junk'),
        '2309/2309.00015.gz': gzip.compress(SINGLE.encode()),
    }
    good = write(tmp_path / 'good.tar', tar_bytes(members))
    broken = tar_bytes({'2309/2309.00021.gz': gzip.compress(SINGLE.encode()), '2309/2309.00022.gz': bomb})
    broken = write(tmp_path / 'broken.tar', broken[:1500])
    report = Report()
    docs = list(read_arxiv([broken, good], report, None, keep_latex=True, pandoc_timeout=1))
    assert [d.meta['id'] for d in docs] == ['2309.00021', '2309.00011', '2309.00015']
    assert docs[1].content == SINGLE  # the escaping members are not read
    assert report.skipped == {
        'fault: archive cut short (the rest not read)': 1,
        'fault: member path outside the archive (not read)': 1,
        'fault: link out of the archive (not followed)': 1,
        'fault: paper expands past 50000 bytes unpacked (not read)': 1,
        'fault: damaged gzip (EOFError)': 1,
        'neither TeX nor a tar of sources': 1,
    }
    assert report.faults == 5
    assert os.listdir(work) == [] and sorted(os.listdir(tmp_path)) == ['broken.tar', 'good.tar', 'work']


def test_pandoc_reads_no_file_and_is_bounded_in_memory_and_time(tmp_path, monkeypatch):
    folder = tmp_path / 'eprints'
    write(
        folder / '2601.00001',
        gzip.compress(SINGLE.replace('\\section', '\\input{/etc/hostname}\\section').encode()),
    )
    docs = list(read_arxiv([str(folder)], Report(), None, keep_latex=False, pandoc_timeout=30))
    with open('/etc/hostname') as f:
        hostname = f.read().strip()
    assert len(docs) == 1 and '# Result' in docs[0].content
    assert not hostname or hostname not in docs[0].content

    deep = (
        '\\documentclass{article}\n\\begin{document}\n' + '$x^{' * 3000 + '}$' * 3000 + '\n\\end{document}\n'
    )
    write(folder / '2601.00001', gzip.compress(deep.encode()))
    monkeypatch.setattr(arxiv, 'PANDOC_HEAP', '20m')
    report = Report()
    assert list(read_arxiv([str(folder)], report, None, keep_latex=False, pandoc_timeout=30)) == []
    assert report.skipped == {'fault: pandoc ran past its 20m heap bound': 1}

    hang = write(tmp_path / 'bin' / 'pandoc', '#!/bin/sh\nexec sleep 60\n')
    os.chmod(hang, 0o755)
    monkeypatch.setattr(arxiv, 'pandoc_binary', lambda: hang)
    monkeypatch.setattr(arxiv, 'pandoc_version', lambda: 'pandoc (a hanging one)')
    write(folder / '2601.00002', gzip.compress(SINGLE.encode()))
    report = Report()
    started = time.monotonic()
    assert list(read_arxiv([str(folder)], report, None, keep_latex=False, pandoc_timeout=0.5)) == []
    assert time.monotonic() - started < 5
    assert report.skipped == {'fault: pandoc ran past 0.5 s (killed)': 2}
