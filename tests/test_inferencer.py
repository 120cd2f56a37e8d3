"""The OpenCompass inferencer in-process, where the built-in SWCELossInferencer goes wrong,
and the errors a user meets when the settings do not fit the model or the corpus."""

import json
import logging
import os
from types import SimpleNamespace

import numpy as np
import pytest
from brute_force import brute_force_nll
from conftest import real_documents, write_jsonl
from opencompass.openicl.icl_retriever import ZeroRetriever

from opencompass_llmcompression import (
    CompressionCorpusDataset,
    CompressionEvaluator,
    SlidingWindowPPLInferencer,
    score_documents,
)
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.core.windows import NothingToScore
from opencompass_llmcompression.openicl import inferencer as inferencer_module


def run_shard(model, tokenizer, folder, out, test_range=None, **inferencer_args):
    reader = dict(input_columns=['content'], output_column=None, test_range=test_range)
    dataset = CompressionCorpusDataset(path=folder, name='cc', reader_cfg=reader)
    wrapper = SimpleNamespace(model=model, tokenizer=tokenizer)
    inferencer = SlidingWindowPPLInferencer(wrapper, output_json_filepath=out, **inferencer_args)
    inferencer.inference(ZeroRetriever(dataset), output_json_filename='cc.json')
    with open(os.path.join(out, 'cc.json')) as f:
        records = json.load(f)
    return [records[str(i)]['prediction'] for i in range(len(records))]


@pytest.fixture(scope='module')
def two_long_documents(tmp_path_factory):
    """Two documents and many windows: more windows than documents."""
    docs = [
        '{idx} and {content} are text here, not template fields.\n'
        + '\n'.join(real_documents('python', 3, 3000)),
        '\n'.join(real_documents('prose', 4)),
    ]
    folder = str(tmp_path_factory.mktemp('two-docs'))
    write_jsonl(os.path.join(folder, 'cc.jsonl'), docs)
    return folder, docs


def test_batch_size_one_and_more_windows_than_documents(tiny_model, tokenizer, tmp_path, two_long_documents):
    folder, docs = two_long_documents
    want, want_tokens = brute_force_nll(tiny_model, tokenizer, docs, 64, 16)
    assert want_tokens.sum() / 16 > 10 * len(docs)  # dozens of windows for two documents
    for batch_size in (1, 5):
        rows = run_shard(
            tiny_model,
            tokenizer,
            folder,
            str(tmp_path / str(batch_size)),
            block_size=64,
            stride=16,
            batch_size=batch_size,
        )
        assert [r['document_index'] for r in rows] == [0, 1]
        np.testing.assert_allclose([r['nll'] for r in rows], want, rtol=1e-6)
        assert [r['chars'] for r in rows] == [len(d) for d in docs]  # "{idx}" as written


def test_characters_of_every_shard_count(tiny_model, tokenizer, tmp_path, two_long_documents):
    folder, docs = two_long_documents
    shards = [
        run_shard(tiny_model, tokenizer, folder, str(tmp_path / r), test_range=r, block_size=64, stride=16)
        for r in ('[0:1]', '[1:2]')
    ]
    whole = run_shard(tiny_model, tokenizer, folder, str(tmp_path / 'all'), block_size=64, stride=16)
    split_result = CompressionEvaluator().score(shards[0] + shards[1])
    assert split_result['chars'] == sum(len(d) for d in docs)
    assert split_result['bpc'] == pytest.approx(CompressionEvaluator().score(whole)['bpc'], rel=1e-6)


def test_block_longer_than_the_context_is_named(tiny_model, tokenizer):
    with pytest.raises(
        ValueError,
        match=r'block_size=4096 is longer than the model\'s context '
        r'of 2048 tokens',
    ):
        score_documents(
            tiny_model, tokenizer, ['some text'], [0], MeasurementSettings(4096, 512), progress=False
        )


