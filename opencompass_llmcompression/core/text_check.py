"""The text measured is the text given: each document's token ids, decoded, give it back.

    document  "def f(x):"  -> ids [1604, 275, 24, 104, ...] -> decoded "def f(x):"   held
    document  "def f(x):"  -> ids [1018, 484, 24, ...]      -> decoded "deff(x):"    changed

A tokenizer that drops spaces, normalises characters away or maps them to an unknown token
hands the model another text, usually an easier one, and the BPC is then of that text.
``check_round_trip`` decodes every document's own ids (the special tokens the tokenizer adds
around each document left out) and compares them with the document as the tokenizer got it
(``token_stream.tokenizable``: lone surrogates as U+FFFD). One difference is accepted: one
space at the very start of the document, present in one and absent in the other, as
SentencePiece's decoders strip the space its encoders put before the first word; no
character of the text is lost that way. ``require_text_kept`` refuses a stream whose check
failed (``TextChanged``), unless the loss is allowed; then the check's record goes with the
result, saying how many characters the model did not see as written.
"""

import re
from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence

import numpy as np

_SURROGATE = re.compile('[\ud800-\udfff]')
CONTEXT = 24  # characters shown on each side of the first difference
ALLOW_HINT = 'allow_lossy_tokenizer=True (--allow_lossy_tokenizer on the paper command line)'


@dataclass(frozen=True)
class TextCheck:
    """The round trip of a corpus's token stream.

    ``documents_differ``: documents whose decoded ids are not the document;
    ``chars_differ``: characters of those documents from their first to their last
    difference; ``unknown_tokens``: ids equal to the tokenizer's unknown token in those
    documents; ``chars_unseen``: characters the model saw only as that token (offsets of a
    fast tokenizer; else ``chars_differ``); ``first``: where the first difference is
    (``document``, ``offset``, ``given``, ``decoded``, ``unknown_char``)."""

    documents: int
    documents_differ: int = 0
    chars_differ: int = 0
    unknown_tokens: int = 0
    chars_unseen: int = 0
    first: Optional[dict] = None

    @property
    def held(self) -> bool:
        return self.documents_differ == 0

    def as_record(self) -> dict:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> 'TextCheck':
        return cls(**record)


def result_record(check: TextCheck) -> dict:
    """What a prediction row and a result say of the text: ``{'round_trip': 'held'}``, or
    ``'allowed'`` with the counts of ``TextCheck`` when a lossy tokenizer was allowed."""
    if check.held:
        return {'round_trip': 'held'}
    record = check.as_record()
    record.pop('first')
    return {'round_trip': 'allowed', **record}


class TextChanged(ValueError):
    """A tokenizer whose ids do not decode to the documents they were made from."""


def tokenizable(text: str) -> str:
    """``text`` with each lone surrogate replaced by one U+FFFD (unchanged when it has none)."""
    try:
        text.encode('utf-8')
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub('\ufffd', text)


def special_ends(tokenizer) -> tuple:
    """(ids the tokenizer puts before every document, ids it puts after), found by encoding
    one character with and without its special tokens."""
    plain = list(tokenizer.encode('a', add_special_tokens=False))
    full = list(tokenizer.encode('a'))
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return full[:start], full[start + len(plain) :]
    return [], []


def _decode_all(tokenizer, pieces: List[List[int]]) -> List[str]:
    backend = getattr(tokenizer, 'backend_tokenizer', None)
    if backend is not None and getattr(tokenizer, 'is_fast', False):
        return backend.decode_batch(pieces, skip_special_tokens=False)
    return [
        tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False) for ids in pieces
    ]


def same_text(given: str, decoded: str) -> bool:
    """Equal, or equal but for one space at the very start of one of them."""
    return given == decoded or given == ' ' + decoded or ' ' + given == decoded


