"""The evaluator against sums computed by hand."""

import math

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
    assert ('document 0 with block_size=1900, stride=512, reference_compat=False, document 2 '
            'with block_size=1024, stride=512, reference_compat=False') in error
    preds[2] = pred(2, 1.0, 1, 2, 2)  # a shard written before rows recorded their settings
    assert 'document 2 with settings not recorded' in CompressionEvaluator().score(preds)['error']
