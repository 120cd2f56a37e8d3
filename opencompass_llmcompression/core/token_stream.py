"""A corpus as one stream of token ids, tokenized once per tokenizer and cached on disk.

    documents  "ab" "cde" "f"  ->  token_ids  [a b|c d e|f]   doc_offsets  [0, 2, 5, 6]
    (one token per letter here)

Each document is encoded as ``tokenizer.encode(content)`` would (special tokens included), in
corpus order. The cache is a folder of plain ``.npy`` arrays named by a digest of the
tokenizer and the corpus text, shared by every shard and run; it is built once under a file
lock and renamed into place whole (``atomic_files``). Its ``meta.json`` holds both arrays'
SHA-256 and the round trip of its documents (``text_check``: each document's ids decoded give
it back), checked once when the stream is built: a folder that does not match is set aside
with a warning and built again.

A lone surrogate (possible in JSON text, not in UTF-8) reaches the tokenizer as U+FFFD;
characters and bytes are still counted as written.
"""

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from filelock import FileLock

from .atomic_files import atomic_folder, discard_folder
from .checksums import file_sha256
from .logs import LOGGER
from .text_check import TextCheck, check_round_trip, tokenizable

CACHE_ENV = 'LLMCOMPRESSION_CACHE'
ENCODE_BATCH = 512  # documents handed to a fast tokenizer at once
STREAM_FORMAT = 2  # raised when the cache folder's content changes (2: the text check)
_PROBE = 'Hello, world! {idx}\n\tdef f(x): return x ** 2  # π ≈ 3.14 数学'


@dataclass(frozen=True)
class TokenStream:
    token_ids: np.ndarray  # (num_tokens,) int32, memory-mapped when read from the cache
    doc_offsets: np.ndarray  # (num_docs + 1,) int64: document d owns token_ids[off[d]:off[d+1]]
    text_check: Optional[TextCheck] = None  # the round trip, on a stream from load_or_build_stream

    @property
    def num_docs(self) -> int:
        return len(self.doc_offsets) - 1

    @property
    def num_tokens(self) -> int:
        return int(self.token_ids.size)


def default_cache_dir() -> str:
    return os.environ.get(CACHE_ENV) or os.path.join(
        os.path.expanduser('~'), '.cache', 'opencompass_llmcompression'
    )


def tokenizer_fingerprint(tokenizer) -> str:
    """A digest that changes whenever the tokenizer would encode differently."""
    digest = hashlib.sha256(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, 'backend_tokenizer', None)
    if backend is not None:
        digest.update(backend.to_str().encode())
    else:
        digest.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    digest.update(json.dumps(tokenizer.encode(_PROBE)).encode())
    digest.update(json.dumps(tokenizer.encode('')).encode())
    return digest.hexdigest()


