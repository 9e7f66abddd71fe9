"""Stuck spam imports: the periodic sweeper fails a job whose worker was lost (or whose queued task
never started) with the reason; a failed job is retried from its page and the API, and the retry
resumes after the rows already stored (nothing twice)."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from core import health, imports
from core import tasks as core_tasks
from core.models import ImportJob, OutboxMessage
from spam_reports import services
from spam_reports.models import SpamReport
from spam_reports.tests.factories import csv_file, days_ago

pytestmark = pytest.mark.django_db
API = "/api/v1/spam-imports/"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _when(days, hour=10):
    return timezone.localtime(days_ago(days, hour)).strftime("%d/%m/%Y %H:%M")


def rows(n):
    header = ["channel", "sender", "recipient", "content", "received_at"]
    return [header] + [
        ["sms", f"09123456{i:02d}", "0987654321", f"Vay tiền nhanh {i}", _when(2)] for i in range(n)
    ]


@pytest.fixture
def lan(role_user):
    return role_user("operator_viettel")


def _age(job, status, by):
    ImportJob.objects.filter(pk=job.pk).update(status=status, updated_at=timezone.now() - by)


def test_the_sweeper_fails_a_running_job_without_heartbeat_and_leaves_live_ones(lan):
    stuck = services.start_import(lan, csv_file(rows(3)))
    live = services.start_import(lan, csv_file(rows(2), name="b.csv"))
    _age(stuck, ImportJob.Status.RUNNING, health.stuck_limit() + timedelta(seconds=5))
    _age(live, ImportJob.Status.RUNNING, health.stuck_limit() - timedelta(seconds=30))
    assert core_tasks.sweep_stuck.run() == {"imports": [stuck.pk]}
    stuck.refresh_from_db()
    assert stuck.status == ImportJob.Status.FAILED and "worker was lost" in stuck.message
    assert ImportJob.objects.get(pk=live.pk).status == ImportJob.Status.RUNNING
    assert imports.sweep_stuck() == []


def test_a_queued_job_waiting_in_the_outbox_stays_queued(lan):
    job = services.start_import(lan, csv_file(rows(1)))
    _age(job, ImportJob.Status.QUEUED, health.stuck_limit() + timedelta(minutes=1))
    assert imports.sweep_stuck() == []
    OutboxMessage.objects.filter(args=[job.pk]).update(sent_at=timezone.now())
    assert imports.sweep_stuck() == [job.pk]
    assert "lost before it started" in ImportJob.objects.get(pk=job.pk).message


def test_retry_through_the_api_resumes_without_duplicates(lan, as_role):
    job = services.start_import(lan, csv_file(rows(4)))
    job = imports.run(job.pk)  # the worker's part: stored, then (say) the worker was lost
    assert (job.status, job.created_count) == ("done", 4)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.FAILED, message="lost")
    client = as_role("operator_viettel")
    client.force_authenticate(lan)
    response = client.post(f"{API}{job.public_id}/retry/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    assert OutboxMessage.objects.filter(task="core.tasks.run_import", args=[job.pk]).count() == 2
    again = client.post(f"{API}{job.public_id}/retry/")
    assert again.status_code == 409, again.content
    job = imports.run(job.pk)
    assert (job.status, job.created_count, job.processed) == ("done", 4, 4)
    assert SpamReport.objects.count() == 4


@pytest.mark.parametrize("role", ["operator_mobifone", "operator_api_client", "no_role"])
def test_others_do_not_retry(lan, as_role, role):
    job = services.start_import(lan, csv_file(rows(1)))
    imports.fail(job.pk, "boom")
    response = as_role(role).post(f"{API}{job.public_id}/retry/")
    assert response.status_code in (403, 404), response.content
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.FAILED


def test_the_job_page_offers_retry_to_its_owner_and_officials(lan, role_user, client):
    job = services.start_import(lan, csv_file(rows(1)))
    imports.fail(job.pk, "boom")
    url = f"/imports/{job.public_id}/retry/"
    client.force_login(role_user("operator_mobifone"))
    assert client.post(url).status_code == 404
    client.force_login(lan)
    assert url in client.get(f"/imports/{job.public_id}/").content.decode()
    assert client.post(url).status_code == 302
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED
    assert url not in client.get(f"/imports/{job.public_id}/").content.decode()
    client.force_login(role_user("city_official"))
    imports.fail(job.pk, "boom")
    assert url in client.get(f"/imports/{job.public_id}/").content.decode()
    assert client.post(url).status_code == 302
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED
