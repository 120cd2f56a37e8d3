"""Collection throughput against a loopback server, and what the integrity checks cost.

    python benchmarks/bench_collect.py                 # 4 WET-like files of 32 MB
    python benchmarks/bench_collect.py --mb 128 --files 2 --repeat 3

The files are gzip files of one member per record, as Common Crawl's WET files are, of
Python's reference prose (about 3.5 times smaller gzipped, as WET text is), served by
``tests/loopback_server.py`` on 127.0.0.1. Rows:

- transfer only: requests streaming each file into a file, no check (the floor);
- ``Client.download``: the same with the whole-file checks (Content-Length, SHA-256, the gzip
  read to its end) and the atomic rename, one file at a time and through ``fetch_all`` with
  ``--jobs`` threads (what ``llmcompression-collect`` does);
- the checks alone on a file on disk: SHA-256, the gzip read to its end, both (``check_whole``).

Each figure is the best of ``--repeat`` runs; MB are 10^6 bytes of the compressed file.
"""

import argparse
import datetime
import gzip
import hashlib
import os
import platform
import sys
import tempfile
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from loopback_server import LoopbackServer  # noqa: E402

from opencompass_llmcompression.collect.collection import Collection  # noqa: E402
from opencompass_llmcompression.collect.fetch_all import Wanted, fetch_all  # noqa: E402
from opencompass_llmcompression.collect.http import Client  # noqa: E402
from opencompass_llmcompression.collect.integrity import check_whole  # noqa: E402


def wet_like(megabytes: float) -> bytes:
    """About ``megabytes`` MB of gzip members of ~20 kB of prose each, every record different."""
    from pydoc_data.topics import topics

    prose = '\n\n'.join(topics[k] for k in sorted(topics)).encode('utf-8')
    members, size, i = [], 0, 0
    while size < megabytes * 1e6:
        start = (i * 7919) % (len(prose) - 20000)
        record = b'WARC/1.0\r\nWARC-Type: conversion\r\n\r\n%d ' % i + prose[start : start + 20000]
        member = gzip.compress(record, compresslevel=6, mtime=0)
        members.append(member)
        size += len(member)
        i += 1
    return b''.join(members)


def best(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--mb', type=float, default=32, help='size of each file in MB (default 32)')
    p.add_argument('--files', type=int, default=4, help='files per collection (default 4)')
    p.add_argument('--jobs', type=int, default=2, help='downloads at a time for fetch_all (default 2)')
    p.add_argument('--repeat', type=int, default=3, help='runs per row, the best kept (default 3)')
    args = p.parse_args()

    body = wet_like(args.mb)
    megabytes = len(body) / 1e6
    total = megabytes * args.files
    rows = []
    with LoopbackServer() as server, tempfile.TemporaryDirectory() as tmp:
        for n in range(args.files):
            server.serve(f'/f{n}.warc.wet.gz', body)
        urls = [server.url(f'/f{n}.warc.wet.gz') for n in range(args.files)]

        def transfer_only():
            with requests.Session() as session:
                for n, url in enumerate(urls):
                    with session.get(url, stream=True) as r, open(os.path.join(tmp, f'raw{n}'), 'wb') as f:
                        for block in r.iter_content(1 << 20):
                            f.write(block)

        def downloads():
            client = Client(server.url())
            for n, url in enumerate(urls):
                client.download(url, os.path.join(tmp, 'one', f'f{n}.warc.wet.gz'))

        def collection():
            folder = tempfile.mkdtemp(dir=tmp)
            wanted = [Wanted(url, f'f{n}.warc.wet.gz') for n, url in enumerate(urls)]
            fetch_all(Client(server.url()), Collection.open(folder, 'bench', {}), wanted, args.jobs, False)

        rows.append(('transfer only (requests, no check)', best(args.repeat, transfer_only), total))
        rows.append(('Client.download, one at a time', best(args.repeat, downloads), total))
        rows.append((f'fetch_all, {args.jobs} at a time', best(args.repeat, collection), total))

    with tempfile.NamedTemporaryFile(suffix='.warc.wet.gz') as f:
        f.write(body)
        f.flush()

        def sha256_only():
            digest = hashlib.sha256()
            with open(f.name, 'rb') as g:
                for block in iter(lambda: g.read(1 << 20), b''):
                    digest.update(block)

        def gzip_only():
            with gzip.open(f.name, 'rb') as g:
                while g.read(1 << 20):
                    pass

        rows.append(('check: SHA-256 of the file', best(args.repeat, sha256_only), megabytes))
        rows.append(('check: gzip read to its end', best(args.repeat, gzip_only), megabytes))
        rows.append(
            (
                'check_whole (both, one pass each)',
                best(args.repeat, lambda: check_whole(f.name, f.name)),
                megabytes,
            )
        )

    print(
        f'{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, Python '
        f'{platform.python_version()}, requests {requests.__version__}; {args.files} files of '
        f'{megabytes:.1f} MB, best of {args.repeat}'
    )
    print()
    print('| step | seconds | MB/s |')
    print('|---|---:|---:|')
    for name, seconds, mb in rows:
        print(f'| {name} | {seconds:.2f} | {mb / seconds:.0f} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
