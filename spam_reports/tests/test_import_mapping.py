"""The spam import page through the mapping step (core.importsteps), as the station import: a file
whose columns say nothing is mapped once; a file whose dates are month first is asked about; a
5656 export needs no mapping."""

import pytest
from django.utils import timezone

from core.models import ImportJob
from spam_reports.models import SpamReport
from spam_reports.tests.factories import csv_file, days_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(make_user):
    return make_user("city_official", "SO_KHCN_HN")


def when(days):
    return timezone.localtime(days_ago(days)).strftime("%d/%m/%Y %H:%M")


def test_columns_that_say_nothing_are_mapped_once(client, official):
    client.force_login(official)
    rows = [["A", "B", "C", "D", "E"], ["sms", "0912345678", "0987654321", "Vay nhanh", when(1)]]
    response = client.post("/spam/import/", {"file": csv_file(rows), "kind": "operator_feed"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{job.public_id}/mapping/"
    page = client.get(response.url)
    assert {"channel", "sender"} <= set(page.context["missing"])
    fields = ["channel", "sender", "recipient", "content", "received_at"]
    data = {f"column-{i}": f for i, f in enumerate(fields)}
    done = client.post(response.url, data)
    assert done.status_code == 302 and done.url == f"/imports/{job.public_id}/"
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 1), job.message
    assert SpamReport.objects.get().sender == "+84912345678"


def test_month_first_dates_are_asked_about_on_the_page(client, official):
    client.force_login(official)
    rows = [
        ["channel", "sender", "recipient", "content", "received_at"],
        ["sms", "0912345678", "0987654321", "Vay", "8/13/2026 10:00"],
    ]
    response = client.post("/spam/import/", {"file": csv_file(rows), "kind": "operator_feed"})
    assert response.url.endswith("/mapping/")
    page = client.get(response.url)
    assert "8/13/2026" in page.context["date_problem"]
    assert not SpamReport.objects.exists()


def test_a_5656_export_needs_no_mapping(client, official):
    client.force_login(official)
    rows = [["reporter", "message", "received_at"], ["0987654321", "S 0912345678 Vay", when(1)]]
    response = client.post("/spam/import/", {"file": csv_file(rows), "kind": "export_5656"})
    job = ImportJob.objects.get()
    assert response.url == f"/imports/{job.public_id}/" and job.status == "queued"
