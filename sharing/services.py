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

from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.fields import field_errors
from core.files import check_upload
from core.geo import check_location
from core.history import acting_as
from core.models import Organization
from core.notifications import city_officials, notify, staff_of
from core.permissions import acts_for, is_city_official, is_operator_user
from core.scoping import can_access
from core.workdays import add_working_days
from sharing.models import (
    InfrastructureAsset,
    RequestDocument,
    SharingEvent,
    SharingRequest,
    Tenancy,
)
from sync.services import check_source_key

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


def _asset_for_update(asset_id):
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
    locked = _asset_for_update(asset.pk)
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
    locked = _asset_for_update(tenancy.asset_id)
    with acting_as(user, action="sharing.end_tenancy"):
        locked.used_capacity -= tenancy.units
        locked.save(update_fields=["used_capacity", "updated_at"])
        tenancy.status = Tenancy.Status.ENDED
        tenancy.until = until or timezone.localdate()
        tenancy.save(update_fields=["status", "until", "updated_at"])
    return tenancy


# --- Sharing requests: the workflow ---------------------------------------------------------------------
# The states and moves are declared once in sharing.workflows (SHARING, core.workflow); the actions
# below keep their signatures for the demo, stations and the tests, and all go through its perform.

CLOSED = (R.ACCEPTED, R.WITHDRAWN, R.DECIDED)


def _perform(user, req, action, **inputs):
    from sharing.workflows import SHARING  # the declaration imports this module's rules and hooks

    return SHARING.perform(user, req, action, **inputs)


def allowed_actions(user, req):
    """The steps ``user`` may take on ``req`` now (its buttons and the API's ``allowed_actions``)."""
    from sharing.workflows import SHARING

    return SHARING.allowed_actions(user, req)


def _url(req):
    try:
        return reverse("sharing:request-detail", args=[req.pk])
    except NoReverseMatch:  # pages not installed (API-only deployments)
        return ""


def notify_change(user, req, note=""):
    """Both parties' staff (and, for a dispute, the officials) hear of the request's new status."""
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
    notify_change(user, req)
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


def accept_terms(inputs):
    """The terms an acceptance states (``clean_terms``); ``terms`` is the older name of
    ``contract_number`` and may not say something else."""
    terms = inputs.get("terms") or ""
    contract_number = inputs.get("contract_number") or ""
    if terms and contract_number and terms.strip() != contract_number.strip():
        raise InvalidInput({"terms": [_("Give the contract number once, as contract_number.")]})
    return clean_terms(
        inputs.get("location") or "",
        contract_number or terms,
        inputs.get("start_date"),
        inputs.get("end_date"),
    )


def grant_accepted(user, req, inputs):
    """An accepted request: the tenancy for the requested capacity on the stated terms."""
    return _grant(user, req, req.units, **accept_terms(inputs))


def grant_counter(user, req):
    """An accepted counter-offer: the tenancy on exactly the offered terms (no start date: today)."""
    return _grant(
        user,
        req,
        req.counter_units,
        location=req.counter_location,
        contract_number=req.counter_contract_number,
        start_date=req.counter_start_date or timezone.localdate(),
        end_date=req.counter_end_date,
    )


def grant_decided(user, req, inputs):
    """A decision to share: the tenancy for the units decided (the requested ones if none), under
    the decision's number."""
    if req.outcome == SharingRequest.Outcome.SHARE:
        _grant(user, req, inputs.get("units") or req.units, contract_number=req.decision_number)


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
    return _perform(
        user,
        req,
        "accept",
        expected_version=expected_version,
        asset=asset,
        terms=terms,
        note=note,
        location=location,
        contract_number=contract_number,
        start_date=start_date,
        end_date=end_date,
    )


def refuse(user, req, reason, expected_version=None):
    return _perform(user, req, "refuse", expected_version=expected_version, reason=reason)


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
    return _perform(
        user,
        req,
        "counter",
        expected_version=expected_version,
        units=units,
        terms=terms,
        asset=asset,
        location=location,
        contract_number=contract_number,
        start_date=start_date,
        end_date=end_date,
    )


def accept_counter(user, req, expected_version=None):
    """The requester accepts the counter-offer: the tenancy is granted on exactly the terms the
    owner offered (``counter_units``, ``counter_location``, ``counter_contract_number``,
    ``counter_start_date`` — empty: today —, ``counter_end_date``)."""
    return _perform(user, req, "accept_counter", expected_version=expected_version)


def withdraw(user, req, note="", expected_version=None):
    return _perform(user, req, "withdraw", expected_version=expected_version, note=note)


def escalate(user, req, note="", expected_version=None):
    """Either party takes a refusal, or an unanswered request past its deadline, to the regulator."""
    return _perform(user, req, "escalate", expected_version=expected_version, note=note)


