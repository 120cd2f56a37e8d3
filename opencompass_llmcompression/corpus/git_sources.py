"""Code from git repositories, each file dated by its own history, never by its modification
time (a clone sets every file's to the day it was made).

    read_git_sources(['repos/'], report, date_from='first-commit') -> Documents

A source is a git repository (a clone with its work tree, or a bare repository), a folder
holding clones (``name/.git`` or ``owner/name/.git``, as the paper's pipeline laid them out), or
a ``.zip`` / ``.tar.gz`` repository archive as GitHub serves them (and ``git archive`` writes).

Files are read as they are at ``HEAD`` from git's object store (``git ls-tree``, ``git
cat-file``), not from the work tree: local edits, untracked files and ``.git`` itself are not
read; symbolic links and submodules are passed over. Dates, by ``date_from``:

- ``first-commit``: the author date (in UTC) of the commit that first added the file, renames
  followed (``git log --diff-filter=A --follow`` per file, computed for the whole repository by
  one ``git log --reverse -M --name-status``).
- ``repo-created``: the author date of the repository's first (root) commit, for every file.
  The paper kept repositories by GitHub's ``createdAt`` (created after 2023-09-01, 10 stars or
  more: ``code/data_collection/github/gh_crawler.py``), which a clone does not hold; a root
  commit is never later than the repository's creation on GitHub for a project started there,
  and earlier for one imported from elsewhere, so filtering by it lets no older repository in
  (unless commit dates were set by hand).

A shallow clone (``git clone --depth``, as the paper's ``clone_repo.sh`` made) has no history
to date by: its documents have no date (``date`` None) and ``meta['date_unknown']`` says why;
``git fetch --unshallow`` fetches the history. An archive as GitHub serves it has no history
either: its documents are undated (``meta['commit']`` holds the commit id the archive
records); an archive of a clone that holds its ``.git`` is read as that repository (its
``.git`` alone written, under checked names, into a private temporary folder).

Every document's ``meta`` holds ``repo`` (the folder's or archive's name, ``owner/name`` when
laid out so) and ``path`` (within the repository); ``source`` is ``<repository>/<path>`` for a
repository, ``<archive>!<member>`` for an archive. Files over ``MAX_FILE_BYTES`` (the paper's
1 MiB) are skipped unread, as are binary files and files that are not UTF-8 (the paper read
them as UTF-8: ``data_encapsulation.py``).
"""

import datetime
import os
import re
import subprocess
import tarfile
import tempfile
import zipfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

from ..core.logs import LOGGER
from .archive_members import ARCHIVE_ERRORS, safe_name, tar_files, zip_files
from .arxiv import arxiv_id
from .code_cleaning import MAX_FILE_BYTES, SIZE_REASON
from .dates import GIT_DATE_FROM
from .documents import BuildError, Document, Report, is_binary

# An archive is read up to this many bytes in all (its members' sizes); past it, a fault.
MAX_ARCHIVE_BYTES = 4 * 1024**3
MODE_FILE = ('100644', '100755')
COMMIT_ID = re.compile(rb'^[0-9a-f]{40}(?:[0-9a-f]{24})?$')
# Reading only: no hooks, no file-system monitor, no pager, no external diff or text conversion.
GIT = ['git', '-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null', '-c', 'core.quotePath=off']


# ---- what a source is -------------------------------------------------------------------


def _is_repository(path: str) -> bool:
    if os.path.exists(os.path.join(path, '.git')):
        return True
    return all(os.path.exists(os.path.join(path, p)) for p in ('HEAD', 'objects', 'refs'))


def find_repositories(path: str) -> List[str]:
    """The repositories a folder is or holds: itself, or its children and grandchildren that
    are repositories (``name/.git``, ``owner/name/.git``), sorted."""
    if _is_repository(path):
        return [path]
    found = []
    for child in sorted(os.listdir(path)):
        sub = os.path.join(path, child)
        if not os.path.isdir(sub) or os.path.islink(sub):
            continue
        if _is_repository(sub):
            found.append(sub)
            continue
        for grandchild in sorted(os.listdir(sub)):
            leaf = os.path.join(sub, grandchild)
            if os.path.isdir(leaf) and not os.path.islink(leaf) and _is_repository(leaf):
                found.append(leaf)
    return found


