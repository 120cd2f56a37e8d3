"""windows.py on small integer streams, by hand and against a step-by-step simulation."""

import dataclasses

import numpy as np
import pytest

from opencompass_llmcompression.core.settings import PAPER, MeasurementSettings
from opencompass_llmcompression.core.windows import (
    scored_positions,
    sliding_windows,
    why_no_window,
    windows_touching,
)


def windows(n, block, stride, ref=False):
    return sliding_windows(n, MeasurementSettings(block, stride, ref))


def rows(n, block, stride, ref=False):
    return windows(n, block, stride, ref).tolist()


def simulate(n, block, stride, reference_compat):
    """The paper's loop, one window at a time: scored positions of each window."""
    out, begin, prev_end = [], 0, 0
    while True:
        end = min(begin + block + 1, n)
        if reference_compat and begin + block + 1 > n:
            break
        scored = list(range(max(prev_end, 1), end))
        if not reference_compat and not scored:
            break
        out.append((begin, end, scored))
        prev_end = end
        if end == n:
            break
        begin += stride
    return out


def test_picture_in_the_docstring():
    assert rows(12, 4, 2) == [[0, 5, 1], [2, 7, 5], [4, 9, 7], [6, 11, 9], [8, 12, 11]]
    assert rows(12, 4, 2, ref=True) == [[0, 5, 1], [2, 7, 5], [4, 9, 7], [6, 11, 9]]


def test_stream_shorter_than_one_window():
    assert rows(3, 4, 2) == [[0, 3, 1]]  # scores 1, 2
    assert rows(3, 4, 2, ref=True) == []  # the paper's code scores nothing
    assert rows(1, 4, 2) == [] and rows(0, 4, 2) == []


def test_exactly_one_window():
    assert rows(5, 4, 2) == [[0, 5, 1]]
    assert rows(5, 4, 2, ref=True) == [[0, 5, 1]]


def test_stride_equal_to_window():
    # block 3: windows of 4 tokens, each later one scores its last 3
    assert rows(10, 3, 3) == [[0, 4, 1], [3, 7, 4], [6, 10, 7]]
    assert rows(11, 3, 3) == [[0, 4, 1], [3, 7, 4], [6, 10, 7], [9, 11, 10]]
    assert rows(11, 3, 3, ref=True) == [[0, 4, 1], [3, 7, 4], [6, 10, 7]]


def test_stride_one():
    assert rows(7, 3, 1) == [[0, 4, 1], [1, 5, 4], [2, 6, 5], [3, 7, 6]]
    assert rows(7, 3, 1, ref=True) == rows(7, 3, 1)


@pytest.mark.parametrize('tail', range(0, 5))
def test_tail_lengths(tail):
    """Tails of 0..stride tokens after 3 full steps (a tail of `stride` is one more window)."""
    block, stride = 6, 4
    n = block + 1 + 3 * stride + tail
    dropped = tail % stride
    ref = windows(n, block, stride, ref=True)
    assert len(ref) == 4 + tail // stride
    assert scored_positions(ref).tolist() == list(range(1, n - dropped))
    full = windows(n, block, stride)
    assert scored_positions(full).tolist() == list(range(1, n))
    assert len(full) == 4 + (tail > 0)
    if dropped:
        assert full[-1].tolist() == [4 * stride, n, n - dropped]


@pytest.mark.parametrize('ref', [False, True])
def test_matches_simulation_exhaustively(ref):
    for block in range(1, 9):
        for stride in range(1, block + 1):
            for n in range(0, 40):
                expect = simulate(n, block, stride, ref)
                got = windows(n, block, stride, ref)
                assert [(int(s), int(e), list(range(f, e))) for s, e, f in got] == expect, (n, block, stride)


def test_every_scored_token_has_the_promised_context():
    block, stride = 8, 3
    for n in range(block + 1, 60):
        for s, _end, f in windows(n, block, stride):
            if f > 1:
                assert f - s >= block + 1 - stride


@pytest.mark.parametrize(
    'block,stride,message',
    [
        (4, 0, 'stride must be a positive'),
        (4, -1, 'stride must be a positive'),
        (4, 5, 'larger than block_size'),
        (0, 1, 'block_size must be a positive'),
        (4.0, 2, 'block_size must be a positive'),
        (True, 1, 'block_size must be a positive'),
    ],
)
def test_bad_settings_are_named(block, stride, message):
    with pytest.raises(ValueError, match=message):
        MeasurementSettings(block, stride)


