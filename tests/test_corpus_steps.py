"""The step contract of the corpus builder: the runner counts each drop under its reason and
its step, writes one manifest entry per step, and gives the same verdicts document by
document and a batch at a time."""

import datetime

import pytest

from opencompass_llmcompression.corpus.dates import DateWindow
from opencompass_llmcompression.corpus.dedup import Duplicates
from opencompass_llmcompression.corpus.documents import Document, Report
from opencompass_llmcompression.corpus.steps import Filter, LengthFilter, Step, Steps


class MaxDigits(Filter):
    """The docs' example: at most a fifth of the characters digits."""

    name = 'max_digits'

    def parameters(self):
        return {'max_fraction': 0.2}

    def reason_out(self, doc):
        return 'over 20% digits' if sum(c.isdigit() for c in doc.content) > 0.2 * len(doc.content) else None


class Shout(Step):
    """A cleaner: the text upper-cased."""

    name = 'shout'

    def apply(self, doc):
        doc.content = doc.content.upper()
        return doc


def documents():
    day = datetime.date
    return [
        Document('a quiet line of words ' * 3, 'a', day(2026, 1, 2)),  # kept
        Document('1234567890 ' * 6, 'b', day(2026, 1, 3)),  # digits
        Document('short', 'c', day(2026, 1, 4)),  # length
        Document('a quiet line of words ' * 3, 'd', day(2026, 1, 5)),  # exact duplicate of a
        Document('another line of plain words ' * 3, 'e', day(2025, 12, 31)),  # before the window
        Document('another line of plain words, longer ' * 3, 'f', day(2026, 2, 1)),  # kept
    ]


@pytest.mark.parametrize('batch_chars', [0, 1, 60, 10**6])
def test_each_drop_counted_under_its_reason_and_step(batch_chars):
    steps = Steps(
        [
            DateWindow(datetime.date(2026, 1, 1), dated_by='record'),
            LengthFilter(20),
            MaxDigits(),
            Duplicates(0.8),
            Shout(),
        ]
    )
    report = Report()
    kept = list(steps.run(documents(), report, batch_chars))
    steps.record(report)
    assert [d.source for d in kept] == ['a', 'f']
    assert kept[0].content == 'A QUIET LINE OF WORDS ' * 3
    assert report.skipped == {
        'dated before 2026-01-01 (--after)': 1,
        'shorter than 20 characters': 1,
        'over 20% digits': 1,
        'exact duplicate': 1,
    }
    assert report.examples['exact duplicate'] == 'd'
    assert report.skipped_on['over 20% digits'] == {datetime.date(2026, 1, 3): 1}
    assert [(f['name'], f['removed']) for f in report.filters] == [
        ('date_window', 1),
        ('length', 1),
        ('max_digits', 1),
        ('duplicates', 1),
        ('shout', 0),
    ]
    assert report.filters[0]['parameters'] == {'after': '2026-01-01', 'before': None, 'date_from': 'record'}
    assert report.filters[2]['parameters'] == {'max_fraction': 0.2}


def test_a_period_report_holds_the_skips_of_its_days_only():
    steps, report = Steps([LengthFilter(20)]), Report()
    list(steps.run(documents(), report))
    january = report.of_period(lambda day: day.month == 1 and day.year == 2026)
    assert january.skipped == {'shorter than 20 characters': 1}
    assert report.of_period(lambda day: day.month == 2).skipped == {}
