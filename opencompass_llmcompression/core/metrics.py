"""From summed negative log-likelihoods to bits per character, bits per byte and perplexity.

Characters are Python characters (``len(text)``), bytes are the text's UTF-8 encoding; a lone
surrogate, which UTF-8 cannot hold, counts as the 3 bytes its own encoding would take.
"""

import math
from typing import Tuple


def text_size(text: str) -> Tuple[int, int]:
    """(characters, UTF-8 bytes) of one document."""
    return len(text), len(text.encode('utf-8', errors='surrogatepass'))


def compression_metrics(nll: float, tokens: int, chars: int, num_bytes: int) -> dict:
    """bpc, bpb (bits per UTF-8 byte) and token perplexity from the raw sums."""
    return {
        'bpc': nll / (chars * math.log(2)),
        'bpb': nll / (num_bytes * math.log(2)),
        'ppl': math.exp(nll / tokens) if tokens else float('nan'),
        'nll': nll,
        'tokens': tokens,
        'chars': chars,
        'bytes': num_bytes,
    }
