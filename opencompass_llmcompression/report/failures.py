"""The datasets of a run without a usable result, each with its task's log and the error in it.

A dataset whose task failed has no ``results/<model>/<abbr>.json``, or one holding ``error``
(or NaN: ``results.unusable``); the task's output is ``logs/{infer,eval}/<model>/<abbr>[_<shard>].out``.
"""

import glob
import os
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

ERROR_LINE = re.compile(r'^\s*(\w+\.)*\w*(Error|Exception|Interrupt)\b.*')

# Errors whose cause is known, by a piece of their text, with what to do.
KNOWN_FIXES = {
    'use_flash_attention_2': (
        'transformers dropped the use_flash_attention_2 argument (the model\'s constructor '
        'refuses it): pass --model-kwargs attn_implementation=flash_attention_2 on a GPU with '
        'the flash-attn package, or leave it out (PyTorch SDPA runs a FlashAttention kernel '
        'on GPUs)'
    ),
    'flash_attn': (
        'flash-attention 2 needs the flash-attn package and a CUDA GPU: pip install -e '
        '".[flash]" in the package\'s checkout there, or leave attn_implementation out'
    ),
    'batch_encode_plus': (
        'transformers 5 removed batch_encode_plus, which OpenCompass 0.5\'s HuggingFace '
        'wrappers call for every PPL and generation benchmark: install transformers 4.x '
        '(pip install "transformers>=4.56,<5")'
    ),
}


@dataclass(frozen=True)
class Failure:
    model: str
    abbr: str  # the dataset's
    log: Optional[str]  # the task's output file, if one exists
    error: str  # the last error line of the log, or the result's ``error``

    def __str__(self) -> str:
        where = f'log: {self.log}' if self.log else 'no log found under logs/'
        fix = next((f'. Fix: {fix}' for key, fix in KNOWN_FIXES.items() if key in self.error), '')
        return f'{self.abbr} ({self.model}): {self.error or "no result"} ({where}){fix}'


def last_error_line(path: str) -> str:
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            lines = f.read().splitlines()
    except OSError:
        return ''
    return next((line.strip() for line in reversed(lines) if ERROR_LINE.match(line)), '')


def task_logs(run_dir: str, model: str, abbr: str) -> List[str]:
    """The output files of the tasks that ran the dataset ``abbr``, inference before
    evaluation.

    A task's log is named after its first dataset; a task of several datasets names them all
    near its start (``Task [model/a,model/b]``), which is how the others find it."""
    own = re.compile(re.escape(abbr) + r'(_\d+)?\.out')
    member = re.compile(r'Task \[.*' + re.escape(f'{model}/{abbr}') + r'(_\d+)?[,\]]')
    found = []
    for stage in ('infer', 'eval'):
        for path in sorted(glob.glob(os.path.join(run_dir, 'logs', stage, model, '*.out'))):
            if own.fullmatch(os.path.basename(path)) or member.search(_head(path)):
                found.append(os.path.abspath(path))
    return found


def _head(path: str, lines: int = 20) -> str:
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return ''.join(f.readline() for _ in range(lines))
    except OSError:
        return ''


def failed_datasets(
    run_dir: str, models: Iterable[str], abbrs: Iterable[str], results: Dict[str, Dict[str, dict]]
) -> List[Failure]:
    """Each (model, abbr) of the run without a usable result among ``results`` (all the
    runs' results as ``results.read_results`` gives them: another run may hold one)."""
    failures = []
    for model in models:
        for abbr in abbrs:
            result = results.get(model, {}).get(abbr)
            if result is not None and 'error' not in result:
                continue
            logs = task_logs(run_dir, model, abbr)
            errors = [(log, last_error_line(log)) for log in logs]  # the first is the cause
            log, logged = next(((log, e) for log, e in errors if e), (logs[0] if logs else None, ''))
            failures.append(Failure(model, abbr, log, str((result or {}).get('error') or '') or logged))
    return failures


def no_results_message(failures: Sequence[Failure]) -> str:
    """Why there is no compression result to report: the datasets of the runs without a
    result, each with its error and log (an evaluation that crashed leaves no result file,
    only its log), or, when none failed, that no compression dataset was evaluated."""
    if not failures:
        return (
            'no compression results (no result with `bpc`) in the given runs: did the '
            'evaluation stage of an llm_compression dataset finish?'
        )
    return 'no compression results in the given runs; the datasets without a result:\n' + '\n'.join(
        f'- {failure}' for failure in failures
    )
