"""Bytes to a compressed file and back with a model and its tokenizer: the checks around the
coder. Nothing here writes files; every refusal is a ``ZipError``.

What is coded is the token stream the evaluator scores for the text as one document
(``prefix`` special tokens before it, ``suffix`` after it, dropped when detokenizing). Text
the tokenizer does not give back exactly (bytes that are not UTF-8, characters it drops or
changes) is escaped, kept as it is (``split``), so every input round-trips; the SHA-256 of
the original bytes is checked after decoding.
"""

import hashlib
import importlib.metadata
import json
import platform
from contextlib import contextmanager
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import torch

from ..core.metrics import compressed_bits_per
from ..core.model_checks import context_length
from ..core.provenance import model_source
from ..core.scoring_loop import check_fits_model
from ..core.settings import PAPER, MeasurementSettings
from ..core.token_stream import encode_documents, tokenizer_fingerprint
from .coder import decode_tokens, encode_tokens, vocabulary_size
from .container import DTYPES, HEADER_SIZE, Header, ZipError, model_bounds, pack, unpack

SAME_SETUP = (
    'Decoding needs the model and tokenizer the file was compressed with, and the '
    'same software and hardware class as encoding (the probabilities are floating '
    'point: torch and numpy versions, CPU instruction set, thread count).'
)


@dataclass(frozen=True)
class Compressed:
    blob: bytes  # the whole file
    chars: int
    size: int  # input bytes
    bits: np.ndarray  # -log2 p of each coded token (float64), the first one uniform
    segments: int = 1
    escaped: int = 0  # input bytes that took the escape, not the model
    spans: int = 0  # ... in that many spans

    @property
    def payload_bytes(self) -> int:
        return len(self.blob) - HEADER_SIZE

    @property
    def file_bits_per_char(self) -> float:
        """The whole file's size in bits per input character (an empty input counts one)."""
        return compressed_bits_per(len(self.blob), max(self.chars, 1))

    @property
    def model_bits(self) -> float:
        """-log2 p summed over tokens 1..N-1: with one segment, the evaluator's sum for this
        text as one document, in bits."""
        return float(self.bits[1:].sum())


def detokenize(tokenizer, ids: List[int], prefix: int, suffix: int) -> str:
    return tokenizer.decode(
        ids[prefix : len(ids) - suffix], skip_special_tokens=False, clean_up_tokenization_spaces=False
    )


def _encode(text: str, tokenizer) -> Tuple[List[int], int, int, str]:
    """(token ids as the evaluator has them, prefix, suffix, what they decode to)."""
    ids = [int(t) for t in next(iter(encode_documents([text], tokenizer)))]
    plain = list(tokenizer(text, add_special_tokens=False, verbose=False)['input_ids'])
    starts = [p for p in range(len(ids) - len(plain) + 1) if ids[p : p + len(plain)] == plain]
    if not starts or starts[0] > 255 or len(ids) - len(plain) - starts[0] > 255:
        raise ZipError(
            'the tokenizer\'s special tokens are not only before and after the text; '
            'its token stream cannot be decoded back to the text.'
        )
    prefix, suffix = starts[0], len(ids) - len(plain) - starts[0]
    return ids, prefix, suffix, detokenize(tokenizer, ids, prefix, suffix)


def first_difference(text: str, decoded: str) -> int:
    return next((i for i, (a, b) in enumerate(zip(text, decoded)) if a != b), min(len(text), len(decoded)))


def tokenize(text: str, tokenizer) -> Tuple[List[int], int, int]:
    """(token ids as the evaluator has them, prefix, suffix), or ZipError when the tokenizer
    does not give the text back exactly."""
    ids, prefix, suffix, decoded = _encode(text, tokenizer)
    if decoded != text:
        at = first_difference(text, decoded)
        line = text.count('\n', 0, at) + 1
        raise ZipError(
            f'the tokenizer does not reproduce this text: decode(encode(text)) first differs at '
            f'character {at} (line {line}): {text[at : at + 12]!r} comes back as '
            f'{decoded[at : at + 12]!r}. The tokenizer normalises text (whitespace, Unicode '
            'forms or unknown characters), so a file of its tokens would not decompress to '
            'the same bytes; nothing was written. Use a model whose tokenizer is lossless '
            '(byte-level BPE).'
        )
    return ids, prefix, suffix


