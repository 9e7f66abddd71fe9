"""The CSV/XLSX import of the station register: every row checked (validate_stations), then one
COPY and one upsert by operator + code."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.history import acting_as
from stations.models import (
    Station,
)
from stations.services.register import can_edit_station, validate_stations

# --- Bulk import of the register -------------------------------------------------------------------

IMPORT_COLUMNS = (
    "operator",
    "code",
    "name",
    "address",
    "commune",
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
REQUIRED_COLUMNS = (
    "operator",
    "code",
    "name",
    "lon",
    "lat",
    "structure_type",
    "structure_height_m",
    "land_category",
)


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
        commissioned_on = forms.DateField(required=False, input_formats=["%d/%m/%Y", "%Y-%m-%d"])

        def clean_technologies(self):
            values = [
                v.strip().upper()
                for v in self.cleaned_data["technologies"].replace(",", ";").split(";")
                if v.strip()
            ]
            valid = set(Technology.values)
            bad = [v for v in values if v not in valid]
            if bad:
                raise forms.ValidationError(
                    _("Unknown technology: %(v)s (use 2G, 3G, 4G, 5G).") % {"v": ", ".join(bad)}
                )
            return sorted(set(values))

    return StationRowForm


def _row_cleaner(form_class):
    """Validate a row with the form's fields, built once (a Form per row costs ~40% of an import)."""
    from django.core.exceptions import ValidationError

    form = form_class()
    fields = form.fields

    def clean(values):
        data, errors = {}, []
        for name, field in fields.items():
            try:
                data[name] = field.clean(values.get(name, ""))
                hook = getattr(form, f"clean_{name}", None)
                if hook is not None:
                    form.cleaned_data = data
                    data[name] = hook()
            except ValidationError as exc:
                errors += [(name, str(m)) for m in exc.messages]
        return data, errors

    return clean


def import_stations(user, uploaded):
    """Create or update stations from a CSV/XLSX file (one row a station, keyed by operator + code).

    Every row is checked first; any error refuses the whole file with (row, column, message) for each
    problem, and nothing is written. Returns ImportResult(created, updated).
    """

    from core.exceptions import ImportRejected
    from core.models import AdministrativeUnit, Organization
    from core.services import ImportResult
    from core.tabular import read_table

    header, rows = read_table(uploaded, required=REQUIRED_COLUMNS)
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRejected(_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)})
    clean_row = _row_cleaner(_row_form_class())
    operators = {o.code: o for o in Organization.objects.filter(kind=Organization.Kind.OPERATOR)}
    communes = dict(AdministrativeUnit.objects.values_list("code", "id"))
    errors, valid, seen = [], [], {}
    for number, values in rows:
        data, row_errors = clean_row(values)
        if row_errors:
            errors += [{"row": number, "column": col, "message": msg} for col, msg in row_errors]
            continue
        operator = operators.get(data["operator"].strip().upper())
        if operator is None:
            errors.append(
                {
                    "row": number,
                    "column": "operator",
                    "message": _("Unknown operator %(code)s.") % {"code": data["operator"]},
                }
            )
            continue
        if not can_edit_station(user, operator):
            errors.append(
                {
                    "row": number,
                    "column": "operator",
                    "message": _("You may not import stations of %(op)s.") % {"op": operator},
                }
            )
            continue
        if data["commune"] and data["commune"] not in communes:
            errors.append(
                {
                    "row": number,
                    "column": "commune",
                    "message": _("Unknown unit code %(code)s: not one of Hanoi's units.")
                    % {"code": data["commune"]},
                }
            )
            continue
        key = (operator.pk, data["code"])
        if key in seen:
            errors.append(
                {
                    "row": number,
                    "column": "code",
                    "message": _("Station %(code)s already appears on row %(row)d.")
                    % {"code": data["code"], "row": seen[key]},
                }
            )
            continue
        seen[key] = number
        valid.append((number, operator, data))
    # The station rules (commissioning, point and commune); the operator was checked above, and
    # a row is keyed by operator and code: it updates the station that has them.
    checks = [
        {
            # A row without a status imports an operating station (see _copy_stations).
            "status": data["status"] or Station.Status.OPERATING,
            "commissioned_on": data["commissioned_on"],
            "lon": data["lon"],
            "lat": data["lat"],
            "commune": communes.get(data["commune"]) if data["commune"] else None,
        }
        for _number, _operator, data in valid
    ]
    for check, (number, _operator, data), row_errors in zip(
        checks, valid, validate_stations(user, checks, unique=False), strict=True
    ):
        for name, messages in row_errors.items():
            column = "lon" if name == "location" else name
            errors += [{"row": number, "column": column, "message": m} for m in messages]
        data["commune_id"] = check.get("commune_id")
    if errors:
        raise ImportRejected(errors=sorted(errors, key=lambda e: e["row"]))
    with transaction.atomic(), acting_as(user, action="stations.import"):
        created, updated = _copy_stations(valid)
    return ImportResult(created=created, updated=updated)


# Columns written by an import, in COPY order.
_COPY_COLUMNS = (
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
_UPSERT_SQL = """
    WITH written AS (
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
            land_category = EXCLUDED.land_category,
            status = COALESCE((SELECT i.status FROM station_import i
                               WHERE i.operator_id = s.operator_id AND i.code = s.code), s.status),
            permit_reference = EXCLUDED.permit_reference, commissioned_on = EXCLUDED.commissioned_on,
            search_text = EXCLUDED.search_text
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
"""


def _copy_stations(valid):
    """Write validated rows with COPY into a temporary table and one INSERT … ON CONFLICT (upsert by
    operator + code): the database does the bulk work; history triggers still record every row."""
    import csv
    import io

    from django.db import connection

    from core.text import fold

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for _number, operator, d in valid:
        writer.writerow(
            [
                operator.pk,
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
            ]
        )
    buffer.seek(0)
    with connection.cursor() as cursor:
        # Dropped at commit; dropped here too for a second import inside the same transaction.
        cursor.execute("DROP TABLE IF EXISTS pg_temp.station_import")
        cursor.execute("""
            CREATE TEMPORARY TABLE station_import (
                operator_id bigint, code text, name text, address text, commune_id bigint,
                lon float8, lat float8, structure_type text, structure_height_m numeric,
                building_height_m numeric, technologies varchar(2)[], land_category text, status text,
                permit_reference text, commissioned_on date, search_text text
            ) ON COMMIT DROP
        """)
        cursor.copy_expert(
            f"COPY station_import ({', '.join(_COPY_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')",
            buffer,
        )
        cursor.execute(_UPSERT_SQL)
        created, updated = cursor.fetchone()
    return created, updated
