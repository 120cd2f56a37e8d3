"""A model dispatched by accelerate (``device_map=...``, offloaded weights) gives the same sums.

OpenCompass loads a model that needs several GPUs with ``device_map='auto'``: accelerate puts
hooks on its blocks, and the weights of offloaded blocks live on ``meta`` until the block is
called. On a CPU the same machinery runs with blocks offloaded to disk, so these tests load
the tiny Llama as a user would, with some blocks on ``'cpu'`` and the rest on ``'disk'``, and
check that the scores equal those of the same model loaded plainly, and the brute force's.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from brute_force import brute_force_nll
from conftest import make_tiny_model, real_documents

from opencompass_llmcompression.core import scoring_loop
from opencompass_llmcompression.core.batch_size import auto_batch_size
from opencompass_llmcompression.core.checkpoint import model_fingerprint
from opencompass_llmcompression.core.scorer import ForwardRoute
from opencompass_llmcompression.core.scoring_loop import score_documents
from opencompass_llmcompression.core.settings import MeasurementSettings

BLOCK, STRIDE, BATCH = 64, 16, 3  # 3 windows a batch, more than 10 batches a run
LAYERS = 4

# where each block lives; the head is always offloaded, so the head path runs it by its hook
EMBEDDINGS_ON_CPU = {
    'model.embed_tokens': 'cpu',
    'model.layers.0': 'cpu',
    'model.layers.1': 'disk',
    'model.layers.2': 'disk',
    'model.layers.3': 'disk',
    'model.norm': 'disk',
    'lm_head': 'disk',
}
# the first parameter (the embeddings) on meta: where the scorer used to send the windows
EMBEDDINGS_ON_DISK = {
    'model.embed_tokens': 'disk',
    'model.layers.0': 'cpu',
    'model.layers.1': 'disk',
    'model.layers.2': 'cpu',
    'model.layers.3': 'disk',
    'model.norm': 'cpu',
    'lm_head': 'disk',
}


@pytest.fixture(scope='module')
def model_dir(tmp_path_factory):
    return make_tiny_model(str(tmp_path_factory.mktemp('tiny-llama-4')), seed=3, layers=LAYERS)


@pytest.fixture(scope='module')
def contents():
    return real_documents('prose', 8)


def load(folder, **kwargs):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs).eval()


@pytest.fixture(scope='module')
def plain(model_dir, tokenizer, contents):
    """The model loaded plainly: its scores, and the brute force's (full logits, float64)."""
    model = load(model_dir)
    nll, tokens = score_documents(
        model,
        tokenizer,
        contents,
        range(len(contents)),
        MeasurementSettings(BLOCK, STRIDE),
        batch_size=BATCH,
        progress=False,
    )
    return model, (nll, tokens), brute_force_nll(model, tokenizer, contents, BLOCK, STRIDE)


def dispatched(folder, device_map, offload_dir):
    model = load(
        folder, device_map=dict(device_map, **{'model.rotary_emb': 'cpu'}), offload_folder=str(offload_dir)
    )
    for name, device in device_map.items():  # offloaded for real: weights on meta, a hook
        module = model.get_submodule(name)
        assert hasattr(module, '_hf_hook')
        assert {p.device.type for p in module.parameters()} == {'meta' if device == 'disk' else 'cpu'}
    return model


def scored_with_spies(model, tokenizer, contents, monkeypatch):
    """score_documents, keeping its scorer and counting batches and the calls of model and head."""
    scorers, calls = [], {'batch': 0, 'model': 0, 'head': 0}

    class Kept(scoring_loop.WindowScorer):
        def __init__(self, model):
            super().__init__(model)
            scorers.append(self)

        def __call__(self, window_ids, num_scored):
            calls['batch'] += 1
            return super().__call__(window_ids, num_scored)

    monkeypatch.setattr(scoring_loop, 'WindowScorer', Kept)
    hooks = [
        model.register_forward_pre_hook(lambda *_: calls.__setitem__('model', calls['model'] + 1)),
        model.lm_head.register_forward_pre_hook(lambda *_: calls.__setitem__('head', calls['head'] + 1)),
    ]
    try:
        nll, tokens = score_documents(
            model,
            tokenizer,
            contents,
            range(len(contents)),
            MeasurementSettings(BLOCK, STRIDE),
            batch_size=BATCH,
            progress=False,
        )
    finally:
        for hook in hooks:
            hook.remove()
    return nll, tokens, scorers[0], calls


@pytest.mark.parametrize(
    'device_map', [EMBEDDINGS_ON_CPU, EMBEDDINGS_ON_DISK], ids=['embeddings-on-cpu', 'embeddings-on-disk']
)
def test_a_dispatched_model_gives_the_plain_models_sums(
    model_dir, tokenizer, contents, plain, device_map, tmp_path, monkeypatch
):
    model = dispatched(model_dir, device_map, tmp_path / 'offload')
    nll, tokens, scorer, calls = scored_with_spies(model, tokenizer, contents, monkeypatch)
    plain_model, (plain_nll, plain_tokens), (brute_nll, brute_tokens) = plain

    assert scorer.device == torch.device('cpu')  # where the embeddings run, never meta
    np.testing.assert_array_equal(tokens, plain_tokens)
    np.testing.assert_array_equal(nll, plain_nll)  # the same operations on the same device
    np.testing.assert_array_equal(tokens, brute_tokens)
    np.testing.assert_allclose(nll, brute_nll, rtol=1e-6)
    # the decoder + head path ran with the head offloaded: the model's own forward ran once,
    # for the first batch's check; every later batch called the head through its hook
    assert scorer.route is ForwardRoute.DECODER_AND_HEAD
    assert model.lm_head.weight.device.type == 'meta'
    assert calls['batch'] > 10 and calls['model'] == 1
    assert calls['head'] >= calls['batch']
    # a checkpoint written with the model on one device resumes with it dispatched
    assert model_fingerprint(model) == model_fingerprint(plain_model)


def test_auto_batch_size_looks_where_the_embeddings_run(model_dir, tmp_path):
    model = dispatched(model_dir, EMBEDDINGS_ON_DISK, tmp_path / 'offload')
    notes = []
    auto_batch_size(model, BLOCK, 100, SimpleNamespace(info=notes.append))
    assert 'on cpu' in notes[0], notes
