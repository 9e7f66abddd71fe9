"""Every write of the agreements app: agreements and their parties, content areas, tasks, progress
updates (append-only, corrections), meetings whose decisions create or change tasks, renewal into a
draft successor, and the reminders Celery beat sends.

Who may do what (one place):
- city and national officials (and administrators) manage agreements, areas and tasks and see all;
- a party's staff post updates on tasks their organisation is responsible for or supports, and move
  their own tasks' status; other organisations (operators included) see nothing unless a party.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.models import (
    Agreement,
    AgreementParty,
    ContentArea,
    Decision,
    Meeting,
    ProgressUpdate,
    Task,
    UpdateEvidence,
)
from core import indicators, roles
from core.exceptions import InvalidInput, InvalidTransition, PermissionDenied
from core.files import check_upload
from core.history import acting_as
from core.notifications import city_officials, notify, staff_of
from core.permissions import acts_for, is_city_official

REMIND_DAYS_BEFORE = 7
RENEWAL_NOTICE_DAYS = 90
EVIDENCE_TYPES = ("application/pdf", "image/jpeg", "image/png")


# --- Who may do what ---------------------------------------------------------------------------


def is_agreement_official(user):
    return is_city_official(user) or bool(
        user and user.is_authenticated and user.has_role(roles.NATIONAL_OFFICIAL)
    )


def party_ids(agreement):
    return {p.organization_id for p in agreement.parties.all()}


def can_update(user, task):
    """Officials, and the staff of the responsible or a supporting party."""
    if is_agreement_official(user):
        return True
    if not user or not user.is_authenticated or not user.organization_id:
        return False
    involved = {task.responsible_id} | {o.pk for o in task.supporting.all()}
    return user.organization_id in involved and acts_for(user, user.organization_id)


def can_move(user, task):
    return is_agreement_official(user) or acts_for(user, task.responsible_id)


def _require_official(user):
    if not is_agreement_official(user):
        raise PermissionDenied()


# --- Agreements ---------------------------------------------------------------------------------

AGREEMENT_FIELDS = ("code", "title", "summary", "signed_on", "period_start", "period_end", "status")


@transaction.atomic
def save_agreement(user, agreement=None, parties=None, document=None, **data):
    """Create or change an agreement. ``parties``: [{organization, role, signatory,
    signatory_title}], at least two organisations, each once."""
    _require_official(user)
    agreement = agreement or Agreement()
    unknown = set(data) - set(AGREEMENT_FIELDS)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    if agreement.pk and data.get("status", agreement.status) != agreement.status:
        # A new agreement may be recorded in force or expired; afterwards its status moves only
        # through agreements.workflows.AGREEMENT (bring into force, renewal, expiry).
        raise InvalidInput(
            {"status": [_("The status changes through its steps (bring into force), not an edit.")]}
        )
    for key, value in data.items():
        setattr(agreement, key, value)
    errors = {}
    if not agreement.code:
        errors["code"] = [_("Give the agreement a code.")]
    if not agreement.title:
        errors["title"] = [_("Give the agreement a title.")]
    if not agreement.period_start:
        errors["period_start"] = [_("Give the start of the period.")]
    if not agreement.period_end:
        errors["period_end"] = [_("Give the end of the period.")]
    elif agreement.period_start and agreement.period_end < agreement.period_start:
        errors["period_end"] = [_("The period cannot end before it starts.")]
    if agreement.signed_on and agreement.period_end and agreement.signed_on > agreement.period_end:
        errors["signed_on"] = [_("The agreement cannot be signed after its period ends.")]
    if parties is not None:
        orgs = [p["organization"] for p in parties if p.get("organization")]
        if len({o.pk for o in orgs}) < 2:
            errors["parties"] = [_("An agreement has at least two different parties.")]
        elif len({o.pk for o in orgs}) != len(orgs):
            errors["parties"] = [_("Each organisation is a party once.")]
    elif agreement.pk is None:
        errors["parties"] = [_("An agreement has at least two different parties.")]
    if agreement.pk and agreement.period_start and agreement.period_end and not errors:
        outside = Task.objects.filter(area__agreement=agreement, due_date__isnull=False).filter(
            due_date__lt=agreement.period_start
        ) | Task.objects.filter(area__agreement=agreement, due_date__gt=agreement.period_end)
        if outside.exists():
            errors["period_end"] = [_("Some tasks are due outside the new period.")]
    if document is not None:
        try:
            check_upload(document, ("application/pdf",), field="document")
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    if document is not None:
        agreement.document.save(document.name, document, save=False)
    try:
        with transaction.atomic(), acting_as(user, action="agreements.save"):
            agreement.save()
    except IntegrityError as exc:
        raise InvalidInput({"code": [_("An agreement with this code exists.")]}) from exc
    if parties is not None:
        keep = []
        for p in parties:
            party, _created = AgreementParty.objects.update_or_create(
                agreement=agreement,
                organization=p["organization"],
                defaults={
                    "role": p.get("role") or AgreementParty.Role.PARTY,
                    "signatory": p.get("signatory", ""),
                    "signatory_title": p.get("signatory_title", ""),
                },
            )
            keep.append(party.pk)
        removed = agreement.parties.exclude(pk__in=keep)
        if Task.objects.filter(
            area__agreement=agreement, responsible__in=removed.values("organization")
        ).exists():
            raise InvalidInput({"parties": [_("A party responsible for tasks cannot be removed.")]})
        removed.delete()
    return agreement


# --- The workflows -------------------------------------------------------------------------------
# An agreement's and a task's states and moves are declared once in agreements.workflows (AGREEMENT,
# AGREEMENT_TASK, core.workflow); the actions below keep their signatures for the demo, the views,
# the tasks and the tests, and all go through its perform.


def _perform(user, obj, action, **inputs):
    from agreements.workflows import AGREEMENT, AGREEMENT_TASK  # it imports this module's rules

    workflow = AGREEMENT_TASK if isinstance(obj, Task) else AGREEMENT
    return workflow.perform(user, obj, action, **inputs)


def bring_into_force(user, agreement, signed_on=None, expected_version=None):
    """A signed draft comes into force; the agreement it renews is marked renewed. Only officials
    manage agreements: anyone else is refused before the agreement's status is looked at."""
    _require_official(user)
    return _perform(
        user, agreement, "in_force", expected_version=expected_version, signed_on=signed_on
    )