def test_the_inferencer_adds_opencompass_advice_to_cores_errors(
    tiny_model, tokenizer, tmp_path, two_long_documents
):
    folder, _ = two_long_documents
    with pytest.raises(ValueError) as caught:
        run_shard(tiny_model, tokenizer, folder, str(tmp_path), block_size=4096, stride=512)
    message = str(caught.value)
    assert message.startswith('block_size=4096 is longer than the model\'s context of 2048')
    assert 'inferencer=dict(..., block_size=...)' in message
    with pytest.raises(ValueError) as caught:  # core says the generic fix only
        score_documents(
            tiny_model, tokenizer, ['some text'], [0], MeasurementSettings(4096, 512), progress=False
        )
    assert 'OpenCompass' not in str(caught.value) and 'inferencer=' not in str(caught.value)


def test_tokenizer_of_another_model_is_named(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    small_vocab = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=100, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2
        )
    )
    with pytest.raises(ValueError, match='outside the model\'s vocabulary of 100.*tokenizer'):
        score_documents(
            small_vocab, tokenizer, ['Hello world'], [0], MeasurementSettings(16, 8), progress=False
        )


def test_bad_window_settings_stop_before_any_work(tiny_model, tokenizer):
    wrapper = SimpleNamespace(model=tiny_model, tokenizer=tokenizer)
    with pytest.raises(ValueError, match='larger than block_size'):
        SlidingWindowPPLInferencer(
            wrapper, block_size=64, stride=128, output_json_filepath='/tmp/unused-llmcompression'
        )
    with pytest.raises(ValueError, match='stride must be a positive'):
        SlidingWindowPPLInferencer(
            wrapper, block_size=64, stride=0, output_json_filepath='/tmp/unused-llmcompression'
        )


def test_the_inferencer_holds_one_settings_value(tiny_model, tokenizer):
    wrapper = SimpleNamespace(model=tiny_model, tokenizer=tokenizer)
    default = SlidingWindowPPLInferencer(wrapper, output_json_filepath='/tmp/unused')
    assert default.settings == MeasurementSettings(1900, 512, False)
    older = SlidingWindowPPLInferencer(
        wrapper,
        block_size=64,
        stride=16,
        reference_compat=True,
        cache_dir='/tmp/tokens',
        output_json_filepath='/tmp/x',
    )
    assert older.settings == MeasurementSettings(64, 16, True)
    assert older.token_cache_dir == '/tmp/tokens'  # the keyword's earlier name


def test_reference_mode_on_a_corpus_shorter_than_a_window(tiny_model, tokenizer):
    with pytest.raises(ValueError, match='fewer than one window.*reference_compat=False'):
        score_documents(
            tiny_model,
            tokenizer,
            ['short text'],
            [0],
            MeasurementSettings(64, 16, reference_compat=True),
            progress=False,
        )
    nll, tokens = score_documents(
        tiny_model, tokenizer, ['short text'], [0], MeasurementSettings(64, 16), progress=False
    )
    assert tokens[0] == len(tokenizer.encode('short text')) - 1 and nll[0] > 0


def test_one_token_corpus_scores_nothing_and_says_so(tiny_model, tokenizer, tmp_path, monkeypatch, caplog):
    assert len(tokenizer.encode('a')) == 1
    with pytest.raises(
        NothingToScore,
        match=r'^the whole corpus tokenizes to 1 token, and a '
        r'token is scored only when one precedes it',
    ):
        score_documents(tiny_model, tokenizer, ['a'], [0], MeasurementSettings(64, 16), progress=False)
    # in OpenCompass the shard is written (no token scored) and the task goes on; the
    # evaluator makes it the corpus's error
    write_jsonl(str(tmp_path / 'data' / 'cc.jsonl'), ['a'])
    monkeypatch.setattr(inferencer_module, 'get_logger', lambda: logging.getLogger('task'))
    rows = run_shard(
        tiny_model, tokenizer, str(tmp_path / 'data'), str(tmp_path / 'out'), block_size=64, stride=16
    )
    assert [(r['nll'], r['tokens'], r['chars']) for r in rows] == [(0.0, 0, 1)]
    (record,) = [r for r in caplog.records if r.name == 'task' and r.levelno == logging.ERROR]
    assert 'nothing to score in this corpus: the whole corpus tokenizes to 1 token' in record.getMessage()
    assert (
        CompressionEvaluator()
        .score(rows)['error']
        .startswith(
            'no token of this corpus was scored (1 document, 1 character): the whole corpus '
            'tokenizes to one token or none'
        )
    )
