"""The agreements app's workflows, declared once (core.workflow): an agreement's life (draft, in
force, expired, renewed) and a task's states.

The HTML action views, the API's steps, the services (``agreements.services.bring_into_force``,
``set_task_status``, ``post_update``, ``record_meeting``, ``send_reminders``, which keep their
signatures) all move an agreement or a task through ``AGREEMENT.perform`` /
``AGREEMENT_TASK.perform``; the task page's buttons and the API's ``may_move`` come from the same
rules. The business rules they name (who is an official, who moves a task, the next occurrence of a
recurring task) live in agreements.services.

A task is moved to a status: the page and the API send the status it is to get, which is the name
of the action (``in_progress``, ``done``, ``dropped``, ``not_started``). Two of them have a second
outcome that depends on the task, not on the user, and is declared as its own move (never a button,
labelled as the status asked for): a recurring task marked done moves on to its next occurrence
(``done_next``) and a task resumed after its due date is overdue (``resume_late``);
``task_action`` picks the move. Posting a first update starts a task (``start``); the reminders
mark late tasks overdue (``mark_overdue``).
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements import services
from agreements.models import Agreement, Task
from core.exceptions import InvalidInput, InvalidTransition
from core.scoping import can_access
from core.workflow import Transition, Workflow

A = Agreement.Status
S = Task.Status


# --- Who may take a step --------------------------------------------------------------------------


def official(user, obj):
    """City and national officials (and administrators)."""
    return services.is_agreement_official(user)


def official_or_system(user, obj):
    return user is None or services.is_agreement_official(user)


def system(user, obj):
    """The daily reminders, acting without a user."""
    return user is None


def mover(user, task):
    """Officials and the staff of the responsible party."""
    return services.can_move(user, task)


def reporter(user, task):
    """Whoever may post an update on the task (a supporting party too)."""
    return services.can_update(user, task)


# --- An agreement ---------------------------------------------------------------------------------


def prepare_in_force(user, agreement, inputs):
    """A signed draft comes into force on its signing date (the one given, its own, or today)."""
    signed_on = inputs.get("signed_on") or agreement.signed_on or timezone.localdate()
    if signed_on > agreement.period_end:
        raise InvalidInput(
            {"signed_on": [_("The agreement cannot be signed after its period ends.")]}
        )
    return {"signed_on": signed_on}


def renew_predecessor(user, agreement, move):
    """The agreement a successor renews is renewed once the successor is in force."""
    if agreement.predecessor_id:
        predecessor = Agreement.objects.get(pk=agreement.predecessor_id)
        if predecessor.status != A.RENEWED:
            AGREEMENT.perform(user, predecessor, "renewed")


AGREEMENT = Workflow(
    name="agreement",
    model=Agreement,
    states=A,
    transitions=[
        Transition(
            "in_force",
            (A.DRAFT,),
            A.IN_FORCE,
            official,
            label=gettext_lazy("Bring into force"),
            prepare=prepare_in_force,
            after=(renew_predecessor,),
        ),
        # A successor coming into force renews its predecessor, whatever stage it had reached.
        Transition(
            "renewed",
            (A.DRAFT, A.IN_FORCE, A.EXPIRED),
            A.RENEWED,
            official_or_system,
            by_system=True,
        ),
        Transition("expire", (A.IN_FORCE,), A.EXPIRED, system, by_system=True),
    ],
    scope=can_access,
    final_states=(A.RENEWED,),
    not_possible_message=InvalidTransition.default_message,
)


# --- A task ---------------------------------------------------------------------------------------


def next_occurrence_in_period(task):
    """A recurring task's next occurrence when it falls within the agreement's period, else None."""
    if not (task.recurrence and task.due_date):
        return None
    following = services.next_occurrence(task.due_date, task.recurrence)
    return following if following <= task.area.agreement.period_end else None


def task_action(task, status, today=None):
    """The move that gives ``task`` (as it is now, locked) the ``status`` asked for."""
    today = today or timezone.localdate()
    if status == S.DONE and next_occurrence_in_period(task):
        return "done_next"
    if status == S.IN_PROGRESS and task.due_date and task.due_date < today:
        return "resume_late"
    return status


def prepare_done_next(user, task, inputs):
    following = next_occurrence_in_period(task)
    if following is None:
        raise InvalidTransition()
    return {"due_date": following, "reminded_on": None}


def prepare_start(user, task, inputs):
    return {"percent": inputs.get("percent") or 0}


class _TaskMoveMessage:
    """The app's message for a move a task's status does not allow (“A task that is “Done” cannot
    become “Dropped”.”), fed with the engine's ``status`` and ``action`` labels. An action that
    does not exist (a status no move leads to, such as overdue) is named by its status's label."""

    def __mod__(self, values):
        to = dict(S.choices).get(values["action"], values["action"])
        return _("A task that is “%(from)s” cannot become “%(to)s”.") % {
            "from": values["status"],
            "to": to,
        }


OPEN = (S.NOT_STARTED, S.IN_PROGRESS, S.OVERDUE)

AGREEMENT_TASK = Workflow(
    name="agreement_task",
    model=Task,
    states=S,
    transitions=[
        Transition(
            "in_progress",
            (S.NOT_STARTED, S.OVERDUE, S.DONE),
            S.IN_PROGRESS,
            mover,
            label=S.IN_PROGRESS.label,
        ),
        Transition(
            "resume_late",
            (S.NOT_STARTED, S.OVERDUE, S.DONE),
            S.OVERDUE,
            mover,
            label=S.IN_PROGRESS.label,
            by_system=True,
        ),
        Transition("done", OPEN, S.DONE, mover, label=S.DONE.label),
        Transition(
            "done_next",
            OPEN,
            S.IN_PROGRESS,
            mover,
            label=S.DONE.label,
            prepare=prepare_done_next,
            by_system=True,
        ),
        Transition("dropped", OPEN, S.DROPPED, mover, label=S.DROPPED.label),
        Transition(
            "not_started",
            (S.IN_PROGRESS, S.DROPPED),
            S.NOT_STARTED,
            mover,
            label=S.NOT_STARTED.label,
        ),
        # The first update on a task that has not started starts it (its percent set with it).
        Transition(
            "start",
            (S.NOT_STARTED,),
            S.IN_PROGRESS,
            reporter,
            label=S.IN_PROGRESS.label,
            prepare=prepare_start,
            by_system=True,
        ),
        Transition(
            "mark_overdue",
            (S.NOT_STARTED, S.IN_PROGRESS),
            S.OVERDUE,
            system,
            label=S.OVERDUE.label,
            by_system=True,
        ),
    ],
    scope=can_access,
    select_related=("area__agreement",),
    not_possible_message=_TaskMoveMessage(),
)
