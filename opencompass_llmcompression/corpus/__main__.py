"""``python -m opencompass_llmcompression.corpus``: the same as ``llmcompression-corpus``."""

import sys

from .cli import main

sys.exit(main())
