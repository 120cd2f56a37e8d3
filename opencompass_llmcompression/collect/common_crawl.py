"""Web text: WET files of a Common Crawl dump, chosen as the paper chose them.

    llmcompression-collect cc --dump CC-MAIN-2023-40 --files 180 --out crawl/
    llmcompression-collect cc --crawled-after 2026-10-01 --files 20 --out crawl/

The dump is named by its id, or found in Common Crawl's published list of crawls
(``collinfo.json``: id, name, the first and last day crawled) as every dump whose crawl began
on or after a date. An id that list does not hold is refused before anything is written,
naming the ids nearest to it (when the list cannot be read, ids given are tried as they are,
with a warning, and a dump without a ``wet.paths.gz`` is refused then). Each dump's
``wet.paths.gz`` lists its WET files, one path a line (100,000 for CC-MAIN-2025-33);
``--files N`` of them are taken:

- ``--pick spread`` (the default, the paper's): cc_net's choice for ``num_shards=N`` and
  ``num_segments_per_shard=1``, the first file of each of N equal shards of the list, i.e. the
  files at positions ``i * n // N`` for ``i`` in ``0..N-1`` (the paper: 180 of CC-MAIN-2023-40);
- ``--pick random``: N positions drawn without replacement by ``random.Random(seed)``.

Files land in ``OUT/DUMP/`` under their own names (``CC-MAIN-...-00042.warc.wet.gz``), the
listing in ``OUT/DUMP/wet.paths.gz``; each is recorded in ``OUT/collection.json`` with its
dump and its position in the listing. Base URLs: ``--cc-url`` (or ``LLMCOMPRESSION_CC_URL``,
default https://data.commoncrawl.org/) for the files, ``--crawls-url`` (or
``LLMCOMPRESSION_CC_CRAWLS_URL``, default https://index.commoncrawl.org/collinfo.json) for the
list of crawls.
"""

import argparse
import gzip
import os
import random
import re
from datetime import date
from typing import List

from ..core.logs import LOGGER
from .collection import Collection
from .fetch_all import Wanted, fetch_all
from .http import Client, CollectError

KIND = 'cc'
DATA_URL = 'https://data.commoncrawl.org/'
CRAWLS_URL = 'https://index.commoncrawl.org/collinfo.json'
PICKS = ('spread', 'random')
_DUMP = re.compile(r'CC-MAIN-(\d{4})-(\d{2})')


def add_arguments(p: argparse.ArgumentParser) -> None:
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument('--dump', action='append', help='a dump id, e.g. CC-MAIN-2023-40 (repeatable)')
    which.add_argument(
        '--crawled-after',
        metavar='YYYY-MM-DD',
        help='every dump of the list of crawls whose crawl began on or after this day',
    )
    p.add_argument('--files', type=int, default=180, help='WET files per dump (default 180, the paper\'s)')
    p.add_argument('--pick', choices=PICKS, default='spread', help="spread: cc_net's (default); random")
    p.add_argument('--seed', type=int, default=0, help='the seed of --pick random')
    p.add_argument('--cc-url', help=f'where the files are (default $LLMCOMPRESSION_CC_URL or {DATA_URL})')
    p.add_argument(
        '--crawls-url', help=f'the list of crawls (default $LLMCOMPRESSION_CC_CRAWLS_URL or {CRAWLS_URL})'
    )


def data_url(args) -> str:
    return args.cc_url or os.environ.get('LLMCOMPRESSION_CC_URL') or DATA_URL


def crawls_url(args) -> str:
    return args.crawls_url or os.environ.get('LLMCOMPRESSION_CC_CRAWLS_URL') or CRAWLS_URL


def read_crawls(client: Client, url: str) -> List[dict]:
    """The list of crawls: dicts with at least ``id`` (and ``name``, ``from``, ``to``)."""
    response = client.get(url)
    try:
        crawls = response.json()
        if not all(isinstance(c, dict) and isinstance(c.get('id'), str) for c in crawls):
            raise ValueError('an entry without an id')
    except (ValueError, TypeError) as e:
        raise CollectError(f'{response.url}: not a list of crawls ({e}); check --crawls-url') from None
    return crawls


def _key(dump: str):
    match = _DUMP.fullmatch(dump)
    return int(match.group(1)) * 53 + int(match.group(2)) if match else None


def nearest(dump: str, known: List[str], n: int = 3) -> List[str]:
    """The ``n`` ids of ``known`` nearest to ``dump``: by year and week for ids of the usual
    form, by spelling otherwise."""
    key = _key(dump)
    dated = [k for k in known if _key(k) is not None]
    if key is not None and dated:
        return sorted(dated, key=lambda k: (abs(_key(k) - key), k))[:n]
    import difflib

    return difflib.get_close_matches(dump, known, n=n, cutoff=0.0)


def normalise(dump: str) -> str:
    """``2023-40`` (cc_net's form) -> ``CC-MAIN-2023-40``; other ids as given."""
    return f'CC-MAIN-{dump}' if re.fullmatch(r'\d{4}-\d{2}', dump) else dump


