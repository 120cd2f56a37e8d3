"""The report's one way in: what a set of OpenCompass run folders holds, read once.

run folders ──> collect ──> RunData ──> writer.write_report
(llmcompression-summary and CompressionSummarizer both call collect)
"""

import logging
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence

from ..core.logs import LOGGER
from .builtin_runs import builtin_message, split_builtin
from .failures import Failure, failed_datasets
from .results import ResultsError, corpus_locations, is_compression_result, read_results, run_config

Results = Dict[str, Dict[str, dict]]  # {model: {abbr: result}}


@dataclass(frozen=True)
class RunData:
    """What the run folders hold: results, where to find predictions, and what failed."""

    results: Results
    run_dirs: Sequence[str] = ()  # their predictions/ give the per-document rows, newest last
    models: Sequence[str] = ()  # the table's order (default: sorted)
    abbr_order: Sequence[str] = ()  # the columns' order (then sorted)
    locations: Dict[str, dict] = field(default_factory=dict)  # {abbr: {path, name, samples}}
    failures: Sequence[Failure] = ()  # datasets of the runs without a result


def collect(
    run_dirs: Sequence[str],
    config_dir: str,
    logger: logging.Logger = LOGGER,
    configs: Optional[Dict[str, dict]] = None,
) -> RunData:
    """The results of ``run_dirs`` (later folders override earlier ones), where each corpus
    lies, and each dataset of a run's config left without a usable result.

    ``configs``: ``{run_dir: {'datasets': [...], 'models': [...]}}`` for runs whose config the
    caller holds (each with its ``abbr``); the others' are read from their folder. Results of
    OpenCompass's built-in evaluator are left out with a warning that says how to rerun them
    (``config_dir``: this plugin's configs, for that command); ResultsError when they are all
    there is."""
    read = read_results(run_dirs, logger)
    results, builtin = split_builtin(read)
    locations, model_paths, models, failures = {}, {}, [], []
    for run_dir in run_dirs:
        saved = (configs or {}).get(run_dir) or run_config(run_dir)
        locations.update(corpus_locations(saved['datasets']))
        model_abbrs = [m.get('abbr') for m in saved['models']]
        model_paths.update({m.get('abbr'): m.get('path') for m in saved['models']})
        models += [m for m in model_abbrs if m not in models]
        failures += failed_datasets(run_dir, model_abbrs, [d.get('abbr') for d in saved['datasets']], read)
    if builtin:
        message = builtin_message(builtin, run_dirs, model_paths, config_dir)
        if not any(is_compression_result(r) for per in results.values() for r in per.values()):
            raise ResultsError(message)
        logger.warning(message)
    models = [m for m in models if m in results] + sorted(set(results) - set(models))
    return RunData(results, list(run_dirs), models, list(locations), locations, _once(failures))


def _once(failures: Sequence[Failure]) -> list:
    """The failures, each (model, abbr) once: the newest run's."""
    newest = {(f.model, f.abbr): f for f in failures}
    return list(newest.values())
