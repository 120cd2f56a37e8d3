"""Mathematics: a period's arXiv metadata, then its sources (e-prints, or the bulk tars from S3).

The metadata comes from ``arxiv_oai``; the sources per paper from arXiv's e-print service, or
as the months' bulk tars from arXiv's requester-pays S3 bucket.

    llmcompression-collect arxiv --from 2026-01-01 --until 2026-01-31 --source eprint --out math-2026-01

Metadata: the records of the set (``--category``, default ``math``) changed since ``--from``
(every paper first submitted in the period has changed since, so none is missed), kept when
their first version lies in the period, written to ``DIR/arxiv-metadata-oai.jsonl`` in the
snapshot's format (what the builder's ``--arxiv-metadata`` reads).

``--source eprint`` (small corpora): ``https://arxiv.org/e-print/ID`` for each paper whose first
category is of the set's archive (the paper kept ``math`` first; the others the builder would
drop), one request every 3 seconds at most, as arXiv's terms for automated access ask; another
base from ``--eprint-url`` / ``LLMCOMPRESSION_ARXIV_EPRINT_URL``. Each lands in
``DIR/eprints/ID`` (``math/0601001`` as ``math0601001``), whole or not at all (``http.Client.
download``: resumed with ``Range`` when cut, a gzip read to its end).

``--source bulk`` (the paper's way, whole months): ``src/arXiv_src_manifest.xml`` from the
bucket ``arxiv``, the tars of the period's months (``yymm``) chosen from it, each fetched to
``DIR/bulk/`` with boto3 and the user's AWS credentials, ``RequestPayer='requester'``: the
user's account pays Amazon for the bytes (the bucket is in us-east-1; data transfer out to the
internet is billed per GB, see docs/corpora.md). Each tar is resumed where a cut stopped (a
ranged ``GetObject``) and checked against the manifest's size and MD5 before it is renamed
into place. ``AWS_ENDPOINT_URL_S3`` points boto3 at another endpoint (boto3 reads it itself).
No credentials, or a 403, raise ``CollectError`` saying how to give them.
"""

import datetime
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import List, Optional

from ..core.checksums import file_sha256
from ..core.logs import LOGGER
from . import arxiv_oai
from .collection import Collection
from .http import Client, CollectError, Fetched, utc_now
from .integrity import check_whole

KIND = 'arxiv'
EPRINT_URL = 'https://arxiv.org/e-print'
EPRINT_VARIABLE = 'LLMCOMPRESSION_ARXIV_EPRINT_URL'
EPRINT_INTERVAL = 3.0  # seconds between two e-print requests: arXiv's terms
BUCKET = 'arxiv'
MANIFEST_KEY = 'src/arXiv_src_manifest.xml'
METADATA = 'arxiv-metadata-oai.jsonl'
EPRINTS = 'eprints'
BULK = 'bulk'
CHUNK = 1 << 20
S3_TRIES = 5
AWS_HINT = (
    "give AWS credentials (aws configure, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): arXiv's "
    'bucket is requester-pays, the downloads are billed to that account'
)


def add_arguments(parser) -> None:
    """The ``arxiv`` kind's flags."""
    parser.add_argument(
        '--from', dest='start', required=True, metavar='YYYY-MM-DD', help='first day of the period'
    )
    parser.add_argument(
        '--until', dest='end', required=True, metavar='YYYY-MM-DD', help='last day of the period'
    )
    parser.add_argument('--category', default='math', help="arXiv's OAI-PMH set (default: math)")
    parser.add_argument(
        '--source',
        choices=('eprint', 'bulk'),
        default='eprint',
        help="eprint: a request per paper, 3 s apart; bulk: the months' tars (requester-pays S3 bucket)",
    )
    parser.add_argument(
        '--metadata-format',
        choices=arxiv_oai.PREFIXES,
        default='arXivRaw',
        help='OAI-PMH format (default: arXivRaw)',
    )
    parser.add_argument(
        '--oai-url', default=None, help=f'default: ${arxiv_oai.URL_VARIABLE} or {arxiv_oai.OAI_URL}'
    )
    parser.add_argument('--eprint-url', default=None, help=f'default: ${EPRINT_VARIABLE} or {EPRINT_URL}')


