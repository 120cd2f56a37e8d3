# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--summarizer llm_compression` finds this file; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.summarizers.llm_compression import \
        summarizer  # noqa: F401
