"""Code: the paper's GitHub search, then a clone of each repository, deep enough to date its files.

    llmcompression-collect code --language python --created-after 2026-01-01 --min-stars 10 \\
        --repositories 200 --out code-2026-01

The search is the paper's (hkust-nlp/llm-compression-intelligence,
``code/data_collection/github/gh_crawler.py``): GitHub's GraphQL API, the query
``language:python fork:false created:>DATE sort:stars`` in pages of 100, repositories of
``--min-stars`` stars or more, walked from the most starred down. A search answers at most
1,000 repositories, so the stars are walked in ranges: ``stars:MIN..HIGH`` with ``HIGH`` the
fewest stars of the range before (the paper: ``stars:<HIGH``, which loses the repositories that
tie on ``HIGH`` past the first 1,000; here they are asked again and the repeats dropped). The
token is read from ``GITHUB_TOKEN`` and the API from ``--github-api-url`` / ``GITHUB_API_URL``
(as GitHub's own tools read it; default ``https://api.github.com``, GraphQL at ``/graphql``, or
``/api/graphql`` for a GitHub Enterprise Server's ``/api/v3``). GitHub's rate limits (an
``X-RateLimit-Remaining: 0`` answer, secondary limits, a GraphQL ``RATE_LIMITED`` error) are
waited out as GitHub says, through ``http.Client``.

The list of repositories found (URL, ``nameWithOwner``, ``createdAt``, ``pushedAt``, licence,
stars) is written to ``DIR/repositories.json`` once the search is done; a later run of the same
command clones from that list, so it fetches only the clones still missing, and the repositories
stay those of the first search (stars move every day).

Depth of the clones: the corpus builder dates each code file by the commit that first added it
(``corpus/git_sources.py``), so a clone needs its history; the paper's ``git clone --depth 1``
has none (it kept repositories by ``createdAt`` and dated nothing finer). Each repository is
cloned with its whole history of commits and trees but only the file contents of ``HEAD``
(``git clone --filter=blob:none --single-branch --no-tags``: a partial clone, which GitHub
serves); then the builder's own dating command is run once (``git log -M --name-status``),
which fetches the few old file contents that rename detection compares, so the build later
needs no network. That is the smallest clone that dates as a full clone does (checked against
a full clone in the tests); a full clone of a long-lived project can be many times larger.

Clones go to ``DIR/repos/OWNER/NAME`` (written beside it and renamed, so a cut clone is never
taken as whole); each is recorded in ``collection.json`` with the search's metadata and the
commit cloned. ``size`` is the bytes of the clone's ``.git``; ``sha256`` is the SHA-256 of
``git ls-tree -r --full-tree HEAD`` (every path, mode and blob id the builder reads).
"""

import datetime
import hashlib
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, List, Optional, Set

from ..core.atomic_files import atomic_folder, atomic_write
from ..core.logs import LOGGER
from .collection import Collection
from .http import Client, CollectError, Fetched, utc_now

KIND = 'code'
API_URL = 'https://api.github.com'
TOKEN_VARIABLE = 'GITHUB_TOKEN'
PAGE_SIZE = 100  # GitHub's largest page
SEARCH_WINDOW = 1000  # GitHub answers at most this many results for one search
REPOSITORIES_FILE = 'repositories.json'
CLONES = 'repos'
CLONE_TIMEOUT = 3600.0  # seconds for one clone and its dating pass
GIT_URL = 'https://github.com'
TOKEN_HINT = (
    f'check {TOKEN_VARIABLE}: a token from https://github.com/settings/tokens (a fine-grained '
    'one with public access only is enough), not expired'
)

SEARCH = """
query($q: String!, $first: Int!, $after: String) {
  search(query: $q, type: REPOSITORY, first: $first, after: $after) {
    repositoryCount
    pageInfo { hasNextPage endCursor }
    edges { node { ... on Repository {
      url nameWithOwner createdAt pushedAt isPrivate isDisabled isLocked isFork
      licenseInfo { spdxId name }
      stargazerCount
    } } }
  }
}
"""


