"""Whole documents in a seeded order up to a character budget."""

import random
from typing import List, Optional

from .documents import Document, Report
from .spool import chars


def sample(docs: List[Document], budget: Optional[int], seed: int, report: Report) -> List[Document]:
    """Whole documents in a seeded order until ``budget`` characters; output in source order
    (``docs`` may hold ``SpooledDocument``s, which are not loaded).
    Sources too small for the budget: the characters missing go to ``report``."""
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    chosen, total = [], 0
    for i in order:
        if budget is not None and total >= budget:
            break
        chosen.append(i)
        total += chars(docs[i])
    if budget is not None and total < budget:
        report.chars_short_of_budget = budget - total
    return [docs[i] for i in sorted(chosen)]
