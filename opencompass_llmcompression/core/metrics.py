"""From summed negative log-likelihoods to bits per character, bits per byte and perplexity.

Characters are Python characters (``len(text)``), bytes are the text's UTF-8 encoding; a lone
surrogate, which UTF-8 cannot hold, counts as the 3 bytes its own encoding would take.

Every metric is defined for every finite loss: perplexity, ``exp(nll / tokens)``, overflows a
float once the mean loss passes ``ln(PPL_OVERFLOW)``, about 709.78 nats per token (a model
whose logits blow up gives thousands). It is then ``PPL_OVERFLOW``, the largest float
(1.7976931348623157e+308): strict JSON has no Infinity, and a number keeps the metric a number
for every reader (OpenCompass's summary requires each model's result of a corpus to have the
same numeric metrics). ``nll``, ``tokens`` and ``bpc`` beside it stay exact.
"""

import math
import sys
from typing import Tuple

LN2 = math.log(2)
PPL_OVERFLOW = sys.float_info.max  # the perplexity written when exp(nll / tokens) overflows


def bits_per(nll, count):
    """Bits per unit (character, byte) of a summed NLL in nats: ``nll / (count * ln 2)``.

    Works on floats and on numpy arrays alike. Written once so that every BPC in the package
    (results, intervals, per-document rows) is this one expression, evaluated in this order,
    and so the same bits."""
    return nll / (count * LN2)


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
        raise ValueError(f'nothing was measured ({tokens} tokens scored, {chars} characters, '
                         f'{num_bytes} bytes): there is no bits per character to compute.')
    if not math.isfinite(nll):
        raise ValueError(f'the summed loss is {nll}: only a finite loss has a bits per '
                         'character.')
    return {
        'bpc': bits_per(nll, chars),
        'bpb': bits_per(nll, num_bytes),
        'ppl': perplexity(nll, tokens),
        'nll': nll,
        'tokens': tokens,
        'chars': chars,
        'bytes': num_bytes,
    }