def add_arguments(parser) -> None:
    """The ``code`` kind's flags."""
    parser.add_argument('--language', default='python', help="GitHub's language qualifier (default: python)")
    parser.add_argument(
        '--created-after',
        required=True,
        metavar='YYYY-MM-DD',
        help='repositories created after this day (the paper: 2023-09-01)',
    )
    parser.add_argument('--min-stars', type=int, default=10, help='at least this many stars (default: 10)')
    parser.add_argument(
        '--repositories', type=int, default=100, metavar='N', help='how many repositories (default: 100)'
    )
    parser.add_argument('--forks', action='store_true', help='include forks (the paper left them out)')
    parser.add_argument(
        '--github-api-url', default=None, help=f'the GitHub API (default: $GITHUB_API_URL or {API_URL})'
    )
    parser.add_argument(
        '--git-url',
        default=None,
        help="clone from here instead of each repository's own URL (a mirror): URL/OWNER/NAME",
    )


# ---- the search -------------------------------------------------------------------------


def graphql_url(api_url: str) -> str:
    """GitHub's GraphQL endpoint for a REST API base: ``https://api.github.com`` ->
    ``https://api.github.com/graphql``; a GitHub Enterprise Server's ``https://HOST/api/v3`` ->
    ``https://HOST/api/graphql``."""
    api_url = api_url.rstrip('/')
    if api_url.endswith('/api/v3'):
        return api_url[: -len('/v3')] + '/graphql'
    return api_url + '/graphql'


def search_query(language: str, created_after: str, low: int, high: Optional[int], forks: bool) -> str:
    """The search string of one star range: the paper's qualifiers, ``stars:LOW..HIGH``
    (``stars:>=LOW`` with no upper end)."""
    stars = f'stars:>={low}' if high is None else f'stars:{low}..{high}'
    fork = 'fork:true' if forks else 'fork:false'
    return f'language:{language} {fork} created:>{created_after} {stars} sort:stars'


def _graphql(client: Client, url: str, variables: dict) -> dict:
    """One GraphQL request -> its ``data``. A ``RATE_LIMITED`` error (GitHub answers some with
    HTTP 200) is waited out until ``X-RateLimit-Reset``, as the client waits other limits;
    other errors raise ``CollectError`` with GitHub's messages."""
    attempt = 0
    while True:
        response = client.post(url, json={'query': SEARCH, 'variables': variables})
        try:
            body = response.json()
        except ValueError:
            raise CollectError(f'{url}: the answer is not JSON ({response.text[:200]!r})') from None
        errors = (body.get('errors') or []) if isinstance(body, dict) else []
        if not isinstance(body, dict) or (body.get('data') is None and not errors):
            raise CollectError(f'{url}: an answer without data: {str(body)[:300]}')
        if not errors:
            return body['data']
        if not any(isinstance(e, dict) and e.get('type') == 'RATE_LIMITED' for e in errors):
            said = '; '.join(str(e.get('message', e)) if isinstance(e, dict) else str(e) for e in errors)
            raise CollectError(f'{url}: GitHub refused the search: {said}')
        attempt += 1
        reset = response.headers.get('X-RateLimit-Reset', '')
        wait = max(0.0, int(reset) - client.clock()) + 1.0 if reset.isdigit() else client._backoff(attempt)
        client._give_up(url, 'GraphQL rate limit (RATE_LIMITED)', attempt, wait)


def repository_record(node: dict) -> Optional[dict]:
    """The metadata kept of one search result: ``url`` (``https://github.com/OWNER/NAME`` when
    the answer has only ``nameWithOwner``), ``nameWithOwner``, ``createdAt``, ``pushedAt``,
    ``licence`` (SPDX id, else name, else None) and ``stars`` (``stargazerCount``, or the
    paper's ``stargazers.totalCount``); None for a result that is no public repository
    (private, disabled or locked, as the paper left out) or has no name or star count."""
    if not isinstance(node, dict) or node.get('isPrivate') or node.get('isDisabled') or node.get('isLocked'):
        return None
    stars = node.get('stargazerCount')
    if stars is None and isinstance(node.get('stargazers'), dict):
        stars = node['stargazers'].get('totalCount')  # the paper's field
    name, url = node.get('nameWithOwner'), node.get('url')
    if not url and isinstance(name, str):
        url = f'{GIT_URL}/{name}'
    if not isinstance(stars, int) or not isinstance(url, str):
        return None
    name = name or '/'.join(url.rstrip('/').split('/')[-2:])
    licence = node.get('licenseInfo') or {}
    return {
        'url': url,
        'nameWithOwner': name,
        'createdAt': node.get('createdAt'),
        'pushedAt': node.get('pushedAt'),
        'licence': licence.get('spdxId') or licence.get('name'),
        'stars': stars,
    }


