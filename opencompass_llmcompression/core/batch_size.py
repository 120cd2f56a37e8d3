"""``batch_size='auto'``: how many windows to run per forward pass, from the device's memory.

    size = (free * USABLE_FRACTION - 2 * FP32_CHUNK_BYTES) // window_bytes,
           within [1, MAX_BATCH_SIZE] and at most the windows left

``window_bytes`` is one window's peak inside one decoder layer (the residual stream, its
normalised copy, queries, keys and values, the attention output and the MLP's gate, up and
activated projections, in the model's dtype, times ``MARGIN``); attention is taken to need
nothing quadratic in the window (PyTorch's fused causal attention). A batch that still runs
out of memory is run again in halves (``batches``). On a CPU, where a larger batch brings
little, the size is small and fixed.
"""

import logging
from typing import Optional

import torch

from .logs import LOGGER
from .scorer import FP32_CHUNK_BYTES, input_device

CPU_BATCH_SIZE = 4
MAX_BATCH_SIZE = 256
USABLE_FRACTION = 0.85  # of the free memory; the rest is the allocator's and the kernels'
MARGIN = 1.5  # on the per-window estimate


def check_batch_size(batch_size) -> None:
    """Raise ValueError unless ``batch_size`` is a positive integer or ``'auto'``."""
    if batch_size == 'auto' or (
        isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 1
    ):
        return
    raise ValueError(f'batch_size must be a positive integer or \'auto\', got {batch_size!r}.')


def free_device_memory(device: torch.device) -> Optional[int]:
    """Free bytes on a CUDA device; None where there is nothing to estimate from."""
    if device.type != 'cuda':
        return None
    free, _ = torch.cuda.mem_get_info(device)
    return free


def window_bytes(config, block_size: int, dtype: torch.dtype) -> int:
    """Peak bytes one window of ``block_size`` input positions adds inside a decoder layer."""
    hidden = config.hidden_size
    heads = config.num_attention_heads
    head_dim = getattr(config, 'head_dim', None) or hidden // heads
    kv = getattr(config, 'num_key_value_heads', None) or heads
    inter = getattr(config, 'intermediate_size', None) or 4 * hidden
    per_position = 3 * hidden + heads * head_dim * 2 + 2 * kv * head_dim + 3 * inter
    element = torch.finfo(dtype).bits // 8 if dtype.is_floating_point else 4
    return int(MARGIN * block_size * per_position * element)


def auto_batch_size(
    model: torch.nn.Module, block_size: int, num_windows: int, logger: logging.Logger = LOGGER
) -> int:
    """Windows per forward pass for ``model`` on its device, logged (info) with how it was
    found.

    The device is where the windows go (``input_device``): a parameter's device is ``meta``
    for a model with offloaded weights.
    """
    device = input_device(model)
    free = free_device_memory(device)
    if free is None:
        size = CPU_BATCH_SIZE
        how = f'the fixed size on {device.type}'
    else:
        per_window = window_bytes(model.config, block_size, next(model.parameters()).dtype)
        usable = free * USABLE_FRACTION - 2 * FP32_CHUNK_BYTES
        size = max(1, min(MAX_BATCH_SIZE, int(usable // per_window)))
        how = (
            f'{free / 2**30:.1f} GiB free, about {per_window / 2**20:.0f} MiB per window '
            f'of {block_size} tokens'
        )
    size = max(1, min(size, num_windows))
    logger.info(f'batch_size=auto: {size} windows per forward pass ({how})')
    return size
