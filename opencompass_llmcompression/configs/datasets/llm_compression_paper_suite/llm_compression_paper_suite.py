# The paper's suite: the three corpora of "Compression Represents Intelligence Linearly" (Huang
# et al., 2024) and its twelve benchmarks (Table 3), at the paper's shots and methods where
# OpenCompass has them. docs/paper_suite.md lists, benchmark by benchmark, the paper's protocol,
# the config below and what differs.
#
#   opencompass --datasets llm_compression_paper_suite --summarizer llm_compression ...
#   (after `llmcompression-configs install`), or in a suite:
#   with read_base():
#       from opencompass_llmcompression.configs.datasets.llm_compression_paper_suite.\
#           llm_compression_paper_suite import llm_compression_paper_suite_datasets
#
# Only llm_compression_paper_suite_datasets ends in `_datasets`, so that `--datasets`, which
# takes every such list of the file, takes each dataset once. `datasets` is the same list.
from mmengine.config import read_base
from opencompass.datasets import GSM8KDataset, Gsm8kEvaluator, gsm8k_dataset_postprocess, gsm8k_postprocess
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

with read_base():
    from opencompass.configs.datasets.agieval.agieval_gen_5c79b4 import agieval_datasets as _agieval
    from opencompass.configs.datasets.ARC_c.ARC_c_few_shot_ppl import ARC_c_datasets as _arc_c
    from opencompass.configs.datasets.ds1000.ds1000_compl_gen_cbc84f import ds1000_datasets as _ds1000
    from opencompass.configs.datasets.hellaswag.hellaswag_ppl_47bff9 import hellaswag_datasets as _hellaswag
    from opencompass.configs.datasets.humaneval.internal_humaneval_gen_ce6b06 import (
        humaneval_datasets as _humaneval,
    )
    from opencompass.configs.datasets.math.math_4shot_base_gen_db136b import math_datasets as _math
    from opencompass.configs.datasets.mbpp.mbpp_gen_830460 import mbpp_datasets as _mbpp
    from opencompass.configs.datasets.nq.nq_open_gen_e93f8a import nq_datasets as _nq
    from opencompass.configs.datasets.triviaqa.triviaqa_wiki_gen_d18bf4 import triviaqa_datasets as _triviaqa

    from opencompass_llmcompression.configs.datasets.llm_compression.llm_compression import (
        llm_compression_datasets as _corpora,
    )
    from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_cloze_ppl import (
        mmlu_cloze_datasets as _mmlu_cloze,
    )
    from opencompass_llmcompression.configs.datasets.mmlu_cloze.mmlu_math_cloze_ppl import (
        mmlu_math_cloze_datasets as _mmlu_math_cloze,
    )

# The perplexity benchmarks score one prompt at a time: in a batch, OpenCompass's perplexity of
# a prompt depends on the other prompts of the batch (docs/paper_suite.md). A dataset's
# inferencer batch_size comes before the model's.
_hellaswag_alone = [
    dict(d, infer_cfg=dict(d['infer_cfg'], inferencer=dict(d['infer_cfg']['inferencer'], batch_size=1)))
    for d in _hellaswag
]

# ARC-Challenge, 25-shot as the paper (lm-evaluation-harness's arc_challenge): OpenCompass's
# ARC_c_few_shot_ppl has 5 shots drawn from the questions it scores, on the 299 questions of the
# dev split. Here: the test split, its first 25 questions the shots, scored on the rest, each
# shot "Question: ...\nAnswer: <its answer's text>" and a blank line, as lm-evaluation-harness.
_arc_shots = 25
_arc_c_25shot = dict(
    _arc_c[0],
    abbr=f'ARC-c-test_{_arc_shots}shot',
    path='opencompass/ai2_arc-test',
    reader_cfg=dict(_arc_c[0]['reader_cfg'], test_range=f'[{_arc_shots}:]'),
    infer_cfg=dict(
        _arc_c[0]['infer_cfg'],
        ice_template=dict(
            type=PromptTemplate, template={o: f'Question: {{question}}\nAnswer: {{text{o}}}' for o in 'ABCD'}
        ),
        prompt_template=dict(
            type=PromptTemplate,
            ice_token='</E>',
            template={o: f'</E>Question: {{question}}\nAnswer: {{text{o}}}' for o in 'ABCD'},
        ),
        retriever=dict(
            type=FixKRetriever,
            fix_id_list=list(range(_arc_shots)),
            ice_separator='\n\n',
            ice_eos_token='\n\n',
        ),
        inferencer=dict(_arc_c[0]['infer_cfg']['inferencer'], batch_size=1),
    ),
)

# GSM8K, 5-shot as the paper (lm-evaluation-harness's gsm8k): OpenCompass's GSM8K configs have
# 4 or 8 hand-written shots. Here: the first 5 questions of the train split with their whole
# answers ("... #### 72"), the answer read as OpenCompass's gsm8k_postprocess reads it.
_gsm8k_5shot = dict(
    abbr='gsm8k_5shot',
    type=GSM8KDataset,
    path='opencompass/gsm8k',
    reader_cfg=dict(input_columns=['question'], output_column='answer'),
    infer_cfg=dict(
        ice_template=dict(type=PromptTemplate, template='Question: {question}\nAnswer: {answer}'),
        prompt_template=dict(
            type=PromptTemplate, template='</E>Question: {question}\nAnswer:', ice_token='</E>'
        ),
        retriever=dict(
            type=FixKRetriever, fix_id_list=[0, 1, 2, 3, 4], ice_separator='\n\n', ice_eos_token='\n\n'
        ),
        inferencer=dict(type=GenInferencer, max_out_len=256, stopping_criteria=['Question:', '\n\n']),
    ),
    eval_cfg=dict(
        evaluator=dict(type=Gsm8kEvaluator),
        pred_postprocessor=dict(type=gsm8k_postprocess),
        dataset_postprocessor=dict(type=gsm8k_dataset_postprocess),
    ),
)

llm_compression_paper_suite_datasets = [
    *_corpora,
    # knowledge and commonsense (BPC on cc)
    *_hellaswag_alone,
    _arc_c_25shot,
    *[d for d in _nq if d['abbr'] == 'nq_open_5shot'],
    *[d for d in _triviaqa if d['abbr'] == 'triviaqa_wiki_5shot'],
    *_mmlu_cloze,
    # coding (BPC on python)
    *_humaneval,
    *_mbpp,
    *_ds1000,
    # mathematical reasoning (BPC on arxiv_math)
    _gsm8k_5shot,
    *_math,
    *[d for d in _agieval if d['abbr'] == 'agieval-sat-math'],
    *_mmlu_math_cloze,
]
datasets = llm_compression_paper_suite_datasets

del (
    _agieval,
    _arc_c,
    _ds1000,
    _hellaswag,
    _humaneval,
    _math,
    _mbpp,
    _nq,
    _triviaqa,
    _corpora,
    _mmlu_cloze,
    _mmlu_math_cloze,
    _hellaswag_alone,
    _arc_shots,
    _arc_c_25shot,
    _gsm8k_5shot,
)
