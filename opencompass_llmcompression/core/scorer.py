"""NLL of the last ``num_scored`` positions of a batch of equal-length windows.

    window_ids[:, :-1] -> decoder -> hidden[:, -num_scored:] -> head, by fp32 chunks
                       -> cross-entropy against window_ids[:, -num_scored:] -> (batch, num_scored)

On that route only the scored positions get logits, and never all at once: the LM head runs
on a bounded number of positions at a time, each chunk upcast to fp32 for the log-softmax.
The decoder and the head are called as modules, so accelerate's hooks still bring offloaded
weights in. The first batch runs the model's own forward and checks that its logits are
exactly ``head(decoder output)``; later batches take the route above only if they are. A
model that scales or caps its logits keeps its own forward (with ``logits_to_keep`` where it
takes it), its logits going through the same fp32 chunks.

Every forward pass gets an attention mask of ones where the model takes one: transformers 4.x
and 5.x then see that nothing is masked and call SDPA with ``is_causal=True`` and no mask
(without it, 4.x builds a full ``(batch, 1, length, length)`` mask: 20% slower on a CPU,
docs/benchmarks.md).
"""

import enum
import inspect
from typing import Optional

import torch

FP32_CHUNK_BYTES = 128 * 2**20  # at most this much fp32 logits at once


def logits_to_keep_argument(model) -> str:
    """The name under which ``model.forward`` takes how many last positions to compute logits
    for (``logits_to_keep``, ``num_logits_to_keep`` in older transformers), or '' if none."""
    params = inspect.signature(model.forward).parameters
    for name in ('logits_to_keep', 'num_logits_to_keep'):
        if name in params:
            return name
    return ''


def takes_attention_mask(module: torch.nn.Module) -> bool:
    """Whether ``module.forward`` takes ``attention_mask`` (every Hugging Face model does)."""
    return 'attention_mask' in inspect.signature(module.forward).parameters


def _module(model, getter: str) -> Optional[torch.nn.Module]:
    try:
        module = getattr(model, getter)()
    except (AttributeError, NotImplementedError, TypeError):
        return None
    return module if isinstance(module, torch.nn.Module) and module is not model else None


def input_device(model: torch.nn.Module) -> torch.device:
    """The device the input embeddings run on, where the token ids go.

    A model dispatched by accelerate (``device_map=...``, how OpenCompass loads a model over
    several GPUs) keeps offloaded weights on ``meta`` and runs each module on its hook's
    ``execution_device``, so a parameter's device can be ``meta`` or the wrong GPU. Accelerate
    hooks every module that holds weights; the model's own hook names its main device.
    """
    embeddings = model.get_input_embeddings()
    for module in (embeddings, model):
        hook = getattr(module, '_hf_hook', None)
        for part in getattr(hook, 'hooks', [hook]):  # accelerate's SequentialHook holds several
            device = getattr(part, 'execution_device', None)
            if device is not None:
                return torch.device(device)
    return embeddings.weight.device


def _last_hidden_state(output) -> torch.Tensor:
    hidden = getattr(output, 'last_hidden_state', None)
    return hidden if hidden is not None else output[0]


class ForwardRoute(enum.Enum):
    """How ``WindowScorer`` gets the logits of the scored positions."""

    UNCHECKED = 'unchecked'  # decoder and head found; the first batch checks them
    DECODER_AND_HEAD = 'decoder and head'  # checked: the head on the scored positions only
    MODEL_FORWARD = 'model forward'  # the model's own forward, for every batch