@transaction.atomic
def renew(user, agreement, *, code, title, period_start, period_end):
    """A draft successor with the same parties, content areas and open tasks (carried over)."""
    _require_official(user)
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if Agreement.objects.filter(predecessor=agreement).exists():
        raise InvalidTransition(_("This agreement already has a successor."))
    if period_start and agreement.period_end and period_start <= agreement.period_start:
        raise InvalidInput({"period_start": [_("The successor must start after this agreement.")]})
    parties = [
        {
            "organization": _current(p.organization),
            "role": p.role,
        }
        for p in agreement.parties.select_related("organization")
    ]
    successor = save_agreement(
        user,
        parties=parties,
        code=code,
        title=title,
        period_start=period_start,
        period_end=period_end,
        summary=agreement.summary,
        status=Agreement.Status.DRAFT,
    )
    successor.predecessor = agreement
    successor.save(update_fields=["predecessor", "updated_at"])
    party_map = {p["organization"].pk for p in parties}
    for area in agreement.areas.all():
        new_area = ContentArea.objects.create(
            agreement=successor, number=area.number, title=area.title, description=area.description
        )
        for task in area.tasks.filter(status__in=Task.OPEN).prefetch_related("supporting"):
            responsible = _current(task.responsible)
            copy = Task.objects.create(
                area=new_area,
                title=task.title,
                description=task.description,
                responsible=responsible,
                due_date=_first_occurrence(task, successor),
                recurrence=task.recurrence,
                # Carried on where it stood: a task with progress is in progress, not new.
                status=Task.Status.IN_PROGRESS
                if task.percent and not task.indicator
                else Task.Status.NOT_STARTED,
                percent=task.percent if not task.indicator else 0,
                indicator=task.indicator,
                baseline_value=task.baseline_value,
                target_value=task.target_value,
                target_date=None,
                carried_from=task,
            )
            copy.supporting.set(
                [o for o in map(_current, task.supporting.all()) if o.pk in party_map]
            )
    return successor


