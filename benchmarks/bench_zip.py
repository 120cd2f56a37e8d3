"""Speed and size of llmcompression-zip on real text, against the measured BPC, xz and zstd.

    python benchmarks/bench_zip.py                        # SmolLM2-135M, fp32, 1 thread
    python benchmarks/bench_zip.py --hf-path DIR --chars 2000 --threads 2

Each text is compressed and decompressed (checked byte for byte) with the given windows, as
one stream; then a longer prose text in ``--segments`` pieces coded as one batch. The table
gives characters per second both ways, the file's size and bits per character, the
payload against the sum of -log2 p the compressor reports and against score_documents' BPC
for the same text as one document, and the classic compressors (``core.compressors``: gzip -9,
bzip2 -9, xz -9e, zstd -22) on the same bytes.
"""

import argparse
import datetime
import math
import os
import platform
import sys
import sysconfig
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from opencompass_llmcompression import demo  # noqa: E402
from opencompass_llmcompression.core.compressors import COMPRESSORS, compressed_sizes  # noqa: E402,E501
from opencompass_llmcompression.core.metrics import compressed_bits_per  # noqa: E402
from opencompass_llmcompression.core.scoring_loop import score_documents  # noqa: E402
from opencompass_llmcompression.core.settings import (
    PAPER_BLOCK_SIZE,
    PAPER_STRIDE,
    MeasurementSettings,  # noqa: E402
)
from opencompass_llmcompression.core.token_stream import default_cache_dir  # noqa: E402
from opencompass_llmcompression.zip.compressor import (
    compress_bytes,
    decompress_bytes,
    torch_threads,  # noqa: E402
)


def texts(chars: int, long_chars: int) -> dict:
    """Real text on any machine: Python's reference prose and a standard-library module."""
    from pydoc_data.topics import topics

    first = ['while', 'if', 'for', 'try', 'with']
    prose = '\n\n'.join(topics[name] for name in first + sorted(set(topics) - set(first)))
    with open(os.path.join(sysconfig.get_paths()['stdlib'], 'bisect.py'), encoding='utf-8') as f:
        code = f.read()
    return {'prose': prose[:chars], 'python': code[:chars], 'prose, longer': prose[:long_chars]}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument('--hf-path', help='model folder (default: SmolLM2-135M, converted)')
    parser.add_argument('--chars', type=int, default=1500)
    parser.add_argument('--block-size', type=int, default=PAPER_BLOCK_SIZE)
    parser.add_argument('--stride', type=int, default=PAPER_STRIDE)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--long-chars', type=int, default=6000)
    parser.add_argument('--segments', type=int, default=16, help='for the longer text')
    args = parser.parse_args()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = args.hf_path or demo.smollm2_model_dir(os.path.join(default_cache_dir(), 'demo'))
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    settings = MeasurementSettings(args.block_size, args.stride)

    header = (
        '| text | segments | chars | tokens | compress s | chars/s | decompress s | chars/s | file bytes '
        '| file bits/char | payload bits/char | -log2 p bits/char | score_documents BPC '
        '| rel. diff | ' + ' | '.join(f'{name} bytes (bits/char)' for name in COMPRESSORS) + ' |'
    )
    rows = []
    for name, text in texts(args.chars, args.long_chars).items():
        data = text.encode('utf-8')
        segments = args.segments if name == 'prose, longer' else 1
        start = time.perf_counter()
        result = compress_bytes(data, model, tokenizer, settings, threads=args.threads, segments=segments)
        packed = time.perf_counter() - start
        start = time.perf_counter()
        assert decompress_bytes(result.blob, model, tokenizer) == data
        unpacked = time.perf_counter() - start
        with torch_threads(args.threads):
            nll, _ = score_documents(model, tokenizer, [text], [0], settings, progress=False)
        evaluator = nll[0] / math.log(2)
        chars = len(text)
        sizes = compressed_sizes(data)
        agreement = f'{abs(result.model_bits - evaluator) / evaluator:.1e}' if segments == 1 else '-'
        rows.append(
            f'| {name} | {segments} | {chars} | {len(result.bits)} | {packed:.1f} | '
            f'{chars / packed:.1f} | {unpacked:.1f} | {chars / unpacked:.1f} | '
            f'{len(result.blob)} | {result.file_bits_per_char:.4f} | '
            f'{compressed_bits_per(result.payload_bytes, chars):.4f} | {result.bits.sum() / chars:.4f} | '
            f'{evaluator / chars:.4f} | {agreement} | '
            + ' | '.join(f'{size} ({compressed_bits_per(size, chars):.3f})' for size in sizes.values())
            + ' |'
        )
        print(rows[-1], flush=True)
    print(f'\n## Compression benchmark, {datetime.date.today()}\n')
    print(
        f'Machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, '
        f'CPU capability {torch.backends.cpu.get_cpu_capability()}; model '
        f'`{os.path.basename(os.path.normpath(folder))}` fp32; block_size {args.block_size}, '
        f'stride {args.stride}, {args.threads} thread(s).\n'
    )
    print(header)
    print('|' + '---|' * header.count(' | ') + '---|')
    print('\n'.join(rows))
    return 0


if __name__ == '__main__':
    sys.exit(main())
