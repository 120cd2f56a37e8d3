"""A known fault of transformers 5, repaired where the tokenizer is loaded.

Deepseek-llm-7b, the deepseek-math and DeepSeek-R1-Distill-Llama families and others ship a
byte-level BPE ``tokenizer.json`` under the class name ``LlamaTokenizerFast``. transformers 5
builds its ``LlamaTokenizer`` for that name with a SentencePiece-style pre-tokenizer and
decoder of its own in place of the byte-level ones the file declares: every space is gone
before the model sees the text (transformers issues #45488 and #48206). Some 5.x releases
route such files to ``TokenizersBackend`` instead, which keeps the file's pipeline but adds
no BOS token, where transformers 4's ``LlamaTokenizerFast`` put one before every document.

``repair_tokenizer`` loads such a tokenizer as ``tokenizer.json`` defines it and adds the
BOS and EOS tokens the configuration's Llama class adds (``add_bos_token``, default true;
``add_eos_token``, default false), so the token ids are those of transformers 4, under which
the paper's numbers were made. Any other tokenizer is returned as it is.
"""

import json
import logging
from typing import Optional

from .logs import LOGGER


def _json_file(name_or_path: str, filename: str, cache_dir: Optional[str] = None) -> Optional[dict]:
    from transformers.utils import cached_file

    try:
        path = cached_file(
            name_or_path,
            filename,
            cache_dir=cache_dir,
            _raise_exceptions_for_missing_entries=False,
            _raise_exceptions_for_connection_errors=False,
        )
    except (OSError, ValueError):
        return None
    if not path:
        return None
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _is_byte_level(component: Optional[dict]) -> bool:
    if not isinstance(component, dict):
        return False
    if component.get('type') == 'ByteLevel':
        return True
    parts = component.get('pretokenizers') or component.get('decoders') or []
    return any(_is_byte_level(part) for part in parts)


def needs_repair(name_or_path: str, cache_dir: Optional[str] = None) -> Optional[dict]:
    """The tokenizer configuration when ``name_or_path`` holds a byte-level ``tokenizer.json``
    under a Llama tokenizer class and transformers 5 or later is installed; else None."""
    import transformers

    if int(transformers.__version__.split('.')[0]) < 5 or not name_or_path:
        return None
    config = _json_file(name_or_path, 'tokenizer_config.json', cache_dir)
    if not config or not str(config.get('tokenizer_class') or '').startswith('Llama'):
        return None
    declared = _json_file(name_or_path, 'tokenizer.json', cache_dir)
    if not declared or not (
        _is_byte_level(declared.get('pre_tokenizer')) or _is_byte_level(declared.get('decoder'))
    ):
        return None
    return config


def repair_tokenizer(tokenizer, cache_dir: Optional[str] = None, logger: logging.Logger = LOGGER):
    """``tokenizer``, or, when ``needs_repair`` says so for the folder or hub id it was loaded
    from (``tokenizer.name_or_path``), the same files loaded as ``tokenizer.json`` defines
    them, BOS/EOS as the Llama class adds them; one log line (info) says so."""
    name_or_path = getattr(tokenizer, 'name_or_path', '') or ''
    config = needs_repair(name_or_path, cache_dir)
    if config is None:
        return tokenizer
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    repaired = PreTrainedTokenizerFast.from_pretrained(name_or_path, cache_dir=cache_dir)
    add_bos = bool(config.get('add_bos_token', True)) and repaired.bos_token is not None
    add_eos = bool(config.get('add_eos_token', False)) and repaired.eos_token is not None

    def template(sequence: str, type_id: int) -> str:
        bos = f'{repaired.bos_token}:{type_id} ' if add_bos else ''
        eos = f' {repaired.eos_token}:{type_id}' if add_eos else ''
        return f'{bos}${sequence}:{type_id}{eos}'

    ends = [repaired.bos_token] * add_bos + [repaired.eos_token] * add_eos
    repaired.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=template('A', 0),
        pair=f'{template("A", 0)} {template("B", 1)}',
        special_tokens=[(token, repaired.convert_tokens_to_ids(token)) for token in ends],
    )
    logger.info(
        f'the tokenizer of {name_or_path} is labelled {config.get("tokenizer_class")} over a '
        'byte-level tokenizer.json, which transformers 5 loads without its spaces (or without '
        f'BOS): loaded as tokenizer.json defines it, BOS {"added" if add_bos else "not added"} '
        'as the Llama class does'
    )
    return repaired
