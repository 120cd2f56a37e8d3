"""Whether a downloaded file is whole, checked as its bytes arrive.

``WholeFile`` takes the bytes in order (``update``) and at the end (``finish``) gives their
SHA-256, after checking that a gzip file decompresses to its end (every member's CRC-32 and
length, as ``gzip -t`` does; after the last member zero bytes of padding only) and, when
given, the MD5. Fed as
the download writes, it costs no second read of the file; ``check_whole`` runs it on a file
already on disk.
"""

import hashlib
import zlib
from typing import Optional

from .errors import CollectError

_GZIP = 31  # zlib's window bits for one gzip member, header and trailer checked


class WholeFile:
    """The running checks of one file: ``gzip`` to decompress it (a ``.gz`` file), ``md5``
    (hex) to compare, ``name`` for the messages."""

    def __init__(self, name: str, gzip: bool, md5: Optional[str] = None):
        self.name, self.md5 = name, md5.lower() if md5 else None
        self.sha256 = hashlib.sha256()
        self._md5 = hashlib.md5() if md5 else None
        self._inflate = zlib.decompressobj(_GZIP) if gzip else None
        self._members, self._pending = 0, False  # whole members; bytes of an unfinished one
        self._error: Optional[str] = None

    def update(self, block: bytes) -> None:
        self.sha256.update(block)
        if self._md5 is not None:
            self._md5.update(block)
        if self._inflate is None or self._error:
            return
        data = block
        try:
            while data:
                if not self._pending:  # between members: zero bytes pad, as gzip allows
                    data = data.lstrip(b'\0')
                    if not data:
                        break
                self._inflate.decompress(data)  # the output is not kept: only whether it decodes
                self._pending = not self._inflate.eof
                if self._pending:
                    break
                self._members += 1
                data = self._inflate.unused_data
                self._inflate = zlib.decompressobj(_GZIP)
        except zlib.error as e:
            self._error = f'damaged after {self._members} whole gzip members ({e})'

    def finish(self) -> str:
        """The SHA-256 (hex) of all the bytes; ``CollectError`` naming the file if it is not
        whole."""
        if self._md5 is not None and self._md5.hexdigest() != self.md5:
            raise CollectError(f'{self.name}: MD5 {self._md5.hexdigest()}, the server says {self.md5}')
        if self._inflate is not None:
            if self._error:
                raise CollectError(f'{self.name}: not a whole gzip file: {self._error}')
            if self._members == 0 or self._pending:
                raise CollectError(
                    f'{self.name}: not a whole gzip file: cut short after {self._members} whole members'
                )
        return self.sha256.hexdigest()


def check_whole(path: str, name: str, md5: Optional[str] = None) -> str:
    """``WholeFile`` over the file ``path`` (a gzip file when ``name`` ends in ``.gz``): its
    SHA-256 (hex), or ``CollectError``."""
    check = WholeFile(name, name.endswith('.gz'), md5)
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            check.update(block)
    return check.finish()
