"""Every write of the spam_reports app: reports (one by one and imported in bulk), cases and their
status, assignments to operators and their answers, overdue flags, the do-not-call list, and
subscriber-information inspections.

A new report attaches to its sender's open case (one open case per sender, guaranteed by a partial
unique index); the case's counters and the statistics' rollups follow by database triggers; the
Decree 91 checks (spam_reports.rules) add flags to the case.
"""

import codecs
import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import roles
from core.exceptions import (
    Conflict,
    ImportRejected,
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
)
from core.files import check_upload
from core.history import acting_as
from core.models import Organization
from core.notifications import notify, staff_of
from core.permissions import acts_for, is_city_official, is_operator_user
from core.scoping import sees_everything
from spam_reports import rules, senders
from spam_reports.models import (
    Channel,
    DoNotCallEntry,
    Evidence,
    InspectionFollowUp,
    OperatorAction,
    Origin,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)

CONTENT_MAX = 5000
EVIDENCE_TYPES = ("image/jpeg", "image/png", "application/pdf", "audio/mpeg", "audio/wav")
FINGERPRINT_NS = uuid.UUID("6b1f3c1e-5a0f-4d8e-9c55-2f0d7c4b9a10")
CLOCK_SKEW = timedelta(minutes=5)
CHANNELS = frozenset(Channel.values)


# --- Who may do what ---------------------------------------------------------------------------


def is_spam_official(user):
    """City and national officials (and administrators) handle complaints and cases."""
    return is_city_official(user) or bool(
        user and user.is_authenticated and user.has_role(roles.NATIONAL_OFFICIAL)
    )


def can_report(user):
    """Officials, operators' staff and systems (their feed), agencies' API clients."""
    return is_spam_official(user) or is_operator_user(user) or sees_everything(user)


def can_answer(user, action):
    return acts_for(user, action.operator_id) or is_spam_official(user)


def _origin_for(user):
    if user is None or not user.is_authenticated:
        return Origin.PUBLIC_FORM
    if is_spam_official(user):
        return Origin.OFFICIAL
    if is_operator_user(user):
        return Origin.OPERATOR_FEED
    return Origin.API


# --- Reading one report --------------------------------------------------------------------------


def fingerprint(channel, sender, recipient, received_at, content):
    """The same complaint twice (same channel, sender, recipient, second and content) has the same
    fingerprint: it is detected and reported, never stored twice."""
    when = received_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    key = "\x1f".join([channel, sender, recipient, when, content.strip()])
    return uuid.uuid5(FINGERPRINT_NS, key)


DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_time(value, field="received_at"):
    """A time as people and exports write it: dd/mm/yyyy HH:MM[:SS] or ISO 8601; naive times are
    Hanoi time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        moment = None
        match = DAY_FIRST.match(text)
        if match:
            day, month, year, hour, minute, second = (int(g or 0) for g in match.groups())
            try:
                moment = datetime(year, month, day, hour, minute, second)
            except ValueError:
                moment = None
        if moment is None:
            try:
                moment = parse_datetime(text.replace(" ", "T", 1) if "T" not in text else text)
            except ValueError:
                moment = None
        if moment is None:
            raise InvalidInput(
                {
                    field: [
                        _("“%(value)s” is not a date and time (dd/mm/yyyy hh:mm).")
                        % {"value": text}
                    ]
                }
            )
    if moment.tzinfo is None:
        # Hanoi keeps one offset all year: attaching the zone is making the time aware.
        moment = moment.replace(tzinfo=timezone.get_current_timezone())
    return moment


@dataclass
class Reading:
    """One report read and checked, ready to store."""

    channel: str
    sender_raw: str
    sender: str
    sender_kind: str
    recipient_raw: str
    recipient: str
    content: str
    received_at: datetime
    fingerprint: uuid.UUID


def read_report(channel, sender, recipient="", content="", received_at=None, now=None):
    """Check and normalise one report's fields; raise InvalidInput with every field's message."""
    errors = {}
    now = now or timezone.now()
    if channel not in CHANNELS:
        errors["channel"] = [_("Choose one of: SMS, voice call, e-mail, other app.")]
    sender_value = kind = recipient_value = None
    if not errors:
        try:
            sender_value, kind = senders.sender(sender, channel)
        except InvalidInput as exc:
            errors.update(exc.errors)
        try:
            recipient_value = senders.recipient(recipient, channel)
        except InvalidInput as exc:
            errors.update(exc.errors)
    content = (content or "").replace("\x00", "")
    if channel in (Channel.SMS, Channel.EMAIL, Channel.OTHER) and not content.strip():
        errors["content"] = [_("Give the content of the message.")]
    elif len(content) > CONTENT_MAX:
        errors["content"] = [_("The content is longer than %(n)d characters.") % {"n": CONTENT_MAX}]
    moment = None
    if received_at in (None, ""):
        errors["received_at"] = [_("Give the time the message or call was received.")]
    else:
        try:
            moment = parse_time(received_at)
        except InvalidInput as exc:
            errors.update(exc.errors)
        else:
            if moment > now + CLOCK_SKEW:
                errors["received_at"] = [_("The time received cannot be in the future.")]
            elif moment.year < 2000:
                errors["received_at"] = [_("The time received is too far in the past.")]
    if errors:
        raise InvalidInput(errors)
    return Reading(
        channel=channel,
        sender_raw=str(sender).strip()[:254],
        sender=sender_value,
        sender_kind=kind,
        recipient_raw=str(recipient or "").strip()[:254],
        recipient=recipient_value,
        content=content,
        received_at=moment,
        fingerprint=fingerprint(channel, sender_value, recipient_value, moment, content),
    )


_OPERATOR_IDS = {}


@receiver([post_save, post_delete], sender=Organization)
def _forget_operator_ids(**kwargs):
    """Organisations reloaded (a test database re-filled after a flush) get new ids."""
    _OPERATOR_IDS.clear()


def operator_for_number(number):
    """The operator (id) the number's range belongs to, or None."""
    code = senders.operator_code(number)
    if code is None:
        return None
    if code not in _OPERATOR_IDS:
        _OPERATOR_IDS[code] = (
            Organization.objects.filter(code=code).values_list("pk", flat=True).first()
        )
    return _OPERATOR_IDS[code]


