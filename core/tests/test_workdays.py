"""Working days on real 2025-2027 dates (government calendars for those years)."""

from datetime import date

import pytest

from core.workdays import add_working_days, is_working_day, working_days_between, working_days_left


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Tết Ất Tỵ 2025: off Mon 27/01 to Sat 01/02; the next working day after Fri 24/01 is Mon 03/02.
        (date(2025, 1, 24), 1, date(2025, 2, 3)),
        # 30/4-1/5 2025 with the bridge Friday 02/05 swapped for Saturday 26/04 (a working day).
        (date(2025, 4, 25), 1, date(2025, 4, 26)),
        (date(2025, 4, 29), 1, date(2025, 5, 5)),
        # National Day 2025: Mon 01/09 and Tue 02/09 off.
        (date(2025, 8, 29), 1, date(2025, 9, 3)),
        # Tết Bính Ngọ 2026: off Mon 16/02 to Fri 20/02.
        (date(2026, 2, 13), 1, date(2026, 2, 23)),
        (date(2026, 2, 13), 10, date(2026, 3, 6)),
        # Hùng Kings 2026 falls on a Sunday: observed Monday 27/04.
        (date(2026, 4, 24), 1, date(2026, 4, 28)),
        # Tết Đinh Mùi 2027: off Thu 04/02 to Wed 10/02.
        (date(2027, 2, 3), 1, date(2027, 2, 11)),
        # Ordinary weeks: weekends skipped.
        (date(2026, 11, 27), 1, date(2026, 11, 30)),
        (date(2026, 11, 30), 5, date(2026, 12, 7)),
        # Counting backwards.
        (date(2025, 2, 3), -1, date(2025, 1, 24)),
        # Zero days: the day itself if it is a working day, else the next one.
        (date(2025, 1, 29), 0, date(2025, 2, 3)),
        (date(2026, 12, 1), 0, date(2026, 12, 1)),
    ],
)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


def test_swapped_saturday_is_a_working_day_and_tet_is_not():
    assert is_working_day(date(2025, 4, 26))  # Saturday worked in exchange for 02/05
    assert not is_working_day(date(2025, 5, 2))
    assert not is_working_day(date(2026, 2, 17))  # mùng 1 Tết
    assert not is_working_day(date(2026, 11, 28))  # a Saturday


def test_working_days_between_and_left():
    assert working_days_between(date(2025, 1, 24), date(2025, 2, 3)) == 1
    assert working_days_between(date(2026, 2, 13), date(2026, 3, 6)) == 10
    assert working_days_between(date(2026, 3, 6), date(2026, 2, 13)) == -10
    assert working_days_left(date(2026, 12, 1), today=date(2026, 11, 27)) == 2
    assert working_days_left(date(2026, 11, 27), today=date(2026, 11, 27)) == 0
    assert working_days_left(date(2026, 11, 26), today=date(2026, 11, 30)) == -2
