"""A corpus by folder and name -> its non-empty documents ``{content, subset, meta}``, in order.

    FOLDER/[data/]NAME.{jsonl,json,parquet,jsonl.gz}    the corpus file (``locate_corpus``)
    FOLDER/[data/]NAME.manifest.json                    llmcompression-corpus's, checked if there

A relative folder lies under ``$COMPASS_DATA_CACHE`` (as OpenCompass resolves data paths); an
``owner/name`` that is no local folder is a Hugging Face hub dataset. How a file's bytes become
records is ``corpus_formats``.
"""

import itertools
import json
import logging
import os
import re
from dataclasses import dataclass
from typing import List, Optional

from .checksums import file_sha256
from .corpus_formats import CorpusError, read_located_records
from .logs import LOGGER
from .token_stream import tokenizable

EXTENSIONS = ('jsonl', 'json', 'parquet', 'jsonl.gz')
COMPRESSED = ('.gz', '.bz2', '.xz', '.zst')
# The file names OpenCompass's built-in llm_compression config reads and its README's download
# script writes (commoncraw.jsonl, python.jsonl, arxiv_math.jsonl), where they differ.
OPENCOMPASS_NAMES = {'cc': 'commoncraw'}
HUB_ID = re.compile(r'^[\w.-]+/[\w.-]+$')
HOW_TO_GET = (
    'Download the paper\'s corpora with `hf download '
    'hkust-nlp/llm-compression --repo-type dataset --local-dir data/llm-compression`, '
    'or build your own with the same fields.'
)


class CorpusNotFound(CorpusError):
    """No file of the corpus in its folder, nor a hub dataset: the message says where it
    looked and how to get the corpora; a caller adds how its user names the folder."""


def resolve_folder(path: str) -> str:
    """A data folder as OpenCompass resolves it: a relative one under ``$COMPASS_DATA_CACHE``."""
    if os.path.isabs(path):
        return path
    return os.path.join(os.environ.get('COMPASS_DATA_CACHE', ''), path)


def is_hub_id(path: str) -> bool:
    """``owner/name`` names a hub dataset; ``data/...`` is always a local folder."""
    return bool(HUB_ID.match(path)) and path.split('/')[0] not in ('data', '.', '..')


def corpus_name(filename: str) -> str:
    """The corpus a file holds, by its file name: ``cc`` for ``cc.jsonl``, ``cc.jsonl.gz`` or
    ``data/cc.parquet`` (a compression suffix, then the format's, taken off)."""
    name = os.path.basename(filename)
    if name.endswith(COMPRESSED):
        name = os.path.splitext(name)[0]
    return os.path.splitext(name)[0]


def manifest_path(filename: str) -> str:
    """Where ``llmcompression-corpus`` writes a corpus file's manifest: ``NAME.manifest.json``
    beside ``NAME.jsonl``."""
    return os.path.join(os.path.dirname(filename), f'{corpus_name(filename)}.manifest.json')


@dataclass(frozen=True)
class CorpusFile:
    """A corpus file and the manifest ``llmcompression-corpus`` wrote beside it (None: none)."""

    path: str
    manifest: Optional[str] = None

    @classmethod
    def at(cls, filename: str, check: bool = True) -> 'CorpusFile':
        """The file ``filename`` with its manifest, checked (``check_manifest``) unless told."""
        manifest = manifest_path(filename)
        corpus = cls(filename, manifest if os.path.isfile(manifest) else None)
        if check:
            check_manifest(corpus)
        return corpus


def locate_corpus(
    path: str, name: str, logger: Optional[logging.Logger] = LOGGER, check: bool = True
) -> Optional[CorpusFile]:
    """Corpus ``name`` of the data folder ``path``: its file and manifest, the manifest checked
    unless told; None where the folder (or, for a relative path, ``resolve_folder``'s) holds no
    such file. Where there is no ``{name}.*`` but the file OpenCompass's built-in config names
    (``commoncraw.jsonl`` for ``cc``), that file is the corpus, and ``logger`` (if any) says so.
    CorpusError for a name that is not a plain file name, or a file that fails its manifest."""
    if not name or os.sep in name or '/' in name or name in ('.', '..'):
        raise CorpusError(
            f'corpus name {name!r} must be a plain file name such as "cc", "python" or "arxiv_math".'
        )
    folder = resolve_folder(path)
    if not os.path.isdir(folder):
        return None
    filename = find_corpus_file(folder, name)
    builtin = OPENCOMPASS_NAMES.get(name)
    if filename is None and builtin:
        filename = find_corpus_file(folder, builtin)
        if filename is not None and logger is not None:
            logger.warning(
                f'corpus "{name}": reading {filename}, the file OpenCompass\'s '
                f'built-in llm_compression config names (there is no {name}.jsonl)'
            )
    return None if filename is None else CorpusFile.at(filename, check)


def find_corpus_file(folder: str, name: str) -> Optional[str]:
    """``{folder}/[data/]{name}.{ext}``, the first of ``EXTENSIONS`` there, or None."""
    for sub in ('', 'data'):
        for ext in EXTENSIONS:
            candidate = os.path.join(folder, sub, f'{name}.{ext}')
            if os.path.isfile(candidate):
                return candidate
    return None


def documents_from(
    located, source: str, subset: str, samples: Optional[int] = None, records: Optional[int] = None
) -> List[dict]:
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
            documents.append(
                dict(
                    content=tokenizable(record['content']),
                    subset=str(record.get('subset') or subset),
                    meta=meta if isinstance(meta, str) else json.dumps(meta),
                )
            )
        if samples is not None and len(documents) >= samples:
            break
    if not documents:
        where = f'the first {records} records of {source} hold' if records is not None else f'{source} has'
        raise CorpusError(f'{where} no non-empty document: every "content" is "".')
    return documents


