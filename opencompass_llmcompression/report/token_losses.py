"""The token losses a run kept (``keep_token_losses``), read back per model and abbr.

    predictions/<model>/token_losses/<abbr>[_<shard>].json  ->  {document_index: record}

Each record holds the document's ``text``, its ``nll``, ``chars`` and its tokens' ``spans``
and ``token_nll`` (``core.token_losses``); the paper command line's ``--token_losses`` file
has the same ``documents`` list.
"""

import glob
import json
import os
import re
from typing import Dict, Sequence

from .results import ResultsError

FOLDER = 'token_losses'
FIELDS = ('document_index', 'text', 'nll', 'chars', 'spans', 'token_nll')


def read_token_loss_file(path: str) -> Dict[int, dict]:
    """``{document_index: record}`` of one file; ResultsError naming the file when it cannot
    be read or lacks a field."""
    try:
        with open(path, encoding='utf-8') as f:
            documents = json.load(f)['documents']
        for record in documents:
            missing = [k for k in FIELDS if k not in record]
            if missing:
                raise ValueError(f'a document lacks {", ".join(missing)}')
            if len(record['spans']) != len(record['token_nll']):
                raise ValueError(f'document {record["document_index"]} has unequal spans and token_nll')
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ResultsError(
            f'cannot read the token losses {path}: {err}; run the inference again with keep_token_losses'
        ) from err
    return {int(r['document_index']): r for r in documents}


def read_token_losses(run_dirs: Sequence[str], model: str, abbr: str) -> Dict[int, dict]:
    """The kept documents of ``model`` on ``abbr`` over all shards, from the newest run that
    kept any ({} when none did)."""
    shard = re.compile(re.escape(abbr) + r'_\d+\.json')
    for run_dir in reversed(run_dirs):
        folder = os.path.join(run_dir, 'predictions', model, FOLDER)
        whole = os.path.join(folder, f'{abbr}.json')
        paths = (
            [whole]  # as report.results reads predictions: the unsplit file first
            if os.path.isfile(whole)
            else [
                p
                for p in glob.glob(os.path.join(folder, f'{glob.escape(abbr)}_*.json'))
                if shard.fullmatch(os.path.basename(p))
            ]
        )
        found = {}
        for path in sorted(paths):
            found.update(read_token_loss_file(path))
        if found:
            return found
    return {}