def check_round_trip(contents: Sequence[str], token_ids: np.ndarray, doc_offsets: np.ndarray, tokenizer):
    """``TextCheck`` of a token stream: ``token_ids[doc_offsets[d]:doc_offsets[d+1]]`` are the
    ids of ``contents[d]``, made by ``tokenizer``."""
    before, after = special_ends(tokenizer)
    pieces = []
    for d in range(len(contents)):
        ids = token_ids[doc_offsets[d] : doc_offsets[d + 1]].tolist()
        if before and ids[: len(before)] == before:
            ids = ids[len(before) :]
        if after and ids[len(ids) - len(after) :] == after:
            ids = ids[: len(ids) - len(after)]
        pieces.append(ids)
    decoded = _decode_all(tokenizer, pieces)
    unknown = getattr(tokenizer, 'unk_token_id', None)
    differ = chars = unknown_tokens = unseen = 0
    first = None
    for d, (text, back) in enumerate(zip(contents, decoded)):
        given = tokenizable(text)
        if same_text(given, back):
            continue
        differ += 1
        start, span = _difference(given, back)
        chars += span
        spans = _unknown_spans(tokenizer, given, unknown) if unknown in pieces[d] else []
        unknown_tokens += pieces[d].count(unknown) if unknown is not None else 0
        unseen += sum(end - begin for begin, end in spans) if spans else span
        if first is None:
            first = dict(
                document=d,
                offset=start,
                given=given[max(0, start - CONTEXT) : start + CONTEXT],
                decoded=back[max(0, start - CONTEXT) : start + CONTEXT],
                unknown_char=given[spans[0][0] : spans[0][1]] if spans else None,
            )
    return TextCheck(len(contents), differ, chars, unknown_tokens, unseen, first)


def _difference(given: str, back: str) -> tuple:
    """(offset of the first difference, characters of ``given`` from there to the last)."""
    start = 0
    limit = min(len(given), len(back))
    while start < limit and given[start] == back[start]:
        start += 1
    end = 0
    while end < limit - start and given[len(given) - 1 - end] == back[len(back) - 1 - end]:
        end += 1
    return start, max(len(given) - start - end, 1)


def _unknown_spans(tokenizer, text: str, unknown: int) -> list:
    """Character spans of ``text`` that a fast tokenizer encodes as the unknown token."""
    if not getattr(tokenizer, 'is_fast', False):
        return []
    encoding = tokenizer.backend_tokenizer.encode(text, add_special_tokens=False)
    return [span for i, span in zip(encoding.ids, encoding.offsets) if i == unknown]


def require_text_kept(check: TextCheck, tokenizer, allow_lossy: bool = False) -> None:
    """Raise ``TextChanged`` naming the tokenizer, what differs and the fix, unless the
    round trip held or ``allow_lossy``."""
    if check.held or allow_lossy:
        return
    name = type(tokenizer).__name__
    source = getattr(tokenizer, 'name_or_path', '') or 'this tokenizer'
    first = check.first
    where = (
        f'the first in document {first["document"]} at character {first["offset"]}: '
        f'{first["given"]!r} decodes as {first["decoded"]!r}'
    )
    if check.unknown_tokens:
        char = first.get('unknown_char')
        named = f'{char!r} (U+{ord(char[0]):04X})' if char else 'a character'
        raise TextChanged(
            f'the tokenizer {name} ({source}) maps characters it has no token for to its unknown '
            f'token: {check.unknown_tokens} unknown tokens hide {check.chars_unseen} characters in '
            f'{check.documents_differ} of {check.documents} documents, first {named}; {where}. The '
            'model would be scored on a text without them, a lower BPC than the text\'s. Use a '
            'tokenizer with byte fallback, or measure anyway with '
            f'{ALLOW_HINT}: the result then records how many characters the model did not see.'
        )
    raise TextChanged(
        f'the tokenizer {name} ({source}) does not give back the text it encodes: '
        f'{check.documents_differ} of {check.documents} documents differ, over {check.chars_differ} '
        f'characters; {where}. The BPC would be of another text. If the model folder names a '
        'Llama tokenizer over a byte-level tokenizer.json, load it with '
        'core.model_loading.load_tokenizer, which reads tokenizer.json as it is written (the '
        'paper command line and the OpenCompass inferencer do); otherwise use the tokenizer the '
        f'model was trained with, or measure anyway with {ALLOW_HINT}.'
    )
