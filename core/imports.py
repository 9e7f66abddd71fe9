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

from core import outbox
from core.exceptions import DomainError, InvalidInput, InvalidTransition, PermissionDenied

MAX_ERRORS = 1000
HANDLERS = {}


def register(kind, handler):
    HANDLERS[kind] = handler


def start(user, kind, uploaded, options=None):
    """Store the file and queue the import; returns the job (the page then shows its progress)."""
    from core.models import ImportJob

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
    with transaction.atomic():
        job.save()
        # In the outbox with the job: sent after the commit, or by the drain when the broker is
        # back; a broker that is down neither fails the upload nor loses the job.
        outbox.enqueue("core.tasks.run_import", [job.pk])
    return job


def _progress(job):
    from core.models import ImportJob

    def progress(processed, total=None, errors=(), **counts):
        # updated_at is the job's heartbeat: the sweeper fails a job whose worker stopped beating.
        values = {"processed": processed, "updated_at": timezone.now(), **counts}
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


def sweep_stuck(limit=None, now=None):
    """Celery beat, every minute: jobs "running" without a heartbeat for longer than ``limit``
    (core.health.stuck_limit) lost their worker, and jobs "queued" that long whose task was sent
    but never started lost their message; both are marked failed with the reason and may be
    retried (the handler resumes after the last committed chunk). A job whose task still waits in
    the outbox is left queued. Returns the ids marked."""
    from core.health import stuck_limit
    from core.models import ImportJob

    now = now or timezone.now()
    limit = stuck_limit() if limit is None else limit
    reasons = {
        ImportJob.Status.RUNNING: _("The worker was lost while importing the file; retry it."),
        ImportJob.Status.QUEUED: _("The queued import was lost before it started; retry it."),
    }
    marked = []
    with transaction.atomic():
        old = dict(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=list(reasons), updated_at__lt=now - limit)
            .values_list("pk", "status")
        )
        waiting = outbox.pending_first_args("core.tasks.run_import") if old else set()
        for state, reason in reasons.items():
            pks = [
                pk
                for pk, s in old.items()
                if s == state and not (state == ImportJob.Status.QUEUED and pk in waiting)
            ]
            if pks:
                ImportJob.objects.filter(pk__in=pks).update(
                    status=ImportJob.Status.FAILED, message=reason, finished_at=now, updated_at=now
                )
                marked += pks
    return sorted(marked)


def can_retry(user, job):
    """Who started the job, officials and administrators, and the staff of the job's
    organisation."""
    from core import roles

    if not user.is_authenticated or not user.is_active:
        return False
    if job.created_by_id == user.pk or user.is_superuser or user.has_role(*roles.OFFICIAL_ROLES):
        return True
    return bool(
        job.organization_id
        and job.organization_id == user.organization_id
        and user.has_role(roles.OPERATOR_STAFF)
    )


def retry(user, job):
    """Queue a failed job again (the job page's Retry button and POST .../retry/): the handler
    resumes it and stores nothing twice."""
    from core.models import ImportJob

    if not can_retry(user, job):
        raise PermissionDenied()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportJob.Status.FAILED:
            raise InvalidTransition(_("Only a failed import can be retried."))
        job.status, job.message, job.finished_at = ImportJob.Status.QUEUED, "", None
        job.save(update_fields=["status", "message", "finished_at", "updated_at"])
        outbox.enqueue("core.tasks.run_import", [job.pk])
    return job
