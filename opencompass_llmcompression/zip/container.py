"""The file format: a fixed binary header, then the range coder's payload.

All integers little-endian; the header is 119 bytes whatever the input::

    magic        4s   b'\\x89LMZ' (a first byte that no UTF-8 text starts with)
    version      B    1 (PLAIN_VERSION) or 2 (FORMAT_VERSION: with escaped bytes)
    dtype        B    the model's dtype while coding (index in DTYPES)
    threads      B    torch's CPU thread count while coding
    block_size   I    window settings of the measurement
    stride       I
    segments     H    pieces of the token stream coded as separate streams in one batch
    tokens       Q    how many tokens the payload codes
    prefix       B    special tokens the tokenizer adds before the text ...
    suffix       B    ... and after it (coded, then dropped when detokenizing)
    size         Q    length of the original bytes
    model        16s  SHA-256 of the model's weights and of the configuration that changes
                      the numbers (first 16 bytes; files written before: the weights alone)
    tokenizer    16s  SHA-256 fingerprint of the tokenizer (first 16 bytes)
    software     8s   digest of the software and CPU kind that coded it (torch, numpy, ...
                      versions, CPU architecture, model and instruction-set flags): another
                      is refused before decoding unless forced
    sha256       32s  SHA-256 of the original bytes
    payload      Q    length in bytes of all that follows the CRC
    crc32        I    CRC-32 of the header before this field and of the payload

The payload is the range coder's 32-bit words; in version 2 (written only when some bytes of
the input were escaped, version 1 otherwise, so ordinary text gives the same file as before)
they are followed by the escape table, ``(varint gap, varint length, the bytes)`` per span, and
the table's length (a varint written backwards, read from the end).

A file is refused before any decoding when its magic or CRC is wrong, then when a field lies
outside its legal range (``check_fields``; ``model_bounds`` for those that depend on the
model): a crafted header gets a clear ZipError, never a crash or a huge allocation.
"""

import math
import struct
import zlib
from dataclasses import dataclass
from typing import Tuple

from ..core.settings import MeasurementSettings

MAGIC = b'\x89LMZ'
FORMAT_VERSION = 2  # what this program writes when the input has escaped bytes ...
PLAIN_VERSION = 1  # ... and without them: the same bytes as before escapes existed
VERSIONS = (PLAIN_VERSION, FORMAT_VERSION)
DTYPES = ('float32', 'bfloat16', 'float16', 'float64')
_LAYOUT = struct.Struct('<4sBBBIIHQBBQ16s16s8s32sQ')
_CRC = struct.Struct('<I')
HEADER_SIZE = _LAYOUT.size + _CRC.size


class ZipError(ValueError):
    """A file or an input that cannot be (de)compressed; the message says why and what to do."""


@dataclass(frozen=True)
class Header:
    dtype: str
    threads: int
    block_size: int
    stride: int
    segments: int
    tokens: int
    prefix: int
    suffix: int
    size: int
    model: bytes
    tokenizer: bytes
    software: bytes
    sha256: bytes
    # the escaped spans: (bytes of the coded text before it since the previous span, the
    # span's bytes as they are); none in a version 1 file
    escapes: Tuple[Tuple[int, bytes], ...] = ()

    @property
    def escaped(self) -> int:
        return sum(len(raw) for _, raw in self.escapes)

    @property
    def settings(self) -> MeasurementSettings:
        """The measurement's windows the file was coded with (checked by ``check_fields``
        first: a crafted header gets its ZipError, not this ValueError)."""
        return MeasurementSettings(self.block_size, self.stride)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _varint_from_end(data: bytes) -> Tuple[int, int]:
    """(the varint written backwards at the end of ``data``, its length in bytes)."""
    value = 0
    for used in range(1, min(len(data), 10) + 1):
        byte = data[-used]
        value |= (byte & 0x7F) << 7 * (used - 1)
        if byte < 0x80:
            return value, used
    raise ZipError('invalid escape table: its length runs past the payload')


def pack_escapes(escapes) -> bytes:
    """The escape table: for each span, varints of its gap and length, then its bytes."""
    return b''.join(_varint(gap) + _varint(len(raw)) + raw for gap, raw in escapes)


