"""Inputs routed by their content to their kind's reader and recipe: a git clone to the code
recipe, dated by first commit; an arXiv bulk source tar to the arXiv reader; the manifest
names what ran."""

import datetime
import gzip
import io
import json
import os
import subprocess
import tarfile

import pytest

from opencompass_llmcompression.corpus import build as builder
from opencompass_llmcompression.corpus.sources import find_inputs

CODE = '''"""Shapes and their areas."""

import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        result = math.pi * self.radius ** 2
        return result


def total_area(shapes):
    total = 0
    for shape in shapes:
        total = total + shape.area()
    return total


def largest(shapes):
    best = None
    for shape in shapes:
        if best is None or shape.area() > best.area():
            best = shape
    return best
'''


def git(cwd, *args, date=None):
    env = dict(os.environ, GIT_AUTHOR_NAME='a', GIT_AUTHOR_EMAIL='a@example.org')
    env.update(GIT_COMMITTER_NAME='a', GIT_COMMITTER_EMAIL='a@example.org')
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(['git', *args], cwd=cwd, env=env, check=True, capture_output=True)


@pytest.fixture
def clone(tmp_path):
    origin = tmp_path / 'origin'
    origin.mkdir()
    git(origin, 'init', '-q', '-b', 'main')
    (origin / 'old.py').write_text(CODE.replace('Circle', 'Disc'))
    git(origin, 'add', 'old.py')
    git(origin, 'commit', '-q', '-m', 'old', date='2020-03-01T12:00:00+00:00')
    (origin / 'new.py').write_text(CODE.replace('Circle', 'Ring').replace('total', 'summed'))
    (origin / 'README.md').write_text('# shapes\n')
    git(origin, 'add', 'new.py', 'README.md')
    git(origin, 'commit', '-q', '-m', 'new', date='2026-02-01T12:00:00+00:00')
    target = tmp_path / 'repos' / 'shapes'
    git(tmp_path, 'clone', '-q', str(origin), str(target))
    return target


def test_a_clone_is_code_dated_by_first_commit_not_by_its_files(clone, tmp_path):
    assert [i.kind for i in find_inputs([str(tmp_path / 'repos')], 'code')] == ['git']
    out = str(tmp_path / 'out')
    report = builder.build(
        'python', 'code', [str(tmp_path / 'repos')], out, after=datetime.date(2026, 1, 1), suffixes=['.py']
    )
    with open(os.path.join(out, 'python.jsonl'), encoding='utf-8') as f:
        rows = [json.loads(line) for line in f]
    assert [(r['meta']['date'], r['meta']['date_source']) for r in rows] == [('2026-02-01', 'first-commit')]
    assert 'class Ring' in rows[0]['content']
    assert report.skipped['dated before 2026-01-01 (--after)'] == 1
    with open(os.path.join(out, 'python.manifest.json'), encoding='utf-8') as f:
        manifest = json.load(f)
    names = [f['name'] for f in manifest['filters']]
    assert 'code' in names and 'date_window' in names
    assert manifest['inputs'] == [{'path': str(tmp_path / 'repos'), 'kind': 'git', 'folder': True}]


def test_an_arxiv_bulk_tar_goes_to_the_arxiv_reader(tmp_path):
    tex = (
        '\\documentclass{article}\\title{On sums}\\begin{document}\\maketitle '
        'Let $x$ be real. Then $x^2 \\geq 0$ and \\[ \\sum_{i=1}^n i = n(n+1)/2 . \\]\\end{document}\n'
    )
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode='w') as tar:
        payload = gzip.compress(tex.encode(), mtime=0)
        info = tarfile.TarInfo('2601/2601.00001.gz')
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    bulk = tmp_path / 'any-name.tar'
    bulk.write_bytes(data.getvalue())
    assert [i.kind for i in find_inputs([str(bulk)], 'latex')] == ['arxiv']
    with pytest.raises(
        builder.BuildError, match='holds arXiv e-prints .LaTeX sources.: build it with --kind latex'
    ):
        find_inputs([str(bulk)], 'text')
    out = str(tmp_path / 'out')
    report = builder.build('arxiv_math', 'latex', [str(bulk)], out, keep_latex=True, jobs=1)
    assert report.kept == 1
    with open(os.path.join(out, 'arxiv_math.jsonl'), encoding='utf-8') as f:
        (row,) = [json.loads(line) for line in f]
    assert '\\sum_{i=1}^n' in row['content'] and row['meta']['date'] == '2026-01-01'