def _archive_kind(path: str) -> Optional[str]:
    """'zip' or 'tar.gz' when the file's content is a repository archive: a commit id in its
    comment (GitHub and ``git archive`` write one), every member under one top folder (for a
    gzipped tar, its first member a top folder, and a name that is no arXiv id), or a clone's
    ``.git`` inside."""
    try:
        with open(path, 'rb') as f:
            magic = f.read(4)
        if magic[:4] in (b'PK\x03\x04', b'PK\x05\x06'):
            with zipfile.ZipFile(path) as z:
                if COMMIT_ID.match(z.comment.strip()):
                    return 'zip'
                names = z.namelist()
                tops = {n.split('/', 1)[0] for n in names}
                one_top = len(tops) == 1 and all('/' in n for n in names)
                return 'zip' if one_top or _git_prefix(names) is not None else None
        if magic[:2] == b'\x1f\x8b':
            with tarfile.open(path, 'r:gz') as t:
                first = t.next()
                if first is None:
                    return None
                if COMMIT_ID.match(t.pax_headers.get('comment', '').encode()):
                    return 'tar.gz'
                if arxiv_id(os.path.basename(path)):  # an arXiv e-print: a paper's sources
                    return None
                if first.isdir() and '/' not in first.name.strip('/'):
                    return 'tar.gz'
            return 'tar.gz' if _git_prefix(_archive_names(path, 'tar.gz')) is not None else None
    except ARCHIVE_ERRORS:
        return None
    return None


def is_git_source(path: str) -> bool:
    """Whether ``path`` is read by ``read_git_sources``: a git repository, a folder holding
    repositories (children or grandchildren), or a zip / gzipped tar repository archive
    (recognised by content, any name)."""
    if os.path.isdir(path):
        try:
            return bool(find_repositories(path))
        except OSError:
            return False
    return os.path.isfile(path) and _archive_kind(path) is not None


# ---- git --------------------------------------------------------------------------------


def _git_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith('GIT_')}
    env.update(LC_ALL='C', GIT_PAGER='cat', GIT_TERMINAL_PROMPT='0', GIT_CONFIG_NOSYSTEM='1')
    return env


class GitError(Exception):
    pass


def _git(repo: str, *args: str) -> bytes:
    try:
        done = subprocess.run([*GIT, '-C', repo, *args], capture_output=True, env=_git_env(), check=False)
    except FileNotFoundError:
        raise BuildError('git is not installed: install it (e.g. apt-get install git)') from None
    if done.returncode != 0:
        first = done.stderr.decode('utf-8', 'replace').strip().splitlines()
        raise GitError(first[0] if first else f'git {args[0]} exited with {done.returncode}')
    return done.stdout


def _utc_date(iso: str) -> datetime.date:
    return datetime.datetime.fromisoformat(iso).astimezone(datetime.timezone.utc).date()


def first_commit_dates(repo: str) -> Dict[str, datetime.date]:
    """Every path that HEAD's history added -> the UTC author date of the commit that first
    added it, renames followed: one ``git log`` for the whole repository."""
    out = _git(
        repo,
        'log',
        '--reverse',
        '-M',
        '--diff-filter=AR',
        '--name-status',
        '--no-ext-diff',
        '--no-textconv',
        '-z',
        '--format=%x01%aI',
        'HEAD',
    )
    dates: Dict[str, datetime.date] = {}
    date = None
    tokens = iter(out.decode('utf-8', 'surrogateescape').split('\0'))
    for token in tokens:
        token = token.lstrip('\n')
        if not token:
            continue
        if token.startswith('\x01'):
            date = _utc_date(token[1:])
        elif token.startswith('R'):
            old, new = next(tokens), next(tokens)
            dates[new] = dates.get(old, date)
        elif token.startswith('A'):
            dates.setdefault(next(tokens), date)
    return dates


def root_commit_date(repo: str) -> datetime.date:
    """The UTC author date of the earliest root commit of HEAD's history."""
    out = _git(repo, 'log', '--max-parents=0', '--format=%aI', 'HEAD').decode().split()
    return min(_utc_date(line) for line in out)


def _head_files(repo: str) -> List[Tuple[str, str, int]]:
    """``(path, blob id, size)`` of HEAD's regular files, sorted by path."""
    out = _git(repo, 'ls-tree', '-r', '-z', '--long', '--full-tree', 'HEAD')
    files = []
    for entry in out.decode('utf-8', 'surrogateescape').split('\0'):
        if not entry:
            continue
        info, path = entry.split('\t', 1)
        mode, kind, blob, size = info.split()
        if kind == 'blob' and mode in MODE_FILE:
            files.append((path, blob, int(size)))
    return sorted(files)


class _Blobs:
    """``git cat-file --batch``: one process per repository, one blob at a time."""

    def __init__(self, repo: str):
        self.process = subprocess.Popen(
            [*GIT, '-C', repo, 'cat-file', '--batch'],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_env(),
        )

    def read(self, blob: str) -> bytes:
        self.process.stdin.write(blob.encode() + b'\n')
        self.process.stdin.flush()
        header = self.process.stdout.readline().split()
        if len(header) != 3:
            raise GitError(f'object {blob} missing')
        data = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)
        return data

    def close(self) -> None:
        self.process.stdin.close()
        self.process.stdout.close()
        self.process.wait()