@dataclass(frozen=True)
class Split:
    """The input as the model codes it: ``text`` (tokenized as ``ids``), and the spans of
    bytes it cannot code, taken out of it (``escapes``: (bytes of ``text`` since the previous
    span, the span's bytes))."""

    text: str
    escapes: Tuple[Tuple[int, bytes], ...]
    ids: List[int]
    prefix: int
    suffix: int
    chars: int  # characters of the input, each byte that is not UTF-8 counted as one


def _assemble(chars: str, bad) -> Tuple[str, tuple, List[int]]:
    """(the characters not in ``bad``, the escape spans of those that are, and the input
    position of each character kept)."""
    if not bad:
        return chars, (), list(range(len(chars)))
    kept, origin, escapes, gap, run = [], [], [], 0, []
    for i, char in enumerate(chars):
        if i in bad:
            run.append(char)
            continue
        if run:
            escapes.append((gap, ''.join(run).encode('utf-8', 'surrogateescape')))
            gap, run = 0, []
        kept.append(char)
        origin.append(i)
        gap += len(char.encode('utf-8'))
    if run:
        escapes.append((gap, ''.join(run).encode('utf-8', 'surrogateescape')))
    return ''.join(kept), tuple(escapes), origin


def split(data: bytes, tokenizer, attempts: int = 32) -> Split:
    """Every byte string: the characters the tokenizer reproduces go to the model; bytes that
    are not UTF-8, and characters the tokenizer drops or changes (alone, or in context: up to
    ``attempts`` re-tokenizations, then everything), to the escape."""
    chars = data.decode('utf-8', 'surrogateescape')  # a byte that is not UTF-8: U+DC80..DCFF
    alone = {}
    for char in set(chars):
        if '\udc80' <= char <= '\udcff':
            alone[char] = False
        else:
            ids = tokenizer(char, add_special_tokens=False, verbose=False)['input_ids']
            alone[char] = detokenize(tokenizer, list(ids), 0, 0) == char
    bad = {i for i, char in enumerate(chars) if not alone[char]}
    for _ in range(attempts):
        text, escapes, origin = _assemble(chars, bad)
        ids, prefix, suffix, decoded = _encode(text, tokenizer)
        if decoded == text:
            return Split(text, escapes, ids, prefix, suffix, len(chars))
        bad.add(origin[min(first_difference(text, decoded), len(text) - 1)])
    text, escapes, _ = _assemble(chars, set(range(len(chars))))
    ids, prefix, suffix, _ = _encode(text, tokenizer)
    return Split(text, escapes, ids, prefix, suffix, len(chars))


def join(text: str, escapes) -> bytes:
    """The input again: ``text`` with the escaped spans put back."""
    coded, parts, at = text.encode('utf-8'), [], 0
    for gap, raw in escapes:
        parts += [coded[at : at + gap], raw]
        at += gap
    parts.append(coded[at:])
    return b''.join(parts)


# configuration keys that change the numbers (norm epsilons, RoPE, sizes, activations ...), not
# generation settings or metadata, which differ between transformers versions
_NUMERIC_KEYS = (
    'eps',
    'rope',
    'theta',
    'hidden',
    'head',
    'layer',
    'act',
    'vocab',
    'position',
    'window',
    'scal',
    'norm',
    'attention',
    'bias',
    'tie_',
    'intermediate',
    'expert',
    'softcap',
    'partial',
    'mlp',
    'model_type',
    'sliding',
)


def numeric_config(model: torch.nn.Module) -> dict:
    config = getattr(model, 'config', None)
    items = config.to_dict() if hasattr(config, 'to_dict') else {}
    return {
        key: value
        for key, value in items.items()
        if not key.startswith(('_', 'output_')) and any(k in key for k in _NUMERIC_KEYS)
    }