def search_pages(client: Client, url: str, query: str) -> Iterator[dict]:
    """Every page of one search (``data.search``), following ``endCursor`` while ``hasNextPage``
    (while pages hold results, for an answer without it), as many as GitHub gives (1,000
    results at most)."""
    after = None
    while True:
        page = _graphql(client, url, {'q': query, 'first': PAGE_SIZE, 'after': after})
        search = page.get('search') if isinstance(page, dict) else None
        if not isinstance(search, dict):
            raise CollectError(f'{url}: an answer without a search: {str(page)[:300]}')
        yield search
        info = search.get('pageInfo') or {}
        more = info.get('hasNextPage', bool(_nodes(search)))  # an answer that did not say: while pages fill
        if not more or not info.get('endCursor'):
            return
        after = info['endCursor']


def _nodes(search: dict) -> List[dict]:
    if isinstance(search.get('edges'), list):
        return [edge.get('node') for edge in search['edges'] if isinstance(edge, dict)]
    return list(search.get('nodes') or [])


def search_repositories(
    client: Client,
    url: str,
    *,
    language: str,
    created_after: str,
    min_stars: int,
    count: int,
    forks: bool = False,
) -> List[dict]:
    """Up to ``count`` repositories (``repository_record``s), most stars first, walking the
    star ranges down as the module says. A range whose every result has the same star count
    and fills the search's window cannot be split further: the walk goes on below it and
    says how many of those repositories it could not reach."""
    found: Dict[str, dict] = {}
    high: Optional[int] = None
    while len(found) < count and (high is None or high >= min_stars):
        query = search_query(language, created_after, min_stars, high, forks)
        seen, total, lowest = 0, None, None
        for search in search_pages(client, url, query):
            if total is None:
                total = search.get('repositoryCount')
            for node in _nodes(search):
                record = repository_record(node)
                if record is None:
                    continue
                seen += 1
                lowest = record['stars'] if lowest is None else min(lowest, record['stars'])
                if record['stars'] >= min_stars and record['url'] not in found and len(found) < count:
                    found[record['url']] = record
            LOGGER.info('GitHub search %r: %d repositories so far', query, len(found))
            if len(found) >= count:
                break
        if lowest is None or (isinstance(total, int) and total <= seen):
            break  # the range held no more than one search shows: nothing lies below it
        if high is not None and lowest >= high:
            LOGGER.warning(
                'GitHub search %r: more than %d repositories have %d stars; those past the first %d '
                'cannot be reached by a search, going on below',
                query,
                SEARCH_WINDOW,
                high,
                SEARCH_WINDOW,
            )
            lowest = high - 1
        high = lowest
    return sorted(found.values(), key=lambda r: (-r['stars'], r['url']))


# ---- the clones -------------------------------------------------------------------------


def _git_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith('GIT_')}
    env.update(LC_ALL='C', GIT_TERMINAL_PROMPT='0', GIT_CONFIG_NOSYSTEM='1')
    return env


