"""Reading uploaded tables (CSV or XLSX) into rows of strings, with their row numbers.

Text files are read as core.textfiles finds them (UTF-8 with or without BOM, UTF-16, Windows-1258
or -1252 only when the whole file says so; CR, LF or CRLF; comma, semicolon or tab). A workbook's
sheet is the first visible one whose header holds the required columns (the active one when none
does). The header row is the first of the first ``HEADER_ROWS`` rows that holds them, so title rows
above it are skipped; cells are NFC text.
"""

import csv
import io

from django.utils.translation import gettext as _

from core.exceptions import ImportRejected
from core.textfiles import clean_cell, open_text, sniff_dialect

MAX_ROWS = 100_000
HEADER_ROWS = 20
# A workbook is a zip: one whose parts unpack to more than this, or far more than they weigh
# packed, is a zip bomb, refused before anything unpacks it.
XLSX_MAX_UNPACKED = 1024 * 1024 * 1024
XLSX_MAX_RATIO = 300


def read_table(uploaded, name=None, required=(), is_header=None):
    """Return (header, [(row_number, {column: value})]) from a CSV or XLSX upload.

    Row numbers are as the user sees them in the file (the header is row 1 unless title rows stand
    above it). ``required`` names the columns that identify the header row (and the sheet), or
    ``is_header(cells)`` tells (core.importmap.header_test: the row feeds every required field).
    """
    is_header = is_header or _holds(required)
    name = (name or getattr(uploaded, "name", "") or "").lower()
    uploaded.seek(0)
    head = uploaded.read(4)
    uploaded.seek(0)
    if head.startswith(b"PK"):
        rows = _xlsx_rows(uploaded, is_header)
    elif name.endswith((".xlsx", ".xls", ".xlsm")):
        raise ImportRejected(_("The file is named .xlsx but is not an Excel workbook."))
    else:
        rows = _csv_rows(uploaded)
    if not rows:
        raise ImportRejected(_("The file is empty."))
    at = header_index(rows, is_header)
    header = [_header_cell(h) for h in rows[at]]
    out = []
    for number, values in enumerate(rows[at + 1 :], start=at + 2):
        if not any(str(v or "").strip() for v in values):
            continue
        if len(out) >= MAX_ROWS:
            raise ImportRejected(_("The file has more than %(n)d rows.") % {"n": MAX_ROWS})
        out.append((number, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}))
    return header, out


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


def _cell(value):
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell(value)


def _csv_rows(uploaded):
    text = open_text(io.BytesIO(uploaded.read()))
    sample = text.read(4096)
    text.seek(0)
    reader = csv.reader(text, sniff_dialect(sample))
    try:
        return list(reader)
    except csv.Error as exc:
        raise ImportRejected(
            _("The file cannot be read as CSV at line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc


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


def _xlsx_rows(uploaded, is_header=None):
    from openpyxl import load_workbook

    check_workbook(uploaded)
    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportRejected(
            _("The Excel file cannot be read: %(error)s") % {"error": exc}
        ) from exc
    if is_header is not None:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            top = list(sheet.iter_rows(max_row=HEADER_ROWS, values_only=True))
            if any(is_header([_header_cell(c) for c in row]) for row in top):
                return list(sheet.iter_rows(values_only=True))
    return list(workbook.active.iter_rows(values_only=True))
