"""Many downloads into one collection: what is missing, a few at a time, with progress.

    wanted = [Wanted(url, 'CC-MAIN-2025-33/x.warc.wet.gz', meta={...}), ...]
    done = fetch_all(client, collection, wanted, jobs=2)

Files the collection already holds whole are not fetched again; the others are downloaded by
``jobs`` threads at most (bounded concurrency: the client's waits and ``min_interval`` hold
across them), each recorded in the collection as soon as it is whole. Progress goes to
standard error (tqdm): files, bytes, rate and the time left at that rate. A file that cannot
be fetched is named at the end, after the others. Ctrl-C stops every download at its next
block, or at once where it waits on the network, and leaves their ``.part`` files for the
next run to resume.
"""

import os
import queue
import threading
from dataclasses import dataclass, field
from typing import Optional

from tqdm import tqdm

from .collection import Collection
from .errors import CollectError
from .http import Client


@dataclass
class Wanted:
    """A file to fetch: its URL, its path inside the collection folder, and its record's
    ``meta``; ``size`` (bytes) and ``sha256`` when the service lists them."""

    url: str
    path: str
    meta: dict = field(default_factory=dict)
    size: Optional[int] = None
    sha256: Optional[str] = None


@dataclass
class Fetch:
    """What ``fetch_all`` did: files fetched now, files the collection already held, bytes
    fetched now."""

    fetched: int = 0
    held: int = 0
    bytes: int = 0


class _Stopped(Exception):
    pass


def fetch_all(
    client: Client, collection: Collection, wanted: list, jobs: int = 2, progress: bool = True
) -> Fetch:
    """Fetch every ``wanted`` file the collection lacks (see the module's docstring); returns
    the counts. A file that fails (``CollectError``: refused, damaged, retries spent) does not
    stop the others; at the end one ``CollectError`` names each that failed. Ctrl-C or an
    unexpected error stops them all and is raised. What was whole by then stays recorded."""
    result = Fetch()
    missing = []
    for item in wanted:
        if collection.has(client.url(item.url)):
            result.held += 1
        else:
            missing.append(item)
    if not missing:
        return result
    stop, lock = threading.Event(), threading.Lock()
    bar = tqdm(total=len(missing), unit='file', disable=not progress, desc='fetching', dynamic_ncols=True)

    def advance(n: int) -> None:
        if stop.is_set():
            raise _Stopped
        with lock:
            result.bytes += n
            bar.set_postfix_str(f'{result.bytes / 1e6:.1f} MB, {_rate(bar, result.bytes)}', refresh=False)

    def one(item: Wanted) -> None:
        dest = os.path.join(collection.folder, item.path)
        fetched = client.download(item.url, dest, size=item.size, sha256=item.sha256, progress=advance)
        collection.add(fetched, item.meta)
        with lock:
            result.fetched += 1
            bar.update(1)

    todo: queue.Queue = queue.Queue()
    for item in missing:
        todo.put(item)
    errors: list = []  # what stops every download
    failed: list = []  # files that could not be fetched, each with why

    def worker() -> None:
        while not stop.is_set():
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                one(item)
            except _Stopped:
                return
            except CollectError as error:  # this file only: the others go on
                url, said = client.url(item.url), str(error)
                with lock:
                    failed.append(said if url in said else f'{url}: {said}')
            except BaseException as error:  # anything else stops them all
                errors.append(error)
                stop.set()
                return

    # daemon threads: Ctrl-C returns at once even while a download waits on a stalled server;
    # what they wrote is a prefix of the file, which the next run resumes
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(min(max(1, jobs), len(missing)))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # in short waits, so that Ctrl-C reaches this thread
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join(1.0)
        raise
    finally:
        bar.close()
    if errors:
        raise errors[0]
    if failed:
        raise CollectError(
            f'{len(failed)} of {len(missing)} files could not be fetched (the other {result.fetched} '
            'are recorded; run the same command again to try these again): ' + '; '.join(failed)
        )
    return result


def _rate(bar: tqdm, nbytes: int) -> str:
    elapsed = bar.format_dict.get('elapsed') or 0
    return f'{nbytes / elapsed / 1e6:.1f} MB/s' if elapsed > 0 else '-'
