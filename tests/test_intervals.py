"""Bootstrap intervals: hand-computable cases and an independent loop over resamples."""

import inspect
import math
from types import SimpleNamespace

import numpy as np
import pytest

from opencompass_llmcompression.report import intervals
from opencompass_llmcompression.report.intervals import difference_interval, ratio_interval, resampled_sums
from opencompass_llmcompression.report.uncertainty import Bootstrap

LN2 = math.log(2)
# What the README promises of the report's intervals, written here rather than imported, so
# that a change of the package's defaults fails the tests that compare with these.
README_RESAMPLES, README_SEED, README_LEVEL = 1000, 0, 0.95


def bootstrap_ratio_interval(nll, chars, resamples=README_RESAMPLES, seed=README_SEED, level=README_LEVEL):
    """One model's interval from the parts the report (``uncertainty.Bootstrap``) uses."""
    nll_sums, char_sums = resampled_sums([nll, chars], resamples, seed)
    return ratio_interval(np.sum(nll), np.sum(chars), nll_sums, char_sums, level)


def paired_difference(nll_a, nll_b, chars, resamples=README_RESAMPLES, seed=README_SEED, level=README_LEVEL):
    """A's BPC minus B's, paired, from the parts the report uses."""
    a_sums, b_sums, char_sums = resampled_sums([nll_a, nll_b, chars], resamples, seed)
    return difference_interval(np.sum(nll_a), np.sum(nll_b), np.sum(chars), a_sums, b_sums, char_sums, level)


def loop_bootstrap(
    nll_a, chars, nll_b=None, resamples=README_RESAMPLES, seed=README_SEED, level=README_LEVEL
):
    """The bootstrap written plainly: one resample at a time, sums by Python loops, then the
    percentile interval by sorting (numpy's default linear interpolation between ranks)."""
    rng = np.random.default_rng(seed)
    n, stats = len(chars), []
    for _ in range(resamples):
        picked = rng.integers(0, n, size=n)
        a = sum(nll_a[i] for i in picked)
        b = sum(nll_b[i] for i in picked) if nll_b is not None else 0.0
        c = sum(chars[i] for i in picked)
        stats.append((a - b) / (c * LN2))
    stats.sort()

    def quantile(q):
        position = q * (resamples - 1)
        low = math.floor(position)
        high = min(low + 1, resamples - 1)
        return stats[low] + (stats[high] - stats[low]) * (position - low)

    tail = (1 - level) / 2
    return quantile(tail), quantile(1 - tail)


@pytest.fixture
def documents():
    rng = np.random.default_rng(7)
    chars = rng.integers(50, 5000, size=40).astype(float)
    nll = chars * rng.uniform(0.3, 0.9, size=40)
    return nll, chars


def test_matches_a_plain_loop_for_the_same_draws(documents, monkeypatch):
    nll, chars = documents
    monkeypatch.setattr(intervals, 'CHUNK_CELLS', 7 * len(chars))  # several chunks
    got = bootstrap_ratio_interval(nll, chars, resamples=500, seed=3)
    low, high = loop_bootstrap(list(nll), list(chars), resamples=500, seed=3)
    assert got.value == pytest.approx(nll.sum() / (chars.sum() * LN2))
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-12)
    other = nll * np.linspace(0.9, 1.1, len(nll))
    got = paired_difference(nll, other, chars, resamples=300, seed=5, level=0.9)
    low, high = loop_bootstrap(list(nll), list(chars), list(other), 300, seed=5, level=0.9)
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-12)


def test_one_document_and_equal_documents_have_no_spread():
    assert bootstrap_ratio_interval([100 * LN2], [100]) == (1.0, 1.0, 1.0)
    # two documents of the same BPC (2 bits per char): every resample has that BPC
    got = bootstrap_ratio_interval([20 * LN2, 200 * LN2], [10, 100])
    assert got.low == pytest.approx(2.0) and got.high == pytest.approx(2.0)


def test_two_documents_by_hand():
    # Documents of 1 and 3 bits per char, 100 chars each. A resample holds both (BPC 2) or
    # one twice (1 or 3), so every resample is 1, 2 or 3 and both ends are among them.
    got = bootstrap_ratio_interval([100 * LN2, 300 * LN2], [100, 100], resamples=2000)
    assert got.value == pytest.approx(2.0)
    assert got.low == pytest.approx(1.0) and got.high == pytest.approx(3.0)


def test_identical_models_differ_by_exactly_zero(documents):
    nll, chars = documents
    got = paired_difference(nll, nll.copy(), chars)
    assert got == (0.0, 0.0, 0.0) and not got.excludes_zero
    two = paired_difference([10.0, 30.0], [10.0, 30.0], [5, 9])
    assert two == (0.0, 0.0, 0.0)


def test_better_on_every_document_is_below_zero(documents):
    nll, chars = documents
    got = paired_difference(nll * 0.99, nll, chars)
    assert got.high < 0 and got.excludes_zero
    assert got.value == pytest.approx(-0.01 * nll.sum() / (chars.sum() * LN2))
    # the unpaired intervals of the two overlap; pairing is what separates them
    a, b = bootstrap_ratio_interval(nll * 0.99, chars), bootstrap_ratio_interval(nll, chars)
    assert a.high > b.low


