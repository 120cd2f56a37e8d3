"""Batches to sums: each scored token's loss added to the document that owns it.

The sums are float64 and added in window order, so any batching, and a resumed run, give the
same bits. ``windows_done`` counts the windows (in order) that made them: with the arrays, it
is all a checkpoint holds.
"""

import numpy as np

from .windows import SCORE_FROM


class DocumentSums:
    """Summed NLL (nats, float64) and scored-token count of every document of a stream.

    ``doc_offsets`` has one entry per document plus one: document ``d`` owns stream positions
    ``[doc_offsets[d], doc_offsets[d + 1])``.
    """

    def __init__(self, doc_offsets: np.ndarray):
        self.doc_offsets = doc_offsets
        num_docs = len(doc_offsets) - 1
        self.nll = np.zeros(num_docs, dtype=np.float64)
        self.tokens = np.zeros(num_docs, dtype=np.int64)
        self.windows_done = 0

    def resume(self, windows_done: int, nll: np.ndarray, tokens: np.ndarray) -> None:
        """Take up sums saved after ``windows_done`` windows."""
        self.windows_done, self.nll, self.tokens = windows_done, nll, tokens

    def add(self, batch: np.ndarray, losses: np.ndarray) -> int:
        """Adds a batch's ``(len(batch), scored count)`` losses; returns the tokens added."""
        positions = (batch[:, SCORE_FROM, None] + np.arange(losses.shape[1])).ravel()
        docs = np.searchsorted(self.doc_offsets, positions, side='right') - 1
        np.add.at(self.nll, docs, losses.ravel())
        np.add.at(self.tokens, docs, 1)
        self.windows_done += len(batch)
        return positions.size
