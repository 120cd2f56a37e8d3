# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--datasets llm_compression` finds this file before OpenCompass's built-in config of
# the same name; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression import \
        llm_compression_datasets  # noqa: F401
