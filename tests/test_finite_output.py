"""No NaN or Infinity in a file the package writes: JSON, CSV and Markdown tables."""

import io
import json
import math

import numpy as np
import pytest

from opencompass_llmcompression.core.finite_output import (
    NonFiniteError,
    check_text,
    dump_json,
    markdown_tables,
    non_finite,
)


def test_non_finite_names_the_place_of_the_first_one():
    assert non_finite({'bpc': 1.0, 'tokens': 3, 'name': 'nan'}) is None  # 'nan' text is text
    assert non_finite({'bpc': 1.0, 'ppl': math.inf}) == 'ppl = inf'
    assert non_finite({'0': {'prediction': {'nll': float('nan')}}}) == '0.prediction.nll = nan'
    assert non_finite([1.0, {'a': [2.0, -math.inf]}]) == '[1].a[1] = -inf'
    assert non_finite({'x': np.float32('nan')}) == 'x = nan'
    assert non_finite({'x': np.array([1.0, np.inf])}) == 'x[1] = inf'
    assert non_finite(float('nan')) == 'the value = nan'


def test_dump_json_writes_strict_json_or_nothing():
    out = io.StringIO()
    dump_json({'bpc': 0.5, 'ppl': 1.7976931348623157e308}, out, 'the result r.json')
    assert json.loads(out.getvalue(), parse_constant=_refuse) == {'bpc': 0.5, 'ppl': 1.7976931348623157e308}
    out = io.StringIO()
    with pytest.raises(
        NonFiniteError,
        match=r'^the result r.json would hold ppl = inf: NaN and '
        r'Infinity are not JSON',
    ):
        dump_json({'bpc': 0.5, 'ppl': math.inf}, out, 'the result r.json')
    assert out.getvalue() == ''


def test_check_text_reads_json_strictly():
    check_text('r.json', '{"bpc": 0.5, "note": "NaN in a string is text"}')
    for bad in ('NaN', 'Infinity', '-Infinity'):
        with pytest.raises(NonFiniteError, match=f'^r.json would hold {bad}:'):
            check_text('r.json', '{"bpc": 0.5, "ppl": %s}' % bad)


def test_check_text_looks_at_the_numeric_columns_of_csv_and_markdown_tables():
    csv_text = (
        'model,corpus,bpc,bpc_ci_low,starts with\n'
        'a,cc,0.500000,0.490000,Infinity and beyond\n'
        'b,cc,0.600000,,nan\n'
    )  # a snippet column reading "nan" is text
    check_text('compression_bpc.csv', csv_text)
    with pytest.raises(
        NonFiniteError,
        match=r"^compression_bpc.csv would hold 'nan' in column "
        r'"bpc_ci_low" of row 2',
    ):
        check_text('compression_bpc.csv', csv_text.replace('0.600000,,', '0.600000,nan,'))
    markdown = (
        '# Compression\n\nMeasured with block_size=16.\n\n'
        '| model | cc | average |\n|---|---|---|\n'
        '| a | 0.5000 ± 0.010 | 0.5000 |\n| b | - | - |\n\nSome prose.\n\n'
        '| model | slope |\n|---|---|\n| a | 1.5 |\n'
    )
    check_text('compression.md', markdown)
    with pytest.raises(NonFiniteError, match=r"would hold '0.5000 ± nan' in column \"cc\""):
        check_text('compression.md', markdown.replace('± 0.010', '± nan'))
    with pytest.raises(NonFiniteError, match=r"would hold 'inf' in column \"slope\" of row 1"):
        check_text('compression.md', markdown.replace('| a | 1.5 |', '| a | inf |'))
    check_text('plot.png', 'nan')  # not a file of text tables: not looked at


def test_markdown_tables_keep_escaped_pipes_in_their_cell():
    text = '| model | starts with |\n|---|---|\n| a | x \\| y |\n'
    assert markdown_tables(text) == [(['model', 'starts with'], [['a', 'x \\| y']])]


def _refuse(constant):
    raise ValueError(f'{constant} is not JSON')


def test_the_reports_tables_refuse_a_number_that_is_not_one():
    from opencompass_llmcompression.report.leaderboard import to_csv, to_markdown

    header, rows = ['model', 'cc', 'starts with'], [['a', '0.5000', 'nan'], ['b', '-', 'x']]
    assert to_csv(header, rows) == 'model,cc,starts with\na,0.5000,nan\nb,-,x\n'
    assert '| a | 0.5000 | nan |' in to_markdown(header, rows)
    rows[1][1] = f'{float("nan"):.4f}'
    for table in (to_csv, to_markdown):
        with pytest.raises(
            NonFiniteError,
            match=r"table of the report would hold 'nan' in "
            r'column "cc" of row 2',
        ):
            table(header, rows)