def _first_occurrence(task, agreement):
    """A carried recurring task's first occurrence in the new period (None for one-off tasks, whose
    dates the parties set again)."""
    if not task.recurrence or not task.due_date:
        return None
    day = task.due_date
    while day < agreement.period_start:
        day = next_occurrence(day, task.recurrence)
    return day if day <= agreement.period_end else None


def _current(organization):
    """The organisation that carries on ``organization`` today (its successor, if it has one)."""
    seen = set()
    while getattr(organization, "successor_id", None) and organization.pk not in seen:
        seen.add(organization.pk)
        organization = organization.successor
    return organization


# --- Content areas and tasks ----------------------------------------------------------------------


@transaction.atomic
def save_area(user, agreement, area=None, *, number, title, description=""):
    _require_official(user)
    area = area or ContentArea(agreement=agreement)
    if area.agreement_id != agreement.pk:
        raise InvalidInput({"agreement": [_("The content area belongs to another agreement.")]})
    if not number or number < 1:
        raise InvalidInput({"number": [_("Number the content area from 1.")]})
    if not (title or "").strip():
        raise InvalidInput({"title": [_("Give the content area a title.")]})
    area.number, area.title, area.description = number, title.strip(), description
    try:
        with transaction.atomic(), acting_as(user, action="agreements.area"):
            area.save()
    except IntegrityError as exc:
        raise InvalidInput(
            {"number": [_("This agreement already has an area with this number.")]}
        ) from exc
    return area


TASK_FIELDS = (
    "area",
    "title",
    "description",
    "responsible",
    "due_date",
    "recurrence",
    "indicator",
    "baseline_value",
    "target_value",
    "target_date",
)


def _check_task(task, supporting):
    agreement = task.area.agreement
    parties = party_ids(agreement)
    errors = {}
    if not (task.title or "").strip():
        errors["title"] = [_("Describe the task.")]
    if task.responsible_id is None:
        errors["responsible"] = [_("Choose the responsible party.")]
    elif task.responsible_id not in parties:
        errors["responsible"] = [_("The responsible organisation is not a party to the agreement.")]
    if supporting and any(o.pk not in parties for o in supporting):
        errors["supporting"] = [_("Supporting organisations must be parties to the agreement.")]
    for field in ("due_date", "target_date"):
        day = getattr(task, field)
        if day and not (agreement.period_start <= day <= agreement.period_end):
            errors[field] = [
                _("The date must fall within the agreement's period (%(start)s – %(end)s).")
                % {
                    "start": agreement.period_start.strftime("%d/%m/%Y"),
                    "end": agreement.period_end.strftime("%d/%m/%Y"),
                }
            ]
    if task.recurrence not in Task.Recurrence.values:
        errors["recurrence"] = [_("Unknown recurrence.")]
    if task.recurrence and not task.due_date:
        errors["due_date"] = [_("A recurring task needs the date of its next occurrence.")]
    if task.indicator:
        if not indicators.exists(task.indicator):
            errors["indicator"] = [_("Unknown indicator “%(key)s”.") % {"key": task.indicator}]
        if task.target_value is None:
            errors["target_value"] = [_("A task measured by an indicator needs a target value.")]
    elif task.target_value is not None:
        errors["indicator"] = [_("Choose the indicator the target is measured on.")]
    for field in ("baseline_value", "target_value"):
        value = getattr(task, field)
        if value is not None:
            try:
                setattr(task, field, Decimal(str(value)))
            except InvalidOperation:
                errors[field] = [_("Give a number.")]
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def save_task(user, task=None, supporting=None, **data):
    _require_official(user)
    task = task or Task()
    unknown = set(data) - set(TASK_FIELDS)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(task, key, "" if value is None and key in ("indicator", "recurrence") else value)
    if task.area_id is None:
        raise InvalidInput({"area": [_("Choose the content area.")]})
    _check_task(task, supporting)
    with acting_as(user, action="agreements.task"):
        task.save()
        if supporting is not None:
            task.supporting.set(supporting)
    return task


