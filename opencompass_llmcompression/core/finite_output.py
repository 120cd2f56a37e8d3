"""No file the package writes holds NaN or Infinity.

Python's ``json`` writes a non-finite float as ``NaN`` or ``Infinity``, which is not JSON:
strict parsers (JavaScript's ``JSON.parse``, Go's ``encoding/json``, Rust's serde) refuse the
whole file, and lenient ones differ (``jq`` 1.7 reads ``NaN`` as null). In a CSV or a report,
``nan`` is a number that means nothing. So writers check here before writing, and a non-finite
number stops the write with ``NonFiniteError``, naming the file and where in it the number
sits: every number the package computes is finite by construction (``metrics``), so one that
is not is a defect to report, never something to write.

    dump_json(result, f, 'the result ' + path, indent=1)   # JSON: checked, then strict
    check_text(path, text)                                  # a .json, .csv or .md file's text

In text, only numbers are looked at: a table column is numeric when each of its cells is a
number (or ``value ± half-width``) or blank or ``-``, so a document snippet reading "Infinity"
is text, not a number.
"""

import csv
import io
import json
import math
import re
from typing import IO, Any, List, Optional, Sequence

import numpy as np

MISSING_CELLS = ('', '-')


class NonFiniteError(ValueError):
    """A NaN or an infinity on its way into a file; nothing was written."""


def non_finite(value: Any, where: str = '') -> Optional[str]:
    """The first NaN or infinite float inside ``value`` (dicts, lists, tuples, numpy floats
    and arrays) as ``'where = value'``, or None when every number is finite."""
    if isinstance(value, (float, np.floating)):
        return None if math.isfinite(value) else f'{where or "the value"} = {value}'
    if isinstance(value, np.ndarray) and value.dtype.kind in 'fc':
        bad = np.flatnonzero(~np.isfinite(value.ravel()))
        return None if bad.size == 0 else f'{where}[{bad[0]}] = {value.ravel()[bad[0]]}'
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = non_finite(
            item, (f'{where}.{key}' if where else key) if isinstance(key, str) else f'{where}[{key}]'
        )
        if found:
            return found
    return None


def check_finite(value: Any, what: str) -> None:
    """Raise NonFiniteError naming ``what`` and the place when ``value`` holds NaN/Infinity."""
    found = non_finite(value)
    if found:
        raise NonFiniteError(_refusal(what, found))


def _refusal(what: str, found: str) -> str:
    return (
        f'{what} would hold {found}: NaN and Infinity are not JSON (strict parsers refuse '
        'them) and mean nothing in a table, so it was not written. Every number the '
        'package computes is finite; please report this as a bug, with the command that '
        'made it.'
    )


def dump_json(value: Any, f: IO[str], what: str, **kwargs) -> None:
    """``json.dump`` of ``value`` into ``f``, strict: checked first (``check_finite``)."""
    check_finite(value, what)
    json.dump(value, f, allow_nan=False, **kwargs)


def check_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], what: str) -> None:
    """Raise NonFiniteError for a NaN or an infinity in a numeric column of a table."""
    for column, name in enumerate(header):
        cells = [row[column] for row in rows if column < len(row)]
        parsed = [_numbers(cell) for cell in cells]
        if any(numbers is None for numbers in parsed):
            continue  # a text column: document snippets, model names, notes
        for row, (cell, numbers) in enumerate(zip(cells, parsed), start=1):
            if not all(math.isfinite(x) for x in numbers):
                raise NonFiniteError(_refusal(what, f'{str(cell).strip()!r} in column "{name}" of row {row}'))


def _numbers(cell: Any) -> Optional[List[float]]:
    """The numbers of a cell (``1.5``, ``0.58 ± 0.01``; blank or ``-``: none), or None for
    text."""
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, bool):
        return [float(cell)]
    text = str(cell).strip()
    if text in MISSING_CELLS:
        return []
    try:
        return [float(part.strip().rstrip('%')) for part in text.split('±')]
    except ValueError:
        return None


def check_text(name: str, text: str) -> None:
    """Raise NonFiniteError when the text of the file ``name`` holds NaN or an infinity: a
    ``.json`` file read strictly, a ``.csv`` file's table, each table of a ``.md`` file;
    other files are not looked at."""
    if name.endswith('.json'):

        def refuse(constant):
            raise NonFiniteError(_refusal(name, constant))

        json.loads(text, parse_constant=refuse)
    elif name.endswith('.csv'):
        table = list(csv.reader(io.StringIO(text)))
        if table:
            check_table(table[0], table[1:], name)
    elif name.endswith('.md'):
        for header, rows in markdown_tables(text):
            check_table(header, rows, name)


CELL_BORDER = re.compile(r'(?<!\\)\|')
RULE_CELL = re.compile(r'^\s*:?-+:?\s*$')


def markdown_tables(text: str) -> List[tuple]:
    """``[(header, rows)]`` of the pipe tables in Markdown text (``\\|`` is a cell's own)."""
    tables, block = [], []
    for line in text.splitlines() + ['']:
        if line.lstrip().startswith('|'):
            block.append([c.strip() for c in CELL_BORDER.split(line.strip())[1:-1]])
            continue
        rows = [r for r in block[1:] if not all(RULE_CELL.match(c) for c in r)]
        if block:
            tables.append((block[0], rows))
        block = []
    return tables
