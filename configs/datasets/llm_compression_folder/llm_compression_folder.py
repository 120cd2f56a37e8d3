# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--datasets llm_compression_folder` finds this file: every corpus of
# $LLMCOMPRESSION_CORPORA (default data/llm-compression), one dataset each; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression_folder.llm_compression_folder import \
        llm_compression_folder_datasets  # noqa: F401
