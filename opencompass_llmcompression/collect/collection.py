"""The collection manifest: ``DIR/collection.json``, what a folder of fetched files holds.

    {"format": 1, "kind": "cc", "query": {"dump": "CC-MAIN-2023-40", "files": 180, "seed": 0},
     "created_at": "2026-12-06T09:00:00Z", "updated_at": "...",
     "files": [{"url": ..., "path": "relative/to/DIR", "size": bytes, "sha256": hex,
                "fetched_at": ISO UTC, "etag": ... or null, "meta": {...}}, ...]}

``kind`` and ``query`` say what the folder is a collection of; a folder is never shared by two
queries (``Collection.open`` refuses, naming both), so the same command run again resumes it
and another one needs another folder. The file is rewritten whole (atomically) after every
file added, so an interrupted collection loses at most the file being fetched, which the next
run resumes from its ``.part``. ``meta`` holds what the service says about a file (for a
repository its URL, ``createdAt``, ``pushedAt``, licence and stars; for a paper its id,
categories and version dates).
"""

import json
import os
import threading
from typing import Optional

from ..core.atomic_files import atomic_write
from ..core.checksums import file_sha256
from .http import CollectError, Fetched, utc_now

FILE = 'collection.json'
FORMAT = 1


class Collection:
    """A collection folder and its manifest. ``items``: the file records, in the order fetched
    (dicts as in the module's docstring). Safe to ``add`` to from several threads."""

    def __init__(self, folder: str, kind: str, query: dict, items: list, created_at: str):
        self.folder, self.kind, self.query = folder, kind, query
        self.items, self.created_at = items, created_at
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        return os.path.join(self.folder, FILE)

    @classmethod
    def open(cls, folder: str, kind: str, query: dict) -> 'Collection':
        """The collection in ``folder`` (new if it holds none; nothing is written until a file is
        added or ``save`` is called). ``query``: plain
        JSON values that define what is collected. Raises ``CollectError`` if the folder's
        manifest is unreadable or records another kind or query."""
        query = json.loads(json.dumps(query))  # as it will read back
        path = os.path.join(folder, FILE)
        if not os.path.exists(path):  # the folder is made when the first file comes
            return cls(folder, kind, query, [], utc_now())
        try:
            with open(path, encoding='utf-8') as f:
                record = json.load(f)
            old_kind, old_query, items = record['kind'], record['query'], record['files']
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise CollectError(
                f'{path}: not a readable collection manifest ({e}); move it away or use another --out'
            ) from None
        if (old_kind, old_query) != (kind, query):
            raise CollectError(
                f'{folder} holds a collection of {old_kind} {json.dumps(old_query, sort_keys=True)}, '
                f'not of {kind} {json.dumps(query, sort_keys=True)}; use another --out folder, or '
                'the same query to resume it'
            )
        return cls(folder, kind, query, items, record.get('created_at') or utc_now())

    def record(self, url: str) -> Optional[dict]:
        for item in self.items:
            if item['url'] == url:
                return item
        return None

    def has(self, url: str) -> bool:
        """Whether ``url`` was fetched whole and its file is still there, of its recorded size."""
        item = self.record(url)
        if item is None:
            return False
        path = os.path.join(self.folder, item['path'])
        return os.path.isfile(path) and os.path.getsize(path) == item['size']

    def add(self, fetched: Fetched, meta: Optional[dict] = None) -> dict:
        """Record ``fetched`` (a file inside the folder) with ``meta``, replacing an earlier
        record of its URL or of its path (the same file from another mirror), and save the
        manifest."""
        item = fetched.as_record()
        item['path'] = os.path.relpath(fetched.path, self.folder).replace(os.sep, '/')
        if item['path'].startswith('../'):
            raise CollectError(f'{fetched.path} lies outside the collection folder {self.folder}')
        item['meta'] = dict(meta or {})
        with self._lock:
            kept = [i for i in self.items if i['url'] != fetched.url and i['path'] != item['path']]
            self.items = kept + [item]
            self.save()
        return item

    def save(self) -> None:
        record = {
            'format': FORMAT,
            'kind': self.kind,
            'query': self.query,
            'created_at': self.created_at,
            'updated_at': utc_now(),
            'files': self.items,
        }
        os.makedirs(self.folder, exist_ok=True)
        with atomic_write(self.path, 'w', encoding='utf-8') as f:
            json.dump(record, f, indent=1, ensure_ascii=False)
            f.write('\n')

    def sha256(self) -> str:
        """SHA-256 (hex) of ``collection.json`` as saved."""
        return file_sha256(self.path)

    def paths(self) -> list:
        """The absolute paths of the files recorded, in the order fetched."""
        return [os.path.join(self.folder, item['path']) for item in self.items]