def decide(
    user, req, outcome, decision_number, text="", units=None, asset=None, expected_version=None
):
    """An official records the binding decision of a dispute; "share" creates the tenancy."""
    return _perform(
        user,
        req,
        "decide",
        expected_version=expected_version,
        outcome=outcome,
        decision_number=decision_number,
        text=text,
        units=units,
        asset=asset,
    )


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


# --- The register's import (core.rowimport: each row through save_asset) ------------------------

ASSET_KIND = "sharing.assets"


def _asset_fields():
    from django.utils.translation import gettext_lazy

    from core.importmap import Field

    return (
        Field("code", gettext_lazy("code"), True, ("mã", "mã công trình", "asset id")),
        Field("name", gettext_lazy("name"), True, ("tên", "tên công trình")),
        Field("kind", gettext_lazy("kind"), True, ("loại", "loại công trình", "type")),
        Field("owner", gettext_lazy("owner"), False, ("chủ sở hữu", "doanh nghiệp")),
        Field("lon", gettext_lazy("longitude"), False, ("kinh độ", "long", "lng", "x")),
        Field("lat", gettext_lazy("latitude"), False, ("vĩ độ", "y")),
        Field("wkt", gettext_lazy("route (WKT)"), False, ("tuyến", "geometry", "route")),
        Field("commune", gettext_lazy("commune"), False, ("mã xã", "mã phường", "unit code")),
        Field("address", gettext_lazy("address"), False, ("địa chỉ",)),
        Field("capacity", gettext_lazy("capacity"), True, ("dung lượng", "số vị trí")),
        Field("condition", gettext_lazy("condition"), False, ("tình trạng kỹ thuật",)),
        Field("status", gettext_lazy("status"), False, ("trạng thái",)),
        Field("shareable", gettext_lazy("offered for sharing"), False, ("cho dùng chung",)),
    )


ASSET_IMPORT_FIELDS = _asset_fields()
YES = {"1", "x", "yes", "y", "true", "co", "có", "dung chung"}
NO = {"0", "no", "n", "false", "khong", "không"}


def asset_lookups(user=None):
    from core.importmap import Choices
    from core.rowimport import reference_lookups
    from sharing.models import AssetKind

    return {
        **reference_lookups(),
        "kind": Choices(AssetKind.choices),
        "condition": Choices(InfrastructureAsset.Condition.choices),
        "status": Choices(InfrastructureAsset.Status.choices),
        # A row without an owner is the importer's organisation's (an operator's own register).
        "user_organization": getattr(user, "organization", None),
    }


def asset_data(values, lookups):
    """(the asset a row updates — same owner and code — or None; the service's fields)."""
    from django.contrib.gis.geos import GEOSException, GEOSGeometry

    from core.rowimport import commune, organization, point
    from core.text import fold

    errors, data = {}, {}
    owner = organization(lookups, values.get("owner", ""), errors)
    data["owner"] = owner or lookups.get("user_organization")
    data["commune"] = commune(lookups, values.get("commune", ""), errors)
    try:
        if values.get("wkt"):
            data["geometry"] = GEOSGeometry(values["wkt"], srid=4326)
        else:
            data["geometry"] = point(values)
    except (TypeError, ValueError, GEOSException):
        errors["lon"] = [_("Give lon and lat (a point) or a WKT route.")]
    try:
        data["capacity"] = int(values.get("capacity", ""))
    except ValueError:
        errors["capacity"] = [_("Give a whole number.")]
    shareable = fold(values.get("shareable", ""))
    if shareable and shareable not in YES | NO:
        errors["shareable"] = [_("Write yes or no.")]
    data["shareable"] = shareable not in NO
    for name in ("kind", "condition", "status"):
        found = lookups[name].find(values.get(name))
        if found or name == "kind":
            data[name] = found
    data.update(code=values.get("code", ""), name=values.get("name", ""))
    data["address"] = values.get("address", "")
    if errors:
        raise InvalidInput(errors)
    asset = None
    if data["owner"] is not None:
        asset = InfrastructureAsset.objects.filter(owner=data["owner"], code=data["code"]).first()
    return asset, data


def may_import_assets(user):
    """Officials, and the staff of an organisation (its own assets)."""
    return bool(
        user.is_authenticated
        and user.role_names
        and (is_city_official(user) or user.organization_id)
    )


def start_asset_import(user, uploaded, enqueue=True, **options):
    from core import imports

    if not may_import_assets(user):
        raise PermissionDenied()
    options = {k: v for k, v in options.items() if v not in (None, "")}
    options.setdefault("mode", "atomic")
    return imports.start(user, ASSET_KIND, uploaded, options, enqueue=enqueue)
