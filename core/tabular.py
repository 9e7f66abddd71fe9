"""Reading uploaded tables (CSV or XLSX) into rows of strings, with their row numbers.

Text files are read as core.textfiles finds them (UTF-8 with or without BOM, UTF-16, Windows-1258
or -1252 only when the whole file says so; CR, LF or CRLF; comma, semicolon or tab). A workbook's
sheet is the first visible one whose header holds the required columns (the active one when none
does). The header row is the first of the first ``HEADER_ROWS`` rows that holds them, so title rows
above it are skipped; cells are NFC text.
"""

import csv
import io
import itertools

from django.utils.translation import gettext as _

from core.exceptions import ImportRejected
from core.textfiles import clean_cell, sniff_dialect

MAX_ROWS = 100_000
HEADER_ROWS = 20
# A workbook is a zip: one whose parts unpack to more than this, or far more than they weigh
# packed, is a zip bomb, refused before anything unpacks it.
XLSX_MAX_UNPACKED = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 300


def read_table(uploaded, name=None, required=(), is_header=None, notices=None):
    """Return (header, [(row_number, {column: value})]) from a CSV or XLSX upload.

    Row numbers are as the user sees them in the file (the header is row 1 unless title rows stand
    above it). ``required`` names the columns that identify the header row (and the sheet), or
    ``is_header(cells)`` tells (core.importmap.header_test: the row feeds every required field).
    A totals row ("Tổng cộng", "Total" …) is left out, and said in ``notices`` (a list) when given.
    The whole table in memory: a kind that reads big files streams them with ``Table``.
    """
    table = Table(uploaded, name=name, required=required, is_header=is_header)
    header = table.header
    rows = [
        (number, {h: cell_text(v) for h, v in zip(header, values, strict=False) if h})
        for number, values in table.rows()
    ]
    if notices is not None:
        notices += table.notices()
    return header, rows


class Table:
    """A CSV or XLSX upload read as it streams (memory stays flat whatever its size): ``header``
    (its cells as written) and ``rows()``, from the start at each call, as (row number, cells),
    blank rows left out. The encoding, the sheet and the header row are found once, as
    ``read_table`` finds them. More than ``max_rows`` rows (None: no limit) refuse the file as it
    is read; totals rows are left out, and ``notices()`` names them after a reading."""

    def __init__(self, uploaded, name=None, required=(), is_header=None, max_rows=MAX_ROWS):
        self.uploaded, self.max_rows = uploaded, max_rows
        is_header = is_header or _holds(required)
        name = (name or getattr(uploaded, "name", "") or "").lower()
        uploaded.seek(0)
        head = uploaded.read(4)
        uploaded.seek(0)
        self.encoding = self.sheet = None
        self.totals = []  # (row number, its label): the totals rows the last reading left out
        if head.startswith(b"PK"):
            self.sheet = _xlsx_sheet(uploaded, is_header)
        elif name.endswith((".xlsx", ".xls", ".xlsm")):
            raise ImportRejected(_("The file is named .xlsx but is not an Excel workbook."))
        else:
            from core.textfiles import detect_encoding

            self.encoding = detect_encoding(uploaded)
        top = list(itertools.islice(self._physical(), HEADER_ROWS))
        if not top:
            raise ImportRejected(_("The file is empty."))
        self.at = header_index(top, is_header)
        self.header = [_header_cell(h) for h in top[self.at]]

    def _physical(self):
        """Every row of the file or sheet, from its first."""
        if self.sheet is not None:
            yield from _xlsx_values(self.uploaded, self.sheet)
            return
        self.uploaded.seek(0)
        text = io.TextIOWrapper(self.uploaded, encoding=self.encoding, newline="")
        try:
            sample = text.read(4096)
            text.seek(0)
            reader = csv.reader(text, sniff_dialect(sample))
            try:
                yield from reader
            except csv.Error as exc:
                raise ImportRejected(
                    _("The file cannot be read as CSV at line %(line)d: %(error)s")
                    % {"line": reader.line_num, "error": exc}
                ) from exc
        finally:
            text.detach()  # the upload stays open for the next reading

    def notices(self):
        """What the reading says about the file: its totals rows, left out."""
        return [
            _("Row %(row)d is a totals row (“%(text)s”): it is not imported.")
            % {"row": number, "text": text}
            for number, text in self.totals
        ]

    def rows(self):
        self.totals = []
        count = 0
        rows = self._physical()
        for _skipped in itertools.islice(rows, self.at + 1):
            pass
        for number, values in enumerate(rows, start=self.at + 2):
            if not any(v is not None and str(v).strip() for v in values):
                continue
            total = _totals_label(values)
            if total:
                self.totals.append((number, total))
                continue
            count += 1
            if self.max_rows is not None and count > self.max_rows:
                raise ImportRejected(_("The file has more than %(n)d rows.") % {"n": self.max_rows})
            yield number, values


