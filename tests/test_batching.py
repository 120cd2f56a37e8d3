"""Batches: 'auto' from (simulated) free memory, batches queued ahead of their sums with the
same bits as one batch at a time, and a clear error for a model with no torch module."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from brute_force import brute_force_nll
from conftest import real_documents

from opencompass_llmcompression.core import WindowScorer, score_documents
from opencompass_llmcompression.core import batch_size as batch_module
from opencompass_llmcompression.core.settings import MeasurementSettings
from opencompass_llmcompression.core.token_stream import build_stream
from opencompass_llmcompression.core.windows import END, SCORE_FROM, START, sliding_windows

BLOCK, STRIDE = 64, 16
SETTINGS = MeasurementSettings(BLOCK, STRIDE)


@pytest.fixture(scope='module')
def contents():
    return real_documents('python', 3, max_chars=800) + real_documents('prose', 3, 500)


def score(model, tokenizer, contents, batch_size, **kw):
    return score_documents(
        model,
        tokenizer,
        contents,
        range(len(contents)),
        SETTINGS,
        batch_size=batch_size,
        progress=False,
        **kw,
    )


def one_batch_at_a_time(model, tokenizer, contents, size):
    """Per-document sums the plain way: a batch, its losses to the host, summed, the next."""
    stream = build_stream(contents, tokenizer)
    windows = sliding_windows(stream.num_tokens, SETTINGS)
    scorer, nll = WindowScorer(model), np.zeros(len(contents))

    def shape(w):
        return w[END] - w[START], w[END] - w[SCORE_FROM]

    first = 0
    while first < len(windows):
        batch = [windows[first]]
        while (
            len(batch) < size
            and first + len(batch) < len(windows)
            and shape(windows[first + len(batch)]) == shape(windows[first])
        ):
            batch.append(windows[first + len(batch)])
        ids = torch.tensor(np.stack([stream.token_ids[s:e] for s, e, _ in batch]), dtype=torch.long)
        losses = scorer(ids, int(shape(batch[0])[1])).double().numpy()
        for (_, end, start), row in zip(batch, losses):
            owners = np.searchsorted(stream.doc_offsets, np.arange(start, end), 'right') - 1
            np.add.at(nll, owners, row)
        first += len(batch)
    return nll


@pytest.mark.parametrize('size', [1, 3])
def test_queued_batches_give_the_same_bits(tiny_model, tokenizer, contents, size):
    nll, tokens = score(tiny_model, tokenizer, contents, size)
    assert np.array_equal(nll, one_batch_at_a_time(tiny_model, tokenizer, contents, size))
    # and both are the right bits: the brute-force scorer's, which shares no code with them
    want_nll, want_tokens = brute_force_nll(tiny_model, tokenizer, contents, BLOCK, STRIDE)
    assert tokens.tolist() == want_tokens.tolist()
    np.testing.assert_allclose(nll, want_nll, rtol=1e-6)


def test_auto_on_a_cpu_is_the_small_fixed_size(tiny_model, tokenizer, contents):
    seen = []
    logger = SimpleNamespace(info=seen.append, warning=seen.append)
    auto, _ = score(tiny_model, tokenizer, contents, 'auto', logger=logger)
    fixed, _ = score(tiny_model, tokenizer, contents, batch_module.CPU_BATCH_SIZE)
    assert np.array_equal(auto, fixed)
    assert seen == [
        f'batch_size=auto: {batch_module.CPU_BATCH_SIZE} windows per forward pass (the fixed size on cpu)'
    ]


def test_auto_from_free_memory_then_backs_off(tiny_model, tokenizer, contents, monkeypatch):
    """Free memory for 5 windows by the estimate, but (simulated) room for 2: the first batch
    runs out of memory, the loop halves to 2 and the sums are those of batch size 2."""
    per_window = batch_module.window_bytes(tiny_model.config, BLOCK, torch.float32)
    assert per_window == int(1.5 * BLOCK * (3 * 64 + 2 * 64 + 2 * 2 * 16 + 3 * 128) * 4)
    free = int((5.5 * per_window + 2 * batch_module.FP32_CHUNK_BYTES) / batch_module.USABLE_FRACTION)
    monkeypatch.setattr(batch_module, 'free_device_memory', lambda device: free)
    original = WindowScorer.__call__

    def two_at_most(self, windows, num_scored):
        if windows.shape[0] > 2:
            raise torch.OutOfMemoryError('CUDA out of memory (simulated)')
        return original(self, windows, num_scored)

    monkeypatch.setattr(WindowScorer, '__call__', two_at_most)
    seen = []
    logger = SimpleNamespace(info=seen.append, warning=seen.append)
    nll, _ = score(tiny_model, tokenizer, contents, 'auto', logger=logger)
    assert seen[0].startswith('batch_size=auto: 5 windows per forward pass (')
    assert seen[1] == 'out of memory with 5 windows per forward pass; going on with 2'
    monkeypatch.setattr(WindowScorer, '__call__', original)
    assert np.array_equal(nll, score(tiny_model, tokenizer, contents, 2)[0])


@pytest.mark.parametrize('bad', [0, -2, 'big', 2.5, True])
def test_a_bad_batch_size_is_named(tiny_model, tokenizer, contents, bad):
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer or 'auto'"):
        score(tiny_model, tokenizer, contents, bad)


def test_a_model_wrapper_without_a_torch_module_nor_vllm_is_refused():
    from opencompass_llmcompression import SlidingWindowPPLInferencer

    class TurboMindModel:  # as OpenCompass's LMDeploy wrapper: an engine of its own
        model = object()
        tokenizer = object()

    inferencer = SlidingWindowPPLInferencer(TurboMindModel(), block_size=BLOCK, stride=STRIDE)
    with pytest.raises(
        TypeError,
        match=r'wrapper TurboMindModel holds neither .* Use a '
        r'Hugging Face model config .* or a vLLM one',
    ):
        inferencer.inference(retriever=None)


def test_the_engine_of_a_vllm_wrapper_is_taken():
    """OpenCompass's VLLM wrapper keeps its ``vllm.LLM`` as ``model``: told by its class's
    module, without importing vLLM (tests/test_vllm.py scores with a real one)."""
    from types import SimpleNamespace

    from opencompass_llmcompression.openicl.inferencer import scoring_model

    LLM = type('LLM', (), {'__module__': 'vllm.entrypoints.llm', 'generate': None, 'llm_engine': None})
    wrapper = SimpleNamespace(model=LLM(), tokenizer=object())
    assert scoring_model(wrapper) is wrapper.model


def test_the_paper_command_line_takes_auto(capsys):
    from opencompass_llmcompression.paper_cli import parse_args

    assert parse_args(['--model_name', 'm', '--task_name', 'cc', '--batch_size', 'auto']).batch_size == 'auto'
    with pytest.raises(SystemExit):
        parse_args(['--model_name', 'm', '--task_name', 'cc', '--batch_size', '0'])
    assert 'neither a positive integer nor "auto"' in capsys.readouterr().err
