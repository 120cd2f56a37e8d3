"""The command line: ``llmcompression-zip compress|decompress``.

    llmcompression-zip compress   --model DIR [--block-size 1900 --stride 512] INPUT OUTPUT
    llmcompression-zip decompress --model DIR INPUT OUTPUT

The output is written under a temporary name in the target folder and renamed into place only
when complete (when decompressing: only after the bytes match the original's SHA-256), so an
error never leaves a partial file behind.
"""

import argparse
import lzma
import os
import sys
import tempfile
import time
from typing import List

import zstandard

from ..core.model_checks import check_transformers_version
from .compressor import Compressed, compress_bytes, decompress_bytes, to_text, tokenize
from .container import DTYPES, ZipError, unpack


def load_tokenizer(folder: str):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(folder)


def load_model(folder: str, dtype: str):
    import torch
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype)).eval()
    check_transformers_version(model.config, lambda text: print(
        f'llmcompression-zip: warning: {text}', file=sys.stderr))
    return model


def write_atomically(path: str, data: bytes) -> None:
    """``data`` at ``path``, or nothing there at all (no partial file) if anything fails."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f'.{os.path.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def baseline_sizes(data: bytes) -> dict:
    """What the classic compressors write for the same bytes."""
    return {'xz -9e': len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)),
            'zstd -19': len(zstandard.ZstdCompressor(level=19).compress(data))}


def report(result: Compressed, seconds: float, baselines: dict) -> List[str]:
    """The lines ``compress`` prints."""
    chars = max(result.chars, 1)
    lines = [
        f'characters        {result.chars}',
        f'input bytes       {result.size}',
        f'tokens            {len(result.bits)}',
        f'output bytes      {len(result.blob)} ({len(result.blob) - result.payload_bytes} '
        f'header + {result.payload_bytes} payload)',
        f'file bits/char    {8 * len(result.blob) / chars:.4f}',
        f'payload bits/char {8 * result.payload_bytes / chars:.4f}',
    ]
    if result.segments == 1:
        lines += [
            f'evaluator BPC     {result.model_bits / chars:.4f} (sum of -log2 p over tokens '
            f'1..N-1, the text scored as one document)',
            f'-log2 p coded     {result.bits.sum():.1f} bits (first token '
            f'{result.bits[:1].sum():.1f}, uniform; the model\'s {result.model_bits:.1f})']
    else:
        lines.append(f'-log2 p coded     {result.bits.sum():.1f} bits in {result.segments} '
                     'segments, each with its first token uniform and its own context (the '
                     'evaluator\'s BPC is that of --segments 1)')
    lines += [f'{name:<17} {size} bytes ({8 * size / chars:.4f} bits/char)'
              for name, size in baselines.items()]
    lines.append(f'time              {seconds:.1f} s ({result.chars / max(seconds, 1e-9):.1f} '
                 'chars/s)')
    return lines


def compress_file(model_dir: str, source: str, target: str, block_size: int = 1900,
                  stride: int = 512, dtype: str = 'float32', threads: int = 1,
                  segments: int = 1, progress: bool = False) -> Compressed:
    with open(source, 'rb') as f:
        data = f.read()
    tokenizer = load_tokenizer(model_dir)
    tokenize(to_text(data), tokenizer)  # refuse text it cannot reproduce before loading the model
    model = load_model(model_dir, dtype)
    result = compress_bytes(data, model, tokenizer, block_size, stride, threads, segments,
                            progress)
    write_atomically(target, result.blob)
    return result


def decompress_file(model_dir: str, source: str, target: str, progress: bool = False) -> bytes:
    with open(source, 'rb') as f:
        blob = f.read()
    header, _ = unpack(blob)  # refuse a file that is not ours, truncated or damaged at once
    data = decompress_bytes(blob, load_model(model_dir, header.dtype), load_tokenizer(model_dir),
                            progress)
    write_atomically(target, data)
    return data


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog='llmcompression-zip', description='Lossless compression with a language model: '
        'a range coder driven by the model over the sliding windows of the BPC measurement.')
    commands = parser.add_subparsers(dest='command', required=True)
    compress = commands.add_parser('compress', help='INPUT (UTF-8 text) -> OUTPUT')
    decompress = commands.add_parser('decompress', help='INPUT (a compressed file) -> OUTPUT')
    for command in (compress, decompress):
        command.add_argument('--model', required=True,
                             help='Hugging Face model folder (or hub id) with its tokenizer')
        command.add_argument('--quiet', action='store_true', help='no progress bar')
        command.add_argument('input')
        command.add_argument('output')
    compress.add_argument('--block-size', type=int, default=1900)
    compress.add_argument('--stride', type=int, default=512)
    compress.add_argument('--dtype', default='float32', choices=DTYPES)
    compress.add_argument('--threads', type=int, default=1,
                          help='torch CPU threads while coding (kept in the header; default 1)')
    compress.add_argument('--segments', type=int, default=1,
                          help='code the token stream as this many pieces in one batch: '
                          'faster, larger (default 1: the file is the measurement)')
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.command == 'compress':
            result = compress_file(args.model, args.input, args.output, args.block_size,
                                   args.stride, args.dtype, args.threads, args.segments,
                                   not args.quiet)
            seconds = time.perf_counter() - started
            with open(args.input, 'rb') as f:
                print('\n'.join(report(result, seconds, baseline_sizes(f.read()))))
        else:
            data = decompress_file(args.model, args.input, args.output, not args.quiet)
            seconds = time.perf_counter() - started
            chars = len(data.decode('utf-8'))
            print(f'{len(data)} bytes, {chars} characters in {seconds:.1f} s '
                  f'({chars / max(seconds, 1e-9):.1f} chars/s); SHA-256 checked')
    except (ZipError, ValueError, OSError) as err:
        print(f'llmcompression-zip: error: {err}', file=sys.stderr)
        return 1
    return 0