def model_fingerprints(model: torch.nn.Module) -> Tuple[bytes, bytes]:
    """(SHA-256 over the state dict's names, dtypes, shapes and bytes and over the
    configuration that changes the numbers; the same over the weights alone, as files
    written before the configuration counted have it), first 16 bytes each."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f'{name} {tensor.dtype} {tuple(tensor.shape)}\n'.encode())
        digest.update(tensor.view(torch.uint8).numpy())
    weights = digest.digest()[:16]
    digest.update(json.dumps(numeric_config(model), sort_keys=True, default=str).encode())
    return digest.digest()[:16], weights


def weights_fingerprint(model: torch.nn.Module) -> bytes:
    """What the header keeps of the model: weights and the configuration that changes the
    numbers."""
    return model_fingerprints(model)[0]


_KERNEL_FLAGS = ('avx', 'avx2', 'fma', 'f16c', 'avx512', 'amx', 'avx_vnni', 'sve', 'neon', 'asimd')


def cpu_kind() -> List[str]:
    """The CPU's vendor, family and model, and the instruction-set flags that choose torch's
    and numpy's kernels (from /proc/cpuinfo; empty where there is none)."""
    try:
        with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
            lines = f.read().split('\n\n')[0].splitlines()
    except OSError:
        return []
    fields = {k.strip(): v.strip() for k, _, v in (line.partition(':') for line in lines)}
    flags = sorted(
        flag
        for flag in (fields.get('flags') or fields.get('Features') or '').split()
        if flag.startswith(_KERNEL_FLAGS)
    )
    return [
        f'{key} {fields[key]}'
        for key in ('vendor_id', 'cpu family', 'model', 'CPU implementer', 'CPU part')
        if key in fields
    ] + flags


def software_fingerprints() -> Tuple[bytes, bytes]:
    """(what decides the floating-point results besides the model: versions, CPU architecture
    and torch's kernel level, the CPU's kind and its instruction-set flags; the same without
    the CPU's kind, as files written before it counted have it), 8 bytes each."""
    parts = [platform.machine(), torch.backends.cpu.get_cpu_capability()]
    parts += [
        f'{name} {importlib.metadata.version(name)}'
        for name in ('torch', 'numpy', 'transformers', 'constriction')
    ]
    legacy = hashlib.sha256('\n'.join(parts).encode()).digest()[:8]
    return hashlib.sha256('\n'.join(parts + cpu_kind()).encode()).digest()[:8], legacy


def software_fingerprint() -> bytes:
    return software_fingerprints()[0]


def check_software(header: Header) -> None:
    """ZipError unless this machine's software and CPU kind are the encoder's."""
    if header.software not in software_fingerprints():
        raise ZipError(
            'the file was compressed with other software or on another kind of CPU '
            '(torch, numpy, transformers or constriction version, CPU instruction '
            'set or model): the decoder must reproduce the encoder\'s floating '
            'point bit for bit, which is unlikely here, so nothing was decoded. '
            'Decompress it where it was compressed, or force it (-f; the SHA-256 '
            'check still guards the output).'
        )


def check_model(model: torch.nn.Module) -> None:
    if model.training:
        raise ZipError(
            'the model is in training mode (dropout would make every run differ): call model.eval() first'
        )


def model_dtype(model: torch.nn.Module) -> str:
    """The model's dtype as the header names it (``float32``: one of ``DTYPES``), else
    ZipError."""
    dtype = str(model_source(model).dtype).replace('torch.', '')
    if dtype not in DTYPES:
        raise ZipError(f'the model is in {dtype}; the format knows {", ".join(DTYPES)}')
    return dtype


