"""The documents a model compresses best and worst, by their own BPC.

A very low BPC hints that the model saw the document (or a copy) in training; a very high one
often points at text that is not what the corpus claims to be.
"""

from typing import Dict, List, Optional, Sequence

from ..core.document_rows import DOC_INDEX_COLUMN
from ..core.metrics import bits_per

SNIPPET_CHARS = 60


def document_bpc(row: dict) -> Optional[float]:
    """Bits per character of one document row; None for a document without characters."""
    return bits_per(row['nll'], row['chars']) if row.get('chars') else None


def extremes(rows: Sequence[dict], count: int) -> List[dict]:
    """The ``count`` lowest-BPC documents, then the ``count`` highest, each once.

    Each row gains ``bpc`` and ``rank`` ('lowest' or 'highest'). Documents that scored no
    tokens (possible in reference_compat mode) are left out: they have no BPC of their own.
    """
    scored = [dict(row, bpc=document_bpc(row)) for row in rows if row.get('tokens')]
    scored = [row for row in scored if row['bpc'] is not None]
    scored.sort(key=lambda row: (row['bpc'], row[DOC_INDEX_COLUMN]))
    low = scored[:count]
    high = scored[max(count, len(scored) - count) :][::-1]
    return [dict(r, rank='lowest') for r in low] + [dict(r, rank='highest') for r in high]


def snippet(text: str) -> str:
    """The start of a document on one line, safe inside a Markdown table."""
    flat = ' '.join(text[: SNIPPET_CHARS * 2].split())[:SNIPPET_CHARS]
    return flat.replace('|', '\\|').replace('`', "'")


def document_table(
    per_model: Dict[str, Dict[str, List[dict]]], count: int, texts: Optional[Dict[str, Sequence[str]]] = None
):
    """``(header, rows)`` of ``per_model`` (``{model: {abbr: per-document rows}}``); ``texts``
    (``{abbr: documents}``) adds the start of each. The ``corpus`` column holds the abbr."""
    header = ['model', 'corpus', 'rank', 'document', 'bpc', 'tokens', 'chars', 'starts with']
    table = []
    for model, per_abbr in per_model.items():
        for abbr, rows in per_abbr.items():
            documents = (texts or {}).get(abbr)
            for row in extremes(rows, count):
                index = row[DOC_INDEX_COLUMN]
                start = snippet(documents[index]) if documents and index < len(documents) else ''
                table.append(
                    [
                        model,
                        abbr,
                        row['rank'],
                        str(index),
                        f'{row["bpc"]:.4f}',
                        str(row['tokens']),
                        str(row['chars']),
                        start,
                    ]
                )
    return header, table
