"""The station register: who may write it, the station rules (validate_stations, for a batch;
the single save is a batch of one) and the single create, update and delete."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import Conflict, InvalidInput, PermissionDenied
from core.history import acting_as
from core.permissions import acts_for, is_city_official
from core.scoping import can_access, ensure_in_scope
from stations.models import (
    Station,
)
from sync.services import check_source_key

# --- Who may do what -------------------------------------------------------------------------------


def acts_for_operator(user, operator):
    """Operator staff, or an operator's API client, acting for its own operator."""
    return acts_for(user, operator) and user.organization.kind == "operator"


def can_apply(user):
    """Operator staff (or an operator's API client) may apply for permits, for their own operator."""
    return bool(user and user.is_authenticated and user.organization_id) and acts_for_operator(
        user, user.organization_id
    )


def can_create_stations(user):
    return is_city_official(user) or can_apply(user)


def can_edit_station(user, operator):
    return is_city_official(user) or acts_for_operator(user, operator)


# --- Stations ------------------------------------------------------------------------------------

STATION_FIELDS = (
    "operator",
    "code",
    "name",
    "address",
    "commune",
    "location",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "status",
    "permit_reference",
    "commissioned_on",
    "source",
    "external_id",
)


def _apply(obj, data, fields):
    unknown = set(data) - set(fields)
    if unknown:
        raise InvalidInput({f: [_("Unknown field.")] for f in sorted(unknown)})
    for key, value in data.items():
        setattr(obj, key, value)


