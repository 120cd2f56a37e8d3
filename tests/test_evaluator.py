"""The evaluator against sums computed by hand."""

import json
import math
import sys

import pytest

from opencompass_llmcompression import CompressionEvaluator


def pred(i, nll, tokens, chars, nbytes):
    return dict(nll=nll, tokens=tokens, chars=chars, bytes=nbytes, document_index=i)


def test_sums_over_all_documents_of_all_shards():
    preds = [pred(0, 10.0, 4, 20, 22), pred(1, 5.0, 2, 10, 10), pred(2, 1.0, 1, 2, 6)]
    out = CompressionEvaluator().score(preds)
    assert out['bpc'] == pytest.approx(16.0 / (32 * math.log(2)), rel=1e-12)
    assert out['bpb'] == pytest.approx(16.0 / (38 * math.log(2)), rel=1e-12)
    assert out['ppl'] == pytest.approx(math.exp(16.0 / 7), rel=1e-12)
    assert (out['chars'], out['bytes'], out['tokens']) == (32, 38, 7)


def test_missing_or_repeated_documents_are_an_error_not_a_number():
    preds = [pred(0, 1.0, 1, 1, 1), pred(2, 1.0, 1, 1, 1)]
    assert 'error' in CompressionEvaluator().score(preds)
    test_set = {'document_index': [0, 1, 2]}
    assert 'error' in CompressionEvaluator().score(preds + [pred(2, 1, 1, 1, 1)], test_set)


def test_foreign_predictions_name_the_inferencer():
    out = CompressionEvaluator().score(['some generated text'])
    assert 'SlidingWindowPPLInferencer' in out['error']


def test_the_result_carries_the_settings_and_refuses_shards_of_other_settings():
    paper = dict(block_size=1900, stride=512, reference_compat=False)
    model = dict(name_or_path='m', revision=None, dtype='torch.float32')
    preds = [dict(pred(i, 1.0, 1, 2, 2), measurement=paper, model=model) for i in range(3)]
    out = CompressionEvaluator().score(preds)
    assert out['measurement'] == paper and out['model'] == model
    assert out['plugin'] == 'opencompass-llmcompression'
    preds[2] = dict(preds[2], measurement=dict(paper, block_size=1024))
    error = CompressionEvaluator().score(preds)['error']
    assert (
        'document 0 with block_size=1900, stride=512, reference_compat=False, document 2 '
        'with block_size=1024, stride=512, reference_compat=False'
    ) in error
    preds[2] = pred(2, 1.0, 1, 2, 2)  # a shard written before rows recorded their settings
    assert 'document 2 with settings not recorded' in CompressionEvaluator().score(preds)['error']


def test_a_loss_too_large_for_exp_gives_the_largest_float_as_perplexity():
    # 1000 nats over 2 tokens: exp(500) is a float; 2000 nats over 2 tokens: exp(1000) is not
    out = CompressionEvaluator().score([pred(0, 600.0, 1, 10, 10), pred(1, 400.0, 1, 5, 6)])
    assert out['ppl'] == pytest.approx(math.exp(500.0), rel=1e-12)
    out = CompressionEvaluator().score([pred(0, 1200.0, 1, 10, 10), pred(1, 800.0, 1, 5, 6)])
    assert out['ppl'] == sys.float_info.max == 1.7976931348623157e308
    assert out['bpc'] == pytest.approx(2000.0 / (15 * math.log(2)), rel=1e-12)
    assert out['bpb'] == pytest.approx(2000.0 / (16 * math.log(2)), rel=1e-12)
    assert (out['nll'], out['tokens']) == (2000.0, 2)
    json.loads(json.dumps(out), parse_constant=refuse)  # strict JSON: no Infinity


def test_the_overflow_edge_by_hand():
    from opencompass_llmcompression.core.metrics import PPL_OVERFLOW, compression_metrics

    assert compression_metrics(709.0, 1, 1, 1)['ppl'] == math.exp(709.0)  # 8.2e307, a float
    assert compression_metrics(710.0, 1, 1, 1)['ppl'] == PPL_OVERFLOW  # exp(710) is not
    with pytest.raises(ValueError, match='0 tokens scored'):
        compression_metrics(0.0, 0, 1, 1)


@pytest.mark.parametrize(
    'compat,why',
    [
        (
            False,
            'the whole corpus tokenizes to one token or none, and a token is scored only when '
            'one precedes it',
        ),
        (
            True,
            'the corpus has fewer tokens than one window of block_size + 1 = 17: the paper\'s method '
            '(reference_compat) scores full windows only',
        ),
    ],
)
def test_a_corpus_that_scores_no_token_is_an_error_that_says_why(compat, why):
    settings = dict(block_size=16, stride=8, reference_compat=compat)
    preds = [dict(pred(0, 0.0, 0, 1, 1), measurement=settings)]
    out = CompressionEvaluator().score(preds)
    assert set(out) == {'error'}
    assert out['error'].startswith('no token of this corpus was scored (1 document, 1 character): ' + why)


def test_a_row_that_is_not_a_number_is_named():
    preds = [pred(0, 1.0, 1, 2, 2), pred(1, float('nan'), 1, 2, 2)]
    error = CompressionEvaluator().score(preds)['error']
    assert error.startswith('the prediction of document 1 holds nll = nan')


def refuse(constant):
    raise ValueError(f'{constant} is not JSON')