ADVANCE = {
    "monthly": 1,
    "quarterly": 3,
    "half_yearly": 6,
    "yearly": 12,
}


def next_occurrence(day, recurrence):
    """The same day ``recurrence`` later. A month's last day stays the last day (31/03 → 30/06 →
    30/09 → 31/12, not 30/12), and a day the month lacks becomes its last day (31/01 → 28/02)."""
    months = ADVANCE[recurrence]
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        return date(year, month, last)
    return date(year, month, min(day.day, last))


@transaction.atomic
def set_task_status(user, task, status, today=None, expected_version=None):
    """Move a task to ``status``. A recurring task marked done moves on to its next occurrence
    (within the period) instead of closing; a task resumed after its due date is overdue."""
    from agreements.workflows import AGREEMENT_TASK, task_action

    locked = AGREEMENT_TASK.lock(task)
    return _perform(
        user, locked, task_action(locked, status, today), expected_version=expected_version
    )


# --- Progress updates -----------------------------------------------------------------------------


@transaction.atomic
def post_update(
    user,
    task,
    *,
    reported_on,
    narrative,
    percent=None,
    organization=None,
    corrects=None,
    evidence=(),
):
    """An update on a task by a party (the user's organisation; officials may name the party).
    Append-only: ``corrects`` names an earlier update this one replaces."""
    task = Task.objects.select_for_update().select_related("area__agreement").get(pk=task.pk)
    if not can_update(user, task):
        raise PermissionDenied()
    agreement = task.area.agreement
    parties = party_ids(agreement)
    if organization is None:
        organization = _party_of(user, agreement)
    errors = {}
    if organization is None or organization.pk not in parties:
        errors["organization"] = [_("Only a party to the agreement can post an update.")]
    elif not is_agreement_official(user) and organization.pk != user.organization_id:
        errors["organization"] = [_("You post updates for your own organisation.")]
    if not (narrative or "").strip():
        errors["narrative"] = [_("Say what was done.")]
    if percent is not None and not (0 <= percent <= 100):
        errors["percent"] = [_("Give a percentage from 0 to 100.")]
    if percent is not None and task.indicator:
        errors["percent"] = [_("This task's progress is computed from its indicator.")]
    if reported_on is None:
        errors["reported_on"] = [_("Give the date.")]
    elif reported_on > timezone.localdate():
        errors["reported_on"] = [_("The date cannot be in the future.")]
    elif reported_on < agreement.period_start:
        errors["reported_on"] = [_("The date is before the agreement's period.")]
    if corrects is not None:
        if corrects.task_id != task.pk:
            errors["corrects"] = [_("The corrected update belongs to another task.")]
        elif ProgressUpdate.objects.filter(corrects=corrects).exists():
            errors["corrects"] = [_("This update has already been corrected.")]
    files = []
    for f in evidence:
        try:
            files.append(check_upload(f, EVIDENCE_TYPES, field="evidence"))
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    with acting_as(user, action="agreements.update"):
        update = ProgressUpdate.objects.create(
            task=task,
            reported_on=reported_on,
            organization=organization,
            author=user,
            narrative=narrative.strip(),
            percent=percent,
            corrects=corrects,
        )
        for uploaded, content_type in zip(evidence, files, strict=True):
            item = UpdateEvidence(
                update=update, original_name=uploaded.name[:255], content_type=content_type
            )
            item.file.save(uploaded.name, uploaded, save=False)
            item.save()
        _refresh_percent(user, task)
    return update