def _validate_structure(obj):
    """Model validation (heights, choices, technologies) as field errors."""
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean(
            exclude=["commune", "operator", "applicant", "created_by", "application_type"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


def commissioning_error(status, commissioned_on, today=None):
    """The one rule on a station's commissioning date, for every door (forms, API, bulk, import):
    a station in operation was commissioned on a day that has come. None when the date is fine.
    ``today``: the local date, when a batch has it already."""
    if (
        status == Station.Status.OPERATING
        and commissioned_on is not None
        and commissioned_on > (today or timezone.localdate())
    ):
        return _("An operating station cannot have been commissioned in the future.")
    return None


CODE_TAKEN = gettext_lazy("This operator already has a station with this code.")
EXTERNAL_ID_TAKEN = gettext_lazy("A station with this source and external id exists.")

# Key by key through the unique index (LATERAL … LIMIT 1: index probes, not a hash join).
_CODES_SQL = """
    SELECT s.id, s.operator_id, s.code
    FROM unnest(%s::bigint[], %s::text[]) AS k(operator_id, code)
    CROSS JOIN LATERAL (
        SELECT s.id, s.operator_id, s.code FROM stations_station s
        WHERE s.operator_id = k.operator_id AND s.code = k.code LIMIT 1
    ) s
"""


def validate_stations(user, rows, *, errors=None, unique=True, editable=None):
    """The station rules, checked for a batch in a few queries whatever its size: the form and the
    API's single save (a batch of one), the CSV import and the sync API's bulk upsert.

    ``rows`` are dicts (None: skipped) with
      - ``operator``: the Organization chosen (left out: the stored one stays, not checked again),
        which must be a telecom operator the user may edit;
      - ``status`` and ``commissioned_on`` (commissioning_error);
      - ``lon``, ``lat`` (WGS84), ``commune`` (the unit id given, or None) and ``locate`` (default
        True; False: the point and its commune are as stored and not checked again): the point is
        in Vietnam, in one of Hanoi's communes, in the commune given (core.geo.check_locations);
        ``commune_id`` (the stored commune) is kept when no boundaries are loaded and none is given;
      - ``operator_id``, ``code`` and ``id`` (the row's own station, or None): with ``unique``, one
        code per operator, within the batch and against the stored stations.
    Sets ``row["commune_id"]`` of each located row. Returns one {field: [message, …]} per row;
    ``errors`` (one dict per row) is extended in place when given, and a row already in error gets
    its own fields checked but is neither located nor compared. A denied operator is reported as
    {"operator": [PermissionDenied.default_message]}.
    """
    from core.geo import check_locations
    from core.selectors import boundaries_loaded

    errors = errors if errors is not None else [{} for _row in rows]
    if editable is None:
        cache = {}

        def editable(operator_id):
            if operator_id not in cache:
                cache[operator_id] = can_edit_station(user, operator_id)
            return cache[operator_id]

    def fail(i, name, message):
        errors[i].setdefault(name, []).append(str(message))

    today = timezone.localdate()
    for i, row in enumerate(rows):
        if row is None:
            continue
        error = commissioning_error(row.get("status"), row.get("commissioned_on"), today)
        if error:
            fail(i, "commissioned_on", error)
        if "operator" in row:
            operator = row["operator"]
            if operator is None or operator.kind != "operator":
                fail(i, "operator", _("Choose a telecom operator."))
            elif not editable(operator.pk):
                fail(i, "operator", PermissionDenied.default_message)

    to_locate = [
        i
        for i, row in enumerate(rows)
        if row is not None and not errors[i] and row.get("locate", True)
    ]
    fallback = any(
        rows[i].get("commune") is None and rows[i].get("commune_id") is not None for i in to_locate
    )
    keep_stored = fallback and not boundaries_loaded()
    items = []
    for i in to_locate:
        row = rows[i]
        given = row.get("commune")
        if given is None and keep_stored:
            given = row.get("commune_id")
        items.append((row.get("lon"), row.get("lat"), given))
    for i, (commune_id, row_errors) in zip(to_locate, check_locations(items), strict=True):
        for name, messages in row_errors.items():
            for message in messages:
                fail(i, name, message)
        if not row_errors:
            rows[i]["commune_id"] = commune_id

    if unique:
        candidates = [i for i, row in enumerate(rows) if row is not None and not errors[i]]
        taken = {}
        if candidates:
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(
                    _CODES_SQL,
                    [
                        [rows[i]["operator_id"] for i in candidates],
                        [rows[i]["code"] for i in candidates],
                    ],
                )
                taken = {(op, code): pk for pk, op, code in cursor}
        seen = {}
        for i in candidates:
            row = rows[i]
            key = (row["operator_id"], row["code"])
            if key in seen:
                fail(
                    i,
                    "code",
                    _("Record %(index)d of this batch has this code.") % {"index": seen[key]},
                )
            elif key in taken and taken[key] != row.get("id"):
                fail(i, "code", CODE_TAKEN)
            seen.setdefault(key, i)
    return errors


def _station_row(station):
    """The rules' view of a station about to be saved (validate_stations)."""
    point = station.location
    if point is not None and point.srid not in (None, 4326):
        point = point.transform(4326, clone=True)
    return {
        "operator": station.operator if station.operator_id else None,
        "status": station.status,
        "commissioned_on": station.commissioned_on,
        "lon": point.x if point is not None else None,
        "lat": point.y if point is not None else None,
        "commune": station.commune_id,
        "operator_id": station.operator_id,
        "code": station.code,
        "id": station.pk,
    }


def _save_station(user, station, data):
    _apply(station, data, STATION_FIELDS)
    row = _station_row(station)
    (errors,) = validate_stations(user, [row])
    denied = errors.get("operator") == [str(PermissionDenied.default_message)]
    if denied:
        del errors["operator"]
    if errors:
        raise InvalidInput(errors)
    if denied:
        raise PermissionDenied()
    check_source_key(user, station)
    station.commune_id = row["commune_id"]
    _validate_structure(station)
    try:
        with transaction.atomic():
            station.save()
            ensure_in_scope(user, station)
    except IntegrityError as exc:  # a concurrent writer took the code or the key meanwhile
        if "station_operator_code_uniq" in str(exc):
            raise InvalidInput({"code": [str(CODE_TAKEN)]}) from exc
        if "station_source_external_id_uniq" in str(exc):
            raise InvalidInput({"external_id": [str(EXTERNAL_ID_TAKEN)]}) from exc
        raise
    return station


@transaction.atomic
def create_station(user, **data):
    with acting_as(user):
        return _save_station(user, Station(), data)


@transaction.atomic
def update_station(user, station, **data):
    if not can_edit_station(user, station.operator) or not can_access(user, station):
        raise PermissionDenied()
    with acting_as(user):
        return _save_station(user, station, data)


@transaction.atomic
def delete_station(user, station):
    """Remove a station from the register (its operator's staff or clients, or city officials).
    The change feed keeps a tombstone; a station a permit application still names cannot go."""
    from django.db.models import ProtectedError

    if not can_edit_station(user, station.operator) or not can_access(user, station):
        raise PermissionDenied()
    try:
        with transaction.atomic(), acting_as(user, action="stations.delete"):
            station.delete()
    except ProtectedError as exc:
        raise Conflict(
            _("Permit applications refer to this station; it cannot be deleted.")
        ) from exc
