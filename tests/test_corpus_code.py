"""Code for fresh corpora: git repositories read at HEAD and dated by their history, repository
archives, CodeParrot's cleaning filter by filter, and hostile archives."""

import io
import os
import subprocess
import tarfile
import zipfile

import pytest

from opencompass_llmcompression.corpus import code_cleaning, git_sources
from opencompass_llmcompression.corpus.code_cleaning import CODE_FILTERS, clean_code, code_filters
from opencompass_llmcompression.corpus.documents import BuildError, Document, Report
from opencompass_llmcompression.corpus.git_sources import is_git_source, read_git_sources

OLD = '2020-03-01T12:00:00+00:00'
NEW = '2026-01-05T01:00:00+02:00'  # 2026-01-04 in UTC

GOOD = '''import math


def area(radius):
    value = math.pi * radius ** 2
    return value


def scale(values, factor):
    result = []
    for v in values:
        result.append(v * factor)
    return result


count = 0
total = area(2.0)
other = scale([1, 2], 3)
'''

OTHER = GOOD.replace('area', 'a1').replace('scale', 's1').replace('value', 'v1').replace('result', 'r1')


def git(cwd, *args, date=OLD):
    env = {k: v for k, v in os.environ.items() if not k.startswith('GIT_')}
    env.update(
        GIT_AUTHOR_NAME='a',
        GIT_AUTHOR_EMAIL='a@example.org',
        GIT_COMMITTER_NAME='a',
        GIT_COMMITTER_EMAIL='a@example.org',
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
        GIT_CONFIG_NOSYSTEM='1',
        HOME=str(cwd),
    )
    done = subprocess.run(['git', *args], cwd=cwd, env=env, check=True, capture_output=True)
    return done.stdout


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb' if isinstance(data, bytes) else 'w') as f:
        f.write(data)


@pytest.fixture
def origin(tmp_path):
    """A repository: old.py and moved.py (first as before.py) committed in 2020, new.py in
    2026, with a binary file, a file that is not UTF-8, and a symbolic link."""
    repo = tmp_path / 'origin'
    repo.mkdir()
    git(repo, 'init', '-q')
    write(str(repo / 'old.py'), GOOD)
    write(str(repo / 'before.py'), GOOD.replace('area', 'surface'))
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'one')
    git(repo, 'mv', 'before.py', 'pkg_moved.py')
    write(str(repo / 'sub' / 'new.py'), GOOD.replace('scale', 'stretch'))
    write(str(repo / 'blob.bin'), b'\x00\x01\x02')
    write(str(repo / 'latin.py'), '# caf\xe9\n'.encode('latin-1'))
    os.symlink('old.py', repo / 'link.py')  # passed over, never followed
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'two', date=NEW)
    return repo


def clone(origin, target, *args):
    git(origin.parent, 'clone', '-q', *args, f'file://{origin}', str(target))
    return target


def by_path(docs):
    return {d.meta['path']: d for d in docs}


def test_first_commit_dates_survive_a_clone(origin, tmp_path):
    repo = clone(origin, tmp_path / 'clone')
    write(str(repo / 'untracked.py'), GOOD)  # not at HEAD: not read
    with open(repo / 'old.py', 'a') as f:  # a local edit: HEAD's text is read
        f.write('# edited\n')
    assert is_git_source(str(repo))
    report = Report()
    docs = by_path(read_git_sources([str(repo)], report, 'first-commit'))
    assert sorted(docs) == ['old.py', 'pkg_moved.py', 'sub/new.py']
    assert os.path.getmtime(repo / 'old.py') > 1.7e9  # today, which must not matter
    assert str(docs['old.py'].date) == '2020-03-01'
    assert docs['old.py'].content == GOOD
    assert str(docs['pkg_moved.py'].date) == '2020-03-01'  # renamed in 2026, written in 2020
    assert str(docs['sub/new.py'].date) == '2026-01-04'  # the author's date in UTC
    assert {d.date_source for d in docs.values()} == {'first-commit'}
    assert docs['sub/new.py'].meta['repo'] == 'clone'
    assert docs['sub/new.py'].source == f'{repo}/sub/new.py'
    assert report.skipped == {'binary': 1, 'undecodable bytes (not UTF-8)': 1}
    assert report.faults == 0

    docs = by_path(read_git_sources([str(repo)], Report(), 'repo-created'))
    assert {str(d.date) for d in docs.values()} == {'2020-03-01'}
    assert {d.date_source for d in docs.values()} == {'repo-created'}