def _party_of(user, agreement):
    """The party ``user`` acts for: their organisation, or the party it carries on (a Sở KH&CN
    official on a programme the Sở TT&TT signed)."""
    if not user.organization_id:
        return None
    parties = list(agreement.parties.select_related("organization__successor"))
    for party in parties:
        if party.organization_id == user.organization_id:
            return party.organization
    for party in parties:
        if _current(party.organization).pk == user.organization_id:
            return party.organization
    return user.organization


def _refresh_percent(user, task):
    """The task's percent is that of its latest update in force (not corrected) that gives one."""
    latest = (
        task.updates.filter(percent__isnull=False, correction__isnull=True)
        .order_by("-reported_on", "-id")
        .values_list("percent", flat=True)
        .first()
    )
    if task.status == Task.Status.NOT_STARTED and task.updates.exists():
        # The first update starts the task: a move of the workflow, by the user who posted it.
        task = _perform(user, task, "start", percent=latest or 0)
    else:
        task.percent = latest or 0
        task.save(update_fields=["percent", "updated_at"])
    return task


# --- Meetings -----------------------------------------------------------------------------------


@transaction.atomic
def record_meeting(user, agreement, *, held_on, title, present, minutes="", decisions=()):
    """A meeting of the parties. Each decision is {"text", and either "task" (an existing task,
    with "changes": {due_date, status}) or "new_task" (fields of save_task)}, not both, and no
    changes without their task (errors on ``decisions.<n>``, the decision's number from 1)."""
    _require_official(user)
    parties = party_ids(agreement)
    errors = {}
    if not held_on:
        errors["held_on"] = [_("Give the date of the meeting.")]
    elif held_on > timezone.localdate():
        errors["held_on"] = [_("The date cannot be in the future.")]
    if not (title or "").strip():
        errors["title"] = [_("Give the meeting a title.")]
    if not present or any(o.pk not in parties for o in present):
        errors["present"] = [_("Choose the parties present (parties to the agreement only).")]
    for i, item in enumerate(decisions, start=1):
        if item.get("task") is not None and item.get("new_task"):
            errors[f"decisions.{i}"] = [_("A decision changes a task or creates one, not both.")]
        elif item.get("changes") and item.get("task") is None:
            errors[f"decisions.{i}"] = [_("Choose the task the decision changes.")]
    if errors:
        raise InvalidInput(errors)
    with acting_as(user, action="agreements.meeting"):
        meeting = Meeting.objects.create(
            agreement=agreement, held_on=held_on, title=title.strip(), minutes=minutes
        )
        meeting.present.set(present)
        for i, item in enumerate(decisions, start=1):
            text = (item.get("text") or "").strip()
            if not text:
                raise InvalidInput({f"decisions.{i}": [_("Write the decision.")]})
            task, created = item.get("task"), False
            if item.get("new_task"):
                fields = dict(item["new_task"])
                area = fields.get("area")
                if area is not None and area.agreement_id != agreement.pk:
                    raise InvalidInput(
                        {f"decisions.{i}": [_("The task belongs to another agreement.")]}
                    )
                supporting = fields.pop("supporting", None)
                task, created = save_task(user, supporting=supporting, **fields), True
            elif task is not None:
                if task.area.agreement_id != agreement.pk:
                    raise InvalidInput(
                        {f"decisions.{i}": [_("The task belongs to another agreement.")]}
                    )
                changes = dict(item.get("changes") or {})
                status = changes.pop("status", None)
                if changes:
                    save_task(user, task, **changes)
                if status and status != task.status:
                    set_task_status(user, task, status)
            Decision.objects.create(meeting=meeting, text=text, task=task, created_task=created)
    return meeting


# --- Progress of a task ---------------------------------------------------------------------------


