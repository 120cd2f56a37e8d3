"""Duplicates out: lines seen before (cc_net's, for web text) and whole documents seen before
(exact, then near by MinHash, for plain files and records).

    LineDeduplicator().keep_new_lines(text, line_hashes(text)) -> text without seen lines

cc_net (the paper's cc pipeline, ``cc_net/dedup.py`` and ``text_normalizer.py``) hashes every
line of every document after normalising it (``normalize_for_dedup``: stripped, lower-cased,
every decimal digit made ``0``, then its list of 34 Unicode punctuation marks and the control
characters U+0000-U+001F and U+007F-U+009F removed; ASCII punctuation stays), keeps the first 8
bytes of its SHA-1, and drops a line whose hash it has seen, in that document or an earlier one;
a document with no line left is dropped. We do the same across the whole build, documents taken
in input order. What differs: cc_net shares the hashes of a group of shards, we share them
across all inputs of one build. Memory: 8 to 16 bytes per distinct line (``HashSet``).
"""

import hashlib
import unicodedata
from functools import lru_cache
from typing import Dict, List, Optional, Union

import numpy as np

from .documents import BuildError, Document
from .steps import Step

HASH_BYTES = 8


# cc_net's ``UNICODE_PUNCT`` (text_normalizer.py), the marks ``normalize_for_dedup`` removes.
CC_NET_PUNCTUATION = '，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►'
CONTROL_CHARACTERS = [*range(0x00, 0x20), *range(0x7F, 0xA0)]


@lru_cache(maxsize=1)
def normalising_table() -> Dict[int, Optional[str]]:
    """``str.translate``'s table for a stripped, lower-cased line: every decimal digit (Unicode
    category Nd, what ``\\d`` matches) 0, then cc_net's punctuation and the control characters
    removed. A digit in the list (``１``) becomes 0, as in cc_net, whose digits go first. Built
    once per process, a tenth of a second."""
    table: Dict[int, Optional[str]] = {}
    for code in [*map(ord, CC_NET_PUNCTUATION), *CONTROL_CHARACTERS]:
        table[code] = None
    for code in range(0x20000):  # planes 2 and above hold no decimal digit
        if unicodedata.category(chr(code)) == 'Nd':
            table[code] = '0'
    return table


def normalize_line(line: str) -> str:
    """A line as the deduplication compares it, cc_net's ``normalize_for_dedup``: stripped,
    lower-cased, digits made 0, cc_net's Unicode punctuation and the control characters
    removed (``"Hello, world."`` stays apart from ``"Hello world"``)."""
    return line.strip().lower().translate(normalising_table())


def line_hashes(text: str) -> List[int]:
    """One hash per line of ``text`` (split on ``\\n``): the first 8 bytes of the SHA-1 of the
    normalised line, as an unsigned integer."""
    return [
        int.from_bytes(
            hashlib.sha1(normalize_line(line).encode('utf-8', 'surrogatepass')).digest()[:HASH_BYTES], 'big'
        )
        for line in text.split('\n')
    ]


