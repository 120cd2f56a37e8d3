"""Speed and memory of ``llmcompression-corpus`` on web text, on a WET file of Common Crawl's size.

    python benchmarks/bench_corpus.py                     # 40,000 records, about 400 MB of text
    python benchmarks/bench_corpus.py --records 2000      # a quick run
    python benchmarks/bench_corpus.py --files 2 --jobs 2  # the records split over two files

Generates WET files as Common Crawl writes them (a ``warcinfo`` record, then one gzip member
per ``conversion`` record, headers in Common Crawl's order), each record's text about 10,000
characters of lines of English words drawn from Python's reference prose (so that fastText
calls them English) with a tenth of the lines taken from a small pool of boilerplate (so that
line deduplication has work), seeded. Then builds a ``--kind text`` corpus from them in a
child process (cc_net's steps: 300 characters, line deduplication, lid.176, the quality rules
standing in for KenLM) and prints a table: records and characters read per second, the peak
resident memory of the main process and of the largest worker process (0 with ``--jobs 1``:
no worker), the CPU seconds of the build and its processes (its
own work, whatever else the machine runs), and from the CPU time per record two estimates:
131 M characters of cc kept (the paper's size) at this synthetic text's yield (all of it is
English and passes), and the paper's input read as cc_net read it (180 WET files of about
40,000 records each), whose yield does not matter to the reading time. ``--keep DIR``
keeps the generated files and reuses them on a later run with the same plan.
"""

import argparse
import datetime
import gzip
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid

PAPER_CC_CHARS = 131_000_000
PAPER_WET_FILES = 180  # cc_net's 180 shards of one segment (one WET file) each
CC_RECORDS_PER_FILE = 40_000
BUILD = '''
import json, resource, sys, time
from opencompass_llmcompression.corpus.build import build
def cpu():
    usage = map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in usage)
def own():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, start_cpu, start_own = time.perf_counter(), cpu(), own()
report = build('cc', 'text', sys.argv[1:-2], sys.argv[-2], jobs=int(sys.argv[-1]))
seconds, cpu_seconds, main_seconds = time.perf_counter() - start, cpu() - start_cpu, own() - start_own
main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # 0: no worker process
print(json.dumps({'seconds': seconds, 'cpu': cpu_seconds, 'main_cpu': main_seconds, 'kept': report.kept,
                  'main_peak': main_peak, 'worker_peak': worker_peak, 'torch': 'torch' in sys.modules}))
'''


def vocabulary():
    from pydoc_data.topics import topics

    words = [w for text in topics.values() for w in text.split() if w.isalpha() and w.isascii()]
    return words


def member(headers, block):
    head = (
        'WARC/1.0\r\n'
        + ''.join(f'{k}: {v}\r\n' for k, v in headers)
        + f'Content-Length: {len(block)}\r\n\r\n'
    )
    return gzip.compress(head.encode() + block + b'\r\n\r\n', compresslevel=6, mtime=0)


def page_lines(chars, rng, words, boilerplate):
    """Lines of about ``chars`` characters in all: 14 words each, a tenth from ``boilerplate``."""
    lines, size = [], 0
    while size < chars:
        if rng.random() < 0.1:
            line = rng.choice(boilerplate)
        else:
            line = ' '.join(rng.choices(words, k=14)) + '.'
        lines.append(line)
        size += len(line) + 1
    return lines


def html_page(i, lines):
    nav = ''.join(f'<li><a href="/s{k}">Section {k}</a></li>' for k in range(20))
    body = ''.join(f'<p>{line}</p>' for line in lines)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>Page {i}</title>'
        f'<meta property="article:published_time" content="2026-01-{1 + i % 28:02d}"></head>'
        f'<body><nav><ul>{nav}</ul></nav><main><article><h1>Page {i}</h1>{body}</article></main>'
        '<footer><p>Copyright 2026. All rights reserved.</p></footer></body></html>'
    )


