"""The sync API's bulk upsert of stations by (source, external_id): the station rules checked for
the batch (validate_stations), the changed rows written with one COPY and one upsert."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.exceptions import PermissionDenied
from core.history import acting_as
from stations.models import (
    Station,
)
from stations.services.register import (
    CODE_TAKEN,
    EXTERNAL_ID_TAKEN,
    STATION_FIELDS,
    can_edit_station,
    validate_stations,
)

# --- Bulk upsert by (source, external_id): the sync API's batches --------------------------------------

BULK_CREATED, BULK_UPDATED, BULK_UNCHANGED, BULK_ERROR, BULK_NOT_APPLIED = (
    "created",
    "updated",
    "unchanged",
    "error",
    "not_applied",
)
# The columns a bulk upsert writes (and compares), in COPY order after the batch position ``n``.
_BULK_COLUMNS = (
    "source",
    "external_id",
    "operator_id",
    "code",
    "name",
    "address",
    "commune_id",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "building_height_m",
    "technologies",
    "land_category",
    "status",
    "permit_reference",
    "commissioned_on",
)
_BULK_REQUIRED = (
    "operator",
    "code",
    "name",
    "location",
    "structure_type",
    "structure_height_m",
    "land_category",
)
_BULK_DEFAULTS = {
    "address": "",
    "commune_id": None,
    "building_height_m": None,
    "technologies": [],
    "status": Station.Status.PLANNED,
    "permit_reference": "",
    "commissioned_on": None,
}
# Key by key through the unique indexes (LATERAL … LIMIT 1: a nested loop of index probes; a plain
# join of 1,000 keys is planned as a hash join over the whole table), locked in key order, the
# same order for every writer.
_BULK_EXISTING_SQL = """
    SELECT s.* FROM (
        SELECT DISTINCT source, external_id FROM unnest(%s::text[], %s::text[]) AS k(source, external_id)
        WHERE external_id <> '' ORDER BY source, external_id
    ) k
    CROSS JOIN LATERAL (
        SELECT s.id, s.public_id, s.source, s.external_id, s.operator_id, s.code, s.name,
               s.address, s.commune_id, ST_X(s.location), ST_Y(s.location), s.structure_type,
               s.structure_height_m, s.building_height_m, s.technologies, s.land_category,
               s.status, s.permit_reference, s.commissioned_on
        FROM stations_station s
        WHERE s.source = k.source AND s.external_id = k.external_id AND s.external_id <> ''
        LIMIT 1 FOR UPDATE
    ) s
"""
_BULK_TABLE_SQL = """
    CREATE TEMPORARY TABLE IF NOT EXISTS station_bulk (
        n int, source text, external_id text, operator_id bigint, code text, name text,
        address text, commune_id bigint, lon float8, lat float8, structure_type text,
        structure_height_m numeric, building_height_m numeric, technologies varchar(2)[],
        land_category text, status text, permit_reference text, commissioned_on date,
        search_text text
    ) ON COMMIT DELETE ROWS;
    TRUNCATE station_bulk;
"""
_BULK_UPSERT_SQL = """
    INSERT INTO stations_station AS s (
        public_id, created_at, updated_at, source, external_id, operator_id, code, name, address,
        commune_id, location, structure_type, structure_height_m, building_height_m, technologies,
        land_category, status, permit_reference, commissioned_on, search_text)
    SELECT gen_random_uuid(), now(), now(), source, external_id, operator_id, code, name, address,
           commune_id, ST_SetSRID(ST_MakePoint(lon, lat), 4326), structure_type,
           structure_height_m, building_height_m, technologies, land_category, status,
           permit_reference, commissioned_on, search_text
    FROM station_bulk ORDER BY source, external_id  -- one order for all writers: no deadlock
    ON CONFLICT (source, external_id) WHERE external_id <> '' DO UPDATE SET
        updated_at = now(), operator_id = EXCLUDED.operator_id, code = EXCLUDED.code,
        name = EXCLUDED.name, address = EXCLUDED.address, commune_id = EXCLUDED.commune_id,
        location = EXCLUDED.location, structure_type = EXCLUDED.structure_type,
        structure_height_m = EXCLUDED.structure_height_m,
        building_height_m = EXCLUDED.building_height_m, technologies = EXCLUDED.technologies,
        land_category = EXCLUDED.land_category, status = EXCLUDED.status,
        permit_reference = EXCLUDED.permit_reference, commissioned_on = EXCLUDED.commissioned_on,
        search_text = EXCLUDED.search_text
    RETURNING s.source, s.external_id, s.public_id, (s.xmax = 0) AS inserted
