"""Lists as files: any app passes a queryset and its columns; CSV streams, XLSX is written row by row.

A column is ``(header, value)`` where ``value`` is an attribute path ("operator.code") or a callable
taking the object. Dates are written as officials write them (dd/mm/yyyy); in XLSX they stay real
dates with that display format, so Excel can sort and filter them.
"""

import csv
import datetime
import io
from decimal import Decimal

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

EXPORT_LIMIT = 100_000
FORMATS = ("csv", "xlsx")
DATE_FORMAT = "%d/%m/%Y"
DATETIME_FORMAT = "%d/%m/%Y %H:%M"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _getter(value):
    if callable(value):
        return value
    parts = value.split(".")

    def get(obj):
        for part in parts:
            if obj is None:
                return None
            obj = getattr(obj, part)
        return obj() if callable(obj) else obj

    return get


def _local(value):
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value).replace(tzinfo=None)
    return value


# Text that a spreadsheet would run as a formula (CSV injection): written with a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value):
    """A cell as CSV text."""
    value = _local(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime.datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, datetime.date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def rows(queryset, columns, limit=EXPORT_LIMIT):
    """The header, then one list of raw values per object (at most ``limit`` objects)."""
    getters = [_getter(value) for _header, value in columns]
    yield [str(header) for header, _value in columns]
    for obj in queryset[:limit].iterator(chunk_size=2000):
        yield [get(obj) for get in getters]


class _Echo:
    def write(self, value):
        return value


def csv_response(queryset, columns, filename, limit=EXPORT_LIMIT):
    """A streamed UTF-8 CSV (with a BOM, so Excel reads Vietnamese correctly)."""
    writer = csv.writer(_Echo())

    def stream():
        yield "\ufeff"
        for row in rows(queryset, columns, limit):
            yield writer.writerow([_text(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(queryset, columns, filename, limit=EXPORT_LIMIT, title=None):
    """An XLSX workbook written in openpyxl's write-only mode (constant memory per row)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(str(title) if title else "data")[:31])
    bold = Font(bold=True)

    def cell(value):
        value = _local(value)
        if isinstance(value, list | tuple):
            value = ";".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif value is not None and not isinstance(
            value, str | int | float | Decimal | datetime.date
        ):
            value = str(value)  # UUIDs, lazy translations, anything else: as text
        c = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str) and value.startswith("="):
            c.data_type = "s"  # text, never a formula
        if isinstance(value, datetime.datetime):
            c.number_format = "DD/MM/YYYY HH:MM"
        elif isinstance(value, datetime.date):
            c.number_format = "DD/MM/YYYY"
        return c

    for i, row in enumerate(rows(queryset, columns, limit)):
        if i == 0:
            header = []
            for value in row:
                c = WriteOnlyCell(sheet, value=value)
                c.font = bold
                header.append(c)
            sheet.append(header)
        else:
            sheet.append([cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def xlsx_max_rows():
    """The most rows an XLSX export holds (EXPORT_MAX_ROWS): a workbook is built in the request,
    and a bigger one would run into the worker's timeout. CSV streams and is not capped by it."""
    return settings.EXPORT_MAX_ROWS


def xlsx_too_large(queryset):
    """True when ``queryset`` has more rows than an XLSX export may hold (counted up to the cap
    plus one, never the whole table)."""
    cap = xlsx_max_rows()
    return queryset[: cap + 1].count() > cap


def xlsx_too_large_message():
    return _(
        "This list has more than %(limit)s rows, too many for one Excel file. Filter it to fewer "
        "rows, or export it as CSV."
    ) % {"limit": number_format(xlsx_max_rows(), force_grouping=True)}


def export_response(fmt, queryset, columns, filename, limit=EXPORT_LIMIT, title=None):
    """``fmt`` is "csv" or "xlsx"; anything else raises ValueError."""
    if fmt == "csv":
        return csv_response(queryset, columns, filename, limit)
    if fmt == "xlsx":
        return xlsx_response(queryset, columns, filename, limit, title=title)
    raise ValueError(fmt)
