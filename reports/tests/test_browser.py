"""Journey 7 (../shared/JOURNEYS.md) in headless Chromium against the live server, with a real
Celery worker: the monthly report for the Sở KH&CN writes itself. Elements are found by test ids
and URLs, not by their (translated) text; the pages are in Vietnamese."""

import codecs
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from conftest import browser_login
from core import indicators
from core.models import Notification, Organization
from reports import services
from reports.models import ReportRun

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]

NAME = "Báo cáo tháng về hạ tầng viễn thông gửi Sở KH&CN Hà Nội"
HEADING = "BÁO CÁO TÌNH HÌNH HẠ TẦNG VIỄN THÔNG TRÊN ĐỊA BÀN THÀNH PHỐ HÀ NỘI"
WANTED = [
    ("Trạm thu phát sóng", ["stations.count", "stations.sites_5g"], "operator"),
    ("Dùng chung hạ tầng", ["sharing.shared_site_pct"], ""),
    ("Hạ ngầm cáp viễn thông", ["cables.km_overhead_removed"], "operator"),
    ("Tin nhắn rác", ["spam_reports.reports_received"], "channel"),
]


@pytest.fixture
def js_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def runs_on_private_queue(celery_worker_queue, outbox_to_queue):
    """services queue compute_run through the outbox: send it to the test's own worker, two
    seconds later, so that the page shows the run queued before the worker takes it."""
    return outbox_to_queue(
        celery_worker_queue, countdown=2, record=lambda message, result: message.args[0]
    )


def sections():
    """The journey's sections, with the indicators the registry offers."""
    result = []
    for title, keys, by in WANTED:
        keys = [k for k in keys if indicators.exists(k)]
        if keys and by and any(by not in indicators.get(k).dimensions for k in keys):
            by = ""
        if keys:
            result.append({"title": title, "indicators": keys, "by": by})
    assert result, "no indicator registered"
    return result


def last_month_key():
    first = timezone.localdate().replace(day=1)
    previous = first - timedelta(days=1)
    return f"{previous.year}-{previous.month:02d}"


def pdf_title(data):
    """The PDF's /Title (reportlab writes it in UTF-16 with octal escapes)."""
    match = re.search(rb"/Title \((.*?)(?<!\\)\)", data, re.S)
    raw = codecs.escape_decode(match.group(1))[0]
    return raw.decode("utf-16") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")


def test_journey_7_the_monthly_report_writes_itself(
    page, role_user, make_user, runs_on_private_queue, js_errors, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    admin = role_user("administrator")
    minh = role_user("city_official")
    so_client = make_user("api_client", "SO_KHCN_HN")
    definition = services.save_definition(
        admin,
        code="SO-KHCN-THANG",
        name=NAME,
        recipient=Organization.objects.get(code="SO_KHCN_HN"),
        period_type="month",
        cutoff_day=15,
        deadline_days=5,
        heading=HEADING,
        sections=sections(),
    )
    key = last_month_key()

    # Minh runs last month's report on demand from the reports page.
    browser_login(page, minh.username)
    page.wait_for_url(re.compile(r".*/$"))
    page.get_by_test_id("nav-reports").click()
    form = page.get_by_test_id("run-now-form")
    form.locator("#id_definition").select_option(str(definition.pk))
    form.locator("#id_period").fill(key)
    form.get_by_test_id("run-now-submit").click()
    page.wait_for_url(re.compile(r".*/reports/runs/[0-9a-f-]{36}/$"))
    run_url = page.url
    run = ReportRun.objects.get()
    assert run.period_key == key and runs_on_private_queue == [run.pk]

    # He watches the progress bar while the worker computes, then the page shows the report.
    progress = page.get_by_test_id("run-progress")
    assert progress.get_attribute("data-status") in ("queued", "running")
    assert page.get_by_test_id("run-bar").is_visible()
    page.locator("[data-testid=run-progress][data-status=ready]").wait_for(timeout=90_000)
    run.refresh_from_db()
    assert run.status == ReportRun.Status.READY and run.progress == 100 and run.attempts == 1

    # The comparison with the previous period and the same month last year.
    assert page.get_by_test_id("section").count() == len(definition.sections)
    table = page.get_by_test_id("section-table").first
    assert table.get_by_test_id("col-previous").inner_text() == run.snapshot["previous"]
    assert table.get_by_test_id("col-last-year").inner_text() == run.snapshot["last_year"]
    rows = page.get_by_test_id("indicator-row")
    assert rows.count() == sum(len(s["indicators"]) for s in definition.sections)
    assert page.get_by_test_id("run-title").inner_text() == HEADING

    # The XLSX: one sheet per section after the summary, the heading on top.
    with page.expect_download() as download:
        page.get_by_test_id("download-xlsx").click()
    assert download.value.suggested_filename == f"SO-KHCN-THANG-{key}.xlsx"
    xlsx = tmp_path / download.value.suggested_filename
    download.value.save_as(xlsx)
    book = load_workbook(xlsx)
    assert len(book.sheetnames) == 1 + len(definition.sections)
    assert book.worksheets[0]["A1"].value == HEADING

    # The PDF: Vietnamese text in the embedded DejaVu fonts.
    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    data = download.value.path().read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5000
    assert b"DejaVuSans" in data and b"DejaVuSans-Bold" in data
    assert pdf_title(data) == NAME

    # He approves it: it is no longer computed again; then he submits it to the Sở.
    page.get_by_test_id("approve").click()
    page.locator("[data-testid=run-progress][data-status=approved]").wait_for()
    assert page.get_by_test_id("recompute").count() == 0
    refused = page.evaluate(
        """async (url) => {
            const token = document.querySelector("[name=csrfmiddlewaretoken]").value;
            const response = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token}});
            return await response.text();
        }""",
        run_url + "recompute/",
    )
    assert "alert-danger" in refused
    run.refresh_from_db()
    assert run.status == ReportRun.Status.APPROVED and run.approved_by == minh
    page.reload()
    page.get_by_test_id("submit").click()
    page.locator("[data-testid=run-progress][data-status=submitted]").wait_for()
    assert page.get_by_test_id("submitted").is_visible()
    run.refresh_from_db()
    assert run.status == ReportRun.Status.SUBMITTED
    assert Notification.objects.filter(recipient=so_client, url__endswith=f"{run.public_id}/")

    # Asking again for the same month opens the same run: one run per period.
    page.goto(f"/reports/runs/new/?definition={definition.pk}")
    page.get_by_test_id("run-form").locator("#id_period").fill(key)
    page.get_by_test_id("run-submit").click()
    page.wait_for_url(run_url)
    assert ReportRun.objects.count() == 1
    assert runs_on_private_queue == [run.pk]
    assert page.get_by_test_id("run-progress").get_attribute("data-status") == "submitted"

    # The home dashboard lists the report's deadlines.
    page.goto("/")
    assert page.get_by_test_id("report-deadlines").is_visible()
    assert page.get_by_test_id("headline").count() >= 1
    assert js_errors == []
