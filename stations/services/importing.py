"""The CSV/XLSX import of the station register: every row checked (validate_stations), then one
COPY and one upsert by operator + code."""

import pgtrigger
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.dateorder import DateOrder, parse_date
from core.history import acting_as
from core.importmap import Choices, Field, header_test, require, resolve, unknown_unit
from stations.models import (
    Station,
)
from stations.services.register import can_edit_station, validate_stations

# --- Bulk import of the register -------------------------------------------------------------------

# The template's fields, with the names other systems and people give their columns.
FIELDS = (
    Field(
        "operator", gettext_lazy("operator"), True, ("doanh nghiệp", "nhà mạng", "mạng", "đơn vị")
    ),
    Field(
        "code",
        gettext_lazy("code"),
        True,
        ("mã trạm", "mã", "site id", "site code", "station code"),
    ),
    Field("name", gettext_lazy("name"), True, ("tên trạm", "tên", "site name", "station name")),
    Field("address", gettext_lazy("address"), False, ("địa chỉ", "vị trí")),
    Field(
        "commune",
        gettext_lazy("commune"),
        False,
        ("mã xã", "mã phường", "mã xã phường", "unit code"),
    ),
    Field("lon", gettext_lazy("longitude"), True, ("kinh độ", "long", "lng", "x")),
    Field("lat", gettext_lazy("latitude"), True, ("vĩ độ", "y")),
    Field(
        "structure_type",
        gettext_lazy("structure type"),
        True,
        ("loại cột", "loại công trình", "kiểu cột", "tower", "tower type"),
    ),
    Field(
        "structure_height_m",
        gettext_lazy("structure height (m)"),
        True,
        ("chiều cao cột", "độ cao cột", "height", "tower height"),
    ),
    Field(
        "building_height_m",
        gettext_lazy("building height (m)"),
        False,
        ("chiều cao tòa nhà", "chiều cao nhà", "chiều cao công trình"),
    ),
    Field(
        "technologies", gettext_lazy("technologies"), False, ("công nghệ", "technology", "bands")
    ),
    Field(
        "land_category",
        gettext_lazy("land category"),
        True,
        ("loại đất", "loại vị trí", "land", "land type"),
    ),
    Field("status", gettext_lazy("status"), False, ("trạng thái", "tình trạng")),
    Field(
        "permit_reference", gettext_lazy("permit reference"), False, ("số giấy phép", "giấy phép")
    ),
    Field(
        "commissioned_on",
        gettext_lazy("commissioned on"),
        False,
        ("ngày đưa vào hoạt động", "ngày hoạt động", "on air", "on air date"),
    ),
)
IMPORT_COLUMNS = tuple(f.name for f in FIELDS)
EXAMPLE = {
    "operator": "VIETTEL",
    "code": "HNI-CGY-0001",
    "name": "Trạm Cầu Giấy 1",
    "address": "Số 1 Phố Trần Thái Tông, Phường Cầu Giấy",
    "commune": "00166",
    "lon": "105.7893",
    "lat": "21.0318",
    "structure_type": "rooftop_mast",
    "structure_height_m": "6",
    "building_height_m": "24",
    "technologies": "4G;5G",
    "land_category": "public_building",
    "status": "operating",
    "permit_reference": "",
    "commissioned_on": "15/03/2024",
}
REQUIRED_COLUMNS = tuple(f.name for f in FIELDS if f.required)


