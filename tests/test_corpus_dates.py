"""corpus.dates by hand: parsing a day, the window's two boundaries, periods."""

import datetime
import os
import time

import pytest

from opencompass_llmcompression.corpus.dates import (
    DateWindow,
    file_mtime,
    iso_day,
    parse_date,
    period,
    period_key,
    split_by_period,
)
from opencompass_llmcompression.corpus.documents import Document, Report

D = datetime.date
UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    'value,day',
    [
        ('2026-01-05', D(2026, 1, 5)),
        ('  2026-01-05\n', D(2026, 1, 5)),
        ('2026-01-05T22:21:08Z', D(2026, 1, 5)),
        ('2026-01-05T23:30:00-02:00', D(2026, 1, 6)),  # 01:30 UTC the next day
        ('2026-01-05 01:00:00+02:00', D(2026, 1, 4)),  # 23:00 UTC the day before
        ('2026-01-05T10:00:00', D(2026, 1, 5)),  # naive: taken as UTC
        ('2026-01-05Tnot a time', D(2026, 1, 5)),  # the day is still there
        ('2026-01-05garbage', D(2026, 1, 5)),
        ('2026-01-05X23:30:00-02:00', D(2026, 1, 5)),  # not 'T' or ' ': only the day is read
        (
            datetime.datetime(2026, 1, 5, 23, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-3))),
            D(2026, 1, 6),
        ),
        (datetime.datetime(2026, 1, 5, 23, 0), D(2026, 1, 5)),
        (D(2026, 1, 5), D(2026, 1, 5)),
        ('05/01/2026', None),
        ('2026-13-01', None),
        ('', None),
        (None, None),
        (20260105, None),
    ],
)
def test_parse_date(value, day):
    assert parse_date(value) == day
    assert type(parse_date(value)) is (D if day else type(None))


def test_iso_day_names_the_format():
    assert iso_day('2026-02-28') == D(2026, 2, 28)
    with pytest.raises(ValueError, match=r"^'2026-02-30' is not a date as YYYY-MM-DD$"):
        iso_day('2026-02-30')


def test_file_mtime_is_the_utc_day(tmp_path):
    path = tmp_path / 'f.txt'
    path.write_text('x')
    late = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=UTC).timestamp()
    os.utime(path, (late, late))
    assert file_mtime(str(path)) == D(2026, 3, 1)
    early = datetime.datetime(2026, 3, 2, 0, 30, tzinfo=UTC).timestamp()
    os.utime(path, (early, early))
    assert file_mtime(str(path)) == D(2026, 3, 2)


def doc(day, source='s', date_source=None, **meta):
    return Document('text', source, date=day, date_source=date_source, meta=meta)


def test_the_window_keeps_after_inclusive_and_before_exclusive():
    window = DateWindow(after=D(2026, 1, 10), before=D(2026, 2, 1))
    assert window.reason_out(doc(D(2026, 1, 9))) == 'dated before 2026-01-10 (--after)'
    assert window.reason_out(doc(D(2026, 1, 10))) is None
    assert window.reason_out(doc(D(2026, 1, 31))) is None
    assert window.reason_out(doc(D(2026, 2, 1))) == 'dated on or after 2026-02-01 (--before)'
    assert DateWindow(after=D(2026, 1, 10)).reason_out(doc(D(2099, 1, 1))) is None
    assert DateWindow(before=D(2026, 1, 10)).reason_out(doc(D(1999, 1, 1))) is None


def test_an_undated_document_is_out_with_its_reason():
    window = DateWindow(after=D(2026, 1, 10))
    assert (
        window.reason_out(doc(None))
        == 'undated, outside --after/--before (no date of its own; see --date-from)'
    )
    shallow = doc(None, date_unknown='a shallow clone: git fetch --unshallow')
    assert (
        window.reason_out(shallow)
        == 'undated, outside --after/--before (a shallow clone: git fetch --unshallow)'
    )


def test_a_window_is_true_when_it_has_a_bound_and_says_its_parameters():
    assert not DateWindow() and DateWindow(after=D(2026, 1, 1)) and DateWindow(before=D(2026, 1, 1))
    window = DateWindow(after=D(2026, 1, 10), before=D(2026, 2, 1), dated_by='first-commit')
    assert window.parameters() == {'after': '2026-01-10', 'before': '2026-02-01', 'date_from': 'first-commit'}
    assert DateWindow().parameters() == {'after': None, 'before': None, 'date_from': None}
    assert window.name == 'date_window'


def test_period_of_documents():
    docs = [
        doc(D(2026, 3, 1), date_source='crawl'),
        doc(None),
        doc(D(2025, 12, 31), date_source='published'),
        doc(D(2026, 1, 2), date_source='crawl'),
        doc(D(2026, 1, 3)),
    ]
    assert period(docs) == {
        'first': '2025-12-31',
        'last': '2026-03-01',
        'undated': 1,
        'date_sources': {'crawl': 2, 'published': 1, 'unknown': 1},
    }
    assert period([doc(None)]) == {'first': None, 'last': None, 'undated': 1, 'date_sources': {}}


@pytest.mark.parametrize(
    'day,month,quarter,year',
    [
        (D(2026, 1, 1), '2026-01', '2026-Q1', '2026'),
        (D(2026, 3, 31), '2026-03', '2026-Q1', '2026'),
        (D(2026, 4, 1), '2026-04', '2026-Q2', '2026'),
        (D(2026, 9, 30), '2026-09', '2026-Q3', '2026'),
        (D(2026, 12, 31), '2026-12', '2026-Q4', '2026'),
    ],
)
def test_period_key(day, month, quarter, year):
    assert (period_key(day, 'month'), period_key(day, 'quarter'), period_key(day, 'year')) == (
        month,
        quarter,
        year,
    )


def test_period_key_names_the_choices():
    with pytest.raises(ValueError, match=r"^split_by must be one of month, quarter, year, got 'week'$"):
        period_key(D(2026, 1, 1), 'week')


def test_split_by_period_in_period_order_and_undated_skipped():
    a, b, c, d = doc(D(2026, 5, 2), 'a'), doc(D(2026, 1, 9), 'b'), doc(None, 'c'), doc(D(2026, 2, 1), 'd')
    report = Report()
    parts = split_by_period([a, b, c, d], 'quarter', report)
    assert list(parts) == ['2026-Q1', '2026-Q2'] and parts == {'2026-Q1': [b, d], '2026-Q2': [a]}
    reason = "undated (--split-by quarter needs each document's own date)"
    assert dict(report.skipped) == {reason: 1} and report.examples == {reason: 'c'}
    assert report.kept == 0


@pytest.fixture
def local_time_14_hours_ahead(monkeypatch):
    """The process's local time zone 14 hours ahead of UTC, as on Kiritimati."""
    monkeypatch.setenv('TZ', 'XST-14')
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_days_are_utc_whatever_the_local_time_zone(local_time_14_hours_ahead, tmp_path):
    assert time.localtime(0).tm_hour == 14  # the zone is in force
    assert parse_date('2026-01-05T10:00:00+00:00') == D(2026, 1, 5)  # 00:00 on the 6th locally
    path = tmp_path / 'f.txt'
    path.write_text('x')
    late = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=UTC).timestamp()
    os.utime(path, (late, late))
    assert file_mtime(str(path)) == D(2026, 3, 1)
