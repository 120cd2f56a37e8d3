"""The date window's two edges, as the command line promises them: ``--after D`` keeps a
document dated on D and drops one dated the day before; ``--before D`` keeps the day before D
and drops D itself. The days are written here, not taken from the code."""

import json
import os

import pytest
from conftest import real_documents

from opencompass_llmcompression.corpus import cli

DAYS = ('2025-12-31', '2026-01-01', '2026-01-02')


@pytest.fixture
def dated_records(tmp_path):
    """Three records of real prose, one a day over the turn of 2026."""
    path = tmp_path / 'dated.jsonl'
    texts = real_documents('prose', 3, max_chars=600)
    with open(path, 'w', encoding='utf-8') as f:
        for day, text in zip(DAYS, texts):
            f.write(json.dumps({'text': text, 'date': day}) + '\n')
    return str(path)


def kept_days(tmp_path, records, *window):
    out = str(tmp_path / 'out')
    argv = ['--name', 'cc', '--kind', 'text', '--records', records, '--date-field', 'date', '--out', out]
    assert cli.main(argv + list(window)) == 0
    with open(os.path.join(out, 'cc.jsonl'), encoding='utf-8') as f:
        return [json.loads(line)['meta']['date'] for line in f]


def test_after_keeps_its_own_day_and_drops_the_day_before(tmp_path, dated_records):
    assert kept_days(tmp_path, dated_records, '--after', '2026-01-01') == ['2026-01-01', '2026-01-02']


def test_before_drops_its_own_day_and_keeps_the_day_before(tmp_path, dated_records):
    assert kept_days(tmp_path, dated_records, '--before', '2026-01-02') == ['2025-12-31', '2026-01-01']


def test_a_one_day_window_keeps_that_day_only(tmp_path, dated_records):
    window = ('--after', '2026-01-01', '--before', '2026-01-02')
    assert kept_days(tmp_path, dated_records, *window) == ['2026-01-01']
