"""Negative log-likelihood of the scored positions of a batch of equal-length windows.

Only the last ``num_scored`` targets of each window are scored, so only their logits are
computed: transformers' ``logits_to_keep`` runs the LM head on those positions alone (a model
without it gets full logits, sliced). Log-softmax runs in fp32 over a bounded chunk of
positions at a time, so a ``(batch, positions, vocab)`` fp32 tensor never exists whole.
"""

import inspect

import torch

FP32_CHUNK_BYTES = 256 * 2**20  # at most this much fp32 logits upcast at once


def _keep_argument(model) -> str:
    params = inspect.signature(model.forward).parameters
    for name in ('logits_to_keep', 'num_logits_to_keep'):
        if name in params:
            return name
    return ''


class WindowScorer:
    """Scores windows with a Hugging Face causal LM (any ``AutoModelForCausalLM``)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.keep_argument = _keep_argument(model)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def __call__(self, windows: torch.Tensor, num_scored: int) -> torch.Tensor:
        """NLL (nats, fp32) of the last ``num_scored`` tokens of each window.

        ``windows`` is (batch, length) token ids; position t is predicted from positions < t,
        so ``num_scored`` can be at most ``length - 1``. Returns (batch, num_scored).
        """
        inputs, targets = windows[:, :-1], windows[:, -num_scored:]
        kwargs = {self.keep_argument: num_scored} if self.keep_argument else {}
        logits = self.model(input_ids=inputs, use_cache=False, **kwargs).logits
        logits = logits[:, -num_scored:]
        batch, positions, vocab = logits.shape
        chunk = max(1, FP32_CHUNK_BYTES // (4 * vocab * batch))
        nll = torch.empty(batch, positions, dtype=torch.float32, device=logits.device)
        for first in range(0, positions, chunk):
            part = logits[:, first:first + chunk].float()
            nll[:, first:first + chunk] = torch.nn.functional.cross_entropy(
                part.flatten(0, 1), targets[:, first:first + chunk].flatten(),
                reduction='none').view(batch, -1)
        return nll
