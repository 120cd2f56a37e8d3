"""Which code made a number: the plugin's name and version, recorded with every result.

OpenCompass ships a compression evaluator of its own under the same dataset name
(``llm_compression``) and similar abbreviations, so a BPC on its own does not say which one
made it. Every prediction row and every result of this plugin carries ``plugin`` and
``plugin_version``; the report refuses results that lack them.
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


def made_by_plugin(record: dict) -> bool:
    return isinstance(record, dict) and record.get('plugin') == PLUGIN
