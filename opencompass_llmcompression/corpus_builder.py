"""``llmcompression-corpus`` and ``python -m opencompass_llmcompression.corpus_builder``: the
corpus builder's command line, kept under its first name. The builder itself is the ``corpus``
wing (``corpus/cli.py``, ``corpus/build.py`` and one file per step).
"""

import sys

from .corpus.build import build
from .corpus.cli import main
from .corpus.documents import BuildError, Document, Report
from .corpus.local_cleaning import KINDS

__all__ = ['build', 'main', 'BuildError', 'Document', 'Report', 'KINDS']

if __name__ == '__main__':
    sys.exit(main())
