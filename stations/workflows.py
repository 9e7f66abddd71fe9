"""The permit application's workflow, declared once (core.workflow).

The HTML action view, the API's steps, the services (``stations.services.submit`` …, which keep
their signatures for the demo, tasks and tests) and the deadline task all move an application
through ``PERMIT.perform``; its buttons and ``allowed_actions`` come from the same rules. The
business rules it names (the co-location check, the statutory clock, the grant of the station,
notifications) live in stations.services.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import InvalidInput
from core.permissions import is_city_official
from core.scoping import can_access
from core.workflow import Transition, Workflow
from stations import services
from stations.models import ApplicationEvent, PermitApplication, Station

S = PermitApplication.Status


# --- Who may take a step --------------------------------------------------------------------------


def applicant(user, app):
    """Staff (or an API client) of the applying operator."""
    return services.acts_for_operator(user, app.applicant_id)


def official(user, app):
    return is_city_official(user)


def system(user, app):
    """The deadline task, acting without a user."""
    return user is None


# --- What a step needs and sets -------------------------------------------------------------------


def _today(inputs):
    return inputs.get("today") or timezone.localdate()


def prepare_submit(user, app, inputs):
    """Numbers the application and stores the co-location check. When other operators' structures
    stand within the radius, the applicant must say why it will not share one."""
    candidates = services.colocation_candidates(app)
    structures = services.shareable_structures(app)
    given = inputs.get("sharing_justification")
    justification = (given if given is not None else app.sharing_justification).strip()
    if (candidates or structures) and not justification:
        raise InvalidInput(
            {
                "sharing_justification": [
                    _(
                        "%(n)d structures of other operators stand within %(r)d m: say why you will not share one."
                    )
                    % {"n": len(candidates) + len(structures), "r": settings.COLOCATION_RADIUS_M}
                ]
            }
        )
    if (
        Station.objects.filter(operator_id=app.applicant_id, code=app.station_code)
        .exclude(pk=app.station_id)
        .exists()
    ):
        raise InvalidInput({"station_code": [str(services.CODE_TAKEN)]})
    return {
        "number": app.number or f"HN-{_today(inputs).year}-{app.pk:06d}",
        "sharing_justification": justification,
        "colocation_candidates": [c.as_dict() for c in candidates],
    }


def prepare_approve(user, app, inputs):
    return {
        "decision_number": inputs["decision_number"].strip(),
        "decided_at": timezone.now(),
        "decided_by": user,
    }


def prepare_reject(user, app, inputs):
    return {
        "decision_reason": inputs["reasons"].strip(),
        "decided_at": timezone.now(),
        "decided_by": user,
    }


def prepare_deemed(user, app, inputs):
    return {"decided_at": timezone.now(), "overdue": True}


# --- Hooks: the clock before the save; the timeline, the grant and notices after it ---------------


def _note(move):
    return move.inputs.get("note") or move.inputs.get("reasons") or ""


def run_clock(user, app, move):
    services.run_clock(app, move.from_state, move.to_state, _today(move.inputs))


def grant(user, app, move):
    services.grant(user, app)


def notify(user, app, move):
    services.notify_change(user, app, move.to_state, _note(move))


def write_event(user, app, move):
    ApplicationEvent.objects.create(
        application=app,
        kind=ApplicationEvent.Kind.STATUS,
        from_status=move.from_state,
        to_status=move.to_state,
        actor=user,
        note=_note(move),
    )


OPEN = (S.SUBMITTED, S.RESUBMITTED, S.UNDER_REVIEW)

PERMIT = Workflow(
    name="permit",
    model=PermitApplication,
    states=S,
    transitions=[
        Transition(
            "submit",
            (S.DRAFT,),
            S.SUBMITTED,
            applicant,
            label=gettext_lazy("Submit"),
            prepare=prepare_submit,
        ),
        Transition(
            "resubmit", (S.RETURNED,), S.RESUBMITTED, applicant, label=gettext_lazy("Resubmit")
        ),
        Transition(
            "return",
            OPEN,
            S.RETURNED,
            official,
            label=gettext_lazy("Return for supplement"),
            required={"note": gettext_lazy("Say what is missing.")},
        ),
        Transition(
            "accept",
            (S.SUBMITTED, S.RESUBMITTED),
            S.UNDER_REVIEW,
            official,
            label=gettext_lazy("Accept as complete"),
        ),
        Transition(
            "approve",
            (S.UNDER_REVIEW,),
            S.APPROVED,
            official,
            label=gettext_lazy("Approve"),
            required={"decision_number": gettext_lazy("Enter the decision number.")},
            prepare=prepare_approve,
            after=(grant,),
        ),
        Transition(
            "reject",
            (S.UNDER_REVIEW,),
            S.REJECTED,
            official,
            label=gettext_lazy("Reject"),
            required={"reasons": gettext_lazy("Give the reasons for the rejection.")},
            prepare=prepare_reject,
        ),
        Transition(
            "withdraw",
            (S.DRAFT, S.SUBMITTED, S.RETURNED, S.RESUBMITTED, S.UNDER_REVIEW),
            S.WITHDRAWN,
            applicant,
            label=gettext_lazy("Withdraw"),
        ),
        Transition(
            "deem_approved",
            OPEN,
            S.DEEMED_APPROVED,
            system,
            prepare=prepare_deemed,
            after=(grant,),
            by_system=True,
        ),
    ],
    write_event=write_event,
    before_save=(run_clock,),
    after=(notify,),
    scope=can_access,
    final_states=services.DECIDED_STATUSES,
    select_related=("application_type",),
    stale_message=gettext_lazy(
        "Someone else changed this application first (it is now: %(status)s). Reload it and try again."
    ),
    not_possible_message=gettext_lazy(
        "“%(action)s” is not possible while the application is “%(status)s”."
    ),
    final_message=gettext_lazy("This application has already been decided: %(status)s."),
)
