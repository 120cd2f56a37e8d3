"""How a number was made, recorded with it: ``provenance(settings, model)`` ->
``{plugin, plugin_version, measurement, model}``.

OpenCompass's own compression evaluator shares the dataset name ``llm_compression``, so a BPC
alone does not say which code made it, nor with which window. Every prediction row and
OpenCompass result of this plugin carries this record, and the report reads the settings
from it; the paper's command line writes all of it but ``model`` (it writes the model's
``engine``). ``model_source`` holds the facts about a torch model that the record and the
checkpoint's fingerprint share.
"""

from functools import lru_cache
from importlib import metadata
from typing import NamedTuple, Optional

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


class ModelSource(NamedTuple):
    """Where a Hugging Face torch model's numbers come from, as its config and weights say."""

    name_or_path: str  # the folder or hub id it was loaded from; '' when unknown
    revision: Optional[str]  # the hub commit it was loaded at (config._commit_hash), or None
    dtype: Optional[str]  # its first parameter's dtype as torch writes it ('torch.float32')


def model_source(model) -> ModelSource:
    """The facts every record of a model builds on (``model_identity``, the checkpoint's
    fingerprint, the compressor's dtype); ``dtype`` is None for a model without parameters."""
    config = getattr(model, 'config', None)
    parameter = next(model.parameters(), None) if hasattr(model, 'parameters') else None
    return ModelSource(
        str(getattr(config, '_name_or_path', '') or ''),
        getattr(config, '_commit_hash', None),
        str(parameter.dtype) if parameter is not None else None,
    )


def model_identity(model) -> dict:
    """``{'name_or_path', 'revision', 'dtype', 'engine'}`` of a Hugging Face torch model
    (``engine``: ``{'name': 'transformers', 'version'}``) or of a vLLM engine (``engine``:
    ``{'name': 'vllm', 'version', 'tensor_parallel_size'}``)."""
    from .model_checks import is_vllm_engine
    from .vllm_scorer import engine_identity  # torch: only when a model is

    if is_vllm_engine(model):
        return engine_identity(model)
    source = model_source(model)
    return {
        'name_or_path': source.name_or_path or None,
        'revision': source.revision,
        'dtype': source.dtype,
        'engine': {'name': 'transformers', 'version': _version('transformers')},
    }


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