def test_settings_are_one_frozen_value_with_the_papers_defaults():
    assert (PAPER.block_size, PAPER.stride, PAPER.reference_compat) == (1900, 512, False)
    assert PAPER.is_paper and MeasurementSettings(1900, 512, True).is_paper
    assert not MeasurementSettings(1024, 512).is_paper
    with pytest.raises(dataclasses.FrozenInstanceError):
        PAPER.stride = 256  # frozen: a value, not a place to write
    settings = MeasurementSettings(np.int64(64), np.int32(16), np.bool_(True))
    record = settings.as_record()
    assert record == {'block_size': 64, 'stride': 16, 'reference_compat': True}
    assert type(record['block_size']) is int and type(record['reference_compat']) is bool
    assert MeasurementSettings.from_record(dict(record, nll=1.0)) == settings
    assert MeasurementSettings.from_record({'block_size': 64}) is None
    assert MeasurementSettings.from_record(None) is None
    with pytest.raises(ValueError, match='reference_compat must be True or False'):
        MeasurementSettings(64, 16, 'yes')


def test_windows_touching_documents():
    # documents own [0,3) [3,4) [4,10) [10,12)
    offsets = np.array([0, 3, 4, 10, 12])
    spans = windows(12, 4, 2)  # scores 1-4, 5-6, 7-8, 9-10, 11
    assert windows_touching(spans, offsets, np.array([1, 0, 0, 0], bool)).tolist() == [0]
    assert windows_touching(spans, offsets, np.array([0, 1, 0, 0], bool)).tolist() == [0]
    assert windows_touching(spans, offsets, np.array([0, 0, 1, 0], bool)).tolist() == [0, 1, 2, 3]
    assert windows_touching(spans, offsets, np.array([0, 0, 0, 1], bool)).tolist() == [3, 4]
    assert windows_touching(spans, offsets, np.zeros(4, bool)).tolist() == []


def touching_by_hand(spans, offsets, wanted):
    """Windows that score a position owned by a wanted document, one position at a time."""
    owner = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    return [k for k, (_start, end, score_from) in enumerate(spans) if wanted[owner[score_from:end]].any()]


@pytest.mark.parametrize('ref', [False, True])
def test_windows_touching_matches_a_position_by_position_check(ref):
    """Every split of streams of up to 7 tokens into documents, every wanted subset of them."""
    for n in range(2, 8):
        for cuts in range(1 << (n - 1)):  # bit i set: a document starts at position i + 1
            offsets = np.array([0] + [i + 1 for i in range(n - 1) if cuts >> i & 1] + [n])
            docs = len(offsets) - 1
            for block, stride in ((2, 1), (3, 2), (4, 4)):
                spans = windows(n, block, stride, ref)
                for mask in range(1 << docs):
                    wanted = np.array([mask >> d & 1 for d in range(docs)], bool)
                    got = windows_touching(spans, offsets, wanted).tolist()
                    assert got == touching_by_hand(spans, offsets, wanted), (offsets, block, stride, mask)


def test_no_window_and_one_window():
    none = windows(1, 4, 2)
    for empty in (scored_positions(none), windows_touching(none, np.array([0, 1]), np.ones(1, bool))):
        assert empty.shape == (0,) and empty.dtype == np.int64
    one = windows(5, 4, 2)
    assert scored_positions(one).tolist() == [1, 2, 3, 4]
    assert windows_touching(one, np.array([0, 5]), np.ones(1, bool)).tolist() == [0]


@pytest.mark.parametrize(
    'ref,num_tokens,start',
    [
        (False, 1, 'the whole corpus tokenizes to 1 token, and a token is scored only when one precedes it'),
        (False, 0, 'the whole corpus tokenizes to 0 tokens, and'),
        (False, None, 'the whole corpus tokenizes to one token or none, and'),
        (True, 16, 'the corpus has 16 tokens, fewer than one window of block_size + 1 = 17:'),
        (True, 1, 'the corpus has 1 token, fewer than one window of block_size + 1 = 17:'),
        (True, None, 'the corpus has fewer tokens than one window of block_size + 1 = 17:'),
    ],
)
def test_why_no_window_says_why_and_the_fix(ref, num_tokens, start):
    message = why_no_window(MeasurementSettings(16, 8, ref), num_tokens)
    assert message.startswith(start)
    if ref:
        assert message.endswith(
            ": the paper's method (reference_compat) scores full windows only, so it scores nothing. "
            'Use reference_compat=False or a smaller block_size.'
        )
    else:
        assert message.endswith(
            'precedes it: nothing can be scored (a BPC of 0 would mean nothing). '
            'Measure a corpus of more text.'
        )
