"""Every write of the sharing app: the asset register, tenancies and the sharing-request workflow.

Services take plain arguments and the acting user, check permission and state, write inside one
transaction and return the object; pages, API, tasks and other apps (stations' co-location check)
call them.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.fields import field_errors
from core.files import check_upload
from core.geo import check_location
from core.history import acting_as
from core.models import Organization
from core.notifications import city_officials, notify, staff_of
from core.permissions import acts_for, is_city_official, is_operator_user
from core.scoping import can_access
from core.sync.services import check_source_key
from core.workdays import add_working_days
from sharing.models import (
    InfrastructureAsset,
    RequestDocument,
    SharingEvent,
    SharingRequest,
    Tenancy,
)

R = SharingRequest.Status

# --- Who may do what -------------------------------------------------------------------------------


# The role rules are core's (one place); these names are kept for this app's callers.
is_official = is_city_official


def can_edit_asset(user, owner):
    return is_official(user) or acts_for(user, owner)


# --- Assets ----------------------------------------------------------------------------------------

ASSET_FIELDS = (
    "code",
    "name",
    "kind",
    "owner",
    "geometry",
    "commune",
    "address",
    "capacity",
    "condition",
    "status",
    "shareable",
    "source",
    "external_id",
)


def _apply(obj, data, fields):
    unknown = set(data) - set(fields)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(obj, key, value)


def _full_clean(obj, exclude=()):
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


def _check_geometry(asset):
    from sharing.models import LINE_KINDS

    geometry = asset.geometry
    if geometry is None:
        raise InvalidInput({"geometry": [_("A location or route is required.")]})
    expected = "LineString" if asset.kind in LINE_KINDS else "Point"
    if geometry.geom_type != expected:
        raise InvalidInput(
            {
                "geometry": [
                    _("A %(kind)s is drawn as a %(type)s.")
                    % {"kind": asset.get_kind_display(), "type": expected}
                ]
            }
        )
    if expected == "LineString" and (geometry.num_points < 2 or geometry.length == 0):
        raise InvalidInput({"geometry": [_("A route needs at least two different points.")]})
    anchor = geometry if expected == "Point" else geometry.interpolate_normalized(0.5)
    anchor.srid = 4326
    if expected == "LineString":
        from core.geo import within_vietnam

        if not within_vietnam(geometry):
            raise InvalidInput({"geometry": [_("The route leaves Vietnam.")]})
    return check_location(anchor, asset.commune if asset.commune_id else None, field="geometry")


def _route_length_m(geometry):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_Length(ST_GeomFromEWKB(%s)::geography)", [bytes(geometry.ewkb)])
        return cursor.fetchone()[0]


@transaction.atomic
def save_asset(user, asset=None, **data):
    """Create or update an asset. Owners (operators, or any organisation's staff) edit their own;
    officials edit any. Capacity cannot drop below what tenancies use."""
    asset = asset or InfrastructureAsset()
    system = user is None  # another app's service registering an asset (e.g. a built duct)
    if (
        asset.pk
        and not system
        and not (can_edit_asset(user, asset.owner_id) and can_access_asset(user, asset))
    ):
        raise PermissionDenied()
    _apply(asset, data, ASSET_FIELDS)
    if asset.owner_id is None:
        raise InvalidInput({"owner": [_("Choose the owner.")]})
    if not system and not can_edit_asset(user, asset.owner_id):
        raise PermissionDenied()
    check_source_key(user, asset)
    asset.commune = _check_geometry(asset)
    asset.length_m = (
        _route_length_m(asset.geometry) if asset.geometry.geom_type == "LineString" else None
    )
    _full_clean(asset, exclude=["owner", "commune", "geometry"])
    if asset.capacity is not None and asset.capacity < asset.used_capacity:
        raise InvalidInput(
            {
                "capacity": [
                    _("Tenancies already use %(n)d; the capacity cannot be lower.")
                    % {"n": asset.used_capacity}
                ]
            }
        )
    try:
        with transaction.atomic(), acting_as(user):
            asset.save()
    except IntegrityError as exc:
        if "asset_owner_code_uniq" in str(exc):
            raise InvalidInput(
                {"code": [_("This owner already has an asset with this code.")]}
            ) from exc
        if "source_external_id_uniq" in str(exc):
            raise InvalidInput(
                {"external_id": [_("An asset with this source and external id exists.")]}
            ) from exc
        raise
    return asset


@transaction.atomic
def delete_asset(user, asset):
    """Remove an asset from the register (its owner or an official); not one with tenancies or
    sharing requests (end or settle them first)."""
    from django.db.models import ProtectedError

    if not (can_edit_asset(user, asset.owner_id) and can_access_asset(user, asset)):
        raise PermissionDenied()
    try:
        with transaction.atomic(), acting_as(user, action="sharing.delete_asset"):
            asset.delete()
    except ProtectedError as exc:
        raise Conflict(
            _("Tenancies or sharing requests refer to this asset; it cannot be deleted.")
        ) from exc


def can_access_asset(user, asset):
    """Everyone with a portal role sees the register (sharing needs it); writes are checked apart."""
    return bool(user and user.is_authenticated and user.role_names)


# --- Tenancies ----------------------------------------------------------------------------------------


def _lock_asset(asset_id):
    return InfrastructureAsset.objects.select_for_update().get(pk=asset_id)


def _allocate(asset, units):
    """Take ``units`` of the (locked) asset's free capacity, or refuse."""
    if units is None or units < 1:
        raise InvalidInput({"units": [_("At least one unit of capacity.")]})
    if asset.status in (
        InfrastructureAsset.Status.DECOMMISSIONED,
        InfrastructureAsset.Status.OUT_OF_SERVICE,
    ):
        raise InvalidInput({"asset": [_("The asset is not in service.")]})
    free = asset.capacity - asset.used_capacity
    if units > free:
        raise InvalidInput(
            {
                "units": [
                    _("Only %(free)d of %(capacity)d %(unit)s are free.")
                    % {"free": free, "capacity": asset.capacity, "unit": asset.capacity_unit}
                ]
            }
        )
    asset.used_capacity += units
    asset.save(update_fields=["used_capacity", "updated_at"])


@transaction.atomic
def create_tenancy(
    user,
    asset,
    operator,
    units,
    since=None,
    occupies="",
    terms_reference="",
    request=None,
    until=None,
):
    """Record an operator's use of an asset (the owner or an official records it): ``occupies``
    where on the asset, ``terms_reference`` the contract number, from ``since`` (today if None)
    to ``until`` (None: open-ended)."""
    if request is None and not can_edit_asset(user, asset.owner_id):
        raise PermissionDenied()
    if operator is None or operator.kind != Organization.Kind.OPERATOR:
        raise InvalidInput({"operator": [_("Choose a telecom operator.")]})
    since = since or timezone.localdate()
    errors = field_errors(
        Tenancy,
        occupies=occupies or None,
        terms_reference=terms_reference or None,
        since=since,
        until=until,
    )
    if until is not None and not errors.keys() & {"since", "until"} and until < since:
        errors["until"] = [_("The end date cannot be before the start date.")]
    if errors:
        raise InvalidInput(errors)
    locked = _lock_asset(asset.pk)
    with acting_as(user, action="sharing.tenancy"):
        _allocate(locked, units)
        tenancy = Tenancy.objects.create(
            asset=locked,
            operator=operator,
            units=units,
            since=since,
            until=until,
            occupies=occupies,
            terms_reference=terms_reference,
            request=request,
        )
    return tenancy


@transaction.atomic
def end_tenancy(user, tenancy, until=None):
    if not can_edit_asset(user, tenancy.asset.owner_id) and not acts_for(user, tenancy.operator_id):
        raise PermissionDenied()
    tenancy = Tenancy.objects.select_for_update().get(pk=tenancy.pk)
    if tenancy.status == Tenancy.Status.ENDED:
        raise InvalidTransition(_("The tenancy has already ended."))
    locked = _lock_asset(tenancy.asset_id)
    with acting_as(user, action="sharing.end_tenancy"):
        locked.used_capacity -= tenancy.units
        locked.save(update_fields=["used_capacity", "updated_at"])
        tenancy.status = Tenancy.Status.ENDED
        tenancy.until = until or timezone.localdate()
        tenancy.save(update_fields=["status", "until", "updated_at"])
    return tenancy


# --- Sharing requests: the workflow ---------------------------------------------------------------------

REQUESTER, OWNER, EITHER, OFFICIAL = "requester", "owner", "either", "official"

# (from status, action) -> (to status, who)
TRANSITIONS = {
    (R.SUBMITTED, "accept"): (R.ACCEPTED, OWNER),
    (R.SUBMITTED, "refuse"): (R.REFUSED, OWNER),
    (R.SUBMITTED, "counter"): (R.COUNTERED, OWNER),
    (R.SUBMITTED, "withdraw"): (R.WITHDRAWN, REQUESTER),
    (R.COUNTERED, "accept_counter"): (R.ACCEPTED, REQUESTER),
    (R.COUNTERED, "withdraw"): (R.WITHDRAWN, REQUESTER),
    (R.REFUSED, "escalate"): (R.DISPUTED, EITHER),
    (R.SUBMITTED, "escalate"): (R.DISPUTED, EITHER),  # only once overdue (checked below)
    (R.DISPUTED, "decide"): (R.DECIDED, OFFICIAL),
}
ACTION_LABELS = {
    "accept": gettext_lazy("Accept"),
    "refuse": gettext_lazy("Refuse"),
    "counter": gettext_lazy("Counter-offer"),
    "withdraw": gettext_lazy("Withdraw the request"),
    "accept_counter": gettext_lazy("Accept the counter-offer"),
    "escalate": gettext_lazy("Escalate to the regulator"),
    "decide": gettext_lazy("Record the decision"),
}
CLOSED = (R.ACCEPTED, R.WITHDRAWN, R.DECIDED)


def _may(user, req, who):
    if who == REQUESTER:
        return acts_for(user, req.requester_id)
    if who == OWNER:
        return acts_for(user, req.owner_id)
    if who == EITHER:
        return acts_for(user, req.requester_id) or acts_for(user, req.owner_id)
    return is_official(user)


def allowed_actions(user, req):
    actions = []
    for (status, action), (_to, who) in TRANSITIONS.items():
        if status != req.status or not _may(user, req, who) or action in actions:
            continue
        if action == "escalate" and status == R.SUBMITTED and not req.overdue:
            continue
        actions.append(action)
    return actions


def _url(req):
    try:
        return reverse("sharing:request-detail", args=[req.pk])
    except NoReverseMatch:  # pages not installed (API-only deployments)
        return ""


def _lock(req, expected_version=None):
    locked = (
        SharingRequest.objects.select_for_update(of=("self",))
        .select_related("asset")
        .get(pk=req.pk)
    )
    if expected_version is not None and int(expected_version) != locked.version:
        raise Conflict(
            _(
                "Someone else changed this request first (it is now: %(status)s). Reload it and try again."
            )
            % {"status": locked.get_status_display()}
        )
    return locked


@transaction.atomic
def _transition(user, req, action, *, note="", expected_version=None, **changes):
    if user is not None and not can_access(user, req):
        raise PermissionDenied()
    locked = _lock(req, expected_version)
    target = TRANSITIONS.get((locked.status, action))
    if target is None or (
        action == "escalate" and locked.status == R.SUBMITTED and not locked.overdue
    ):
        if locked.status in CLOSED:
            raise Conflict(
                _("This request is closed: %(status)s.") % {"status": locked.get_status_display()}
            )
        raise InvalidTransition(
            _("“%(action)s” is not possible while the request is “%(status)s”.")
            % {"action": ACTION_LABELS.get(action, action), "status": locked.get_status_display()}
        )
    to_status, who = target
    if not _may(user, locked, who):
        raise PermissionDenied()
    from_status = locked.status
    for key, value in changes.items():
        setattr(locked, key, value)
    locked.status = to_status
    locked.version += 1
    with acting_as(user, action=f"sharing.{action}"):
        locked.save()
        SharingEvent.objects.create(
            request=locked,
            kind=SharingEvent.Kind.STATUS,
            from_status=from_status,
            to_status=to_status,
            actor=user,
            note=note,
        )
    _notify(user, locked, note)
    return locked


def _notify(user, req, note=""):
    title = _("Sharing request %(number)s: %(status)s") % {
        "number": req.number,
        "status": req.get_status_display(),
    }
    recipients = list(staff_of(req.requester)) + list(staff_of(req.owner))
    if req.status in (R.DISPUTED,):
        recipients += list(city_officials())
    notify(
        [u for u in recipients if user is None or u.pk != user.pk], title, url=_url(req), body=note
    )


def response_deadline(day):
    return add_working_days(day, settings.SHARING_RESPONSE_WORKING_DAYS)


@transaction.atomic
def create_request(
    user, *, units, needs, asset=None, owner=None, point=None, radius_m=None, today=None
):
    """An operator asks to share ``asset`` (or anything of ``owner``'s within ``radius_m`` of
    ``point``). The owner must answer by the response deadline (working days)."""
    if not is_operator_user(user):
        raise PermissionDenied(_("Only an operator's staff can ask to share."))
    requester = user.organization
    if asset is not None:
        owner = asset.owner
        if not asset.shareable or asset.status != InfrastructureAsset.Status.ACTIVE:
            raise InvalidInput({"asset": [_("This asset is not offered for sharing.")]})
    elif point is None or not radius_m or owner is None:
        raise InvalidInput(
            {"asset": [_("Choose an asset, or an owner with a point and a radius.")]}
        )
    if owner.pk == requester.pk:
        raise InvalidInput({"asset": [_("An operator cannot ask to share its own asset.")]})
    if not (needs or "").strip():
        raise InvalidInput({"needs": [_("Say what you need.")]})
    if point is not None:
        check_location(point, field="point")
    today = today or timezone.localdate()
    req = SharingRequest(
        requester=requester,
        owner=owner,
        asset=asset,
        point=point,
        radius_m=radius_m,
        units=units,
        needs=needs.strip(),
        created_by=user,
        submitted_on=today,
        response_due=response_deadline(today),
    )
    _full_clean(req, exclude=["requester", "owner", "asset", "created_by", "point"])
    if asset is not None and units > asset.capacity - asset.used_capacity:
        raise InvalidInput(
            {
                "units": [
                    _("Only %(free)d of %(capacity)d %(unit)s are free.")
                    % {
                        "free": asset.free_capacity,
                        "capacity": asset.capacity,
                        "unit": asset.capacity_unit,
                    }
                ]
            }
        )
    with acting_as(user, action="sharing.request"):
        req.save()
        req.number = f"CS-{today.year}-{req.pk:06d}"
        req.save(update_fields=["number", "search_text"])
        SharingEvent.objects.create(
            request=req, kind=SharingEvent.Kind.STATUS, to_status=R.SUBMITTED, actor=user
        )
    _notify(user, req)
    return req


# --- The terms of the tenancy a request grants ------------------------------------------------------
#
# The owner states them in fields when it accepts or counter-offers; the tenancy takes exactly these
# (never the request's ``needs`` or a counter-offer's free-text note). Input names -> Tenancy fields:
TERMS_FIELDS = {
    "location": "occupies",
    "contract_number": "terms_reference",
    "start_date": "since",
    "end_date": "until",
}


def stated_terms(data):
    """The terms out of a form's or serializer's cleaned data (the same names in both)."""
    return {name: data.get(name) for name in TERMS_FIELDS}


def clean_terms(location="", contract_number="", start_date=None, end_date=None, *, today=None):
    """The tenancy terms an owner states, checked with the Tenancy fields' own rules (lengths,
    hidden characters, dates within 1900–2100) and the end not before the start (the start, or
    ``today`` when the start is left empty). Errors name the inputs: ``location``,
    ``contract_number``, ``start_date``, ``end_date``. Returns the cleaned terms as a dict."""
    terms = {
        "location": (location or "").strip(),
        "contract_number": (contract_number or "").strip(),
        "start_date": start_date,
        "end_date": end_date,
    }
    errors = {}
    for name, value in terms.items():
        if value in ("", None):
            continue
        found = field_errors(Tenancy, **{TERMS_FIELDS[name]: value})
        if found:
            errors[name] = found[TERMS_FIELDS[name]]
    start = start_date or today or timezone.localdate()
    if end_date is not None and not errors.keys() & {"start_date", "end_date"} and end_date < start:
        errors["end_date"] = [
            _("The end date cannot be before the start date (%(date)s).")
            % {"date": start.strftime("%d/%m/%Y")}
            if start_date
            else _("The end date cannot be before today (%(date)s): the tenancy starts then.")
            % {"date": start.strftime("%d/%m/%Y")}
        ]
    if errors:
        raise InvalidInput(errors)
    return terms


def _grant(
    user, req, units, asset=None, *, location="", contract_number="", start_date=None, end_date=None
):
    """The tenancy a request grants, on the stated terms: no contract number -> the request's
    number; no start date -> today; no end date -> open-ended; no location -> empty."""
    asset = asset or req.asset
    if asset is None:
        raise InvalidInput({"asset": [_("Name the asset the requester may use.")]})
    if asset.owner_id != req.owner_id:
        raise InvalidInput({"asset": [_("The asset belongs to another owner.")]})
    return create_tenancy(
        user,
        asset,
        req.requester,
        units,
        since=start_date,
        until=end_date,
        occupies=location,
        terms_reference=contract_number or (req.number or ""),
        request=req,
    )


@transaction.atomic
def accept(
    user,
    req,
    asset=None,
    terms="",
    note="",
    expected_version=None,
    *,
    location="",
    contract_number="",
    start_date=None,
    end_date=None,
):
    """The owner accepts: a tenancy is created for the requested capacity (refused if not free) on
    the terms it states (``clean_terms``): where on the asset, the contract number (the request's
    number if none), the start date (today if none) and the end date (none: open-ended).
    ``terms`` is the older name of ``contract_number``, kept for existing callers."""
    if terms and contract_number and terms.strip() != contract_number.strip():
        raise InvalidInput({"terms": [_("Give the contract number once, as contract_number.")]})
    stated = clean_terms(location, contract_number or terms, start_date, end_date)
    done = _transition(
        user, req, "accept", note=note, expected_version=expected_version, asset=asset or req.asset
    )
    _grant(user, done, done.units, **stated)
    return done


def refuse(user, req, reason, expected_version=None):
    if not (reason or "").strip():
        raise InvalidInput({"reason": [_("Give the reason for the refusal.")]})
    return _transition(
        user,
        req,
        "refuse",
        note=reason,
        expected_version=expected_version,
        refusal_reason=reason.strip(),
    )


@transaction.atomic
def counter_offer(
    user,
    req,
    units,
    terms="",
    asset=None,
    expected_version=None,
    *,
    location="",
    contract_number="",
    start_date=None,
    end_date=None,
):
    """The owner offers other terms: ``units`` (less capacity), and the tenancy's terms in fields
    (``clean_terms``; a start date left empty means the day the requester accepts). They are kept
    on the request and ``accept_counter`` grants exactly them. ``terms`` is a free-text note to the
    requester (price, conditions): it stays a note and never becomes a tenancy field."""
    current = _lock(req, expected_version)
    if current.status in CLOSED:
        raise Conflict(
            _("This request is closed: %(status)s.") % {"status": current.get_status_display()}
        )
    if units is None or units < 1:
        raise InvalidInput({"units": [_("Offer at least one unit of capacity.")]})
    target = asset or current.asset
    if target is not None and units > target.capacity - target.used_capacity:
        raise InvalidInput(
            {"units": [_("Only %(free)d are free.") % {"free": target.free_capacity}]}
        )
    stated = clean_terms(location, contract_number, start_date, end_date)
    return _transition(
        user,
        current,
        "counter",
        note=terms,
        expected_version=expected_version,
        counter_units=units,
        counter_terms=(terms or "").strip(),
        counter_location=stated["location"],
        counter_contract_number=stated["contract_number"],
        counter_start_date=stated["start_date"],
        counter_end_date=stated["end_date"],
        asset=target,
    )


@transaction.atomic
def accept_counter(user, req, expected_version=None):
    """The requester accepts the counter-offer: the tenancy is granted on exactly the terms the
    owner offered (``counter_units``, ``counter_location``, ``counter_contract_number``,
    ``counter_start_date`` — empty: today —, ``counter_end_date``)."""
    done = _transition(user, req, "accept_counter", expected_version=expected_version)
    today = timezone.localdate()
    if (
        done.counter_start_date is None
        and done.counter_end_date is not None
        and done.counter_end_date < today
    ):
        raise Conflict(
            _(
                "The counter-offer's end date (%(date)s) has passed: withdraw and ask the owner "
                "again."
            )
            % {"date": done.counter_end_date.strftime("%d/%m/%Y")}
        )
    _grant(
        user,
        done,
        done.counter_units,
        location=done.counter_location,
        contract_number=done.counter_contract_number,
        start_date=done.counter_start_date or today,
        end_date=done.counter_end_date,
    )
    return done


def withdraw(user, req, note="", expected_version=None):
    return _transition(user, req, "withdraw", note=note, expected_version=expected_version)


def escalate(user, req, note="", expected_version=None):
    """Either party takes a refusal, or an unanswered request past its deadline, to the regulator."""
    party = user.organization if user and user.organization_id else None
    return _transition(
        user, req, "escalate", note=note, expected_version=expected_version, escalated_by=party
    )


@transaction.atomic
def decide(
    user, req, outcome, decision_number, text="", units=None, asset=None, expected_version=None
):
    """An official records the binding decision of a dispute; "share" creates the tenancy."""
    errors = {}
    if outcome not in SharingRequest.Outcome.values:
        errors["outcome"] = [_("Choose the decision.")]
    if not (decision_number or "").strip():
        errors["decision_number"] = [_("Enter the decision number.")]
    if errors:
        raise InvalidInput(errors)
    done = _transition(
        user,
        req,
        "decide",
        note=text,
        expected_version=expected_version,
        outcome=outcome,
        decision_number=decision_number.strip(),
        decision_text=text,
        decided_by=user,
        decided_at=timezone.now(),
        asset=asset or req.asset,
    )
    if outcome == SharingRequest.Outcome.SHARE:
        _grant(user, done, units or done.units, contract_number=decision_number.strip())
    return done


@transaction.atomic
def post_message(user, req, text):
    if not can_access(user, req):
        raise PermissionDenied()
    if not (text or "").strip():
        raise InvalidInput({"text": [_("Write a message.")]})
    event = SharingEvent.objects.create(
        request=req, kind=SharingEvent.Kind.MESSAGE, actor=user, note=text.strip()
    )
    others = [
        u for u in list(staff_of(req.requester)) + list(staff_of(req.owner)) if u.pk != user.pk
    ]
    notify(
        others,
        _("New message on sharing request %(number)s") % {"number": req.number},
        url=_url(req),
        body=text,
    )
    return event


@transaction.atomic
def upload_document(user, req, uploaded):
    if not (acts_for(user, req.requester_id) or acts_for(user, req.owner_id)):
        raise PermissionDenied()
    content_type = check_upload(uploaded)
    document = RequestDocument(
        request=req,
        original_name=uploaded.name[:255],
        content_type=content_type,
        size=uploaded.size,
        uploaded_by=user,
    )
    document.file.save(uploaded.name, uploaded, save=False)
    document.save()
    SharingEvent.objects.create(
        request=req, kind=SharingEvent.Kind.DOCUMENT, actor=user, note=uploaded.name
    )
    return document


# --- Deadlines (Celery beat, daily) -----------------------------------------------------------------------


@dataclass
class DeadlineRun:
    overdue: int = 0


def mark_overdue(today=None):
    """Requests the owner has not answered by the response deadline become overdue (once)."""
    today = today or timezone.localdate()
    result = DeadlineRun()
    late = SharingRequest.objects.filter(status=R.SUBMITTED, overdue=False, response_due__lt=today)
    for req in late.select_related("requester", "owner"):
        with transaction.atomic(), acting_as(None, action="sharing.overdue"):
            updated = SharingRequest.objects.filter(pk=req.pk, overdue=False).update(
                overdue=True, updated_at=timezone.now()
            )
            if not updated:
                continue
            req.overdue = True
            SharingEvent.objects.create(
                request=req,
                kind=SharingEvent.Kind.OVERDUE,
                note=_("No answer by %(date)s: the requester may escalate to the regulator.")
                % {"date": req.response_due.strftime("%d/%m/%Y")},
            )
            notify(
                list(staff_of(req.requester)) + list(staff_of(req.owner)),
                _("Sharing request %(number)s is overdue") % {"number": req.number},
                url=_url(req),
            )
            result.overdue += 1
    return result
