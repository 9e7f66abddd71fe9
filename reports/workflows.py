"""A report run's workflow, declared once (core.workflow): queued, running, ready for review,
approved, submitted to the recipient agency, or failed.

The people's moves are approving a run ready for review, submitting an approved run, computing a
ready or failed run again (``recompute``, the page's "Compute again") and retrying a failed one
(``retry``). The services (``reports.services.approve``, ``submit``, ``recompute``, ``retry``, which
keep their signatures) take them through ``REPORT_RUN.perform``; the HTML action view and the API's
steps call those services. Only officials (reports.services.is_report_official) move a run: the
recipient agency reads the runs submitted to it but moves none, so the workflow's scope is the
officials, and anyone else is refused (403) before the run's state is looked at, as before.

The system's moves: asking again for a failed run queues it again (``requeue``, from
``request_run``: the caller sends the task), the worker starts a queued run (or a run whose worker
crashed, ``start``) and finishes it (``finish``). A run *fails* by conditional UPDATEs in
reports.services (``compute``, ``fail_run``, ``sweep_stuck``), not through ``perform``: see there.

A refused move keeps the message each service gave before (“Only an approved report can be
submitted.” …), whatever the run's state.
"""

from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core import outbox
from core.exceptions import InvalidTransition
from core.notifications import notify, staff_of
from core.workflow import Transition, Workflow
from reports import services
from reports.models import ReportRun

S = ReportRun.Status

COMPUTE_TASK = "reports.tasks.compute_run"


# --- Who may take a step --------------------------------------------------------------------------


def official(user, run):
    """City and national officials (and administrators)."""
    return services.is_report_official(user)


def official_or_system(user, run):
    return user is None or services.is_report_official(user)


def system(user, run):
    """The Celery worker, acting without a user."""
    return user is None


# --- What a step sets and does --------------------------------------------------------------------


def prepare_approve(user, run, inputs):
    return {"approved_by": user, "approved_at": timezone.now()}


def prepare_submit(user, run, inputs):
    return {"submitted_at": timezone.now()}


def tell_recipient(user, run, move):
    """The recipient agency's staff are told (its API client can download the run)."""
    notify(
        staff_of(run.definition.recipient),
        _("Report received: “%(report)s”, %(period)s")
        % {"report": run.definition.name, "period": run.period_label},
        url=f"/reports/runs/{run.public_id}/",
    )


def prepare_queue(user, run, inputs):
    """A run queued again starts from nothing: no progress, no error."""
    return {"progress": 0, "error": ""}


def send_computation(user, run, move):
    """Kept in the outbox with the run: sent after the commit, or by the drain when the broker is
    back."""
    outbox.enqueue(COMPUTE_TASK, [run.pk])


def prepare_start(user, run, inputs):
    return {"attempts": run.attempts + 1, "started_at": timezone.now(), "progress": 0}


def prepare_finish(user, run, inputs):
    """The computed values and their files (``xlsx``, ``pdf``: bytes), written together."""
    name = f"{run.definition.code}-{run.period_key}"
    run.xlsx.save(f"{name}.xlsx", ContentFile(inputs["xlsx"]), save=False)
    run.pdf.save(f"{name}.pdf", ContentFile(inputs["pdf"]), save=False)
    return {
        "snapshot": inputs["snapshot"],
        "progress": 100,
        "error": "",
        "finished_at": timezone.now(),
    }


# --- The messages of a refused move ---------------------------------------------------------------

APPROVE_LABEL = pgettext_lazy("report", "Approve")
SUBMIT_LABEL = pgettext_lazy("report", "Submit")
RECOMPUTE_LABEL = gettext_lazy("Compute again")
RETRY_LABEL = gettext_lazy("Retry")

NOT_POSSIBLE = {
    APPROVE_LABEL: gettext_lazy("Only a report ready for review can be approved."),
    SUBMIT_LABEL: gettext_lazy("Only an approved report can be submitted."),
    RECOMPUTE_LABEL: gettext_lazy("An approved or submitted report is not computed again."),
    RETRY_LABEL: gettext_lazy("Only a failed report run can be retried."),
}


class _NotPossibleMessage:
    """Each move's own message when the run's state does not allow it (the engine gives the
    action's label), the engine's InvalidTransition message for any other."""

    def __mod__(self, values):
        asked = str(values["action"])
        for label, message in NOT_POSSIBLE.items():
            if str(label) == asked:
                return str(message)
        return str(InvalidTransition.default_message)


REPORT_RUN = Workflow(
    name="report_run",
    model=ReportRun,
    states=S,
    transitions=[
        Transition(
            "approve",
            (S.READY,),
            S.APPROVED,
            official,
            label=APPROVE_LABEL,
            prepare=prepare_approve,
        ),
        Transition(
            "submit",
            (S.APPROVED,),
            S.SUBMITTED,
            official,
            label=SUBMIT_LABEL,
            prepare=prepare_submit,
            after=(tell_recipient,),
        ),
        # Approved figures are not computed again: only a run ready for review or failed.
        Transition(
            "recompute",
            (S.READY, S.FAILED),
            S.QUEUED,
            official,
            label=RECOMPUTE_LABEL,
            prepare=prepare_queue,
            after=(send_computation,),
        ),
        Transition(
            "retry",
            (S.FAILED,),
            S.QUEUED,
            official,
            label=RETRY_LABEL,
            prepare=prepare_queue,
            after=(send_computation,),
        ),
        # Asking again for a failed run's period (request_run): the caller sends the task.
        Transition(
            "requeue",
            (S.FAILED,),
            S.QUEUED,
            official_or_system,
            prepare=prepare_queue,
            by_system=True,
        ),
        # The worker: a queued run starts; a running one whose worker crashed starts again.
        Transition(
            "start", (S.QUEUED, S.RUNNING), S.RUNNING, system, prepare=prepare_start, by_system=True
        ),
        Transition("finish", (S.RUNNING,), S.READY, system, prepare=prepare_finish, by_system=True),
    ],
    # Only officials act on a run; the recipient agency reads its submitted runs and moves none.
    scope=official,
    select_related=("definition__recipient",),
    lock_of=("self",),
    not_possible_message=_NotPossibleMessage(),
)
