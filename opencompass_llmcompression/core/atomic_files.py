"""Files and folders that appear whole or not at all: written under a temporary name in the
target's folder, renamed onto the target when complete, removed on any failure.

The rename is atomic within one file system, which is why the temporary name lives beside
the target: a reader (another shard, a later run) sees the old file or the new one, never a
half-written one, and an error or Ctrl-C leaves no partial file behind. Temporary names
start with a dot and end in ``.tmp``.

    with atomic_write(path, 'w', encoding='utf-8') as f:   # the usual case
        json.dump(result, f)

``AtomicFile`` is the same as an object, for a writer whose temporary file must exist before
the data does (``llmcompression-zip`` creates it first to check the folder), or that must not
replace a file that appeared meanwhile (``replace=False``). ``atomic_folder`` does the same for
a folder built file by file.
"""

import errno
import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from typing import IO, Iterator


def _temporary_name(target: str) -> str:
    folder, name = os.path.split(os.path.abspath(target))
    return os.path.join(folder, f'.{name}.{secrets.token_hex(4)}.tmp')


class AtomicFile:
    """A new, empty temporary file beside ``target`` (``path``), created at once, so a folder
    that cannot be written fails here. ``commit()`` renames it onto ``target``; ``discard()``
    removes it. As a context manager: commit on success, discard on any exception.

    ``replace=False`` never replaces a file: ``commit()`` raises ``FileExistsError`` if
    ``target`` exists by then (a hard link, which fails on an existing name, where the file
    system has them). The file is created as ``open()`` would create it (0666 less the umask).
    """

    def __init__(self, target: str, replace: bool = True):
        self.target, self.replace = target, replace
        while True:
            self.path = _temporary_name(target)
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                continue

    def commit(self) -> None:
        if self.path is None:
            raise ValueError(f'{self.target}: already committed or discarded')
        if self.replace:
            os.replace(self.path, self.target)
        else:
            try:
                os.link(self.path, self.target)
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links: check, then rename
                if os.path.lexists(self.target):
                    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), self.target) from None
                os.replace(self.path, self.target)
            else:
                os.remove(self.path)
        self.path = None

    def discard(self) -> None:
        if self.path is not None and os.path.lexists(self.path):
            os.remove(self.path)
        self.path = None

    def __enter__(self) -> 'AtomicFile':
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            self.discard()
            return
        try:
            self.commit()
        except BaseException:
            self.discard()
            raise


@contextmanager
def atomic_write(target: str, mode: str = 'w', **open_kwargs) -> Iterator[IO]:
    """An open file whose contents become ``target`` when the block ends without an error.

    ``mode`` and ``open_kwargs`` are ``open()``'s (``'w'``, ``'wb'``, ``encoding=...``);
    ``f.name`` is the temporary path (to checksum what was written before it is renamed)."""
    with AtomicFile(target) as file, open(file.path, mode, **open_kwargs) as f:
        yield f


@contextmanager
def atomic_folder(target: str, replace: bool = False) -> Iterator[str]:
    """An empty temporary folder beside ``target``, renamed to ``target`` when the block ends
    without an error, and removed otherwise.

    If ``target`` exists by then: ``replace=True`` sets it aside and removes it (a folder left
    incomplete before); otherwise the existing one is kept and the new one removed (another
    process built it meanwhile: the caller reads, and checks, what is there)."""
    tmp = tempfile.mkdtemp(
        prefix=f'.{os.path.basename(target)}.', suffix='.tmp', dir=os.path.dirname(os.path.abspath(target))
    )
    try:
        yield tmp
        if replace and os.path.lexists(target):
            discard_folder(target)
        try:
            os.rename(tmp, target)
        except OSError:
            if replace or not os.path.isdir(target):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def discard_folder(folder: str) -> None:
    """Remove ``folder``: first renamed out of the way (at once), then deleted, so no reader
    ever finds it half removed."""
    aside = tempfile.mkdtemp(prefix='.discarded-', dir=os.path.dirname(os.path.abspath(folder)))
    try:
        os.rename(folder, os.path.join(aside, 'folder'))
    finally:
        shutil.rmtree(aside, ignore_errors=True)
