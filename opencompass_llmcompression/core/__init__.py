"""The measurement, with no OpenCompass: torch, numpy, transformers' tokenizers and models.

From a corpus file to per-document sums, in the order the data flows:
``corpus_files`` (read the documents) -> ``token_stream`` (tokenize once, cache on disk) ->
``windows`` (which windows exist, which positions each scores) -> ``scorer`` (the loss of the
scored positions of a batch of windows) -> ``scoring_loop`` (``score_documents``: batches,
out-of-memory back-off, checkpoints, per-document sums) -> ``metrics`` (bits per character).
"""

from .corpus_files import CorpusError, load_corpus
from .metrics import compression_metrics, text_size
from .scorer import WindowScorer
from .scoring_loop import score_documents
from .settings import PAPER, MeasurementSettings
from .token_stream import TokenStream, build_stream, load_or_build_stream
from .windows import sliding_windows

__all__ = [
    'CorpusError',
    'load_corpus',
    'compression_metrics',
    'text_size',
    'WindowScorer',
    'score_documents',
    'TokenStream',
    'build_stream',
    'load_or_build_stream',
    'MeasurementSettings',
    'PAPER',
    'sliding_windows',
]
