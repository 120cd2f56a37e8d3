# `--summarizer llm_compression` from this folder's root finds this file first; the config
# itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.summarizers.llm_compression import \
        summarizer  # noqa: F401