def test_a_folder_of_clones_and_suffixes(origin, tmp_path):
    top = tmp_path / 'repos'
    clone(origin, top / 'owner' / 'name')
    clone(origin, top / 'single')
    (top / 'notes').mkdir()
    assert is_git_source(str(top))
    docs = list(read_git_sources([str(top)], Report(), 'first-commit', suffixes=('.py',)))
    assert sorted({d.meta['repo'] for d in docs}) == ['owner/name', 'single']
    assert all(d.meta['path'].endswith('.py') for d in docs)
    assert len(docs) == 6


def test_a_shallow_clone_has_no_dates(origin, tmp_path):
    repo = clone(origin, tmp_path / 'shallow', '--depth', '1')
    docs = list(read_git_sources([str(repo)], Report(), 'first-commit'))
    assert docs and all(d.date is None and d.date_source is None for d in docs)
    assert 'unshallow' in docs[0].meta['date_unknown']


def test_repository_archives_as_github_serves_them(origin, tmp_path):
    commit = git(origin, 'rev-parse', 'HEAD').decode().strip()
    for fmt in ('zip', 'tar.gz'):
        archive = tmp_path / f'download-{fmt}'  # any name: recognised by content
        git(origin, 'archive', f'--format={fmt}', '--prefix=origin-main/', '-o', str(archive), 'HEAD')
        if fmt == 'zip':  # GitHub's zip holds the commit id as its comment
            with zipfile.ZipFile(archive, 'a') as z:
                z.comment = commit.encode()
        assert is_git_source(str(archive))
        report = Report()
        docs = by_path(read_git_sources([str(archive)], report, 'first-commit'))
        assert sorted(docs) == ['old.py', 'pkg_moved.py', 'sub/new.py'], fmt
        assert all(d.date is None and d.meta['commit'] == commit for d in docs.values())
        assert docs['old.py'].meta['repo'] == 'origin-main'
        assert docs['old.py'].source == f'{archive}!origin-main/old.py'
        assert report.skipped == {'binary': 1, 'undecodable bytes (not UTF-8)': 1}


def test_what_is_not_a_git_source(tmp_path):
    write(str(tmp_path / 'plain' / 'a.py'), GOOD)
    write(str(tmp_path / 'a.gz'), b'\x1f\x8b' + b'junk')
    assert not is_git_source(str(tmp_path / 'plain'))
    assert not is_git_source(str(tmp_path / 'plain' / 'a.py'))
    assert not is_git_source(str(tmp_path / 'a.gz'))
    with pytest.raises(BuildError, match='no git repository'):
        list(read_git_sources([str(tmp_path / 'plain')], Report(), 'first-commit'))
    with pytest.raises(BuildError, match='first-commit, repo-created'):
        list(read_git_sources([str(tmp_path)], Report(), 'mtime'))


