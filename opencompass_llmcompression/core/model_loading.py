"""A Hugging Face causal LM and its tokenizer, loaded one way for every command line.

The model is loaded in ``dtype`` onto ``device`` in evaluation mode, then checked
(``model_checks.check_transformers_version``: a folder written by a newer transformers major
loads without an error and measures wrong). transformers picks PyTorch's fused attention
(SDPA) where the model supports it; the windows carry no padding mask, so on a GPU it runs
the FlashAttention kernel. ``flash=True`` asks for flash-attention 2 instead, where the
flash-attn package and a GPU are there (a warning and SDPA otherwise).
"""

import importlib.util
import logging
from typing import Optional

from .logs import LOGGER
from .model_checks import check_transformers_version


def default_dtype(device: str) -> str:
    """bfloat16 on a GPU, float32 on a CPU."""
    return 'float32' if device == 'cpu' else 'bfloat16'


def load_model(name_or_folder: str, dtype: Optional[str] = None, device: str = 'cpu',
               cache_dir: Optional[str] = None, trust_remote_code: bool = False,
               flash: bool = False, logger: logging.Logger = LOGGER):
    """The model (a hub id or a folder) in ``dtype`` (a torch dtype's name; None:
    ``default_dtype(device)``) on ``device``, in evaluation mode, its config checked.
    ``trust_remote_code``: let the model repository's own Python code run."""
    import torch
    from transformers import AutoModelForCausalLM
    kwargs = dict(dtype=getattr(torch, dtype or default_dtype(device)), cache_dir=cache_dir,
                  trust_remote_code=trust_remote_code)
    if flash:
        if importlib.util.find_spec('flash_attn') is None or device == 'cpu':
            logger.warning('--flash: flash-attention 2 needs the flash-attn package and a GPU '
                           '(pip install "opencompass-llmcompression[flash]"); using PyTorch '
                           'SDPA.')
        else:
            kwargs['attn_implementation'] = 'flash_attention_2'
    model = AutoModelForCausalLM.from_pretrained(name_or_folder, **kwargs).to(device).eval()
    check_transformers_version(model.config, logger)
    return model


def load_tokenizer(name_or_folder: str, cache_dir: Optional[str] = None,
                   trust_remote_code: bool = False):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(name_or_folder, cache_dir=cache_dir,
                                         trust_remote_code=trust_remote_code)