def write_records(path, kind, records, chars, rng, words, boilerplate):
    """A WET file (``kind`` wet: conversion records) or WARC file (warc: HTML responses);
    returns the bytes of text (WET) or HTML (WARC) written."""
    written = 0
    with open(path, 'wb') as f:
        info = b'isPartOf: CC-MAIN-2026-05\r\noperator: benchmark\r\n'
        f.write(member([('WARC-Type', 'warcinfo'), ('WARC-Date', '2026-01-20T00:00:00Z')], info))
        for i in range(records):
            lines = page_lines(chars, rng, words, boilerplate)
            url = f'https://site{i % 997}.example/page/{i}'
            date = f'2026-01-{1 + i % 28:02d}T12:00:00Z'
            record_id = f'<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>'
            if kind == 'wet':
                block = '\n'.join([f'Page {i}'] + lines).encode()
                headers = [
                    ('WARC-Type', 'conversion'),
                    ('WARC-Target-URI', url),
                    ('WARC-Date', date),
                    ('WARC-Record-ID', record_id),
                    ('WARC-Refers-To', f'<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>'),
                    ('WARC-Block-Digest', 'sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
                    ('WARC-Identified-Content-Language', 'eng'),
                    ('Content-Type', 'text/plain'),
                ]
                written += len(block)
            else:
                html = html_page(i, lines).encode()
                http = b'HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n'
                block = http + f'Content-Length: {len(html)}\r\n\r\n'.encode() + html
                headers = [
                    ('WARC-Type', 'response'),
                    ('WARC-Date', date),
                    ('WARC-Record-ID', record_id),
                    ('Content-Type', 'application/http; msgtype=response'),
                    ('WARC-Target-URI', url),
                ]
                written += len(html)
            f.write(member(headers, block))
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        '--records', type=int, default=40000, help='conversion records in all (CC: about 40,000)'
    )
    parser.add_argument('--chars', type=int, default=10000, help='characters of text per record')
    parser.add_argument('--files', type=int, default=1, help='files the records are split over')
    parser.add_argument(
        '--format', choices=('wet', 'warc'), default='wet', help='WET (text) or WARC (HTML responses) files'
    )
    parser.add_argument('--jobs', type=int, default=os.cpu_count(), help='the builder\'s --jobs')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--keep', help='folder to keep the generated files in (default: a temporary one)')
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    words = vocabulary()
    boilerplate = [' '.join(rng.choices(words, k=6)) for _ in range(200)]
    folder = args.keep or tempfile.mkdtemp(prefix='bench-corpus-')
    os.makedirs(folder, exist_ok=True)
    start = time.perf_counter()
    plan = {'records': args.records, 'chars': args.chars, 'files': args.files, 'seed': args.seed}
    if args.format != 'wet':
        plan['format'] = args.format
    suffix = 'warc.wet.gz' if args.format == 'wet' else 'warc.gz'
    plan_file = os.path.join(folder, 'plan.json')
    files = [os.path.join(folder, f'CC-MAIN-2026-05-{n:05d}.{suffix}') for n in range(args.files)]
    reuse = os.path.exists(plan_file) and json.load(open(plan_file)).get('plan') == plan
    if reuse:  # --keep DIR from an earlier run with the same plan
        text_bytes = json.load(open(plan_file))['text_bytes']
    else:
        text_bytes = 0
        for n, path in enumerate(files):
            count = args.records // args.files + (n < args.records % args.files)
            text_bytes += write_records(path, args.format, count, args.chars, rng, words, boilerplate)
        with open(plan_file, 'w') as f:
            json.dump({'plan': plan, 'text_bytes': text_bytes}, f)
    generated = time.perf_counter() - start
    gz_bytes = sum(os.path.getsize(p) for p in files)
    out = os.path.join(folder, 'out')
    proc = subprocess.run(
        [sys.executable, '-c', BUILD, *files, out, str(args.jobs)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        sys.exit(proc.stderr[-3000:])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = result['cpu']
    with open(os.path.join(out, 'cc.manifest.json'), encoding='utf-8') as f:
        manifest = json.load(f)
    seconds, kept_chars = result['seconds'], manifest['chars']
    estimate = PAPER_CC_CHARS / (kept_chars / seconds) if kept_chars else float('nan')
    load = os.getloadavg()[0]  # others' work on the machine slows the build: CPU s says its own
    print(
        f'# bench_corpus {datetime.date.today()}, {platform.machine()} {os.cpu_count()} CPUs, '
        f'load {load:.1f}, Python {platform.python_version()}; files '
        + ('reused' if reuse else f'generated in {generated:.0f} s')
    )
    print(
        f'| records | files | jobs | {"text" if args.format == "wet" else "HTML"} MB | gzip MB | build s | '
        'CPU s | records/s | records/CPU s | '
        'CPU ms/record | kept M chars | peak MB main | peak MB per worker | est. for 131 M chars kept |'
    )
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    print(
        f'| {args.records:,} | {args.files} | {args.jobs} | {text_bytes / 1e6:.0f} | {gz_bytes / 1e6:.0f} | '
        f'{seconds:.1f} | {cpu:.1f} | {args.records / seconds:,.0f} | {args.records / cpu:,.0f} | '
        f'{cpu / args.records * 1000:.2f} | {kept_chars / 1e6:.1f} | {result["main_peak"]:.0f} | '
        f'{result["worker_peak"]:.0f} | {estimate / 60:.1f} min |'
    )
    removed = {f['name']: f['removed'] for f in manifest['filters']}
    print(f'removed by filter: {removed}; torch imported by the build: {result["torch"]}')
    per_record = cpu / args.records
    cores = os.cpu_count() or 1
    paper_input = PAPER_WET_FILES * CC_RECORDS_PER_FILE * per_record / 3600  # CPU hours
    paper_size = PAPER_CC_CHARS / kept_chars * cpu / 60  # CPU minutes
    main_ms = result['main_cpu'] / args.records * 1000
    print(
        f'of which the main process (the line hashes of each file checked against those of the files '
        f'before it, every kept document written): '
        f'{main_ms:.2f} ms a record'
    )
    print(
        f'CPU per record {per_record * 1000:.1f} ms; the paper\'s 131 M characters at this text\'s '
        f'yield: {paper_size:.1f} CPU min; the paper\'s input, {PAPER_WET_FILES} WET files of '
        f'{CC_RECORDS_PER_FILE:,} records: {paper_input:.1f} CPU h ({paper_input / cores:.1f} h on '
        f'these {cores} cores)'
    )
    if not args.keep:
        import shutil

        shutil.rmtree(folder)


if __name__ == '__main__':
    main()
