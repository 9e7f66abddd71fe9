"""The spam app's case types, declared once (core.workflow): the spam case of an offending sender
(SPAM_CASE), the operator's assignment with its handling deadline (SPAM_ASSIGNMENT) and the
subscriber-information inspection (SPAM_INSPECTION).

The HTML pages, the API's steps and the services (``spam_reports.services.change_status``,
``respond``, ``record_follow_up``, ``close_inspection``, which keep their signatures for the demo,
the tests and other apps) move them through ``<WORKFLOW>.perform``; the buttons and the API's
``allowed_moves`` come from the same rules. The business rules the declarations name (who is an
official, what a move does to the case's reports, notices) live in spam_reports.services.

A case has no timeline table of its own: its history (pghistory, written in ``perform``'s
``acting_as``) and the dated note each move appends are its timeline.

Moves into a closed state (not spam, closed; an answered assignment) keep the app's error: an
``InvalidTransition`` (409) with its own wording, so ``final_states`` (which the engine answers with
``Conflict``) is left empty and the closed states are named in ``*_FINAL`` below.
"""

from datetime import timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from core.exceptions import InvalidInput
from core.history import acting_as
from core.permissions import acts_for
from core.scoping import can_access
from core.workflow import Transition, Workflow
from spam_reports import services
from spam_reports.models import OperatorAction, SpamCase, SubscriberInspection

S = SpamCase.Status
O = OperatorAction.Outcome  # noqa: E741
I = SubscriberInspection.Status  # noqa: E741


class _FromTo:
    """The engine's "not possible" message in the app's existing wording, whose msgid names the
    present state ``from`` and the wanted one ``to`` (the action's label is its target state); the
    msgid is marked with gettext_noop and translated when the message is made."""

    def __init__(self, msgid):
        self.msgid = msgid

    def __mod__(self, values):
        return _(self.msgid) % {"from": values["status"], "to": values["action"]}


# --- Who may take a step --------------------------------------------------------------------------


def official(user, obj):
    """City and national officials (and administrators)."""
    return services.is_spam_official(user)


def answering(user, case):
    """The system, an official, or staff of an operator the case was assigned to: an operator's
    answer confirms or blocks the case (it is never a button on the case)."""
    if user is None or services.is_spam_official(user):
        return True
    operators = case.actions.values_list("operator_id", flat=True).distinct()
    return any(acts_for(user, operator_id) for operator_id in operators)


def sees_case(user, case):
    """The case is in the user's scope, or the user answers an assignment of it (the case may have
    moved to another network since it was assigned)."""
    return can_access(user, case) or answering(user, case)


def answerer(user, action):
    """Staff of the assigned operator, or an official recording the answer for it."""
    return services.can_answer(user, action)


def inspector_or_operator(user, inspection):
    return services.is_spam_official(user) or acts_for(user, inspection.operator_id)


# --- The spam case --------------------------------------------------------------------------------

# A case that is one of these takes no more moves; new reports open a successor case.
CASE_FINAL = (S.NOT_SPAM, S.CLOSED)
# A move the case's present state does not allow.
CASE_NOT_POSSIBLE = gettext_noop("A case that is “%(from)s” cannot become “%(to)s”.")
# A case may be assigned to an operator while it is one of these (services.assign).
ASSIGNABLE = (S.NEW, S.VERIFYING, S.CONFIRMED)


def _note(move):
    return (move.inputs.get("note") or "").strip()


def prepare_case_move(target):
    """The dates a move sets (confirmed once, closed or found not spam) and the note, dated."""

    def prepare(user, case, inputs):
        now = inputs.get("now") or timezone.now()
        changes = {}
        if target == S.CONFIRMED and case.confirmed_at is None:
            changes["confirmed_at"] = now
        if target in CASE_FINAL:
            changes["closed_at"] = now
        note = (inputs.get("note") or "").strip()
        if note:
            stamp = timezone.localtime(now).strftime("%d/%m/%Y %H:%M")
            changes["note"] = (case.note + "\n" if case.note else "") + f"[{stamp}] {note}"
        return changes

    return prepare


def case_moved(user, case, move):
    """The case's reports follow its move (verified, or invalid when not spam)."""
    with acting_as(user, action=f"spam_case.{move.action}"):
        services.case_moved(case, move.to_state, _note(move))


def _case_move(action, sources, target, allowed=official, **options):
    return Transition(
        action,
        sources,
        target,
        allowed,
        label=S(target).label,
        prepare=prepare_case_move(target),
        **options,
    )