def task_progress(task, as_of=None, cache=None):
    """{"percent", "value", "target", "source"}: computed from the task's indicator (from baseline
    to target) when it has one, else the latest update's percent (100 once the task is done). A
    failing indicator gives percent None and its error, never an exception. ``cache`` ({indicator:
    value}) computes each indicator once for a page of tasks."""
    if not task.indicator:
        percent = 100 if task.status == Task.Status.DONE else task.percent
        return {"percent": percent, "value": None, "target": None, "source": "updates"}
    try:
        if cache is not None and task.indicator in cache:
            value = cache[task.indicator]
        else:
            value = indicators.get(task.indicator).value(as_of=as_of)
            if cache is not None:
                cache[task.indicator] = value
    except Exception as exc:  # an indicator is other apps' code: show, do not break the page
        return {
            "percent": None,
            "value": None,
            "target": task.target_value,
            "source": "error",
            "error": str(exc),
        }
    if value is None:
        return {"percent": 0, "value": None, "target": task.target_value, "source": "indicator"}
    base = float(task.baseline_value or 0)
    target = float(task.target_value)
    span = target - base
    if span == 0:  # nothing to gain: reached or not
        pct = 100.0 if float(value) >= target else 0.0
    else:
        pct = (float(value) - base) / span * 100
    return {
        "percent": max(0, min(100, round(pct))),
        "value": value,
        "target": task.target_value,
        "source": "indicator",
    }


# --- Reminders (Celery beat) ---------------------------------------------------------------------


@dataclass
class ReminderRun:
    reminded: int = 0
    overdue: int = 0
    expired: int = 0
    renewal_prompts: int = 0


def send_reminders(today=None):
    """Daily: remind the responsible party before a task's due date, mark overdue tasks and tell
    them, expire agreements past their period, and prompt officials to renew agreements nearing
    their end. Idempotent (each reminder is sent once)."""
    today = today or timezone.localdate()
    run = ReminderRun()
    # A draft binds no one yet: its tasks are neither reminded nor overdue.
    binding = Task.objects.exclude(area__agreement__status=Agreement.Status.DRAFT)
    with transaction.atomic():
        soon = (
            binding.select_for_update(skip_locked=True, of=("self",))
            .filter(
                status__in=("not_started", "in_progress"),
                due_date__gte=today,
                due_date__lte=today + timedelta(days=REMIND_DAYS_BEFORE),
                reminded_on__isnull=True,
            )
            .select_related("responsible__successor", "area__agreement")
        )
        for task in soon:
            # The party as it signed may have been merged since: its successor's staff carry on.
            notify(
                staff_of(_current(task.responsible)),
                _("Task “%(task)s” is due on %(date)s")
                % {"task": task.title[:80], "date": task.due_date.strftime("%d/%m/%Y")},
                url=f"/agreements/tasks/{task.public_id}/",
            )
            task.reminded_on = today
            task.save(update_fields=["reminded_on", "updated_at"])
            run.reminded += 1
        late = (
            binding.select_for_update(skip_locked=True, of=("self",))
            .filter(status__in=("not_started", "in_progress"), due_date__lt=today)
            .select_related("responsible__successor")
        )
        for task in late:
            _perform(None, task, "mark_overdue")
            notify(
                list(staff_of(_current(task.responsible))) + list(city_officials()),
                _("Task “%(task)s” is overdue") % {"task": task.title[:80]},
                url=f"/agreements/tasks/{task.public_id}/",
            )
            run.overdue += 1
        past = Agreement.objects.select_for_update().filter(
            status=Agreement.Status.IN_FORCE, period_end__lt=today
        )
        for agreement in past:
            _perform(None, agreement, "expire")
            run.expired += 1
        ending = Agreement.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            status=Agreement.Status.IN_FORCE,
            period_end__gte=today,
            period_end__lte=today + timedelta(days=RENEWAL_NOTICE_DAYS),
            renewal_notified_on__isnull=True,
            successor__isnull=True,
        )
        for agreement in ending:
            notify(
                city_officials(),
                _("“%(title)s” ends on %(date)s: prepare its successor")
                % {
                    "title": agreement.title[:80],
                    "date": agreement.period_end.strftime("%d/%m/%Y"),
                },
                url=f"/agreements/{agreement.public_id}/",
            )
            agreement.renewal_notified_on = today
            agreement.save(update_fields=["renewal_notified_on", "updated_at"])
            run.renewal_prompts += 1
    return run
