"""windows.py on small integer streams, by hand and against a step-by-step simulation."""

import numpy as np
import pytest

from opencompass_llmcompression.core.windows import (check_window_settings, scored_positions,
                                                sliding_windows, windows_touching)


def rows(n, block, stride, ref=False):
    return sliding_windows(n, block, stride, ref).tolist()


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
    assert rows(3, 4, 2) == [[0, 3, 1]]          # scores 1, 2
    assert rows(3, 4, 2, ref=True) == []        # the paper's code scores nothing
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
    ref = sliding_windows(n, block, stride, reference_compat=True)
    assert len(ref) == 4 + tail // stride
    assert scored_positions(ref).tolist() == list(range(1, n - dropped))
    full = sliding_windows(n, block, stride)
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
                got = sliding_windows(n, block, stride, ref)
                assert [(int(s), int(e), list(range(f, e))) for s, e, f in got] == expect, \
                    (n, block, stride)


def test_every_scored_token_has_the_promised_context():
    block, stride = 8, 3
    for n in range(block + 1, 60):
        for s, e, f in sliding_windows(n, block, stride):
            if f > 1:
                assert f - s >= block + 1 - stride


@pytest.mark.parametrize('block,stride,message', [
    (4, 0, 'stride must be a positive'), (4, -1, 'stride must be a positive'),
    (4, 5, 'larger than block_size'), (0, 1, 'block_size must be a positive')])
def test_bad_settings_are_named(block, stride, message):
    with pytest.raises(ValueError, match=message):
        check_window_settings(block, stride)


def test_windows_touching_documents():
    # documents own [0,3) [3,4) [4,10) [10,12)
    offsets = np.array([0, 3, 4, 10, 12])
    windows = sliding_windows(12, 4, 2)  # scores 1-4, 5-6, 7-8, 9-10, 11
    assert windows_touching(windows, offsets, np.array([1, 0, 0, 0], bool)).tolist() == [0]
    assert windows_touching(windows, offsets, np.array([0, 1, 0, 0], bool)).tolist() == [0]
    assert windows_touching(windows, offsets, np.array([0, 0, 1, 0], bool)).tolist() == [0, 1, 2, 3]
    assert windows_touching(windows, offsets, np.array([0, 0, 0, 1], bool)).tolist() == [3, 4]
    assert windows_touching(windows, offsets, np.zeros(4, bool)).tolist() == []
