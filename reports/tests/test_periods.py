"""Reporting periods (reports.periods): the data window of each period for each cut-off rule, across
year boundaries, the period containing a day, the latest closed one, and keys that are not periods.
Pure date arithmetic: no database."""

from datetime import date

import pytest

from reports import periods

# (kind, key, cut-off day, first day of data, last day of data)
WINDOWS = [
    ("month", "2026-11", 0, date(2026, 11, 1), date(2026, 11, 30)),
    ("month", "2026-02", 0, date(2026, 2, 1), date(2026, 2, 28)),
    ("month", "2028-02", 0, date(2028, 2, 1), date(2028, 2, 29)),  # leap year
    ("month", "2026-12", 0, date(2026, 12, 1), date(2026, 12, 31)),
    ("month", "2026-11", 15, date(2026, 10, 16), date(2026, 11, 15)),
    ("month", "2026-01", 15, date(2025, 12, 16), date(2026, 1, 15)),  # over the new year
    ("month", "2026-03", 28, date(2026, 3, 1), date(2026, 3, 28)),  # 28 Feb + 1
    ("quarter", "2026-Q1", 0, date(2026, 1, 1), date(2026, 3, 31)),
    ("quarter", "2026-Q4", 0, date(2026, 10, 1), date(2026, 12, 31)),
    ("quarter", "2026-Q1", 15, date(2025, 12, 16), date(2026, 3, 15)),
    ("quarter", "2026-Q3", 15, date(2026, 6, 16), date(2026, 9, 15)),
    ("half_year", "2026-H1", 0, date(2026, 1, 1), date(2026, 6, 30)),
    ("half_year", "2026-H2", 0, date(2026, 7, 1), date(2026, 12, 31)),
    ("half_year", "2026-H1", 15, date(2025, 12, 16), date(2026, 6, 15)),
    ("half_year", "2026-H2", 15, date(2026, 6, 16), date(2026, 12, 15)),
    ("year", "2026", 0, date(2026, 1, 1), date(2026, 12, 31)),
    ("year", "2026", 15, date(2025, 12, 16), date(2026, 12, 15)),
]


@pytest.mark.parametrize(("kind", "key", "cutoff_day", "start", "cutoff"), WINDOWS)
def test_data_window(kind, key, cutoff_day, start, cutoff):
    per = periods.parse(kind, key, cutoff_day)
    assert (per.start, per.cutoff, per.key) == (start, cutoff, key)


@pytest.mark.parametrize("kind", list(periods.MONTHS))
@pytest.mark.parametrize("cutoff_day", [0, 15])
def test_consecutive_periods_tile_the_calendar(kind, cutoff_day):
    """Each period starts the day after the previous one's cut-off: no day is lost or counted
    twice, over several years."""
    per = periods.parse(kind, "2024" if kind == "year" else periods.containing(kind, date(2024, 1, 20)).key, cutoff_day)  # fmt: skip
    for _ in range(30):
        following = per.shifted(1, cutoff_day)
        assert (following.start - per.cutoff).days == 1, (per, following)
        assert following.shifted(-1, cutoff_day) == per
        per = following


@pytest.mark.parametrize(
    ("kind", "key", "previous", "last_year"),
    [
        ("month", "2026-01", "2025-12", "2025-01"),
        ("quarter", "2026-Q1", "2025-Q4", "2025-Q1"),
        ("half_year", "2026-H1", "2025-H2", "2025-H1"),
        ("year", "2026", "2025", "2025"),
    ],
)
def test_previous_and_last_year_over_the_year_boundary(kind, key, previous, last_year):
    per = periods.parse(kind, key, 15)
    assert per.shifted(-1, 15).key == previous
    assert per.last_year(15).key == last_year
    assert per.last_year(15).cutoff.year == per.cutoff.year - 1


@pytest.mark.parametrize(
    ("kind", "day", "cutoff_day", "key"),
    [
        ("month", date(2026, 11, 15), 15, "2026-11"),  # the cut-off day belongs to its period
        ("month", date(2026, 11, 16), 15, "2026-12"),
        ("month", date(2026, 12, 20), 15, "2027-01"),  # after December's cut-off: next year
        ("month", date(2026, 1, 10), 15, "2026-01"),
        ("month", date(2026, 11, 16), 0, "2026-11"),
        ("quarter", date(2026, 3, 31), 0, "2026-Q1"),
        ("quarter", date(2026, 3, 16), 15, "2026-Q2"),
        ("quarter", date(2026, 12, 16), 15, "2027-Q1"),
        ("half_year", date(2026, 6, 16), 15, "2026-H2"),
        ("half_year", date(2026, 12, 31), 0, "2026-H2"),
        ("year", date(2026, 12, 15), 15, "2026"),
        ("year", date(2026, 12, 16), 15, "2027"),
    ],
)
def test_containing(kind, day, cutoff_day, key):
    per = periods.containing(kind, day, cutoff_day)
    assert per.key == key
    assert per.start <= day <= per.cutoff


@pytest.mark.parametrize(
    ("kind", "today", "cutoff_day", "key"),
    [
        ("month", date(2026, 11, 28), 0, "2026-10"),
        ("month", date(2026, 12, 1), 0, "2026-11"),  # the day after the cut-off
        ("month", date(2026, 11, 30), 0, "2026-10"),  # the cut-off day itself is still open
        ("month", date(2026, 11, 16), 15, "2026-11"),
        ("month", date(2026, 11, 15), 15, "2026-10"),
        ("month", date(2026, 1, 5), 0, "2025-12"),
        ("month", date(2026, 1, 5), 15, "2025-12"),
        ("quarter", date(2026, 1, 1), 0, "2025-Q4"),
        ("quarter", date(2026, 11, 28), 0, "2026-Q3"),
        ("quarter", date(2026, 12, 16), 15, "2026-Q4"),
        ("half_year", date(2026, 7, 1), 0, "2026-H1"),
        ("half_year", date(2026, 6, 20), 15, "2026-H1"),
        ("year", date(2027, 1, 1), 0, "2026"),
        ("year", date(2026, 12, 20), 15, "2026"),
        ("year", date(2026, 12, 10), 15, "2025"),
    ],
)
def test_latest_closed(kind, today, cutoff_day, key):
    per = periods.latest_closed(kind, today, cutoff_day)
    assert per.key == key
    assert per.closed(today) and per.cutoff < today
    assert not per.shifted(1, cutoff_day).closed(today)


def test_labels():
    assert periods.parse("month", "2026-03").label.endswith("03/2026")
    assert "4/2026" in periods.parse("quarter", "2026-Q4").label
    assert "2/2026" in periods.parse("half_year", "2026-H2").label
    assert "2026" in periods.parse("year", "2026").label


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("month", "2026-13"),
        ("month", "2026-00"),
        ("month", "2026-1"),
        ("month", "2026-Q1"),
        ("month", "11/2026"),
        ("month", ""),
        ("month", None),
        ("quarter", "2026-Q5"),
        ("quarter", "2026-Q0"),
        ("quarter", "2026-11"),
        ("half_year", "2026-H3"),
        ("year", "26"),
        ("year", "1999"),
        ("year", "2101"),
        ("year", "2026-01"),
    ],
)
def test_parse_errors(kind, key):
    with pytest.raises(ValueError):
        periods.parse(kind, key)


def test_parse_accepts_surrounding_spaces():
    assert periods.parse("quarter", " 2026-Q2 ").key == "2026-Q2"


def test_unknown_period_kind():
    with pytest.raises(KeyError):
        periods.parse("week", "2026-W01")
