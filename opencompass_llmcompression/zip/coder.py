"""Token probabilities from the model over the measurement's windows, and range coding.

The encoder and the decoder run one procedure, ``code_tokens``, so both see the same
distributions, given the same software and hardware class (the header keeps the thread
count, set again when decoding). The decoder learns a token only after decoding it, so each
window of ``core.windows.sliding_windows`` (those the evaluator scores) runs as:

1. one forward pass over its context (the tokens before its first scored position) with the
   key/value cache, keeping the last position's logits;
2. for each scored position: the distribution from the current logits, the token coded (or
   decoded) with it, and that token fed through the model with the cache.

Each distribution is a float64 softmax of the logits (in the model's dtype), quantised by
``constriction``'s ``Categorical(..., perfect=False)``, which leaves every token a nonzero
probability. The first token has no context: it is coded as uniform over the vocabulary
(about 15.6 bits for 49,152 tokens).

``segments > 1`` cuts the stream into that many pieces, each its own stream (its first token
uniform, its own windows), coded in lockstep as one batch: several times faster on a CPU,
where one token at a time is bound by reading the weights, but larger; only one segment
makes the file equal to the measurement.
"""

import math
from typing import Callable, List, Optional, Tuple

import constriction
import numpy as np
import torch
from tqdm import tqdm

from ..core.metrics import LN2
from ..core.scorer import input_device, logits_to_keep_argument
from ..core.settings import MeasurementSettings
from ..core.windows import sliding_windows

Categorical = constriction.stream.model.Categorical
Uniform = constriction.stream.model.Uniform


def distribution(logits: torch.Tensor):
    """(probabilities in float64, -log2 of each as a function) from one position's logits."""
    z = logits.detach().to(torch.float64).cpu().numpy()
    z = z - z.max()
    e = np.exp(z)
    total = e.sum()
    return e / total, lambda token: (math.log(total) - z[token]) / LN2


class _Model:
    """A context pass, then one token at a time with the key/value cache, over a batch of
    segments in lockstep (rows of equal length: no padding)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.device = input_device(model)
        name = logits_to_keep_argument(model)
        self.keep = {name: 1} if name else {}  # the context pass needs its last logits only
        self.past = None

    def start(self, contexts: List[List[int]]) -> torch.Tensor:
        ids = torch.tensor(contexts, dtype=torch.long, device=self.device)
        out = self.model(input_ids=ids, use_cache=True, **self.keep)
        self.past = out.past_key_values
        return out.logits[:, -1]

    def step(self, token_ids: List[int]) -> torch.Tensor:
        ids = torch.tensor(token_ids, dtype=torch.long, device=self.device)[:, None]
        out = self.model(input_ids=ids, past_key_values=self.past, use_cache=True)
        self.past = out.past_key_values
        return out.logits[:, -1]


def segment_groups(num_tokens: int, segments: int) -> List[Tuple[List[int], int]]:
    """``[(first position of each segment, length)]``: the stream cut into ``segments`` pieces
    of ``ceil(num_tokens / segments)`` tokens, coded together as one batch, then the shorter
    last piece (if any) on its own."""
    if num_tokens == 0:
        return []
    length = -(-num_tokens // segments)
    full = num_tokens // length
    groups = [(list(range(0, full * length, length)), length)]
    if num_tokens % length:
        groups.append(([full * length], num_tokens % length))
    return groups


@torch.inference_mode()
def code_tokens(
    model: torch.nn.Module,
    num_tokens: int,
    settings: MeasurementSettings,
    code: Callable[[int, Optional[tuple]], int],
    segments: int = 1,
    progress: bool = False,
) -> List[int]:
    """Call ``code(position, dist)`` for every position; it returns the token there.

    ``dist`` is None for the first position of a segment (uniform over the vocabulary), else
    what ``distribution`` gives. Each segment is coded as its own stream with the
    measurement's windows; with one segment (the default) that is the whole stream, in
    order, with the windows and positions the evaluator scores (the evaluator's loss of a
    token agrees to rounding: it runs each window in one pass, not with the cache). Returns
    the token ids.
    """
    token_ids = [0] * num_tokens
    runner = _Model(model)
    with tqdm(total=num_tokens, unit='tok', disable=not progress, leave=False) as bar:
        for firsts, length in segment_groups(num_tokens, segments):
            for first in firsts:
                token_ids[first] = code(first, None)
            bar.update(len(firsts))
            for start, end, score_from in sliding_windows(length, settings):
                logits = runner.start([token_ids[f + start : f + score_from] for f in firsts])
                for offset in range(score_from, end):
                    for row, first in enumerate(firsts):
                        token_ids[first + offset] = code(first + offset, distribution(logits[row]))
                    bar.update(len(firsts))
                    if offset + 1 < end:
                        logits = runner.step([token_ids[f + offset] for f in firsts])
                runner.past = None
    return token_ids


def vocabulary_size(model: torch.nn.Module) -> int:
    return model.get_input_embeddings().num_embeddings


def encode_tokens(
    model, token_ids: List[int], settings: MeasurementSettings, segments: int = 1, progress: bool = False
):
    """(payload bytes, -log2 p of each token in bits) for ``token_ids``."""
    encoder = constriction.stream.queue.RangeEncoder()
    vocab = vocabulary_size(model)
    bits = np.zeros(len(token_ids), dtype=np.float64)

    def code(position, dist):
        token = token_ids[position]
        if dist is None:
            encoder.encode(token, Uniform(vocab))
            bits[position] = math.log2(vocab)
        else:
            probabilities, neg_log2 = dist
            encoder.encode(token, Categorical(probabilities, perfect=False))
            bits[position] = neg_log2(token)
        return token

    code_tokens(model, len(token_ids), settings, code, segments, progress)
    return encoder.get_compressed().astype('<u4').tobytes(), bits


def decode_tokens(
    model,
    payload: bytes,
    num_tokens: int,
    settings: MeasurementSettings,
    segments: int = 1,
    progress: bool = False,
) -> List[int]:
    """The ``num_tokens`` tokens that ``encode_tokens`` coded into ``payload``."""
    words = np.frombuffer(payload, dtype='<u4').astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    vocab = vocabulary_size(model)

    def code(position, dist):
        if dist is None:
            return int(decoder.decode(Uniform(vocab)))
        return int(decoder.decode(Categorical(dist[0], perfect=False)))

    return code_tokens(model, num_tokens, settings, code, segments, progress)
