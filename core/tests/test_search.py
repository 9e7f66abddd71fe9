"""The portal's search box: every register by code, name, number or address, accents and case
aside, scoped to what the user may see, grouped by kind; the page and the API alike."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from core.models import AdministrativeUnit, Organization
from stations.models import PublicSite, Station

pytestmark = pytest.mark.django_db


@pytest.fixture
def cau_giay(needs_shared_data):
    cg = AdministrativeUnit.objects.get(code="00166")
    PublicSite.objects.create(
        name="Trụ sở UBND phường Cầu Giấy",
        owner=Organization.objects.get(code="UBND_HN"),
        address="Số 1 Phố Thử",
        commune=cg,
        land_category="public_building",
        location=Point(105.7939, 21.0362, srid=4326),
        building_height_m=Decimal("24"),
    )
    for code, operator in (("MF-CG-01", "MOBIFONE"), ("VNPT-CG-01", "VNPT")):
        Station.objects.create(
            operator=Organization.objects.get(code=operator),
            code=code,
            name=f"Trạm {code}",
            commune=cg,
            location=Point(105.7945, 21.0356, srid=4326),
            structure_type="monopole",
            structure_height_m=Decimal("21"),
            land_category="private",
            status=Station.Status.OPERATING,
            technologies=["4G"],
        )
    return cg


def _kinds(groups):
    return {g["kind"]: [h["title"] for h in g["results"]] for g in groups}


def test_cau_giay_as_an_official_finds_its_stations_sites_and_unit(client, make_user, cau_giay):
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    page = client.get("/search/?q=cau giay")  # no accents, lower case
    body = page.content.decode()
    assert page.status_code == 200
    for kind in ("stations", "sites", "units"):
        assert f'data-kind="{kind}"' in body, kind
    assert "MF-CG-01" in body and "VNPT-CG-01" in body and "Phường Cầu Giấy" in body


def test_the_api_answers_grouped_by_kind(as_role, cau_giay):
    body = as_role("city_official").get("/api/v1/search/?q=CẦU GIẤY").json()
    kinds = _kinds(body["groups"])
    assert {"stations", "sites", "units"} <= set(kinds)
    assert any("MF-CG-01" in t for t in kinds["stations"])
    assert all(set(g) == {"kind", "label", "more", "results"} for g in body["groups"])


def test_an_operator_finds_only_its_own_stations(as_role, cau_giay):
    body = as_role("operator_mobifone").get("/api/v1/search/?q=cau giay").json()
    assert _kinds(body["groups"])["stations"] == ["MF-CG-01 · Trạm MF-CG-01"]
    body = as_role("operator_viettel").get("/api/v1/search/?q=cau giay").json()
    assert "stations" not in _kinds(body["groups"])


def test_a_code_finds_its_programme(client, make_user):
    from agreements.models import Agreement

    Agreement.objects.create(
        code="CT-PH-2020",
        title="Chương trình phối hợp phát triển hạ tầng số",
        status="in_force",
        period_start=date(2020, 1, 1),
        period_end=date(2025, 12, 31),
    )
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    body = client.get("/search/?q=ct-ph-2020").content.decode()
    assert 'data-kind="agreements"' in body and "CT-PH-2020" in body


def test_bad_queries_are_clear_not_errors(as_role, client, make_user):
    api = as_role("city_official")
    assert api.get("/api/v1/search/").status_code == 400
    assert api.get("/api/v1/search/?q=" + "x" * 201).status_code == 400
    for hostile in ("<script>alert(1)</script>", "'; DROP TABLE x; --", "9" * 200):
        assert api.get("/api/v1/search/", {"q": hostile}).status_code == 200, hostile
    assert api.get("/api/v1/search/?q=%00").status_code == 400  # a NUL: refused before a query
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    page = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_the_query_count_does_not_grow_with_the_hits(
    client, make_user, cau_giay, django_assert_max_num_queries
):
    client.force_login(make_user("city_official", "SO_KHCN_HN"))
    with django_assert_max_num_queries(25):
        client.get("/search/?q=cau giay")
