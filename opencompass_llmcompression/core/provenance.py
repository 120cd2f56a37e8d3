"""Which code made a number: the plugin's name and version, recorded with every result.

OpenCompass ships a compression evaluator of its own under the same dataset name
(``llm_compression``) and similar abbreviations, so a BPC on its own does not say which one
made it. Every prediction row and every result of this plugin carries ``plugin`` and
``plugin_version``, and its configs and inferencer log ``plugin_label()``.
"""

from functools import lru_cache
from importlib import metadata

PLUGIN = 'opencompass-llmcompression'


@lru_cache(maxsize=None)
def plugin_version() -> str:
    try:
        return metadata.version(PLUGIN)
    except metadata.PackageNotFoundError:  # imported from a source tree, not installed
        return 'unknown'


def provenance() -> dict:
    """``{'plugin': 'opencompass-llmcompression', 'plugin_version': '0.1.0'}``."""
    return {'plugin': PLUGIN, 'plugin_version': plugin_version()}


def plugin_label() -> str:
    """``opencompass-llmcompression 0.1.0``, as the logs name the plugin."""
    return f'{PLUGIN} {plugin_version()}'
