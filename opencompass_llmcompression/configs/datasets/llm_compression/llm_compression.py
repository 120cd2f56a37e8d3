# The three corpora of "Compression Represents Intelligence Linearly" (Huang et al., 2024),
# measured with the paper's window (the inferencer's defaults: block_size=1900 tokens of
# context, a new window every stride=512 tokens, reference_compat=False). To measure otherwise,
# set them on the inferencer, e.g. dict(type=SlidingWindowPPLInferencer, block_size=1024);
# every prediction and result records the settings it was measured with.
# Data: {cc,python,arxiv_math}.jsonl under data/llm-compression (relative paths are resolved
# under $COMPASS_DATA_CACHE), e.g. from `hf download hkust-nlp/llm-compression
# --repo-type dataset --local-dir data/llm-compression`.
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

from opencompass_llmcompression import (
    CompressionCorpusDataset,
    CompressionEvaluator,
    SlidingWindowPPLInferencer,
)

# One log line when OpenCompass loads this file: this plugin, its version, this file's path
# (OpenCompass's built-in config has the same name). A call by `__import__` because mmengine
# turns a config's imports into lazy placeholders that cannot be called while it loads.
__import__('opencompass_llmcompression.openicl.announce', fromlist=['announce_config']).announce_config(
    'dataset config llm_compression: exact sliding-window BPC of cc, python, arxiv_math'
)

llm_compression_reader_cfg = dict(input_columns=['content'], output_column=None)

llm_compression_infer_cfg = dict(
    # OpenCompass's task requires a template; the inferencer reads `content` verbatim and
    # never formats it, so text like "{idx}" inside a document is scored as written.
    prompt_template=dict(type=PromptTemplate, template='{content}'),
    retriever=dict(type=ZeroRetriever),
    # Windows per forward pass: the model's batch_size (--batch-size) unless
    # $LLMCOMPRESSION_BATCH_SIZE says otherwise: a whole number, or auto (from the GPU's free
    # memory), which --batch-size cannot say: LLMCOMPRESSION_BATCH_SIZE=auto opencompass ...
    inferencer=dict(
        type=SlidingWindowPPLInferencer,
        **__import__(
            'opencompass_llmcompression.openicl.env_models', fromlist=['inferencer_settings']
        ).inferencer_settings(),
    ),
)

llm_compression_eval_cfg = dict(evaluator=dict(type=CompressionEvaluator))

llm_compression_datasets = [
    dict(
        abbr=f'llm_compression-{name}',
        type=CompressionCorpusDataset,
        path='data/llm-compression',
        name=name,
        samples=None,
        reader_cfg=llm_compression_reader_cfg,
        infer_cfg=llm_compression_infer_cfg,
        eval_cfg=llm_compression_eval_cfg,
    )
    for name in ('cc', 'python', 'arxiv_math')
]
