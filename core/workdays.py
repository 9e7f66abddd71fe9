"""Vietnamese working days: every statutory deadline in the portal is counted here.

Weekends and public holidays are skipped (Tết, Hùng Kings, 30/4, 1/5, National Day, and the days off
the government swaps into a bridge, per the `holidays` package's Vietnam calendar); a Saturday the
government makes a working day in exchange counts as a working day.
"""

from datetime import datetime, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone


@lru_cache(maxsize=64)
def _calendar(year):
    return holidays.country_holidays("VN", years=year)


def _as_date(value):
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def is_working_day(day):
    day = _as_date(day)
    calendar = _calendar(day.year)
    return calendar.is_working_day(day)


def holiday_name(day):
    return _calendar(_as_date(day).year).get(_as_date(day))


def add_working_days(start, days):
    """The date ``days`` working days after ``start`` (before it, for a negative count).

    ``start`` itself does not count: a 10-working-day deadline for an application received on a
    Friday falls ten working days after that Friday. With ``days == 0`` the result is ``start`` if it
    is a working day, else the next working day.
    """
    day = _as_date(start)
    if days == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    step = 1 if days > 0 else -1
    remaining = abs(days)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start, end):
    """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
    start, end = _as_date(start), _as_date(end)
    if end < start:
        return -working_days_between(end, start)
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def working_days_left(deadline, today=None):
    """Working days from today to the deadline: 0 on the day itself, negative once it has passed."""
    return working_days_between(today or timezone.localdate(), deadline)


__all__ = [
    "add_working_days",
    "holiday_name",
    "is_working_day",
    "working_days_between",
    "working_days_left",
]
