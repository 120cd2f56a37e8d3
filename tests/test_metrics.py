"""core.metrics against values worked out by hand."""

import math

import pytest

from opencompass_llmcompression.core.metrics import compressed_bits_per, compression_metrics, text_size


def test_a_compressed_size_in_bits_per_unit():
    assert compressed_bits_per(3, 4) == 6.0  # 3 bytes = 24 bits over 4 characters
    assert compressed_bits_per(5, 8) == 5.0


def test_text_size_counts_characters_and_utf8_bytes():
    assert text_size('aé€😀') == (4, 1 + 2 + 3 + 4)
    assert text_size('\ud800') == (1, 3)  # a lone surrogate: the 3 bytes of its own encoding


@pytest.mark.parametrize(
    'tokens,chars,num_bytes,named',
    [(0, 1, 1, '0 tokens'), (1, 0, 1, '0 characters'), (1, 1, 0, '0 bytes'), (-1, 1, 1, '-1 tokens')],
)
def test_nothing_measured_is_refused_whichever_count_is_zero(tokens, chars, num_bytes, named):
    with pytest.raises(ValueError, match=f'nothing was measured .*{named}'):
        compression_metrics(1.0, tokens, chars, num_bytes)


def test_the_smallest_counts_are_measured():
    out = compression_metrics(2 * math.log(2), 1, 1, 1)  # 2 bits over one of each
    assert (out['bpc'], out['bpb'], out['ppl']) == pytest.approx((2.0, 2.0, 4.0), rel=1e-15)


@pytest.mark.parametrize('nll', [math.inf, -math.inf, math.nan])
def test_a_loss_that_is_not_finite_is_refused_and_named(nll):
    with pytest.raises(ValueError, match=f'the summed loss is {nll}: only a finite loss'):
        compression_metrics(nll, 1, 1, 1)
