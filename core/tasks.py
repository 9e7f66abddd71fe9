import contextlib
import logging

from celery import Task, shared_task
from celery.signals import worker_ready
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils.translation import gettext as _

from core import health

log = logging.getLogger(__name__)

#: Errors of a database connection that dropped (server restarted, backend terminated).
DB_CONNECTION_ERRORS = (OperationalError, InterfaceError)


def drop_connections():
    """Close this thread's database connections so the next query opens a fresh one."""
    for conn in connections.all(initialized_only=True):
        with contextlib.suppress(Exception):  # already broken: Django forgets it anyway
            conn.close()


class DatabaseTask(Task):
    """Base class of tasks that write the database: a dropped connection is closed and the task
    retried on a fresh one (``db_retry_countdown`` seconds later, ``max_retries`` times); when it
    gives up, ``give_up(exc, *args)`` runs on a fresh connection and may not itself fail the
    worker (it marks the run or job failed with the error)."""

    abstract = True
    acks_late = True
    max_retries = 3
    db_retry_countdown = 2

    def __call__(self, *args, **kwargs):
        close_old_connections()
        try:
            return super().__call__(*args, **kwargs)
        except DB_CONNECTION_ERRORS as exc:
            drop_connections()
            log.warning("task %s lost its database connection (%s); retrying", self.name, exc)
            raise self.retry(exc=exc, countdown=self.db_retry_countdown) from exc

    def give_up(self, exc, *args, **kwargs):
        """Record the failure (override)."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        drop_connections()
        try:
            self.give_up(exc, *args, **kwargs)
        except Exception:
            log.exception("task %s: recording its failure failed", self.name)
            drop_connections()


@worker_ready.connect
def _drain_on_start(sender=None, **kwargs):
    """A worker that starts sends what the outbox kept while the broker was away."""
    from core import outbox

    try:
        outbox.drain()
    except Exception:
        log.exception("outbox drain at worker start failed")
    finally:
        drop_connections()


@shared_task(name="core.tasks.drain_outbox", base=DatabaseTask, ignore_result=True)
def drain_outbox():
    """Every minute: send the outbox messages the broker could not take when they were written."""
    from core import outbox

    return {"sent": outbox.drain()}


@shared_task(name="core.tasks.sweep_stuck", base=DatabaseTask, ignore_result=True)
def sweep_stuck():
    """Every minute: import jobs still "running" past their time limit lost their worker; they
    are marked failed with the reason (the page and the API offer a retry)."""
    from core import imports

    return {"imports": imports.sweep_stuck()}


@shared_task(name="core.tasks.heartbeat", acks_late=True, ignore_result=False)
def heartbeat():
    """Scheduled by beat every minute: proves a worker takes tasks; /healthz shows its age."""
    db_ok, _ = health.check_database()
    return {"recorded_at": health.record_heartbeat(), "database": db_ok}


class ImportTask(DatabaseTask):
    def give_up(self, exc, job_id, *args, **kwargs):
        from core import imports

        imports.fail(
            job_id, _("The import stopped on an unexpected error: %(error)s") % {"error": exc}
        )


@shared_task(name="core.tasks.run_import", bind=True, base=ImportTask)
def run_import(self, job_id):
    """Run an uploaded file's import (core.imports); a retry resumes it without duplicates (a job
    already done or failed is left as it is)."""
    from core import imports

    job = imports.run(job_id)
    return {"job": job_id, "status": job.status if job else None}
