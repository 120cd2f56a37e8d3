"""The line each of this plugin's configs logs when OpenCompass loads it.

``--datasets llm_compression`` and ``--summarizer llm_compression`` also name OpenCompass's own
built-in configs, and its log shows only the path of the file it picked: this line says that
this plugin's config was loaded, its version, and where the file is.
"""

import inspect
import os

from opencompass.utils import get_logger

from ..core.provenance import plugin_label


def announce_config(what: str) -> None:
    """Logs ``opencompass-llmcompression VERSION: WHAT (FILE)``, FILE being the caller's."""
    caller = inspect.stack()[1].filename
    where = f' ({os.path.abspath(caller)})' if os.path.isfile(caller) else ''
    get_logger().info(f'{plugin_label()}: {what}{where}')
