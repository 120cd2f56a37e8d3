# MMLU in the cloze style of "Compression Represents Intelligence Linearly" (Huang et al., 2024,
# Appendix D; Table 3: 5-shot, perplexity): the question alone, the options not shown, each
# option's text scored as the answer after the subject's first five dev questions, answered the
# same way (lm-evaluation-harness's `mmlu_continuation` prompt; openicl/mmlu_cloze.py draws it).
# The option with the lowest perplexity of the whole prompt is the prediction (OpenCompass's
# PPLInferencer, as in its own MMLU and HellaSwag configs; the paper's acc_norm divides the
# option's log-likelihood by its length in characters instead), one prompt at a time
# (docs/paper_suite.md says why).
# Data: $COMPASS_DATA_CACHE/data/mmlu/{dev,test}/<subject>_{dev,test}.csv, as for OpenCompass's
# own MMLU configs (rows question,A,B,C,D,answer, no header).
from opencompass.datasets import MMLUDataset
from opencompass.openicl.icl_evaluator import AccwithDetailsEvaluator
from opencompass.openicl.icl_inferencer import PPLInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import FixKRetriever

# The prompt's pieces, shared with mmlu_math_cloze_ppl.py's dataset. A call by `__import__`
# because mmengine turns a config's imports into lazy placeholders that cannot be iterated or
# called while it loads.
_cloze = __import__('opencompass_llmcompression.openicl.mmlu_cloze', fromlist=['cloze_item'])

mmlu_cloze_reader_cfg = dict(
    input_columns=['input', 'A', 'B', 'C', 'D'], output_column='target', train_split='dev'
)

mmlu_cloze_datasets = []
for _name in _cloze.MMLU_SUBJECTS:
    mmlu_cloze_datasets.append(
        dict(
            abbr=f'mmlu_cloze-{_name}',
            type=MMLUDataset,
            path='opencompass/mmlu',
            name=_name,
            reader_cfg=mmlu_cloze_reader_cfg,
            infer_cfg=dict(
                # a shot: its question, answered with the text of its correct option
                ice_template=dict(
                    type=PromptTemplate, template={o: _cloze.cloze_item(o) for o in _cloze.OPTIONS}
                ),
                prompt_template=dict(
                    type=PromptTemplate,
                    template={
                        o: _cloze.subject_line(_name) + '</E>' + _cloze.cloze_item(o) for o in _cloze.OPTIONS
                    },
                    ice_token='</E>',
                ),
                retriever=dict(
                    type=FixKRetriever,
                    fix_id_list=list(range(_cloze.SHOTS)),
                    ice_separator=_cloze.SHOT_SEPARATOR,
                    ice_eos_token=_cloze.SHOT_SEPARATOR,
                ),
                # alone: in a batch OpenCompass's perplexity depends on the other prompts
                inferencer=dict(type=PPLInferencer, batch_size=1),
            ),
            eval_cfg=dict(evaluator=dict(type=AccwithDetailsEvaluator)),
        )
    )

del _name, _cloze
