# MMLU-Math of "Compression Represents Intelligence Linearly" (Huang et al., 2024; Table 3:
# 5-shot, perplexity): MMLU's four mathematics subjects as ONE set, one accuracy over all their
# questions, in the cloze style of mmlu_cloze_ppl.py (each question's five shots from its own
# subject's dev split; the same prompt as there, character for character).
# Data: $COMPASS_DATA_CACHE/data/mmlu/{dev,test}/<subject>_{dev,test}.csv, as for MMLU.
from opencompass.openicl.icl_evaluator import AccwithDetailsEvaluator
from opencompass.openicl.icl_inferencer import PPLInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

from opencompass_llmcompression.openicl.mmlu_cloze import PooledMMLUClozeDataset

# The prompt's pieces (see mmlu_cloze_ppl.py for why `__import__`).
_cloze = __import__('opencompass_llmcompression.openicl.mmlu_cloze', fromlist=['cloze_item'])

mmlu_math_cloze_datasets = [
    dict(
        abbr='mmlu_math_cloze',
        type=PooledMMLUClozeDataset,
        path='opencompass/mmlu',
        names=list(_cloze.MMLU_MATH_SUBJECTS),
        reader_cfg=dict(
            input_columns=['fewshot', 'input', 'A', 'B', 'C', 'D'], output_column='target', train_split='dev'
        ),
        infer_cfg=dict(
            # a row's `fewshot`: its subject's line and five shots, written by the dataset
            prompt_template=dict(
                type=PromptTemplate, template={o: '{fewshot}' + _cloze.cloze_item(o) for o in _cloze.OPTIONS}
            ),
            retriever=dict(type=ZeroRetriever),
            inferencer=dict(type=PPLInferencer, batch_size=1),
        ),  # see mmlu_cloze_ppl.py
        eval_cfg=dict(evaluator=dict(type=AccwithDetailsEvaluator)),
    )
]

del _cloze
