"""The OpenCompass components, thin adapters over ``core``; importing this registers them.

``CompressionCorpusDataset`` (rows of a corpus) -> ``SlidingWindowPPLInferencer`` (a shard's
rows -> ``core.score_documents`` -> one prediction per row) -> ``CompressionEvaluator`` (the
shards' rows summed into BPC) -> ``CompressionSummarizer`` (OpenCompass's summary, then
``report``). ``PooledMMLUClozeDataset``: MMLU subjects as one set in the paper's cloze style.
"""

from .announce import announce_config
from .dataset import CompressionCorpusDataset
from .evaluator import CompressionEvaluator
from .inferencer import SlidingWindowInferencer, SlidingWindowPPLInferencer
from .mmlu_cloze import PooledMMLUClozeDataset
from .summarizer import CompressionSummarizer

__all__ = [
    'CompressionCorpusDataset',
    'CompressionEvaluator',
    'SlidingWindowPPLInferencer',
    'SlidingWindowInferencer',
    'CompressionSummarizer',
    'announce_config',
    'PooledMMLUClozeDataset',
]
