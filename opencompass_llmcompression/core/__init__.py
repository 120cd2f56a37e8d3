"""The measurement, with no OpenCompass: torch, numpy, transformers' tokenizers and models.

From a corpus file to per-document sums, in the order the data flows:
``corpus_files`` (read the documents) -> ``token_stream`` (tokenize once, cache on disk) ->
``windows`` (which windows exist, which positions each scores) -> ``scorer`` (the loss of the
scored positions of a batch of windows) -> ``scoring_loop`` (``score_documents``: batches,
out-of-memory back-off, checkpoints, per-document sums) -> ``metrics`` (bits per character).

The public names below are loaded when first asked for, so that importing one module of the
core (the corpus builder reads and writes files with ``checksums``, ``atomic_files``,
``corpus_files``) does not import torch and transformers.
"""

from .lazy_names import lazy_names

_PUBLIC = {
    'CorpusError': 'corpus_files',
    'load_corpus': 'corpus_files',
    'compression_metrics': 'metrics',
    'text_size': 'metrics',
    'WindowScorer': 'scorer',
    'score_documents': 'scoring_loop',
    'TokenStream': 'token_stream',
    'build_stream': 'token_stream',
    'load_or_build_stream': 'token_stream',
    'MeasurementSettings': 'settings',
    'PAPER': 'settings',
    'sliding_windows': 'windows',
}

__all__ = list(_PUBLIC)


__getattr__ = lazy_names(__name__, _PUBLIC)