def _row_form_class():
    from django import forms

    from stations.models import (
        BUILDING_HEIGHT_VALIDATORS,
        HEIGHT_VALIDATORS,
        LandCategory,
        StructureType,
        Technology,
    )

    class StationRowForm(forms.Form):
        operator = forms.CharField(max_length=32)
        code = forms.CharField(max_length=50)
        name = forms.CharField(max_length=255)
        address = forms.CharField(max_length=500, required=False)
        commune = forms.CharField(max_length=5, required=False)
        lon = forms.FloatField(min_value=-180, max_value=180)
        lat = forms.FloatField(min_value=-90, max_value=90)
        structure_type = forms.ChoiceField(choices=StructureType.choices)
        structure_height_m = forms.DecimalField(
            max_digits=6, decimal_places=2, validators=HEIGHT_VALIDATORS
        )
        building_height_m = forms.DecimalField(
            max_digits=6, decimal_places=2, required=False, validators=BUILDING_HEIGHT_VALIDATORS
        )
        technologies = forms.CharField(required=False)
        land_category = forms.ChoiceField(choices=LandCategory.choices)
        status = forms.ChoiceField(choices=Station.Status.choices, required=False)
        permit_reference = forms.CharField(max_length=100, required=False)
        # Read beforehand as the file's date order says (core.dateorder), then given as ISO.
        commissioned_on = forms.DateField(required=False, input_formats=["%Y-%m-%d"])

        def clean_technologies(self, valid=frozenset(Technology.values)):
            values = [
                v.strip().upper()
                for v in self.cleaned_data["technologies"].replace(",", ";").split(";")
                if v.strip()
            ]
            bad = [v for v in values if v not in valid]
            if bad:
                raise forms.ValidationError(
                    _("Unknown technology: %(v)s (use 2G, 3G, 4G, 5G).") % {"v": ", ".join(bad)}
                )
            return sorted(set(values))

    return StationRowForm


CHECK_CHUNK = 5_000  # rows checked, located and staged together (one progress report each)
MAX_ROWS = 1_000_000  # the file is read as it streams: memory does not grow with it


def _error(number, column, message, values=None):
    return {
        "row": number,
        "column": column,
        "value": str((values or {}).get(column, ""))[:200],
        "message": str(message),
    }


def _choices():
    from stations.models import LandCategory, StructureType

    return {
        "structure_type": Choices(StructureType.choices),
        "land_category": Choices(LandCategory.choices),
        "status": Choices(Station.Status.choices),
    }


def import_stations(
    user, uploaded, *, mapping=None, date_order=None, mode="atomic", dry_run=False, progress=None
):
    """Create or update stations from a CSV/XLSX file (one row a station, keyed by operator + code).

    The file's columns are resolved against FIELDS (core.importmap: names, labels, synonyms, the
    user's ``mapping``); choices are read from their codes or labels (any case, accents or not);
    dates in the file's order (core.dateorder: ``date_order`` or what the whole column proves).
    The file is read as it streams, twice: once for its size and its dates' order, then in chunks
    of CHECK_CHUNK rows, each checked (core.rowcheck, the station rules of validate_stations) and
    its valid rows copied into a staging table, where the rows that repeat a station of the file
    are found; memory stays flat whatever the file's size. ``mode="atomic"``: any refused row
    refuses the whole file (ImportRejected with each problem) and nothing is written;
    ``"partial"``: the valid rows are stored and the refused ones returned in ``errors``.
    ``dry_run`` checks everything and writes nothing (the counts say what would be).
    ``progress(processed, total=…)`` is told as rows are checked. Returns ImportResult(created,
    updated, warnings, errors, rows).
    """

    from core.exceptions import ImportRejected
    from core.services import ImportResult
    from core.tabular import Table

    table = Table(uploaded, is_header=header_test(FIELDS, mapping), max_rows=MAX_ROWS)
    resolution = resolve(table.header, FIELDS, mapping)
    require(resolution, FIELDS)
    # First reading: the rows there are, and the order the dates are written in.
    dates, total = DateOrder("commissioned_on"), 0
    read_date = resolution.reader(table.header, only={"commissioned_on"})
    for number, cells in table.rows():
        total += 1
        dates.see(number, read_date(cells).get("commissioned_on"))
    order = dates.decide(date_order)
    notices = [
        *resolution.notices(),
        *([dates.notice] if dates.notice else []),
        *table.notices(),
    ]
    if progress:
        progress(0, total=total)
    check = _RowCheck(user, resolution.reader(table.header), order)
    errors, processed = [], 0
    with _Staging() as staging:
        chunk = []
        for row in table.rows():
            chunk.append(row)
            if len(chunk) == CHECK_CHUNK:
                staging.copy(check.chunk(chunk, errors))
                processed += len(chunk)
                chunk = []
                if progress:
                    progress(processed, total=total)
        staging.copy(check.chunk(chunk, errors))
        errors += staging.repeated()
        errors.sort(key=lambda e: e["row"])
        if errors and mode != "partial":
            raise ImportRejected(errors=errors)
        if progress:
            progress(total, total=total)
        result = ImportResult(warnings=notices, errors=errors, rows=total)
        if dry_run:
            result.created, result.updated = staging.counts()
            return result
        with transaction.atomic(), acting_as(user, action="stations.import"):
            result.created, result.updated = staging.store()
    return result


