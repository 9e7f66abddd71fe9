"""Read-side queries shared by pages and the API."""

from django.db.models import Count

from core.geojson import feature_collection
from core.models import AdministrativeUnit, LegacyUnitMapping, Organization


def organizations():
    return Organization.objects.select_related("parent", "successor")


def units(with_boundary=True):
    qs = AdministrativeUnit.objects.all()
    if not with_boundary:
        qs = qs.defer("boundary", "map_boundary")
    return qs


def communes():
    """The units without their shapes, in Vietnamese alphabetical order: every commune choice of
    a form or a filter (the page's and the API's alike)."""
    from core.text import vietnamese

    return units(with_boundary=False).order_by(vietnamese("name"))


def unit_legacy_mappings(unit):
    return (
        LegacyUnitMapping.objects.filter(unit=unit)
        .select_related("legacy_unit")
        .order_by("legacy_unit__district", "legacy_unit__name")
    )


UNIT_PROPERTIES = {
    "id": "public_id",
    "name": "name",
    "short_name": "short_name",
    "name_en": "name_en",
    "kind": "kind",
    "province_code": "province_code",
    "area_km2": "area_km2",
    "effective_from": "effective_from",
    "effective_to": "effective_to",
    "updated_at": "updated_at",
}


def units_geojson(queryset, *, shape="map"):
    """The units as a FeatureCollection built by PostgreSQL, shaped like AdministrativeUnitSerializer
    (feature id = code).

    ``shape``: "map" (boundaries simplified to ~20 m, for maps), "full" (as imported) or None.
    """
    geometry = {"map": "map_boundary", "full": "boundary", None: None}[shape]
    return feature_collection(
        queryset, geometry=geometry, properties=UNIT_PROPERTIES, id_field="code"
    )


def unit_counts():
    return dict(AdministrativeUnit.objects.values_list("kind").annotate(n=Count("id")))


def unit_containing(point):
    """Today's unit whose boundary contains ``point`` (None when outside every loaded boundary)."""
    return (
        AdministrativeUnit.objects.filter(boundary__intersects=point)
        .defer("boundary", "map_boundary")
        .first()
    )


def boundaries_loaded():
    return AdministrativeUnit.objects.filter(boundary__isnull=False).exists()