SPAM_CASE = Workflow(
    name="spam_case",
    model=SpamCase,
    states=S,
    transitions=[
        # An official's moves (the status form and the API's status step).
        _case_move("verify", (S.NEW,), S.VERIFYING),
        _case_move("confirm", (S.NEW, S.VERIFYING, S.BLOCKED), S.CONFIRMED),
        _case_move(
            "not_spam",
            (S.NEW, S.VERIFYING, S.CONFIRMED),
            S.NOT_SPAM,
            required={"note": gettext_lazy("Say why this is not spam.")},
        ),
        _case_move("close", (S.CONFIRMED, S.BLOCKED), S.CLOSED),
        # What an operator's answer does to the case (SPAM_ASSIGNMENT's hook), never a button.
        _case_move(
            "confirm_on_answer", (S.NEW, S.VERIFYING), S.CONFIRMED, answering, by_system=True
        ),
        _case_move("block", (S.CONFIRMED,), S.BLOCKED, answering, by_system=True),
    ],
    after=(case_moved,),
    scope=sees_case,
    not_possible_message=_FromTo(CASE_NOT_POSSIBLE),
)

# The status an official may choose -> the case's action that leads there.
MOVES = {
    SPAM_CASE.actions[action].target: action
    for action in ("verify", "confirm", "not_spam", "close")
}


def case_moves(user, case):
    """The statuses ``user`` may move ``case`` to now (the status form's choices)."""
    targets = {action: target for target, action in MOVES.items()}
    return [targets[a] for a in SPAM_CASE.allowed_actions(user, case) if a in targets]


# --- The operator's assignment ---------------------------------------------------------------------


class AssignmentState(models.TextChoices):
    """An assignment awaits the operator (no outcome) until it answers; the outcome is its state."""

    PENDING = "", gettext_lazy("Awaiting the operator")
    VERIFIED = O.VERIFIED.value, O.VERIFIED.label
    BLOCKED_NUMBER = O.BLOCKED_NUMBER.value, O.BLOCKED_NUMBER.label
    SUSPENDED_BRANDNAME = O.SUSPENDED_BRANDNAME.value, O.SUSPENDED_BRANDNAME.label
    DECLINED = O.DECLINED.value, O.DECLINED.label


def prepare_answer(user, action, inputs):
    now = inputs.get("now") or timezone.now()
    return {
        "response_note": (inputs.get("note") or "").strip(),
        # The answer comes after the assignment, even with a clock that disagrees.
        "responded_at": max(now, action.assigned_at + timedelta(microseconds=1)),
        "responded_by": user,
    }


def prepare_suspension(user, action, inputs):
    if action.case.sender_kind != "brandname":
        raise InvalidInput({"outcome": [_("The sender is not a brandname.")]})
    return prepare_answer(user, action, inputs)


def move_case(user, action, move):
    """Blocking confirms the case (when it was not yet) and blocks it; verifying confirms it."""
    case = action.case
    confirms = move.to_state in OperatorAction.BLOCKING or move.to_state == O.VERIFIED
    if confirms and case.status in (S.NEW, S.VERIFYING):
        case = SPAM_CASE.perform(user, case, "confirm_on_answer")
    if move.to_state in OperatorAction.BLOCKING and case.status == S.CONFIRMED:
        case = SPAM_CASE.perform(user, case, "block")
    action.case = case


def tell_assigner(user, action, move):
    services.notify_answer(action)


def _answer(action, outcome, prepare=prepare_answer, **options):
    return Transition(
        action,
        (AssignmentState.PENDING,),
        outcome,
        answerer,
        label=O(outcome).label,
        prepare=prepare,
        after=(move_case,),
        **options,
    )


SPAM_ASSIGNMENT = Workflow(
    name="spam_assignment",
    model=OperatorAction,
    states=AssignmentState,
    state_field="outcome",
    transitions=[
        _answer("verify", O.VERIFIED),
        _answer("block_number", O.BLOCKED_NUMBER),
        _answer("suspend_brandname", O.SUSPENDED_BRANDNAME, prepare=prepare_suspension),
        _answer(
            "decline",
            O.DECLINED,
            required={"note": gettext_lazy("Give the reason for declining.")},
        ),
    ],
    after=(tell_assigner,),
    scope=can_access,
    select_related=("case",),
    # Every answer starts from "awaiting": a move that is not possible is a second answer.
    not_possible_message=gettext_lazy("This assignment has already been answered."),
)

# The outcome an operator records -> the assignment's action that records it.
ANSWERS = {SPAM_ASSIGNMENT.actions[a].target: a for a in SPAM_ASSIGNMENT.actions}


def answers(user, action):
    """The outcomes ``user`` may record on ``action`` now (the answer form's choices)."""
    return [
        SPAM_ASSIGNMENT.actions[a].target for a in SPAM_ASSIGNMENT.allowed_actions(user, action)
    ]


# --- The subscriber-information inspection ----------------------------------------------------------

INSPECTION_FINAL = (I.CLOSED,)

SPAM_INSPECTION = Workflow(
    name="spam_inspection",
    model=SubscriberInspection,
    states=I,
    transitions=[
        # A follow-up saying all the required actions are done (services.record_follow_up).
        Transition(
            "remedy",
            (I.OPEN,),
            I.REMEDIED,
            inspector_or_operator,
            label=I.REMEDIED.label,
            by_system=True,
        ),
        Transition("close", (I.OPEN, I.REMEDIED), I.CLOSED, official, label=I.CLOSED.label),
    ],
    scope=can_access,
    not_possible_message=gettext_lazy("The inspection is closed."),
)
