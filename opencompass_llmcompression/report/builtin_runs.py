"""Results of OpenCompass's built-in compression evaluator: told apart, left out, explained.

OpenCompass's own ``llm_compression`` config (``SWCELossInferencer`` + ``BPCEvaluator``) writes
results under abbrs like ours (``llm_compression-python``) holding only ``bpc``, and one
``{loss, total_chr_num}`` prediction per batch; this plugin's results hold ``chars`` (and,
since 0.1.0, ``plugin``).
"""

import glob
import json
import os
from typing import Dict, List, Sequence, Tuple

from ..core.provenance import PLUGIN

WHY_NOT_TRUSTED = (
    'it drops window losses whenever batches outnumber documents, divides the loss of all '
    'shards by the characters of the first shard, rewrites {idx}-style fields inside documents '
    'through its prompt template, and crashes on corpora shorter than one window or with '
    'batch_size=1 (docs/measurement.md, "Where OpenCompass\'s built-in goes wrong")'
)


def is_builtin_result(result: dict) -> bool:
    """A result of ``BPCEvaluator``: a ``bpc`` and none of the sums this plugin records."""
    return (
        isinstance(result, dict)
        and 'bpc' in result
        and 'error' not in result
        and 'chars' not in result
        and result.get('plugin') != PLUGIN
    )


def has_builtin_predictions(run_dir: str, model: str, abbr: str) -> bool:
    """Whether the prediction files of ``abbr`` hold ``SWCELossInferencer`` rows."""
    for path in glob.glob(os.path.join(run_dir, 'predictions', model, f'{abbr}*.json')):
        try:
            with open(path, encoding='utf-8') as f:
                first = next(iter(json.load(f).values()), None)
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(first, dict) and 'loss' in first and 'total_chr_num' in first:
            return True
    return False


def split_builtin(
    results: Dict[str, Dict[str, dict]],
) -> Tuple[Dict[str, Dict[str, dict]], List[Tuple[str, str]]]:
    """(the results without the built-in's, [(model, abbr)] of the built-in's)."""
    kept, builtin = {}, []
    for model, per_abbr in results.items():
        for abbr, result in per_abbr.items():
            if is_builtin_result(result):
                builtin.append((model, abbr))
            else:
                kept.setdefault(model, {})[abbr] = result
    return kept, builtin


def builtin_message(
    builtin: Sequence[Tuple[str, str]], run_dirs: Sequence[str], model_paths: Dict[str, str], config_dir: str
) -> str:
    """What was found, why it is left out, and the one command that measures it with this
    plugin (``model_paths``: model abbreviation -> the path the run loaded it from)."""
    models = sorted({m for m, _ in builtin})
    abbrs = sorted({a for _, a in builtin})
    confirmed = any(has_builtin_predictions(r, m, a) for r in run_dirs for m, a in builtin)
    evidence = (
        'its SWCELossInferencer predictions, one {loss, total_chr_num} per batch'
        if confirmed
        else 'a result with a bpc and no character count'
    )
    commands = [
        f'    opencompass --config-dir {config_dir} --datasets llm_compression '
        f'--summarizer llm_compression --hf-type base '
        f'--hf-path {model_paths.get(m, "MODEL")}'
        for m in models
    ]
    return (
        f'{", ".join(abbrs)} of {", ".join(models)} were measured by OpenCompass\'s '
        f'built-in compression evaluator (SWCELossInferencer + BPCEvaluator; seen from '
        f'{evidence}), not by {PLUGIN}, and are left out of this report. Its totals '
        f'cannot be trusted: {WHY_NOT_TRUSTED}. To measure with {PLUGIN}:\n' + '\n'.join(commands)
    )
