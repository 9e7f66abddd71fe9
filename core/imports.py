"""Long imports run by Celery with a progress bar.

An app registers a handler for a kind of import (``register("spam_reports.reports", handler)``
in its AppConfig.ready). ``start()`` stores the uploaded file in an ImportJob and queues
``core.tasks.run_import``; the worker calls ``handler(job, progress)``, where ``progress(processed,
total=None, **counts)`` records how far it got. A handler commits as it goes and must be idempotent
(a retry after a crash finishes the job and stores nothing twice). Row errors go in ``job.errors``
as {"row", "column", "message"} (the first MAX_ERRORS of them; ``error_count`` counts all).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import DomainError, InvalidInput

MAX_ERRORS = 1000
HANDLERS = {}


def register(kind, handler):
    HANDLERS[kind] = handler


def start(user, kind, uploaded, options=None):
    """Store the file and queue the import; returns the job (the page then shows its progress)."""
    from core.models import ImportJob
    from core.tasks import run_import

    if kind not in HANDLERS:
        raise InvalidInput({"kind": [_("Unknown kind of import.")]})
    if uploaded is None or not getattr(uploaded, "size", 0):
        raise InvalidInput({"file": [_("The file is empty.")]})
    job = ImportJob(
        kind=kind,
        original_name=(getattr(uploaded, "name", "") or "import")[:255],
        options=options or {},
        created_by=user,
        organization_id=user.organization_id,
    )
    job.file.save(job.original_name, uploaded, save=False)
    job.save()
    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def _progress(job):
    from core.models import ImportJob

    def progress(processed, total=None, errors=(), **counts):
        values = {"processed": processed, **counts}
        if total is not None:
            values["total"] = total
        if errors:
            job.errors = (job.errors + list(errors))[:MAX_ERRORS]
            values["errors"] = job.errors
        ImportJob.objects.filter(pk=job.pk).update(**values)

    return progress


def run(job_id):
    """Run a queued (or crashed) job to its end; a finished job is left as it is."""
    from core.models import ImportJob

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished:
            return job
        job.status = ImportJob.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts", "updated_at"])
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise DomainError(_("Unknown kind of import."))
        message = handler(job, _progress(job)) or ""
    except DomainError as exc:
        errors = exc.errors if isinstance(exc.errors, list) else []
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            message=str(exc.message),
            errors=errors[:MAX_ERRORS] or job.errors,
            error_count=len(errors) or job.error_count,
            finished_at=timezone.now(),
        )
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE, message=str(message), finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def fail(job_id, message):
    """Mark a job failed after the worker gave up on it (an unexpected error)."""
    from core.models import ImportJob

    ImportJob.objects.filter(pk=job_id).exclude(status=ImportJob.Status.DONE).update(
        status=ImportJob.Status.FAILED, message=message, finished_at=timezone.now()
    )
