"""The command line: ``llmcompression-zip compress|decompress``, with the manners of xz.

    llmcompression-zip compress   --model DIR [options] [IN [OUT]]
    llmcompression-zip decompress --model DIR [options] [IN [OUT]]

``IN`` alone writes ``IN.lmz`` (``decompress``: ``IN`` without ``.lmz``) and removes ``IN``
once the output is complete, unless ``-k``; no ``IN``, or ``-``, reads standard input; ``-c``
or an ``OUT`` of ``-`` writes standard output; an explicit ``OUT`` keeps ``IN``. All that can
be checked (options, names, the input, read once, the output's folder, a file's header) is
checked before the model loads, and the output appears whole, when decompressing only after
its SHA-256 matched, or not at all. Exit statuses are xz's (``exit_codes``): 0 done, 1 error,
2 warning (a file skipped: ``plan``), 130 after Ctrl-C.
"""

import argparse
import os
import stat
import sys
import time
from dataclasses import dataclass
from typing import List, Optional

from ..core.atomic_files import AtomicFile
from ..core.compressors import compressed_sizes
from ..core.logs import log_to_stderr
from ..core.metrics import compressed_bits_per
from ..core.model_checks import WindowTooLong, check_window_fits, context_length
from ..core.model_loading import load_model, load_tokenizer
from ..core.settings import PAPER, PAPER_BLOCK_SIZE, PAPER_STRIDE, MeasurementSettings
from ..exit_codes import ERROR, INTERRUPTED, WARNING, ArgumentParser
from .coder import segment_groups
from .compressor import (
    Compressed,
    check_options,
    check_software,
    check_tokenizer,
    compress_bytes,
    decompress_payload,
)
from .container import DTYPES, Header, ZipError, model_bounds, unpack

PROG = 'llmcompression-zip'
SUFFIX = '.lmz'


class Stop(Exception):
    """Nothing done, for a reason the user is told: ``code`` 1 (error), 2 (warning) or 130
    (interrupted)."""

    def __init__(self, message: str, code: int = ERROR):
        super().__init__(message)
        self.code = code


def model_config(folder: str):
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(folder)


def check_file_fits(folder: str, header: Header, payload: bytes, tokenizer) -> None:
    """The header against the model's configuration and tokenizer, before its weights load."""
    check_tokenizer(header, tokenizer)
    config = model_config(folder)
    vocab = getattr(config, 'vocab_size', None)
    model_bounds(
        header,
        len(payload),
        context_length(config),
        vocab if isinstance(vocab, int) and vocab > 1 else 2**24 - 1,
    )


def check_block_size_fits(folder: str, block_size: int) -> None:
    """The model's context from its configuration alone, before its weights load."""
    try:
        check_window_fits(model_config(folder), block_size)
    except WindowTooLong as err:
        raise ZipError(
            f'--block-size {block_size} is longer than the model\'s context of '
            f'{err.context} tokens: use --block-size {err.context} or less'
        ) from None


def output_mode(source_stat: Optional[os.stat_result]) -> int:
    """The input's permission bits (as xz copies them), else what the umask allows."""
    if source_stat is not None and stat.S_ISREG(source_stat.st_mode):
        return stat.S_IMODE(source_stat.st_mode) & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


class Output:
    """Standard output, or a temporary file in the target's folder (``core.atomic_files``;
    created at once, which checks the folder) that ``commit`` fills, gives the input's
    permission bits and times, and renames to the target; ``discard`` removes it. Without
    ``force`` a file that appeared at the target meanwhile is never replaced."""

    def __init__(self, target: str, force: bool, mode: int, times=None):
        self.target, self.mode, self.file = target, mode, None
        self.times = times  # (atime, mtime) in ns to give the output, as xz does
        if target == '-':
            return
        try:
            self.file = AtomicFile(target, replace=force)
        except OSError as err:
            folder = os.path.dirname(os.path.abspath(target))
            raise Stop(f'{target}: cannot write in the folder {folder}: {err.strerror or err}') from None

    def commit(self, data: bytes) -> None:
        if self.file is None:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        with open(self.file.path, 'wb') as f:
            f.write(data)
        os.chmod(self.file.path, self.mode)
        if self.times:
            os.utime(self.file.path, ns=self.times)
        try:
            self.file.commit()
        except FileExistsError:
            raise Stop(f'{self.target}: File exists') from None

    def discard(self) -> None:
        if self.file is not None:
            self.file.discard()


@dataclass
class Plan:
    source: str  # a path, or '-' for standard input
    target: str  # a path, or '-' for standard output
    remove_source: bool  # xz's way: IN alone, without -k
    source_stat: Optional[os.stat_result]


