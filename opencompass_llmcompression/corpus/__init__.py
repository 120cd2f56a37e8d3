"""The corpus builder (``llmcompression-corpus``): fresh compression corpora from the files
fresh text comes as, cleaned the way the paper's pipelines did.

    from opencompass_llmcompression.corpus.build import build
    build('cc', 'text', ['crawl/'], 'data/llm-compression', after=date(2026, 1, 1))
    from opencompass_llmcompression.corpus import main
    main(['--name', 'cc', '--kind', 'text', '--source', 'crawl/'])   # the command line

The names below are loaded when first asked for, so that importing one step of the builder
does not import the others' libraries (``build`` is the module ``corpus/build.py``).
"""

import importlib

_PUBLIC = {
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