class _RowCheck:
    """A chunk of rows read (core.importmap), checked (core.rowcheck) and held to the station
    rules (validate_stations): its valid rows as (row number, operator, data); the problems of the
    others added to ``errors``."""

    def __init__(self, user, read, order):
        from core.models import AdministrativeUnit, Organization
        from core.rowcheck import RowChecker

        self.user, self.read, self.order = user, read, order
        self.clean = RowChecker(_row_form_class())
        self.choices = _choices()
        self.operators = {
            o.code: o for o in Organization.objects.filter(kind=Organization.Kind.OPERATOR)
        }
        self.operator_names = Choices(
            [(o.code, o.short_name or o.name) for o in self.operators.values()]
        )
        self.communes = dict(AdministrativeUnit.objects.values_list("code", "id"))
        self.editable = {}

    def _may_edit(self, operator):
        if operator.pk not in self.editable:
            self.editable[operator.pk] = can_edit_station(self.user, operator)
        return self.editable[operator.pk]

    def row(self, number, cells, errors):
        """One row's data, or None with its problems added to ``errors``."""
        raw = self.read(cells)
        values = dict(raw)
        for name, lookup in self.choices.items():
            values[name] = lookup.find(values.get(name))
        try:
            day = parse_date(values.get("commissioned_on"), self.order)
        except ValueError:
            pass  # the form's date field refuses it, with the value
        else:
            values["commissioned_on"] = day.isoformat() if day else ""
        data, row_errors = self.clean(values)
        if row_errors:
            errors += [_error(number, col, msg, raw) for col, msg in row_errors]
            return None
        operator = self.operators.get(self.operator_names.find(data["operator"]).upper())
        if operator is None:
            message = _("Unknown operator %(code)s.") % {"code": data["operator"]}
            errors.append(_error(number, "operator", message, raw))
            return None
        if not self._may_edit(operator):
            message = _("You may not import stations of %(op)s.") % {"op": operator}
            errors.append(_error(number, "operator", message, raw))
            return None
        if data["commune"] and data["commune"] not in self.communes:
            errors.append(_error(number, "commune", unknown_unit(data["commune"]), raw))
            return None
        data["operator_id"] = operator.pk
        data["raw"] = raw
        return data

    def chunk(self, rows, errors):
        checked = [(number, self.row(number, cells, errors)) for number, cells in rows]
        valid = [(number, data) for number, data in checked if data is not None]
        # The station rules (commissioning, point and commune); the operator was checked above,
        # and a row is keyed by operator and code: it updates the station that has them.
        checks = [
            {
                # A row without a status imports an operating station (see _Staging.store).
                "status": data["status"] or Station.Status.OPERATING,
                "commissioned_on": data["commissioned_on"],
                "lon": data["lon"],
                "lat": data["lat"],
                "commune": self.communes.get(data["commune"]) if data["commune"] else None,
            }
            for _number, data in valid
        ]
        stored = []
        for row_check, (number, data), row_errors in zip(
            checks, valid, validate_stations(self.user, checks, unique=False), strict=True
        ):
            for name, messages in row_errors.items():
                column = "lon" if name == "location" else name
                errors += [_error(number, column, m, data["raw"]) for m in messages]
            if not row_errors:
                data["commune_id"] = row_check.get("commune_id")
                stored.append((number, data))
        return stored