# --- Filing a report -----------------------------------------------------------------------------


def open_case_for(sender, kind, channel, operator_id=None):
    """The sender's open case, created if there is none (safe against two requests at once)."""
    case = SpamCase.objects.filter(sender=sender, status__in=SpamCase.OPEN).first()
    if case is not None:
        return case
    try:
        with transaction.atomic():
            return SpamCase.objects.create(
                sender=sender, sender_kind=kind, channel=channel, operator_id=operator_id
            )
    except IntegrityError:
        return SpamCase.objects.get(sender=sender, status__in=SpamCase.OPEN)


@transaction.atomic
def submit_report(
    user,
    *,
    channel,
    sender,
    received_at,
    recipient="",
    content="",
    recipient_operator=None,
    origin=None,
    source="",
    external_id="",
    evidence=(),
):
    """File one complaint and attach it to its sender's open case. Returns the report."""
    if user is not None and user.is_authenticated and not can_report(user):
        raise PermissionDenied()
    if user is None or not user.is_authenticated:
        if not getattr(settings, "SPAM_PUBLIC_FORM", False):
            raise PermissionDenied()
        origin = Origin.PUBLIC_FORM
    reading = read_report(channel, sender, recipient, content, received_at)
    files = [check_upload(f, EVIDENCE_TYPES, field="evidence") for f in evidence]
    origin = origin or _origin_for(user)
    if origin not in Origin.values:
        raise InvalidInput({"origin": [_("Unknown source of the report.")]})
    if external_id and not source:
        source = user.organization.code if user and user.organization_id else "api"
    if external_id and SpamReport.objects.filter(source=source, external_id=external_id).exists():
        raise InvalidInput({"external_id": [_("A report with this id was already received.")]})
    if SpamReport.objects.filter(
        received_at=reading.received_at, fingerprint=reading.fingerprint
    ).exists():
        raise InvalidInput(
            {
                "__all__": [
                    _(
                        "This complaint was already received (same sender, recipient, time and content)."
                    )
                ]
            }
        )
    guessed = operator_for_number(reading.sender) if reading.sender_kind == "phone" else None
    case = open_case_for(reading.sender, reading.sender_kind, reading.channel, guessed)
    if recipient_operator is None and reading.recipient.startswith("+84"):
        recipient_operator_id = operator_for_number(reading.recipient)
    else:
        recipient_operator_id = getattr(recipient_operator, "pk", recipient_operator)
    actor = user if user is not None and user.is_authenticated else None
    with acting_as(actor, action="spam_reports.submit"):
        report = SpamReport.objects.create(
            case=case,
            channel=reading.channel,
            sender_raw=reading.sender_raw,
            sender=reading.sender,
            sender_kind=reading.sender_kind,
            sender_operator_id=case.operator_id,
            recipient_raw=reading.recipient_raw,
            recipient=reading.recipient,
            recipient_operator_id=recipient_operator_id,
            content=reading.content,
            received_at=reading.received_at,
            origin=origin,
            reporting_organization_id=actor.organization_id if actor else None,
            reported_by=actor,
            source=source,
            external_id=external_id,
            fingerprint=reading.fingerprint,
        )
    for uploaded, content_type in zip(evidence, files, strict=True):
        attach_evidence(actor, report, uploaded, content_type=content_type)
    rules.flag_reports([report.pk])
    return report


