"""What the demo measured, kept in the checkout: ``docs/demo_record.json`` and README.md's block.

``scripts/demo.sh`` runs the demo with ``--record .``: on its embedded default (SmolLM2-135M,
30,000 characters per sample corpus) the demo writes the record (each sample corpus's SHA-256,
documents and characters; what they were built from: the Python version and the Debian
package's version; the builder's recipe fingerprint; the BPC table; the compressed file's line;
the time taken and on what) and rewrites README.md's block between ``BEGIN`` and ``END`` from
it. ``tests/test_demo_record.py`` holds the README to the record and rebuilds the corpora to
hold their SHA-256 to it, so a change of the builder fails until the demo is run again.
"""

import json
import os
from typing import List

from .core.atomic_files import atomic_write

RECORD = os.path.join('docs', 'demo_record.json')
README = 'README.md'
BEGIN = '<!-- demo output: written by scripts/demo.sh from docs/demo_record.json, not by hand -->'
END = '<!-- end of demo output -->'


def minutes(seconds: float) -> str:
    """``557`` -> ``'9 min 17 s'``."""
    m, s = divmod(int(round(seconds)), 60)
    return f'{m} min {s} s' if m else f'{s} s'


def render(record: dict) -> str:
    """The README's block (without its markers) for ``record``: when and how long, then the
    demo's leaderboard and last line as it printed them."""
    t = record['timing']
    setup = 'a new .venv' if t['new_venv'] else 'the .venv already there'
    cache = 'converted and built' if t['new_cache'] else 'from the cache'
    load = ', '.join(f'{x:.1f}' for x in t['load_average'])
    lines = [
        f'Measured by `scripts/demo.sh` on {record["date"]}: **{minutes(t["total_s"])}** from its '
        f'start to its last line, set-up included ({minutes(t["setup_s"])} for {setup}; the model '
        f'and sample corpora {cache}), on {t["cpus"]} CPU cores with a load average of {load} '
        f'(1, 5, 15 min) at the end; Python {record["python"]}, transformers '
        f'{record["transformers"]}, torch {record["torch"]}.',
        '',
        '```text',
        *record['leaderboard'],
        '',
        record['zip'],
        '```',
    ]
    return '\n'.join(lines)


def readme_block(text: str) -> str:
    """The text between ``BEGIN`` and ``END``, without the newlines next to the markers.
    ValueError when the markers are not there once each, in that order."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise ValueError(
            f'{README} must hold the demo block once: a line {BEGIN!r}, the block, a line {END!r}'
        )
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip('\n')


def replace_block(text: str, block: str) -> str:
    """``text`` with the demo block replaced by ``block`` (ValueError as ``readme_block``)."""
    readme_block(text)
    return text[: text.index(BEGIN) + len(BEGIN)] + '\n' + block + '\n' + text[text.index(END) :]


def leaderboard_lines(report_md: str) -> List[str]:
    """The ``## BPC`` section of the report's ``compression_<stamp>.md``: the leaderboard
    table and the line saying what ``± x`` is. ValueError when the report has none."""
    lines = report_md.splitlines()
    try:
        start = lines.index('## BPC (lower is better; compressors in parentheses)') + 1
    except ValueError:
        raise ValueError('the report has no BPC leaderboard') from None
    end = next((i for i in range(start, len(lines)) if lines[i].startswith('## ')), len(lines))
    return '\n'.join(lines[start:end]).strip('\n').splitlines()


def write_record(checkout: str, record: dict) -> List[str]:
    """Write ``checkout/docs/demo_record.json`` and the block of ``checkout/README.md``;
    returns the paths written. ValueError (before anything is written) when the README has no
    block."""
    readme = os.path.join(checkout, README)
    with open(readme, encoding='utf-8') as f:
        text = replace_block(f.read(), render(record))
    path = os.path.join(checkout, RECORD)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with atomic_write(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(record, indent=1, ensure_ascii=False) + '\n')
    with atomic_write(readme, 'w', encoding='utf-8') as f:
        f.write(text)
    return [path, readme]
