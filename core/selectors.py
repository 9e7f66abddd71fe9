"""Read-side queries shared by pages and the API."""

from django.db import connection
from django.db.models import Count

from core.models import AdministrativeUnit, LegacyUnitMapping, Organization
from core.scoping import scope_queryset


def organizations():
    return Organization.objects.select_related("parent", "successor")


def units(with_boundary=True):
    qs = AdministrativeUnit.objects.all()
    if not with_boundary:
        qs = qs.defer("boundary")
    return qs


def unit_legacy_mappings(unit):
    return (
        LegacyUnitMapping.objects.filter(unit=unit)
        .select_related("legacy_unit")
        .order_by("legacy_unit__district", "legacy_unit__name")
    )


def units_geojson(queryset, tolerance=0.0002):
    """A FeatureCollection of the units' simplified boundaries, built by PostgreSQL in one query.

    ``tolerance`` is in degrees (0.0002° ≈ 20 m), plenty for a city map and ~10x lighter than
    the full borders.
    """
    ids = list(queryset.filter(boundary__isnull=False).values_list("id", flat=True))
    if not ids:
        return '{"type":"FeatureCollection","features":[]}'
    sql = """
        SELECT json_build_object(
            'type', 'FeatureCollection',
            'features', COALESCE(json_agg(json_build_object(
                'type', 'Feature',
                'id', code,
                'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, %s), 6)::json,
                'properties', json_build_object('code', code, 'name', name, 'kind', kind,
                                                'area_km2', area_km2)
            ) ORDER BY code), '[]'::json)
        )::text
        FROM core_administrativeunit WHERE id = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [tolerance, ids])
        return cursor.fetchone()[0]


def unit_counts():
    return dict(AdministrativeUnit.objects.values_list("kind").annotate(n=Count("id")))


def visible(queryset, user):
    """Alias kept short for selectors of every app."""
    return scope_queryset(queryset, user)


__all__ = ["organizations", "units", "units_geojson", "visible"]
