"""Filters that closed issue 15's gaps on the cables lists: the API list and the page narrow alike
(one FilterSet serves both), and a bad value is a 400 naming the filter (real PostGIS)."""

import datetime

import pytest
from django.contrib.gis.geos import LineString

from cables import services
from cables.models import CivilWorksNotice
from cables.tests.test_api import (  # noqa: F401 (fixtures)
    DOI_CAN,
    KIM_MA,
    NOTICES,
    PROJECTS,
    SEGMENTS,
    UPDATES,
    days_ago,
    make_project,
    make_segment,
    official,
)
from core.models import AdministrativeUnit, Organization

pytestmark = pytest.mark.django_db
D = datetime.date


def bad(response, field):
    assert response.status_code == 400, response.content
    assert response.json()[field]


# --- Projects: budget source; segments: name ----------------------------------------------------


@pytest.fixture
def projects(make_project, make_segment):  # noqa: F811
    city = make_project("NH-CITY", budget_source="Ngân sách thành phố")
    own = make_project("NH-OWN", budget_source="Vốn doanh nghiệp")
    make_project("NH-NONE")
    return {
        "city": city,
        "own": own,
        "kim_ma": make_segment(city, name="Phố Kim Mã"),
        "doi_can": make_segment(own, coords=DOI_CAN, name="Phố Đội Cấn"),
    }


def test_project_budget_source_in_the_api(as_role, projects):
    client = as_role("city_official")

    def codes(query):
        response = client.get(f"{PROJECTS}?{query}")
        assert response.status_code == 200, response.content
        return {p["code"] for p in response.json()["results"]}

    assert codes("budget_source=thành phố") == {"NH-CITY"}
    assert codes("budget_source=DOANH NGHIỆP") == {"NH-OWN"}
    assert codes("budget_source=trái phiếu") == set()
    bad(client.get(f"{PROJECTS}?budget_source=a%00b"), "budget_source")


def test_segment_name_in_the_api(as_role, projects):
    client = as_role("city_official")

    def ids(query):
        response = client.get(f"{SEGMENTS}?{query}")
        assert response.status_code == 200, response.content
        return {f["id"] for f in response.json()["features"]}

    assert ids("name=kim mã") == {str(projects["kim_ma"].public_id)}
    assert ids("name=phố") == {str(projects[n].public_id) for n in ("kim_ma", "doi_can")}
    assert ids("name=hàng bông") == set()
    bad(client.get(f"{SEGMENTS}?name=a%00b"), "name")


def test_project_page_narrows_by_budget_source(client, official, projects):  # noqa: F811
    client.force_login(official)
    response = client.get("/cables/?budget_source=doanh nghiệp")
    assert response.status_code == 200
    assert {p.code for p in response.context["object_list"]} == {"NH-OWN"}


# --- Civil-works notices: works dates, registration deadline ---------------------------------------


@pytest.fixture
def notices(db):
    owner = Organization.objects.get(code="SO_KHCN_HN")
    commune = AdministrativeUnit.objects.defer("boundary", "map_boundary").get(code="00004")

    def notice(title, starts, ends, deadline):
        return CivilWorksNotice.objects.create(
            title=title,
            owner=owner,
            route=LineString(KIM_MA, srid=4326),
            commune=commune,
            effective_from=starts,
            effective_to=ends,
            registration_deadline=deadline,
        )

    return {
        "spring": notice("Mùa xuân", D(2026, 3, 1), D(2026, 4, 30), D(2026, 2, 15)),
        "summer": notice("Mùa hè", D(2026, 6, 1), D(2026, 8, 31), D(2026, 5, 15)),
        "autumn": notice("Mùa thu", D(2026, 9, 1), D(2026, 11, 30), D(2026, 8, 15)),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("starts_after=2026-06-01", {"summer", "autumn"}),
        ("starts_before=01/06/2026", {"spring", "summer"}),
        ("ends_after=01/09/2026", {"autumn"}),
        ("ends_before=2026-08-31", {"spring", "summer"}),
        ("deadline_after=16/02/2026&deadline_before=2026-08-14", {"summer"}),
        ("deadline_before=2026-01-01", set()),
    ],
)
def test_notice_dates_in_the_api(as_role, notices, query, expected):
    response = as_role("operator_viettel").get(f"{NOTICES}?{query}")
    assert response.status_code == 200, response.content
    assert {f["id"] for f in response.json()["features"]} == {
        str(notices[n].public_id) for n in expected
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("starts_after=spring", "starts_after"),
        ("starts_before=1899-12-31", "starts_before"),
        ("ends_after=31/09/2026", "ends_after"),
        ("ends_before=01/01/2101", "ends_before"),
        ("deadline_after=2026-13-01", "deadline_after"),
        ("deadline_before=9999-12-31", "deadline_before"),
    ],
)
def test_bad_notice_date_is_400_with_its_name(as_role, notices, query, field):
    bad(as_role("operator_viettel").get(f"{NOTICES}?{query}"), field)


def test_notice_page_narrows_by_the_works_dates(client, official, notices):  # noqa: F811
    client.force_login(official)
    response = client.get("/cables/notices/?starts_after=01/05/2026&ends_before=30/09/2026")
    assert response.status_code == 200
    assert {n.pk for n in response.context["object_list"]} == {notices["summer"].pk}


# --- Progress updates: who reported ----------------------------------------------------------------


def test_progress_operator_in_the_api(as_role, role_user, official, projects):  # noqa: F811
    segment = projects["kim_ma"]
    viettel = role_user("operator_viettel")
    services.record_progress(official, segment, reported_on=days_ago(3), duct_built_m=10)
    services.record_progress(viettel, segment, reported_on=days_ago(2), duct_built_m=20)
    client = as_role("city_official")

    def reporters(query):
        response = client.get(f"{UPDATES}?segment={segment.public_id}&{query}")
        assert response.status_code == 200, response.content
        return [u["operator"] for u in response.json()["results"]]

    assert len(reporters("")) == 2
    assert reporters("operator=VIETTEL") == ["VIETTEL"]
    assert reporters("operator=MOBIFONE") == []
    bad(client.get(f"{UPDATES}?operator=NOPE"), "operator")
