"""Reading what OpenCompass wrote: results, per-document predictions, the run's config.

A run folder is what ``opencompass -w WORK_DIR`` makes under ``WORK_DIR/<time stamp>/``:
``results/<model>/<dataset>.json``, ``predictions/<model>/<dataset>[_<shard>].json`` and
``configs/<time stamp>_<pid>.py``. Nothing here re-runs anything.
"""

import glob
import json
import logging
import os
import re
from typing import Dict, Iterable, List, Optional, Sequence

from ..core.finite_output import non_finite
from ..core.logs import LOGGER
from ..core.settings import MeasurementSettings


class ResultsError(ValueError):
    """A results folder that cannot be read, with what to do about it."""


# A run folder holds results/, or at least the logs/ of its tasks (a run whose every
# evaluation crashed has no results/, and its logs say why).
RUN_FOLDERS = ('results', 'logs')


def find_run_dirs(paths: Iterable[str]) -> List[str]:
    """Run folders under ``paths``: each path is a run folder, or a work dir holding them."""
    found = []
    for path in paths:
        if not os.path.isdir(path):
            raise ResultsError(f'{path!r} is not a folder: give an OpenCompass run folder '
                               f'(holding results/) or the work dir that holds run folders')
        if any(os.path.isdir(os.path.join(path, name)) for name in RUN_FOLDERS):
            found.append(path)
            continue
        runs = sorted({os.path.dirname(p.rstrip(os.sep)) for name in RUN_FOLDERS
                       for p in glob.glob(os.path.join(path, '*', name, ''))})
        if not runs:
            raise ResultsError(f'no results/ folder (nor the logs/ of a run) in {path!r} or its '
                               'sub-folders: has OpenCompass run there? (opencompass -m eval '
                               '-r TIME_STAMP evaluates a run whose inference is done)')
        found += runs
    return found


def read_results(run_dirs: Iterable[str],
                 logger: logging.Logger = LOGGER) -> Dict[str, Dict[str, dict]]:
    """``{model: {dataset: result}}``; later run folders override earlier ones.

    A result file that is not valid JSON is skipped with a warning naming it; a result
    holding an ``error`` is kept, so that tables can show it as missing, and so is a
    compression result holding NaN or Infinity, as an ``error`` (``unusable``).
    """
    results: Dict[str, Dict[str, dict]] = {}
    for run_dir in run_dirs:
        for path in sorted(glob.glob(os.path.join(run_dir, 'results', '*', '*.json'))):
            model = os.path.basename(os.path.dirname(path))
            try:
                with open(path, encoding='utf-8') as f:
                    result = json.load(f)
                if not isinstance(result, dict):
                    raise ValueError('not a JSON object')
            except (OSError, ValueError) as err:
                logger.warning(f'skipping unreadable result {path}: {err}')
                continue
            result.pop('details', None)
            problem = unusable(result)
            results.setdefault(model, {})[os.path.basename(path)[:-5]] = (
                {'error': problem} if problem else result)
    return results


def unusable(result: dict) -> str:
    """Why a result cannot be used ('' when it can): its ``error``, or a compression result
    holding NaN or Infinity, which this plugin no longer writes (before it refused a corpus
    that scores no token, such a corpus got ``"ppl": NaN`` beside a BPC of 0)."""
    if result.get('error'):
        return str(result['error'])
    found = non_finite(result) if 'bpc' in result else None
    return (f'the result holds {found}, not a number: a corpus that scored no token, or a '
            'result edited since. Evaluate it again (opencompass CONFIG -m eval -r '
            'TIME_STAMP); a corpus too short to score says so then.' if found else '')


def is_compression_result(result: Optional[dict]) -> bool:
    return bool(result) and 'error' not in result and 'bpc' in result and 'chars' in result


