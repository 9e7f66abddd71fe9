"""Spam work on a real Celery worker (private queue, real Redis and PostGIS): an uploaded import runs
to its end with its counts, and the overdue beat task flags once however often it runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import ImportJob, Notification
from spam_reports import services
from spam_reports.models import OperatorAction, SpamCase, SpamReport
from spam_reports.tasks import flag_overdue
from spam_reports.tests.factories import assert_rollups_match, csv_file, days_ago, report

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def to_private_queue(celery_worker_queue, outbox_to_queue):
    """start_import queues run_import through the outbox, i.e. on the default queue, where another
    worker on the machine could take it: send it to the test's private queue instead."""
    return outbox_to_queue(celery_worker_queue)


def test_an_import_runs_on_the_worker_to_its_end(to_private_queue, role_user):
    official = role_user("city_official")
    rows = [["reporter", "message", "received_at"]]
    for i in range(40):
        when = timezone.localtime(days_ago(1 + i % 5, hour=8 + i % 14))
        sender = ["0912345678", "0961 234 567", "8088", "FECREDIT"][i % 4]
        verb = "V" if i % 8 == 1 else "S"  # calls from 0961 234 567
        rows.append(
            [f"0987 000 {i:03d}", f"{verb} {sender} Vay tien nhanh {i}", f"{when:%d/%m/%Y %H:%M}"]
        )
    rows.append(rows[1])  # a duplicate
    rows.append(["0987654321", "tin rac", f"{timezone.localtime():%d/%m/%Y %H:%M}"])  # an error
    job = services.start_import(official, csv_file(rows, name="5656.csv"), origin="export_5656")
    assert len(to_private_queue) == 1  # queued once, on commit
    result = to_private_queue[0].get(timeout=120)
    assert result == {"job": job.pk, "status": "done"}
    job = ImportJob.objects.get(pk=job.pk)
    assert (job.status, job.total, job.processed) == ("done", 42, 42)
    assert (job.created_count, job.duplicate_count, job.error_count) == (40, 1, 1)
    assert job.attempts == 1 and job.finished_at and job.percent == 100
    assert "40" in job.message
    assert SpamReport.objects.filter(origin="export_5656").count() == 40
    assert SpamCase.objects.get(sender="+84912345678").report_count == 10
    assert_rollups_match()


def test_flag_overdue_on_the_worker_flags_once(celery_worker_queue, role_user, make_user):
    official = role_user("city_official")
    staff = make_user("operator_staff", "VNPT")
    case = report(official, "0912 345 678").case
    action = services.assign(official, case, sla_hours=2, now=timezone.now() - timedelta(hours=5))
    told = Notification.objects.filter(recipient=staff)
    assert told.count() == 1  # the assignment
    send = flag_overdue.apply_async
    assert send(queue=celery_worker_queue).get(timeout=60) == {"flagged": 1, "inspections": 0}
    assert send(queue=celery_worker_queue).get(timeout=60) == {"flagged": 0, "inspections": 0}
    assert OperatorAction.objects.get(pk=action.pk).overdue_at is not None
    assert told.count() == 2  # and the overdue flag, once
