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


def read_table(uploaded, name=None, required=()):
    """Return (header, [(row_number, {column: value})]) from a CSV or XLSX upload.

    Row numbers are as the user sees them in the file (the header is row 1 unless title rows stand
    above it). ``required`` names the columns that identify the header row (and the sheet).
    """
    name = (name or getattr(uploaded, "name", "") or "").lower()
    uploaded.seek(0)
    head = uploaded.read(4)
    uploaded.seek(0)
    if head.startswith(b"PK"):
        rows = _xlsx_rows(uploaded, required)
    elif name.endswith((".xlsx", ".xls", ".xlsm")):
        raise ImportRejected(_("The file is named .xlsx but is not an Excel workbook."))
    else:
        rows = _csv_rows(uploaded)
    if not rows:
        raise ImportRejected(_("The file is empty."))
    at = header_index(rows, required)
    header = [_header_cell(h) for h in rows[at]]
    out = []
    for number, values in enumerate(rows[at + 1 :], start=at + 2):
        if not any(str(v or "").strip() for v in values):
            continue
        if len(out) >= MAX_ROWS:
            raise ImportRejected(_("The file has more than %(n)d rows.") % {"n": MAX_ROWS})
        out.append((number, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}))
    return header, out


def header_index(rows, required):
    """The index of the first of the first HEADER_ROWS rows holding every ``required`` column
    (0 when none does, or nothing is required)."""
    wanted = {c.lower() for c in required}
    if wanted:
        for i, row in enumerate(rows[:HEADER_ROWS]):
            if wanted <= {_header_cell(c) for c in row}:
                return i
    return 0


def _header_cell(value):
    return clean_cell(value if value is not None else "").lower()


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


def _xlsx_rows(uploaded, required=()):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportRejected(
            _("The Excel file cannot be read: %(error)s") % {"error": exc}
        ) from exc
    wanted = {c.lower() for c in required}
    if wanted:
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            top = list(sheet.iter_rows(max_row=HEADER_ROWS, values_only=True))
            if any(wanted <= {_header_cell(c) for c in row} for row in top):
                return list(sheet.iter_rows(values_only=True))
    return list(workbook.active.iter_rows(values_only=True))
