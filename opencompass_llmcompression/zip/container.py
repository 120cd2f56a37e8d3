"""The file format: a fixed binary header, then the range coder's payload.

All integers little-endian; the header is 119 bytes whatever the input::

    magic        4s   b'\\x89LMZ' (a first byte that no text file starts with)
    version      B    FORMAT_VERSION
    dtype        B    the model's dtype while coding (index in DTYPES)
    threads      B    torch's CPU thread count while coding
    block_size   I    window settings of the measurement
    stride       I
    segments     H    pieces of the token stream coded as separate streams in one batch
    tokens       Q    how many tokens the payload codes
    prefix       B    special tokens the tokenizer adds before the text ...
    suffix       B    ... and after it (coded, then dropped when detokenizing)
    size         Q    length of the original bytes
    model        16s  SHA-256 of the model's weights (first 16 bytes)
    tokenizer    16s  SHA-256 fingerprint of the tokenizer (first 16 bytes)
    software     8s   digest of the software that coded it (torch, numpy, ... versions, CPU
                      architecture): a hint when decoding goes wrong, not a refusal
    sha256       32s  SHA-256 of the original bytes
    payload      Q    payload length in bytes (a whole number of 32-bit words)
    crc32        I    CRC-32 of the header before this field and of the payload

A file is refused before any decoding when its magic, version, length or CRC is wrong; the
decoded bytes are then checked against ``sha256`` before anything is written.
"""

import struct
import zlib
from dataclasses import dataclass

MAGIC = b'\x89LMZ'
FORMAT_VERSION = 1
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


def pack(header: Header, payload: bytes) -> bytes:
    """The whole file: header, CRC, payload."""
    head = _LAYOUT.pack(MAGIC, FORMAT_VERSION, DTYPES.index(header.dtype), header.threads,
                        header.block_size, header.stride, header.segments, header.tokens,
                        header.prefix,
                        header.suffix, header.size, header.model, header.tokenizer,
                        header.software, header.sha256, len(payload))
    return head + _CRC.pack(zlib.crc32(payload, zlib.crc32(head))) + payload


def unpack(blob: bytes):
    """(Header, payload) of a file, or ZipError saying what is wrong with it."""
    if blob[:len(MAGIC)] != MAGIC:
        raise ZipError('not an llmcompression-zip file: it does not start with the format\'s '
                       f'magic bytes {MAGIC!r}')
    if len(blob) > len(MAGIC) and blob[len(MAGIC)] != FORMAT_VERSION:
        raise ZipError(f'format version {blob[len(MAGIC)]}; this program reads version '
                       f'{FORMAT_VERSION}: use the version of llmcompression-zip that wrote it')
    if len(blob) < HEADER_SIZE:
        raise ZipError(f'truncated file: {len(blob)} bytes, shorter than the {HEADER_SIZE}-byte '
                       'header')
    fields = _LAYOUT.unpack_from(blob)
    payload_size = fields[-1]
    if len(blob) != HEADER_SIZE + payload_size:
        raise ZipError(f'{"truncated" if len(blob) < HEADER_SIZE + payload_size else "damaged"} '
                       f'file: the header announces {HEADER_SIZE + payload_size} bytes, the file '
                       f'has {len(blob)}')
    payload = blob[HEADER_SIZE:]
    (crc,) = _CRC.unpack_from(blob, _LAYOUT.size)
    if crc != zlib.crc32(payload, zlib.crc32(blob[:_LAYOUT.size])) or payload_size % 4:
        raise ZipError('corrupted file: its CRC-32 does not match its contents')
    (_, _, dtype, threads, block_size, stride, segments, tokens, prefix, suffix, size, model,
     tokenizer, software, sha256, _) = fields
    if dtype >= len(DTYPES):
        raise ZipError(f'corrupted file: unknown dtype code {dtype}')
    if segments < 1 or not 1 <= stride <= block_size:
        raise ZipError('corrupted file: impossible window settings')
    return Header(DTYPES[dtype], threads, block_size, stride, segments, tokens, prefix, suffix,
                  size, model, tokenizer, software, sha256), payload
