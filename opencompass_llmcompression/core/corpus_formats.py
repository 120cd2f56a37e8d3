"""A corpus file's bytes -> its records, each with where it was found: ``[("line 7", {...})]``.

Valid but unusual files are read as meant (a byte-order mark, compression found by the first
bytes, a JSON array or JSON Lines whatever the extension, ``jq``'s pretty-printed objects,
``{"data": [...]}``, column layouts); anything else raises ``CorpusError`` naming the file,
where, the problem and the fix. docs/robustness.md lists the cases.
"""

import bz2
import gzip
import json
import lzma
import zlib
from typing import Callable, List, Optional, Tuple

Located = List[Tuple[str, object]]
CONTENT = 'content'  # the text field of the paper's corpora
BOMS = [
    (b'\xef\xbb\xbf', 'utf-8'),
    (b'\xff\xfe\x00\x00', 'utf-32-le'),
    (b'\x00\x00\xfe\xff', 'utf-32-be'),
    (b'\xff\xfe', 'utf-16-le'),
    (b'\xfe\xff', 'utf-16-be'),
]
REENCODE = (
    're-encode it as UTF-8, e.g. `iconv -f cp1252 -t utf-8 IN > OUT` (or the encoding it was written in)'
)


class CorpusError(ValueError):
    """A corpus that cannot be read: the message names the file, the problem and the fix."""


def _decompress(filename: str, data: bytes) -> bytes:
    """The file's bytes, decompressed when its first bytes say it is compressed."""
    openers = {
        b'\x1f\x8b': ('gzip', gzip.decompress),
        b'BZh': ('bzip2', bz2.decompress),
        b'\xfd7zXZ\x00': ('xz', lzma.decompress),
        b'\x28\xb5\x2f\xfd': ('zstd', _zstd_decompress),
    }
    for magic, (kind, decompress) in openers.items():
        if data.startswith(magic):
            try:
                return decompress(data)
            except _decompression_errors() as e:
                raise CorpusError(
                    f'{filename} is {kind}-compressed but does not decompress '
                    f'({type(e).__name__}: {e}); the file looks cut off or '
                    f'damaged: copy or download it again.'
                ) from None
    if data.startswith(b'PK\x03\x04'):
        raise CorpusError(
            f'{filename} is a zip archive, which may hold several files: unzip '
            'it and point at the .jsonl, .json or .parquet file inside.'
        )
    return data


def _decompression_errors() -> tuple:
    """What a cut-off or corrupt archive raises: gzip EOFError or zlib.error, bzip2 ValueError
    or OSError, xz LZMAError, zstd ZstdError."""
    from zstandard import ZstdError

    return (EOFError, zlib.error, ValueError, OSError, lzma.LZMAError, ZstdError)


