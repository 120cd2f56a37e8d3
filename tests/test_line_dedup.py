"""The line deduplication's normalisation is cc_net's ``normalize_for_dedup``: checked against
cc_net's published punctuation list (written here as constants) and against cc_net's own
output on real lines (tests/data/line_dedup, made by running cc_net's function)."""

import json
import os
import unicodedata

from opencompass_llmcompression.corpus.dedup import LineDeduplicator, line_hashes, normalize_line

DATA = os.path.join(os.path.dirname(__file__), 'data', 'line_dedup', 'cc_net_normalized.jsonl')

# cc_net/text_normalizer.py, UNICODE_PUNCT's keys (commit bda555b), in its order: the marks
# normalize_for_dedup removes, besides the control characters.
CC_NET_MARKS = [
    '\uff0c', '\u3002', '\u3001', '\u201e', '\u201d', '\u201c', '\u00ab', '\u00bb', '\uff11',
    '\u300d', '\u300c', '\u300a', '\u300b', '\u00b4', '\u2236', '\uff1a', '\uff1f', '\uff01',
    '\uff08', '\uff09', '\uff1b', '\u2013', '\u2014', '\uff0e', '\uff5e', '\u2019', '\u2026',
    '\u2501', '\u3008', '\u3009', '\u3010', '\u3011', '\uff05', '\u25ba',
]  # fmt: skip
# cc_net's NON_PRINTING_CHARS_RE: U+0000-U+001F and U+007F-U+009F.
CC_NET_CONTROLS = [chr(c) for c in range(0, 32)] + [chr(c) for c in range(127, 160)]


def test_cc_nets_34_marks_are_removed_and_its_full_width_one_is_a_digit_first():
    assert len(CC_NET_MARKS) == len(set(CC_NET_MARKS)) == 34
    for mark in CC_NET_MARKS:
        expected = 'a0b' if mark == '\uff11' else 'ab'  # digits go to 0 before marks go
        assert normalize_line(f'a{mark}b') == expected, repr(mark)


def test_control_characters_are_removed_inside_a_line():
    for control in CC_NET_CONTROLS:
        assert normalize_line(f'a{control}b') == 'ab', repr(control)


def test_every_other_punctuation_mark_stays():
    listed = set(CC_NET_MARKS)
    others = [
        chr(c)
        for c in range(0x110000)
        if unicodedata.category(chr(c)).startswith('P') and chr(c) not in listed and chr(c).lower() == chr(c)
    ]
    assert len(others) > 700  # ASCII's and the rest of Unicode's
    for mark in others:
        assert normalize_line(f'a{mark}b') == f'a{mark}b', repr(mark)


def test_ascii_punctuation_keeps_lines_apart():
    assert normalize_line('  Hello, world.  ') == 'hello, world.'
    assert normalize_line('Hello world') == 'hello world'
    assert normalize_line('Page 12 of 345') == normalize_line('page 99 of 000') == 'page 00 of 000'
    assert normalize_line('\u201cQuoted\u201d \u2014 text') == 'quoted  text'
    dedup = LineDeduplicator()
    text = 'Hello, world.\nHello world\nHELLO WORLD'
    assert dedup.keep_new_lines(text, line_hashes(text)) == 'Hello, world.\nHello world'


def test_cc_nets_own_output_on_real_lines():
    with open(DATA, encoding='utf-8') as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == 781
    changed = sum(row['line'].strip().lower() != row['cc_net'] for row in rows)
    assert changed > 300  # the lines exercise digits, marks and control characters
    wrong = [row for row in rows if normalize_line(row['line']) != row['cc_net']]
    assert wrong == []
