"""How a number was made, recorded with it: the plugin, its version, the measurement's
settings and the model.

OpenCompass ships a compression evaluator of its own under the same dataset name
(``llm_compression``) and similar abbreviations, so a BPC on its own does not say which code
made it, nor with which window. Every prediction row and every result of this plugin carries
one record (``provenance``): ``plugin``, ``plugin_version``, ``measurement`` (the
``MeasurementSettings``) and ``model`` (its name or folder, revision and dtype). The report
reads the settings from there, and its configs and inferencer log ``plugin_label()``. The
model's record names the engine that computed the log-probabilities (transformers or vLLM,
its version, vLLM's tensor-parallel size).
"""

from functools import lru_cache
from importlib import metadata
from typing import Optional

from .settings import MeasurementSettings

PLUGIN = 'opencompass-llmcompression'


@lru_cache(maxsize=None)
def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:  # imported from a source tree, not installed
        return 'unknown'


def plugin_version() -> str:
    return _version(PLUGIN)


def model_identity(model) -> dict:
    """``{'name_or_path', 'revision', 'dtype', 'engine'}`` of a Hugging Face torch model
    (``engine``: ``{'name': 'transformers', 'version'}``) or of a vLLM engine (``engine``:
    ``{'name': 'vllm', 'version', 'tensor_parallel_size'}``)."""
    from .vllm_scorer import engine_identity, is_vllm_engine  # torch: only when a model is
    if is_vllm_engine(model):
        return engine_identity(model)
    config = getattr(model, 'config', None)
    parameter = next(model.parameters(), None) if hasattr(model, 'parameters') else None
    return {'name_or_path': str(getattr(config, '_name_or_path', '') or '') or None,
            'revision': getattr(config, '_commit_hash', None),
            'dtype': str(parameter.dtype) if parameter is not None else None,
            'engine': {'name': 'transformers', 'version': _version('transformers')}}


def provenance(settings: Optional[MeasurementSettings] = None, model=None) -> dict:
    """``{'plugin': 'opencompass-llmcompression', 'plugin_version': '0.1.0',
    'measurement': {...}, 'model': {...}}``; the last two when given."""
    record = {'plugin': PLUGIN, 'plugin_version': plugin_version()}
    if settings is not None:
        record['measurement'] = settings.as_record()
    if model is not None:
        record['model'] = model_identity(model)
    return record


def plugin_label() -> str:
    """``opencompass-llmcompression 0.1.0``, as the logs name the plugin."""
    return f'{PLUGIN} {plugin_version()}'
