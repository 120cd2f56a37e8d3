"""From summed negative log-likelihoods (nats) to bits per character, bits per byte and
perplexity; and a compressed file's size in bits per character or byte.

Characters are Python characters (``len(text)``), bytes the text's UTF-8 (a lone surrogate
counts the 3 bytes of its own encoding). A perplexity past the largest float, a mean loss
above ln(``PPL_OVERFLOW``) (about 709.78 nats per token), is written as ``PPL_OVERFLOW``:
strict JSON has no Infinity, and OpenCompass's summary needs every result of a corpus to hold
the same numeric metrics.
"""

import math
import sys
from typing import Tuple

LN2 = math.log(2)
PPL_OVERFLOW = sys.float_info.max  # the perplexity written when exp(nll / tokens) overflows


def bits_per(nll, count):
    """Bits per unit (character, byte) of a summed NLL in nats: ``nll / (count * ln 2)``.

    Works on floats and on numpy arrays alike. Written once so that every BPC the package
    computes from an NLL (results, intervals, per-document rows) is this one expression,
    evaluated in this order, and so the same bits."""
    return nll / (count * LN2)


def compressed_bits_per(size, count):
    """Bits per unit (character, byte) of a compressed file of ``size`` bytes:
    ``8 * size / count``, in that order (a compressor's rate, beside a model's ``bits_per``)."""
    return 8 * size / count


def text_size(text: str) -> Tuple[int, int]:
    """(characters, UTF-8 bytes) of one document."""
    return len(text), len(text.encode('utf-8', errors='surrogatepass'))


def perplexity(nll: float, tokens: int) -> float:
    """``exp(nll / tokens)``, or ``PPL_OVERFLOW`` where that exceeds the largest float."""
    try:
        return math.exp(nll / tokens)
    except OverflowError:
        return PPL_OVERFLOW


def compression_metrics(nll: float, tokens: int, chars: int, num_bytes: int) -> dict:
    """bpc, bpb (bits per UTF-8 byte) and token perplexity from the raw sums, all finite for a
    finite ``nll``.

    Raises ValueError when no token was scored or there is no text (a BPC of 0 would then
    mean nothing; callers name the corpus and why first), or when ``nll`` is not finite."""
    if tokens <= 0 or chars <= 0 or num_bytes <= 0:
        raise ValueError(
            f'nothing was measured ({tokens} tokens scored, {chars} characters, '
            f'{num_bytes} bytes): there is no bits per character to compute.'
        )
    if not math.isfinite(nll):
        raise ValueError(f'the summed loss is {nll}: only a finite loss has a bits per character.')
    return {
        'bpc': bits_per(nll, chars),
        'bpb': bits_per(nll, num_bytes),
        'ppl': perplexity(nll, tokens),
        'nll': nll,
        'tokens': tokens,
        'chars': chars,
        'bytes': num_bytes,
    }
