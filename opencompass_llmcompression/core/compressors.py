"""The classic compressors a model's BPC is set beside, at one documented set of levels.

Each runs at its strongest setting: ``gzip -9``, ``bzip2 -9``, ``xz -9e`` and
``zstd --ultra -22``, container headers included, so a figure is what the command line would
write. The strongest, because the comparison is meant to show what a classic compressor can
do at best on the text; a faster level (``zstd -19``, say) would flatter the model. On the
inputs compared here (a corpus, a file) the cost is seconds. The report
(``report.baselines``, cached per corpus) and ``llmcompression-zip``'s summary both use
``compressed_sizes``.
"""

import bz2
import gzip
import lzma
from concurrent.futures import ThreadPoolExecutor
from typing import Dict

import zstandard

COMPRESSORS = {
    'gzip -9': lambda data: gzip.compress(data, compresslevel=9, mtime=0),
    'bzip2 -9': lambda data: bz2.compress(data, compresslevel=9),
    'xz -9e': lambda data: lzma.compress(data, preset=9 | lzma.PRESET_EXTREME),
    'zstd -22': lambda data: zstandard.ZstdCompressor(level=22).compress(data),
}
VERSION = f'1-zstd{zstandard.__version__}'  # what the sizes depend on besides the data


def compressed_sizes(data: bytes) -> Dict[str, int]:
    """Bytes each compressor writes for ``data`` (they release the GIL: run side by side)."""
    with ThreadPoolExecutor(len(COMPRESSORS)) as pool:
        sizes = pool.map(lambda compress: len(compress(data)), COMPRESSORS.values())
        return dict(zip(COMPRESSORS, sizes))
