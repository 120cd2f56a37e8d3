"""A Hugging Face causal LM and its tokenizer, loaded one way for every command line.

The model is loaded in ``dtype`` onto ``device`` in evaluation mode, then checked
(``model_checks.check_transformers_version``: a folder written by a newer transformers major
loads without an error and measures wrong). transformers picks PyTorch's fused attention
(SDPA) where the model supports it; the windows' attention mask is all ones, so SDPA runs
causal without a mask and, on a GPU in half precision, can use its FlashAttention kernel.
``flash=True`` asks for flash-attention 2 instead, where the flash-attn package and a GPU
are there (a warning and SDPA otherwise).

``load_tokenizer`` repairs a known fault of transformers 5 (``tokenizer_repair``).
``load_vllm`` builds a vLLM engine instead (``vllm_scorer``): tensor parallel over
``tensor_parallel_size`` GPUs, prompts up to ``max_model_len``, its memory as asked.
"""

import importlib.util
import logging
from typing import Optional

from .logs import LOGGER
from .model_checks import check_transformers_version
from .tokenizer_repair import repair_tokenizer


def default_dtype(device: str) -> str:
    """bfloat16 on a GPU, float32 on a CPU."""
    return 'float32' if device == 'cpu' else 'bfloat16'


def load_model(
    name_or_folder: str,
    dtype: Optional[str] = None,
    device: str = 'cpu',
    cache_dir: Optional[str] = None,
    trust_remote_code: bool = False,
    flash: bool = False,
    logger: logging.Logger = LOGGER,
):
    """The model (a hub id or a folder) in ``dtype`` (a torch dtype's name; None:
    ``default_dtype(device)``) on ``device``, in evaluation mode, its config checked.
    ``trust_remote_code``: let the model repository's own Python code run."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs = dict(
        dtype=getattr(torch, dtype or default_dtype(device)),
        cache_dir=cache_dir,
        trust_remote_code=trust_remote_code,
    )
    if flash:
        if importlib.util.find_spec('flash_attn') is None or device == 'cpu':
            logger.warning(
                '--flash: flash-attention 2 needs the flash-attn package and a GPU '
                '(pip install -e ".[flash]" in the package\'s checkout); using PyTorch '
                'SDPA.'
            )
        else:
            kwargs['attn_implementation'] = 'flash_attention_2'
    model = AutoModelForCausalLM.from_pretrained(name_or_folder, **kwargs).to(device).eval()
    check_transformers_version(model.config, logger)
    return model


def load_tokenizer(
    name_or_folder: str,
    cache_dir: Optional[str] = None,
    trust_remote_code: bool = False,
    logger: logging.Logger = LOGGER,
):
    """The model's tokenizer (``AutoTokenizer``), a Llama-labelled byte-level one under
    transformers 5 loaded as its ``tokenizer.json`` defines it (``tokenizer_repair``)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(
        name_or_folder, cache_dir=cache_dir, trust_remote_code=trust_remote_code
    )
    return repair_tokenizer(tokenizer, cache_dir, logger)


CPU_KV_CACHE_BYTES = 2 * 2**30  # vLLM on a CPU otherwise reserves most of the machine's memory


def load_vllm(
    name_or_folder: str,
    dtype: Optional[str] = None,
    *,
    tensor_parallel_size: int = 1,
    max_model_len: Optional[int] = None,
    gpu_memory_utilization: Optional[float] = None,
    kv_cache_memory_bytes: Optional[int] = None,
    enforce_eager: bool = False,
    cache_dir: Optional[str] = None,
    trust_remote_code: bool = False,
    logger: logging.Logger = LOGGER,
):
    """A vLLM engine (``vllm.LLM``) for the model, in ``dtype`` (None: ``default_dtype``),
    over ``tensor_parallel_size`` GPUs, prompts up to ``max_model_len`` tokens (None: the
    model's context). Memory: ``gpu_memory_utilization`` (vLLM's default 0.9) or
    ``kv_cache_memory_bytes`` for its key/value cache; on a CPU the cache is
    ``CPU_KV_CACHE_BYTES`` unless given. Raises ``model_checks.EngineError`` (a ValueError)
    when vLLM is missing or too old, before any weight is loaded."""
    from .model_checks import EngineError
    from .vllm_scorer import INSTALL, check_vllm_version

    try:
        import torch
        import vllm
    except ImportError as err:
        raise EngineError(
            f'scoring with vLLM needs vLLM, which does not import here ({err}): {INSTALL}.'
        ) from err
    check_vllm_version(str(getattr(vllm, '__version__', '0')))
    on_gpu = torch.cuda.is_available()
    kwargs = dict(
        model=name_or_folder,
        dtype=dtype or default_dtype('cuda' if on_gpu else 'cpu'),
        tensor_parallel_size=tensor_parallel_size,
        max_model_len=max_model_len,
        enforce_eager=enforce_eager,
        download_dir=cache_dir,
        trust_remote_code=trust_remote_code,
    )
    if gpu_memory_utilization is not None:
        kwargs['gpu_memory_utilization'] = gpu_memory_utilization
    if kv_cache_memory_bytes is None and not on_gpu:
        kv_cache_memory_bytes = CPU_KV_CACHE_BYTES
        logger.info(
            f'vLLM on a CPU: a key/value cache of {kv_cache_memory_bytes / 2**30:g} GiB '
            '(--kv_cache_memory_bytes to change it)'
        )
    if kv_cache_memory_bytes is not None:
        kwargs['kv_cache_memory_bytes'] = kv_cache_memory_bytes
    return vllm.LLM(**kwargs)