def attach_evidence(user, report, uploaded, content_type=None):
    content_type = content_type or check_upload(uploaded, EVIDENCE_TYPES, field="evidence")
    uploaded.seek(0)
    item = Evidence(
        report=report,
        original_name=(uploaded.name or "evidence")[:255],
        content_type=content_type,
        size=uploaded.size,
        uploaded_by=user,
    )
    item.file.save(item.original_name, uploaded, save=False)
    item.save()
    return item


def can_add_evidence(user, report):
    """Officials, and whoever filed the report (its organisation's staff or systems)."""
    return is_spam_official(user) or bool(
        user
        and user.is_authenticated
        and (report.reported_by_id == user.pk or acts_for(user, report.reporting_organization_id))
    )


@transaction.atomic
def add_evidence(user, report, files):
    """Attach evidence files to a report already filed; every file is checked before any is kept."""
    if not can_add_evidence(user, report):
        raise PermissionDenied()
    files = list(files)
    if not files:
        raise InvalidInput({"evidence": [_("Choose a file.")]})
    types = [check_upload(f, EVIDENCE_TYPES, field="evidence") for f in files]
    with acting_as(user, action="spam_reports.evidence"):
        return [
            attach_evidence(user, report, f, content_type=t)
            for f, t in zip(files, types, strict=True)
        ]


def submit_5656(user, *, reporter, message, received_at, origin=Origin.EXPORT_5656, **extra):
    """A short message sent to 5656 ("S <sender> <content>" or "V <sender> <content>") as a report
    from the subscriber ``reporter``."""
    channel, sender, content = senders.parse_5656(message)
    return submit_report(
        user,
        channel=channel,
        sender=sender,
        content=content,
        recipient=reporter,
        received_at=received_at,
        origin=origin,
        **extra,
    )


# --- Cases ---------------------------------------------------------------------------------------

# The states and moves are declared once in spam_reports.workflows (SPAM_CASE, SPAM_ASSIGNMENT,
# SPAM_INSPECTION; core.workflow); the functions below keep their signatures for the pages, the
# API, the demo and the tests, and add the business rules that are not a move (the official's
# permission first, the operator's kind, the deadline). ``expected_version`` is the version the
# user read: a step sent with an older one is refused (Conflict, 409) and writes nothing.


def _workflows():
    from spam_reports import workflows  # the declarations import this module's rules and hooks

    return workflows


def _perform(workflow, user, obj, action, **inputs):
    return getattr(_workflows(), workflow).perform(user, obj, action, **inputs)


def _locked(workflow, obj, expected_version=None):
    """``obj``'s row locked by its workflow, for a step that is not a move (correcting the
    operator, assigning, a follow-up); stale when the user read another version."""
    flow = getattr(_workflows(), workflow)
    locked = flow.lock(obj)
    if expected_version is not None and int(expected_version) != locked.version:
        raise Conflict(flow.stale_message % {"status": flow.state_label(locked)})
    return locked


def allowed_moves(user, case):
    """The statuses ``user`` may move ``case`` to now (SPAM_CASE's official moves)."""
    return _workflows().case_moves(user, case)


def case_moved(case, status, note=""):
    """What a move does to the case's reports (SPAM_CASE's hook, in the move's transaction):
    confirmed or blocked verifies them; not spam invalidates them and withdraws the pending
    assignment."""
    now = timezone.now()
    if status in (SpamCase.Status.CONFIRMED, SpamCase.Status.BLOCKED):
        case.reports.filter(status=SpamReport.Status.RECEIVED).update(
            status=SpamReport.Status.VERIFIED, status_changed_at=now
        )
    elif status == SpamCase.Status.NOT_SPAM:
        case.reports.exclude(status=SpamReport.Status.INVALID).update(
            status=SpamReport.Status.INVALID, invalid_reason=note[:255], status_changed_at=now
        )
        case.actions.filter(outcome="").delete()
        rules.refresh_cases([case.pk])


def change_status(user, case, status, note="", expected_version=None):
    """An official moves a case: under verification, confirmed spam, not spam, closed."""
    if not is_spam_official(user):
        raise PermissionDenied()
    action = _workflows().MOVES.get(status)
    if action is None:
        raise InvalidTransition()
    return _perform(
        "SPAM_CASE", user, case, action, expected_version=expected_version, note=note or ""
    )


def _save_case_operator(case, operator):
    case.operator = operator
    case.version += 1
    case.save(update_fields=["operator", "version", "updated_at"])
    case.reports.update(sender_operator=operator)


