"""Checks on a model that catch a wrong or impossible measurement before it is made.

``context_length`` and ``check_window_fits``: the model's context, one lookup and one check
for every engine (``is_vllm_engine`` tells a vLLM engine apart; ``EngineError``, what cannot
score, is raised by ``vllm_scorer`` too). ``check_token_ids``: token ids the model has no embedding for.
``check_transformers_version``: a model folder saved by a newer transformers major than the
one loading it. transformers 5 keeps RoPE's base under ``rope_parameters`` in config.json;
transformers 4 reads ``rope_theta`` instead, finds none, and silently runs the model with its
class default (10000 for Llama, where SmolLM2 needs 100000): no error, every logit a little
off, a BPC about 3% wrong. The check names the fields it can tell are ignored and the fix.
"""

import logging
import re
from typing import Optional

import numpy as np

from .logs import LOGGER

CONTEXT_FIELDS = ('max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length')


class WindowTooLong(ValueError):
    """A window that needs more positions (``needed``) than the model takes (``context``)."""

    def __init__(self, message: str, needed: int, context: int):
        super().__init__(message)
        self.needed, self.context = needed, context


class ForeignTokenizer(ValueError):
    """Token ids outside the model's embeddings: the tokenizer is another model's."""


class EngineError(ValueError):
    """A vLLM engine that cannot score windows, with what to do about it
    (``vllm_scorer``)."""


class MaxModelLenTooShort(EngineError, WindowTooLong):
    """An engine whose ``max_model_len`` is shorter than a window and the generated token."""


def is_vllm_engine(model) -> bool:
    """Whether ``model`` is a vLLM engine (``vllm.LLM``), told without importing vLLM."""
    return (
        type(model).__module__.split('.')[0] == 'vllm'
        and hasattr(model, 'generate')
        and hasattr(model, 'llm_engine')
    )


def context_length(model) -> Optional[int]:
    """The most positions ``model`` takes in one pass, or None when it does not say.

    A vLLM engine: its ``max_model_len``. A Hugging Face model (or a config, or anything with
    a ``config``): the first positive integer among ``CONTEXT_FIELDS`` of its config.
    """
    if is_vllm_engine(model):
        return int(model.llm_engine.vllm_config.model_config.max_model_len)
    config = getattr(model, 'config', model)
    for name in CONTEXT_FIELDS:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def check_window_fits(model, block_size: int, max_seq_len: Optional[int] = None) -> None:
    """Raise WindowTooLong unless a window of ``block_size + 1`` tokens fits ``model``.

    A Hugging Face model takes the window's first ``block_size`` tokens as input (the last is
    only a target): they must fit its ``context_length`` and ``max_seq_len`` (each when
    known). A vLLM engine takes all ``block_size + 1`` as its prompt and generates one token
    after them: ``max_model_len`` must be at least ``block_size + 2``; that error is also a
    ``EngineError``.
    """
    context = context_length(model)
    if is_vllm_engine(model):
        needed = block_size + 2
        if needed > context:
            raise MaxModelLenTooShort(
                f'the vLLM engine\'s max_model_len={context} is too short for a window of '
                f'block_size + 1 = {block_size + 1} tokens, which vLLM takes whole as its '
                f'prompt, and the one token it generates. Build the engine with max_model_len '
                f'>= {needed} or use a smaller block_size.',
                needed,
                context,
            )
        return
    limits = [
        (n, what, fix)
        for n, what, fix in (
            (context, 'the model\'s context', 'a model with a longer context'),
            (max_seq_len, 'max_seq_len', 'a larger max_seq_len'),
        )
        if n
    ]
    if limits:
        limit, what, fix = min(limits)
        if block_size > limit:
            raise WindowTooLong(
                f'block_size={block_size} is longer than {what} of {limit} '
                f'tokens. Use a smaller block_size or {fix}.',
                block_size,
                limit,
            )


def check_token_ids(token_ids: np.ndarray, vocab_size: int) -> None:
    """Raise ForeignTokenizer when a token id is not below ``vocab_size`` (the rows of the
    model's input embeddings)."""
    if token_ids.size and int(token_ids.max()) >= vocab_size:
        raise ForeignTokenizer(
            f'the tokenizer produced token id {int(token_ids.max())}, outside the model\'s '
            f'vocabulary of {vocab_size} embeddings: the tokenizer does not belong to this '
            'model. Pass the model\'s own tokenizer.'
        )


RELEASE_OF_ROPE_PARAMETERS = 5  # the transformers major that moved rope_theta there


def _major(version) -> Optional[int]:
    match = re.match(r'\s*(\d+)\.', str(version or ''))
    return int(match.group(1)) if match else None


def _field(config, name):
    return config.get(name) if isinstance(config, dict) else getattr(config, name, None)


def _ignored_fields(config, installed_major: int) -> list:
    """What the installed transformers ignores in this config, as far as one can tell."""
    rope = _field(config, 'rope_parameters')
    if not isinstance(rope, dict) or installed_major >= RELEASE_OF_ROPE_PARAMETERS:
        return []
    notes = []
    in_file, used = rope.get('rope_theta'), _field(config, 'rope_theta')
    if in_file is not None and used != in_file:
        using = (
            f'silently uses rope_theta {used}'
            if used is not None
            else 'reads `rope_theta`, which the file lacks, so the model\'s default applies'
        )
        notes.append(f'`rope_parameters` (rope_theta {in_file} in the file): it {using}')
    rope_type = rope.get('rope_type', 'default')
    if rope_type != 'default' and not _field(config, 'rope_scaling'):
        notes.append(
            f'`rope_parameters.rope_type` ({rope_type!r}): it reads `rope_scaling`, '
            'which is empty, so no RoPE scaling is applied'
        )
    return notes


def check_transformers_version(
    config, logger: logging.Logger = LOGGER, installed: Optional[str] = None
) -> Optional[str]:
    """Warn when ``config`` (a model's config, or its config.json as a dict) was written by a
    newer transformers major than the installed one; silent when the majors agree or the file
    is older. Returns the message, or None.

    The message goes to ``logger`` as a warning; ``installed`` is the version loading the
    model (default: ``transformers.__version__``).
    """
    if installed is None:
        import transformers

        installed = transformers.__version__
    written = _field(config, 'transformers_version')
    file_major, installed_major = _major(written), _major(installed)
    if file_major is None or installed_major is None or file_major <= installed_major:
        return None
    name = _field(config, '_name_or_path') or _field(config, 'name_or_path')
    where = f'config.json of {name}' if name else 'The model\'s config.json'
    ignored = _ignored_fields(config, installed_major)
    if ignored:
        effect = (
            'It ignores ' + '; '.join(ignored) + '. The model runs, and every logit (so the BPC) is wrong.'
        )
        rope = _field(config, 'rope_parameters')
        theta = rope.get('rope_theta') if isinstance(rope, dict) else None
        resave = (
            'convert or save the model again from its source with transformers '
            f'{installed} (loading this folder and saving it again keeps the wrong value)'
            + (f', or set "rope_theta": {theta} in config.json' if theta is not None else '')
        )
    else:
        effect = f'Fields that transformers {file_major} added to config.json may be ignored silently.'
        resave = f'save the model again from its source with transformers {installed}'
    message = (
        f'{where} was written by transformers {written} (its `transformers_version`), '
        f'a newer major than the installed transformers {installed}. {effect} Fix: '
        f'pip install "transformers>={file_major}", or {resave}.'
    )
    logger.warning(message)
    return message
