"""The scoring loop: a corpus and a model -> summed NLL and token count per document.

``score_documents`` is the whole measurement in one call, and everything else runs it: the
OpenCompass inferencer for one shard, the paper's command line for a whole corpus, the
benchmark. It tokenizes the corpus once into a cached stream (``token_stream``), lays the
windows over it (``windows``), keeps the windows that score a token of a wanted document,
runs them in batches of equal shape through the scorer (``scorer``) and adds each scored
token's loss to the document that owns it. Progress can be saved and resumed
(``checkpoint``). Because every token belongs to exactly one document, the sums of any split
of the documents add up to the sums of the whole.
"""

import contextlib
import hashlib
import logging
from typing import Optional, Sequence, Union

import numpy as np
import torch
from tqdm import tqdm

from .batch_size import auto_batch_size, check_batch_size
from .checkpoint import Checkpoint, model_fingerprint
from .scorer import WindowScorer
from .token_stream import load_or_build_stream, stream_key
from .windows import END, SCORE_FROM, START, check_window_settings, sliding_windows, \
    windows_touching

LOGGER = logging.getLogger('opencompass_llmcompression')


def model_context_length(model: torch.nn.Module) -> Optional[int]:
    config = getattr(model, 'config', None)
    for name in ('max_position_embeddings', 'n_positions', 'max_sequence_length', 'seq_length'):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def check_fits_model(model: torch.nn.Module, block_size: int, tokens: np.ndarray,
                     max_seq_len: Optional[int] = None) -> None:
    """Raise ValueError when the windows or the token ids do not fit the model."""
    limits = [n for n in (model_context_length(model), max_seq_len) if n]
    if limits and block_size > min(limits):
        raise ValueError(f'block_size={block_size} is longer than the model\'s context of '
                         f'{min(limits)} tokens. Set a smaller block_size in the inferencer '
                         '(e.g. inferencer=dict(..., block_size=...)) or use a model with a '
                         'longer context.')
    vocab = model.get_input_embeddings().num_embeddings
    if tokens.size and int(tokens.max()) >= vocab:
        raise ValueError(f'the tokenizer produced token id {int(tokens.max())}, outside the '
                         f'model\'s vocabulary of {vocab} embeddings: the tokenizer does not '
                         'belong to this model. Pass the model\'s own tokenizer '
                         '(tokenizer_path / --tokenizer-path).')


def check_finite(losses: np.ndarray, batch: np.ndarray, model: torch.nn.Module) -> None:
    """Stop, naming the window and the dtype, before a NaN or infinite loss reaches a sum."""
    bad = ~np.isfinite(losses).all(axis=1)
    if bad.any():
        start, end, _ = batch[int(np.argmax(bad))]
        dtype = next(model.parameters()).dtype
        raise FloatingPointError(
            f'the loss is not finite in the window over stream tokens [{start}, {end}) with '
            f'the model in {dtype}. float16 overflows in many models: run in bfloat16 or '
            'float32 (model_kwargs=dict(torch_dtype=...)). Nothing was written for this '
            'shard; the batches before it are kept in its checkpoint.')


def window_shapes(windows: np.ndarray) -> np.ndarray:
    """(length, scored count) of each window: only windows of one shape share a batch."""
    return np.stack([windows[:, END] - windows[:, START],
                     windows[:, END] - windows[:, SCORE_FROM]], axis=1)


def batch_end(shapes: np.ndarray, first: int, size: int) -> int:
    """End of the batch that starts at window ``first``: up to ``size`` windows of its shape."""
    end = first + 1
    while (end < len(shapes) and end - first < size
           and np.array_equal(shapes[end], shapes[first])):
        end += 1
    return end