class HashSet:
    """A set of 64-bit hashes in one numpy table (open addressing, linear probing, at most half
    full): 8 to 16 bytes a hash where a Python set of ints takes about 70. The hashes are SHA-1
    prefixes, uniform already, so a hash's low bits are its slot. 0 stands for an empty slot and
    is stored as 1."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.table = np.zeros(capacity, dtype=np.uint64)
        self.size = 0

    def _probe(self, keys: np.ndarray):
        """For each key, its slot: where it is (found True) or the first empty one after it."""
        mask = np.uint64(len(self.table) - 1)
        slots = keys & mask
        found = np.zeros(len(keys), dtype=bool)
        pending = np.arange(len(keys))
        while len(pending):
            held = self.table[slots[pending]]
            hit = held == keys[pending]
            found[pending[hit]] = True
            pending = pending[~hit & (held != 0)]
            slots[pending] = (slots[pending] + np.uint64(1)) & mask
        return slots, found

    def _insert(self, keys: np.ndarray) -> None:
        """Put ``keys`` (distinct, none present) into empty slots."""
        while len(keys):
            slots, _ = self._probe(keys)
            _, winners = np.unique(slots, return_index=True)  # two keys, one empty slot: one waits
            self.table[slots[winners]] = keys[winners]
            self.size += len(winners)
            keys = np.delete(keys, winners)

    def add_new(self, keys: np.ndarray) -> np.ndarray:
        """Add ``keys`` (uint64) in order; True for each key not present before it (not in the set
        and not earlier in ``keys``)."""
        keys = np.where(keys == 0, np.uint64(1), keys)
        unique, first = np.unique(keys, return_index=True)
        _, found = self._probe(unique)
        new = unique[~found]
        if 2 * (self.size + len(new)) > len(self.table):
            self._grow(2 * (self.size + len(new)))
        self._insert(new)
        fresh = np.zeros(len(keys), dtype=bool)
        fresh[first[~found]] = True
        return fresh

    def _grow(self, least: int) -> None:
        held = self.table[self.table != 0]
        capacity = len(self.table)
        while capacity < least:
            capacity *= 2
        self.table, self.size = np.zeros(capacity, dtype=np.uint64), 0
        self._insert(held)


class LineDeduplicator(Step):
    """Lines seen before out, as a step: each document without its lines whose hash is in
    ``seen`` (a ``HashSet``, the lines of earlier documents added as it goes); a document
    with no line left is dropped. ``new_lines(doc)``, when given, says instead which lines of
    the document are new (a bool per line, worked out for a whole file at once, as the web
    path does: ``HashSet.add_new`` over all its lines in order gives the same answer)."""

    name = 'line_deduplication'
    reason = 'every line seen before (line deduplication)'

    def __init__(self, seen: Optional[HashSet] = None, new_lines=None) -> None:
        self.seen = HashSet() if seen is None else seen
        self.new_lines = new_lines
        self.lines = self.lines_kept = 0

    def parameters(self) -> dict:
        return {
            'normalised': (
                "stripped, lower-cased, digits 0, cc_net's punctuation list and control characters out"
            ),
            'hash': 'SHA-1, 8 bytes',
            'lines_seen': self.lines,
            'lines_kept': self.lines_kept,
        }

    def keep_new_lines(self, text: str, hashes) -> Optional[str]:
        """``text`` without its lines whose hash (``hashes``, one per line, as ``line_hashes``
        gives them) was seen before, in it or an earlier text; None when no line is left. The
        hashes become seen."""
        return self._keep(text, self.seen.add_new(np.asarray(hashes, dtype=np.uint64)))

    def _keep(self, text: str, fresh) -> Optional[str]:
        kept = [line for line, new in zip(text.split('\n'), fresh) if new]
        self.lines += len(fresh)
        self.lines_kept += len(kept)
        return '\n'.join(kept) if kept else None

    def apply(self, doc: Document) -> Union[Document, str]:
        if self.new_lines is None:
            text = self.keep_new_lines(doc.content, line_hashes(doc.content))
        else:
            text = self._keep(doc.content, self.new_lines(doc))
        if text is None:
            return self.reason
        doc.content = text
        return doc


class NearDuplicates:
    """A MinHash LSH index of the documents kept so far (datasketch): ``is_near(features)``
    says whether a document's set of features (strings) is near one kept before, and keeps it
    in the index when it is not. Near: the index proposes it (Jaccard above ``threshold``, by
    the signatures), and, with ``exact``, the exact Jaccard of the two feature sets is
    ``threshold`` or more. ``scheme``: datasketch's hashing ('legacy', that of datasketch < 2,
    or None for the installed version's default)."""

    def __init__(self, threshold: float, num_perm: int, seed: int, exact: bool, scheme: Optional[str]):
        try:
            from datasketch import MinHash, MinHashLSH
        except ImportError:
            raise BuildError(
                'near-duplicate removal needs the Python package "datasketch", which is not installed: '
                "pip install -e '.[corpus]' in the package's checkout"
            ) from None
        try:  # datasketch 2 names its schemes; 'legacy' is the only one earlier versions had
            template = MinHash(num_perm=num_perm, seed=seed, **({'scheme': scheme} if scheme else {}))
        except TypeError:
            template = MinHash(num_perm=num_perm, seed=seed)
        named = {'scheme': template.scheme} if hasattr(template, 'scheme') else {}
        self._signature = lambda: MinHash(
            num_perm=num_perm, seed=seed, permutations=template.permutations, **named
        )
        self.index = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.threshold, self.exact = threshold, exact
        self.kept: List[frozenset] = []

    def is_near(self, features) -> bool:
        features = frozenset(features)
        signature = self._signature()
        signature.update_batch([f.encode('utf-8', 'surrogatepass') for f in sorted(features)])
        for key in sorted(self.index.query(signature)):
            other = self.kept[key]
            if not self.exact or len(features & other) / len(features | other) >= self.threshold:
                return True
        self.index.insert(len(self.kept), signature)
        self.kept.append(features if self.exact else frozenset())
        return False


class Duplicates(Step):
    """Plain files and records: exact duplicates (the words joined by one space, SHA-256) and
    near duplicates (MinHash of word 5-grams, 128 permutations, the index's Jaccard above
    ``threshold``); the first in input order is kept."""

    name = 'duplicates'

    def __init__(self, threshold: float = 0.8) -> None:
        self.threshold = threshold
        self.seen: set = set()
        self.near = NearDuplicates(threshold, num_perm=128, seed=1, exact=False, scheme=None)

    def parameters(self) -> dict:
        return {'exact': 'whitespace-normalised SHA-256', 'near_jaccard': self.threshold}

    def apply(self, doc: Document) -> Union[Document, str]:
        words = doc.content.split()
        digest = hashlib.sha256(' '.join(words).encode('utf-8', 'surrogatepass')).hexdigest()
        if digest in self.seen:
            return 'exact duplicate'
        self.seen.add(digest)
        if self.near.is_near(' '.join(words[j : j + 5]) for j in range(max(1, len(words) - 4))):
            return 'near duplicate'
        return doc