def _zstd_decompress(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def decode(filename: str, data: bytes) -> str:
    """Text of a JSON file: UTF-8, or any encoding announced by a byte-order mark."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as e:
                raise CorpusError(
                    f'{filename} starts with a {encoding} byte-order mark but '
                    f'byte {e.start + len(bom)} is not {encoding} ({e.reason}); '
                    f'{REENCODE}.'
                ) from None
    if b'\x00' in data[:4096]:
        raise CorpusError(
            f'{filename} holds NUL bytes, which JSON text never does: it looks '
            'like UTF-16 or UTF-32 without a byte-order mark; re-encode it as '
            'UTF-8, e.g. `iconv -f utf-16le -t utf-8 IN > OUT`.'
        )
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError as e:
        line = data.count(b'\n', 0, e.start) + 1
        column = e.start - (data.rfind(b'\n', 0, e.start) + 1) + 1
        raise CorpusError(
            f'{filename}, line {line}, byte {column} of the line (byte {e.start} '
            f'of the file): {data[e.start : e.end + 3]!r} is not UTF-8 ({e.reason}); '
            f'the file is probably Latin-1 or Windows-1252: {REENCODE}.'
        ) from None


def _json_problem(filename: str, where: str, e: json.JSONDecodeError, at_end: bool) -> str:
    end = len(e.doc.rstrip())
    if at_end and (
        e.pos >= end
        or e.msg.startswith('Unterminated string')
        or (e.msg.startswith('Invalid \\uXXXX') and e.pos + 6 > end)
    ):
        return (
            f'{filename}, {where}: the JSON stops in the middle ({e.msg}); the file looks '
            'cut off (an interrupted download or copy?): get it again.'
        )
    if e.msg == 'Extra data':
        return (
            f'{filename}, {where}: more than one JSON value on one line; JSON Lines needs '
            'one record per line.'
        )
    return (
        f'{filename}, {where}, column {e.colno}: not JSON ({e.msg}); every line must be '
        'one JSON object such as {"content": "..."} (or the file one JSON array of them).'
    )


def parse_json_text(
    filename: str, text: str, field: str = CONTENT, on_bad_line: Optional[Callable[[str], None]] = None
) -> Located:
    """Records of a JSON Lines text, or of one JSON value that spans the file.

    ``field`` is the text field, which tells a column layout from a record. With
    ``on_bad_line``, a text that is not JSON as a whole is read as JSON Lines: each line that is
    not JSON is skipped and handed to ``on_bad_line`` as ``"line N"`` instead of raising."""
    try:
        return _parse_strict(filename, text, field)
    except CorpusError:
        if on_bad_line is None or not text.strip():
            raise
        return _json_lines_skipping(text, on_bad_line)


def _json_lines_skipping(text: str, on_bad_line: Callable[[str], None]) -> Located:
    records: Located = []
    for number, line in enumerate(_lines(text), start=1):
        if line.strip():
            try:
                records.append((f'line {number}', json.loads(line)))
            except json.JSONDecodeError:
                on_bad_line(f'line {number}')
    return records


def _lines(text: str) -> List[str]:
    """JSON Lines' lines: split at ``\\n`` only (``\\r`` before it is JSON whitespace), for a JSON
    string may hold U+2028, U+2029 or U+0085 raw, where ``str.splitlines`` would split too."""
    return text.split('\n')


def _parse_strict(filename: str, text: str, field: str) -> Located:
    stripped = text.strip()
    if not stripped:
        raise CorpusError(
            f'{filename} is empty: it holds no record. Write one JSON object per '
            'line, each with a "content" text field.'
        )
    lines = _lines(text)
    if not stripped.startswith('['):
        records: Located = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append((f'line {number}', json.loads(line)))
            except json.JSONDecodeError as e:
                if records:  # JSON Lines so far: this line is broken
                    last = number == max(i for i, line in enumerate(lines, 1) if line.strip())
                    raise CorpusError(_json_problem(filename, f'line {number}', e, last)) from None
                break  # the first record spans lines: one JSON value, tried below
        else:  # one line holding one value may be a whole-file layout
            return unwrap(filename, *records[0], field) if len(records) == 1 else records
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        if e.msg == 'Extra data':  # pretty-printed objects one after another, as jq prints
            return _value_stream(filename, text)
        raise CorpusError(_json_problem(filename, f'line {e.lineno}', e, True)) from None
    return unwrap(filename, 'the single object', value, field)


def _value_stream(filename: str, text: str) -> Located:
    """Records of JSON values that follow each other, each named by the line it starts on."""
    decoder, records, position = json.JSONDecoder(), [], 0
    while True:
        while position < len(text) and text[position] in ' \t\r\n':
            position += 1
        if position == len(text):
            return records
        line = text.count('\n', 0, position) + 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as e:
            raise CorpusError(_json_problem(filename, f'line {e.lineno}', e, True)) from None
        records.append((f'the value starting on line {line}', value))


def unwrap(filename: str, where: str, value, field: str = CONTENT) -> Located:
    """A whole-file JSON value as records: an array, one record, or an object layout
    (``field`` is the text field)."""
    if isinstance(value, list):
        return [(f'element {i} of the array', r) for i, r in enumerate(value, start=1)]
    if not isinstance(value, dict):
        raise CorpusError(
            f'{filename} holds a single JSON {type(value).__name__}, not records; '
            'write one JSON object per line, each with a "content" field.'
        )
    if isinstance(value.get(field), (list, dict)):
        return _columns(value, field)
    if field in value:
        return [(where, value)]
    lists = [k for k, v in value.items() if isinstance(v, list) and v and all(isinstance(r, dict) for r in v)]
    if len(lists) == 1:
        key = lists[0]
        return [(f'element {i} of "{key}"', r) for i, r in enumerate(value[key], start=1)]
    if len(lists) > 1:
        raise CorpusError(
            f'{filename} is one JSON object whose keys {lists} each hold a list of '
            'records: keep the one to measure, as one JSON object per line.'
        )
    if value and all(isinstance(r, dict) and field in r for r in value.values()):
        return [(f'record "{k}"', r) for k, r in value.items()]  # pandas' orient='index'
    return [(where, value)]  # one record without the field: the record check says so


def _columns(value: dict, field: str) -> Located:
    """Column layouts: ``{"content": [...], ...}`` or pandas' ``{"content": {"0": ...}}``."""
    content = value[field]
    keys = list(range(len(content))) if isinstance(content, list) else list(content)
    rows = []
    for position, key in enumerate(keys, start=1):
        row = {}
        for column, cells in value.items():
            if isinstance(cells, list) and len(cells) == len(keys):
                row[column] = cells[key]
            elif isinstance(cells, dict) and key in cells:
                row[column] = cells[key]
        rows.append((f'row {position} of the column "{field}"', row))
    return rows


def read_parquet(filename: str, field: str = CONTENT) -> Located:
    import pyarrow
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(filename)
    except (pyarrow.ArrowException, OSError) as e:  # ArrowInvalid for a cut-off or non-parquet
        # file, OSError for damaged pages
        raise CorpusError(
            f'{filename} is not a readable Parquet file ({type(e).__name__}: '
            f'{e}); if it was cut off, copy or download it again.'
        ) from None
    if field not in table.column_names:
        raise CorpusError(
            f'{filename} has no "{field}" column (it has '
            f'{", ".join(table.column_names) or "none"}); rename the column '
            f'holding the text to "{field}".'
        )
    return [(f'row {i}', r) for i, r in enumerate(table.to_pylist(), start=1)]


def read_located_records(
    filename: str, field: str = CONTENT, on_bad_line: Optional[Callable[[str], None]] = None
) -> Located:
    """``[(where, record)]`` of a ``.jsonl``/``.json`` (possibly compressed) or ``.parquet``.

    ``field`` is the text field (a Parquet file without that column is refused); with
    ``on_bad_line``, lines that are not JSON are skipped and reported (``parse_json_text``).
    Records are not checked here: any JSON value may come back."""
    with open(filename, 'rb') as f:
        head = f.read(4)
    if filename.endswith('.parquet') or head == b'PAR1':
        return read_parquet(filename, field)
    with open(filename, 'rb') as f:
        data = f.read()
    if not data:
        raise CorpusError(
            f'{filename} is empty (0 bytes): it holds no record. Was it cut off '
            'or never written? Write one JSON object per line with "content".'
        )
    return parse_json_text(filename, decode(filename, _decompress(filename, data)), field, on_bad_line)