@transaction.atomic
def set_case_operator(user, case, operator, expected_version=None):
    """Correct the sender's operator (numbers move between networks); its reports follow."""
    if not is_spam_official(user):
        raise PermissionDenied()
    if operator is not None and operator.kind != Organization.Kind.OPERATOR:
        raise InvalidInput({"operator": [_("Choose a telecom operator.")]})
    case = _locked("SPAM_CASE", case, expected_version)
    with acting_as(user, action="spam_reports.case.operator"):
        _save_case_operator(case, operator)
    return case


@transaction.atomic
def mark_report(user, report, valid, reason=""):
    """An official marks one report verified or invalid (a wrong number, not advertising…)."""
    if not is_spam_official(user):
        raise PermissionDenied()
    if not valid and not reason.strip():
        raise InvalidInput({"reason": [_("Say why the report is invalid.")]})
    report = SpamReport.objects.select_for_update().get(pk=report.pk)
    with acting_as(user, action="spam_reports.report.mark"):
        report.status = SpamReport.Status.VERIFIED if valid else SpamReport.Status.INVALID
        report.invalid_reason = "" if valid else reason.strip()[:255]
        report.status_changed_at = timezone.now()
        report.save(update_fields=["status", "invalid_reason", "status_changed_at", "updated_at"])
    rules.refresh_cases([report.case_id])
    return report


# --- Assignments to operators ----------------------------------------------------------------------


def may_assign(user, case, pending=None):
    """An official may assign a case that is new, under verification or confirmed and has no
    assignment awaiting an answer (``pending``, when the caller has it, saves the query)."""
    if not is_spam_official(user) or case.status not in _workflows().ASSIGNABLE:
        return False
    if pending is None:
        return not case.actions.filter(outcome="").exists()
    return not pending


@transaction.atomic
def assign(
    user, case, operator=None, sla_hours=None, instructions="", now=None, expected_version=None
):
    """Assign a case to the sender's operator with a deadline (the SLA in hours)."""
    if not is_spam_official(user):
        raise PermissionDenied()
    case = _locked("SPAM_CASE", case, expected_version)
    if case.status not in _workflows().ASSIGNABLE:
        raise InvalidTransition(
            _("A case that is “%(status)s” cannot be assigned.")
            % {"status": case.get_status_display()}
        )
    operator = operator or case.operator
    if operator is None:
        raise InvalidInput({"operator": [_("Choose the sender's operator.")]})
    if operator.kind != Organization.Kind.OPERATOR:
        raise InvalidInput({"operator": [_("Choose a telecom operator.")]})
    sla_hours = settings.SPAM_HANDLING_SLA_HOURS if sla_hours in (None, "") else sla_hours
    try:
        sla_hours = int(sla_hours)
    except (TypeError, ValueError):
        sla_hours = 0
    if not 1 <= sla_hours <= 720:
        raise InvalidInput({"sla_hours": [_("Give between 1 and 720 hours.")]})
    if case.actions.filter(outcome="").exists():
        raise InvalidTransition(_("The case is already assigned and awaiting an answer."))
    now = now or timezone.now()
    with acting_as(user, action="spam_reports.assign"):
        if case.operator_id != operator.pk:
            _save_case_operator(case, operator)
        action = OperatorAction.objects.create(
            case=case,
            operator=operator,
            assigned_by=user,
            assigned_at=now,
            sla_hours=sla_hours,
            deadline=now + timedelta(hours=sla_hours),
            instructions=instructions.strip(),
        )
    deadline = timezone.localtime(action.deadline).strftime("%H:%M %d/%m/%Y")
    notify(
        staff_of(operator),
        _("Spam case %(sender)s assigned to you, answer by %(deadline)s")
        % {"sender": case.sender, "deadline": deadline},
        url=f"/spam/cases/{case.public_id}/",
    )
    return action


def allowed_answers(user, action):
    """The outcomes ``user`` may record on the assignment now (SPAM_ASSIGNMENT's moves)."""
    return _workflows().answers(user, action)


def respond(user, action, outcome, note="", now=None, expected_version=None):
    """The operator records what it did: verified, blocked the number, suspended the brandname, or
    declined (with a reason). Blocking moves the case to "blocked"."""
    if not can_answer(user, action):
        raise PermissionDenied()
    move = _workflows().ANSWERS.get(outcome)
    if move is None:
        if action.outcome:
            # Answered meanwhile: a second answer, whatever its outcome.
            raise InvalidTransition(_("This assignment has already been answered."))
        raise InvalidInput({"outcome": [_("Choose what was done.")]})
    return _perform(
        "SPAM_ASSIGNMENT",
        user,
        action,
        move,
        expected_version=expected_version,
        note=note or "",
        now=now,
    )


def notify_answer(action):
    """Tell the official who assigned the case what the operator answered (SPAM_ASSIGNMENT's
    hook)."""
    if action.assigned_by_id:
        notify(
            [action.assigned_by],
            _("%(operator)s answered on spam case %(sender)s: %(outcome)s")
            % {
                "operator": action.operator,
                "sender": action.case.sender,
                "outcome": action.get_outcome_display(),
            },
            url=f"/spam/cases/{action.case.public_id}/",
        )


