"""Window rows to batches, batches to losses: the device side of the scoring loop.

Consecutive windows of one shape (length, ``num_scored``) share a forward pass, up to
``size`` at a time. Each batch is queued on the device before the previous one's losses are
brought back, so a GPU need not wait for the host; the losses still come out in window order.
A batch that runs out of memory is run again with half as many windows, down to one.
"""

import logging
from typing import Iterator, Tuple

import numpy as np
import torch

from .windows import END, SCORE_FROM, START


def window_shapes(windows: np.ndarray) -> np.ndarray:
    """(length, num_scored) of each window row: only windows of one shape share a batch."""
    return np.stack([windows[:, END] - windows[:, START], windows[:, END] - windows[:, SCORE_FROM]], axis=1)


def batch_end(shapes: np.ndarray, first: int, size: int) -> int:
    """End of the batch that starts at window ``first``: up to ``size`` windows of its shape."""
    end = first + 1
    while end < len(shapes) and end - first < size and np.array_equal(shapes[end], shapes[first]):
        end += 1
    return end


def to_device(token_ids: np.ndarray, batch: np.ndarray, device: torch.device) -> torch.Tensor:
    """The batch's window ids, ``(len(batch), length)`` int64, on ``device``; to a GPU from
    pinned memory, without waiting."""
    ids = torch.from_numpy(np.stack([token_ids[s:e] for s, e, _ in batch]).astype(np.int64))
    if device.type != 'cuda':
        return ids.to(device)
    return ids.pin_memory().to(device, non_blocking=True)


def one_window_too_big(err: torch.OutOfMemoryError, block_size: int) -> torch.OutOfMemoryError:
    failure = torch.OutOfMemoryError(
        f'one window of {block_size} tokens does not fit in memory ({err}). Use a smaller '
        'dtype (bfloat16), more GPUs for the model or a smaller block_size.'
    )
    failure.__cause__ = err
    return failure


def scored_batches(
    scorer, token_ids: np.ndarray, windows: np.ndarray, size: int, block_size: int, logger: logging.Logger
) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """``(batch, losses)`` for all ``windows`` (rows ``[start, end, score_from]`` over
    ``token_ids``) in order: the batch's rows and its float64 ``(len(batch), num_scored)``
    losses on the host.

    When a batch fails on the device, the batch queued before it (sound) is still handed out
    before the error is raised, so the caller can keep it.
    """
    shapes = window_shapes(windows)
    launched, pending, failure = 0, None, None
    while launched < len(windows):
        batch = windows[launched : batch_end(shapes, launched, size)]
        try:
            queued = (batch, scorer(to_device(token_ids, batch, scorer.device), int(shapes[launched, 1])))
        except torch.OutOfMemoryError as err:
            if len(batch) == 1:
                failure = one_window_too_big(err, block_size)
                break
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            size = max(1, len(batch) // 2)
            logger.warning(f'out of memory with {len(batch)} windows per forward pass; going on with {size}')
            continue
        except BaseException as err:  # Ctrl-C included: the queued batch is still handed out
            failure = err
            break
        launched += len(batch)
        if pending is not None:  # brought back while the device runs the batch just queued
            yield pending[0], pending[1].double().cpu().numpy()
        pending = queued
    if pending is not None:
        yield pending[0], pending[1].double().cpu().numpy()
    if failure is not None:
        raise failure