def unpack_escapes(table: bytes) -> Tuple[Tuple[int, bytes], ...]:
    spans, at = [], 0

    def varint():
        nonlocal at
        value = shift = 0
        while True:
            if at >= len(table) or shift > 63:
                raise ZipError('invalid escape table: a number runs past its end')
            byte = table[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while at < len(table):
        gap, length = varint(), varint()
        if not 1 <= length <= len(table) - at:
            raise ZipError(f'invalid escape table: a span of {length} bytes where {len(table) - at} remain')
        spans.append((gap, table[at : at + length]))
        at += length
    if not spans:
        raise ZipError(f'invalid header: format version {FORMAT_VERSION} without escaped bytes')
    return tuple(spans)


def pack(header: Header, payload: bytes) -> bytes:
    """The whole file: header, CRC, payload (the coder's words, then, in version 2 only, the
    escape table and its length)."""
    version = FORMAT_VERSION if header.escapes else PLAIN_VERSION
    if header.escapes:
        table = pack_escapes(header.escapes)
        payload = payload + table + _varint(len(table))[::-1]  # read from the end
    head = _LAYOUT.pack(
        MAGIC,
        version,
        DTYPES.index(header.dtype),
        header.threads,
        header.block_size,
        header.stride,
        header.segments,
        header.tokens,
        header.prefix,
        header.suffix,
        header.size,
        header.model,
        header.tokenizer,
        header.software,
        header.sha256,
        len(payload),
    )
    return head + _CRC.pack(zlib.crc32(payload, zlib.crc32(head))) + payload


def _announced(blob: bytes) -> int:
    return HEADER_SIZE + _LAYOUT.unpack_from(blob)[-1]


def unpack(blob: bytes):
    """(Header, payload) of a file, or ZipError saying what is wrong with it.

    Nothing but the magic and the length decides before the CRC matches (the version and the
    announced size only word the error when it does not); then every field must lie in its
    legal range (``check_fields``)."""
    if blob[: len(MAGIC)] != MAGIC:
        raise ZipError(
            f'not an llmcompression-zip file: it does not start with the format\'s magic bytes {MAGIC!r}'
        )
    if len(blob) < HEADER_SIZE:
        raise ZipError(f'truncated file: {len(blob)} bytes, shorter than the {HEADER_SIZE}-byte header')
    (crc,) = _CRC.unpack_from(blob, _LAYOUT.size)
    if crc != zlib.crc32(blob[HEADER_SIZE:], zlib.crc32(blob[: _LAYOUT.size])):
        version = blob[len(MAGIC)]
        if version not in VERSIONS:
            raise ZipError(
                f'corrupted file, or one of another format: its CRC-32 does not '
                f'match its contents and its version byte says {version} (this '
                f'program reads format versions {PLAIN_VERSION} and '
                f'{FORMAT_VERSION})'
            )
        if _announced(blob) != len(blob):
            raise ZipError(
                f'corrupted file: its CRC-32 does not match its contents, and its '
                f'header announces {_announced(blob)} bytes where the file has '
                f'{len(blob)}: it was truncated or had bytes added, or its header '
                'is damaged'
            )
        raise ZipError('corrupted file: its CRC-32 does not match its contents')
    fields = _LAYOUT.unpack_from(blob)
    if fields[1] not in VERSIONS:
        raise ZipError(
            f'format version {fields[1]}; this program reads versions '
            f'{PLAIN_VERSION} and {FORMAT_VERSION}: use the version of '
            'llmcompression-zip that wrote it'
        )
    if _announced(blob) != len(blob):
        raise ZipError(
            f'invalid header: it announces a payload of {fields[-1]} bytes, the '
            f'file has {len(blob) - HEADER_SIZE}'
        )
    payload, escapes = blob[HEADER_SIZE:], ()
    if fields[1] == FORMAT_VERSION:
        table_size, used = _varint_from_end(payload)
        if table_size > len(payload) - used:
            raise ZipError(
                f'invalid escape table: {table_size} bytes announced, {len(payload) - used} in the payload'
            )
        words = len(payload) - used - table_size
        escapes = unpack_escapes(payload[words : words + table_size])
        payload = payload[:words]
    if len(payload) % 4:
        raise ZipError(
            f'invalid header: a coded payload of {len(payload)} bytes, not a whole number of 4-byte words'
        )
    (
        _,
        _,
        dtype,
        threads,
        block_size,
        stride,
        segments,
        tokens,
        prefix,
        suffix,
        size,
        model,
        tokenizer,
        software,
        sha256,
        _,
    ) = fields
    if dtype >= len(DTYPES):
        raise ZipError(f'invalid header: dtype code {dtype} (legal: 0..{len(DTYPES) - 1})')
    header = Header(
        DTYPES[dtype],
        threads,
        block_size,
        stride,
        segments,
        tokens,
        prefix,
        suffix,
        size,
        model,
        tokenizer,
        software,
        sha256,
        escapes,
    )
    check_fields(header, len(payload))
    return header, payload


def check_fields(header: Header, payload_size: int) -> None:
    """ZipError unless every field lies in its legal range, on its own and against the others.
    A file this program wrote always passes; one that fails was crafted or written by another
    program, though its CRC matches. (The ranges that depend on the model: ``model_bounds``.)"""

    def bad(field, value, legal):
        raise ZipError(
            f'invalid header: {field} = {value}, outside its legal range ({legal}); '
            'the file was not written by this program, though its CRC matches'
        )

    if not 1 <= header.threads <= 255:
        bad('threads', header.threads, '1..255')
    if header.block_size < 1:
        bad('block size', header.block_size, 'at least 1')
    if not 1 <= header.stride <= header.block_size:
        bad('stride', header.stride, f'1..block size {header.block_size}')
    if header.segments < 1:
        bad('segments', header.segments, '1..65535')
    specials = header.prefix + header.suffix
    if header.escaped > header.size:
        bad('size', header.size, f'at least the {header.escaped} escaped bytes')
    coded = header.size - header.escaped  # bytes of the text the model codes
    if sum(gap for gap, _ in header.escapes) > coded:
        bad(
            'escape positions',
            sum(gap for gap, _ in header.escapes),
            f'at most the {coded} bytes of coded text',
        )
    if header.tokens < specials:
        bad('tokens', header.tokens, f'at least the {specials} special tokens around the text')
    # every token of the text decodes to at least one byte (the compressor checks it)
    if header.tokens > coded + specials:
        bad(
            'tokens',
            header.tokens,
            f'at most the {coded} bytes of the text plus the {specials} special tokens around it',
        )
    if coded and header.tokens == specials:
        bad('size', header.size, f'{header.escaped}, the escaped bytes, when no text token is coded')
    if header.tokens and not payload_size:
        bad('payload size', payload_size, f'{header.tokens} tokens: at least 4 bytes')


def model_bounds(header: Header, payload_size: int, context, vocab: int) -> None:
    """ZipError unless the file fits a model with this context (None: unknown) and vocabulary:
    its windows within the context; its token count within what the payload can hold, each
    token costing at least -log2 of the largest probability the coder can give (every other
    token of the vocabulary keeps at least 2**-24), with a twofold margin."""
    if context and header.block_size > context:
        raise ZipError(
            f'the file\'s windows of {header.block_size} tokens are longer than the '
            f'model\'s context of {context} tokens: it was not compressed with this '
            'model, or its header was crafted'
        )
    if vocab < 2 or vocab >= 2**24:
        raise ZipError(f'a vocabulary of {vocab} tokens cannot be coded (2 to 2**24 - 1)')
    least = -math.log2(1 - (vocab - 1) / 2**24)  # bits for the likeliest token, at best
    most = int(2 * (8 * payload_size + 64) / least) + 1
    if header.tokens > most:
        raise ZipError(
            f'invalid header: tokens = {header.tokens}, more than a payload of '
            f'{payload_size} bytes can code with a vocabulary of {vocab} (at most '
            f'{most}); the file was not written by this program, though its CRC '
            'matches'
        )
