"""Journey 5 (../shared/JOURNEYS.md) in headless Chromium against the live server, with a real
Celery worker: spam complaints become cases, and cases get handled. Elements are found by test ids
and URLs, not by their (translated) text; the pages are in Vietnamese."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import browser_login, browser_logout
from core import roles
from core.models import ImportJob, Notification
from spam_reports.models import OperatorAction, SpamCase, SpamReport
from spam_reports.tests.factories import days_ago

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def js_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.fixture
def imports_on_private_queue(celery_worker_queue, outbox_to_queue):
    """core.imports.start queues run_import through the outbox; send it to the test's own
    worker."""
    outbox_to_queue(celery_worker_queue)
    return celery_worker_queue


def login(page, user):
    browser_login(page, user.username)
    page.wait_for_url(re.compile(r".*/$"))


def logout(page):
    browser_logout(page)
    page.wait_for_url("**/login/**")


def open_spam_menu(page, item):
    page.get_by_test_id("nav-spam").click()
    page.get_by_test_id(f"nav-spam-{item}").click()


def the_5656_export():
    """Yesterday's 5656 export: (csv bytes, facts). 0912 345 678 advertises by SMS from an ordinary
    number and calls in the evening; other senders; some bad rows; some rows sent twice."""
    day = days_ago(1, hour=10)
    rows = [["reporter", "message", "received_at"]]

    def at(moment):
        return moment.strftime("%d/%m/%Y %H:%M:%S")

    for i in range(200):
        rows.append(
            [
                f"0987 {i:03d} 111",
                f"S 0912345678 Vay tien nhanh giai ngan 15 phut ma {i}",
                at(day + timedelta(minutes=i)),
            ]
        )
    for i in range(20):
        rows.append(
            [
                f"0388 {i:03d} 222",
                f"V 0912345678 Moi vay tien {i}",
                at(day.replace(hour=19) + timedelta(minutes=i)),
            ]
        )
    for i in range(60):
        rows.append(
            [
                f"0977 {i:03d} 333",
                f"S 0901{i % 3}23456 Khuyen mai sim so dep {i}",
                at(day.replace(hour=14) + timedelta(minutes=i)),
            ]
        )
    bad_rows = []
    for i, (message, when) in enumerate(
        [
            ("Xin chao", at(day)),  # not the 5656 syntax
            ("S", at(day)),  # no sender
            ("S 0912345678 Vay tien", "hom qua"),  # not a time
            ("S 0912345678 Vay tien", "01/01/2999 10:00"),  # in the future
            ("S +33612345678 Bonjour", at(day)),  # a foreign number: accepted (written with +)
            ("S 12ab!!cd%% Quang cao", at(day)),  # a brandname with forbidden characters
            ("S 0912345678 ", at(day)),  # empty content
        ]
    ):
        rows.append([f"0366 {i:03d} 444", message, when])
        if i != 4:
            bad_rows.append(len(rows))  # the file's row number (the header is row 1)
    duplicate_rows = []
    for source in (5, 17, 150, 210, 230):
        rows.append(list(rows[source]))
        duplicate_rows.append(len(rows))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8"), {
        "data_rows": len(rows) - 1,
        "bad_rows": bad_rows,
        "duplicate_rows": duplicate_rows,
        "case_reports": 220,
    }


def test_journey_5_spam_complaints_become_cases_and_get_handled(
    page, role_user, make_user, js_errors, imports_on_private_queue, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    minh = role_user("city_official")
    vnpt_staff = make_user(roles.OPERATOR_STAFF, "VNPT")
    content, facts = the_5656_export()

    # An official imports yesterday's 5656 export and watches the progress bar.
    login(page, minh)
    open_spam_menu(page, "import")
    form = page.get_by_test_id("import-form")
    form.locator("#id_kind").select_option("export_5656")
    form.locator("#id_file").set_input_files(
        files=[{"name": "5656-hom-qua.csv", "mimeType": "text/csv", "buffer": content}]
    )
    form.get_by_test_id("import-submit").click()
    page.wait_for_url(re.compile(r".*/imports/[0-9a-f-]{36}/$"))
    progress = page.get_by_test_id("import-progress")
    progress.wait_for()
    page.locator("[data-testid=import-progress][data-status=done]").wait_for(timeout=60000)
    job = ImportJob.objects.get()
    assert job.status == "done" and job.processed == facts["data_rows"]
    assert page.get_by_test_id("import-bar").get_attribute("style").endswith("100%")
    assert int(page.get_by_test_id("import-processed").inner_text()) == facts["data_rows"]
    assert int(page.get_by_test_id("import-refused").inner_text()) == len(facts["bad_rows"])
    assert int(page.get_by_test_id("import-duplicates").inner_text()) == len(
        facts["duplicate_rows"]
    )
    stored = SpamReport.objects.count()
    assert int(page.get_by_test_id("import-created").inner_text()) == stored
    assert stored == facts["data_rows"] - len(facts["bad_rows"]) - len(facts["duplicate_rows"])

    # Each refused row is listed with its row number and the reason.
    error_rows = page.get_by_test_id("import-error")
    listed = {int(error_rows.nth(i).get_attribute("data-row")) for i in range(error_rows.count())}
    assert listed == set(facts["bad_rows"]) | set(facts["duplicate_rows"])
    duplicates = page.locator("[data-testid=import-error][data-duplicate='1']")
    assert duplicates.count() == len(facts["duplicate_rows"])
    assert page.get_by_test_id("import-errors-csv").is_visible()

    # The case of 0912 345 678, with its flags under Decree 91.
    open_spam_menu(page, "cases")
    page.get_by_test_id("filter-form").locator("#id_sender").fill("0912 345 678")
    page.get_by_test_id("filter-submit").click()
    page.wait_for_url(re.compile(r".*sender=.*"))
    rows = page.get_by_test_id("case-row")
    assert rows.count() == 1
    rows.first.get_by_test_id("case-link").click()
    page.get_by_test_id("case-sender").wait_for()
    assert page.get_by_test_id("case-sender").inner_text() == "+84912345678"
    count = page.get_by_test_id("case-fields").get_by_test_id("case-report-count")
    assert count.get_attribute("data-count") == str(facts["case_reports"])
    flags = page.get_by_test_id("case-flags")
    flags.locator("[data-code=ordinary_number_ads]").wait_for()
    flags.locator("[data-code=call_outside_hours]").wait_for()
    assert page.get_by_test_id("case-operator").get_attribute("data-code") == "VNPT"

    # Assigned to the sender's operator with a 24-hour deadline.
    assign = page.get_by_test_id("assign-form")
    vnpt_id = str(vnpt_staff.organization_id)
    assert assign.locator("#id_assign-operator").input_value() == vnpt_id
    assign.locator("#id_assign-sla_hours").fill("24")
    assign.locator("#id_assign-instructions").fill("Đề nghị xác minh và ngăn chặn trong 24 giờ.")
    assign.get_by_test_id("save-assign").click()
    page.wait_for_url(re.compile(r".*#assignments$"))
    assert page.locator("[data-testid=assignment-row][data-operator=VNPT]").count() == 1
    action = OperatorAction.objects.get()
    assert action.sla_hours == 24
    assert abs(action.deadline - action.assigned_at - timedelta(hours=24)) < timedelta(seconds=1)
    case = SpamCase.objects.get(sender="+84912345678")
    assert Notification.objects.filter(recipient=vnpt_staff, url__contains=str(case.public_id))
    logout(page)

    # VNPT's staff find it in their inbox and record "blocked".
    login(page, vnpt_staff)
    open_spam_menu(page, "assignments")
    inbox = page.get_by_test_id("action-row")
    assert inbox.count() == 1
    assert inbox.first.get_by_test_id("action-state").get_attribute("data-state") == "pending"
    inbox.first.get_by_test_id("action-case").click()
    respond = page.get_by_test_id("respond-form")
    respond.locator("#id_respond-outcome").select_option("blocked_number")
    respond.locator("#id_respond-note").fill("Đã chặn chiều đi của thuê bao 0912345678.")
    respond.get_by_test_id("save-respond").click()
    page.wait_for_url(re.compile(r".*#assignments$"))
    assert page.get_by_test_id("case-status").get_attribute("data-status") == "blocked"
    row = page.locator("[data-testid=assignment-row][data-operator=VNPT]")
    assert row.get_attribute("data-outcome") == "blocked_number"
    assert row.get_by_test_id("action-state").get_attribute("data-state") == "answered"
    logout(page)

    # The daily statistics show the reports, the block and on-time handling per operator.
    login(page, minh)
    open_spam_menu(page, "statistics")
    stats = page.get_by_test_id("statistics-period")
    assert stats.get_attribute("data-kind") == "day"
    assert page.get_by_test_id("total-blocked").get_attribute("data-value") == "1"
    assert page.get_by_test_id("total-on-time").get_attribute("data-value") == "100.0"
    handled = page.locator("[data-testid=handling-row][data-operator=VNPT]")
    assert handled.get_attribute("data-blocked") == "1"
    assert handled.get_attribute("data-assigned") == "1"
    form = page.get_by_test_id("statistics-form")
    form.locator("#id_date").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    form.get_by_test_id("statistics-submit").click()
    page.wait_for_url(re.compile(r".*date=.*"))
    assert int(page.get_by_test_id("total-received").get_attribute("data-value")) == stored
    assert page.locator("[data-testid=counts-row][data-operator=VNPT]").count() >= 1
    top = page.get_by_test_id("top-sender").first
    assert top.get_attribute("data-sender") == "+84912345678"
    page.get_by_test_id("trend-chart").locator("svg rect").first.wait_for(state="attached")
    assert js_errors == []
