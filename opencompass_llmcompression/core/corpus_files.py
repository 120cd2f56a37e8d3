"""Reading a corpus file: its non-empty documents, in corpus order.

Reads ``{name}.jsonl``, ``{name}.json``, ``{name}.parquet`` or ``{name}.jsonl.gz`` (also under
a ``data/`` subfolder, as a download of the ``hkust-nlp/llm-compression`` hub dataset lays them
out), rows
in the hub dataset's shape: ``content`` (the text), ``subset`` and ``meta``. A relative
``path`` is resolved under ``$COMPASS_DATA_CACHE`` as OpenCompass resolves data paths; a path
of the form ``owner/name`` that is not a local folder is loaded from the Hugging Face hub.
How a file's bytes become records (encodings, layouts, compression) is ``corpus_formats``.
"""

import itertools
import json
import logging
import os
import re
from typing import List, Optional

from .checksums import file_sha256
from .corpus_formats import CorpusError, read_located_records
from .logs import LOGGER
from .token_stream import tokenizable

EXTENSIONS = ('jsonl', 'json', 'parquet', 'jsonl.gz')
# The file names OpenCompass's built-in llm_compression config reads and its README's download
# script writes (commoncraw.jsonl, python.jsonl, arxiv_math.jsonl), where they differ.
OPENCOMPASS_NAMES = {'cc': 'commoncraw'}
HUB_ID = re.compile(r'^[\w.-]+/[\w.-]+$')
HOW_TO_GET = ('Download the paper\'s corpora with `huggingface-cli download '
              'hkust-nlp/llm-compression --repo-type dataset --local-dir data/llm-compression` '
              '(or build your own with the same fields), or pass path=FOLDER.')


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


def documents_from(located, source: str, subset: str, samples: Optional[int] = None,
                   records: Optional[int] = None) -> List[dict]:
    """``[(where, record)]`` -> the non-empty documents ``{content, subset, meta}``, in order;
    the first record without a ``content`` string stops with the record and the fix.

    ``samples``: the first that many non-empty documents. ``records``: the documents of the
    first that many records, the empty ones among them dropped (the paper's ``main.py``
    slices its dataset, ``test[:file_num]``, then filters out empty contents).

    A lone surrogate (valid in JSON, not in UTF-8, so neither Arrow nor a tokenizer takes it)
    becomes U+FFFD: still one character, and 3 UTF-8 bytes as its own encoding would be."""
    documents = []
    for where, record in itertools.islice(located, records):
        check_record(record, where, source)
        if record['content']:
            meta = record.get('meta')
            documents.append(dict(content=tokenizable(record['content']),
                                  subset=str(record.get('subset') or subset),
                                  meta=meta if isinstance(meta, str) else json.dumps(meta)))
        if samples is not None and len(documents) >= samples:
            break
    if not documents:
        where = (f'the first {records} records of {source} hold' if records is not None
                 else f'{source} has')
        raise CorpusError(f'{where} no non-empty document: every "content" is "".')
    return documents


def check_record(record, where: str, source: str) -> None:
    """A record whose ``content`` is a string passes; anything else is named with its fix."""
    if not isinstance(record, dict):
        raise CorpusError(f'{source}, {where}: {_kind(record)}, not a JSON object; each '
                          'record must be an object such as {"content": "..."}.')
    content = record.get('content')
    if isinstance(content, str):
        return
    if 'content' not in record:
        others = [k for k in ('text', 'document', 'body', 'code', 'raw_content') if k in record]
        hint = (f'; it has "{others[0]}": rename that field to "content" (e.g. `jq -c '
                f'\'{{content: .{others[0]}}} + del(.{others[0]})\'`), or build the corpus with '
                f'llmcompression-corpus --records FILE, which reads "text"' if others else '')
        raise CorpusError(f'{source}, {where}: no "content" field (fields: '
                          f'{", ".join(sorted(map(str, record))[:8]) or "none"}){hint}. Every '
                          'record needs "content" (a string), as in hkust-nlp/llm-compression.')
    fix = ('join the pieces into one string' if isinstance(content, list) else
           'use "" for an empty document or drop the record' if content is None else
           'write the text as a JSON string')
    raise CorpusError(f'{source}, {where}: "content" is {_kind(content)}, not a string; '
                      f'{fix}.')


def _kind(value) -> str:
    return {type(None): 'null', bool: 'a boolean', int: 'a number', float: 'a number',
            list: 'a list', dict: 'an object', str: 'a string'}.get(type(value),
                                                                   type(value).__name__)


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


def read_hub(repo: str, name: str) -> List[tuple]:
    from datasets import load_dataset
    return [(f'row {i}', r) for i, r in
            enumerate(load_dataset(repo, name=name, split='test'), start=1)]


def load_corpus(path: str, name: str, samples: Optional[int] = None,
                records: Optional[int] = None,
                logger: logging.Logger = LOGGER) -> List[dict]:
    """The corpus's non-empty documents as ``{content, subset, meta}`` dicts, in order.

    ``samples`` and ``records`` limit them as in ``documents_from``. Where the folder holds no
    ``{name}.*`` but the file OpenCompass's built-in config names (``commoncraw.jsonl`` for
    ``cc``), that file is read, and ``logger`` says so."""
    if not name or os.sep in name or '/' in name or name in ('.', '..'):
        raise CorpusError(f'corpus name {name!r} must be a plain file name such as "cc", '
                          '"python" or "arxiv_math".')
    folder = resolve_folder(path)
    filename = find_corpus_file(folder, name) if os.path.isdir(folder) else None
    builtin = OPENCOMPASS_NAMES.get(name)
    if filename is None and builtin and os.path.isdir(folder):
        filename = find_corpus_file(folder, builtin)
        if filename is not None:
            logger.warning(f'corpus "{name}": reading {filename}, the file OpenCompass\'s '
                           f'built-in llm_compression config names (there is no {name}.jsonl)')
    if filename is not None:
        check_manifest(filename, name)
        located, source = read_located_records(filename), filename
    elif not os.path.isdir(folder) and is_hub_id(path):
        try:
            located, source = read_hub(path, name), f'{path} (hub, config {name})'
        except (OSError, ValueError, ImportError) as e:  # not found (a FileNotFoundError),
            # offline or refused (OSErrors), no such config (ValueError), no `datasets` package
            raise CorpusError(f'corpus "{name}" not found: {folder} is not a folder and the hub '
                              f'dataset {path} could not be loaded ({type(e).__name__}: '
                              f'{e}). {HOW_TO_GET}') from None
    else:
        looked = [os.path.join(folder, s, f'{n}.{x}') for n in (name, builtin) if n
                  for s in ('', 'data') for x in EXTENSIONS]
        ours = {v: k for k, v in OPENCOMPASS_NAMES.items()}.get(name)
        hint = (f' "{name}" is the name OpenCompass\'s built-in config gives the paper\'s '
                f'"{ours}" corpus; this plugin calls it "{ours}": name="{ours}" (or --task_name '
                f'{ours}), which also reads {name}.jsonl.' if ours else '')
        raise CorpusError(f'corpus "{name}" not found; looked for: {", ".join(looked)}.{hint} '
                          f'{HOW_TO_GET}')
    return documents_from(located, source, name, samples, records)