# Columns written by an import, in COPY order.
_COPY_COLUMNS = (
    "row_number",
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
    "search_text",
)
_STAGING_SQL = """
    CREATE TEMPORARY TABLE station_import (
        row_number integer, operator_id bigint, code text, name text, address text,
        commune_id bigint, lon float8, lat float8, structure_type text, structure_height_m numeric,
        building_height_m numeric, technologies varchar(2)[], land_category text, status text,
        permit_reference text, commissioned_on date, search_text text
    )
"""
# The rows that repeat a station (operator + code) of an earlier row of the file: refused, and
# taken out of the staging table.
_REPEATED_SQL = """
    WITH firsts AS (
        SELECT operator_id, code, min(row_number) AS first FROM station_import
        GROUP BY operator_id, code HAVING count(*) > 1
    )
    DELETE FROM station_import i USING firsts f
    WHERE i.operator_id = f.operator_id AND i.code = f.code AND i.row_number > f.first
    RETURNING i.row_number, i.code, f.first
"""
# A row without a status keeps the stored station's (a new station is operating).
_KEEP_STATUS_SQL = """
    UPDATE station_import i SET status = s.status FROM stations_station s
    WHERE i.status IS NULL AND s.operator_id = i.operator_id AND s.code = i.code
"""
_COUNTS_SQL = """
    SELECT count(*) FILTER (WHERE s.id IS NULL), count(s.id) FROM station_import i
    LEFT JOIN stations_station s ON s.operator_id = i.operator_id AND s.code = i.code
"""
_UPSERT_SQL = """
    WITH context AS (SELECT _pgh_attach_context() AS id), written AS (
        INSERT INTO stations_station AS s (
            public_id, created_at, updated_at, source, external_id, operator_id, code, name, address,
            commune_id, location, structure_type, structure_height_m, building_height_m,
            technologies, land_category, status, permit_reference, commissioned_on, search_text)
        SELECT gen_random_uuid(), now(), now(), '', '', operator_id, code, name, COALESCE(address, ''), commune_id,
               ST_SetSRID(ST_MakePoint(lon, lat), 4326), structure_type, structure_height_m,
               building_height_m, technologies, land_category, COALESCE(status, 'operating'),
               COALESCE(permit_reference, ''), commissioned_on, search_text
        FROM station_import
        ON CONFLICT (operator_id, code) DO UPDATE SET
            updated_at = now(), name = EXCLUDED.name, address = EXCLUDED.address,
            commune_id = EXCLUDED.commune_id, location = EXCLUDED.location,
            structure_type = EXCLUDED.structure_type, structure_height_m = EXCLUDED.structure_height_m,
            building_height_m = EXCLUDED.building_height_m, technologies = EXCLUDED.technologies,
            land_category = EXCLUDED.land_category, status = EXCLUDED.status,
            permit_reference = EXCLUDED.permit_reference, commissioned_on = EXCLUDED.commissioned_on,
            search_text = EXCLUDED.search_text
        RETURNING s.*, (xmax = 0) AS inserted
    ), events AS (
        -- From RETURNING: the rows as written (the CTEs share the statement's snapshot, where
        -- the table does not show them yet).
        INSERT INTO stations_stationevent ({event_columns})
        SELECT {event_values} FROM written w, context
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
"""


class _Staging:
    """The checked rows of an import in a temporary table (one COPY a chunk), stored with one
    INSERT … ON CONFLICT (upsert by operator + code): the database does the bulk work, and the
    history records every row. Dropped on leaving (and before, should a connection hold one)."""

    def __enter__(self):
        from django.db import connection

        self.cursor = connection.cursor()
        self.cursor.execute("DROP TABLE IF EXISTS pg_temp.station_import")
        self.cursor.execute(_STAGING_SQL)
        return self

    def __exit__(self, exc_type, exc, tb):
        from django.db import DatabaseError

        try:
            if exc_type is None or not issubclass(exc_type, DatabaseError):
                self.cursor.execute("DROP TABLE IF EXISTS pg_temp.station_import")
        finally:
            self.cursor.close()

    def copy(self, rows):
        import csv
        import io

        from core.text import fold

        if not rows:
            return
        buffer = io.StringIO()
        write = csv.writer(buffer).writerow
        for number, d in rows:
            write(
                (
                    number,
                    d["operator_id"],
                    d["code"],
                    d["name"],
                    d["address"],
                    d["commune_id"],
                    d["lon"],
                    d["lat"],
                    d["structure_type"],
                    d["structure_height_m"],
                    "" if d["building_height_m"] is None else d["building_height_m"],
                    "{" + ",".join(d["technologies"]) + "}",
                    d["land_category"],
                    d["status"] or "",
                    d["permit_reference"],
                    d["commissioned_on"].isoformat() if d["commissioned_on"] else "",
                    fold(" ".join([d["code"], d["name"], d["address"]])),
                )
            )
        buffer.seek(0)
        self.cursor.copy_expert(
            f"COPY station_import ({', '.join(_COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')",
            buffer,
        )

    def repeated(self):
        """The rows that repeat an earlier row's station, as errors (and out of the table)."""
        self.cursor.execute(_REPEATED_SQL)
        return [
            _error(
                number,
                "code",
                _("Station %(code)s already appears on row %(row)d.")
                % {"code": code, "row": first},
                {"code": code},
            )
            for number, code, first in self.cursor.fetchall()
        ]

    def counts(self):
        """(created, updated): what storing the rows would do."""
        self.cursor.execute(_COUNTS_SQL)
        return self.cursor.fetchone()

    def store(self):
        """Store the rows; (created, updated). History: one INSERT of the events with the context
        attached once, not the row triggers (whose per-row context upsert makes a big import
        quadratic: 12 s of 15 for 30,000 rows). The events are the ones the triggers would write."""
        self.cursor.execute(_KEEP_STATUS_SQL)
        with pgtrigger.ignore("stations.Station:insert_insert", "stations.Station:update_update"):
            self.cursor.execute(_upsert_sql())
            return self.cursor.fetchone()


