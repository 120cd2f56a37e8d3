"""The corpus file and its manifest, both written whole or not at all.

    write_corpus(docs, out, name, subset, report, settings, provenance) -> {out}/{name}.jsonl

A row is ``{content, subset, meta}``; ``meta`` holds the document's ``source``, its
``license`` and ``date`` when known, the date's ``date_source``, and what its reader found
(``url``, ``dump``, ``repo``...). The manifest (``NAME.manifest.json``) holds:

    file, sha256, documents, chars, bytes   the corpus file, checked when it is read
    skipped, faults                          documents left out by reason; how many for a fault
    chars_short_of_budget                    characters --budget asked for beyond what was left
    settings                                 the build's arguments
    inputs                                   every input: path, kind, bytes and SHA-256 (files)
    dumps                                    Common Crawl dump ids of the web inputs

With ``--split-by``, each period's manifest counts in ``skipped`` and ``faults`` only the
documents dated in its period (a skipped document with no date of its own belongs to none; the
command line prints the build's whole count), and ``dumps`` names the dumps its documents
came from.
    collections                              (when inputs lie in llmcompression-collect folders)
                                             each collection.json: path, SHA-256, kind, query
    period                                   first and last day of the kept documents, by source
    filters                                  every filter that ran: name, parameters, removed

Nothing in it depends on the time or place of the build: the same inputs and seed give the
same bytes.
"""

import json
import os
from typing import List, Optional

from ..core.atomic_files import atomic_write
from ..core.checksums import file_sha256
from ..core.corpus_files import manifest_path
from .dates import period
from .documents import Document, Report
from .spool import loaded


def row_meta(doc: Document) -> dict:
    meta = {'source': doc.source}
    if doc.licence:
        meta['license'] = doc.licence
    if doc.date:
        meta['date'] = doc.date.isoformat()
        if doc.date_source:
            meta['date_source'] = doc.date_source
    meta.update(doc.meta)
    return meta


def input_record(path: str, kind: str, sha256: Optional[str] = None) -> dict:
    """An input as the manifest lists it: a file with its bytes and SHA-256 (``sha256`` when
    already computed), a folder as such."""
    if os.path.isfile(path):
        digest = sha256 or file_sha256(path)
        return {'path': path, 'kind': kind, 'bytes': os.path.getsize(path), 'sha256': digest}
    return {'path': path, 'kind': kind, 'folder': True}


COLLECTION_FILE = 'collection.json'  # what llmcompression-collect writes in its folders


def collections_of(paths: List[str]) -> List[dict]:
    """The collections the inputs ``paths`` were fetched into: for each input, the nearest
    ``collection.json`` in its folder or one above it (relative paths: up to the working
    folder), listed once each with its path, SHA-256, ``kind`` and ``query``."""
    found: dict = {}
    for path in paths:
        folder = os.path.dirname(os.path.normpath(path))
        while True:
            candidate = os.path.join(folder, COLLECTION_FILE)
            if candidate in found or os.path.isfile(candidate):
                found.setdefault(candidate, None)
                break
            parent = os.path.dirname(folder)
            if parent == folder or not folder:
                break
            folder = parent
    records = []
    for candidate in sorted(found):
        try:
            with open(candidate, encoding='utf-8') as f:
                record = json.load(f)
        except (OSError, ValueError):
            continue
        if not (isinstance(record, dict) and {'kind', 'query', 'files'} <= record.keys()):
            continue  # not one llmcompression-collect wrote: not named
        digest = file_sha256(candidate)
        records.append(
            {'path': candidate, 'sha256': digest, 'kind': record['kind'], 'query': record['query']}
        )
    return records


def write_corpus(
    docs: List[Document], out: str, name: str, subset: str, report: Report, settings: dict, provenance: dict
) -> str:
    """``{out}/{name}.jsonl`` and its manifest (``docs``: Documents or SpooledDocuments, loaded
    one at a time); returns the corpus file's path. OSError when
    either cannot be written (then neither is left behind)."""
    os.makedirs(out, exist_ok=True)
    target = os.path.join(out, f'{name}.jsonl')
    n_chars = n_bytes = 0
    with atomic_write(target, 'w', encoding='utf-8') as f:
        for doc in map(loaded, docs):
            f.write(
                json.dumps(
                    {'content': doc.content, 'subset': subset, 'meta': row_meta(doc)}, ensure_ascii=False
                )
                + '\n'
            )
            n_chars += len(doc.content)
            n_bytes += len(doc.content.encode('utf-8', 'surrogatepass'))
        f.flush()
        manifest = {
            'file': os.path.basename(target),
            'sha256': file_sha256(f.name),
            'documents': len(docs),
            'chars': n_chars,
            'bytes': n_bytes,
            'skipped': dict(sorted(report.skipped.items())),
            'faults': report.faults,
            'chars_short_of_budget': report.chars_short_of_budget,
            'settings': settings,
            'inputs': provenance.get('inputs', []),
            'dumps': provenance.get('dumps', []),
            'period': period(docs),
            'filters': report.filters,
        }
        if provenance.get('collections'):
            manifest['collections'] = provenance['collections']
        with atomic_write(manifest_path(target), 'w', encoding='utf-8') as m:
            json.dump(manifest, m, indent=1, ensure_ascii=False)
    return target