def tar_gz(path, members):
    """members: (name, bytes or ('symlink', target))."""
    with tarfile.open(path, 'w:gz') as t:
        top = tarfile.TarInfo('repo-main')
        top.type = tarfile.DIRTYPE
        t.addfile(top)
        for name, data in members:
            info = tarfile.TarInfo(name)
            if isinstance(data, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, data[1]
                t.addfile(info)
            else:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
    return str(path)


def test_hostile_archives_write_nothing_and_go_on(tmp_path, monkeypatch):
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(work)
    hostile = tar_gz(
        tmp_path / 'hostile.tar.gz',
        [
            ('../../x.py', GOOD.encode()),
            ('/abs.py', GOOD.encode()),
            ('repo-main/link.py', ('symlink', '../../../etc/passwd')),
            ('repo-main/inside.py', ('symlink', 'ok.py')),  # passed over, not a fault
            ('repo-main/ok.py', GOOD.encode()),
        ],
    )
    big = tar_gz(tmp_path / 'big.tar.gz', [(f'repo-main/f{i}.py', b'x = 1\n' * 400) for i in range(10)])
    with open(big, 'rb') as f:
        cut = f.read()
    write(str(tmp_path / 'cut.tar.gz'), cut[: len(cut) // 2])
    monkeypatch.setattr(git_sources, 'MAX_ARCHIVE_BYTES', 5000)
    report = Report()
    paths = [hostile, big, str(tmp_path / 'cut.tar.gz')]
    docs = list(read_git_sources(paths, report, 'first-commit'))
    assert [d.meta['path'] for d in docs if d.source.startswith(hostile)] == ['ok.py']
    assert len([d for d in docs if d.source.startswith(big)]) == 2  # 2 x 2400 bytes, then the bound
    assert report.skipped['fault: member path outside the archive (not read)'] == 2
    assert report.skipped['fault: link out of the archive (not followed)'] == 1
    assert report.skipped['fault: archive expands past 5000 bytes (the rest not read)'] == 1
    assert any(r.startswith('fault: damaged archive') for r in report.skipped)
    assert report.faults == 5
    assert os.listdir(work) == [] and sorted(os.listdir(tmp_path)) == sorted(
        ['work', 'hostile.tar.gz', 'big.tar.gz', 'cut.tar.gz']
    )


def test_zip_members_are_bounded(tmp_path, monkeypatch):
    path = tmp_path / 'bomb.zip'
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('repo-main/ok.py', GOOD)
        z.writestr('repo-main/huge.py', b'\n' * (2 * 1024**2))  # over 1 MiB: the size filter
        z.writestr('repo-main/../../escape.py', GOOD)
    report = Report()
    docs = list(read_git_sources([str(path)], report, 'first-commit'))
    assert [d.meta['path'] for d in docs] == ['ok.py']
    assert report.skipped == {'larger than 1 MiB': 1, 'fault: member path outside the archive (not read)': 1}
    monkeypatch.setattr(git_sources, 'MAX_ARCHIVE_BYTES', 100)
    report = Report()
    assert list(read_git_sources([str(path)], report, 'first-commit')) == []
    assert report.skipped == {'fault: archive expands past 100 bytes (the rest not read)': 1}


# ---- CodeParrot's cleaning --------------------------------------------------------------


def doc(text, name='f.py'):
    return Document(text, name)


def kept(texts, seed=0, tokenizer=None):
    report = Report()
    docs = clean_code([doc(t, f'f{i}.py') for i, t in enumerate(texts)], report, seed, tokenizer)
    return [d.content for d in docs], report


def test_a_good_file_passes_every_filter():
    out, report = kept([GOOD])
    assert out == [GOOD] and not report.skipped
    assert [f['name'] for f in report.filters] == [f'code: {step}' for step in CODE_FILTERS]
    assert all(f['removed'] == 0 for f in report.filters)
    assert report.filters[-1]['parameters']['jaccard'] == 0.85


@pytest.mark.parametrize(
    'text, step',
    [
        ('# This file is Automatically Generated\n' + GOOD, 'autogenerated'),
        (GOOD + 'x = "' + 'a' * 1001 + '"\n', 'max_line_length'),
        ('def f():\n' + ('    z = "' + 'c' * 200 + '"\n') * 10, 'max_mean_line_length'),
        (GOOD + ('# ' + '-' * 88 + '\n') * 40, 'min_alphanumeric_fraction'),
        ('def f(x):\n    return x + 1\n\n\ndef g(x):\n    return x == 2\n', 'few_assignments'),
        ('', 'empty'),
        ('\u00e9' * (code_cleaning.MAX_FILE_BYTES // 2 + 1), 'max_file_bytes'),
    ],
)
def test_each_filter(text, step):
    out, report = kept([text])
    assert out == [] and report.skipped == {code_cleaning.REASONS[step]: 1}
    assert {f['name']: f['removed'] for f in report.filters}[f'code: {step}'] == 1


def test_exact_duplicates_by_bytes_then_by_text_without_whitespace():
    texts = [GOOD, GOOD, GOOD.replace('    ', '\t'), OTHER]
    out, report = kept(texts)
    assert out == [GOOD, texts[3]]
    assert report.skipped == {
        'exact duplicate (same bytes)': 1,
        'exact duplicate (same text but for whitespace)': 1,
    }


def test_near_duplicates_by_minhash_and_jaccard():
    near = GOOD.replace('count', 'number')  # one token of 26 changed: Jaccard 25/27
    out, report = kept([GOOD, near, OTHER])
    assert out == [GOOD, OTHER]
    assert report.skipped == {'near duplicate (Jaccard of tokens >= 0.85)': 1}
    tiny = [doc('def f(): x = 1'), doc('def f(): x = 2')]  # under 10 tokens: left alone
    step = code_cleaning.NearDuplicateCode(code_filters())
    assert [step.apply(d) for d in tiny] == tiny


def test_probable_filters_are_seeded_per_file():
    tests = [
        f'# test file\ndef f{i}():\n' + ''.join(f'    a{i}_{k} = {k}\n' for k in range(6)) for i in range(60)
    ]
    plain = [''.join(f'b{i}_{k} = {k}\n' for k in range(6)) for i in range(60)]
    texts = tests + plain
    out, report = kept(texts, seed=1)
    assert kept(texts, seed=1) == (out, report)
    assert kept(texts, seed=2)[0] != out
    config = report.skipped['configuration or test file (dropped with probability 0.7)']
    keywords = report.skipped['none of def/class/for/while (dropped with probability 0.7)']
    assert 30 <= config <= 54 and 30 <= keywords <= 54
    assert config + keywords + len(out) == 120
    # a file's draw depends on the seed and its own text only, not on the other files
    assert kept(tests, seed=1)[0] == [t for t in out if t in tests]


def test_config_or_test_words_more_often_than_one_in_twenty_newlines():
    def config_or_test(text):
        return code_cleaning._config_or_test(text, text.splitlines())

    long = GOOD * 3  # 57 newlines: more than int(0.05 * 57) = 2 occurrences needed
    assert not config_or_test(GOOD) and not config_or_test(long + '# test\n# test\n')
    assert config_or_test(long + '# test\n# test\n# tested\n')
    assert config_or_test(GOOD + '# configured\n')  # 19 newlines: one occurrence is too many
    assert config_or_test('"""Unit tests for area."""\n' + long)


class CharTokenizer:
    name_or_path = 'chars'

    def encode(self, text):
        return list(text)


def test_chars_per_token_needs_a_tokenizer():
    out, report = kept([GOOD], tokenizer=CharTokenizer())
    assert out == [] and report.skipped == {'under 1.5 characters per token': 1}
    ran = {f['name']: f['parameters'].get('ran') for f in report.filters}
    assert ran['code: chars_per_token'] == 'yes, with the tokenizer chars'
    assert code_filters()['chars_per_token']['ran'] == 'no: no tokenizer given'
    assert CODE_FILTERS['chars_per_token']['min_chars_per_token'] == 1.5


def test_a_damaged_repository_is_a_fault_and_an_empty_one_is_not(origin, tmp_path):
    damaged = clone(origin, tmp_path / 'damaged')
    (pack,) = (damaged / '.git' / 'objects' / 'pack').glob('*.pack')
    data = pack.read_bytes()
    pack.chmod(0o644)
    pack.write_bytes(data[: len(data) // 2])
    empty = tmp_path / 'empty'
    empty.mkdir()
    git(empty, 'init', '-q')
    good = clone(origin, tmp_path / 'good')
    report = Report()
    docs = list(read_git_sources([str(damaged), str(empty), str(good)], report, 'first-commit'))
    assert {d.meta['repo'] for d in docs} == {'good'}
    assert report.skipped['fault: git could not read the repository'] == 1
    assert report.skipped['git repository without a commit'] == 1
    assert report.faults == 1


def test_an_archive_of_a_clone_with_its_git_folder_is_dated(origin, tmp_path, monkeypatch):
    repo = clone(origin, tmp_path / 'clone')
    zipped, tarred = tmp_path / 'clone.zip', tmp_path / 'clone.tar.gz'
    with zipfile.ZipFile(zipped, 'w') as z, tarfile.open(tarred, 'w:gz') as t:
        for root, _, names in os.walk(repo):
            for name in names:
                full = os.path.join(root, name)
                relative = os.path.relpath(full, repo)
                z.write(full, f'proj/{relative}')
                t.add(full, relative)
    work = tmp_path / 'work'
    work.mkdir()
    monkeypatch.chdir(work)
    for archive, label in ((zipped, 'proj/'), (tarred, '')):
        report = Report()
        docs = by_path(read_git_sources([str(archive)], report, 'first-commit'))
        assert sorted(docs) == ['old.py', 'pkg_moved.py', 'sub/new.py']
        assert str(docs['old.py'].date) == '2020-03-01' and str(docs['sub/new.py'].date) == '2026-01-04'
        assert docs['old.py'].source == f'{archive}!{label}old.py'
        assert docs['old.py'].meta['repo'] == ('proj' if label else 'clone')
        assert report.faults == 0
    assert os.listdir(work) == []


def test_a_git_folder_without_head_is_not_read_as_code(tmp_path):
    path = tmp_path / 'a.zip'
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr('top/ok.py', GOOD)
        z.writestr('top/.git/config', '[core]\n')
    assert [d.meta['path'] for d in read_git_sources([str(path)], Report(), 'first-commit')] == ['ok.py']


def test_a_file_name_that_is_not_utf8(tmp_path):
    repo = tmp_path / 'r'
    repo.mkdir()
    git(repo, 'init', '-q')
    write(os.path.join(os.fsencode(repo), b'caf\xe9.py').decode('utf-8', 'surrogateescape'), GOOD)
    write(str(repo / 'ok.py'), GOOD)
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'one')
    report = Report()
    assert [d.meta['path'] for d in read_git_sources([str(repo)], report, 'first-commit')] == ['ok.py']
    assert report.skipped == {'file name not UTF-8': 1}
    assert report.examples['file name not UTF-8'].encode('utf-8')
