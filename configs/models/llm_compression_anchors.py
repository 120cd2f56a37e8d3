# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--models llm_compression_anchors` finds this file: the paper's models that anchor a
# corpus's own line; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.models.llm_compression_anchors import \
        models  # noqa: F401
