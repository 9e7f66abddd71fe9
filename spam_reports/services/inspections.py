"""Subscriber-information inspections of operators, their follow-ups and closing."""

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
from core.permissions import acts_for
from spam_reports.models import (
    InspectionFollowUp,
    SubscriberInspection,
)
from spam_reports.services.access import is_spam_official
from spam_reports.services.cases import _perform, _workflows

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
    inspection = _workflows().SPAM_INSPECTION.lock(inspection, expected_version)
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
    locked = _workflows().SPAM_INSPECTION.lock(inspection, expected_version)
    if locked.status in _workflows().INSPECTION_FINAL:
        return locked
    return _perform("SPAM_INSPECTION", user, locked, "close", expected_version=expected_version)
