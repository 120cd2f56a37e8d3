"""From summed negative log-likelihoods to bits per character, bits per byte and perplexity.

Characters are Python characters (``len(text)``), bytes are the text's UTF-8 encoding; a lone
surrogate, which UTF-8 cannot hold, counts as the 3 bytes its own encoding would take.
"""

import math
from typing import Tuple

LN2 = math.log(2)


def bits_per(nll, count):
    """Bits per unit (character, byte) of a summed NLL in nats: ``nll / (count * ln 2)``.

    Works on floats and on numpy arrays alike. Written once so that every BPC in the package
    (results, intervals, per-document rows) is this one expression, evaluated in this order,
    and so the same bits."""
    return nll / (count * LN2)


def text_size(text: str) -> Tuple[int, int]:
    """(characters, UTF-8 bytes) of one document."""
    return len(text), len(text.encode('utf-8', errors='surrogatepass'))


def compression_metrics(nll: float, tokens: int, chars: int, num_bytes: int) -> dict:
    """bpc, bpb (bits per UTF-8 byte) and token perplexity from the raw sums."""
    return {
        'bpc': bits_per(nll, chars),
        'bpb': bits_per(nll, num_bytes),
        'ppl': math.exp(nll / tokens) if tokens else float('nan'),
        'nll': nll,
        'tokens': tokens,
        'chars': chars,
        'bytes': num_bytes,
    }
