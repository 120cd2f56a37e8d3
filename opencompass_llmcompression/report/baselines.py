"""Classic compressors (``core.compressors``) on each corpus, in bits per character and per
byte, as reference rows.

A corpus is compressed as one stream, its documents concatenated in order; the sizes are
cached by the text's SHA-256, so a corpus is compressed once.
"""

import hashlib
import json
import os
from typing import Dict, Optional, Sequence

from ..core.atomic_files import atomic_write
from ..core.compressors import COMPRESSORS, VERSION, compressed_sizes
from ..core.metrics import compressed_bits_per
from ..core.token_stream import default_cache_dir


def baseline_rates(contents: Sequence[str], cache_dir: Optional[str] = None) -> Dict[str, Dict[str, float]]:
    """``{compressor: {'bpc': ..., 'bpb': ...}}`` on the documents ``contents``, cached under
    ``cache_dir`` (default: the package's cache); ValueError when there is no text."""
    text = ''.join(contents)
    if not text:
        raise ValueError('no text to compress: the corpus is empty')
    data = text.encode('utf-8', errors='surrogatepass')
    key = hashlib.sha256(data).hexdigest()[:32]
    path = os.path.join(cache_dir or default_cache_dir(), 'baselines', f'{key}.json')
    sizes = None
    if os.path.isfile(path):
        try:
            with open(path, encoding='utf-8') as f:
                cached = json.load(f)
            if cached.get('version') == VERSION and cached.get('bytes') == len(data):
                sizes = cached['sizes']
        except (OSError, ValueError, KeyError):
            sizes = None  # unreadable cache: compress again
    if sizes is None or set(sizes) != set(COMPRESSORS):
        sizes = compressed_sizes(data)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with atomic_write(path, 'w', encoding='utf-8') as f:
            json.dump(dict(version=VERSION, bytes=len(data), sizes=sizes), f)
    return {
        name: dict(bpc=compressed_bits_per(size, len(text)), bpb=compressed_bits_per(size, len(data)))
        for name, size in sizes.items()
    }
