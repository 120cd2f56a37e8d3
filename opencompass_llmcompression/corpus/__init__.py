"""The corpus builder (``llmcompression-corpus``): fresh compression corpora from the files
fresh text comes as, cleaned the way the paper's pipelines did.

    from opencompass_llmcompression.corpus.build import build
    build('cc', 'text', ['crawl/'], 'data/llm-compression', after=date(2026, 1, 1))
    from opencompass_llmcompression.corpus import main
    main(['--name', 'cc', '--kind', 'text', '--source', 'crawl/'])   # the command line

The names below are loaded when first asked for, so that importing one step of the builder
does not import the others' libraries (``build`` is the module ``corpus/build.py``).
"""

from ..core.lazy_names import lazy_names

_PUBLIC = {
    'main': 'cli',
    'BuildError': 'documents',
    'Document': 'documents',
    'Report': 'documents',
    'KINDS': 'local_cleaning',
}

__all__ = list(_PUBLIC)


__getattr__ = lazy_names(__name__, _PUBLIC)
