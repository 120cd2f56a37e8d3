"""Documents from local files: one per plain file, one per record of a records file.

    read_file('notes/a.md', report, date_from='auto') -> Document or None
    read_records('crawl.jsonl', 'text', 'date', report) -> Documents

A plain file is gunzipped when its content is gzipped (any name), refused when binary (a NUL
byte in its first 8 KiB) or not UTF-8. It has no date of its own: with ``date_from='mtime'``
its modification time is taken (``date_source`` ``mtime``), else it is undated.
"""

import gzip
import re
import zlib
from typing import Iterator, Optional

from ..core.corpus_formats import CorpusError, read_located_records
from .dates import file_mtime, parse_date
from .documents import BuildError, Document, Report, is_binary

SPDX = re.compile(r'SPDX-License-Identifier:\s*([\w.+-]+)')


def read_file(path: str, report: Report, date_from: str = 'auto') -> Optional[Document]:
    """The file's text as one document (None, with the reason in ``report``, when it is
    unreadable, binary, not UTF-8, or a damaged gzip file)."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
        if data[:2] == b'\x1f\x8b':
            data = gzip.decompress(data)
        date = file_mtime(path) if date_from == 'mtime' else None
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, (gzip.BadGzipFile, EOFError, zlib.error)):
            report.fault('damaged gzip file', path)
        else:
            report.skip('unreadable', path)
        return None
    if is_binary(data):
        report.skip('binary', path)
        return None
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        report.skip('undecodable bytes (not UTF-8)', path)
        return None
    match = SPDX.search(text[:2000])
    return Document(
        text, path, date, match.group(1) if match else None, date_source='mtime' if date else None
    )


def read_records(path: str, text_field: str, date_field: Optional[str], report: Report) -> Iterator[Document]:
    """Documents from a file of records (any layout ``core.corpus_formats`` reads), the text in
    ``text_field``; lines that are not JSON and records without that text are skipped, each
    document's source is ``path:N``, N counting the records read. BuildError for a file the
    reader refuses (not UTF-8, a damaged compressed file, Parquet without that column)."""

    def bad_line(where: str) -> None:
        report.skip('line is not JSON', f'{path}, {where}')

    try:
        rows = [row for _, row in read_located_records(path, text_field, bad_line)]
    except CorpusError as e:
        raise BuildError(
            f'{e} (--records reads the text from "{text_field}"; --text-field names another field)'
        ) from None
    for number, row in enumerate(rows, start=1):
        text = row.get(text_field) if isinstance(row, dict) else None
        if not isinstance(text, str):
            report.skip(f'no "{text_field}" text field', f'{path}:{number}')
            continue
        date = parse_date(row.get(date_field)) if date_field else None
        yield Document(
            text,
            f'{path}:{number}',
            date,
            row.get('license') or row.get('licence'),
            date_source='record' if date else None,
        )
