"""Which sliding windows exist over a token stream, and which positions each scores.

Pure numpy, no model: everything the measurement means is decided here.

A window of ``block_size + 1`` tokens starts every ``stride`` tokens (the fields of
``MeasurementSettings``, checked when it is built). Window ``k`` covers
stream positions ``[k * stride, k * stride + block_size + 1)``; it predicts positions 1.. of
its span from the ones before, and *scores* only the positions no earlier window scored: the
first window all of its targets, every later window its last ``stride``. Over the stream
``0 1 2 ... 11`` with ``block_size=4`` and ``stride=2`` (a window holds 5 tokens)::

    stream     0  1  2  3  4  5  6  7  8  9 10 11
    window 0  [.  s  s  s  s]                          scores 1..4
    window 1        [.  .  .  s  s]                    scores 5..6
    window 2              [.  .  .  s  s]              scores 7..8
    window 3                    [.  .  .  s  s]        scores 9..10
    window 4                          [.  .  .  s]     scores 11 (default mode only)

``.`` is context, ``s`` a scored target. Every scored token sees at least
``block_size + 1 - stride`` tokens of context (3 here) once the stream is that long.

* Default mode scores every token after the first: windows go on, ``stride`` further each
  time, until one reaches the end of the stream; the last one may be shorter.
* ``reference_compat=True`` reproduces the paper's code: only full windows,
  ``floor((N - block_size - 1) / stride) + 1`` of them, so the last
  ``(N - block_size - 1) mod stride`` tokens (token 11 above) are never scored, and a stream
  shorter than one window gives no window at all.

Windows are rows ``[start, end, score_from]`` of an int64 array: the window's tokens are
``stream[start:end]`` and it scores stream positions ``[score_from, end)``.
"""

from typing import Optional

import numpy as np

from .settings import MeasurementSettings

START, END, SCORE_FROM = 0, 1, 2


def sliding_windows(num_tokens: int, settings: MeasurementSettings) -> np.ndarray:
    """All windows over a stream of ``num_tokens`` tokens, as rows [start, end, score_from]."""
    stride = settings.stride
    span = settings.block_size + 1
    if settings.reference_compat:
        count = (num_tokens - span) // stride + 1 if num_tokens >= span else 0
    elif num_tokens < 2:
        count = 0  # a single token has nothing before it to be predicted from
    else:
        count = 1 + max(0, -(-(num_tokens - span) // stride))  # ceil division
    starts = np.arange(count, dtype=np.int64) * stride
    ends = np.minimum(starts + span, num_tokens)
    score_from = np.maximum(starts + span - stride, 1)
    if count:
        score_from[0] = 1
    return np.stack([starts, ends, score_from], axis=1).reshape(count, 3)


class NothingToScore(ValueError):
    """The corpus's whole stream has no window under the settings: no token would be scored,
    and a BPC of 0 would mean nothing."""


def why_no_window(settings: MeasurementSettings, num_tokens: Optional[int] = None) -> str:
    """Why a stream (of ``num_tokens`` tokens, when known) has no window, with the fix."""
    span = settings.block_size + 1
    count = f'{num_tokens} token{"s" * (num_tokens != 1)}'
    if settings.reference_compat:
        size = (
            f'the corpus has {count}, fewer than'
            if num_tokens is not None
            else 'the corpus has fewer tokens than'
        )
        return (
            f'{size} one window of block_size + 1 = {span}: the paper\'s method '
            '(reference_compat) scores full windows only, so it scores nothing. Use '
            'reference_compat=False or a smaller block_size.'
        )
    size = (
        f'the whole corpus tokenizes to {count}'
        if num_tokens is not None
        else 'the whole corpus tokenizes to one token or none'
    )
    return (
        f'{size}, and a token is scored only when one precedes it: nothing can be scored '
        '(a BPC of 0 would mean nothing). Measure a corpus of more text.'
    )


def scored_positions(windows: np.ndarray) -> np.ndarray:
    """Every stream position the windows score, in order (for tests and small streams)."""
    if len(windows) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.concatenate([np.arange(w[SCORE_FROM], w[END]) for w in windows])


def windows_touching(windows: np.ndarray, doc_offsets: np.ndarray, wanted_docs: np.ndarray) -> np.ndarray:
    """Indices of the windows that score at least one token of a wanted document.

    ``doc_offsets`` has one entry per document plus one: document ``d`` owns stream positions
    ``[doc_offsets[d], doc_offsets[d + 1])``. ``wanted_docs`` is a boolean mask over documents.
    """
    if len(windows) == 0:
        return np.zeros(0, dtype=np.int64)
    first_doc = np.searchsorted(doc_offsets, windows[:, SCORE_FROM], side='right') - 1
    last_doc = np.searchsorted(doc_offsets, windows[:, END] - 1, side='right') - 1
    wanted_before = np.concatenate([[0], np.cumsum(wanted_docs, dtype=np.int64)])
    return np.flatnonzero(wanted_before[last_doc + 1] - wanted_before[first_doc] > 0)
