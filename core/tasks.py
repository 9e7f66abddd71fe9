from celery import shared_task
from django.db import OperationalError
from django.utils.translation import gettext as _

from core import health


@shared_task(name="core.tasks.heartbeat", acks_late=True, ignore_result=False)
def heartbeat():
    """Scheduled by beat every minute: proves a worker takes tasks; /healthz shows its age."""
    db_ok, _ = health.check_database()
    return {"recorded_at": health.record_heartbeat(), "database": db_ok}


@shared_task(
    name="core.tasks.run_import",
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=3,
)
def run_import(self, job_id):
    """Run an uploaded file's import (core.imports); a retry resumes it without duplicates."""
    from core import imports

    try:
        job = imports.run(job_id)
    except OperationalError:
        raise
    except Exception as exc:
        imports.fail(
            job_id, _("The import stopped on an unexpected error: %(error)s") % {"error": exc}
        )
        raise
    return {"job": job_id, "status": job.status if job else None}


from core.sync.tasks import *  # noqa: E402,F401,F403  (sync tasks: prune, downloads, webhooks)
