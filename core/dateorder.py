"""Which way a file writes its dates, decided from the whole column, never guessed per row.

``9/8/2016`` is the 9th of August day-first and the 8th of September month-first. A file's other
rows tell: ``13/8/2016`` can only be day-first, ``8/13/2016`` only month-first. ``DateOrder`` reads
a column's values one by one (streaming) and answers:

- ``DMY`` when the file proves day-first, or has no date whose order matters (5/5/2026, ISO dates);
- ``MDY`` when it proves month-first;
- ``None`` when it proves both (rows disagree) or every dated row is ambiguous.

``decide(choice)`` gives the order to read with: the user's choice (an import's date-order field,
an API parameter) when given; day-first when the file proves it. A file that proves month-first,
or whose rows disagree, is refused saying so and naming a row, so the user chooses: it is never
read month-first by a guess. A file whose every date could be either is read day-first (the
portal's order, dd/mm/yyyy: refusing it would refuse every file of a month's first twelve days)
and ``notice`` then says so, with a row, on the result: a date never changes meaning silently.
"""

import re

from django.utils.translation import gettext as _

from core.exceptions import ImportRejected

DMY, MDY = "dmy", "mdy"
ORDERS = (DMY, MDY)
SLASHED = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")


class DateOrder:
    def __init__(self, column):
        self.column = column
        self.day_first = None  # (row, value) proving day-first
        self.month_first = None
        self.ambiguous = None
        self.plain = False  # a slashed date whose order does not matter (day == month)
        self.notice = ""

    def see(self, row, value):
        match = SLASHED.match(str(value or ""))
        if not match:
            return
        first, second = int(match.group(1)), int(match.group(2))
        if first > 12 and second <= 12:
            self.day_first = self.day_first or (row, value)
        elif second > 12 and first <= 12:
            self.month_first = self.month_first or (row, value)
        elif first != second:
            self.ambiguous = self.ambiguous or (row, value)
        else:
            self.plain = True

    def found(self):
        """DMY, MDY or None (see the module's docstring)."""
        if self.day_first and self.month_first:
            return None
        if self.month_first:
            return MDY
        if self.day_first or not self.ambiguous:
            return DMY
        return None

    def decide(self, choice=None):
        """The order to read the column in: the user's ``choice`` (dmy / mdy) when given, else the
        file's when it proves day-first; otherwise refuse, saying what the file shows."""
        if choice in ORDERS:
            return choice
        found = self.found()
        if found == DMY:
            return DMY
        values = {"column": self.column}
        if self.day_first and self.month_first:
            values.update(
                row=self.day_first[0],
                value=self.day_first[1],
                row2=self.month_first[0],
                value2=self.month_first[1],
            )
            message = _(
                "The dates in “%(column)s” disagree: row %(row)d (%(value)s) can only be "
                "day-first, row %(row2)d (%(value2)s) only month-first. Correct the file."
            )
        elif found == MDY:
            values.update(row=self.month_first[0], value=self.month_first[1])
            message = _(
                "The dates in “%(column)s” are written month first (row %(row)d: %(value)s). "
                "Choose the date order (month/day/year) and import again."
            )
        else:
            values.update(row=self.ambiguous[0], value=self.ambiguous[1])
            self.notice = (
                _(
                    "Every date in “%(column)s” could be day-first or month-first (row %(row)d: "
                    "%(value)s): they were read day-first. If the file writes month first, import it "
                    "again choosing month/day/year."
                )
                % values
            )
            return DMY
        raise ImportRejected(message % values)


EXCEL_EPOCH_ORDINAL = 693594  # date(1899, 12, 30).toordinal(): Excel's day 0 (1900 date system)


def parse_date(text, order=DMY):
    """A date as a file writes it: dd/mm/yyyy (mm/dd/yyyy when ``order`` is MDY; "/", "." or "-"),
    ISO yyyy-mm-dd, or an Excel serial day number (a date cell read as its number). None when
    ``text`` is empty; ValueError when it is no date."""
    from datetime import date, datetime

    text = str(text or "").strip()
    if not text:
        return None
    match = SLASHED.match(text)
    if match and len(text) <= 10:
        first, second, year = (int(g) for g in match.groups())
        day, month = (second, first) if order == MDY else (first, second)
        return date(year, month, day)
    if text.isdigit() and 20_000 <= int(text) <= 80_000:  # 1954 … 2119 as an Excel serial
        return date.fromordinal(EXCEL_EPOCH_ORDINAL + int(text))
    return datetime.strptime(text[:10], "%Y-%m-%d").date()