def _upsert_sql():
    """The upsert with its history events (the columns of Station's event model)."""
    from django.apps import apps

    event = apps.get_model("stations", "StationEvent")
    columns, values = [], []
    for f in event._meta.concrete_fields:
        if f.column == "pgh_id" or getattr(f, "generated", False):
            continue  # the event's id and its generated columns (non_bulky) are the database's
        columns.append(f'"{f.column}"')
        values.append(
            {
                "pgh_created_at": "NOW()",
                "pgh_label": "CASE WHEN w.inserted THEN 'insert' ELSE 'update' END",
                "pgh_obj_id": "w.id",
                "pgh_context_id": "context.id",
            }.get(f.column, f'w."{f.column}"')
        )
    return _UPSERT_SQL.format(event_columns=", ".join(columns), event_values=", ".join(values))


# --- The import as a job of core.imports (the worker's part, manage.py import_file) ----------------

KIND = "stations.stations"


def start_station_import(user, uploaded, enqueue=True, **options):
    """Queue an import of the register (core.imports): who may, and the options, checked first.
    Options: ``mapping`` / ``mapping_name``, ``date_order``, ``mode`` (atomic by default: the
    register takes a file whole or not at all), ``dry_run``."""
    from core import imports
    from core.dateorder import ORDERS
    from core.exceptions import InvalidInput, PermissionDenied
    from stations.services.register import can_create_stations

    if not can_create_stations(user):
        raise PermissionDenied()
    if options.get("date_order") not in (None, "", *ORDERS):
        raise InvalidInput({"date_order": [_("Choose day/month/year or month/day/year.")]})
    options = {k: v for k, v in options.items() if v not in (None, "")}
    options.setdefault("mode", "atomic")
    return imports.start(user, KIND, uploaded, options, enqueue=enqueue)


def run_station_import(job, progress):
    """core.imports' handler: the whole file checked, then stored in one transaction (atomic) or
    its valid rows stored (partial); a retry runs it again, the upsert by operator + code storing
    nothing twice."""
    options = job.options
    with job.file.open("rb") as handle:
        result = import_stations(
            job.created_by,
            handle,
            mapping=options.get("mapping"),
            date_order=options.get("date_order"),
            mode=options.get("mode", "atomic"),
            dry_run=bool(options.get("dry_run")),
            progress=progress,
        )
    progress(
        result.rows,
        total=result.rows,
        created_count=result.created + result.updated,
        error_count=result.refused,
        errors=result.errors,
        notices=result.warnings,
    )
    values = {"created": result.created, "updated": result.updated, "refused": result.refused}
    if options.get("dry_run"):
        return (
            _(
                "Checked, nothing stored: %(created)d stations would be created, %(updated)d "
                "updated, %(refused)d rows refused."
            )
            % values
        )
    return (
        _("%(created)d stations created, %(updated)d updated, %(refused)d rows refused.") % values
    )
