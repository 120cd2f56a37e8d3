"""Reading the members of tar and zip archives in memory, safely: nothing is ever extracted to
disk, so a member named ``../../x`` or a link pointing out of the archive cannot write or read
anything outside it; every read is bounded, so an archive that expands to gigabytes costs at
most ``total_bytes`` of reading.

    for name, data in tar_files(tar, source, report, member_bytes, total_bytes, wanted): ...

Names come back normalised (``a/./b`` -> ``a/b``), relative, ``/``-separated. Members that are
not regular files are passed over, links included (never followed); a link whose target lies
outside the archive and a name that leaves it are recorded as faults (``Report.fault``), and
so is an archive whose reading passes ``total_bytes`` (its remaining members are not read), and
a tar cut short.
"""

import gzip
import io
import posixpath
import stat
import tarfile
import zipfile
import zlib
from typing import Callable, Iterator, Optional, Tuple

from .documents import Report

# What damaged archives raise while being read.
ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError)


class TooLarge(ValueError):
    """Data that expands past the bound it is read under."""


def safe_name(name: str) -> Optional[str]:
    """``name`` normalised and relative, or None when it is absolute or leaves the archive
    (``../x``, ``a/../../x``, a Windows drive)."""
    name = name.replace('\\', '/')
    if name.startswith('/') or (len(name) > 1 and name[1] == ':'):
        return None
    normal = posixpath.normpath(name)
    if normal == '.' or normal == '..' or normal.startswith('../'):
        return None
    return normal


def _link_leaves(name: str, target: str, relative_to_member: bool = True) -> bool:
    """Whether a link member's target lies outside the archive (a symbolic link's target is
    relative to its own folder, a hard link's to the archive's top)."""
    if target.startswith('/'):
        return True
    base = posixpath.dirname(name.replace('\\', '/')) if relative_to_member else ''
    return safe_name(posixpath.join(base, target)) is None


def gunzip(data: bytes, limit: int) -> bytes:
    """The bytes of a gzip stream (all its members), at most ``limit`` of them. TooLarge past
    the bound; ``ARCHIVE_ERRORS`` for a damaged or cut stream."""
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
        out = f.read(limit + 1)
    if len(out) > limit:
        raise TooLarge(f'expands past {limit} bytes')
    return out


def read_bounded(f, limit: int) -> bytes:
    """At most ``limit`` bytes from a file object; TooLarge if it holds more."""
    data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f'larger than {limit} bytes')
    return data


def tar_cut_short(tar: tarfile.TarFile) -> bool:
    """Whether a tar whose members were all iterated ends without its end-of-archive block:
    cut short (``tarfile`` ends its iteration silently at a cut header)."""
    tar.fileobj.seek(tar.offset)
    return tar.fileobj.read(tarfile.BLOCKSIZE) != tarfile.NUL * tarfile.BLOCKSIZE


def tar_files(
    tar: tarfile.TarFile,
    source: str,
    report: Report,
    member_bytes: int,
    total_bytes: int,
    wanted: Callable[[str, int], bool] = lambda name, size: True,
) -> Iterator[Tuple[str, Optional[bytes]]]:
    """``(name, data)`` of each regular member for which ``wanted(name, size)`` holds, in the
    archive's order; ``data`` is None for a member over ``member_bytes`` (not read: the caller
    says why it leaves it out). Faults go to ``report`` under ``source!member``. Errors of a
    damaged archive (``ARCHIVE_ERRORS``) propagate: the caller records them."""
    read = 0
    for info in tar:
        where = f'{source}!{info.name}'
        if info.issym() or info.islnk():
            if _link_leaves(info.name, info.linkname, info.issym()):
                report.fault('link out of the archive (not followed)', where)
            continue
        if not info.isfile():
            continue
        name = safe_name(info.name)
        if name is None:
            report.fault('member path outside the archive (not read)', where)
            continue
        if not wanted(name, info.size):
            continue
        if info.size > member_bytes:
            yield name, None
            continue
        read += info.size
        if read > total_bytes:
            report.fault(f'archive expands past {total_bytes} bytes (the rest not read)', where)
            return
        yield name, tar.extractfile(info).read(info.size)
    if tar_cut_short(tar):
        report.fault('archive cut short (the rest not read)', source)


def zip_files(
    archive: zipfile.ZipFile,
    source: str,
    report: Report,
    member_bytes: int,
    total_bytes: int,
    wanted: Callable[[str, int], bool] = lambda name, size: True,
) -> Iterator[Tuple[str, Optional[bytes]]]:
    """As ``tar_files``, for a zip archive. A member's declared size may lie: the bytes really
    read are bounded, not the declared ones."""
    read = 0
    for info in archive.infolist():
        where = f'{source}!{info.filename}'
        if info.is_dir():
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            if info.file_size <= 4096 and _link_leaves(
                info.filename, archive.read(info).decode(errors='replace')
            ):
                report.fault('link out of the archive (not followed)', where)
            continue
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
            continue
        name = safe_name(info.filename)
        if name is None:
            report.fault('member path outside the archive (not read)', where)
            continue
        if not wanted(name, info.file_size):
            continue
        if info.file_size > member_bytes:
            yield name, None
            continue
        limit = min(member_bytes, total_bytes - read)
        try:
            with archive.open(info) as f:
                data = read_bounded(f, limit)
        except TooLarge:
            if limit < member_bytes:
                report.fault(f'archive expands past {total_bytes} bytes (the rest not read)', where)
                return
            report.fault('member larger than its declared size (not read)', where)
            continue
        except ARCHIVE_ERRORS as e:
            report.fault(f'damaged zip member ({type(e).__name__})', where)
            continue
        read += len(data)
        yield name, data