@dataclass
class OverdueRun:
    flagged: int = 0
    inspections: int = 0


def flag_overdue(now=None):
    """Beat task: flag assignments past their deadline (once) and tell the operator and the
    official who assigned; the same for inspections past their deadline. Idempotent."""
    now = now or timezone.now()
    run = OverdueRun()
    with transaction.atomic():
        due = list(
            OperatorAction.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(outcome="", overdue_at__isnull=True, deadline__lt=now)
            .select_related("case", "operator", "assigned_by")
        )
        for action in due:
            action.overdue_at = now
            action.save(update_fields=["overdue_at", "updated_at"])
            recipients = list(staff_of(action.operator))
            if action.assigned_by:
                recipients.append(action.assigned_by)
            notify(
                recipients,
                _("Spam case %(sender)s is overdue at %(operator)s")
                % {"sender": action.case.sender, "operator": action.operator},
                url=f"/spam/cases/{action.case.public_id}/",
            )
        run.flagged = len(due)
    today = timezone.localdate(now)
    with transaction.atomic():
        late = list(
            SubscriberInspection.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status="open", deadline__lt=today, overdue_notified_on__isnull=True)
            .select_related("operator")
        )
        for inspection in late:
            inspection.overdue_notified_on = today
            inspection.save(update_fields=["overdue_notified_on", "updated_at"])
            notify(
                staff_of(inspection.operator),
                _("The actions required by the inspection of %(date)s are overdue")
                % {"date": inspection.inspected_on.strftime("%d/%m/%Y")},
                url=f"/spam/inspections/{inspection.public_id}/",
            )
        run.inspections = len(late)
    return run


# --- Do-not-call list --------------------------------------------------------------------------------


@transaction.atomic
def register_do_not_call(user, numbers, source="", registered_on=None):
    """Add numbers to the do-not-call list (normalised; already listed ones are left as they are)."""
    if not is_spam_official(user):
        raise PermissionDenied()
    values = sorted({senders.phone(n, field="number") for n in numbers if str(n).strip()})
    existing = set(
        DoNotCallEntry.objects.filter(number__in=values).values_list("number", flat=True)
    )
    DoNotCallEntry.objects.bulk_create(
        [
            DoNotCallEntry(
                number=v, source=source, registered_on=registered_on or timezone.localdate()
            )
            for v in values
            if v not in existing
        ]
    )
    return len(values) - len(existing)


# --- Subscriber-information inspections --------------------------------------------------------------

INSPECTION_FIELDS = (
    "operator",
    "inspecting_agency",
    "reference",
    "inspected_on",
    "sample_size",
    "nonconforming",
    "findings",
    "actions_required",
    "deadline",
)


@transaction.atomic
def save_inspection(user, inspection=None, **data):
    if not is_spam_official(user):
        raise PermissionDenied()
    inspection = inspection or SubscriberInspection()
    unknown = set(data) - set(INSPECTION_FIELDS)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(inspection, key, value)
    errors = {}
    if inspection.operator_id is None or inspection.operator.kind != Organization.Kind.OPERATOR:
        errors["operator"] = [_("Choose a telecom operator.")]
    if (
        inspection.inspecting_agency_id is None
        or inspection.inspecting_agency.kind != Organization.Kind.AGENCY
    ):
        errors["inspecting_agency"] = [_("Choose the inspecting agency.")]
    if not inspection.sample_size or inspection.sample_size < 1:
        errors["sample_size"] = [_("At least one subscription must be checked.")]
    elif (inspection.nonconforming or 0) > inspection.sample_size:
        errors["nonconforming"] = [_("More subscriptions not matching than were checked.")]
    if inspection.inspected_on and inspection.inspected_on > timezone.localdate():
        errors["inspected_on"] = [_("The inspection date cannot be in the future.")]
    if (
        inspection.deadline
        and inspection.inspected_on
        and inspection.deadline < inspection.inspected_on
    ):
        errors["deadline"] = [_("The deadline cannot be before the inspection.")]
    if errors:
        raise InvalidInput(errors)
    with acting_as(user, action="spam_reports.inspection"):
        inspection.save()
    return inspection