def test_same_seed_same_interval_other_seed_other_draws(documents):
    nll, chars = documents
    assert bootstrap_ratio_interval(nll, chars, seed=1) == bootstrap_ratio_interval(nll, chars, seed=1)
    assert bootstrap_ratio_interval(nll, chars, seed=1) != bootstrap_ratio_interval(nll, chars, seed=2)


def test_coverage_on_a_known_population():
    """Draw corpora from a known population many times: the 95% interval holds the
    population's BPC in roughly 95% of them (a wrong interval, e.g. over tokens, would not)."""
    rng = np.random.default_rng(11)
    population_chars = rng.integers(100, 3000, size=20000).astype(float)
    population_nll = population_chars * rng.gamma(4.0, 0.15, size=20000)
    truth = population_nll.sum() / (population_chars.sum() * LN2)
    held = 0
    for trial in range(200):
        pick = rng.integers(0, 20000, size=60)
        got = bootstrap_ratio_interval(
            population_nll[pick], population_chars[pick], resamples=400, seed=trial
        )
        held += got.low <= truth <= got.high
    assert 0.88 <= held / 200 <= 0.99


def rows_for(nll, chars, start=0):
    return [
        dict(document_index=start + i, nll=float(n), chars=int(c), bytes=int(c), tokens=10)
        for i, (n, c) in enumerate(zip(nll, chars))
    ]


def result_for(rows):
    nll, chars = sum(r['nll'] for r in rows), sum(r['chars'] for r in rows)
    return dict(
        bpc=nll / (chars * LN2),
        bpb=nll / (chars * LN2),
        nll=nll,
        chars=chars,
        bytes=chars,
        tokens=10 * len(rows),
    )


def test_the_report_table_is_the_paired_bootstrap(documents):
    nll, chars = documents
    rows = {
        'a': {'cc': rows_for(nll * 0.95, chars)},
        'b': {'cc': rows_for(nll, chars)},
        'c': {'cc': rows_for(nll, chars)},
    }
    results = {m: {'cc': result_for(r['cc'])} for m, r in rows.items()}
    boot = Bootstrap(results, rows, ['cc'], ['b', 'a', 'c'])
    assert boot.intervals()['a']['cc'] == bootstrap_ratio_interval(nll * 0.95, chars)
    header, table, refused = boot.comparison_table(['cc'], ['b', 'a', 'c'])
    assert refused == []
    by_pair = {(r[1], r[2]): r for r in table}
    expected = paired_difference(nll * 0.95, nll, chars)
    assert by_pair['a', 'b'][3:5] == [
        f'{expected.value:+.4f}',
        f'[{expected.low:+.4f}, {expected.high:+.4f}]',
    ]
    assert by_pair['a', 'b'][5] == 'a compresses better'
    assert by_pair['b', 'c'][3:] == [
        '+0.0000',
        '[+0.0000, +0.0000]',
        'no clear difference (the interval holds 0)',
    ]


def test_pairs_of_different_corpora_are_refused_with_the_reason(documents):
    nll, chars = documents
    full, short = rows_for(nll, chars), rows_for(nll[:38], chars[:38])
    edited = rows_for(nll, chars)
    edited[4] = dict(edited[4], chars=edited[4]['chars'] + 1, bytes=edited[4]['bytes'] + 1)
    rows = {'a': {'cc': full}, 'b': {'cc': short}, 'c': {'cc': edited}}
    results = {m: {'cc': result_for(r['cc'])} for m, r in rows.items()}
    _, table, refused = Bootstrap(results, rows, ['cc'], ['a', 'b', 'c']).comparison_table(
        ['cc'], ['a', 'b', 'c']
    )
    assert table == []
    assert refused[0] == 'cc: a and b not compared, a has 40 documents, b 38.'
    assert refused[1].startswith('cc: a and c not compared, document 4 has')
    assert refused[1].endswith('not the same text.') and len(refused) == 3


def test_missing_or_stale_predictions_give_a_note_not_a_failure(documents):
    nll, chars = documents
    rows = rows_for(nll, chars)
    results = {
        'a': {'cc': result_for(rows)},
        'b': {'cc': result_for(rows)},
        'c': {'cc': dict(result_for(rows), chars=1)},
    }
    boot = Bootstrap(results, {'a': {'cc': rows}, 'c': {'cc': rows}}, ['cc'], ['a', 'b', 'c'])
    assert set(boot.intervals()) == {'a'}
    assert boot.notes[0].startswith('b on cc: no interval, no per-document predictions')
    assert 'from another run' in boot.notes[1]