def plan(
    command: str, source: Optional[str], target: Optional[str], to_stdout: bool, keep: bool, force: bool
) -> Plan:
    """Where to read and write, as xz decides it; Stop(..., 2) for a file xz would skip with a
    warning, Stop(..., 1) for an error. Checks only names, metadata and terminals."""
    source = source or '-'
    if to_stdout and target not in (None, '-'):
        raise Stop(f'-c writes to standard output: give no OUT (got {target})')
    default_name = target is None and not to_stdout and source != '-'
    if to_stdout or target == '-' or (target is None and source == '-'):
        target = '-'
    elif default_name:
        if command == 'compress':
            if source.endswith(SUFFIX) and not force:
                raise Stop(f'{source}: File already has `{SUFFIX}\' suffix, skipping', WARNING)
            target = source + SUFFIX
        else:
            if not source.endswith(SUFFIX) or os.path.basename(source) == SUFFIX:
                raise Stop(f'{source}: Filename has an unknown suffix, skipping', WARNING)
            target = source[: -len(SUFFIX)]
    source_stat = None
    if source != '-':
        try:
            link = os.lstat(source)
            source_stat = os.stat(source)
        except OSError as err:
            raise Stop(f'{source}: {err.strerror}') from None
        if default_name and stat.S_ISLNK(link.st_mode) and not force:
            raise Stop(f'{source}: Is a symbolic link, skipping', WARNING)
        if stat.S_ISDIR(source_stat.st_mode):
            raise Stop(f'{source}: Is a directory, skipping', WARNING)
        if default_name and not stat.S_ISREG(source_stat.st_mode):
            raise Stop(f'{source}: Not a regular file, skipping', WARNING)
        if default_name and not keep and source_stat.st_nlink > 1 and not force:
            raise Stop(f'{source}: Input file has more than one hard link, skipping', WARNING)
    if target == '-':
        if command == 'compress' and sys.stdout.isatty() and not force:
            raise Stop('Compressed data cannot be written to a terminal (redirect it, or -f)')
    else:
        if (
            source_stat is not None
            and os.path.exists(target)
            and (os.path.samefile(source, target) or os.path.realpath(source) == os.path.realpath(target))
        ):
            raise Stop(f'{target}: the output is the input file; refusing to overwrite it')
        if os.path.isdir(target):
            raise Stop(f'{target}: Is a directory')
        if os.path.lexists(target) and not force:
            raise Stop(f'{target}: File exists (-f to overwrite it)')
    if source == '-' and command == 'decompress' and sys.stdin.isatty():
        raise Stop('Compressed data cannot be read from a terminal')
    return Plan(source, target, default_name and not keep, source_stat)


def read_input(source: str) -> bytes:
    """The whole input, read once (standard input, a FIFO or a file)."""
    if source == '-':
        return sys.stdin.buffer.read()
    try:
        with open(source, 'rb') as f:
            return f.read()
    except OSError as err:
        raise Stop(f'{source}: {err.strerror or err}') from None


def report(result: Compressed, seconds: float, baselines: dict) -> List[str]:
    """The lines ``compress`` prints."""
    chars = max(result.chars, 1)
    lines = [
        f'characters        {result.chars}',
        f'input bytes       {result.size}',
        f'tokens            {len(result.bits)}',
        f'output bytes      {len(result.blob)} ({len(result.blob) - result.payload_bytes} '
        f'header + {result.payload_bytes} payload)',
        f'file bits/char    {result.file_bits_per_char:.4f}',
        f'payload bits/char {compressed_bits_per(result.payload_bytes, chars):.4f}',
        f'escaped bytes     {result.escaped}'
        + (
            f' in {result.spans} spans, 8 bits a byte (bytes that are not UTF-8 or that the '
            'tokenizer does not reproduce)'
            if result.escaped
            else ''
        ),
    ]
    if result.segments == 1:
        lines += [
            f'evaluator BPC     {result.model_bits / chars:.4f} (sum of -log2 p over tokens '
            f'1..N-1, the {"coded " if result.escaped else ""}text scored as one document)',
            f'-log2 p coded     {result.bits.sum():.1f} bits (first token '
            f'{result.bits[:1].sum():.1f}, uniform; the model\'s {result.model_bits:.1f})',
        ]
    else:
        used = sum(len(firsts) for firsts, _ in segment_groups(len(result.bits), result.segments))
        asked = f' (of {result.segments} asked for)' if used != result.segments else ''
        lines.append(
            f'-log2 p coded     {result.bits.sum():.1f} bits in {used} segments'
            f'{asked}, each with its first token uniform and its own context (the '
            'evaluator\'s BPC is that of --segments 1)'
        )
    lines += [
        f'{name:<17} {size} bytes ({compressed_bits_per(size, chars):.4f} bits/char)'
        for name, size in baselines.items()
    ]
    lines.append(f'time              {seconds:.1f} s ({result.chars / max(seconds, 1e-9):.1f} chars/s)')
    return lines


