# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--datasets mmlu_cloze_ppl` finds this file: MMLU in the cloze style of the
# paper; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_cloze_ppl import \
        mmlu_cloze_datasets  # noqa: F401
