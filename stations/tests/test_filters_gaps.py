"""Filters that closed issue 15's gaps on the stations lists: the API list and the page narrow
alike (one FilterSet serves both), and a bad value is a 400 naming the filter (real PostGIS)."""

import datetime

import pytest
from django.utils import timezone

from stations import services
from stations.models import PermitApplication

pytestmark = pytest.mark.django_db
STATIONS = "/api/v1/stations/"
APPLICATIONS = "/api/v1/permit-applications/"


def moment(day):
    """Noon of ``day`` in Hanoi."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# --- Stations: commissioned_on --------------------------------------------------------------------


@pytest.fixture
def commissioned(make_station):
    return {
        "old": make_station(code="C-OLD", commissioned_on=datetime.date(2015, 3, 1)),
        "mid": make_station(code="C-MID", commissioned_on=datetime.date(2020, 6, 15)),
        "new": make_station(code="C-NEW", commissioned_on=datetime.date(2024, 1, 10)),
        "none": make_station(code="C-NONE"),
    }


def station_codes(response):
    assert response.status_code == 200, response.content
    return {f["properties"]["code"] for f in response.json()["features"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("commissioned_after=2020-06-15", {"C-MID", "C-NEW"}),
        ("commissioned_before=2020-06-15", {"C-OLD", "C-MID"}),
        ("commissioned_after=01/01/2016&commissioned_before=31/12/2023", {"C-MID"}),
        ("commissioned_after=2025-01-01", set()),
    ],
)
def test_station_commissioned_range_in_the_api(as_role, commissioned, query, expected):
    assert station_codes(as_role("city_official").get(f"{STATIONS}?{query}")) == expected


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("commissioned_after=yesterday", "commissioned_after", "valid date"),
        ("commissioned_before=31/02/2020", "commissioned_before", "valid date"),
        ("commissioned_after=01/01/1800", "commissioned_after", "1900"),
        ("commissioned_before=9999-12-31", "commissioned_before", "2100"),
    ],
)
def test_bad_commissioned_date_is_400_with_its_name(as_role, commissioned, query, field, words):
    response = as_role("city_official").get(f"{STATIONS}?{query}")
    assert response.status_code == 400, response.content
    assert words in response.json()[field][0]


def test_station_page_narrows_by_commissioning_date(client, role_user, commissioned):
    client.force_login(role_user("city_official"))
    response = client.get("/stations/?commissioned_after=01/01/2016&commissioned_before=31/12/2023")
    assert response.status_code == 200
    assert {s.code for s in response.context["object_list"]} == {"C-MID"}
    assert 'name="commissioned_after"' in response.content.decode()


# --- Permit applications ------------------------------------------------------------------------


@pytest.fixture
def applications(role_user, make_application, app_type):
    """Three submitted applications told apart by type, structure, land, and their dates."""
    viettel = role_user("operator_viettel")
    official = role_user("city_official")

    def submitted(code, submitted_on, decided_on=None, **fields):
        app = services.submit(viettel, make_application(viettel, station_code=code, **fields), "x")
        changes = {"submitted_at": moment(submitted_on)}
        if decided_on is not None:
            changes.update(decided_at=moment(decided_on), decided_by=official)
        PermitApplication.objects.filter(pk=app.pk).update(**changes)
        return app

    return {
        "roof": submitted("HN-ROOF", datetime.date(2025, 1, 10), datetime.date(2025, 2, 1)),
        "pole": submitted(
            "HN-POLE",
            datetime.date(2025, 3, 5),
            datetime.date(2025, 3, 20),
            type_code="non_bulky",
            structure_type="pole",
            land_category="public_place",
        ),
        "tower": submitted(
            "HN-TOWER",
            datetime.date(2025, 4, 1),
            structure_type="monopole",
            land_category="public_land",
        ),
    }


def application_codes(response):
    assert response.status_code == 200, response.content
    return {a["station_code"] for a in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("application_type=non_bulky", {"HN-POLE"}),
        ("application_type=public_station", {"HN-ROOF", "HN-TOWER"}),
        ("structure_type=rooftop_mast", {"HN-ROOF"}),
        ("structure_type=lattice_tower", set()),
        ("land_category=public_land", {"HN-TOWER"}),
        ("land_category=public_place&application_type=non_bulky", {"HN-POLE"}),
        ("submitted_after=2025-03-05", {"HN-POLE", "HN-TOWER"}),
        ("submitted_before=05/03/2025", {"HN-ROOF", "HN-POLE"}),
        ("submitted_after=11/01/2025&submitted_before=31/03/2025", {"HN-POLE"}),
        ("decided_after=2025-02-02", {"HN-POLE"}),
        ("decided_before=01/02/2025", {"HN-ROOF"}),
        ("decided_after=2025-01-01&decided_before=2025-12-31", {"HN-ROOF", "HN-POLE"}),
    ],
)
def test_application_filters_in_the_api(as_role, applications, query, expected):
    assert application_codes(as_role("city_official").get(f"{APPLICATIONS}?{query}")) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("application_type=nope", "application_type"),
        ("structure_type=pyramid", "structure_type"),
        ("land_category=moon", "land_category"),
        ("submitted_after=soon", "submitted_after"),
        ("submitted_before=1899-12-31", "submitted_before"),
        ("decided_after=32/01/2025", "decided_after"),
        ("decided_before=01/01/2101", "decided_before"),
    ],
)
def test_bad_application_filter_is_400_with_its_name(as_role, applications, query, field):
    response = as_role("city_official").get(f"{APPLICATIONS}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()[field]


def test_application_page_narrows_by_the_new_filters(client, role_user, applications):
    client.force_login(role_user("city_official"))
    response = client.get(
        "/stations/applications/?application_type=public_station&structure_type=monopole"
        "&submitted_after=01/03/2025"
    )
    assert response.status_code == 200
    assert {a.station_code for a in response.context["object_list"]} == {"HN-TOWER"}
    bad = client.get("/stations/applications/?decided_before=01/01/2101")
    assert bad.status_code == 200
    assert "2100" in bad.content.decode()