def corpus_fingerprint(contents: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in contents:
        data = text.encode('utf-8', errors='surrogatepass')
        digest.update(len(data).to_bytes(8, 'little'))
        digest.update(data)
    return digest.hexdigest()


def encode_documents(contents: Sequence[str], tokenizer):
    """Yield each document's token ids, exactly as ``tokenizer.encode(content)`` gives them."""
    if not getattr(tokenizer, 'is_fast', False):
        for text in contents:
            yield tokenizer.encode(tokenizable(text))
        return
    for first in range(0, len(contents), ENCODE_BATCH):
        batch = [tokenizable(text) for text in contents[first : first + ENCODE_BATCH]]
        yield from tokenizer(batch, add_special_tokens=True, verbose=False)['input_ids']


def build_stream(contents: Sequence[str], tokenizer) -> TokenStream:
    pieces, lengths = [], np.zeros(len(contents), dtype=np.int64)
    for d, ids in enumerate(encode_documents(contents, tokenizer)):
        ids = np.asarray(ids, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= 2**31):
            raise ValueError(f'the tokenizer produced token ids outside [0, 2**31) for document {d}')
        pieces.append(ids.astype(np.int32))
        lengths[d] = ids.size
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    token_ids = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    return TokenStream(token_ids, offsets)


def stream_key(contents: Sequence[str], tokenizer) -> str:
    """The cache key: a digest of the tokenizer and of the corpus text."""
    return hashlib.sha256(
        f'{STREAM_FORMAT}:{tokenizer_fingerprint(tokenizer)}{corpus_fingerprint(contents)}'.encode()
    ).hexdigest()[:32]


def load_or_build_stream(
    contents: Sequence[str],
    tokenizer,
    cache_dir: Optional[str] = None,
    key: Optional[str] = None,
    logger: logging.Logger = LOGGER,
) -> TokenStream:
    """The corpus's token stream with its ``text_check``, from the on-disk cache when it is
    there and intact; a damaged cache is rebuilt with a warning to ``logger``."""
    cache_dir = cache_dir or default_cache_dir()
    folder = os.path.join(cache_dir, 'streams', key or stream_key(contents, tokenizer))
    for attempt in range(2):
        if not os.path.isdir(folder):
            os.makedirs(os.path.dirname(folder), exist_ok=True)
            with FileLock(folder + '.lock'):
                if not os.path.isdir(folder):  # another shard may have built it meanwhile
                    stream = build_stream(contents, tokenizer)
                    check = check_round_trip(contents, stream.token_ids, stream.doc_offsets, tokenizer)
                    _write_stream(stream, folder, len(contents), check)
        try:
            return _read_stream(folder, len(contents))
        except CacheError as err:
            if attempt:
                raise
            logger.warning(f'{err}; building it again')
            with FileLock(folder + '.lock'):
                try:
                    return _read_stream(folder, len(contents))  # rebuilt by another shard?
                except CacheError:
                    if os.path.isdir(folder):
                        discard_folder(folder)


class CacheError(ValueError):
    """A token cache folder that is not what its meta.json says."""


def _write_stream(stream: TokenStream, folder: str, num_docs: int, check: TextCheck) -> None:
    # a folder built meanwhile by a process the lock did not reach (a shared filesystem whose
    # locks stay within one node) is kept: it is checked when read
    with atomic_folder(folder) as tmp:
        np.save(os.path.join(tmp, 'tokens.npy'), stream.token_ids)
        np.save(os.path.join(tmp, 'doc_offsets.npy'), stream.doc_offsets)
        meta = {
            'num_docs': num_docs,
            'num_tokens': stream.num_tokens,
            'text_check': check.as_record(),
            'sha256': {
                name: file_sha256(os.path.join(tmp, name)) for name in ('tokens.npy', 'doc_offsets.npy')
            },
        }
        with open(os.path.join(tmp, 'meta.json'), 'w') as f:
            json.dump(meta, f)


def _read_stream(folder: str, num_docs: int) -> TokenStream:
    try:
        with open(os.path.join(folder, 'meta.json')) as f:
            meta = json.load(f)
        for name in ('tokens.npy', 'doc_offsets.npy'):
            if file_sha256(os.path.join(folder, name)) != meta['sha256'][name]:
                raise ValueError(f'{name} does not match its checksum')
        token_ids = np.load(os.path.join(folder, 'tokens.npy'), mmap_mode='r', allow_pickle=False)
        offsets = np.load(os.path.join(folder, 'doc_offsets.npy'), allow_pickle=False)
        check = TextCheck.from_record(meta['text_check'])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise CacheError(f'the token cache {folder} is damaged ({err})') from None
    if (
        token_ids.dtype != np.int32
        or offsets.shape != (num_docs + 1,)
        or num_docs != meta['num_docs']
        or offsets[0] != 0
        or offsets[-1] != token_ids.size
        or np.any(np.diff(offsets) < 0)
    ):
        raise CacheError(f'the token cache {folder} does not fit the corpus')
    return TokenStream(token_ids, offsets, check)
