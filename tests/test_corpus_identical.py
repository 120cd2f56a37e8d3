"""The corpus builder's output on clean, real input, pinned byte for byte: each kind of corpus
built with ``--jobs 1`` and ``--jobs 2`` gives the corpus file and manifest whose SHA-256 are
written below (recorded once from a build before the builder was reorganised into steps), so
a change in how the builder is put together cannot change what it writes.

Inputs (tests/data/corpus_identical/README.md names their sources): a real Common Crawl
capture (WARC and WET), a WARC of a public crawl tool's tests, ten real cc_net documents in a
WET file, a git repository made here of a public project's Python files, a public project's
LaTeX as plain files and as an arXiv e-print, public README files and a records file of real
cc_net documents. Both files are compared with the inputs' folder written ``<root>`` (rows name their source).
"""

import hashlib
import json
import os
import shutil

import pytest
from test_corpus_code import git

from opencompass_llmcompression.corpus.cli import main

DATA = os.path.join(os.path.dirname(__file__), 'data', 'corpus_identical')
DATE = '2024-05-01T12:00:00+00:00'

# name -> (arguments after --name/--out, sha256 of NAME.jsonl, sha256 of the normalised manifest)
BUILDS = {
    'web': (
        ['--kind', 'text', '--source', '{root}/web'],
        'f155c97c46def9c9e6a6c6a6d4de84eff95a63c210eb55d6b874dbb4033a8085',
        'c9ce5a7ee2eab7d6beff77c2b8ab3a46118f005cf7895f2cbf0dcb01bf63092f',
    ),
    'web_window': (
        ['--kind', 'text', '--source', '{root}/web/*.wet.gz', '--after', '2020-04-01']
        + ['--max-chars', '20000'],
        'b9eed97cb5d5fbe52f71e502500439d52f0a7934cebff56120e14b8699ffc5db',
        '74dd4b50610be5c85e683f906ffdbb9e0d980cec486f844d893cb8cefdd7f004',
    ),
    'code': (
        ['--kind', 'code', '--source', '{root}/repos', '--suffix', '.py', '--after', '2024-01-01'],
        '57a43b3d2f127c8a5f6af3e5c7f7b350d8829aceb3478378fb6876ce64ea7d55',
        'c144fcbf812631273e4be5e659653dbd9cd7b838a88646587fc76fb6700de8ba',
    ),
    'latex': (
        ['--kind', 'latex', '--source', '{root}/latex', '--source', '{root}/eprints', '--keep-latex'],
        '121de3726f38c05eb0bbd47d41a14d2321b871bb5e80b823cfff8e7e3abe1c02',
        '6e324c853f5021e8e2652a87631335764bbc0e97ab2bd816faef64fdcdc40ddc',
    ),
    'text': (
        [
            '--kind', 'text', '--source', '{root}/text',
            '--records', '{root}/records/cc_en_head-0174.jsonl.gz',
            '--date-field', 'created', '--budget', '20000', '--seed', '3',
        ],
        'a3445981cfaeeeb611351747ce05a6875e0801c198a9179e4e41ce5fdea9421d',
        'c79b3156826197936ec987e7fa5899bc5a6af893123550aea6863b94358e0c56',
    ),
}  # fmt: skip


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    """The inputs in a fresh folder: the data files copied, the git repository made (a public
    project's Python files, and one of them again in a vendored copy: an exact duplicate)."""
    root = tmp_path_factory.mktemp('identical')
    for part in ('web', 'latex', 'eprints', 'text', 'records'):
        shutil.copytree(os.path.join(DATA, part), root / part)
    repo = root / 'repos' / 'warcio'
    shutil.copytree(os.path.join(DATA, 'code'), repo / 'warcio')
    shutil.copy(os.path.join(DATA, 'code', 'checker.py'), repo / 'check_copy.py')
    git(repo, 'init', '-q', '-b', 'main', date=DATE)
    git(repo, 'add', '-A', date=DATE)
    git(repo, 'commit', '-q', '-m', 'files', date=DATE)
    return root


def digests(root, out, name):
    with open(os.path.join(out, f'{name}.jsonl'), 'rb') as f:
        corpus = hashlib.sha256(f.read().replace(str(root).encode(), b'<root>')).hexdigest()
    with open(os.path.join(out, f'{name}.manifest.json'), encoding='utf-8') as f:
        manifest = json.load(f)
    del manifest['sha256']  # that of the file with its paths, compared above without them
    text = json.dumps(manifest, sort_keys=True, ensure_ascii=False).replace(str(root), '<root>')
    return corpus, hashlib.sha256(text.encode('utf-8')).hexdigest(), manifest


@pytest.mark.parametrize('jobs', [1, 2])
@pytest.mark.parametrize('name', sorted(BUILDS))
def test_the_same_bytes_as_before_for_any_jobs(root, tmp_path, name, jobs):
    arguments, corpus_sha, manifest_sha = BUILDS[name]
    out = str(tmp_path / 'out')
    argv = ['--name', name, '--out', out, '--jobs', str(jobs)] + [a.format(root=root) for a in arguments]
    assert main(argv) == 0
    corpus, manifest, written = digests(root, out, name)
    assert written['documents'] > 0
    assert (corpus, manifest) == (corpus_sha, manifest_sha), json.dumps(written, indent=1)


def test_each_period_of_a_split_build_counts_its_own_skips_and_dumps(root, tmp_path):
    """--split-by month on the web inputs: March 2020 (the ten pages of dump CC-MAIN-2020-16)
    and June 2020 (CC-MAIN-2020-24, where two pages captured again lose every line to line
    deduplication): each manifest names its own dump and counts the skips of its own month."""
    out = str(tmp_path / 'out')
    argv = ['--name', 'cc', '--kind', 'text', '--source', f'{root}/web', '--out', out, '--split-by', 'month']
    assert main(argv) == 0
    manifests = {}
    for month in ('2020-03', '2020-06'):
        with open(os.path.join(out, f'cc_{month}.manifest.json'), encoding='utf-8') as f:
            manifests[month] = json.load(f)
    assert sorted(os.listdir(out)) == sorted(
        f'cc_{m}.{ext}' for m in manifests for ext in ('jsonl', 'manifest.json')
    )
    assert manifests['2020-03']['dumps'] == ['CC-MAIN-2020-16']
    assert manifests['2020-06']['dumps'] == ['CC-MAIN-2020-24']
    assert manifests['2020-03']['documents'] + manifests['2020-06']['documents'] == 18
    assert manifests['2020-03']['skipped'] == {}  # the build's 7 skips: 4 of June, 3 of no month written
    assert manifests['2020-06']['skipped'] == {
        'every line seen before (line deduplication)': 2,
        'quality rules: over 30% of lines end with an ellipsis': 1,
        'shorter than 300 characters': 1,
    }
