"""Reporting periods: which data a report for "11/2026" or "Q4/2026" covers, given the definition's
cut-off day, and when it is due.

With cut-off day 0 a period is the calendar month / quarter / half / year. With cut-off day D (1–28)
the data run from the day after the previous period's cut-off to day D of the period's last month:
the November report with D = 15 covers 16/10 to 15/11.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}
KEY_PATTERNS = {
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "half_year": re.compile(r"^(\d{4})-H([12])$"),
    "year": re.compile(r"^(\d{4})$"),
}


@dataclass(frozen=True)
class Period:
    kind: str
    year: int
    index: int  # month 1–12, quarter 1–4, half 1–2, year 1
    start: date  # first day of data
    cutoff: date  # last day of data (inclusive)

    @property
    def key(self):
        return {
            "month": f"{self.year}-{self.index:02d}",
            "quarter": f"{self.year}-Q{self.index}",
            "half_year": f"{self.year}-H{self.index}",
            "year": f"{self.year}",
        }[self.kind]

    @property
    def label(self):
        return {
            "month": _("Month %(n)02d/%(y)d"),
            "quarter": _("Quarter %(n)d/%(y)d"),
            "half_year": _("Half %(n)d/%(y)d"),
            "year": _("Year %(y)d"),
        }[self.kind] % {"n": self.index, "y": self.year}

    def closed(self, today):
        return self.cutoff < today

    def shifted(self, steps, cutoff_day):
        """The period ``steps`` periods later (negative: earlier)."""
        per_year = 12 // MONTHS[self.kind]
        ordinal = self.year * per_year + (self.index - 1) + steps
        return period(self.kind, ordinal // per_year, ordinal % per_year + 1, cutoff_day)

    def last_year(self, cutoff_day):
        return period(self.kind, self.year - 1, self.index, cutoff_day)


def _month_end(year, month):
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _cutoff(year, last_month, cutoff_day):
    if cutoff_day:
        return date(year, last_month, cutoff_day)
    return _month_end(year, last_month)


def period(kind, year, index, cutoff_day=0):
    months = MONTHS[kind]
    last_month = index * months
    first_month = last_month - months + 1
    cutoff = _cutoff(year, last_month, cutoff_day)
    if cutoff_day:
        prev_year, prev_month = (year, first_month - 1) if first_month > 1 else (year - 1, 12)
        start = _cutoff(prev_year, prev_month, cutoff_day) + timedelta(days=1)
    else:
        start = date(year, first_month, 1)
    return Period(kind=kind, year=year, index=index, start=start, cutoff=cutoff)


def parse(kind, key, cutoff_day=0):
    """The period written ``key`` ("2026-11", "2026-Q4", "2026-H2", "2026"); ValueError if bad."""
    match = KEY_PATTERNS[kind].match((key or "").strip())
    if not match:
        raise ValueError(key)
    year = int(match.group(1))
    index = int(match.group(2)) if kind != "year" else 1
    if kind == "month" and not 1 <= index <= 12:
        raise ValueError(key)
    if not 2000 <= year <= 2100:
        raise ValueError(key)
    return period(kind, year, index, cutoff_day)


def containing(kind, day, cutoff_day=0):
    """The period whose data window contains ``day``."""
    months = MONTHS[kind]
    index = (day.month - 1) // months + 1
    candidate = period(kind, day.year, index, cutoff_day)
    if day > candidate.cutoff:
        candidate = candidate.shifted(1, cutoff_day)
    elif day < candidate.start:
        candidate = candidate.shifted(-1, cutoff_day)
    return candidate


def latest_closed(kind, today, cutoff_day=0):
    """The most recent period whose cut-off has passed."""
    current = containing(kind, today, cutoff_day)
    return current if current.closed(today) else current.shifted(-1, cutoff_day)
