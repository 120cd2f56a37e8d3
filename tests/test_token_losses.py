"""Token losses kept beside the predictions: each document's token losses, added in order, give
its NLL in the predictions bit for bit, under SmolLM2's byte-level BPE (CJK characters and
emoji split over several tokens) and under a character-level tokenizer; bits are placed on
characters as hand-worked here; nothing is kept when the option is off."""

import json
import math
import os
import sysconfig

import numpy as np
import pytest
import torch
from conftest import real_documents, write_jsonl
from test_inferencer import run_shard

from opencompass_llmcompression import score_documents
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.core.token_losses import character_bits, pick_documents, token_spans
from opencompass_llmcompression.paper_cli import main

SITE = sysconfig.get_paths()['purelib']


def multilingual_documents() -> list:
    """Real text with multi-byte characters from installed packages: OpenCompass's Chinese
    prompts (CaLM's PN task) and rich's emoji table, and English prose."""
    with open(
        os.path.join(SITE, 'opencompass/datasets/calm/data_processing/prompt/PN.py'), encoding='utf-8'
    ) as f:
        chinese = f.read()
    start = next(i for i, c in enumerate(chinese) if '\u4e00' <= c <= '\u9fff')
    with open(os.path.join(SITE, 'rich/_emoji_codes.py'), encoding='utf-8') as f:
        emoji = f.read()
    return [chinese[start - 200 : start + 700], emoji[3000:3800]] + real_documents('prose', 2, 600)


def sequential_sum(values) -> float:
    total = 0.0
    for value in values:
        if value is not None:
            total += value
    return total