def _git(
    args: List[str], cwd: Optional[str] = None, timeout: float = CLONE_TIMEOUT, stdin: Optional[bytes] = None
) -> bytes:
    try:
        done = subprocess.run(
            ['git', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false', *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env=_git_env(),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise CollectError('git is not installed: install it (e.g. apt-get install git)') from None
    except subprocess.TimeoutExpired:
        raise CollectError(f'git {args[0]} took more than {timeout:.0f} s') from None
    if done.returncode != 0:
        said = done.stderr.decode('utf-8', 'replace').strip().splitlines()
        raise CollectError(f'git {args[0]} failed: {said[-1] if said else done.returncode}')
    return done.stdout


def rename_candidates(repo: str) -> Set[str]:
    """The blob ids git's rename detection may compare when the builder dates the files
    (``git log -M``): in each commit of ``HEAD``'s history that both deletes and adds files,
    the deleted and the added blobs. Read from the trees alone (``--raw``), so nothing is
    fetched to list them."""
    out = _git(
        [
            '-C',
            repo,
            'log',
            '--no-renames',
            '--diff-filter=AD',
            '--raw',
            '-z',
            '--no-abbrev',
            '--format=%x01',
            'HEAD',
        ]
    )
    needed: Set[str] = set()
    for commit in out.split(b'\x01')[1:]:
        added, deleted = [], []
        for token in commit.split(b'\0'):
            token = token.strip()
            if not token.startswith(b':'):
                continue
            _, _, old, new, status = token.decode('ascii').split(' ')
            (added if status == 'A' else deleted).append(new if status == 'A' else old)
        if added and deleted:
            needed.update(added + deleted)
    return needed


def prefetch_rename_blobs(repo: str) -> int:
    """Fetches, in one request, the blobs ``rename_candidates`` names that a partial clone
    lacks (git would otherwise fetch them one commit at a time while the builder dates the
    files, and only while the remote is reachable). Returns how many were fetched."""
    missing = {
        line[1:].decode('ascii')
        for line in _git(['-C', repo, 'rev-list', '--objects', '--missing=print', 'HEAD']).splitlines()
        if line.startswith(b'?')
    }
    wanted = sorted(missing & rename_candidates(repo))
    if wanted:
        _git(
            [
                '-C',
                repo,
                '-c',
                'fetch.negotiationAlgorithm=noop',
                'fetch',
                '--quiet',
                '--no-tags',
                '--no-write-fetch-head',
                '--recurse-submodules=no',
                '--filter=blob:none',
                '--stdin',
                'origin',
            ],
            stdin=''.join(oid + '\n' for oid in wanted).encode(),
        )
    return len(wanted)


def clone_url(record: dict, git_url: Optional[str]) -> str:
    """Where a repository is cloned from: its own URL, or ``git_url/OWNER/NAME``."""
    if git_url:
        return f'{git_url.rstrip("/")}/{record["nameWithOwner"]}'
    return record['url']


def clone_repository(source: str, dest: str) -> int:
    """A partial clone (history, ``HEAD``'s files) of ``source`` into ``dest``, whole or not
    at all, with the blobs the builder's dating compares fetched (the module's docstring).
    Returns how many of those were fetched after the clone."""
    with atomic_folder(dest, replace=True) as tmp:
        _git(['clone', '--quiet', '--filter=blob:none', '--single-branch', '--no-tags', source, tmp])
        fetched = prefetch_rename_blobs(tmp)
        # the builder's dating pass (corpus/git_sources.first_commit_dates), run once here: a
        # blob it still lacked would be fetched now, while the remote is there
        _git(['-C', tmp, 'log', '--reverse', '-M', '--diff-filter=AR', '--name-status', '-z', 'HEAD'])
    return fetched


def _folder_bytes(folder: str) -> int:
    total = 0
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                total += os.path.getsize(path)
    return total


def clone_record(dest: str, source: str) -> Fetched:
    """What the collection records of a clone (see the module's docstring)."""
    listing = _git(['-C', dest, 'ls-tree', '-r', '-z', '--full-tree', 'HEAD'])
    return Fetched(
        url=source,
        path=dest,
        size=_folder_bytes(os.path.join(dest, '.git')),
        sha256=hashlib.sha256(listing).hexdigest(),
        fetched_at=utc_now(),
    )


def _head(dest: str) -> Optional[str]:
    try:
        return _git(['-C', dest, 'rev-parse', '--verify', '--quiet', 'HEAD'], timeout=60).decode().strip()
    except CollectError:
        return None


def _is_cloned(collection: Collection, url: str, dest: str) -> bool:
    item = collection.record(url)
    return item is not None and os.path.isdir(dest) and _head(dest) == (item.get('meta') or {}).get('commit')


def _remove_leftovers(folder: str) -> None:
    """Temporary clone folders a killed run left (``.NAME.*.tmp``), which no run will finish."""
    for root, dirs, _ in os.walk(folder):
        for d in list(dirs):
            if d.startswith('.') and d.endswith('.tmp'):
                shutil.rmtree(os.path.join(root, d), ignore_errors=True)
                dirs.remove(d)


def clone_all(
    collection: Collection,
    repositories: List[dict],
    git_url: Optional[str] = None,
    jobs: int = 2,
    progress: bool = True,
) -> List[str]:
    """Clones the ``repositories`` not yet in ``collection`` (``jobs`` at a time) into
    ``DIR/repos/OWNER/NAME``, recording each as it is whole. Returns the URLs that could not
    be cloned (each logged with git's words); the others are kept."""
    from tqdm import tqdm

    root = os.path.join(collection.folder, CLONES)
    os.makedirs(root, exist_ok=True)
    _remove_leftovers(root)
    todo = []
    for record in repositories:
        source = clone_url(record, git_url)
        dest = os.path.join(root, *record['nameWithOwner'].split('/'))
        if not _is_cloned(collection, source, dest):
            todo.append((record, source, dest))
    failed = []

    def one(job):
        record, source, dest = job
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            rename_blobs = clone_repository(source, dest)
            fetched = clone_record(dest, source)
        except CollectError as e:
            LOGGER.warning('%s: not cloned (%s); the next run tries again', source, e)
            failed.append(source)
            return
        meta = dict(record, commit=_head(dest), history='full; blobs of HEAD and of renames')
        collection.add(fetched, dict(meta, rename_blobs=rename_blobs))

    with ThreadPoolExecutor(max(1, jobs)) as pool:
        bar = tqdm(
            pool.map(one, todo), total=len(todo), unit='repo', desc='cloning', disable=not (todo and progress)
        )
        list(bar)
    return failed


# ---- the kind ---------------------------------------------------------------------------


def token() -> str:
    """``GITHUB_TOKEN``, or ``CollectError`` saying how to make one."""
    value = os.environ.get(TOKEN_VARIABLE, '').strip()
    if not value:
        raise CollectError(
            f'{TOKEN_VARIABLE} is not set: the GitHub search needs a token. Make one at '
            'https://github.com/settings/tokens (a fine-grained token with read access to public '
            f'repositories is enough) and run again with {TOKEN_VARIABLE}=<token> in the environment'
        )
    return value


def query_of(args) -> dict:
    """The collection's query: what defines the repositories collected."""
    return {
        'language': args.language,
        'created_after': args.created_after,
        'min_stars': args.min_stars,
        'repositories': args.repositories,
        'forks': bool(args.forks),
    }


def _check(args) -> None:
    try:
        datetime.date.fromisoformat(args.created_after)
    except (TypeError, ValueError):
        raise CollectError(f'--created-after {args.created_after!r}: give a day as YYYY-MM-DD') from None
    if args.min_stars < 0 or args.repositories < 1:
        raise CollectError('--min-stars must be 0 or more and --repositories 1 or more')


def collect(args, out_dir: str, client: Optional[Client] = None, progress: bool = True) -> Collection:
    """The ``code`` kind: the search (or the list an earlier run saved), then the clones
    still missing, ``args.jobs`` at a time. ``client`` is made from the token and
    ``--github-api-url`` unless given."""
    _check(args)
    listing = os.path.join(out_dir, REPOSITORIES_FILE)
    if os.path.exists(listing):
        collection = Collection.open(out_dir, KIND, query_of(args))
        with open(listing, encoding='utf-8') as f:
            repositories = json.load(f)['repositories']
    else:
        api = args.github_api_url or os.environ.get('GITHUB_API_URL') or API_URL
        if client is None:  # the token first: nothing is written or fetched without one
            client = Client(api, headers={'Authorization': f'bearer {token()}'}, auth_hint=TOKEN_HINT)
        collection = Collection.open(out_dir, KIND, query_of(args))
        repositories = search_repositories(
            client,
            graphql_url(api),
            language=args.language,
            created_after=args.created_after,
            min_stars=args.min_stars,
            count=args.repositories,
            forks=args.forks,
        )
        if not repositories:
            raise CollectError(
                f'the GitHub search found no {args.language} repository created after '
                f'{args.created_after} with {args.min_stars} stars or more: check --language '
                "(GitHub's name, e.g. python, javascript) and the dates"
            )
        record = {'query': collection.query, 'searched_at': utc_now(), 'repositories': repositories}
        os.makedirs(out_dir, exist_ok=True)
        with atomic_write(listing, 'w', encoding='utf-8') as f:
            json.dump(record, f, indent=1)
        collection.save()
    failed = clone_all(collection, repositories, args.git_url, args.jobs, progress)
    if failed:
        LOGGER.warning(
            '%d of %d repositories not cloned: %s', len(failed), len(repositories), ', '.join(failed)
        )
    return collection


def corpus_arguments(collection: Collection) -> List[str]:
    """``llmcompression-corpus`` arguments that build code from the clones, each file dated by
    its first commit; Python's files only for ``--language python`` (the paper's corpus)."""
    argv = ['--kind', 'code', '--source', os.path.join(collection.folder, CLONES)]
    if str(collection.query.get('language', '')).lower() == 'python':
        argv += ['--suffix', '.py']
    return argv