def _day(value: str, flag: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise CollectError(f'{flag} {value!r}: give a day as YYYY-MM-DD') from None


def period(args):
    start, end = _day(args.start, '--from'), _day(args.end, '--until')
    if end < start:
        raise CollectError(f'--until {end} is before --from {start}')
    return start, end


def query_of(args) -> dict:
    return {
        'from': args.start,
        'until': args.end,
        'category': args.category,
        'source': args.source,
        'metadata_format': args.metadata_format,
    }


# ---- metadata ---------------------------------------------------------------------------


def collect_metadata(collection: Collection, args, client: Optional[Client] = None) -> List[dict]:
    """The period's papers: read back from the collection when an earlier run harvested them,
    else harvested and written (``DIR/arxiv-metadata-oai.jsonl``) and recorded."""
    start, end = period(args)
    base = args.oai_url or os.environ.get(arxiv_oai.URL_VARIABLE) or arxiv_oai.OAI_URL
    source = f'{base}?verb=ListRecords&metadataPrefix={args.metadata_format}&set={args.category}&from={start}'
    path = os.path.join(collection.folder, METADATA)
    if collection.has(source):
        return arxiv_oai.read_metadata(path)
    client = client or Client(base, min_interval=arxiv_oai.INTERVAL)
    os.makedirs(collection.folder, exist_ok=True)
    harvested = arxiv_oai.harvest(client, base, args.category, start, prefix=args.metadata_format, keep=path)
    papers = [p for p in harvested if (day := arxiv_oai.first_version(p)) is not None and start <= day <= end]
    if not papers:
        raise CollectError(
            f'arXiv OAI-PMH: no paper of {args.category!r} first submitted from {start} to {end} '
            f'(of {len(harvested)} records changed since); check the category and the dates'
        )
    arxiv_oai.write_metadata(path, papers)
    fetched = Fetched(source, path, os.path.getsize(path), file_sha256(path), utc_now())
    collection.add(fetched, {'papers': len(papers), 'records_harvested': len(harvested)})
    return papers


# ---- e-prints ---------------------------------------------------------------------------


def eprint_name(paper_id: str) -> str:
    """The file an e-print is kept as: its id, the old style's slash dropped (``math/0601001``
    -> ``math0601001``), as the builder recognises e-print files."""
    return paper_id.replace('/', '')


def fetch_eprints(
    collection: Collection, papers: List[dict], client: Client, base: str, progress: bool = True
) -> List[str]:
    """Each paper's e-print not yet in ``collection`` (the client paces the requests). Returns
    the ids that could not be fetched (each logged; the next run tries them again)."""
    from tqdm import tqdm

    failed = []
    folder = os.path.join(collection.folder, EPRINTS)
    for paper in tqdm(papers, unit='paper', desc='e-prints', disable=not progress):
        url = f'{base.rstrip("/")}/{paper["id"]}'
        if collection.has(url):
            continue
        dest = os.path.join(folder, eprint_name(paper['id']))
        try:
            fetched = client.download(url, dest)
            with open(dest, 'rb') as f:
                gzipped = f.read(2) == b'\x1f\x8b'
            if gzipped:
                check_whole(dest, dest + '.gz')  # a gzip read to its end
        except CollectError as e:
            if os.path.exists(dest):
                os.remove(dest)
            LOGGER.warning('%s: not fetched (%s)', url, e)
            failed.append(paper['id'])
            continue
        meta = {'id': paper['id'], 'categories': paper.get('categories'), 'versions': paper.get('versions')}
        collection.add(fetched, meta)
    return failed


# ---- bulk tars --------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkTar:
    """One ``<file>`` of ``arXiv_src_manifest.xml``: ``key`` (``src/arXiv_src_2601_001.tar``),
    ``yymm``, ``size`` in bytes, ``md5`` (hex), ``num_items``, ``first_item``, ``last_item``."""

    key: str
    yymm: str
    size: int
    md5: str
    num_items: int
    first_item: str
    last_item: str


def parse_manifest(data: bytes) -> List[BulkTar]:
    """The tars a manifest lists; ``CollectError`` for one that is not the manifest."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise CollectError(f'{MANIFEST_KEY}: not XML ({e})') from None
    if root.tag != 'arXivSRC':
        raise CollectError(f'{MANIFEST_KEY}: the root element is {root.tag}, not arXivSRC')
    tars = []
    for entry in root.iter('file'):
        try:
            tars.append(
                BulkTar(
                    key=entry.findtext('filename').strip(),
                    yymm=entry.findtext('yymm').strip(),
                    size=int(entry.findtext('size')),
                    md5=entry.findtext('md5sum').strip().lower(),
                    num_items=int(entry.findtext('num_items') or 0),
                    first_item=(entry.findtext('first_item') or '').strip(),
                    last_item=(entry.findtext('last_item') or '').strip(),
                )
            )
        except (AttributeError, TypeError, ValueError):
            raise CollectError(
                f'{MANIFEST_KEY}: an unreadable <file> entry ({ET.tostring(entry)[:200]!r})'
            ) from None
    return tars


def months(start: datetime.date, end: datetime.date) -> List[str]:
    """The ``yymm`` of every month from ``start`` to ``end``: 2025-12-15..2026-01-02 ->
    ['2512', '2601']."""
    found, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        found.append(f'{year % 100:02d}{month:02d}')
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def s3_client():
    """boto3's S3 client for the bucket's region (us-east-1); ``AWS_ENDPOINT_URL_S3`` and the
    credentials as boto3 reads them."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:
        raise CollectError(
            "--source bulk needs boto3: pip install -e '.[collect]' in the package's checkout"
        ) from None
    session = boto3.session.Session()  # the environment of now, not of a session made earlier
    return session.client('s3', region_name='us-east-1', config=Config(retries={'mode': 'standard'}))


def _s3_error(error: Exception, key: str) -> CollectError:
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    where = f's3://{BUCKET}/{key}'
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return CollectError(f'{where}: no AWS credentials ({error}); {AWS_HINT}')
    if isinstance(error, ClientError):
        code = error.response.get('Error', {}).get('Code', '')
        status = error.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
        if status == 403 or code in ('AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch'):
            return CollectError(f'{where}: HTTP 403 {code}, access refused; {AWS_HINT}')
        if code in ('NoSuchKey', '404'):
            return CollectError(f'{where}: not in the bucket ({code}); check the month')
        return CollectError(f'{where}: {code or status} ({error})')
    return CollectError(f'{where}: {type(error).__name__} ({error})')


def s3_download(s3, key: str, dest: str, size: int, md5: Optional[str] = None) -> Fetched:
    """``s3://arxiv/KEY`` -> ``dest``, whole or not at all: ``dest.part`` resumed with a ranged
    ``GetObject`` (requester pays) after a cut, its size and MD5 checked, then renamed.
    Raises ``CollectError``; a ``.part`` of bytes that cannot be right is removed."""
    from botocore.exceptions import BotoCoreError, ClientError

    part = dest + '.part'
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    for attempt in range(1, S3_TRIES + 1):
        have = os.path.getsize(part) if os.path.exists(part) else 0
        if have > size:
            os.remove(part)
            have = 0
        if have < size:
            request = {'Bucket': BUCKET, 'Key': key, 'RequestPayer': 'requester'}
            if have:
                request['Range'] = f'bytes={have}-'
            try:
                body = s3.get_object(**request)['Body']
                with open(part, 'ab') as f:
                    while block := body.read(CHUNK):
                        f.write(block)
            except ClientError as e:
                raise _s3_error(e, key) from None
            except (BotoCoreError, OSError) as e:
                if not isinstance(e, OSError) and 'Credentials' in type(e).__name__:
                    raise _s3_error(e, key) from None
                LOGGER.warning(
                    's3://%s/%s: cut after %d bytes (%s); try %d of %d',
                    BUCKET,
                    key,
                    os.path.getsize(part) if os.path.exists(part) else 0,
                    type(e).__name__,
                    attempt,
                    S3_TRIES,
                )
                continue
        got = os.path.getsize(part)
        if got < size:
            continue
        try:
            if got != size:
                raise CollectError(f's3://{BUCKET}/{key}: {got} bytes, the manifest says {size}')
            digest = check_whole(part, dest, md5=md5)
        except CollectError as e:
            os.remove(part)
            raise CollectError(f'{e}; the download was removed, run again to fetch it anew') from None
        os.replace(part, dest)
        return Fetched(f's3://{BUCKET}/{key}', dest, got, digest, utc_now())
    raise CollectError(f's3://{BUCKET}/{key}: still cut after {S3_TRIES} tries; run the same command again')


def load_manifest(collection: Collection, s3, wanted: List[str]) -> List[BulkTar]:
    """The manifest: the one an earlier run fetched while it lists every ``wanted`` month,
    else fetched again (arXiv adds the new month's tars to it)."""
    url = f's3://{BUCKET}/{MANIFEST_KEY}'
    path = os.path.join(collection.folder, BULK, os.path.basename(MANIFEST_KEY))
    if collection.has(url):
        with open(path, 'rb') as f:
            tars = parse_manifest(f.read())
        if set(wanted) <= {t.yymm for t in tars}:
            return tars
    try:
        head = s3.head_object(Bucket=BUCKET, Key=MANIFEST_KEY, RequestPayer='requester')
    except Exception as e:  # botocore's errors, turned into the clear ones
        raise _s3_error(e, MANIFEST_KEY) from None
    if os.path.exists(path):
        os.remove(path)
    fetched = s3_download(s3, MANIFEST_KEY, path, head['ContentLength'])
    with open(path, 'rb') as f:
        tars = parse_manifest(f.read())
    collection.add(fetched, {'tars': len(tars)})
    return tars


def fetch_bulk(
    collection: Collection, start: datetime.date, end: datetime.date, s3=None, progress: bool = True
) -> List[BulkTar]:
    """The period's months' tars not yet in ``collection``."""
    from tqdm import tqdm

    s3 = s3 or s3_client()
    wanted = months(start, end)
    tars = [t for t in load_manifest(collection, s3, wanted) if t.yymm in wanted]
    missing = sorted(set(wanted) - {t.yymm for t in tars})
    if missing:
        raise CollectError(
            f"arXiv's bulk manifest lists no source tar for {', '.join(missing)} (yymm); a month's tars "
            'appear some days after it ends'
        )
    total = sum(t.size for t in tars)
    LOGGER.info('arXiv bulk: %d tars, %.1f GB for %s', len(tars), total / 1e9, ', '.join(wanted))
    with tqdm(total=total, unit='B', unit_scale=True, desc='bulk tars', disable=not progress) as bar:
        for tar in tars:
            url = f's3://{BUCKET}/{tar.key}'
            if not collection.has(url):
                dest = os.path.join(collection.folder, BULK, os.path.basename(tar.key))
                fetched = s3_download(s3, tar.key, dest, tar.size, tar.md5)
                collection.add(
                    fetched,
                    {
                        'yymm': tar.yymm,
                        'num_items': tar.num_items,
                        'first_item': tar.first_item,
                        'last_item': tar.last_item,
                    },
                )
            bar.update(tar.size)
    return tars


# ---- the kind ---------------------------------------------------------------------------


def collect(
    args,
    out_dir: str,
    progress: bool = True,
    oai_client: Optional[Client] = None,
    eprint_client: Optional[Client] = None,
    s3=None,
) -> Collection:
    """The ``arxiv`` kind: the period's metadata, then its sources as ``--source`` says.
    Clients are made from the flags unless given (tests hand in theirs)."""
    start, end = period(args)
    if args.source == 'bulk' and s3 is None:
        s3 = s3_client()  # boto3 missing is said before anything is fetched
    collection = Collection.open(out_dir, KIND, query_of(args))
    papers = collect_metadata(collection, args, oai_client)
    if args.source == 'bulk':
        fetch_bulk(collection, start, end, s3, progress)
        return collection
    base = args.eprint_url or os.environ.get(EPRINT_VARIABLE) or EPRINT_URL
    archive = arxiv_oai.set_archive(args.category)
    wanted = [p for p in papers if arxiv_oai.first_archive(p) == archive]
    client = eprint_client or Client(base, min_interval=EPRINT_INTERVAL)
    failed = fetch_eprints(collection, wanted, client, base, progress)
    if failed:
        LOGGER.warning('%d of %d e-prints not fetched: %s', len(failed), len(wanted), ', '.join(failed))
    return collection


def corpus_arguments(collection: Collection) -> List[str]:
    """``llmcompression-corpus`` arguments that build mathematics from the collection: its
    e-prints folder or its bulk tars, and its metadata (first category, first version)."""
    if collection.query.get('source') == 'bulk':
        sources = sorted(p for p in collection.paths() if p.endswith('.tar'))
    else:
        sources = [os.path.join(collection.folder, EPRINTS)]
    metadata = os.path.join(collection.folder, METADATA)
    return ['--kind', 'latex', *[a for s in sources for a in ('--source', s)], '--arxiv-metadata', metadata]