@transaction.atomic
def record_follow_up(
    user, inspection, *, recorded_on, note, remedied=0, close=False, expected_version=None
):
    """The operator (or an official) records what was corrected; ``close`` marks it remedied
    (SPAM_INSPECTION's "remedy"; a follow-up to a remedied inspection leaves it remedied)."""
    if not (is_spam_official(user) or acts_for(user, inspection.operator_id)):
        raise PermissionDenied()
    inspection = _locked("SPAM_INSPECTION", inspection, expected_version)
    if inspection.status in _workflows().INSPECTION_FINAL:
        raise InvalidTransition(_("The inspection is closed."))
    errors = {}
    if not (note or "").strip():
        errors["note"] = [_("Say what was done.")]
    if remedied is None or remedied < 0:
        errors["remedied"] = [_("Give a number of subscriptions, 0 or more.")]
    if recorded_on and recorded_on < inspection.inspected_on:
        errors["recorded_on"] = [_("The date cannot be before the inspection.")]
    if recorded_on and recorded_on > timezone.localdate():
        errors["recorded_on"] = [_("The date cannot be in the future.")]
    if errors:
        raise InvalidInput(errors)
    with acting_as(user, action="spam_reports.follow_up"):
        follow_up = InspectionFollowUp.objects.create(
            inspection=inspection,
            recorded_on=recorded_on,
            note=note.strip(),
            remedied=remedied,
            recorded_by=user,
        )
    if close and inspection.status == SubscriberInspection.Status.OPEN:
        _perform("SPAM_INSPECTION", user, inspection, "remedy")
    return follow_up


@transaction.atomic
def close_inspection(user, inspection, expected_version=None):
    """An official closes the inspection (SPAM_INSPECTION's "close"); closing a closed one again
    changes nothing."""
    if not is_spam_official(user):
        raise PermissionDenied()
    locked = _locked("SPAM_INSPECTION", inspection, expected_version)
    if locked.status in _workflows().INSPECTION_FINAL:
        return locked
    return _perform("SPAM_INSPECTION", user, locked, "close", expected_version=expected_version)


# --- Bulk import (a Celery job with a progress bar) -------------------------------------------------

GENERIC_COLUMNS = ("channel", "sender", "recipient", "content", "received_at")
OPTIONAL_COLUMNS = ("recipient_operator", "external_id")
EXPORT_5656_COLUMNS = ("reporter", "message", "received_at")
CHUNK = 5000
CHANNEL_ALIASES = {
    "sms": "sms",
    "tin nhắn": "sms",
    "tin nhan": "sms",
    "call": "call",
    "voice": "call",
    "cuộc gọi": "call",
    "cuoc goi": "call",
    "email": "email",
    "e-mail": "email",
    "thư điện tử": "email",
    "other": "other",
    "khác": "other",
    "khac": "other",
}


def can_import(user):
    return is_spam_official(user) or is_operator_user(user)