def check_record(record, where: str, source: str) -> None:
    """A record whose ``content`` is a string passes; anything else is named with its fix."""
    if not isinstance(record, dict):
        raise CorpusError(
            f'{source}, {where}: {_kind(record)}, not a JSON object; each '
            'record must be an object such as {"content": "..."}.'
        )
    content = record.get('content')
    if isinstance(content, str):
        return
    if 'content' not in record:
        others = [k for k in ('text', 'document', 'body', 'code', 'raw_content') if k in record]
        hint = (
            f'; it has "{others[0]}": rename that field to "content" (e.g. `jq -c '
            f'\'{{content: .{others[0]}}} + del(.{others[0]})\'`), or build the corpus with '
            f'llmcompression-corpus --records FILE, which reads "text"'
            if others
            else ''
        )
        raise CorpusError(
            f'{source}, {where}: no "content" field (fields: '
            f'{", ".join(sorted(map(str, record))[:8]) or "none"}){hint}. Every '
            'record needs "content" (a string), as in hkust-nlp/llm-compression.'
        )
    fix = (
        'join the pieces into one string'
        if isinstance(content, list)
        else 'use "" for an empty document or drop the record'
        if content is None
        else 'write the text as a JSON string'
    )
    raise CorpusError(f'{source}, {where}: "content" is {_kind(content)}, not a string; {fix}.')


def _kind(value) -> str:
    return {
        type(None): 'null',
        bool: 'a boolean',
        int: 'a number',
        float: 'a number',
        list: 'a list',
        dict: 'an object',
        str: 'a string',
    }.get(type(value), type(value).__name__)


def check_manifest(corpus: CorpusFile) -> None:
    """A corpus file must have the SHA-256 its manifest records for it. A manifest that names
    another file (``cc.jsonl`` beside ``cc.jsonl.gz``) says nothing about this one; one that is
    not a JSON object raises CorpusError, as does a checksum that differs."""
    if corpus.manifest is None:
        return
    manifest = _read_manifest(corpus)
    if manifest.get('file') == os.path.basename(corpus.path) and manifest.get('sha256') != file_sha256(
        corpus.path
    ):
        raise CorpusError(
            f'{corpus.path} does not match its manifest {corpus.manifest} '
            '(checksum differs): the corpus changed after it was built. Rebuild '
            'it, or delete the manifest if the change is intended.'
        )


def _read_manifest(corpus: CorpusFile) -> dict:
    try:
        with open(corpus.manifest, encoding='utf-8') as f:
            manifest = json.load(f)
        problem = None if isinstance(manifest, dict) else f'it holds {_kind(manifest)}'
    except ValueError as e:  # not UTF-8, not JSON
        problem = f'{type(e).__name__}: {e}'
    if problem:
        raise CorpusError(
            f'{corpus.manifest}, the manifest of {corpus.path}, is not the JSON '
            f'object llmcompression-corpus writes ({problem}): rebuild the corpus, '
            'or delete the manifest to read the file unchecked.'
        )
    return manifest


def read_hub(repo: str, name: str) -> List[tuple]:
    """``[(where, record)]`` of the ``test`` split of config ``name`` of the hub dataset
    ``repo``; CorpusNotFound when it cannot be loaded."""
    try:
        from datasets import load_dataset

        rows = load_dataset(repo, name=name, split='test')
    except (OSError, ValueError, ImportError) as e:  # not found (a FileNotFoundError),
        # offline or refused (OSErrors), no such config (ValueError), no `datasets` package
        raise CorpusNotFound(
            f'corpus "{name}" not found: {resolve_folder(repo)} is not a '
            f'folder and the hub dataset {repo} could not be loaded '
            f'({type(e).__name__}: {e}). {HOW_TO_GET}'
        ) from None
    return [(f'row {i}', r) for i, r in enumerate(rows, start=1)]


def not_found(path: str, name: str) -> str:
    """Where corpus ``name`` was looked for in the data folder ``path``, and how to get it."""
    folder, builtin = resolve_folder(path), OPENCOMPASS_NAMES.get(name)
    looked = [
        os.path.join(folder, s, f'{n}.{x}')
        for n in (name, builtin)
        if n
        for s in ('', 'data')
        for x in EXTENSIONS
    ]
    ours = {v: k for k, v in OPENCOMPASS_NAMES.items()}.get(name)
    hint = (
        f' "{name}" is the name OpenCompass\'s built-in config gives the paper\'s '
        f'"{ours}" corpus; this plugin calls it "{ours}", and reads {name}.jsonl for it.'
        if ours
        else ''
    )
    return f'corpus "{name}" not found; looked for: {", ".join(looked)}.{hint} {HOW_TO_GET}'


def load_corpus(
    path: str,
    name: str,
    samples: Optional[int] = None,
    records: Optional[int] = None,
    logger: logging.Logger = LOGGER,
) -> List[dict]:
    """The corpus's non-empty documents as ``{content, subset, meta}`` dicts, in order.

    The file is ``locate_corpus``'s (its manifest checked); where the folder does not exist
    and ``path`` is ``owner/name``, the hub dataset's ``test`` split of config ``name``.
    ``samples`` and ``records`` limit them as in ``documents_from``. CorpusError names what is
    wrong and the fix; CorpusNotFound, where it looked."""
    corpus = locate_corpus(path, name, logger)
    if corpus is not None:
        located, source = read_located_records(corpus.path), corpus.path
    elif not os.path.isdir(resolve_folder(path)) and is_hub_id(path):
        located, source = read_hub(path, name), f'{path} (hub, config {name})'
    else:
        raise CorpusNotFound(not_found(path, name))
    return documents_from(located, source, name, samples, records)