def main_score(result: Optional[dict]) -> Optional[float]:
    """A benchmark result's headline number, chosen the way OpenCompass's summary chooses it."""
    from opencompass.summarizers.default import METRIC_BLACKLIST, METRIC_WHITELIST
    if not result or 'error' in result:
        return None
    metrics = [m for m, v in result.items() if m not in METRIC_BLACKLIST
               and isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not metrics:
        return None
    rank = {m: i for i, m in enumerate(METRIC_WHITELIST)}
    return float(result[min(metrics, key=lambda m: rank.get(m, len(rank)))])


def read_document_rows(run_dir: str, model: str, dataset: str) -> List[dict]:
    """The per-document rows a SlidingWindowPPLInferencer wrote, over all shard files."""
    folder = os.path.join(run_dir, 'predictions', model)
    whole = os.path.join(folder, f'{dataset}.json')
    shard = re.compile(re.escape(dataset) + r'_(\d+)\.json$')
    paths = [whole] if os.path.isfile(whole) else [
        p for p in glob.glob(os.path.join(folder, f'{glob.escape(dataset)}_*.json'))
        if shard.search(os.path.basename(p))]
    rows = []
    for path in paths:
        try:
            with open(path, encoding='utf-8') as f:
                records = json.load(f)
            rows += [r['prediction'] for r in records.values()]
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as err:
            raise ResultsError(f'cannot read predictions {path}: {err}; re-run the inference '
                               f'stage for this model and dataset') from err
    return sorted((r for r in rows if isinstance(r, dict) and 'document_index' in r),
                  key=lambda r: r['document_index'])


INFERENCER_NAME, OLD_INFERENCER_NAME = 'SlidingWindowPPLInferencer', 'SlidingWindowInferencer'


def corpus_locations(dataset_cfgs: Iterable[dict]) -> Dict[str, dict]:
    """``{abbr: {path, name, samples}}`` of the datasets that are compression corpora, from
    the run's dataset configs: where to read their text again (baselines, snippets) and
    whether it is the paper's corpus. How they were measured is in their results."""
    locations = {}
    for cfg in dataset_cfgs:
        if _type_name(cfg.get('type')).endswith('CompressionCorpusDataset'):
            abbr = cfg.get('abbr') or f'llm_compression-{cfg.get("name", "cc")}'
            locations[abbr] = dict(path=cfg.get('path', 'data/llm-compression'),
                                   name=cfg.get('name', 'cc'), samples=cfg.get('samples'))
    return locations


def corpus_measurements(results: Dict[str, Dict[str, dict]]
                        ) -> Dict[str, Optional[MeasurementSettings]]:
    """``{abbr: settings}``: the settings each corpus's results record (None: none records any).

    Raises ResultsError, naming both, when two models' results of one corpus were measured
    under different settings: their numbers cannot be compared."""
    found: Dict[str, Dict[MeasurementSettings, str]] = {}
    for model in sorted(results):
        for abbr, result in sorted(results[model].items()):
            if not is_compression_result(result):
                continue
            settings = MeasurementSettings.from_record(result.get('measurement'))
            seen = found.setdefault(abbr, {})
            if settings is not None:
                seen.setdefault(settings, model)
            if len(seen) > 1:
                (first, model_a), (second, model_b) = list(seen.items())[:2]
                raise ResultsError(
                    f'{abbr} was measured under different settings and cannot be compared: '
                    f'{model_a} with {first}, {model_b} with {second}. Report the runs of '
                    'each setting separately (llmcompression-summary RUN_DIR ...).')
    return {abbr: next(iter(seen), None) for abbr, seen in found.items()}


def pooling_refusal(measurements: Dict[str, Optional[MeasurementSettings]],
                    corpora: Sequence[str]) -> str:
    """Why the corpora's numbers cannot be averaged ('' when they can): two settings, named."""
    seen: Dict[MeasurementSettings, str] = {}
    for abbr in corpora:
        if measurements.get(abbr) is not None:
            seen.setdefault(measurements[abbr], abbr)
    if len(seen) < 2:
        return ''
    (first, abbr_a), (second, abbr_b) = list(seen.items())[:2]
    return (f'{abbr_a} was measured with {first}, {abbr_b} with {second}: numbers of different '
            'settings are not averaged')


def _type_name(kind) -> str:
    return kind if isinstance(kind, str) else getattr(kind, '__name__', '')


# What loading a saved config can raise: it is Python that imports the run's packages.
CONFIG_ERRORS = (OSError, SyntaxError, ImportError, NameError, AttributeError, KeyError,
                 TypeError, ValueError)


def run_config(run_dir: str) -> dict:
    """``{'datasets': [...], 'models': [...]}`` as OpenCompass saved them with the run (empty
    lists if it saved no config, or one that no longer loads: tables work without it)."""
    from mmengine.config import Config
    configs = sorted(glob.glob(os.path.join(run_dir, 'configs', '*.py')))
    saved = {'datasets': [], 'models': []}
    if configs:
        try:
            config = Config.fromfile(configs[-1], format_python_code=False)
            saved = {key: list(config.get(key, [])) for key in saved}
        except CONFIG_ERRORS:  # the code or data it names moved: the report goes on without it
            pass
    return saved

