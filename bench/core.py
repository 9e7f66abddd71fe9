"""Core: units map and API, organisation list, address resolution, working days, boundary import."""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment

from core import services
from core.models import AdministrativeUnit, User
from core.selectors import units_geojson
from core.workdays import add_working_days

WARDS = Path(settings.SHARED_DATA_DIR) / "hanoi_wards_2025.geojson"


def _raw(sql, params=None):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            cursor.fetchall()

    return run


def run(report):
    setup_test_environment()
    services.load_reference_data()
    if WARDS.exists():
        report.add(
            "import_boundaries (real Hanoi borders)",
            "126 units, 3 MB",
            lambda: services.import_boundaries(WARDS),
            repeat=3,
        )
    with_boundary = AdministrativeUnit.objects.filter(boundary__isnull=False).count()
    user = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        "bench-admin", password="bench-only-2026"
    )
    client = Client()
    client.force_login(user)

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        return run

    size = f"{with_boundary} boundaries"
    report.add(
        "units map GeoJSON, built by PostgreSQL (selector)",
        size,
        lambda: units_geojson(AdministrativeUnit.objects.all()),
        raw_sql=_raw("SELECT json_agg(ST_AsGeoJSON(map_boundary, 6)) FROM core_administrativeunit"),
    )
    report.add(
        "  the same simplified on the fly (before map_boundary)",
        size,
        _raw(
            "SELECT json_agg(ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, 0.0002), 6)) FROM core_administrativeunit"
        ),
    )
    report.add("GET /units/map.geojson (page's map layer)", size, get("/units/map.geojson"))
    report.add(
        "GET /api/v1/units/ (full boundaries)",
        size,
        get("/api/v1/units/"),
        raw_sql=_raw("SELECT json_agg(ST_AsGeoJSON(boundary)) FROM core_administrativeunit"),
        repeat=5,
    )
    report.add(
        "GET /api/v1/units/?boundary=false",
        "126 units",
        get("/api/v1/units/?boundary=false"),
        raw_sql=_raw(
            "SELECT json_agg(row_to_json(u)) FROM (SELECT public_id, code, name, short_name, name_en, kind FROM core_administrativeunit) u"
        ),
    )
    report.add(
        "GET /api/v1/organizations/",
        "15 organisations",
        get("/api/v1/organizations/"),
        raw_sql=_raw("SELECT json_agg(row_to_json(o)) FROM core_organization o"),
    )
    report.add(
        "GET /api/v1/units/00004/ (DRF serializer, 1 unit)",
        "1 boundary",
        get("/api/v1/units/00004/"),
    )
    report.add("GET /units/ (HTML list page, 50 rows)", "126 units", get("/units/"))
    report.add(
        "resolve_address (old ward + district)",
        "526 old units",
        lambda: services.resolve_address("Phường Quán Thánh, Quận Ba Đình"),
    )
    response = get("/units/map.geojson")()
    full = get("/api/v1/units/")()
    report.note(
        "units map payload (simplified vs full)",
        size,
        f"{len(response.content) / 1024:.0f} KiB vs {len(full.content) / 1024:.0f} KiB",
    )
    start = date(2026, 1, 5)
    report.add(
        "add_working_days(start, 30) x 1000",
        "2025-2027 calendar",
        lambda: [add_working_days(start, 30) for _ in range(1000)],
        repeat=5,
    )
