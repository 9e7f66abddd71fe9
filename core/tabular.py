"""Reading uploaded tables (CSV or XLSX) into rows of strings, with their row numbers."""

import csv
import io

from django.utils.translation import gettext as _

from core.exceptions import ImportRejected

MAX_ROWS = 100_000


def read_table(uploaded, name=None):
    """Return (header, [(row_number, {column: value})]) from a CSV or XLSX upload.

    Row numbers are as the user sees them in the file (the header is row 1).
    """
    name = (name or getattr(uploaded, "name", "") or "").lower()
    uploaded.seek(0)
    head = uploaded.read(4)
    uploaded.seek(0)
    if head.startswith(b"PK"):
        rows = _xlsx_rows(uploaded)
    elif name.endswith((".xlsx", ".xls")):
        raise ImportRejected(_("The file is named .xlsx but is not an Excel workbook."))
    else:
        rows = _csv_rows(uploaded)
    try:
        header = [str(h or "").strip().lower() for h in next(rows)]
    except StopIteration:
        raise ImportRejected(_("The file is empty.")) from None
    out = []
    for number, values in enumerate(rows, start=2):
        if not any(str(v or "").strip() for v in values):
            continue
        if len(out) >= MAX_ROWS:
            raise ImportRejected(_("The file has more than %(n)d rows.") % {"n": MAX_ROWS})
        out.append((number, {h: _cell(v) for h, v in zip(header, values, strict=False) if h}))
    return header, out


def _cell(value):
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(uploaded):
    raw = uploaded.read()
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRejected(_("The file is neither UTF-8 text nor an Excel workbook."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return iter(list(csv.reader(io.StringIO(text), dialect)))


def _xlsx_rows(uploaded):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(uploaded, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportRejected(
            _("The Excel file cannot be read: %(error)s") % {"error": exc}
        ) from exc
    return iter(list(workbook.active.iter_rows(values_only=True)))
