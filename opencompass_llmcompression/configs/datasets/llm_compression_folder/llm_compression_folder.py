# Every corpus of one folder, one dataset each (abbr `llm_compression-NAME`), measured with the
# paper's window: the corpora llmcompression-corpus built, say one per month, without a
# hand-written list. The folder is $LLMCOMPRESSION_CORPORA, else data/llm-compression (the
# builder's default --out; relative folders are resolved under $COMPASS_DATA_CACHE); loading
# stops with the folder's name when it holds no corpus.
#
#   LLMCOMPRESSION_CORPORA=data/fresh LLMCOMPRESSION_HF_PATH=MY/MODEL opencompass \
#       --datasets llm_compression_folder --models llm_compression_anchors llm_compression_hf \
#       --summarizer llm_compression
#
# In a config of your own, call the helper itself (through __import__: mmengine turns a config's
# imports into placeholders that cannot be called while it loads):
#   datasets = __import__('opencompass_llmcompression.openicl.corpus_folder',
#                         fromlist=['corpus_datasets']).corpus_datasets('data/fresh')
import os

__import__('opencompass_llmcompression.openicl.announce', fromlist=['announce_config']).announce_config(
    'dataset config llm_compression_folder: every corpus of '
    + os.environ.get('LLMCOMPRESSION_CORPORA', 'data/llm-compression')
)

# $LLMCOMPRESSION_BATCH_SIZE (a whole number or auto), when set, is each corpus's windows per
# forward pass, as in the llm_compression config.
llm_compression_folder_datasets = __import__(
    'opencompass_llmcompression.openicl.corpus_folder', fromlist=['corpus_datasets']
).corpus_datasets(
    os.environ.get('LLMCOMPRESSION_CORPORA', 'data/llm-compression'),
    **__import__('opencompass_llmcompression.openicl.env_models', fromlist=['inferencer_settings']).inferencer_settings(),
)
