"""Reading a run folder (``opencompass -w WORK_DIR`` makes ``WORK_DIR/<time stamp>/``):

    results/<model>/<abbr>.json                  read_results
    predictions/<model>/<abbr>[_<shard>].json    read_document_rows
    configs/<time stamp>_<pid>.py                run_config (mmengine), corpus_locations

``abbr`` is the OpenCompass abbreviation of a dataset (``llm_compression-cc``); ``corpus`` is
the text it measures (``cc``). ``main_score`` imports OpenCompass and ``run_config`` mmengine,
when called; the rest needs neither.
"""

import glob
import json
import logging
import os
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ..core.document_rows import DOC_INDEX_COLUMN
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
            raise ResultsError(
                f'{path!r} is not a folder: give an OpenCompass run folder '
                f'(holding results/) or the work dir that holds run folders'
            )
        if any(os.path.isdir(os.path.join(path, name)) for name in RUN_FOLDERS):
            found.append(path)
            continue
        runs = sorted(
            {
                os.path.dirname(p.rstrip(os.sep))
                for name in RUN_FOLDERS
                for p in glob.glob(os.path.join(path, '*', name, ''))
            }
        )
        if not runs:
            raise ResultsError(
                f'no results/ folder (nor the logs/ of a run) in {path!r} or its '
                'sub-folders: has OpenCompass run there? (opencompass -m eval '
                '-r TIME_STAMP evaluates a run whose inference is done)'
            )
        found += runs
    return found


def read_results(run_dirs: Iterable[str], logger: logging.Logger = LOGGER) -> Dict[str, Dict[str, dict]]:
    """``{model: {abbr: result}}``; later run folders override earlier ones.

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
                {'error': problem} if problem else result
            )
    return results


def unusable(result: dict) -> Optional[str]:
    """Why a result cannot be used, or None when it can: its ``error``, or a compression
    result holding NaN or Infinity, which this plugin no longer writes (before it refused a
    corpus that scores no token, such a corpus got ``"ppl": NaN`` beside a BPC of 0)."""
    if result.get('error'):
        return str(result['error'])
    found = non_finite(result) if 'bpc' in result else None
    return (
        f'the result holds {found}, not a number: a corpus that scored no token, or a '
        'result edited since. Evaluate it again (opencompass CONFIG -m eval -r '
        'TIME_STAMP); a corpus too short to score says so then.'
        if found
        else None
    )


def is_compression_result(result: Optional[dict]) -> bool:
    return bool(result) and 'error' not in result and 'bpc' in result and 'chars' in result


def main_score(result: Optional[dict]) -> Optional[float]:
    """A benchmark result's headline number, chosen the way OpenCompass's summary chooses it
    (imports OpenCompass's metric lists)."""
    from opencompass.summarizers.default import METRIC_BLACKLIST, METRIC_WHITELIST

    if not result or 'error' in result:
        return None
    metrics = [
        m
        for m, v in result.items()
        if m not in METRIC_BLACKLIST and isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    if not metrics:
        return None
    rank = {m: i for i, m in enumerate(METRIC_WHITELIST)}
    return float(result[min(metrics, key=lambda m: rank.get(m, len(rank)))])


def read_document_rows(run_dir: str, model: str, abbr: str) -> List[dict]:
    """The per-document rows a SlidingWindowPPLInferencer wrote, over all shard files, in
    document order (ResultsError for a file that cannot be read)."""
    folder = os.path.join(run_dir, 'predictions', model)
    whole = os.path.join(folder, f'{abbr}.json')
    shard = re.compile(re.escape(abbr) + r'_(\d+)\.json$')
    paths = (
        [whole]
        if os.path.isfile(whole)
        else [
            p
            for p in glob.glob(os.path.join(folder, f'{glob.escape(abbr)}_*.json'))
            if shard.search(os.path.basename(p))
        ]
    )
    rows = []
    for path in paths:
        try:
            with open(path, encoding='utf-8') as f:
                records = json.load(f)
            rows += [r['prediction'] for r in records.values()]
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as err:
            raise ResultsError(
                f'cannot read predictions {path}: {err}; re-run the inference '
                f'stage for this model and dataset'
            ) from err
    return sorted(
        (r for r in rows if isinstance(r, dict) and DOC_INDEX_COLUMN in r), key=lambda r: r[DOC_INDEX_COLUMN]
    )


INFERENCER_NAME, OLD_INFERENCER_NAME = 'SlidingWindowPPLInferencer', 'SlidingWindowInferencer'


def corpus_locations(dataset_cfgs: Iterable[dict]) -> Dict[str, dict]:
    """``{abbr: {path, name, samples}}`` of the compression datasets among the run's dataset
    configs: where to read their corpus again (baselines, snippets) and whether it is the
    paper's. How they were measured is in their results."""
    locations = {}
    for cfg in dataset_cfgs:
        if _type_name(cfg.get('type')).endswith('CompressionCorpusDataset'):
            abbr = cfg.get('abbr') or f'llm_compression-{cfg.get("name", "cc")}'
            locations[abbr] = dict(
                path=cfg.get('path', 'data/llm-compression'),
                name=cfg.get('name', 'cc'),
                samples=cfg.get('samples'),
            )
    return locations


def first_two_settings(found: Dict[Optional[MeasurementSettings], object]) -> Optional[Tuple[tuple, tuple]]:
    """``((settings, label), (settings, label))``: the first two entries of ``found`` (each
    setting with the first thing measured with it, in the order seen); None when ``found``
    holds fewer than two settings."""
    if len(found) < 2:
        return None
    first, second = list(found.items())[:2]
    return first, second


def corpus_measurements(results: Dict[str, Dict[str, dict]]) -> Dict[str, Optional[MeasurementSettings]]:
    """``{abbr: settings}``: the settings the results of each abbr record (None: none records
    any).

    Raises ResultsError, naming both, when two models' results of one abbr were measured
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
            clash = first_two_settings(seen)
            if clash:
                (first, model_a), (second, model_b) = clash
                raise ResultsError(
                    f'{abbr} was measured under different settings and cannot be compared: '
                    f'{model_a} with {first}, {model_b} with {second}. Report the runs of '
                    'each setting separately (llmcompression-summary RUN_DIR ...).'
                )
    return {abbr: next(iter(seen), None) for abbr, seen in found.items()}


def pooling_refusal(
    measurements: Dict[str, Optional[MeasurementSettings]], abbrs: Sequence[str]
) -> Optional[str]:
    """Why the numbers of ``abbrs`` cannot be averaged (two settings, named), or None when
    they can."""
    seen: Dict[MeasurementSettings, str] = {}
    for abbr in abbrs:
        if measurements.get(abbr) is not None:
            seen.setdefault(measurements[abbr], abbr)
    clash = first_two_settings(seen)
    if not clash:
        return None
    (first, abbr_a), (second, abbr_b) = clash
    return (
        f'{abbr_a} was measured with {first}, {abbr_b} with {second}: numbers of different '
        'settings are not averaged'
    )


def _type_name(kind) -> str:
    return kind if isinstance(kind, str) else getattr(kind, '__name__', '')


# What loading a saved config can raise: it is Python that imports the run's packages.
CONFIG_ERRORS = (
    OSError,
    SyntaxError,
    ImportError,
    NameError,
    AttributeError,
    KeyError,
    TypeError,
    ValueError,
)


def run_config(run_dir: str) -> dict:
    """``{'datasets': [...], 'models': [...]}`` as OpenCompass saved them with the run (empty
    lists if it saved no config, or one that no longer loads: tables work without it).
    Imports mmengine, which loads the saved config."""
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
