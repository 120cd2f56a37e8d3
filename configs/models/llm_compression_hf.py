# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--models llm_compression_hf` finds this file: the model(s) of $LLMCOMPRESSION_HF_PATH,
# to measure beside the anchors; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.models.llm_compression_hf import \
        models  # noqa: F401