class WindowScorer:
    """Scores windows with a Hugging Face causal LM (any ``AutoModelForCausalLM``)."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.device = input_device(model)  # where the windows go
        self.keep_argument = logits_to_keep_argument(model)
        self.model_takes_mask = takes_attention_mask(model)
        self.decoder = _module(model, 'get_decoder')
        self.head = _module(model, 'get_output_embeddings')
        self.decoder_takes_mask = bool(self.decoder) and takes_attention_mask(self.decoder)
        if not isinstance(self.head, torch.nn.Linear):
            self.head = None
        self.route = ForwardRoute.UNCHECKED if self.decoder and self.head else ForwardRoute.MODEL_FORWARD

    @property
    def vocab_size(self) -> int:
        """Rows of the model's input embeddings: every token id must be below it."""
        return self.model.get_input_embeddings().num_embeddings

    @torch.inference_mode()
    def __call__(self, window_ids: torch.Tensor, num_scored: int) -> torch.Tensor:
        """NLL (nats, fp32) of the last ``num_scored`` tokens of each window.

        ``window_ids`` is ``(batch, length)`` token ids, ``length <= block_size + 1``;
        position t is predicted from positions < t, so ``num_scored`` can be at most
        ``length - 1``. Returns ``(batch, num_scored)``.
        """
        inputs, targets = window_ids[:, :-1], window_ids[:, -num_scored:]
        no_padding = torch.ones_like(inputs)
        if self.route is ForwardRoute.DECODER_AND_HEAD:
            mask = dict(attention_mask=no_padding) if self.decoder_takes_mask else {}
            hidden = _last_hidden_state(self.decoder(input_ids=inputs, use_cache=False, **mask))
            return self._nll(hidden[:, -num_scored:], targets, self.head)
        logits = self._model_logits(inputs, num_scored, no_padding)
        return self._nll(logits[:, -num_scored:], targets, None)

    def _model_logits(self, inputs: torch.Tensor, num_scored: int, no_padding: torch.Tensor) -> torch.Tensor:
        """The model's own forward; on the first batch, also checks the decoder + head route."""
        kwargs = {self.keep_argument: num_scored} if self.keep_argument else {}
        if self.model_takes_mask:
            kwargs['attention_mask'] = no_padding
        if self.route is not ForwardRoute.UNCHECKED:
            return self.model(input_ids=inputs, use_cache=False, **kwargs).logits
        seen = {}

        def keep(name):  # a forward hook that records and returns None (keeps the output)
            return lambda module, args, out: seen.setdefault(name, (args, out)) and None

        hooks = [
            self.decoder.register_forward_hook(keep('decoder')),
            self.head.register_forward_hook(keep('head')),
        ]
        try:
            logits = self.model(input_ids=inputs, use_cache=False, **kwargs).logits
        finally:
            for hook in hooks:
                hook.remove()
        self.route = ForwardRoute.MODEL_FORWARD
        if 'decoder' in seen and 'head' in seen and seen['head'][0]:
            head_input, head_output = seen['head'][0][0], seen['head'][1]
            hidden = _last_hidden_state(seen['decoder'][1])
            if (
                torch.equal(head_output, logits.to(head_output.device))
                and head_input.dim() == 3
                and torch.equal(head_input, hidden[:, -head_input.shape[1] :])
            ):
                self.route = ForwardRoute.DECODER_AND_HEAD
        return logits

    @staticmethod
    def _nll(states: torch.Tensor, targets: torch.Tensor, head: Optional[torch.nn.Module]) -> torch.Tensor:
        """Cross-entropy of ``head(states)`` (or of ``states``, already logits), by chunks."""
        batch, positions = targets.shape
        rows, flat_targets = states.reshape(batch * positions, -1), targets.reshape(-1)
        vocab = head.out_features if head is not None else rows.shape[-1]
        chunk = max(1, FP32_CHUNK_BYTES // (4 * vocab))
        nll = torch.empty(batch * positions, dtype=torch.float32, device=states.device)
        for first in range(0, rows.shape[0], chunk):
            part = rows[first : first + chunk]
            logits = (head(part) if head is not None else part).float()
            targets = flat_targets[first : first + chunk].to(logits.device)  # head on another GPU
            nll[first : first + chunk] = torch.nn.functional.cross_entropy(logits, targets, reduction='none')
        return nll.view(batch, positions)
