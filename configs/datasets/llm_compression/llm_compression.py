# `opencompass --datasets llm_compression` from this folder's root finds this file first;
# the configs themselves live in the installed package, where suites import them from.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression import \
        llm_compression_datasets  # noqa: F401
