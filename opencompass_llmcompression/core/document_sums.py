"""Batches to sums: each scored token's loss added to the document that owns it.

The sums are float64 and added in window order, one batch after another. ``windows_done``
counts the windows (in order) that made them: with the two arrays, it is all a checkpoint
holds, so a resumed run adds the same losses in the same order as an unbroken one.
"""

import numpy as np

from .windows import SCORE_FROM


class DocumentSums:
    """Summed NLL (nats, float64, ``nll``) and count of scored tokens (int64,
    ``scored_tokens``) of every document of a stream.

    ``doc_offsets`` has one entry per document plus one: document ``d`` owns stream positions
    ``[doc_offsets[d], doc_offsets[d + 1])``.
    """

    def __init__(self, doc_offsets: np.ndarray):
        self.doc_offsets = doc_offsets
        num_docs = len(doc_offsets) - 1
        self.nll = np.zeros(num_docs, dtype=np.float64)
        self.scored_tokens = np.zeros(num_docs, dtype=np.int64)
        self.windows_done = 0

    def resume(self, windows_done: int, nll: np.ndarray, scored_tokens: np.ndarray) -> None:
        """Take up sums saved after ``windows_done`` windows."""
        self.windows_done, self.nll, self.scored_tokens = windows_done, nll, scored_tokens

    def add(self, batch: np.ndarray, losses: np.ndarray) -> int:
        """Adds a batch's ``(len(batch), num_scored)`` losses (its window rows, all of one
        shape); returns how many tokens they score."""
        positions = (batch[:, SCORE_FROM, None] + np.arange(losses.shape[1])).ravel()
        docs = np.searchsorted(self.doc_offsets, positions, side='right') - 1
        np.add.at(self.nll, docs, losses.ravel())
        np.add.at(self.scored_tokens, docs, 1)
        self.windows_done += len(batch)
        return positions.size
