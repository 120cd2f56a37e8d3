"""Settings the plugin's configs read from the environment, where OpenCompass's command line has
no way to pass them.

Your model, so that one OpenCompass command measures it beside the anchors (or any other
``--models`` config): OpenCompass builds a model from ``--hf-path`` only when neither
``--models`` nor a config file is given.

    LLMCOMPRESSION_HF_PATH=MY/MODEL opencompass --models llm_compression_anchors \\
        llm_compression_hf --datasets llm_compression_folder --summarizer llm_compression

``LLMCOMPRESSION_HF_PATH``: one Hugging Face model (a hub name or a folder), or several separated
by commas; ``LLMCOMPRESSION_HF_NUM_GPUS``: GPUs per model (default 1; 0 on a CPU);
``LLMCOMPRESSION_HF_BATCH_SIZE``: the model's batch size (``--batch-size``, default 8). Each
becomes the ``HuggingFaceBaseModel`` that ``--hf-type base --hf-path`` builds, with the same
abbr (``MODEL_hf``), so its results sit where a ``--hf-path`` run of it puts them.

The windows per forward pass of this plugin's corpora, ``auto`` included, which OpenCompass's
``--batch-size`` (whole numbers only) cannot ask for:

    LLMCOMPRESSION_BATCH_SIZE=auto opencompass --datasets llm_compression ... --hf-path MODEL

``LLMCOMPRESSION_BATCH_SIZE``: a positive whole number or ``auto`` (sized from the GPU's free
memory); unset, the model's batch size. It sets the inferencer of the ``llm_compression`` and
``llm_compression_folder`` dataset configs only, never the model, so the other benchmarks of a
suite keep theirs.
"""

import os
from typing import Dict, List, Mapping

PATH, NUM_GPUS, BATCH_SIZE = (
    'LLMCOMPRESSION_HF_PATH',
    'LLMCOMPRESSION_HF_NUM_GPUS',
    'LLMCOMPRESSION_HF_BATCH_SIZE',
)
WINDOWS = 'LLMCOMPRESSION_BATCH_SIZE'
EXAMPLE = (
    f'{PATH}=MY/MODEL opencompass --models llm_compression_anchors llm_compression_hf '
    '--datasets llm_compression_folder --summarizer llm_compression'
)


def hf_models(environ: Mapping[str, str] = os.environ) -> List[Dict]:
    """One model config per path of ``$LLMCOMPRESSION_HF_PATH``, as ``--hf-type base --hf-path``
    builds it (OpenCompass 0.5's ``get_config_from_arg``). ValueError, naming the variable and
    the fix, when the path is missing or a number is not one."""
    paths = [p.strip() for p in environ.get(PATH, '').split(',') if p.strip()]
    if not paths:
        raise ValueError(f'{PATH} is not set: name the model to measure, e.g. {EXAMPLE}')
    num_gpus = environ.get(NUM_GPUS, '1').strip()
    if not num_gpus.isdigit():
        raise ValueError(f'{NUM_GPUS}={num_gpus!r}: give a whole number of GPUs (0 on a CPU)')
    batch_size = environ.get(BATCH_SIZE, '8').strip()
    if not (batch_size.isdigit() and int(batch_size) > 0):
        raise ValueError(
            f'{BATCH_SIZE}={batch_size!r}: give a positive whole number (for auto windows per forward '
            f'pass, {WINDOWS}=auto)'
        )
    abbrs = [os.path.basename(os.path.normpath(p)) + '_hf' for p in paths]
    if len(set(abbrs)) < len(abbrs):
        raise ValueError(f'{PATH}: two models would share one name ({", ".join(abbrs)}); rename a folder')
    from opencompass.models import HuggingFaceBaseModel

    return [
        dict(
            type=f'{HuggingFaceBaseModel.__module__}.{HuggingFaceBaseModel.__name__}',
            abbr=abbr,
            path=path,
            max_out_len=256,
            batch_size=int(batch_size),
            run_cfg=dict(num_gpus=int(num_gpus)),
        )
        for abbr, path in zip(abbrs, paths)
    ]


def inferencer_settings(environ: Mapping[str, str] = os.environ) -> Dict:
    """``{'batch_size': N or 'auto'}`` from ``$LLMCOMPRESSION_BATCH_SIZE``, ``{}`` when it is
    unset or empty (the model's batch size then counts). ValueError, naming the variable, for
    anything else."""
    text = environ.get(WINDOWS, '').strip()
    if not text:
        return {}
    if text == 'auto':
        return {'batch_size': 'auto'}
    if text.isdigit() and int(text) > 0:
        return {'batch_size': int(text)}
    raise ValueError(f'{WINDOWS}={text!r}: give windows per forward pass, a positive whole number or auto')