def _compress(
    model_dir: str,
    data: bytes,
    output: Output,
    settings: MeasurementSettings,
    dtype: str,
    threads: int,
    segments: int,
    progress: bool,
    tokenizer=None,
) -> Compressed:
    if tokenizer is None:
        tokenizer = load_tokenizer(model_dir)
    model = load_model(model_dir, dtype)
    result = compress_bytes(data, model, tokenizer, settings, threads, segments, progress)
    output.commit(result.blob)
    return result


def open_compressed(model_dir: str, blob: bytes, force: bool = False):
    """(header, payload, tokenizer) of a compressed file, checked before the model loads: a
    file that is not ours, damaged or crafted, from other software or another CPU kind
    (unless ``force``), or for another tokenizer or model configuration is a ZipError."""
    header, payload = unpack(blob)
    if not force:
        check_software(header)
    tokenizer = load_tokenizer(model_dir)
    check_file_fits(model_dir, header, payload, tokenizer)
    return header, payload, tokenizer


def _decompress(
    model_dir: str,
    header: Header,
    payload: bytes,
    output: Output,
    progress: bool,
    tokenizer,
    force: bool = False,
) -> bytes:
    data = decompress_payload(
        header, payload, load_model(model_dir, header.dtype), tokenizer, progress, force
    )
    output.commit(data)
    return data


def compress_file(
    model_dir: str,
    source: str,
    target: str,
    settings: MeasurementSettings = PAPER,
    dtype: str = 'float32',
    threads: int = 1,
    segments: int = 1,
    progress: bool = False,
) -> Compressed:
    """``source`` compressed into ``target`` (replaced if it exists), atomically."""
    output = Output(target, True, output_mode(os.stat(source)))
    try:
        return _compress(model_dir, read_input(source), output, settings, dtype, threads, segments, progress)
    finally:
        output.discard()


def decompress_file(model_dir: str, source: str, target: str, progress: bool = False) -> bytes:
    """``source`` decompressed into ``target`` (replaced if it exists), atomically."""
    output = Output(target, True, output_mode(os.stat(source)))
    try:
        header, payload, tokenizer = open_compressed(model_dir, read_input(source))
        return _decompress(model_dir, header, payload, output, progress, tokenizer)
    finally:
        output.discard()


def parser() -> argparse.ArgumentParser:
    """Usage errors exit with 1, as xz's do (``exit_codes.ArgumentParser``)."""
    main_parser = ArgumentParser(
        prog=PROG,
        description='Lossless compression with a language model: a range coder '
        'driven by the model over the sliding windows of the BPC measurement. Exit status as '
        'xz\'s: 0 done, 1 error, 2 warning (a file skipped), 130 interrupted.',
    )
    commands = main_parser.add_subparsers(dest='command', required=True)
    compress = commands.add_parser('compress', help=f'IN (any bytes; text compresses) -> IN{SUFFIX}')
    decompress = commands.add_parser('decompress', help=f'IN{SUFFIX} -> IN')
    for command, (read, written, default) in (
        (compress, ('text', 'compressed file', 'IN' + SUFFIX)),
        (decompress, ('compressed file', 'text', 'IN without ' + SUFFIX)),
    ):
        command.add_argument(
            '--model', required=True, help='Hugging Face model folder (or hub id) with its tokenizer'
        )
        command.add_argument(
            '-c', '--stdout', action='store_true', help=f'write the {written} to standard output; keep IN'
        )
        command.add_argument(
            '-k',
            '--keep',
            action='store_true',
            help='keep IN (it is removed after success when OUT is not given)',
        )
        command.add_argument(
            '-f',
            '--force',
            action='store_true',
            help='replace an existing OUT; follow a symbolic link IN'
            + ('' if command is compress else '; decode a file from other software or another kind of CPU'),
        )
        command.add_argument('-q', '--quiet', action='store_true', help='no progress bars')
        command.add_argument(
            'input', nargs='?', metavar='IN', help=f'the {read}; none or - for standard input'
        )
        command.add_argument(
            'output',
            nargs='?',
            metavar='OUT',
            help=f'where to write the {written}; - for standard output '
            f'(default: {default}, or standard output for standard input); '
            'giving OUT keeps IN',
        )
    compress.add_argument(
        '--block-size',
        type=int,
        default=PAPER_BLOCK_SIZE,
        help=f'tokens per window, at most the model\'s context (default {PAPER_BLOCK_SIZE})',
    )
    compress.add_argument(
        '--stride',
        type=int,
        default=PAPER_STRIDE,
        help=f'tokens between window starts, at most --block-size (default {PAPER_STRIDE})',
    )
    compress.add_argument(
        '--dtype', default='float32', choices=DTYPES, help='the model\'s dtype while coding (default float32)'
    )
    compress.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch CPU threads while coding (kept in the header; default 1)',
    )
    compress.add_argument(
        '--segments',
        type=int,
        default=1,
        help='code the token stream as this many pieces in one batch: '
        'faster, larger (default 1: the file is the measurement)',
    )
    return main_parser


