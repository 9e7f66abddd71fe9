"""Business actions of core: reference data, boundary and crosswalk imports, address resolution.

Each takes plain arguments (and the acting user where it matters), validates everything first and
writes inside one transaction, so a refused file leaves nothing half-imported.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.models import Group
from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from core import roles
from core.exceptions import ImportRejected
from core.geo import VIETNAM_EXTENT, within_vietnam
from core.history import acting_as
from core.importmap import unknown_unit
from core.models import AdministrativeUnit, LegacyUnit, LegacyUnitMapping, Organization
from core.text import fold, name_key

DATA_DIR = Path(__file__).resolve().parent / "data"
HANOI_PROVINCE_CODE = "01"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list = field(default_factory=list)  # notices: columns ignored, dates read …
    errors: list = field(default_factory=list)  # the refused rows' {row, column, value, message}
    rows: int = 0  # records read from the file

    @property
    def refused(self):
        return len({e["row"] for e in self.errors})


# --- Reference data ---------------------------------------------------------------------------


@transaction.atomic
def load_reference_data():
    """Create or update the role groups, organisations and Hanoi's 126 units. Idempotent."""
    result = ImportResult()
    for name in roles.ALL_ROLES:
        Group.objects.get_or_create(name=name)
    _load_organizations(result)
    _load_units(result)
    return result