NAME_REASON = 'file name not UTF-8'


def _utf8_name(name: str) -> bool:
    """Whether a path read with ``surrogateescape`` was UTF-8 (a corpus row must hold it)."""
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True


def _decode(data: bytes, where: str, report: Report) -> Optional[str]:
    """The file's text, or None (and why, in ``report``): binary, or not UTF-8."""
    if is_binary(data):
        report.skip('binary', where)
        return None
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        report.skip('undecodable bytes (not UTF-8)', where)
        return None


def _repo_name(path: str, top: str) -> str:
    """``owner/name`` when the repository lies two levels under the source folder, else its
    folder's name."""
    rel = os.path.relpath(path, top)
    if rel == '.':
        return os.path.basename(os.path.abspath(path))
    return rel.replace(os.sep, '/')


def _wanted(path: str, suffixes: Optional[Sequence[str]]) -> bool:
    return suffixes is None or path.endswith(tuple(suffixes))


def _unreadable(repo: str, error: GitError, report: Report) -> None:
    """A repository git refuses or cannot read: a fault, git's own words in the log."""
    advice = ''
    if 'safe.directory' in str(error):  # owned by another user
        advice = f' (git config --global --add safe.directory {repo} trusts it)'
    LOGGER.warning('git could not read %s: %s%s', repo, error, advice)
    report.fault('git could not read the repository', repo)


def _read_repository(
    repo: str,
    name: str,
    report: Report,
    date_from: str,
    suffixes: Optional[Sequence[str]],
    label: Optional[str] = None,
) -> Iterator[Document]:
    """HEAD's files as Documents; each one's source is ``label`` + its path (``label``:
    ``<repo>/`` by default)."""
    label = label if label is not None else repo.rstrip(os.sep) + '/'

    try:
        _git(repo, 'rev-parse', '--git-dir')
    except GitError as e:
        return _unreadable(repo, e, report)
    try:  # HEAD names a commit id (reading the commit itself comes next: a fault if it fails)
        _git(repo, 'rev-parse', '--verify', '--quiet', 'HEAD')
    except GitError:
        report.skip('git repository without a commit', repo)
        return
    try:
        shallow = _git(repo, 'rev-parse', '--is-shallow-repository').strip() == b'true'
        files = _head_files(repo)
        if shallow:
            dates, unknown = (
                {},
                'a shallow clone has no history to date by: deepen it with git fetch --unshallow',
            )
        elif date_from == 'repo-created':
            created = root_commit_date(repo)
            dates, unknown = {path: created for path, _, _ in files}, None
        else:
            dates, unknown = first_commit_dates(repo), None
    except GitError as e:
        return _unreadable(repo, e, report)
    blobs = _Blobs(repo)
    try:
        for path, blob, size in files:
            where = f'{label}{path}'
            if not _utf8_name(path):
                report.skip(NAME_REASON, where.encode('utf-8', 'replace').decode('utf-8'))
                continue
            if not _wanted(path, suffixes):
                continue
            if size > MAX_FILE_BYTES:
                report.skip(SIZE_REASON, where)
                continue
            try:
                data = blobs.read(blob)
            except (GitError, OSError) as e:
                LOGGER.warning('git could not read %s: %s', where, e)
                report.fault('git could not read a file', where)
                continue
            text = _decode(data, where, report)
            if text is None:
                continue
            date = dates.get(path)
            meta = {'repo': name, 'path': path}
            if unknown:
                meta['date_unknown'] = unknown
            yield Document(text, where, date, date_source=date_from if date else None, meta=meta)
    finally:
        blobs.close()


# ---- archives ---------------------------------------------------------------------------


def _archive_names(path: str, kind: str) -> List[str]:
    """The member names of an archive (of a gzipped tar, those within ``MAX_ARCHIVE_BYTES``)."""
    if kind == 'zip':
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    names = []
    with tarfile.open(path, 'r:gz') as archive:
        for info in archive:
            if info.offset_data > MAX_ARCHIVE_BYTES:
                break
            names.append(info.name)
    return names


def _git_prefix(names: List[str]) -> Optional[str]:
    """The folder (``''`` or ``top/``) whose ``.git`` an archive holds, or None."""
    for name in names:
        name = safe_name(name) or ''
        if name == '.git/HEAD':
            return ''
        if name.endswith('/.git/HEAD') and name.count('/') == 2:
            return name[: -len('.git/HEAD')]
    return None


def _in_git_folder(name: str) -> bool:
    return '.git' in name.split('/')