def choose_dumps(crawls: List[dict], dumps: List[str] = None, crawled_after: str = None) -> List[str]:
    """The dump ids asked for, checked against the list of crawls (oldest first). Raises
    ``CollectError`` for an unknown id (naming the nearest), a bad date, or no dump after it."""
    known = [c['id'] for c in crawls]
    if dumps:
        chosen = []
        for dump in map(normalise, dumps):
            if dump not in known:
                near = ', '.join(nearest(dump, known))
                raise CollectError(
                    f'{dump} is not a Common Crawl dump the list of crawls knows; the nearest are '
                    f'{near} (each crawl is listed at https://index.commoncrawl.org/)'
                )
            if dump not in chosen:
                chosen.append(dump)
        return chosen
    try:
        after = date.fromisoformat(crawled_after)
    except (TypeError, ValueError):
        raise CollectError(f'--crawled-after {crawled_after!r}: not a day written YYYY-MM-DD') from None
    chosen = [c for c in crawls if str(c.get('from', ''))[:10] >= after.isoformat()]
    if not chosen:
        newest = max(crawls, key=lambda c: str(c.get('from', '')))
        raise CollectError(
            f'no crawl began on or after {after}; the newest, {newest["id"]}, began on '
            f'{str(newest.get("from", "?"))[:10]}'
        )
    return [c['id'] for c in sorted(chosen, key=lambda c: str(c['from']))]


def pick(n_listed: int, n: int, how: str = 'spread', seed: int = 0) -> List[int]:
    """Positions (sorted) of ``n`` files among ``n_listed``: see the module's docstring."""
    if n < 1:
        raise CollectError(f'--files {n}: at least one file is needed')
    if n > n_listed:
        raise CollectError(f'--files {n}: the dump lists only {n_listed} WET files')
    if how == 'spread':
        return [i * n_listed // n for i in range(n)]
    return sorted(random.Random(seed).sample(range(n_listed), n))


def read_listing(path: str) -> List[str]:
    try:
        with gzip.open(path, 'rt', encoding='utf-8') as f:
            paths = [line.strip() for line in f if line.strip()]
    except (OSError, UnicodeDecodeError) as e:
        raise CollectError(f'{path}: not a list of WET files ({e})') from None
    if not paths or not all(p.endswith('.warc.wet.gz') for p in paths):
        raise CollectError(f'{path}: not a list of WET files (each line a path ending .warc.wet.gz)')
    return paths


def _listing(client: Client, collection: Collection, dump: str) -> List[str]:
    """The WET paths of ``dump``, its ``wet.paths.gz`` fetched (and recorded) once checked."""
    url, dest = (
        client.url(f'crawl-data/{dump}/wet.paths.gz'),
        os.path.join(collection.folder, dump, 'wet.paths.gz'),
    )
    if collection.has(url):
        return read_listing(dest)
    try:
        fetched = client.download(url, dest)
    except CollectError as e:
        if e.status != 404:
            raise
        raise CollectError(
            f'{url}: Common Crawl publishes no wet.paths.gz for {dump} (HTTP 404); check the dump id '
            '(every crawl: https://index.commoncrawl.org/) or --cc-url',
            404,
        ) from None
    try:
        paths = read_listing(dest)
    except CollectError:
        os.remove(dest)
        raise
    collection.add(fetched, {'dump': dump, 'role': 'listing'})
    return paths


def collect(args, out_dir: str, client: Client = None, progress: bool = True) -> Collection:
    """Fetch what ``args`` (of ``add_arguments``, and the command line's ``jobs``) ask into
    ``out_dir``; the collection. ``client``: the one to use (tests hand in theirs). Raises
    ``CollectError`` before anything is written for an unknown dump or a bad date."""
    data = client or Client(
        data_url(args), etag_is_md5=True, auth_hint=AUTH_HINT, max_retries=RETRIES, backoff_cap=30.0
    )
    try:  # another host, and no reason to wait long for it: the client's defaults
        crawls = read_crawls(client or Client(crawls_url(args)), crawls_url(args))
    except CollectError as e:
        if not args.dump:
            raise
        LOGGER.warning('%s; going on with %s as given, unchecked', e, ', '.join(args.dump))
        crawls = [{'id': normalise(dump)} for dump in args.dump]
    dumps = choose_dumps(crawls, args.dump, args.crawled_after)
    query = {'dumps': dumps, 'files': args.files, 'pick': args.pick}
    if args.pick == 'random':
        query['seed'] = args.seed
    if args.crawled_after:
        query['crawled_after'] = args.crawled_after
    collection = Collection.open(out_dir, KIND, query)
    wanted = []
    for dump in dumps:
        paths = _listing(data, collection, dump)
        for position in pick(len(paths), args.files, args.pick, args.seed):
            path = paths[position]
            meta = {'dump': dump, 'position': position, 'listed': len(paths)}
            wanted.append(Wanted(path, f'{dump}/{path.rsplit("/", 1)[-1]}', meta))
    fetch_all(data, collection, wanted, jobs=args.jobs, progress=progress)
    return collection


# Common Crawl's status page: a whole file gets through "by politely retrying many times", no
# more than once a second; here 1, 2, 4, 8, 16, then 30 seconds apart: 48 minutes in all
RETRIES = 100
AUTH_HINT = (
    'Common Crawl serves its files to everyone over HTTPS without credentials: check --cc-url '
    '(a mirror may need its own)'
)


def corpus_arguments(collection: Collection) -> List[str]:
    """``llmcompression-corpus`` arguments that build web text from the collection's WET files
    (the listings left out)."""
    files = [
        os.path.join(collection.folder, item['path'])
        for item in collection.items
        if item['meta'].get('role') != 'listing'
    ]
    return ['--kind', 'text'] + [a for f in files for a in ('--source', f)]
