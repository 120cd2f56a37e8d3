"""Exact, shardable sliding-window compression (bits per character) for OpenCompass.

The package has three wings (see docs/architecture.md): ``core`` (the measurement, no
OpenCompass), ``openicl`` (the OpenCompass components over it) and ``report`` (tables from
the results). The public names below are loaded when first asked for, so that
``opencompass_llmcompression.core`` and the command lines work without OpenCompass, and
OpenCompass is imported only when one of its components is. When OpenCompass is already
loaded (inside an OpenCompass run), importing this package registers the components, so
configs can also name them by string: ``type='SlidingWindowPPLInferencer'``. Their names
differ from OpenCompass's built-ins (``LLMCompressionDataset``, ``SWCELossInferencer``,
``BPCEvaluator``) on purpose: its registry silently replaces a class registered under an
existing name.
"""

import importlib
import os
import sys

from .core.lazy_names import lazy_names

CONFIG_DIR = os.path.join(os.path.dirname(__file__), 'configs')

_PUBLIC = {
    'CompressionCorpusDataset': 'openicl.dataset',
    'SlidingWindowPPLInferencer': 'openicl.inferencer',
    'SlidingWindowInferencer': 'openicl.inferencer',  # its earlier name
    'announce_config': 'openicl.announce',
    'CompressionEvaluator': 'openicl.evaluator',
    'CompressionSummarizer': 'openicl.summarizer',
    'PooledMMLUClozeDataset': 'openicl.mmlu_cloze',
    'CorpusError': 'core.corpus_files',
    'load_corpus': 'core.corpus_files',
    'compression_metrics': 'core.metrics',
    'score_documents': 'core.scoring_loop',
}

__all__ = sorted(_PUBLIC) + ['CONFIG_DIR', '__version__']
_public = lazy_names(__name__, _PUBLIC)


def __getattr__(name: str):
    if name == '__version__':
        from .core.provenance import plugin_version

        return plugin_version()
    return _public(name)


if sys.modules.get('opencompass') is not None:
    importlib.import_module('.openicl', __name__)
