# Written by `llmcompression-configs install` (opencompass-llmcompression).
# `--datasets mmlu_math_cloze_ppl` finds this file: the paper's MMLU-Math, its
# four mathematics subjects as one set; the config itself lives in the installed package.
from mmengine.config import read_base

with read_base():
    from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_math_cloze_ppl import \
        mmlu_math_cloze_datasets  # noqa: F401