@contextmanager
def torch_threads(count: int):
    """torch's CPU thread count set to ``count`` while coding (it changes the arithmetic)."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_options(settings: MeasurementSettings, threads: int, segments: int) -> None:
    """ZipError unless the options fit the format's fields (the windows were checked when
    ``settings`` was built)."""
    if not 1 <= threads <= 255:
        raise ZipError(f'threads must be between 1 and 255, got {threads}')
    if not 1 <= segments <= 65535:
        raise ZipError(f'segments must be between 1 and 65535, got {segments}')
    if settings.reference_compat:
        raise ZipError(
            'reference_compat drops the tail of the stream, which a lossless file '
            'cannot: compress with reference_compat=False'
        )
    if settings.block_size >= 2**32:
        raise ZipError(f'block size must be between 1 and {2**32 - 1}, got {settings.block_size}')


def compress_bytes(
    data: bytes,
    model: torch.nn.Module,
    tokenizer,
    settings: MeasurementSettings = PAPER,
    threads: int = 1,
    segments: int = 1,
    progress: bool = False,
) -> Compressed:
    """The compressed file of any ``data``: what the tokenizer reproduces coded by the model,
    the rest escaped (``split``). ``threads`` is torch's CPU thread count while coding, kept
    in the header for the decoder (1 by default, the most portable choice). ``segments > 1``
    codes that many pieces of the stream in one batch: faster, larger (``coder``).
    ``settings`` are the measurement's windows (``block_size``, ``stride``; every token is
    coded, so ``reference_compat`` is refused). ZipError for options outside the format or a
    model in training mode or in a dtype the format lacks; ValueError (``check_fits_model``)
    for windows or token ids the model cannot take."""
    check_options(settings, threads, segments)
    parts = split(data, tokenizer)
    ids, prefix, suffix = parts.ids, parts.prefix, parts.suffix
    if len(ids) - prefix - suffix > len(parts.text.encode('utf-8')):
        raise ZipError(
            'the tokenizer gives tokens that decode to no bytes at all: the file\'s '
            'header could not bound the token count by the size'
        )
    check_model(model)
    dtype = model_dtype(model)
    if ids:
        check_fits_model(model, settings.block_size, np.asarray(ids))
    with torch_threads(threads):
        payload, bits = encode_tokens(model, ids, settings, segments, progress)
    header = Header(
        dtype,
        threads,
        settings.block_size,
        settings.stride,
        segments,
        len(ids),
        prefix,
        suffix,
        len(data),
        weights_fingerprint(model),
        bytes.fromhex(tokenizer_fingerprint(tokenizer))[:16],
        software_fingerprint(),
        hashlib.sha256(data).digest(),
        parts.escapes,
    )
    return Compressed(
        pack(header, payload), parts.chars, len(data), bits, segments, header.escaped, len(parts.escapes)
    )


def check_setup(header: Header, model: torch.nn.Module, tokenizer) -> None:
    """ZipError unless ``model`` and ``tokenizer`` are the ones the file was written with."""
    check_model(model)
    if model_dtype(model) != header.dtype:
        raise ZipError(
            f'the file was compressed with the model in {header.dtype}, this one is '
            f'in {model_dtype(model)}. {SAME_SETUP}'
        )
    fingerprints = model_fingerprints(model)
    if header.model not in fingerprints:
        raise ZipError(
            f'the file was compressed with another model, or with its configuration '
            f'changed (fingerprint of the weights and the configuration that changes '
            f'the numbers {header.model.hex()}, this model\'s is '
            f'{fingerprints[0].hex()}). {SAME_SETUP}'
        )
    check_tokenizer(header, tokenizer)


def check_tokenizer(header: Header, tokenizer) -> None:
    """ZipError unless ``tokenizer`` is the file's and adds as many special tokens."""
    if bytes.fromhex(tokenizer_fingerprint(tokenizer))[:16] != header.tokenizer:
        raise ZipError(
            f'the file was compressed with another tokenizer (fingerprint '
            f'{header.tokenizer.hex()}). {SAME_SETUP}'
        )
    _, prefix, suffix = tokenize('x', tokenizer)
    if (header.prefix, header.suffix) != (prefix, suffix):
        raise ZipError(
            f'invalid header: {header.prefix} special tokens before the text and '
            f'{header.suffix} after it, where this tokenizer adds {prefix} and '
            f'{suffix}; the file was not written by this program, though its CRC '
            'matches'
        )


def decompress_bytes(
    blob: bytes, model: torch.nn.Module, tokenizer, progress: bool = False, force: bool = False
) -> bytes:
    """The original bytes, checked against the header's SHA-256; ZipError otherwise. A file
    from other software or another CPU kind is refused before decoding unless ``force``."""
    header, payload = unpack(blob)
    return decompress_payload(header, payload, model, tokenizer, progress, force)


def decompress_payload(
    header: Header,
    payload: bytes,
    model: torch.nn.Module,
    tokenizer,
    progress: bool = False,
    force: bool = False,
) -> bytes:
    """``decompress_bytes`` of a file whose ``container.unpack`` is already at hand."""
    if not force:
        check_software(header)
    check_setup(header, model, tokenizer)
    model_bounds(header, len(payload), context_length(model), vocabulary_size(model))
    with torch_threads(header.threads):
        ids = decode_tokens(model, payload, header.tokens, header.settings, header.segments, progress)
    try:
        data = join(detokenize(tokenizer, ids, header.prefix, header.suffix), header.escapes)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):
        data = None  # tokens from diverging probabilities may not even decode (ids a slow
        # tokenizer lacks, text that is no longer UTF-8 after the escapes)
    if data is None or len(data) != header.size or hashlib.sha256(data).digest() != header.sha256:
        hint = (
            'this machine\'s software or hardware class differs from the encoder\'s'
            if header.software not in software_fingerprints()
            else 'the file may be damaged in a way its CRC did not catch'
        )
        raise ZipError(
            f'the decompressed bytes do not match the original\'s SHA-256 '
            f'({hint}); nothing was written. {SAME_SETUP}'
        )
    return data