def test_the_report_draws_the_readmes_1000_resamples_from_seed_0(documents):
    """A report built with the defaults gives the intervals of the plain loop run with 1000
    resamples from seed 0 at 95%: 200 resamples or seed 5 would move both ends."""
    nll, chars = documents
    rows = {'a': {'cc': rows_for(nll * 0.95, chars)}, 'b': {'cc': rows_for(nll, chars)}}
    results = {m: {'cc': result_for(r['cc'])} for m, r in rows.items()}
    boot = Bootstrap(results, rows, ['cc'], ['a', 'b'])
    got = boot.intervals()['a']['cc']
    assert (got.low, got.high) == pytest.approx(loop_bootstrap(list(nll * 0.95), list(chars)), rel=1e-12)
    _, table, _ = boot.comparison_table(['cc'], ['a', 'b'])
    low, high = loop_bootstrap(list(nll * 0.95), list(chars), list(nll))
    assert table[0][4] == f'[{low:+.4f}, {high:+.4f}]'
    # the same loop with another count or seed gives other ends, so the check above can fail
    assert loop_bootstrap(list(nll * 0.95), list(chars), resamples=200) != pytest.approx((got.low, got.high))
    assert loop_bootstrap(list(nll * 0.95), list(chars), seed=5) != pytest.approx((got.low, got.high))


def test_every_way_into_the_report_defaults_to_1000_resamples_and_seed_0(monkeypatch, tmp_path):
    from opencompass_llmcompression import summary_cli
    from opencompass_llmcompression.openicl.summarizer import CompressionSummarizer
    from opencompass_llmcompression.report.writer import ReportOptions

    assert (ReportOptions().resamples, ReportOptions().seed) == (1000, 0)
    defaults = inspect.signature(CompressionSummarizer.__init__).parameters
    assert (defaults['resamples'].default, defaults['seed'].default) == (1000, 0)
    defaults = inspect.signature(Bootstrap.__init__).parameters
    assert (defaults['resamples'].default, defaults['seed'].default, defaults['level'].default) == (
        1000,
        0,
        0.95,
    )
    asked = []
    monkeypatch.setattr(summary_cli, 'find_run_dirs', lambda folders: [str(tmp_path)])
    monkeypatch.setattr(summary_cli, 'collect', lambda *args: SimpleNamespace(run_dirs=[str(tmp_path)]))
    monkeypatch.setattr(
        summary_cli, 'write_report', lambda run, options, *args, **kw: asked.append(options) or ''
    )
    summary_cli.main([str(tmp_path), '--out', str(tmp_path / 'summary')])
    assert (asked[0].resamples, asked[0].seed) == (1000, 0)


def test_a_level_other_than_95_percent_reaches_one_models_interval(documents):
    nll, chars = documents
    got = bootstrap_ratio_interval(nll, chars, resamples=300, seed=2, level=0.8)
    low, high = loop_bootstrap(list(nll), list(chars), resamples=300, seed=2, level=0.8)
    assert (got.low, got.high) == pytest.approx((low, high), rel=1e-12)


def test_sums_are_taken_in_float64_whatever_the_input(documents):
    nll, _ = documents
    single = (nll / 7).astype(np.float32)  # fractions a float32 sum would round
    (got,) = resampled_sums([single], 50, 0)
    (want,) = resampled_sums([single.astype(np.float64)], 50, 0)
    assert got.dtype == np.float64 and np.array_equal(got, want)


@pytest.mark.parametrize('values', [[[], []], [[1.0, 2.0], [1.0, 2.0, 3.0]], [[1.0], []]])
def test_no_documents_or_unequal_arrays_are_refused(values):
    with pytest.raises(ValueError, match='^a bootstrap needs at least one document and equal-length arrays$'):
        resampled_sums(values, 10, 0)


def test_plus_minus_is_half_the_width_to_two_significant_digits():
    assert intervals.Interval(0.03, 0.0123, 0.0456).plus_minus() == '± 0.017'  # 0.0333 / 2
    assert intervals.Interval(1.0, 0.9, 1.1).plus_minus() == '± 0.1'


def test_a_new_metric_gets_its_interval_from_its_count_or_a_note(documents, monkeypatch):
    """docs/architecture.md's recipe for a new metric, bits per token: named in SIZE with its
    per-document count, it gets the plain loop's interval over tokens; a metric SIZE does not
    know gets none and a note, not a KeyError."""
    from opencompass_llmcompression.report import uncertainty

    nll, chars = documents
    tokens = (chars // 4).astype(float)
    rows = [dict(r, tokens=int(t)) for r, t in zip(rows_for(nll, chars), tokens)]
    results = {'a': {'cc': dict(result_for(rows), tokens=int(tokens.sum()))}}
    boot = Bootstrap(results, {'a': {'cc': rows}}, ['cc'], ['a'])
    assert boot.intervals('bpt') == {} and boot.notes == [
        'bpt: no intervals: the report draws them for bits per a per-document count (bpc: chars, '
        'bpb: bytes, compression_rate: bytes; report/uncertainty.py SIZE)'
    ]
    monkeypatch.setitem(uncertainty.SIZE, 'bpt', 'tokens')
    got = Bootstrap(results, {'a': {'cc': rows}}, ['cc'], ['a']).intervals('bpt')['a']['cc']
    assert got.value == pytest.approx(nll.sum() / (tokens.sum() * LN2), rel=1e-12)
    assert (got.low, got.high) == pytest.approx(loop_bootstrap(list(nll), list(tokens)), rel=1e-12)
