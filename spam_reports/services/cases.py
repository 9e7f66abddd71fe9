"""Cases and operators' assignments: the moves (through spam_reports.workflows), correcting the
sender's operator, marking reports, assigning with a deadline, the operator's answer, and the beat
task flagging what is overdue."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import (
    InvalidInput,
    InvalidTransition,
    PermissionDenied,
)
from core.history import acting_as
from core.models import Organization
from core.notifications import notify, staff_of
from spam_reports import rules
from spam_reports.models import (
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)
from spam_reports.services.access import can_answer, is_spam_official

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
    case = _workflows().SPAM_CASE.lock(case, expected_version)
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
    case = _workflows().SPAM_CASE.lock(case, expected_version)
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