# The words a totals row begins with (folded): "Tổng cộng", "Tổng số", "Cộng", "Total" …
TOTAL_WORDS = frozenset({"tong", "tong cong", "tong so", "cong", "total", "totals", "grand total"})


def _totals_label(values):
    """The label of a totals row (its first cell says it is one), else ""."""
    from core.text import fold

    for value in values:
        if value is None or not str(value).strip():
            continue
        text = str(value).strip()
        if len(text) <= 12 and fold(text).rstrip(" :.") in TOTAL_WORDS:
            return text
        return ""
    return ""


def _holds(required):
    """A header test: the row holds every ``required`` column (None when nothing is required)."""
    wanted = {c.lower() for c in required}
    return (lambda cells: wanted <= {c.lower() for c in cells}) if wanted else None


def header_index(rows, is_header):
    """The index of the first of the first HEADER_ROWS rows that ``is_header`` (its cells as
    header names) accepts; 0 when none does, or there is no test. ``is_header`` may also be a
    sequence of required column names."""
    if is_header is not None and not callable(is_header):
        is_header = _holds(is_header)
    if is_header is not None:
        for i, row in enumerate(rows[:HEADER_ROWS]):
            if is_header([_header_cell(c) for c in row]):
                return i
        # None is the template's: the widest of the first rows (title rows are one cell wide),
        # for the mapping step to show.
        widths = [sum(1 for c in row if str(c or "").strip()) for row in rows[:HEADER_ROWS]]
        return widths.index(max(widths)) if widths else 0
    return 0


def _header_cell(value):
    """A header cell as written (NFC, trimmed): core.importmap compares names folded."""
    return clean_cell(value if value is not None else "")


def cell_text(value):
    """A cell as text: NFC and trimmed, a date day-first, a whole number without its .0."""
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell(value)


def check_workbook(handle):
    """Refuse a workbook that is not a zip, or that would unpack to far more than it weighs."""
    import zipfile

    try:
        with zipfile.ZipFile(handle) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportRejected(
            _("The Excel file cannot be read: %(error)s") % {"error": exc}
        ) from exc
    finally:
        handle.seek(0)
    unpacked = sum(p.file_size for p in parts)
    packed = max(1, sum(p.compress_size for p in parts))
    if unpacked > XLSX_MAX_UNPACKED or (
        unpacked > 50 * 1024 * 1024 and unpacked / packed > XLSX_MAX_RATIO
    ):
        raise ImportRejected(
            _("The Excel file would unpack to %(mb)d MB: it is refused as a zip bomb.")
            % {"mb": unpacked // (1024 * 1024)}
        )


def _xlsx_sheet(uploaded, is_header=None):
    """The name of the sheet to read: the first visible one whose first rows hold a header that
    ``is_header`` accepts, else the active one."""
    workbook = _workbook(uploaded)
    try:
        if is_header is not None:
            for sheet in workbook.worksheets:
                if sheet.sheet_state != "visible":
                    continue
                top = sheet.iter_rows(max_row=HEADER_ROWS, values_only=True)
                if any(is_header([_header_cell(c) for c in row]) for row in top):
                    return sheet.title
        return workbook.active.title
    finally:
        workbook.close()


def _workbook(uploaded):
    from openpyxl import load_workbook

    check_workbook(uploaded)
    uploaded.seek(0)
    try:
        return load_workbook(uploaded, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportRejected(
            _("The Excel file cannot be read: %(error)s") % {"error": exc}
        ) from exc


def _xlsx_values(uploaded, sheet):
    """The rows of the sheet named ``sheet`` as values (formula cells as the values Excel saved)."""
    workbook = _workbook(uploaded)
    try:
        yield from workbook[sheet].iter_rows(values_only=True)
    finally:
        workbook.close()
