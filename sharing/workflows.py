"""The sharing request's workflow, declared once (core.workflow).

The HTML action view, the API's steps and the services (``sharing.services.accept`` …, which keep
their signatures for the demo, stations and the tests) all move a request through
``SHARING.perform``; its buttons and ``allowed_actions`` come from the same rules. The business
rules it names (the tenancy terms and their checks, free capacity, the grant of the tenancy,
notifications) live in sharing.services.

Inputs carry the names the forms and the API use: ``note`` (accept, withdraw, escalate),
``reason`` (refuse), ``units``, ``terms`` (the counter-offer's free-text note) and the tenancy's
``location``, ``contract_number``, ``start_date``, ``end_date`` (accept, counter), ``asset`` (an
area request's asset), ``outcome``, ``decision_number``, ``text`` (decide). Marking a request
overdue is not a move (the status stays "submitted"): ``services.mark_overdue`` sets the flag and
``escalate`` from "submitted" waits for it.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import Conflict, InvalidInput
from core.permissions import acts_for, is_city_official
from core.scoping import can_access
from core.workflow import Transition, Workflow
from sharing import services
from sharing.models import SharingEvent, SharingRequest

R = SharingRequest.Status


# --- Who may take a step --------------------------------------------------------------------------


def requester(user, req):
    """Staff (or an API client) of the operator that asked."""
    return acts_for(user, req.requester_id)


def owner(user, req):
    """Staff (or an API client) of the asset's owner."""
    return acts_for(user, req.owner_id)


def either_party(user, req):
    return requester(user, req) or owner(user, req)


def official(user, req):
    return is_city_official(user)


def answered_or_overdue(req):
    """A request is escalated after a refusal, or unanswered once past its response deadline."""
    return req.status != R.SUBMITTED or req.overdue


# --- What a step needs and sets -------------------------------------------------------------------


def _text(inputs, name):
    return (inputs.get(name) or "").strip()


def prepare_accept(user, req, inputs):
    """The stated terms must pass their checks (``services.accept_terms``) before anything moves."""
    services.accept_terms(inputs)
    return {"asset": inputs.get("asset") or req.asset}


def prepare_refuse(user, req, inputs):
    return {"refusal_reason": _text(inputs, "reason")}


def prepare_counter(user, req, inputs):
    """At least one unit, no more than the asset has free, and terms that pass their checks; they
    are kept on the request as ``counter_*`` for ``accept_counter`` to grant."""
    units = inputs.get("units")
    if units is None or units < 1:
        raise InvalidInput({"units": [_("Offer at least one unit of capacity.")]})
    target = inputs.get("asset") or req.asset
    if target is not None and units > target.capacity - target.used_capacity:
        raise InvalidInput(
            {"units": [_("Only %(free)d are free.") % {"free": target.free_capacity}]}
        )
    stated = services.clean_terms(
        inputs.get("location") or "",
        inputs.get("contract_number") or "",
        inputs.get("start_date"),
        inputs.get("end_date"),
    )
    return {
        "counter_units": units,
        "counter_terms": _text(inputs, "terms"),
        "counter_location": stated["location"],
        "counter_contract_number": stated["contract_number"],
        "counter_start_date": stated["start_date"],
        "counter_end_date": stated["end_date"],
        "asset": target,
    }


def prepare_accept_counter(user, req, inputs):
    """A counter-offer without a start date starts the day it is accepted: not after its end."""
    today = timezone.localdate()
    if (
        req.counter_start_date is None
        and req.counter_end_date is not None
        and req.counter_end_date < today
    ):
        raise Conflict(
            _(
                "The counter-offer's end date (%(date)s) has passed: withdraw and ask the owner "
                "again."
            )
            % {"date": req.counter_end_date.strftime("%d/%m/%Y")}
        )
    return {}


def prepare_escalate(user, req, inputs):
    party = user.organization if user and user.organization_id else None
    return {"escalated_by": party}


def prepare_decide(user, req, inputs):
    if inputs.get("outcome") not in SharingRequest.Outcome.values:
        raise InvalidInput({"outcome": [_("Choose the decision.")]})
    return {
        "outcome": inputs["outcome"],
        "decision_number": _text(inputs, "decision_number"),
        "decision_text": inputs.get("text") or "",
        "decided_by": user,
        "decided_at": timezone.now(),
        "asset": inputs.get("asset") or req.asset,
    }


# --- Hooks: the tenancy a move grants, the timeline and the notices ---------------------------------

# The input a move's timeline note (and its notification's body) comes from.
NOTE_INPUT = {"refuse": "reason", "counter": "terms", "decide": "text"}


def _note(move):
    return move.inputs.get(NOTE_INPUT.get(move.action, "note")) or ""


def grant_accepted(user, req, move):
    services.grant_accepted(user, req, move.inputs)


def grant_counter(user, req, move):
    services.grant_counter(user, req)


def grant_decided(user, req, move):
    services.grant_decided(user, req, move.inputs)


def notify(user, req, move):
    services.notify_change(user, req, _note(move))


def write_event(user, req, move):
    SharingEvent.objects.create(
        request=req,
        kind=SharingEvent.Kind.STATUS,
        from_status=move.from_state,
        to_status=move.to_state,
        actor=user,
        note=_note(move),
    )


SHARING = Workflow(
    name="sharing",
    model=SharingRequest,
    states=R,
    transitions=[
        Transition(
            "accept",
            (R.SUBMITTED,),
            R.ACCEPTED,
            owner,
            label=gettext_lazy("Accept"),
            prepare=prepare_accept,
            after=(grant_accepted,),
        ),
        Transition(
            "refuse",
            (R.SUBMITTED,),
            R.REFUSED,
            owner,
            label=gettext_lazy("Refuse"),
            required={"reason": gettext_lazy("Give the reason for the refusal.")},
            prepare=prepare_refuse,
        ),
        Transition(
            "counter",
            (R.SUBMITTED,),
            R.COUNTERED,
            owner,
            label=gettext_lazy("Counter-offer"),
            prepare=prepare_counter,
        ),
        Transition(
            "accept_counter",
            (R.COUNTERED,),
            R.ACCEPTED,
            requester,
            label=gettext_lazy("Accept the counter-offer"),
            prepare=prepare_accept_counter,
            after=(grant_counter,),
        ),
        Transition(
            "withdraw",
            (R.SUBMITTED, R.COUNTERED),
            R.WITHDRAWN,
            requester,
            label=gettext_lazy("Withdraw the request"),
        ),
        Transition(
            "escalate",
            (R.REFUSED, R.SUBMITTED),
            R.DISPUTED,
            either_party,
            label=gettext_lazy("Escalate to the regulator"),
            prepare=prepare_escalate,
            when=answered_or_overdue,
        ),
        Transition(
            "decide",
            (R.DISPUTED,),
            R.DECIDED,
            official,
            label=gettext_lazy("Record the decision"),
            required={
                "outcome": gettext_lazy("Choose the decision."),
                "decision_number": gettext_lazy("Enter the decision number."),
            },
            prepare=prepare_decide,
            after=(grant_decided,),
        ),
    ],
    write_event=write_event,
    after=(notify,),
    scope=can_access,
    final_states=services.CLOSED,
    select_related=("asset",),
    lock_of=("self",),
    stale_message=gettext_lazy(
        "Someone else changed this request first (it is now: %(status)s). Reload it and try again."
    ),
    not_possible_message=gettext_lazy(
        "“%(action)s” is not possible while the request is “%(status)s”."
    ),
    final_message=gettext_lazy("This request is closed: %(status)s."),
)
