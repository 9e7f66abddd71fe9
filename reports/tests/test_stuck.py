"""Stuck report runs: the periodic sweeper fails a run whose worker was lost (or whose queued task
never started) with the reason, and a failed run is retried from its page and the API, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core import health, outbox
from core.models import OutboxMessage
from reports import services, tasks
from reports.models import ReportRun
from reports.tests import factories

pytestmark = pytest.mark.django_db
RUNS = "/api/v1/report-runs/"


@pytest.fixture
def admin(role_user):
    return role_user("administrator")


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def report(admin):
    return factories.definition(admin)


def _age(run, status, by):
    """Put ``run`` in ``status`` with its heartbeat ``by`` ago."""
    ReportRun.objects.filter(pk=run.pk).update(status=status, updated_at=timezone.now() - by)


def test_the_stuck_limit_is_past_the_visibility_timeout_and_the_time_limit(settings):
    limit = health.stuck_limit().total_seconds()
    assert limit > settings.CELERY_VISIBILITY_TIMEOUT > settings.CELERY_TASK_TIME_LIMIT
    assert limit <= settings.CELERY_VISIBILITY_TIMEOUT + 5 * 60


def test_the_sweeper_fails_a_running_run_without_heartbeat(official, report):
    run = factories.requested(official, report)
    _age(run, ReportRun.Status.RUNNING, health.stuck_limit() + timedelta(seconds=5))
    assert tasks.sweep_stuck_runs.run() == {"failed": [run.pk]}
    run.refresh_from_db()
    assert run.status == ReportRun.Status.FAILED
    assert "bị gián đoạn trong khi lập báo cáo" in run.error and run.finished_at is not None
    assert services.sweep_stuck() == []  # once


def test_the_sweeper_leaves_runs_that_still_beat(official, report):
    run = factories.requested(official, report)
    _age(run, ReportRun.Status.RUNNING, health.stuck_limit() - timedelta(seconds=30))
    assert services.sweep_stuck() == []
    assert ReportRun.objects.get(pk=run.pk).status == ReportRun.Status.RUNNING


def test_a_queued_run_whose_task_was_sent_and_lost_is_failed(official, report):
    run = services.request_run(official, report, factories.latest(report).key)  # outbox: unsent
    old = health.stuck_limit() + timedelta(minutes=1)
    _age(run, ReportRun.Status.QUEUED, old)
    # Its task still waits in the outbox (the broker is down): it stays queued.
    assert services.sweep_stuck() == []
    OutboxMessage.objects.update(sent_at=timezone.now())  # sent, then lost by the broker
    assert services.sweep_stuck() == [run.pk]
    run.refresh_from_db()
    assert run.status == ReportRun.Status.FAILED and "bị mất trước khi bắt đầu" in run.error


def test_retry_through_the_api_queues_a_failed_run_once(as_role, official, report):
    run = factories.requested(official, report)
    services.fail_run(run.pk, "boom")
    client = as_role("city_official")
    response = client.post(f"{RUNS}{run.public_id}/retry/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued" and response.json()["error"] == ""
    assert list(OutboxMessage.objects.values_list("task", "args")) == [
        ("reports.tasks.compute_run", [run.pk])
    ]
    again = client.post(f"{RUNS}{run.public_id}/retry/")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert OutboxMessage.objects.count() == 1 and outbox.unsent_count() == 1


@pytest.mark.parametrize("role", ["operator_viettel", "agency_api_client", "no_role"])
def test_only_officials_retry(as_role, official, report, role):
    run = factories.requested(official, report)
    services.fail_run(run.pk, "boom")
    response = as_role(role).post(f"{RUNS}{run.public_id}/retry/")
    assert response.status_code in (403, 404), response.content
    assert ReportRun.objects.get(pk=run.pk).status == ReportRun.Status.FAILED


def test_the_page_offers_retry_for_a_failed_run(client, official, report):
    run = factories.requested(official, report)
    _age(run, ReportRun.Status.RUNNING, health.stuck_limit() + timedelta(seconds=5))
    services.sweep_stuck()
    client.force_login(official)
    page = client.get(f"/reports/runs/{run.public_id}/").content.decode()
    retry_url = f"/reports/runs/{run.public_id}/retry/"
    assert retry_url in page and 'data-testid="run-error"' in page
    response = client.post(retry_url)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ReportRun.Status.QUEUED and run.error == ""
    # A run that is not failed is not retried (a message, no change, nothing queued again).
    client.post(retry_url)
    assert OutboxMessage.objects.count() == 1