def load_all_reference_data():
    """Core's reference data, then every app's ``<app>/reference.py`` load(), in INSTALLED_APPS order."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.apps import apps

    result = load_reference_data()
    for config in apps.get_app_configs():
        module = f"{config.name}.reference"
        if config.name != "core" and "." not in config.name and find_spec(module):
            import_module(module).load()
    return result


def _load_organizations(result):
    records = json.loads((DATA_DIR / "organizations.json").read_text(encoding="utf-8"))
    by_code = {}
    for rec in records:
        defaults = {
            "kind": rec["kind"],
            "name": rec["name"],
            "short_name": rec.get("short_name", ""),
            "name_en": rec.get("name_en", ""),
            "effective_from": _date(rec.get("effective_from")),
            "effective_to": _date(rec.get("effective_to")),
        }
        org = Organization.objects.filter(code=rec["code"]).first()
        if org is None:
            org = Organization.objects.create(code=rec["code"], **defaults)
            result.created += 1
        elif any(getattr(org, k) != v for k, v in defaults.items()):
            for k, v in defaults.items():
                setattr(org, k, v)
            org.save()
            result.updated += 1
        else:
            result.unchanged += 1
        by_code[org.code] = org
    for rec in records:
        org = by_code[rec["code"]]
        parent = by_code.get(rec.get("parent"))
        successor = by_code.get(rec.get("successor"))
        if org.parent_id != getattr(parent, "pk", None) or org.successor_id != getattr(
            successor, "pk", None
        ):
            org.parent, org.successor = parent, successor
            org.save()


def _load_units(result):
    with (DATA_DIR / "hanoi_units_2025.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    existing = {u.code: u for u in AdministrativeUnit.objects.all()}
    for row in rows:
        values = {
            "name": row["name"],
            "short_name": row["short_name"],
            "name_en": row["name_en"],
            "kind": row["kind"],
            "area_km2": Decimal(row["area_km2"]) if row["area_km2"] else None,
            "effective_from": date(2025, 7, 1),
        }
        unit = existing.get(row["code"])
        if unit is None:
            AdministrativeUnit.objects.create(code=row["code"], **values)
            result.created += 1
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(unit, k, v)
            unit.save()
            result.updated += 1
        else:
            result.unchanged += 1


def _date(value):
    return date.fromisoformat(value) if value else None


def reference_data_loaded():
    return AdministrativeUnit.objects.count() >= 126 and Organization.objects.exists()


# --- Boundaries -------------------------------------------------------------------------------


def read_geojson(source):
    """Parse a GeoJSON FeatureCollection from a path, bytes or text; refuse anything else."""
    try:
        if isinstance(source, Path | str) and not str(source).lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        elif isinstance(source, bytes):
            text = source.decode("utf-8")
        else:
            text = source
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ImportRejected(
            _("The file is not valid GeoJSON: %(error)s") % {"error": exc}
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ImportRejected(_("The file must be a GeoJSON FeatureCollection."))
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise ImportRejected(_("The file contains no features."))
    return features


def import_boundaries(source, *, user=None):
    """Set the boundaries of Hanoi's units from a GeoJSON FeatureCollection.

    Every feature must carry the 5-digit ``code`` of a known unit and a valid (Multi)Polygon inside
    Vietnam. Any error refuses the whole file (ImportRejected lists them all); otherwise all
    boundaries are written in one transaction.
    """
    features = read_geojson(source)
    units = {u.code: u for u in AdministrativeUnit.objects.all()}
    errors, seen, changes = [], set(), []
    for index, feature in enumerate(features, start=1):
        props = (feature or {}).get("properties") or {}
        code = str(props.get("code") or "").strip()
        where = {"feature": index, "code": code}
        province = str(props.get("province_code") or props.get("province") or "").strip()
        if province and province not in (HANOI_PROVINCE_CODE, "1"):
            errors.append(
                {
                    **where,
                    "message": _("Unit belongs to province %(p)s, not Hanoi.") % {"p": province},
                }
            )
            continue
        if not code:
            errors.append({**where, "message": _("The feature has no unit code.")})
            continue
        if code not in units:
            errors.append(
                {
                    **where,
                    "message": unknown_unit(code),
                }
            )
            continue
        if code in seen:
            errors.append(
                {**where, "message": _("Unit %(code)s appears twice in the file.") % {"code": code}}
            )
            continue
        seen.add(code)
        geometry, message = _parse_boundary(feature.get("geometry"))
        if message:
            errors.append({**where, "message": message})
            continue
        changes.append((units[code], geometry))
    if errors:
        raise ImportRejected(errors=errors)
    result = ImportResult()
    with transaction.atomic(), acting_as(user, action="import_boundaries"):
        for unit, geometry in changes:
            if unit.boundary is not None and unit.boundary.equals_exact(geometry, 1e-9):
                result.unchanged += 1
                continue
            unit.boundary = geometry
            unit.save(update_fields=["boundary", "map_boundary", "updated_at"])
            result.updated += 1
    missing = len(units) - len(seen)
    if missing:
        result.warnings.append(_("%(n)d units have no boundary in this file.") % {"n": missing})
    return result


def _parse_boundary(raw):
    if not raw:
        return None, _("The feature has no geometry.")
    try:
        geometry = GEOSGeometry(json.dumps(raw))
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        return None, _("The geometry cannot be read: %(error)s") % {"error": exc}
    geometry.srid = 4326
    if isinstance(geometry, Polygon):
        geometry = MultiPolygon(geometry, srid=4326)
    if not isinstance(geometry, MultiPolygon):
        return None, _("A boundary must be a Polygon or MultiPolygon, not %(t)s.") % {
            "t": geometry.geom_type
        }
    if geometry.empty:
        return None, _("The boundary is empty.")
    if not geometry.valid:
        return None, _("The boundary is not a valid polygon: %(reason)s") % {
            "reason": geometry.valid_reason
        }
    if not within_vietnam(geometry):
        return None, _("The boundary lies outside Vietnam (%(extent)s).") % {
            "extent": VIETNAM_EXTENT
        }
    return geometry, None


# --- Crosswalk of pre-2025 units ----------------------------------------------------------------

_DISTRICT_CODE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>\d{3})\)\s*$")
CROSSWALK_COLUMNS = ("new_code", "old_code", "old_name", "old_district")


def import_crosswalk(source, *, user=None):
    """Load the official old-to-new mapping (CSV with new_code, old_code, old_name, note,
    old_district, old_province). An old unit split between several new ones has several rows.
    Any bad row refuses the whole file."""
    try:
        text = (
            Path(source).read_text(encoding="utf-8-sig")
            if isinstance(source, Path | str) and "\n" not in str(source)
            else source
        )
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportRejected(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CROSSWALK_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRejected(_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)})
    units = dict(AdministrativeUnit.objects.values_list("code", "id"))
    errors, legacy, links = [], {}, {}
    for number, row in enumerate(reader, start=2):
        new_code, old_code = (
            (row.get("new_code") or "").strip(),
            (row.get("old_code") or "").strip(),
        )
        province = row.get("old_province") or ""
        if province and f"({HANOI_PROVINCE_CODE})" not in province:
            errors.append(
                {
                    "row": number,
                    "column": "old_province",
                    "message": _("Not a Hanoi unit: %(p)s") % {"p": province},
                }
            )
            continue
        if new_code not in units:
            errors.append(
                {
                    "row": number,
                    "column": "new_code",
                    "message": unknown_unit(new_code),
                }
            )
            continue
        if not re.fullmatch(r"\d{5}", old_code):
            errors.append(
                {
                    "row": number,
                    "column": "old_code",
                    "message": _("A unit code has exactly 5 digits."),
                }
            )
            continue
        if not (row.get("old_name") or "").strip():
            errors.append(
                {"row": number, "column": "old_name", "message": _("This field is required.")}
            )
            continue
        match = _DISTRICT_CODE.match((row.get("old_district") or "").strip())
        district, district_code = (
            (match["name"], match["code"])
            if match
            else ((row.get("old_district") or "").strip(), "")
        )
        legacy[old_code] = {
            "name": row["old_name"].strip(),
            "district": district,
            "district_code": district_code,
        }
        note = (row.get("note") or "").strip()
        links[(old_code, new_code)] = {"whole": fold(note).startswith("nhap toan bo"), "note": note}
    if errors:
        raise ImportRejected(errors=errors)
    result = ImportResult()
    with transaction.atomic(), acting_as(user, action="import_crosswalk"):
        existing = {u.code: u for u in LegacyUnit.objects.all()}
        for code, values in legacy.items():
            unit = existing.get(code)
            if unit is None:
                existing[code] = LegacyUnit.objects.create(code=code, **values)
                result.created += 1
            elif any(getattr(unit, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(unit, k, v)
                unit.save()
                result.updated += 1
            else:
                result.unchanged += 1
        for (old_code, new_code), values in links.items():
            LegacyUnitMapping.objects.update_or_create(
                legacy_unit=existing[old_code], unit_id=units[new_code], defaults=values
            )
    return result


# --- Resolving names and addresses ----------------------------------------------------------------

_PREFIXES = ("phường", "xã", "thị trấn")
_DISTRICT_PREFIXES = ("quận", "huyện", "thị xã", "thành phố")


@dataclass
class UnitMatch:
    unit: AdministrativeUnit
    via: str  # "current" or "legacy"
    legacy_unit: LegacyUnit | None = None
    whole: bool = True


def find_units_by_name(name):
    """Today's units whose name (with or without "Phường"/"Xã") is ``name``, ignoring case and where
    the tone mark sits; falls back to ignoring accents altogether."""
    key, folded = name_key(name), fold(name)
    exact = Q(name_key=key) | Q(short_name_key=key)
    loose = Q(name_fold=folded) | Q(short_name_fold=folded)
    units = list(AdministrativeUnit.objects.filter(exact | loose).defer("boundary", "map_boundary"))
    return [u for u in units if key in (u.name_key, u.short_name_key)] or units


def resolve_address(address):
    """Resolve an address, old or new, to today's unit(s).

    "Phường Quán Thánh, Quận Ba Đình" names a pre-2025 ward and district: it resolves through the
    crosswalk to Phường Ba Đình (one match, or several when the old ward was split).
    "Phường Yên Hòa, Hà Nội" names a current unit directly.
    """
    parts = [p.strip() for p in re.split(r"[,;\n]", address or "") if p.strip()]
    district_parts = [
        p for p in parts if fold(p).startswith(tuple(fold(x) for x in _DISTRICT_PREFIXES))
    ]
    unit_parts = [p for p in parts if p not in district_parts]
    matches = []
    for part in unit_parts:
        legacy = _legacy_matches(part, district_parts)
        current = [UnitMatch(unit=u, via="current") for u in find_units_by_name(part)]
        # An address with a district is pre-2025 (districts were abolished): read it the old way first.
        ordered = (legacy or current) if district_parts else (current or legacy)
        if ordered:
            matches = ordered
            break
    return matches


def _legacy_matches(part, district_parts):
    key, folded = name_key(part), fold(part)
    qs = LegacyUnit.objects.filter(Q(name_key=key) | Q(name_fold=folded))
    if not qs.exists() and not part.lower().startswith(_PREFIXES):
        qs = LegacyUnit.objects.filter(
            Q(name_key__in=[name_key(f"{p} {part}") for p in _PREFIXES])
            | Q(name_fold__in=[fold(f"{p} {part}") for p in _PREFIXES])
        )
    candidates = list(qs)
    if district_parts and len(candidates) > 1:
        wanted = {fold(d) for d in district_parts}
        narrowed = [c for c in candidates if fold(c.district) in wanted]
        candidates = narrowed or candidates
    if not candidates:
        return []
    mappings = (
        LegacyUnitMapping.objects.filter(legacy_unit__in=candidates)
        .select_related("unit", "legacy_unit")
        .defer("unit__boundary", "unit__map_boundary")
        .order_by("-whole", "unit__code")
    )
    return [
        UnitMatch(unit=m.unit, via="legacy", legacy_unit=m.legacy_unit, whole=m.whole)
        for m in mappings
    ]
