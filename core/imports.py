"""Long imports run by Celery with a progress bar.

An app registers a handler for a kind of import (``register("spam_reports.reports", handler)``
in its AppConfig.ready). ``start()`` stores the uploaded file in an ImportJob and queues
``core.tasks.run_import``; the worker calls ``handler(job, progress)``, where ``progress(processed,
total=None, **counts)`` records how far it got. A handler commits as it goes and must be idempotent
(a retry after a crash finishes the job and stores nothing twice). Row errors go in ``job.errors``
as {"row", "column", "message"} (the first MAX_ERRORS of them, for the page; every one is an
ImportRowError, which the downloads list; ``error_count`` counts all). ``cancel()`` stops a job:
its next progress report raises ImportCancelled in the handler.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.exceptions import DomainError, InvalidInput, InvalidTransition, PermissionDenied

MAX_ERRORS = 1000
MODES = ("atomic", "partial")
# A file this small is imported in the page's request (the same job and handler); a bigger one
# goes to the worker and the page follows its progress.
INLINE_BYTES = 256 * 1024


@dataclass(frozen=True)
class Kind:
    """A kind of import an app registers: its handler (the worker's part), its template's fields
    (core.importmap.Field) and its own ``start(user, uploaded, enqueue=True, **options)`` that
    checks who may import and the options before the job is made (default: core's ``start``).
    ``modes``: the modes it offers (atomic: all or nothing; partial: the valid rows stored);
    ``dry_run``: whether it can check a file without storing it."""

    name: str
    handler: Any
    label: Any = ""
    fields: tuple = ()
    start: Any = None
    modes: tuple = ("partial",)
    dry_run: bool = False
    date_fields: tuple = ()  # fields whose dates the mapping step checks (core.dateorder)
    page: str = ""  # the URL name of the kind's import page
    example: Any = None  # field -> value: the templates' example row
    may_import: Any = None  # user -> bool: who sees the kind's upload page
    field_sets: tuple = ()  # other templates a file may follow (spam: a 5656 export)


KINDS: dict[str, Kind] = {}
HANDLERS = {}  # kind name -> handler (the worker's look-up)


def register(kind, handler, **declared):
    KINDS[kind] = Kind(kind, handler, **declared)
    HANDLERS[kind] = handler


def may_import(user, kind):
    """Whether ``user`` may use ``kind``'s upload page (its own rule; else: any portal role)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(kind.may_import(user) if kind.may_import else user.role_names)


def start_kind(kind, user, uploaded, enqueue=True, **options):
    """Start an import of ``kind`` (a Kind) through its own ``start`` (who may, its options), or
    core's when it has none; None options are left out."""
    options = {k: v for k, v in options.items() if v is not None}
    if kind.start is not None:
        return kind.start(user, uploaded, enqueue=enqueue, **options)
    return start(user, kind.name, uploaded, options, enqueue=enqueue)


def find_kind(name):
    """A registered kind by its name, by its last part ("stations", "sites", "assets") or by a
    part of its name that names one kind only ("spam")."""
    if name in KINDS:
        return KINDS[name]
    wanted = (name or "").lower()
    matches = [k for k in KINDS.values() if k.name.lower().rsplit(".", 1)[-1] == wanted]
    if not matches:  # "spam" names spam_reports.reports
        matches = [k for k in KINDS.values() if wanted and wanted in k.name.lower()]
    if len(matches) != 1:
        raise InvalidInput(
            {"kind": [_("Unknown kind of import. Known: %(kinds)s") % {"kinds": ", ".join(KINDS)}]}
        )
    return matches[0]


# --- Column mappings, saved by name (core.importmap) -----------------------------------------


def mapping_named(user, kind, name):
    """The mapping ``user``'s organisation saved as ``name`` for ``kind`` (or a portal-wide one)."""
    from core.models import ImportMapping

    found = (
        ImportMapping.objects.filter(kind=kind, name=name)
        .filter(organization_id__in=[user.organization_id, None])
        .order_by("organization_id")
        .first()
    )
    if found is None:
        raise InvalidInput(
            {"mapping": [_("No saved mapping is called “%(name)s”.") % {"name": name}]}
        )
    return found


def save_mapping(user, kind, name, mapping, date_order=""):
    """Save (or replace) ``mapping`` under ``name`` for the user's organisation, with the date
    order its files write (when the user said it)."""
    from core.importmap import check_mapping, parse_mapping
    from core.models import ImportMapping
    from core.text import hidden_characters

    name = str(name or "").strip()
    if not name:
        raise InvalidInput({"mapping_name": [_("Give the mapping a name.")]})
    if hidden_characters(name) or _has_surrogates(name):
        raise InvalidInput({"mapping_name": [_("Remove the control characters from the name.")]})
    check_mapping(mapping)
    columns, constants = parse_mapping(mapping)
    saved, _created = ImportMapping.objects.update_or_create(
        kind=kind,
        organization_id=user.organization_id,
        name=name[:100],
        defaults={
            "columns": columns,
            "constants": constants,
            "date_order": date_order or "",
            "created_by": user,
        },
    )
    return saved


def _has_surrogates(text):
    return any("\ud800" <= ch <= "\udfff" for ch in str(text))


def check_options(user, kind, options):
    """The job's options as it will keep them: a mapping named is replaced by what it says (the job
    keeps the mapping it used), the mode and a dry run checked against what the kind offers."""
    from core.importmap import check_mapping

    options = dict(options or {})
    found = KINDS.get(kind)
    if options.get("mapping"):
        check_mapping(options["mapping"])
    if options.get("mapping_name"):
        saved = mapping_named(user, kind, options.pop("mapping_name"))
        options.update(mapping=saved.mapping, mapping_used=saved.name)
        if saved.date_order and not options.get("date_order"):
            options["date_order"] = saved.date_order
    mode = options.get("mode")
    if mode and (mode not in MODES or (found and mode not in found.modes)):
        raise InvalidInput({"mode": [_("This import does not offer that mode.")]})
    if options.get("dry_run") and found and not found.dry_run:
        raise InvalidInput({"dry_run": [_("This import cannot check a file without storing it.")]})
    return options


def queue(job, enqueue=True):
    """A stored job (with its options) made ready for the worker, and sent to it (in the outbox
    with the job's change) unless ``enqueue`` is False (the caller runs it)."""
    from core.models import ImportJob

    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.QUEUED, options=job.options, updated_at=timezone.now()
        )
        if enqueue:
            outbox.enqueue("core.tasks.run_import", [job.pk])
    job.status = ImportJob.Status.QUEUED
    return job


def run_or_queue(job):
    """Run a small job here and now; send a bigger one to the worker. Returns the job."""
    if job.file.size <= INLINE_BYTES:
        queue(job, enqueue=False)
        return run(job.pk)
    return queue(job)


def start(user, kind, uploaded, options=None, enqueue=True):
    """Store the file and queue the import; returns the job (the page then shows its progress).
    ``enqueue=False``: the caller runs it (``run``, as manage.py import_file does)."""
    from core.models import ImportJob

    if kind not in HANDLERS:
        raise InvalidInput({"kind": [_("Unknown kind of import.")]})
    if uploaded is None or not getattr(uploaded, "size", 0):
        raise InvalidInput({"file": [_("The file is empty.")]})
    limit = settings.IMPORT_MAX_BYTES
    if uploaded.size > limit:  # refused by its size, before anything reads it
        raise InvalidInput(
            {"file": [_("The file is larger than %(mb)d MB.") % {"mb": limit // (1024 * 1024)}]}
        )
    job = ImportJob(
        kind=kind,
        original_name=(getattr(uploaded, "name", "") or "import")[:255],
        options=check_options(user, kind, options),
        created_by=user,
        organization_id=user.organization_id,
    )
    job.file.save(job.original_name, uploaded, save=False)
    with transaction.atomic():
        job.save()
        if enqueue:
            # In the outbox with the job: sent after the commit, or by the drain when the broker
            # is back; a broker that is down neither fails the upload nor loses the job.
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
            keep_errors(job.pk, errors)
            job.errors = (job.errors + list(errors))[:MAX_ERRORS]
            values["errors"] = job.errors
        live = ImportJob.objects.filter(pk=job.pk).exclude(status=ImportJob.Status.CANCELLED)
        if not live.update(**values):
            raise ImportCancelled()  # someone cancelled it: the handler stops here

    return progress


class ImportCancelled(Exception):
    """Raised in a handler by its progress report when the job was cancelled."""


def keep_errors(job_id, errors, replace=False):
    """Every row error of the job, as ImportRowErrors (the job's ``errors`` keeps the first)."""
    from core.models import ImportRowError

    if replace:
        ImportRowError.objects.filter(job_id=job_id).delete()
    ImportRowError.objects.bulk_create(
        (ImportRowError.of(job_id, e) for e in errors if isinstance(e, dict)), batch_size=5000
    )


def run(job_id):
    """Run a queued (or crashed) job to its end; a finished job is left as it is."""
    from core.models import ImportJob

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.finished or job.status == ImportJob.Status.DRAFT:
            return job  # finished, or still waiting for its column mapping
        job.status = ImportJob.Status.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.attempts += 1
        job.save(update_fields=["status", "started_at", "attempts", "updated_at"])
    handler = HANDLERS.get(job.kind)
    try:
        if handler is None:
            raise DomainError(_("Unknown kind of import."))
        message = handler(job, _progress(job)) or ""
    except ImportCancelled:
        pass  # cancel() said so on the job; what a handler committed before stays
    except DomainError as exc:
        errors = exc.errors if isinstance(exc.errors, list) else []
        if errors:
            keep_errors(job.pk, errors, replace=True)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            message=str(exc.message),
            errors=errors[:MAX_ERRORS] or job.errors,
            error_count=len(errors) or job.error_count,
            finished_at=timezone.now(),
        )
    else:
        # Done, even when a cancel came while its last transaction was being stored: it was.
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE, message=str(message), finished_at=timezone.now()
        )
        if job.options.get("mapping_used"):  # said with the result: which mapping read the file
            job.refresh_from_db(fields=["notices"])
            used = _("Columns read with the saved mapping “%(name)s”.") % {
                "name": job.options["mapping_used"]
            }
            ImportJob.objects.filter(pk=job.pk).update(notices=[used, *job.notices])
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


def cancel(user, job):
    """Stop a job that is waiting or running (the job page's Cancel button, POST .../cancel/; the
    same people as ``retry``). The worker stops at its next progress report: an import that
    stores all or nothing stores nothing, one that commits in chunks keeps the chunks stored."""
    from core.models import ImportJob

    if not can_retry(user, job):
        raise PermissionDenied()
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.finished:
            raise InvalidTransition(_("Only an import that has not finished can be cancelled."))
        job.status, job.finished_at = ImportJob.Status.CANCELLED, timezone.now()
        job.message = _("Cancelled by %(user)s.") % {
            "user": user.get_full_name() or user.get_username()
        }
        job.save(update_fields=["status", "message", "finished_at", "updated_at"])
    return job


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