"""
_POINT_TOLERANCE = 1e-9  # degrees: a point sent again as stored is unchanged


def _copy_text(value):
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, (list, tuple)):
        return "{" + ",".join(str(v) for v in value) + "}"
    if isinstance(value, float):
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _same_row(stored, final):
    for name in _BULK_COLUMNS:
        old, new = stored[name], final[name]
        if name in ("lon", "lat"):
            if abs(old - new) > _POINT_TOLERANCE:
                return False
        elif name == "technologies":
            if sorted(old or []) != sorted(new or []):
                return False
        elif old != new:
            return False
    return True


def _write_bulk_rows(rows):
    """COPY ``rows`` [(n, final), …] into a temporary table, then one INSERT … ON CONFLICT on the
    (source, external_id) key. Returns {(source, external_id): (public_id, inserted)}."""
    import io

    from django.db import connection

    from core.text import fold

    buffer = io.StringIO()
    for n, final in rows:
        values = [n, *(final[c] for c in _BULK_COLUMNS)]
        values.append(fold(" ".join([final["code"], final["name"], final["address"]])))
        buffer.write("\t".join(_copy_text(v) for v in values))
        buffer.write("\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(_BULK_TABLE_SQL)
        cursor.copy_expert(
            f"COPY station_bulk (n, {', '.join(_BULK_COLUMNS)}, search_text) FROM STDIN",
            buffer,
        )
        cursor.execute(_BULK_UPSERT_SQL)
        return {(source, ext): (pid, inserted) for source, ext, pid, inserted in cursor}


def _write_bulk_rows_retrying(rows, attempts=3):
    """_write_bulk_rows in a savepoint, tried again when PostgreSQL broke a deadlock with another
    writer by failing this one (the savepoint's rollback released its locks: the other goes on)."""
    from django.db import OperationalError

    for attempt in range(attempts):
        try:
            with transaction.atomic():
                return _write_bulk_rows(rows)
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != "40P01" or attempt == attempts - 1:
                raise
    return {}  # pragma: no cover - the loop returns or raises


def _bulk_db_error(exc):
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if constraint == "station_operator_code_uniq":
        return {"code": [str(CODE_TAKEN)]}
    if constraint == "station_height_plausible":
        return {"structure_height_m": [_("A height over 300 m is not plausible.")]}
    return {"non_field_errors": [_("The database refused this station.")]}


def bulk_upsert_stations(user, records, atomic=True):
    """Create or update many stations at once, each keyed by (source, external_id): the sync API's
    bulk endpoint (up to 1,000 records a call).

    ``records`` are the API's validated data (as create_station takes them: ``operator`` and
    ``commune`` records, ``location`` a Point …) with ``source`` and ``external_id``; a field left
    out keeps its stored value (or the default, for a new station). The same rules as
    create_station/update_station apply (operator the user may edit, point inside Vietnam and in a
    Hanoi commune, the commune given must contain it, heights, one code per operator), checked in
    batches: a few queries per call whatever its size. A record whose every field already holds
    the value sent is ``unchanged`` and not written. Changed rows are written with one COPY and one
    INSERT … ON CONFLICT, inside ``acting_as(user)`` so the history names the user (and API client).

    Returns one outcome per record, in order: {"status": created | updated | unchanged | error |
    not_applied, "id": public id or None, "errors": {field: [message, …]}}. With ``atomic``, any
    error writes nothing (the others are ``not_applied``); otherwise the valid ones are written.
    """
    from django.core.exceptions import ValidationError
    from django.db import connection

    from core.scoping import sees_everything
    from stations.models import BUILDING_HEIGHT_VALIDATORS, HEIGHT_VALIDATORS

    count = len(records)
    errors = [{} for _i in range(count)]
    statuses = [None] * count
    public_ids = [None] * count

    def fail(i, name, message):
        errors[i].setdefault(name, []).append(str(message))

    def outcomes():
        return [
            {
                "status": BULK_ERROR if errors[i] else statuses[i],
                "id": None if errors[i] else public_ids[i],
                "errors": errors[i],
            }
            for i in range(count)
        ]

    with transaction.atomic(), acting_as(user, action="stations.bulk"):
        # The stored rows of the batch's keys, locked until the end of the transaction.
        with connection.cursor() as cursor:
            cursor.execute(
                _BULK_EXISTING_SQL,
                [[r.get("source") for r in records], [r.get("external_id") for r in records]],
            )
            columns = ["id", "public_id", *_BULK_COLUMNS]
            stored = {(row[2], row[3]): dict(zip(columns, row, strict=True)) for row in cursor}
        may_edit = {}

        def editable(operator_id):
            if operator_id not in may_edit:
                may_edit[operator_id] = can_edit_station(user, operator_id)
            return may_edit[operator_id]

        finals = [None] * count
        checks = [None] * count
        for i, data in enumerate(records):
            unknown = set(data) - set(STATION_FIELDS)
            for name in sorted(unknown):
                fail(i, name, _("Unknown field."))
            for name in ("source", "external_id"):
                if not data.get(name):
                    fail(i, name, _("This field is required."))
            if errors[i]:
                continue
            old = stored.get((data.get("source"), data.get("external_id")))
            if old is not None and not editable(old["operator_id"]):
                if sees_everything(user):
                    fail(i, "non_field_errors", PermissionDenied.default_message)
                else:  # not in the user's scope: as if it did not exist, but its key is taken
                    fail(i, "external_id", EXTERNAL_ID_TAKEN)
                continue
            if old is None:
                for name in _BULK_REQUIRED:
                    if data.get(name) in (None, ""):
                        fail(i, name, _("This field is required."))
            if errors[i]:
                continue
            final = dict(old) if old is not None else {**_BULK_DEFAULTS}
            given = None
            for name, value in data.items():
                if name == "operator":
                    final["operator_id"] = value.pk
                elif name == "commune":
                    given = value.pk if value is not None else None
                elif name == "location":
                    final["lon"], final["lat"] = value.x, value.y
                elif name == "technologies":
                    final[name] = sorted(set(value or []))
                elif name in ("address", "permit_reference"):
                    final[name] = value or ""
                else:
                    final[name] = value
            for name, validators in (
                ("structure_height_m", HEIGHT_VALIDATORS),
                ("building_height_m", BUILDING_HEIGHT_VALIDATORS),
            ):
                if final.get(name) is None:
                    continue
                for validator in validators:
                    try:
                        validator(final[name])
                    except ValidationError as exc:
                        for message in exc.messages:
                            fail(i, name, message)
            if final.get("status") is None:
                final["status"] = old["status"] if old is not None else Station.Status.PLANNED
            # A stored point keeps its commune (checked when it was written) unless another is named.
            moved = old is None or abs(old["lon"] - final["lon"]) > _POINT_TOLERANCE
            moved = moved or abs(old["lat"] - final["lat"]) > _POINT_TOLERANCE
            check = {
                "status": final["status"],
                "commissioned_on": final.get("commissioned_on"),
                "lon": final["lon"],
                "lat": final["lat"],
                "commune": given,
                "commune_id": final.get("commune_id"),
                "locate": moved or (given is not None and given != old["commune_id"]),
                "operator_id": final["operator_id"],
                "code": final["code"],
                "id": final.get("id"),
            }
            if "operator" in data:
                check["operator"] = data["operator"]
            finals[i], checks[i] = final, check

        # The station rules (operator, commissioning, point and commune, one code per operator).
        validate_stations(user, checks, errors=errors, editable=editable)
        candidates = [i for i in range(count) if finals[i] is not None and not errors[i]]
        for i in candidates:
            finals[i]["commune_id"] = checks[i]["commune_id"]

        # What is to be written.
        rows = []
        for i in candidates:
            if errors[i]:
                continue
            final = finals[i]
            old = stored.get((final["source"], final["external_id"]))
            if old is not None and _same_row(old, final):
                statuses[i], public_ids[i] = BULK_UNCHANGED, old["public_id"]
            else:
                rows.append((i, final))
        if atomic and any(errors):
            for i in range(count):
                if not errors[i]:
                    statuses[i], public_ids[i] = BULK_NOT_APPLIED, None
            return outcomes()
        if rows:
            _apply_bulk_rows(rows, atomic, fail, statuses, public_ids, errors)
        if atomic and any(errors):
            transaction.set_rollback(True)
            for i in range(count):
                if not errors[i]:
                    statuses[i], public_ids[i] = BULK_NOT_APPLIED, None
    return outcomes()


def _apply_bulk_rows(rows, atomic, fail, statuses, public_ids, errors):
    """Write the rows in one statement; when the database refuses it (a concurrent writer took a
    code meanwhile), write them one by one, each in a savepoint, to find the ones refused. In
    partial mode an unexpected failure is handled the same way (the row it comes from gets an
    error, the others are written); in atomic mode it is raised (the caller rolls back all)."""
    import logging

    logger = logging.getLogger("stations.bulk")
    try:
        written = _write_bulk_rows_retrying(rows)
    except Exception as exc:
        if atomic and not isinstance(exc, IntegrityError):
            raise
        written = {}
        for row in rows:
            try:
                written.update(_write_bulk_rows_retrying([row]))
            except IntegrityError as exc:
                for name, messages in _bulk_db_error(exc).items():
                    for message in messages:
                        fail(row[0], name, message)
                if atomic:
                    break
            except Exception as exc:
                if atomic:
                    raise
                logger.error("Bulk stations: record %d failed", row[0], exc_info=exc)
                fail(
                    row[0],
                    "non_field_errors",
                    _(
                        "This record could not be saved (an error on our side, logged); "
                        "nothing of it was stored."
                    ),
                )
    for i, final in rows:
        if errors[i]:
            continue
        result = written.get((final["source"], final["external_id"]))
        if result is None:
            continue
        public_ids[i] = result[0]
        statuses[i] = BULK_CREATED if result[1] else BULK_UPDATED
