"""Reading a corpus file: its non-empty documents, in corpus order.

Reads ``{name}.jsonl``, ``{name}.json`` or ``{name}.parquet`` (also under a ``data/``
subfolder, as a download of the ``hkust-nlp/llm-compression`` hub dataset lays them out), rows
in the hub dataset's shape: ``content`` (the text), ``subset`` and ``meta``. A relative
``path`` is resolved under ``$COMPASS_DATA_CACHE`` as OpenCompass resolves data paths; a path
of the form ``owner/name`` that is not a local folder is loaded from the Hugging Face hub.
"""

import json
import os
import re
from typing import List, Optional

from .checksums import file_sha256
from .token_stream import tokenizable

EXTENSIONS = ('jsonl', 'json', 'parquet')
HUB_ID = re.compile(r'^[\w.-]+/[\w.-]+$')
HOW_TO_GET = ('Download the paper\'s corpora with `huggingface-cli download '
              'hkust-nlp/llm-compression --repo-type dataset --local-dir data/llm-compression` '
              '(or build your own with the same fields), or pass path=FOLDER.')


class CorpusError(ValueError):
    """A corpus that cannot be read: the message names the file, the problem and the fix."""


def resolve_folder(path: str) -> str:
    if os.path.isabs(path):
        return path
    return os.path.join(os.environ.get('COMPASS_DATA_CACHE', ''), path)


def is_hub_id(path: str) -> bool:
    """``owner/name`` names a hub dataset; ``data/...`` is always a local folder."""
    return bool(HUB_ID.match(path)) and path.split('/')[0] not in ('data', '.', '..')


def find_corpus_file(folder: str, name: str) -> Optional[str]:
    for sub in ('', 'data'):
        for ext in EXTENSIONS:
            candidate = os.path.join(folder, sub, f'{name}.{ext}')
            if os.path.isfile(candidate):
                return candidate
    return None


def read_records(filename: str) -> List[dict]:
    if filename.endswith('.parquet'):
        import pyarrow.parquet as pq
        return pq.read_table(filename).to_pylist()
    with open(filename, encoding='utf-8') as f:
        text = f.read()
    if filename.endswith('.json') and text.lstrip().startswith('['):
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise CorpusError(f'{filename} is not valid JSON ({e}).') from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise CorpusError(f'line {number} of {filename} is not JSON ({e.msg}); every line '
                              'must be one JSON object with a "content" field.') from None
    return records


def check_manifest(filename: str, name: str) -> None:
    """A corpus built by ``llmcompression-corpus`` must match its manifest."""
    manifest_path = os.path.join(os.path.dirname(filename), f'{name}.manifest.json')
    if not os.path.isfile(manifest_path):
        return
    with open(manifest_path, encoding='utf-8') as f:
        manifest = json.load(f)
    if manifest.get('file') == os.path.basename(filename) and \
            manifest.get('sha256') != file_sha256(filename):
        raise CorpusError(f'{filename} does not match its manifest {manifest_path} (checksum '
                          'differs): the corpus changed after it was built. Rebuild it, or '
                          'delete the manifest if the change is intended.')


def read_hub(repo: str, name: str) -> List[dict]:
    from datasets import load_dataset
    return list(load_dataset(repo, name=name, split='test'))


def load_corpus(path: str, name: str, samples: Optional[int] = None) -> List[dict]:
    """The corpus's non-empty documents as ``{content, subset, meta}`` dicts, in order.

    A lone surrogate (valid in JSON, not in UTF-8, so neither Arrow nor a tokenizer takes it)
    becomes U+FFFD: still one character, and 3 UTF-8 bytes as its own encoding would be."""
    if not name or os.sep in name or '/' in name or name in ('.', '..'):
        raise CorpusError(f'corpus name {name!r} must be a plain file name such as "cc", '
                          '"python" or "arxiv_math".')
    folder = resolve_folder(path)
    filename = find_corpus_file(folder, name) if os.path.isdir(folder) else None
    if filename is not None:
        check_manifest(filename, name)
        records, source = read_records(filename), filename
    elif not os.path.isdir(folder) and is_hub_id(path):
        try:
            records, source = read_hub(path, name), f'{path} (hub, config {name})'
        except Exception as e:
            raise CorpusError(f'corpus "{name}" not found: {folder} is not a folder and the hub '
                              f'dataset {path} could not be loaded ({type(e).__name__}: '
                              f'{e}). {HOW_TO_GET}') from None
    else:
        looked = [os.path.join(folder, s, f'{name}.{x}') for s in ('', 'data')
                  for x in EXTENSIONS]
        raise CorpusError(f'corpus "{name}" not found; looked for: {", ".join(looked)}. '
                          f'{HOW_TO_GET}')
    documents = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict) or not isinstance(record.get('content'), str):
            raise CorpusError(f'record {number} of {source} has no "content" text field; every '
                              'record needs "content" (a string), as in hkust-nlp/llm-compression.')
        if record['content']:
            meta = record.get('meta')
            documents.append(dict(content=tokenizable(record['content']),
                                  subset=str(record.get('subset') or name),
                                  meta=meta if isinstance(meta, str) else json.dumps(meta)))
        if samples is not None and len(documents) >= samples:
            break
    if not documents:
        raise CorpusError(f'corpus "{name}" ({source}) has no non-empty document.')
    return documents
