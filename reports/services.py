"""Every write of the reports app: definitions, runs (requested on demand or by Celery beat after
each cut-off), their computation into a frozen snapshot with XLSX and PDF files, approval and
submission to the recipient agency.

A run is one per definition and period (a unique constraint): asking again returns the same run, a
retry after a crash computes it again from the start, and a failed run keeps its error and can be
retried. Values are computed by the indicators registered in core (core.indicators) as of the
period's cut-off, so regenerating a past period gives the same numbers. Nothing of a run is written
until all of it is computed: a failing indicator fails the run with its name and message.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import indicators, outbox, roles
from core.exceptions import InvalidInput, PermissionDenied
from core.history import acting_as
from core.models import Organization
from core.notifications import notify
from core.permissions import is_city_official
from reports import periods
from reports.models import ReportDefinition, ReportRun

log = logging.getLogger(__name__)

DB_CONNECTION_ERRORS = (OperationalError, InterfaceError)


def is_report_official(user):
    """City and national officials (and administrators) run, review and approve reports."""
    return is_city_official(user) or bool(
        user and user.is_authenticated and user.has_role(roles.NATIONAL_OFFICIAL)
    )


def can_administer(user):
    return bool(
        user and user.is_authenticated and (user.is_superuser or user.has_role(roles.ADMINISTRATOR))
    )


# --- Definitions -----------------------------------------------------------------------------------

DEFINITION_FIELDS = (
    "code",
    "name",
    "recipient",
    "period_type",
    "cutoff_day",
    "deadline_days",
    "heading",
    "intro",
    "sections",
    "active",
)


def check_sections(sections):
    """Each section: a title, one or more registered indicators, and an optional breakdown that
    every one of its indicators offers."""
    if not isinstance(sections, list) or not sections:
        return [_("A report has at least one section.")]
    errors = []
    for number, section in enumerate(sections, start=1):
        if not isinstance(section, dict):
            errors.append(_("Section %(n)d is not an object.") % {"n": number})
            continue
        if not str(section.get("title") or "").strip():
            errors.append(_("Section %(n)d has no title.") % {"n": number})
        keys = section.get("indicators")
        if not isinstance(keys, list) or not keys:
            errors.append(_("Section %(n)d names no indicator.") % {"n": number})
            continue
        by = section.get("by") or ""
        if not isinstance(by, str):
            errors.append(
                _("Section %(n)d: the breakdown is not a dimension name.") % {"n": number}
            )
            continue
        for key in keys:
            if not isinstance(key, str) or not indicators.exists(key):
                errors.append(
                    _("Section %(n)d: unknown indicator “%(key)s”.") % {"n": number, "key": key}
                )
            elif by and by not in indicators.get(key).dimensions:
                errors.append(
                    _("Section %(n)d: “%(key)s” cannot be broken down by %(by)s.")
                    % {"n": number, "key": key, "by": by}
                )
    return errors


@transaction.atomic
def save_definition(user, definition=None, **data):
    if not can_administer(user):
        raise PermissionDenied()
    definition = definition or ReportDefinition()
    unknown = set(data) - set(DEFINITION_FIELDS)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(definition, key, value)
    errors = {}
    if not definition.code:
        errors["code"] = [_("Give the report a code.")]
    if not definition.name:
        errors["name"] = [_("Give the report a name.")]
    if definition.recipient_id is None:
        errors["recipient"] = [_("Choose the recipient agency.")]
    elif definition.recipient.kind != Organization.Kind.AGENCY:
        errors["recipient"] = [_("Reports are sent to a state agency, not to an operator.")]
    if definition.period_type not in periods.MONTHS:
        errors["period_type"] = [_("Choose the period.")]
    if definition.cutoff_day is None or not 0 <= definition.cutoff_day <= 28:
        errors["cutoff_day"] = [_("The cut-off day is 0 (end of period) or from 1 to 28.")]
    if definition.deadline_days is None or not 0 <= definition.deadline_days <= 90:
        errors["deadline_days"] = [_("Give between 0 and 90 days.")]
    section_errors = check_sections(definition.sections)
    if section_errors:
        errors["sections"] = section_errors
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic(), acting_as(user, action="reports.definition"):
            definition.save()
    except IntegrityError as exc:
        raise InvalidInput({"code": [_("A report with this code exists.")]}) from exc
    return definition


# --- Runs --------------------------------------------------------------------------------------------


def period_of(definition, key):
    try:
        return periods.parse(definition.period_type, key, definition.cutoff_day)
    except (ValueError, KeyError):
        raise InvalidInput(
            {
                "period": [
                    _("“%(key)s” is not a period of this report (e.g. %(example)s).")
                    % {
                        "key": key,
                        "example": periods.latest_closed(
                            definition.period_type, timezone.localdate(), definition.cutoff_day
                        ).key,
                    }
                ]
            }
        ) from None


def request_run(user, definition, period_key, today=None, system=False, enqueue=True):
    """The run of ``definition`` for the period (created and queued if new; queued again if it
    failed). Refused for a period whose data cut-off has not passed. ``enqueue=False`` leaves the
    queued run for the caller to compute (the demo computes in its own process)."""
    if not system and not is_report_official(user):
        raise PermissionDenied()
    today = today or timezone.localdate()
    per = period_of(definition, period_key)
    if not per.closed(today):
        raise InvalidInput(
            {
                "period": [
                    _("The period is not closed yet: its data cut-off is %(date)s.")
                    % {"date": per.cutoff.strftime("%d/%m/%Y")}
                ]
            }
        )
    # The report is the agency's document: its period is named in the portal's language, not in
    # the language of whoever asked for it (the worker writes the values in that language too).
    with translation.override(settings.LANGUAGE_CODE):
        label = per.label
    with transaction.atomic():
        run, created = ReportRun.objects.get_or_create(
            definition=definition,
            period_key=per.key,
            defaults={
                "period_label": label,
                "period_start": per.start,
                "cutoff": per.cutoff,
                "deadline": per.cutoff + timedelta(days=definition.deadline_days),
                "requested_by": user if user and user.is_authenticated else None,
            },
        )
        run = ReportRun.objects.select_for_update().get(pk=run.pk)
        queue = created
        if run.status == ReportRun.Status.FAILED:
            run = _perform(None if system else user, run, "requeue")
            queue = True
        if queue and enqueue:
            # Kept in the outbox with the run: sent after the commit, or by the drain when the
            # broker is back (a run asked for again while queued is the same run, not re-sent).
            outbox.enqueue("reports.tasks.compute_run", [run.pk])
    return run


def _value(indicator, per, by):
    value = indicator.value(as_of=per.cutoff, start=per.start, by=by or None)
    if by:
        return [
            {"key": str(r["key"]), "label": str(r.get("label") or r["key"]), "value": r["value"]}
            for r in value
        ]
    return value


def _number(value):
    if value is None:
        return None
    return float(value) if not isinstance(value, int) else value


def compute_snapshot(definition, per, progress=None):
    """The report's values for the period: per section, per indicator, the value on the cut-off,
    the previous period's and the same period last year's (each computed as of its own cut-off),
    and the breakdown rows when the section asks for one."""
    cutoff_day = definition.cutoff_day
    previous = per.shifted(-1, cutoff_day)
    last_year = per.last_year(cutoff_day)
    steps = sum(len(s["indicators"]) for s in definition.sections) or 1
    done = 0
    sections = []
    for section in definition.sections:
        by = section.get("by") or ""
        rows = []
        for key in section["indicators"]:
            indicator = indicators.get(key)
            try:
                current = _number(_value(indicator, per, ""))
                before = _number(_value(indicator, previous, ""))
                year_ago = _number(_value(indicator, last_year, ""))
                breakdown = _value(indicator, per, by) if by else []
            except Exception as exc:
                raise IndicatorFailed(key, exc) from exc
            rows.append(
                {
                    "key": key,
                    "label": str(indicator.label),
                    "unit": indicator.unit,
                    "unit_label": str(indicator.unit_label),
                    "value": current,
                    "previous": before,
                    "last_year": year_ago,
                    "breakdown": [{**r, "value": _number(r["value"])} for r in breakdown],
                }
            )
            done += 1
            if progress:
                progress(int(90 * done / steps))
        sections.append({"title": section["title"], "by": by, "rows": rows})
    return {
        "report": definition.name,
        "heading": definition.heading,
        "intro": definition.intro,
        "recipient": str(definition.recipient),
        "period": per.label,
        "period_key": per.key,
        "start": per.start.isoformat(),
        "cutoff": per.cutoff.isoformat(),
        "previous": previous.label,
        "last_year": last_year.label,
        "computed_at": timezone.now().isoformat(),
        "sections": sections,
    }


class IndicatorFailed(Exception):
    def __init__(self, key, exc):
        self.key = key
        super().__init__(
            _("The indicator “%(key)s” failed: %(error)s") % {"key": key, "error": exc}
        )


def compute(run_id, today=None):
    """Compute a queued (or crashed) run to its end: snapshot, XLSX and PDF written together, or
    the run fails with the reason and nothing else is written. A finished run is left as it is."""
    from reports import documents
    from reports.workflows import REPORT_RUN

    today = today or timezone.localdate()
    with transaction.atomic():
        run = (
            ReportRun.objects.select_for_update()
            .select_related("definition__recipient")
            .filter(pk=run_id)
            .first()
        )
        if run is None or REPORT_RUN.transition(run, "start") is None:
            return run  # finished (ready, approved, submitted or failed): left as it is
        run = REPORT_RUN.perform(None, run, "start")

    def progress(percent):
        # updated_at is the run's heartbeat: the sweeper fails a run whose worker stopped beating.
        ReportRun.objects.filter(pk=run_id).update(progress=percent, updated_at=timezone.now())

    definition = run.definition
    try:
        per = periods.parse(definition.period_type, run.period_key, definition.cutoff_day)
        if not per.closed(today):
            raise ValueError(
                _("The period is not closed yet: its data cut-off is %(date)s.")
                % {"date": per.cutoff.strftime("%d/%m/%Y")}
            )
        snapshot = compute_snapshot(definition, per, progress)
        xlsx = documents.xlsx(snapshot)
        pdf = documents.pdf(snapshot)
    except DB_CONNECTION_ERRORS:
        raise  # the database went away: the task retries on a fresh connection
    except Exception as exc:  # any failure ends the run cleanly with its reason
        log.warning("report run %s failed: %s", run_id, exc)
        # Only this computation's run: a run finished meanwhile by another delivery of the task
        # (then maybe approved) is left as it is. Failing is not a REPORT_RUN move but a
        # conditional UPDATE (here, in fail_run and in sweep_stuck): the WHERE on the status is
        # the guard that makes a late or second delivery harmless in one statement, without a
        # lock to wait for (the give-up runs on a fresh connection after a database error, the
        # sweeper fails a batch). It bumps the version as a move would.
        ReportRun.objects.filter(pk=run_id, status=ReportRun.Status.RUNNING).update(
            status=ReportRun.Status.FAILED,
            error=str(exc)[:2000],
            progress=0,
            finished_at=timezone.now(),
            version=F("version") + 1,
        )
        run.refresh_from_db()
        return run
    with transaction.atomic():
        run = REPORT_RUN.lock(run)
        if REPORT_RUN.transition(run, "finish") is None:
            return run  # finished meanwhile by another delivery of the task: keep its result
        run = REPORT_RUN.perform(None, run, "finish", snapshot=snapshot, xlsx=xlsx, pdf=pdf)
    if run.requested_by_id:
        notify(
            [run.requested_by],
            _("The report “%(report)s” for %(period)s is ready for review")
            % {"report": definition.name, "period": run.period_label},
            url=f"/reports/runs/{run.public_id}/",
        )
    return run


# A run's states and the people's moves are declared once in reports.workflows (REPORT_RUN,
# core.workflow); the moves below keep their signatures for the views, the API, the demo and the
# tests, and all go through its perform (the row locked, the version checked when given).


def _perform(user, run, action, **inputs):
    from reports.workflows import REPORT_RUN  # it imports this module's rules

    return REPORT_RUN.perform(user, run, action, **inputs)


def approve(user, run, expected_version=None):
    return _perform(user, run, "approve", expected_version=expected_version)


def submit(user, run, expected_version=None):
    """Deliver an approved run to the recipient agency: its staff are told, its API client can
    download it."""
    return _perform(user, run, "submit", expected_version=expected_version)


def recompute(user, run, expected_version=None):
    """Compute a ready (not yet approved) or failed run again (the Retry of a failed run)."""
    return _perform(user, run, "recompute", expected_version=expected_version)


def retry(user, run, expected_version=None):
    """Queue a failed run again (the page's Retry button and POST .../retry/)."""
    return _perform(user, run, "retry", expected_version=expected_version)


def fail_run(run_id, error):
    """Mark a run failed after its task gave up (called on a fresh connection). A conditional
    UPDATE, as in ``compute``: a run another delivery finished is left as it is."""
    return ReportRun.objects.filter(
        pk=run_id, status__in=(ReportRun.Status.QUEUED, ReportRun.Status.RUNNING)
    ).update(
        status=ReportRun.Status.FAILED,
        error=str(error)[:2000],
        progress=0,
        finished_at=timezone.now(),
        version=F("version") + 1,
    )


def sweep_stuck(limit=None, now=None):
    """Celery beat, every minute: runs "running" without a heartbeat for longer than ``limit``
    (core.health.stuck_limit) lost their worker, and runs "queued" that long whose task was sent
    but never started lost their message; both are marked failed with the reason, and may be
    retried. A run whose task still waits in the outbox (the broker is down) is left queued.
    Returns the ids marked."""
    from core.health import stuck_limit

    now = now or timezone.now()
    limit = stuck_limit() if limit is None else limit
    reasons = {
        ReportRun.Status.RUNNING: _("The worker was lost while computing the report; retry it."),
        ReportRun.Status.QUEUED: _("The queued computation was lost before it started; retry it."),
    }
    marked = []
    with transaction.atomic():
        old = dict(
            ReportRun.objects.select_for_update(skip_locked=True)
            .filter(status__in=list(reasons), updated_at__lt=now - limit)
            .values_list("pk", "status")
        )
        waiting = outbox.pending_first_args("reports.tasks.compute_run") if old else set()
        for state, reason in reasons.items():
            pks = [
                pk
                for pk, s in old.items()
                if s == state and not (state == ReportRun.Status.QUEUED and pk in waiting)
            ]
            if pks:
                # One UPDATE for the batch (the rows are locked above, skipping any a worker
                # holds), not a REPORT_RUN.perform per run; it bumps the version as a move would.
                ReportRun.objects.filter(pk__in=pks).update(
                    status=ReportRun.Status.FAILED,
                    error=reason,
                    progress=0,
                    finished_at=now,
                    updated_at=now,
                    version=F("version") + 1,
                )
                marked += pks
    for pk in marked:
        log.warning("report run %s: stuck past its time limit, marked failed", pk)
    return sorted(marked)


def queue_due_runs(today=None):
    """Celery beat, daily: each active definition's latest closed period gets its run."""
    today = today or timezone.localdate()
    queued = []
    for definition in ReportDefinition.objects.filter(active=True).select_related("recipient"):
        per = periods.latest_closed(definition.period_type, today, definition.cutoff_day)
        if not ReportRun.objects.filter(definition=definition, period_key=per.key).exists():
            queued.append(request_run(None, definition, per.key, today=today, system=True))
    return queued