def smaller_batch(err: Exception, size: int, block_size: int) -> int:
    """The batch size to go on with after running out of memory with ``size`` windows."""
    if size == 1:
        raise torch.OutOfMemoryError(
            f'one window of {block_size} tokens does not fit in memory ({err}). Use a smaller '
            'dtype (bfloat16), more GPUs per task (--hf-num-gpus) or a smaller block_size.'
        ) from err
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return max(1, size // 2)


def to_device(tokens: np.ndarray, batch: np.ndarray, device: torch.device) -> torch.Tensor:
    """The batch's token ids on ``device``; to a GPU from pinned memory, without waiting."""
    ids = torch.from_numpy(np.stack([tokens[s:e] for s, e, _ in batch]).astype(np.int64))
    if device.type != 'cuda':
        return ids.to(device)
    return ids.pin_memory().to(device, non_blocking=True)


def score_documents(model: torch.nn.Module, tokenizer, contents: Sequence[str],
                    wanted: Sequence[int], block_size: int, stride: int,
                    reference_compat: bool = False, batch_size: Union[int, str] = 1,
                    cache_dir: Optional[str] = None, max_seq_len: Optional[int] = None,
                    progress: bool = True, checkpoint_path: Optional[str] = None,
                    checkpoint_interval: float = 30.0,
                    logger: Optional[logging.Logger] = None):
    """Summed NLL (nats, float64) and scored-token count of each wanted document.

    ``contents`` is the whole corpus in order; ``wanted`` the indices of the documents to
    report. Returns two arrays aligned with ``wanted``. With ``checkpoint_path``, progress is
    saved there every ``checkpoint_interval`` seconds (and at the end) and resumed from it.
    ``batch_size`` is windows per forward pass, or ``'auto'`` (see ``batch_size.py``). A
    batch that runs out of memory is run again with half as many windows, and so on. Each
    batch is queued on the device before the previous one's losses are brought back and
    summed, so a GPU never waits for the host; the sums, added in window order, are the
    same bits as one batch at a time.
    Warnings and progress notes go to ``logger`` (OpenCompass passes its own).
    """
    check_window_settings(block_size, stride)
    check_batch_size(batch_size)
    logger = logger or LOGGER
    key = stream_key(contents, tokenizer)
    stream = load_or_build_stream(contents, tokenizer, cache_dir, key=key, warn=logger.warning)
    check_fits_model(model, block_size, stream.tokens, max_seq_len)
    all_windows = sliding_windows(stream.tokens.size, block_size, stride, reference_compat)
    if reference_compat and len(all_windows) == 0:
        raise ValueError(f'the corpus has {stream.tokens.size} tokens, fewer than one window of '
                         f'block_size + 1 = {block_size + 1}: the paper\'s method scores nothing. '
                         'Use reference_compat=False or a smaller block_size.')
    wanted = np.asarray(wanted, dtype=np.int64)
    wanted_mask = np.zeros(stream.num_docs, dtype=bool)
    wanted_mask[wanted] = True
    windows = all_windows[windows_touching(all_windows, stream.doc_offsets, wanted_mask)]

    nll = np.zeros(stream.num_docs, dtype=np.float64)
    tokens = np.zeros(stream.num_docs, dtype=np.int64)
    checkpoint, done = None, 0
    if checkpoint_path:
        checkpoint = Checkpoint(checkpoint_path, dict(
            stream=key, model=model_fingerprint(model), block_size=block_size, stride=stride,
            reference_compat=reference_compat, batch_size=batch_size,
            rows=hashlib.sha256(wanted.tobytes()).hexdigest()), checkpoint_interval,
            warn=logger.warning)
        resumed = checkpoint.load(stream.num_docs)
        if resumed:
            done, nll, tokens = resumed
            logger.info(f'resuming from {checkpoint_path}: {done} of {len(windows)} windows '
                        'already scored')
    scorer = WindowScorer(model)
    scored = windows[:, END] - windows[:, SCORE_FROM]
    shapes = window_shapes(windows)
    size = (auto_batch_size(model, block_size, len(windows) - done, logger.info)
            if batch_size == 'auto' else batch_size)
    launched, pending = done, None  # windows queued on the device; the batch not yet summed

    def add(batch: np.ndarray, losses: torch.Tensor) -> None:
        """Adds a batch's losses to the documents that own them, in window order."""
        nonlocal done
        losses = losses.double().cpu().numpy()
        check_finite(losses, batch, model)
        positions = (batch[:, SCORE_FROM, None] + np.arange(losses.shape[1])).ravel()
        docs = np.searchsorted(stream.doc_offsets, positions, side='right') - 1
        np.add.at(nll, docs, losses.ravel())
        np.add.at(tokens, docs, 1)
        done += len(batch)
        if checkpoint:
            checkpoint.save(done, nll, tokens)
        bar.update(positions.size)

    with tqdm(total=int(scored.sum()), initial=int(scored[:done].sum()), unit='tok',
              unit_scale=True, disable=not progress, desc='scoring') as bar:
        try:
            while launched < len(windows) or pending:
                queued = None
                if launched < len(windows):
                    batch = windows[launched:batch_end(shapes, launched, size)]
                    try:
                        queued = (batch, scorer(to_device(stream.tokens, batch, scorer.device),
                                                int(scored[launched])))
                    except torch.OutOfMemoryError as err:
                        size = smaller_batch(err, len(batch), block_size)
                        logger.warning(f'out of memory with {len(batch)} windows per forward '
                                       f'pass; going on with {size}')
                        continue
                    launched += len(batch)
                if pending:  # summed while the device runs the batch just queued
                    ready, pending = pending, None
                    add(*ready)
                pending = queued
        finally:  # finished, stopped by an error or interrupted: keep what is done
            if pending:  # stopped while the next batch was queued: this one is sound
                with contextlib.suppress(Exception):  # the error on its way is the one to see
                    add(*pending)
            if checkpoint:
                checkpoint.save(done, nll, tokens, force=True)
    return nll[wanted], tokens[wanted]
