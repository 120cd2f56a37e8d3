"""The fast path against the brute-force scorer, in both modes, any batch size, any split."""

import numpy as np
import pytest
import torch
from brute_force import brute_force_nll
from conftest import real_documents

from opencompass_llmcompression.core import WindowScorer, score_documents
from opencompass_llmcompression.core.scorer import ForwardRoute
from opencompass_llmcompression.core.settings import MeasurementSettings

BLOCK, STRIDE = 96, 32


@pytest.fixture(scope='module')
def contents():
    docs = real_documents('python', 6, max_chars=700) + real_documents('prose', 6, max_chars=500)
    docs[2] = 'x = "{idx}"  # {content} stays as written\n' + docs[2]
    return docs


@pytest.fixture(scope='module')
def expected(tiny_model, tokenizer, contents):
    return {
        ref: brute_force_nll(tiny_model, tokenizer, contents, BLOCK, STRIDE, ref) for ref in (False, True)
    }


def run(model, tokenizer, contents, wanted=None, ref=False, batch_size=3, **kw):
    wanted = range(len(contents)) if wanted is None else wanted
    return score_documents(
        model,
        tokenizer,
        contents,
        list(wanted),
        MeasurementSettings(BLOCK, STRIDE, ref),
        batch_size=batch_size,
        progress=False,
        **kw,
    )


@pytest.mark.parametrize('ref', [False, True])
def test_matches_brute_force_per_document(tiny_model, tokenizer, contents, expected, ref):
    nll, tokens = run(tiny_model, tokenizer, contents, ref=ref)
    want_nll, want_tokens = expected[ref]
    assert tokens.tolist() == want_tokens.tolist()
    np.testing.assert_allclose(nll, want_nll, rtol=1e-6)
    np.testing.assert_allclose(nll.sum(), want_nll.sum(), rtol=1e-6)


def test_default_scores_every_token_after_the_first(tiny_model, tokenizer, contents, expected):
    """The scored tokens counted by hand: all but the stream's first; in the paper's mode the
    tail after the last whole window (``(n - BLOCK - 1) % STRIDE`` tokens) is left out too."""
    n = sum(len(tokenizer.encode(t)) for t in contents)
    dropped = (n - BLOCK - 1) % STRIDE
    assert dropped > 0  # the corpus ends inside a stride, so the two modes differ
    for ref, scored in ((False, n - 1), (True, n - 1 - dropped)):
        assert run(tiny_model, tokenizer, contents, ref=ref)[1].sum() == scored
        assert expected[ref][1].sum() == scored


@pytest.mark.parametrize('batch_size', [1, 2, 7])
def test_batch_size_does_not_change_the_sums(tiny_model, tokenizer, contents, expected, batch_size):
    nll, tokens = run(tiny_model, tokenizer, contents, batch_size=batch_size)
    assert tokens.tolist() == expected[False][1].tolist()
    np.testing.assert_allclose(nll.sum(), expected[False][0].sum(), rtol=1e-6)


@pytest.mark.parametrize('splits', [[0, 5, 12], [0, 1, 2, 3, 12], [0, 7, 11, 12]])
def test_any_split_adds_up_to_the_whole(tiny_model, tokenizer, contents, expected, splits):
    nll = np.concatenate(
        [run(tiny_model, tokenizer, contents, range(a, b))[0] for a, b in zip(splits, splits[1:])]
    )
    np.testing.assert_allclose(nll, expected[False][0], rtol=1e-6)


def test_a_scattered_subset_is_scored_alone(tiny_model, tokenizer, contents, expected):
    nll, tokens = run(tiny_model, tokenizer, contents, [9, 2, 4])
    np.testing.assert_allclose(nll, expected[False][0][[9, 2, 4]], rtol=1e-6)


class NoKeepArgument(torch.nn.Module):
    """A causal LM whose forward has no logits_to_keep: the scorer must slice full logits."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.config = inner, inner.config

    def forward(self, input_ids, use_cache=False):
        return self.inner(input_ids=input_ids, use_cache=use_cache)

    def get_input_embeddings(self):
        return self.inner.get_input_embeddings()


def test_models_without_logits_to_keep(tiny_model, tokenizer, contents, expected):
    wrapped = NoKeepArgument(tiny_model)
    assert WindowScorer(wrapped).keep_argument == ''
    assert WindowScorer(tiny_model).keep_argument == 'logits_to_keep'
    nll, _ = run(wrapped, tokenizer, contents)
    np.testing.assert_allclose(nll, expected[False][0], rtol=1e-6)


def test_fp32_chunking_is_exact(tiny_model, tokenizer, contents, expected, monkeypatch):
    import opencompass_llmcompression.core.scorer as scoring

    monkeypatch.setattr(scoring, 'FP32_CHUNK_BYTES', 1)  # one position at a time
    nll, _ = run(tiny_model, tokenizer, contents)
    np.testing.assert_allclose(nll, expected[False][0], rtol=1e-6)


class ScaledLogits(NoKeepArgument):
    """A model that rescales its logits after the head (as logit-scaling models do): the
    decoder + head path would be wrong for it, so the first batch's check must refuse it."""

    def forward(self, input_ids, use_cache=False, logits_to_keep=0):
        out = self.inner(input_ids=input_ids, use_cache=use_cache, logits_to_keep=logits_to_keep)
        out.logits = out.logits * 0.5
        return out

    def get_decoder(self):
        return self.inner.get_decoder()

    def get_output_embeddings(self):
        return self.inner.get_output_embeddings()


def test_the_head_path_is_taken_only_when_it_gives_the_models_logits(tiny_model, tokenizer, contents):
    windows = torch.tensor([tokenizer.encode(contents[0])[: BLOCK + 1]] * 2)
    plain = WindowScorer(tiny_model)
    first = plain(windows, STRIDE)
    assert plain.route is ForwardRoute.DECODER_AND_HEAD
    assert torch.equal(plain(windows, STRIDE), first)

    scaled = ScaledLogits(tiny_model)
    scorer = WindowScorer(scaled)
    scorer(windows, STRIDE)
    assert scorer.route is ForwardRoute.MODEL_FORWARD
    want, _ = brute_force_nll(scaled, tokenizer, contents, BLOCK, STRIDE)
    nll, _ = run(scaled, tokenizer, contents)
    np.testing.assert_allclose(nll, want, rtol=1e-6)


def test_attention_runs_causal_without_a_mask(tiny_model, tokenizer, contents, monkeypatch):
    """Under transformers 4.x and 5.x alike, the scorer's forward reaches SDPA with
    ``is_causal=True`` and no materialised mask (4.x builds a full boolean mask when a forward
    has neither a mask nor a cache: SDPA's slower path)."""
    calls = []
    sdpa = torch.nn.functional.scaled_dot_product_attention

    def recording(*args, **kwargs):
        calls.append((kwargs.get('attn_mask') is None, kwargs.get('is_causal')))
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, 'scaled_dot_product_attention', recording)
    windows = torch.tensor([tokenizer.encode(contents[0])[: BLOCK + 1]] * 2)
    scorer = WindowScorer(tiny_model)
    for path in ('first batch: the model\'s forward', 'then: decoder and head'):
        calls.clear()
        scorer(windows, STRIDE)
        assert calls and set(calls) == {(True, True)}, path