def measurement_settings(args) -> MeasurementSettings:
    """The windows of ``compress``, built and checked once, here."""
    try:
        settings = MeasurementSettings(args.block_size, args.stride)
    except ValueError as err:
        raise ZipError(str(err)) from None
    check_options(settings, args.threads, args.segments)
    return settings


def plan_and_read(args) -> tuple:
    """(Plan, the input's bytes) of a command; with ``-q``, transformers' bars hidden too."""
    where = plan(args.command, args.input, args.output, args.stdout, args.keep, args.force)
    if args.quiet:
        from transformers.utils import logging

        logging.disable_progress_bar()
    return where, read_input(where.source)


def write_output(where: Plan, force: bool, produce) -> tuple:
    """(``produce(output)``, seconds it took), the output written atomically and the input
    removed after it where xz would; Ctrl-C leaves no output (Stop, 130)."""
    regular = where.source_stat is not None and stat.S_ISREG(where.source_stat.st_mode)
    output = Output(
        where.target,
        force,
        output_mode(where.source_stat),
        (where.source_stat.st_atime_ns, where.source_stat.st_mtime_ns) if regular else None,
    )
    started = time.perf_counter()
    try:
        result = produce(output)
    except KeyboardInterrupt:
        output.discard()
        raise Stop('Interrupted; no output was written', INTERRUPTED) from None
    finally:
        output.discard()
    seconds = time.perf_counter() - started
    if where.remove_source:
        os.remove(where.source)
    return result, seconds


def summary_stream(where: Plan):
    """Where the printed summary goes: where the data does not."""
    return sys.stderr if where.target == '-' else sys.stdout


def compress_command(args) -> int:
    """``compress``: the text's file written, its summary printed; 0, or Stop / ZipError."""
    settings = measurement_settings(args)
    where, data = plan_and_read(args)
    tokenizer = load_tokenizer(args.model)
    check_block_size_fits(args.model, settings.block_size)
    result, seconds = write_output(
        where,
        args.force,
        lambda output: _compress(
            args.model,
            data,
            output,
            settings,
            args.dtype,
            args.threads,
            args.segments,
            not args.quiet,
            tokenizer,
        ),
    )
    print('\n'.join(report(result, seconds, compressed_sizes(data))), file=summary_stream(where))
    return 0


def decompress_command(args) -> int:
    """``decompress``: the header parsed and checked once, then the original bytes written;
    0, or Stop / ZipError."""
    where, blob = plan_and_read(args)
    header, payload, tokenizer = open_compressed(args.model, blob, args.force)
    data, seconds = write_output(
        where,
        args.force,
        lambda output: _decompress(
            args.model, header, payload, output, not args.quiet, tokenizer, args.force
        ),
    )
    chars = len(data.decode('utf-8', 'surrogateescape'))
    print(
        f'{len(data)} bytes, {chars} characters in {seconds:.1f} s '
        f'({chars / max(seconds, 1e-9):.1f} chars/s); SHA-256 checked',
        file=summary_stream(where),
    )
    return 0


def run(args) -> int:
    """The command ``args.command`` (``compress`` or ``decompress``); 0 when done, Stop
    otherwise."""
    return compress_command(args) if args.command == 'compress' else decompress_command(args)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    log_to_stderr(PROG)
    try:
        return run(args)
    except Stop as stop:
        print(f'{PROG}: {stop}', file=sys.stderr)
        return stop.code
    except KeyboardInterrupt:  # before any output existed, or after it was complete
        print(f'{PROG}: Interrupted', file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader of standard output went away: as xz, an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second complaint when Python exits
        print(f'{PROG}: error: (stdout): Broken pipe', file=sys.stderr)
        return ERROR
    except MemoryError:
        print(f'{PROG}: error: out of memory', file=sys.stderr)
        return ERROR
    except (ZipError, ValueError, OSError) as err:
        print(f'{PROG}: error: {err}', file=sys.stderr)
        return ERROR