def _open_archive(path: str, kind: str):
    return zipfile.ZipFile(path) if kind == 'zip' else tarfile.open(path, 'r:gz')


def _members(archive, kind: str, path: str, report: Report, member_bytes: int, wanted):
    read = zip_files if kind == 'zip' else tar_files
    return read(archive, path, report, member_bytes, MAX_ARCHIVE_BYTES, wanted)


def _read_archived_repository(
    path: str, kind: str, prefix: str, report: Report, date_from: str, suffixes: Optional[Sequence[str]]
) -> Iterator[Document]:
    """An archive holding a clone with its ``.git``: that folder alone written, under its
    normalised names, into a private temporary folder, and read as a repository."""
    with tempfile.TemporaryDirectory(prefix='llmcompression-git-') as folder:
        repo = os.path.join(folder, 'repo')
        with _open_archive(path, kind) as archive:
            inside = _members(
                archive, kind, path, report, MAX_ARCHIVE_BYTES, lambda n, size: n.startswith(prefix + '.git/')
            )
            for name, data in inside:
                if data is None:
                    continue
                target = os.path.join(repo, *name[len(prefix) :].split('/'))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, 'wb') as f:
                    f.write(data)
        name = prefix.rstrip('/') or _archive_stem(path)
        yield from _read_repository(repo, name, report, date_from, suffixes, label=f'{path}!{prefix}')


def _archive_stem(path: str) -> str:
    stem = os.path.basename(path)
    for ending in ('.tar.gz', '.tgz', '.zip'):
        if stem.endswith(ending):
            return stem[: -len(ending)]
    return stem


def _read_archive(
    path: str, kind: str, report: Report, date_from: str, suffixes: Optional[Sequence[str]]
) -> Iterator[Document]:
    try:
        prefix = _git_prefix(_archive_names(path, kind))
        if prefix is not None:
            yield from _read_archived_repository(path, kind, prefix, report, date_from, suffixes)
            return
        archive = _open_archive(path, kind)
    except ARCHIVE_ERRORS as e:
        report.fault(f'damaged archive ({type(e).__name__})', path)
        return

    def wanted(name: str, size: int) -> bool:
        return _wanted(name, suffixes) and not _in_git_folder(name)

    with archive:
        if kind == 'zip':
            comment = archive.comment.strip()
        else:  # git archive's pax global header, read when the archive was opened
            comment = archive.pax_headers.get('comment', '').encode()
        meta_extra = {'commit': comment.decode()} if COMMIT_ID.match(comment) else {}
        try:
            for name, data in _members(archive, kind, path, report, MAX_FILE_BYTES, wanted):
                where = f'{path}!{name}'
                if not _utf8_name(name):
                    report.skip(NAME_REASON, where.encode('utf-8', 'replace').decode('utf-8'))
                    continue
                if data is None:
                    report.skip(SIZE_REASON, where)
                    continue
                text = _decode(data, where, report)
                if text is None:
                    continue
                top, _, inner = name.partition('/')
                meta = {'repo': top if inner else _archive_stem(path), 'path': inner or name, **meta_extra}
                meta['date_unknown'] = 'repository archive: no history'
                yield Document(text, where, None, meta=meta)
        except ARCHIVE_ERRORS as e:
            report.fault(f'damaged archive ({type(e).__name__})', path)


# ---- the reader -------------------------------------------------------------------------


def read_git_sources(
    paths: List[str],
    report: Report,
    date_from: str = 'first-commit',
    *,
    suffixes: Optional[Sequence[str]] = None,
) -> Iterator[Document]:
    """Every file at HEAD of each repository that ``paths`` are or hold (see the module's
    docstring), as Documents in path order, dated by ``date_from`` (``first-commit`` or
    ``repo-created``); ``suffixes`` (e.g. ``('.py',)``, the paper's Python corpus) keeps only
    files whose names end so. Repositories that git cannot read and damaged archives are
    recorded as faults in ``report``; BuildError for an unknown ``date_from``, a path that
    is no git source, or no git installed."""
    if date_from not in GIT_DATE_FROM:
        raise BuildError(f'date_from must be one of {", ".join(GIT_DATE_FROM)}, got {date_from!r}')
    for path in paths:
        if os.path.isdir(path):
            repositories = find_repositories(path)
            if not repositories:
                raise BuildError(f'{path} holds no git repository (no .git within two levels)')
            for repo in repositories:
                yield from _read_repository(repo, _repo_name(repo, path), report, date_from, suffixes)
            continue
        kind = _archive_kind(path) if os.path.isfile(path) else None
        if kind is None:
            raise BuildError(
                f'{path} is neither a git repository, a folder of them, nor a .zip/.tar.gz repository archive'
            )
        yield from _read_archive(path, kind, report, date_from, suffixes)
