"""The OpenCompass components, thin adapters over ``core``; importing this registers them.

``CompressionCorpusDataset`` (rows of a corpus) -> ``SlidingWindowInferencer`` (a shard's
rows -> ``core.score_documents`` -> one prediction per row) -> ``CompressionEvaluator`` (the
shards' rows summed into BPC) -> ``CompressionSummarizer`` (OpenCompass's summary, then
``report``).
"""

from .dataset import CompressionCorpusDataset
from .evaluator import CompressionEvaluator
from .inferencer import SlidingWindowInferencer
from .summarizer import CompressionSummarizer

__all__ = ['CompressionCorpusDataset', 'CompressionEvaluator', 'SlidingWindowInferencer',
           'CompressionSummarizer']
