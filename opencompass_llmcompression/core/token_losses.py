"""Each scored token's loss and the characters it covers, for a few documents.

    score_documents(..., keep_token_losses=True) -> (nll, scored_tokens, TokenLosses):
        every scored position of the wanted documents, its loss (nats, float64)
    pick_documents(nll, chars, count, named)  -> which of them to keep (lowest, highest BPC, named)
    TokenLosses.record(d, tokenizer, text)   -> {token_ids, spans, token_nll}
    character_bits(text, spans, token_nll)    -> bits on each character

Which documents have the lowest and highest BPC is known only after the last window, so
``TokenLosses`` holds the loss of every token of the shard's documents while scoring: 8 bytes
(float64) per token of the shard, 8 MB per million tokens, and nothing when not asked for.
They are float64 and a document's losses added in stream order (``0.0 + l0 + l1 + ...``)
give its NLL in the predictions bit for bit, as ``DocumentSums`` adds them in that order.

A token's characters (``spans``, from the fast tokenizer's offsets): a token covers the
characters ``[start, end)`` of the document (Python characters, i.e. code points). A byte-level
BPE may split one character over several tokens (a CJK character, an emoji): each of those
tokens covers that character, so spans may overlap; a token may also cover several
characters. A special token (BOS) covers none. ``character_bits`` spreads each token's bits
over the characters it covers in proportion to their UTF-8 bytes, and a character's bits are
the sum of its shares from every token covering it; a token covering no character puts its
bits on the next character, so the bits of a document's characters add up to its tokens'.
"""

import math
from typing import Dict, List, Optional, Sequence

import numpy as np

from .metrics import bits_per
from .text_check import tokenizable
from .windows import SCORE_FROM

LN2 = math.log(2)


class TokenLosses:
    """The loss of every scored token of the ``wanted`` documents of a stream.

    ``token_ids``, ``doc_offsets``: the stream's (``TokenStream``); ``wanted``: document indices.
    ``losses(d)`` -> ``(tokens of d,)`` float64 nats, NaN where a token was not scored (the
    stream's first token; the tail that ``reference_compat`` drops)."""

    def __init__(self, token_ids: np.ndarray, doc_offsets: np.ndarray, wanted: Sequence[int]):
        self.token_ids = token_ids
        self.doc_offsets = np.asarray(doc_offsets, dtype=np.int64)
        wanted = np.unique(np.asarray(wanted, dtype=np.int64))
        lengths = self.doc_offsets[wanted + 1] - self.doc_offsets[wanted]
        self.base = np.full(len(self.doc_offsets) - 1, -1, dtype=np.int64)  # d -> its first slot
        self.base[wanted] = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(wanted) else []
        self.values = np.full(int(lengths.sum()), np.nan, dtype=np.float64)

    def add(self, batch: np.ndarray, losses: np.ndarray) -> None:
        """Keeps a batch's ``(len(batch), num_scored)`` losses, as ``DocumentSums.add``."""
        positions = (batch[:, SCORE_FROM, None] + np.arange(losses.shape[1])).ravel()
        docs = np.searchsorted(self.doc_offsets, positions, side='right') - 1
        kept = self.base[docs] >= 0
        slots = self.base[docs[kept]] + positions[kept] - self.doc_offsets[docs[kept]]
        self.values[slots] = losses.ravel()[kept]

    def losses(self, d: int) -> np.ndarray:
        if self.base[d] < 0:
            raise KeyError(f'document {d} was not among the documents whose token losses are kept')
        start = self.base[d]
        return self.values[start : start + self.doc_offsets[d + 1] - self.doc_offsets[d]]

    def record(self, d: int, tokenizer, text: str) -> Dict[str, list]:
        """Document ``d``'s ``document_record`` (``text``: its content)."""
        ids = np.asarray(self.token_ids[self.doc_offsets[d] : self.doc_offsets[d + 1]], dtype=np.int64)
        return document_record(tokenizer, text, ids, self.losses(d))


def pick_documents(
    nll: Sequence[float], chars: Sequence[int], count: int, named: Sequence[int] = ()
) -> List[int]:
    """Positions (into ``nll``) of the ``count`` documents of lowest and the ``count`` of
    highest BPC (documents with no scored token or no character left out; ties by position)
    and of those in ``named``, in order, each once."""
    nll, chars = np.asarray(nll, dtype=np.float64), np.asarray(chars, dtype=np.int64)
    usable = np.flatnonzero((chars > 0) & (nll > 0))
    bpc = bits_per(nll[usable], chars[usable])
    order = usable[np.argsort(bpc, kind='stable')]
    picked = set(order[:count].tolist()) | set(order[::-1][:count].tolist()) if count > 0 else set()
    return sorted(picked | set(int(i) for i in named))


class SpansUnavailable(ValueError):
    """The tokenizer gives no character offsets for its tokens (a slow tokenizer)."""


def check_spans_available(tokenizer) -> None:
    """Raise SpansUnavailable, before any window, for a tokenizer that gives no offsets."""
    if not getattr(tokenizer, 'is_fast', False):
        raise SpansUnavailable(
            f'token losses need the characters of each token, which only a fast tokenizer gives '
            f'(offsets); {type(tokenizer).__name__} is a slow one. Load the tokenizer with '
            'use_fast=True, or leave token losses off.'
        )


def token_spans(tokenizer, text: str, ids: Sequence[int]) -> np.ndarray:
    """``(len(ids), 2)`` int64 character spans ``[start, end)`` of a document's tokens, from
    the fast tokenizer's offsets of the same encoding (``token_stream``'s: special tokens
    included). Raises SpansUnavailable for a slow tokenizer, ValueError when encoding the text
    again does not give ``ids``."""
    check_spans_available(tokenizer)
    encoded = tokenizer(tokenizable(text), add_special_tokens=True, return_offsets_mapping=True)
    if list(encoded['input_ids']) != [int(i) for i in ids]:
        raise ValueError('the tokenizer encodes the document differently from its token stream')
    spans = np.asarray(encoded['offset_mapping'], dtype=np.int64).reshape(len(ids), 2)
    return np.clip(spans, 0, len(text))


def character_bits(text: str, spans: np.ndarray, token_nll: Sequence[Optional[float]]) -> np.ndarray:
    """``(len(text),)`` float64 bits on each character: each scored token's bits
    (``nll / ln 2``) spread over the characters it covers in proportion to their UTF-8 bytes; a
    token covering none gives its bits to the next character (the last one at the end)."""
    out = np.zeros(len(text), dtype=np.float64)
    if not text:
        return out
    weight = np.array([len(c.encode('utf-8', 'surrogatepass')) for c in text], dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(weight)])
    for (start, end), nll in zip(np.asarray(spans).tolist(), token_nll):
        if nll is None or not math.isfinite(nll):
            continue
        bits = nll / LN2
        if end <= start:
            out[min(start, len(text) - 1)] += bits
            continue
        out[start:end] += bits * weight[start:end] / (cumulative[end] - cumulative[start])
    return out


def document_record(tokenizer, text: str, ids: np.ndarray, losses: np.ndarray) -> Dict[str, list]:
    """A document's ``token_ids``, ``spans`` (``[start, end)`` characters) and ``token_nll``
    (nats; None for a token not scored), as kept beside the predictions."""
    spans = token_spans(tokenizer, text, ids)
    return dict(
        token_ids=[int(i) for i in ids],
        spans=spans.tolist(),
        token_nll=[None if math.isnan(x) else float(x) for x in losses.tolist()],
    )
