# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--datasets llm_compression_paper_suite` finds this file: the three corpora and the
# twelve benchmarks of the paper; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.datasets.llm_compression_paper_suite.llm_compression_paper_suite import \
        llm_compression_paper_suite_datasets  # noqa: F401
