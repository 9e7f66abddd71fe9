"""Test data for spam_reports, made through the services (so triggers, flags and history run as in
production). Plain functions: each test states what it needs in one line."""

import io
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from core import imports
from core.models import Organization
from spam_reports import services

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")
_serial = itertools.count(1)


def org(code):
    return Organization.objects.get(code=code)


def hanoi(year, month, day, hour=10, minute=0, second=0):
    """An aware datetime on Hanoi's clock."""
    return datetime(year, month, day, hour, minute, second, tzinfo=HANOI)


def days_ago(days, hour=10, minute=0, second=0):
    """``days`` ago at ``hour``:``minute`` Hanoi time (always in the past for days >= 1)."""
    day = timezone.localdate() - timedelta(days=days)
    return hanoi(day.year, day.month, day.day, hour, minute, second)


def report(
    user,
    sender="0912 345 678",
    *,
    channel="sms",
    recipient="0987 654 321",
    content=None,
    received_at=None,
    **extra,
):
    """One report filed through services.submit_report (content unique unless given)."""
    if content is None:
        content = f"Vay tiền nhanh, giải ngân trong 15 phút, lãi suất 0% (mã {next(_serial)})"
    return services.submit_report(
        user,
        channel=channel,
        sender=sender,
        recipient=recipient,
        content=content,
        received_at=received_at or days_ago(1),
        **extra,
    )


def csv_file(rows, name="reports.csv", encoding="utf-8", delimiter=","):
    """An uploaded CSV of ``rows`` (lists of cells; the first is the header)."""
    text = "\n".join(delimiter.join(_quote(c) for c in row) for row in rows) + "\n"
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def _quote(cell):
    cell = str(cell)
    if any(c in cell for c in ',;"\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def xlsx_file(rows, name="reports.xlsx"):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type="application/vnd.ms-excel")


def run_import(user, uploaded, origin="operator_feed", date_order=None):
    """Start an import as the page does and run its job here (the worker's part), to its end."""
    job = services.start_import(user, uploaded, origin=origin, date_order=date_order)
    return imports.run(job.pk)


# --- What the rollups must equal -------------------------------------------------------------------


def _fetch(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(cursor.fetchall(), key=repr)


def daily_from_reports():
    return _fetch(
        """SELECT (received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, sender_operator_id, channel,
                  count(*), count(*) FILTER (WHERE status = 'verified'),
                  count(*) FILTER (WHERE status = 'invalid')
           FROM spam_reports_spamreport GROUP BY 1, 2, 3"""
    )


def daily_from_rollup():
    return _fetch(
        """SELECT day, operator_id, channel, received, verified, invalid
           FROM spam_reports_dailystat WHERE received <> 0 OR verified <> 0 OR invalid <> 0"""
    )


def months_from_reports():
    return _fetch(
        """SELECT date_trunc('month', received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, case_id,
                  count(*)
           FROM spam_reports_spamreport GROUP BY 1, 2"""
    )


def months_from_rollup():
    return _fetch("SELECT month, case_id, reports FROM spam_reports_casemonth WHERE reports <> 0")


def cases_from_reports():
    return _fetch(
        """SELECT c.id, count(r.id), min(r.received_at), max(r.received_at)
           FROM spam_reports_spamcase c LEFT JOIN spam_reports_spamreport r ON r.case_id = c.id
           GROUP BY c.id"""
    )


def cases_from_counters():
    return _fetch(
        """SELECT id, report_count,
                  CASE WHEN report_count = 0 THEN NULL ELSE first_seen_at END,
                  CASE WHEN report_count = 0 THEN NULL ELSE last_seen_at END
           FROM spam_reports_spamcase"""
    )


def assert_rollups_match():
    assert daily_from_rollup() == daily_from_reports()
    assert months_from_rollup() == months_from_reports()
    assert cases_from_counters() == cases_from_reports()


# --- Evidence files and inspections (API and page tests) -------------------------------------------

PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_file(name="screenshot.png", content=PNG_BYTES):
    return SimpleUploadedFile(name, content, content_type="image/png")


def pdf_file(name="complaint.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def inspection(user, operator="VIETTEL", agency="SO_KHCN_HN", **fields):
    """A subscriber-information inspection recorded through services.save_inspection."""
    data = {
        "operator": org(operator),
        "inspecting_agency": org(agency),
        "reference": f"BB-{next(_serial):04d}/KT",
        "inspected_on": timezone.localdate() - timedelta(days=10),
        "sample_size": 1000,
        "nonconforming": 37,
        "findings": "37 thuê bao sai thông tin",
        "actions_required": "Chuẩn hoá thông tin thuê bao",
        "deadline": timezone.localdate() + timedelta(days=20),
    }
    data.update(fields)
    return services.save_inspection(user, **data)
