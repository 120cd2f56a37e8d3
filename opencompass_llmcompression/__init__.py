"""Exact, shardable sliding-window compression (bits per character) for OpenCompass.

Importing the package registers its components with OpenCompass's registries; configs refer
to them as ``type=SlidingWindowInferencer`` etc. The names differ from OpenCompass's built-ins
(``LLMCompressionDataset``, ``SWCELossInferencer``, ``BPCEvaluator``) on purpose: its registry
silently replaces a class registered under an existing name.
"""

import os

from .dataset import CompressionCorpusDataset, CorpusError, load_corpus
from .evaluator import CompressionEvaluator, compression_metrics
from .inferencer import SlidingWindowInferencer, score_documents
from .summarizer import CompressionSummarizer

CONFIG_DIR = os.path.join(os.path.dirname(__file__), 'configs')

__all__ = ['CompressionCorpusDataset', 'CompressionEvaluator', 'SlidingWindowInferencer',
           'CompressionSummarizer',
           'CorpusError', 'compression_metrics', 'load_corpus', 'score_documents', 'CONFIG_DIR']
