"""The corpus builder (``llmcompression-corpus``): fresh compression corpora from the files
fresh text comes as, cleaned the way the paper's pipelines did.

    from opencompass_llmcompression import corpus
    corpus.build('cc', 'text', ['crawl/'], 'data/llm-compression', after=date(2026, 1, 1))
    corpus.main(['--name', 'cc', '--kind', 'text', '--source', 'crawl/'])   # the command line

The names below are loaded when first asked for, so that importing one step of the builder
does not import the others' libraries.
"""

import importlib

_PUBLIC = {
    'build': 'build',
    'main': 'cli',
    'BuildError': 'documents',
    'Document': 'documents',
    'Report': 'documents',
    'KINDS': 'local_cleaning',
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{_PUBLIC[name]}', __name__), name)
    globals()[name] = value
    return value