def start_import(user, uploaded, origin=Origin.OPERATOR_FEED):
    """Queue a CSV/XLSX import of reports; returns the ImportJob whose page shows the progress."""
    from core import imports

    if not can_import(user):
        raise PermissionDenied()
    if origin not in (Origin.OPERATOR_FEED, Origin.EXPORT_5656, Origin.OFFICIAL):
        raise InvalidInput({"origin": [_("Choose the kind of file.")]})
    name = (getattr(uploaded, "name", "") or "").lower()
    if not name.endswith((".csv", ".txt", ".xlsx")):
        raise InvalidInput({"file": [_("Upload a CSV or XLSX file.")]})
    if uploaded is not None and uploaded.size > settings.SPAM_IMPORT_MAX_BYTES:
        raise InvalidInput(
            {
                "file": [
                    _("The file is larger than %(mb)d MB.")
                    % {"mb": settings.SPAM_IMPORT_MAX_BYTES // (1024 * 1024)}
                ]
            }
        )
    return imports.start(user, "spam_reports.reports", uploaded, {"origin": origin})


def _rows(job):
    """(total, iterator of (row number, {column: text})) streamed from the job's file.

    A CSV is checked to be UTF-8 first (one streaming pass that also counts its rows), so a file in
    another encoding is refused before anything is stored."""
    handle = job.file.open("rb")
    head = handle.read(4)
    handle.seek(0)
    if head.startswith(b"PK"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(handle, read_only=True, data_only=True).active
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ImportRejected(
                _("The Excel file cannot be read: %(error)s") % {"error": exc}
            ) from exc
        total = max(0, (sheet.max_row or 1) - 1)
        values = sheet.iter_rows(values_only=True)
        return total, _numbered(values)
    if (job.original_name or "").lower().endswith(".xlsx"):
        raise ImportRejected(_("The file is named .xlsx but is not an Excel workbook."))
    decoder = io.IncrementalNewlineDecoder(None, translate=True)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    while block := handle.read(1 << 20):
        try:
            lines += decoder.decode(utf8.decode(block)).count("\n")
        except UnicodeDecodeError:
            raise ImportRejected(
                _("The file is not UTF-8 text: save it from Excel as “CSV UTF-8”.")
            ) from None
    handle.seek(0)
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    sample = text.read(4096)
    text.seek(0)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return max(0, lines - 1), _numbered(csv.reader(text, dialect))


def _numbered(values):
    return enumerate(values, start=1)


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header(first):
    header = [re.sub(r"\s+", "_", _cell(h).lower()) for h in first]
    if "message" in header and "sender" not in header:
        required, kind = EXPORT_5656_COLUMNS, "5656"
    else:
        required, kind = GENERIC_COLUMNS, "generic"
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRejected(
            _("Missing columns: %(cols)s. The file needs: %(need)s.")
            % {"cols": ", ".join(missing), "need": ", ".join(required)}
        )
    known = set(required) | set(OPTIONAL_COLUMNS)
    unknown = [h for h in header if h and h not in known]
    if unknown:
        raise ImportRejected(_("Unknown columns: %(cols)s.") % {"cols": ", ".join(unknown)})
    return header, kind


class _Reader:
    """Checks the rows of one import; remembers operators and what it has already seen."""

    def __init__(self, kind, now):
        self.kind = kind
        self.now = now
        self.operators = dict(
            Organization.objects.filter(kind=Organization.Kind.OPERATOR).values_list("code", "pk")
        )
        self.seen = {}
        self.prefix_operator = {}

    def operator_of(self, number):
        if not number.startswith("+84"):
            return None
        key = number[:7]
        if key not in self.prefix_operator:
            self.prefix_operator[key] = operator_for_number(number)
        return self.prefix_operator[key]

    def read(self, number, values):
        """(row tuple for COPY, None) or (None, [error dicts]); a duplicate is an error too."""
        if self.kind == "5656":
            try:
                channel, sender, content = senders.parse_5656(values.get("message", ""))
            except InvalidInput as exc:
                return None, _errors(number, exc.errors)
            recipient = values.get("reporter", "")
        else:
            channel = CHANNEL_ALIASES.get(values.get("channel", "").strip().lower(), "?")
            sender, recipient = values.get("sender", ""), values.get("recipient", "")
            content = values.get("content", "")
        try:
            r = read_report(
                channel, sender, recipient, content, values.get("received_at"), self.now
            )
        except InvalidInput as exc:
            return None, _errors(number, exc.errors)
        recipient_operator = values.get("recipient_operator", "").strip().upper()
        if recipient_operator and recipient_operator not in self.operators:
            return None, _errors(
                number,
                {
                    "recipient_operator": [
                        _("Unknown operator %(code)s.") % {"code": recipient_operator}
                    ]
                },
            )
        first = self.seen.get(r.fingerprint)
        if first is not None:
            return None, [
                {
                    "row": number,
                    "column": "",
                    "message": _("Duplicate of row %(row)d.") % {"row": first},
                    "duplicate": True,
                }
            ]
        self.seen[r.fingerprint] = number
        sender_operator = self.operator_of(r.sender) if r.sender_kind == "phone" else None
        recipient_operator_id = (
            self.operators[recipient_operator]
            if recipient_operator
            else self.operator_of(r.recipient)
        )
        return (
            number,
            r.channel,
            r.sender_raw,
            r.sender,
            r.sender_kind,
            sender_operator,
            r.recipient_raw,
            r.recipient,
            recipient_operator_id,
            r.content,
            r.received_at.isoformat(),
            str(r.fingerprint),
            values.get("external_id", "").strip()[:128],
        ), None


def _errors(number, errors):
    out = []
    for column, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            out.append({"row": number, "column": column, "message": str(message)})
    return out


_STAGE_COLUMNS = (
    "row_number",
    "channel",
    "sender_raw",
    "sender",
    "sender_kind",
    "sender_operator_id",
    "recipient_raw",
    "recipient",
    "recipient_operator_id",
    "content",
    "received_at",
    "fingerprint",
    "external_id",
)
_STAGE_SQL = """
    CREATE TEMPORARY TABLE spam_import (
        row_number int, channel text, sender_raw text, sender text, sender_kind text,
        sender_operator_id bigint, recipient_raw text, recipient text, recipient_operator_id bigint,
        content text, received_at timestamptz, fingerprint uuid, external_id text
    ) ON COMMIT DROP
"""
_CASES_SQL = """
    INSERT INTO spam_reports_spamcase (public_id, created_at, updated_at, sender, sender_kind,
        operator_id, channel, status, flags, report_count, note, version)
    SELECT DISTINCT ON (sender) gen_random_uuid(), now(), now(), sender, sender_kind,
        sender_operator_id, channel, 'new', '{}', 0, '', 1
    FROM spam_import ORDER BY sender, received_at
    ON CONFLICT (sender) WHERE status IN ('new', 'verifying', 'confirmed', 'blocked') DO NOTHING
"""
# Imported reports get time-ordered public ids (the time in ms, then random hex): new ids land at
# the right edge of the unique index instead of on a random page of a 10-million-row index.
_REPORTS_SQL = """
    INSERT INTO spam_reports_spamreport (public_id, source, external_id, case_id, channel,
        sender_raw, sender, sender_kind, sender_operator_id, recipient_raw, recipient,
        recipient_operator_id, content, received_at, origin, reporting_organization_id,
        reported_by_id, status, invalid_reason, fingerprint, created_at, updated_at)
    SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7'
            || substr(md5(random()::text || i.row_number), 1, 19))::uuid,
        CASE WHEN i.external_id <> '' THEN %(source)s ELSE '' END,
        COALESCE(i.external_id, ''), c.id, i.channel, i.sender_raw, i.sender, i.sender_kind,
        c.operator_id, COALESCE(i.recipient_raw, ''), COALESCE(i.recipient, ''),
        i.recipient_operator_id, COALESCE(i.content, ''), i.received_at,
        %(origin)s, %(org)s, %(user)s, 'received', '', i.fingerprint, now(), now()
    FROM spam_import i
    JOIN spam_reports_spamcase c
      ON c.sender = i.sender AND c.status IN ('new', 'verifying', 'confirmed', 'blocked')
    ORDER BY i.row_number
    ON CONFLICT DO NOTHING
    RETURNING id, fingerprint
"""


def _store(rows, job, user, origin):
    """COPY one chunk of checked rows, open the cases they need, insert the reports (duplicates of
    stored reports skipped) and flag the cases. Returns (stored, [duplicate error dicts])."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS pg_temp.spam_import")
        cursor.execute(_STAGE_SQL)
        cursor.copy_expert(
            f"COPY spam_import ({', '.join(_STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')",
            buffer,
        )
        cursor.execute(_CASES_SQL)
        cursor.execute(
            _REPORTS_SQL,
            {
                "source": user.organization.code if user and user.organization_id else "import",
                "origin": origin,
                "org": user.organization_id if user else None,
                "user": user.pk if user else None,
            },
        )
        stored = cursor.fetchall()
    kept = {str(fp) for _id, fp in stored}
    duplicates = [
        {
            "row": row[0],
            "column": "",
            "message": _("Already received (same sender, recipient, time and content)."),
            "duplicate": True,
        }
        for row in rows
        if row[11] not in kept
    ]
    rules.flag_reports([pk for pk, _fp in stored])
    return len(stored), duplicates


def import_reports(job, progress):
    """The Celery handler of a report import: stream the file in chunks of CHUNK rows, each chunk
    checked, stored and committed with the job's progress, so a retry after a crash resumes after
    the last committed chunk and stores nothing twice."""
    from core.imports import MAX_ERRORS
    from core.models import ImportJob

    user = job.created_by
    origin = job.options.get("origin", Origin.OPERATOR_FEED)
    total, rows = _rows(job)
    try:
        _n, first = next(rows)
    except StopIteration:
        raise ImportRejected(_("The file is empty.")) from None
    header, kind = _header(first)
    reader = _Reader(kind, timezone.now())
    resume_after = job.processed
    progress(job.processed, total=total)

    def flush(chunk, chunk_errors, processed):
        with transaction.atomic(), acting_as(user, action="spam_reports.import"):
            stored, duplicates = _store(chunk, job, user, origin) if chunk else (0, [])
            problems = chunk_errors + duplicates
            fresh = ImportJob.objects.select_for_update().get(pk=job.pk)
            fresh.processed = processed
            fresh.created_count += stored
            fresh.duplicate_count += sum(1 for e in problems if e.get("duplicate"))
            fresh.error_count += len({e["row"] for e in problems if not e.get("duplicate")})
            if len(fresh.errors) < MAX_ERRORS:
                fresh.errors = (fresh.errors + sorted(problems, key=lambda e: e["row"]))[
                    :MAX_ERRORS
                ]
            fresh.save(
                update_fields=[
                    "processed",
                    "created_count",
                    "duplicate_count",
                    "error_count",
                    "errors",
                    "updated_at",
                ]
            )

    chunk, chunk_errors, processed = [], [], 0
    for number, values in rows:
        if not any(str(v or "").strip() for v in values):
            continue
        processed += 1
        record = {h: _cell(v) for h, v in zip(header, values, strict=False) if h}
        row, errors = reader.read(number, record)
        if processed <= resume_after:
            continue  # committed by an earlier attempt; still read to know the duplicates
        if errors:
            chunk_errors += errors
        else:
            chunk.append(row)
        if len(chunk) + len(chunk_errors) >= CHUNK:
            flush(chunk, chunk_errors, processed)
            chunk, chunk_errors = [], []
    flush(chunk, chunk_errors, processed)
    job.refresh_from_db()
    return _("%(stored)d reports stored, %(dup)d duplicates, %(bad)d rows refused.") % {
        "stored": job.created_count,
        "dup": job.duplicate_count,
        "bad": job.error_count,
    }
