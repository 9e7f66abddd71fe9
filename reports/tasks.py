from celery import shared_task
from django.utils.translation import gettext as _

from core.tasks import DatabaseTask
from reports import services


class ComputeRunTask(DatabaseTask):
    def give_up(self, exc, run_id, *args, **kwargs):
        services.fail_run(run_id, _("The computation stopped: %(error)s") % {"error": exc})


@shared_task(name="reports.tasks.compute_run", base=ComputeRunTask)
def compute_run(run_id):
    """Compute one report run; a retry after a crash (or a lost database connection) computes it
    again, never a second run: a run already ready, approved or failed is left as it is."""
    run = services.compute(run_id)
    return {"run": run_id, "status": run.status if run else None}


@shared_task(name="reports.tasks.sweep_stuck_runs", base=DatabaseTask, ignore_result=True)
def sweep_stuck_runs():
    """Every minute: runs whose worker was lost are marked failed (services.sweep_stuck)."""
    return {"failed": services.sweep_stuck()}


@shared_task(name="reports.tasks.queue_due_runs", acks_late=True)
def queue_due_runs():
    """Daily: each active report gets its run for the latest period whose cut-off has passed."""
    return {"queued": [r.pk for r in services.queue_due_runs()]}
