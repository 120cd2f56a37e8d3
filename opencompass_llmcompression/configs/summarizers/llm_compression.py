# The compression report after OpenCompass's own summary: a leaderboard (one row per model,
# a column per corpus and the average, best first, each BPC with its bootstrap interval),
# which model compresses better (paired intervals), the paper's published rows beside the
# models it lists, what each BPC measured the paper's way predicts on the paper's lines (with
# 95% prediction intervals, beside measured scores) and, for other corpora, on lines anchored on
# the paper's models measured there, BPC per period with a memorization check where corpora of
# one kind span several periods, gzip/bzip2/xz/zstd reference rows, the
# lowest- and highest-BPC documents, and, where benchmark scores are present, the fit of score
# against BPC per area. Use with `--summarizer llm_compression`, or in a suite:
#     with read_base():
#         from opencompass_llmcompression.configs.summarizers.llm_compression import summarizer
from opencompass_llmcompression import CompressionSummarizer

# One log line when OpenCompass loads this file (see the dataset config for why `__import__`).
__import__('opencompass_llmcompression.openicl.announce', fromlist=['announce_config']).announce_config(
    'summarizer llm_compression: the compression report after the summary'
)

summarizer = dict(
    type=CompressionSummarizer,
    metrics=('bpc',),  # ('bpc', 'bpb') for a bits-per-byte leaderboard too
    baselines=True,
    documents=10,
    scores=None,  # a CSV of benchmark scores in percent: model,<benchmark or area>,...
    extra_results=[],  # other run folders whose results join the table and the fit
    resamples=1000,  # bootstrap resamples over documents for the intervals (0: none)
    seed=0,
)
