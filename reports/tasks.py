from celery import shared_task
from django.db import OperationalError

from reports import services


@shared_task(
    name="reports.tasks.compute_run",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    max_retries=3,
)
def compute_run(run_id):
    """Compute one report run; a retry after a crash computes it again, never a second run."""
    run = services.compute(run_id)
    return {"run": run_id, "status": run.status if run else None}


@shared_task(name="reports.tasks.queue_due_runs", acks_late=True)
def queue_due_runs():
    """Daily: each active report gets its run for the latest period whose cut-off has passed."""
    return {"queued": [r.pk for r in services.queue_due_runs()]}