def char_level_tokenizer(texts):
    """A tokenizer of one token per character (code point), its vocabulary the characters of
    ``texts``, trained here: no character is ever split, unlike byte-level BPE."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(''.join(texts)))
    vocab = {'<unk>': 0, '<s>': 1, **{c: i + 2 for i, c in enumerate(chars)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r'[\s\S]'), behavior='isolated')
    backend.decoder = decoders.Fuse()
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token='<unk>', bos_token='<s>')


def tiny_llama(vocab_size: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(1)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    docs = multilingual_documents()
    folder = str(tmp_path_factory.mktemp('multilingual'))
    write_jsonl(os.path.join(folder, 'cc.jsonl'), docs)
    return folder, docs


def kept_and_predicted(model, tokenizer, corpus, out, **args):
    folder, docs = corpus
    rows = run_shard(model, tokenizer, folder, out, block_size=64, stride=16, batch_size=3, **args)
    with open(os.path.join(out, 'token_losses', 'cc.json'), encoding='utf-8') as f:
        kept = json.load(f)
    return rows, kept


def check_sums_and_characters(rows, kept, docs):
    by_index = {r['document_index']: r for r in rows}
    assert [d['document_index'] for d in kept['documents']] == list(range(len(docs)))
    for record in kept['documents']:
        row = by_index[record['document_index']]
        assert record['text'] == docs[record['document_index']]
        assert len(record['token_nll']) == len(record['spans']) == len(record['token_ids'])
        assert sum(x is not None for x in record['token_nll']) == row['tokens']
        assert sequential_sum(record['token_nll']) == row['nll']  # exact, not close
        bits = character_bits(record['text'], np.array(record['spans']), record['token_nll'])
        assert bits.sum() == pytest.approx(row['nll'] / math.log(2), rel=1e-12)
        assert (bits >= 0).all() and len(bits) == row['chars']
    assert kept['measurement'] == rows[0]['measurement'] and kept['model'] == rows[0]['model']


def test_byte_level_bpe_splits_characters_and_the_sums_hold(tiny_model, tokenizer, corpus, tmp_path):
    folder, docs = corpus
    rows, kept = kept_and_predicted(
        tiny_model, tokenizer, corpus, str(tmp_path), keep_token_losses=1, token_loss_documents=[0, 1, 2, 3]
    )
    check_sums_and_characters(rows, kept, docs)
    for d in (0, 1):  # the Chinese and the emoji text: characters split over several tokens
        spans = [tuple(s) for s in kept['documents'][d]['spans']]
        shared = [s for s in spans if s[1] - s[0] == 1 and spans.count(s) > 1]
        assert shared, 'no character split over tokens'
        split = docs[d][shared[0][0]]
        assert len(split.encode('utf-8')) > 1


def test_a_character_level_tokenizer_and_the_sums_hold(corpus, tmp_path):
    folder, docs = corpus
    tokenizer = char_level_tokenizer(docs)
    assert tokenizer.decode(tokenizer.encode(docs[1])) == docs[1]
    model = tiny_llama(len(tokenizer))
    rows, kept = kept_and_predicted(
        model, tokenizer, corpus, str(tmp_path), keep_token_losses=0, token_loss_documents=[0, 1, 2, 3]
    )
    check_sums_and_characters(rows, kept, docs)
    for record in kept['documents']:
        assert all(end - start == 1 for start, end in record['spans'])  # one token, one character


def test_the_lowest_and_highest_bpc_documents_are_the_ones_kept(tiny_model, tokenizer, corpus, tmp_path):
    rows, kept = kept_and_predicted(tiny_model, tokenizer, corpus, str(tmp_path), keep_token_losses=1)
    bpc = {r['document_index']: r['nll'] / r['chars'] for r in rows}
    want = {min(bpc, key=bpc.get), max(bpc, key=bpc.get)}
    assert {d['document_index'] for d in kept['documents']} == want


def test_off_keeps_nothing_and_changes_no_number(tiny_model, tokenizer, corpus, tmp_path):
    folder, docs = corpus
    off = run_shard(tiny_model, tokenizer, folder, str(tmp_path / 'off'), block_size=64, stride=16)
    assert not os.path.exists(tmp_path / 'off' / 'token_losses')
    on, _ = kept_and_predicted(tiny_model, tokenizer, corpus, str(tmp_path / 'on'), keep_token_losses=2)
    assert [r['nll'] for r in on] == [r['nll'] for r in off]
    settings = MeasurementSettings(64, 16)
    assert len(score_documents(tiny_model, tokenizer, docs, [0], settings, progress=False)) == 2


def test_bits_on_characters_by_hand():
    # 'a中b': token 0 covers 'a' and 中 (1 + 3 bytes), token 1 the rest of 中, token 2 'b';
    # a BOS-like token covering nothing gives its bits to the next character
    text = 'a中b'
    spans = np.array([[0, 0], [0, 2], [1, 2], [2, 3]])
    nll = [None, 4 * math.log(2), 2 * math.log(2), 1 * math.log(2)]
    assert character_bits(text, spans, nll).tolist() == pytest.approx([1.0, 5.0, 1.0])
    nll[0] = 0.5 * math.log(2)
    assert character_bits(text, spans, nll).tolist() == pytest.approx([1.5, 5.0, 1.0])


def test_spans_of_smollm2_on_a_split_emoji(tokenizer):
    text = 'a 😀b'
    ids = tokenizer.encode(text)
    spans = token_spans(tokenizer, text, ids).tolist()
    assert [tokenizer.decode([i]) for i in ids][0] == 'a'
    assert spans[0] == [0, 1] and spans[-1] == [3, 4]
    assert [s for s in spans if s[0] <= 2 < s[1]] and len(ids) >= 4  # the emoji over two tokens


def test_pick_documents_by_hand():
    # BPC = nll / (chars ln 2): 0.5/1, 3/1, 1/1, and a document with no scored token
    nll, chars = [0.5, 3.0, 1.0, 0.0], [1, 1, 1, 1]
    assert pick_documents(nll, chars, 1) == [0, 1]
    assert pick_documents(nll, chars, 0, named=[3]) == [3]
    assert pick_documents(nll, chars, 5) == [0, 1, 2]


def test_paper_command_line_keeps_them(tiny_model_dir, corpus, tmp_path):
    folder, docs = corpus
    out = str(tmp_path / 'r.json')
    args = ['--model_name', tiny_model_dir, '--task_name', os.path.join(folder, 'cc.jsonl')]
    args += ['--block_size', '64', '--stride', '16', '--output', out]
    assert main(args + ['--token_losses', '1', '--token_loss_documents', '2']) == 0
    with open(out) as f:
        result = json.load(f)
    with open(str(tmp_path / 'r.token_losses.json'), encoding='utf-8') as f:
        kept = json.load(f)
    assert 2 in [d['document_index'] for d in kept['documents']] and 2 <= len(kept['documents']) <= 3
    assert kept['measurement'] == result['measurement']
    with pytest.raises(SystemExit):
        main(args + ['--token_loss_documents', 'x'])
    assert main(args + ['--token_loss_documents', '9']) == 1


def test_the_settings_from_the_environment_and_their_errors():
    from opencompass_llmcompression.openicl.inferencer import token_loss_choice

    env = {'LLMCOMPRESSION_KEEP_TOKEN_LOSSES': '3', 'LLMCOMPRESSION_TOKEN_LOSS_DOCUMENTS': '4, 17'}
    assert token_loss_choice(None, None, env) == (3, [4, 17])
    assert token_loss_choice(1, [2], env) == (1, [2])  # the config's own values first
    assert token_loss_choice(None, None, {}) == (0, [])
    with pytest.raises(ValueError, match=r"\$LLMCOMPRESSION_KEEP_TOKEN_LOSSES='five'"):
        token_loss_choice(None, None, {'LLMCOMPRESSION_KEEP_TOKEN_LOSSES': 'five'})
    with pytest.raises(ValueError, match='LLMCOMPRESSION_TOKEN_LOSS_DOCUMENTS'):
        token_loss_choice(None, None, {'LLMCOMPRESSION_TOKEN_LOSS_DOCUMENTS': '1;2'})
    with pytest.raises(ValueError, match='keep_token_losses=True'):
        token_loss_choice(True, [], {})


def test_an_interrupted_shard_resumes_with_its_token_losses(tiny_model, tokenizer, tmp_path):
    from test_faults import interrupted, score

    contents = multilingual_documents()
    nll, _, whole = score(tiny_model, tokenizer, contents, keep_token_losses=True)
    path = str(tmp_path / 'progress.npz')
    interrupted(tiny_model, tokenizer, contents, 5, checkpoint_path=path, keep_token_losses=True)
    with np.load(path) as saved:
        assert 0 < np.isfinite(saved['token_nll']).sum() < np.isfinite(whole.values).sum()
    resumed_nll, _, resumed = score(
        tiny_model, tokenizer, contents, checkpoint_path=path, keep_token_losses=True
    )
    assert np.array_equal(resumed_nll, nll)
    assert np.array_equal(resumed.values, whole.values, equal_nan=True)
    for d in range(len(contents)):
        assert sequential_sum(x for x in resumed.losses(d).tolist() if not math.isnan(x)) == nll[d]
    # a checkpoint made without token losses is not taken up by a run that keeps them
    interrupted(tiny_model, tokenizer, contents, 5, checkpoint_path=path)
    again = score(tiny_model, tokenizer, contents, checkpoint_path=path, keep_token_losses=True)
    assert np.array_equal(again[2].values, whole.values, equal_nan=True)


def test_paper_command_line_says_when_the_spans_do_not_fit(
    tiny_model_dir, corpus, tmp_path, monkeypatch, capsys
):
    from opencompass_llmcompression.core import token_losses

    def refuse(*args):
        raise ValueError('the tokenizer encodes the document differently from its token stream')

    monkeypatch.setattr(token_losses, 'token_spans', refuse)
    folder, _ = corpus
    out = str(tmp_path / 'r.json')
    args = ['--model_name', tiny_model_dir, '--task_name', os.path.join(folder, 'cc.jsonl'), '--output', out]
    assert main(args + ['--block_size', '64', '--stride', '16', '--token_losses', '1']) == 1
    assert 'token losses not written (the tokenizer encodes' in capsys.readouterr().err
    assert os.path.exists(out) and not os.path.exists(str(tmp_path / 'r.token_losses.json'))
