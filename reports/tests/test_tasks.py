"""Report runs on a real Celery worker (private queue, real Redis and PostGIS): a run asked for is
computed by the worker to "ready" with its files, and the daily queueing asks once per report and
period however often it runs."""

import pytest

from core.models import Notification
from reports import services
from reports import tasks as report_tasks
from reports.models import ReportRun
from reports.tests import factories

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def to_private_queue(celery_worker_queue, outbox_to_queue):
    """The services queue compute_run through the outbox, i.e. on the default queue, where
    another worker on the machine could take it: send it to the test's private queue instead."""
    return outbox_to_queue(celery_worker_queue)


def test_worker_computes_a_run_to_ready(to_private_queue, role_user):
    official = role_user("city_official")
    report = factories.definition(role_user("administrator"))
    _, segment = factories.project(official)
    per = factories.latest(report)
    factories.progress(official, segment, per.cutoff, duct_m=250)
    run = services.request_run(official, report, per.key)
    assert len(to_private_queue) == 1  # queued once, on commit
    assert to_private_queue[0].get(timeout=120) == {"run": run.pk, "status": "ready"}
    run = ReportRun.objects.get(pk=run.pk)
    assert (run.status, run.progress, run.attempts) == ("ready", 100, 1)
    assert run.xlsx and run.pdf and run.started_at <= run.finished_at
    duct = run.snapshot["sections"][0]["rows"][0]
    assert duct["key"] == "cables.km_duct_built" and duct["value"] == pytest.approx(0.25, abs=1e-3)
    assert Notification.objects.filter(recipient=official, url__contains=str(run.public_id))
    # Asked again, the same run: nothing more is queued.
    assert services.request_run(official, report, per.key).pk == run.pk
    assert len(to_private_queue) == 1


def test_queue_due_runs_on_the_worker_queues_once(to_private_queue, celery_worker_queue, role_user):
    admin = role_user("administrator")
    monthly = factories.definition(admin, cutoff_day=15)
    quarterly = factories.definition(admin, period_type="quarter", recipient="CUC_VT")
    factories.definition(admin, active=False)
    send = report_tasks.queue_due_runs.apply_async
    first = send(queue=celery_worker_queue).get(timeout=60)["queued"]
    assert len(first) == 2
    second = send(queue=celery_worker_queue).get(timeout=60)
    assert second == {"queued": []}
    assert len(to_private_queue) == 2
    results = sorted(r.get(timeout=120)["status"] for r in to_private_queue)
    assert results == ["ready", "ready"]
    runs = ReportRun.objects.order_by("definition_id")
    assert [r.definition_id for r in runs] == [monthly.pk, quarterly.pk]
    assert [r.period_key for r in runs] == [factories.latest(monthly).key, factories.latest(quarterly).key]  # fmt: skip
    assert {r.status for r in runs} == {"ready"} and sorted(first) == [r.pk for r in runs]
