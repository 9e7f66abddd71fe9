"""The stations API over HTTP: permissions, bad input, pagination, filters, query counts and the
permit workflow (real PostGIS, no mocks)."""

import threading
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from conftest import ROLE_USERS
from stations.models import (
    ApplicationDocument,
    PermitApplication,
    PublicSite,
    Station,
)
from stations.tests.conftest import BA_DINH, NEAR_BA_DINH, jpeg_named_pdf, pdf

pytestmark = pytest.mark.django_db
S = PermitApplication.Status
ROLES = [*ROLE_USERS, "anonymous"]
FAR_AWAY = Point(105.7800, 21.0300, srid=4326)  # ~5.7 km west of BA_DINH, still in Hanoi
STATIONS = "/api/v1/stations/"
SITES = "/api/v1/public-sites/"
APPLICATIONS = "/api/v1/permit-applications/"


def feature(**properties):
    """A station as a GeoJSON Feature, as a client would send it."""
    location = properties.pop("location", [BA_DINH.x, BA_DINH.y])
    data = {
        "operator": "VIETTEL",
        "code": "VT-API-1",
        "name": "Trạm API",
        "structure_type": "monopole",
        "structure_height_m": 30,
        "land_category": "public_land",
        "technologies": ["4G", "5G"],
    }
    data.update(properties)
    geometry = (
        {"type": "Point", "coordinates": location} if isinstance(location, list) else location
    )
    return {"type": "Feature", "geometry": geometry, "properties": data}


def snapshot(station):
    station.refresh_from_db()
    return {
        f.attname: getattr(station, f.attname)
        for f in Station._meta.concrete_fields
        if f.attname != "location"
    } | {"location": station.location.wkt}


def feature_ids(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/geo+json")
    return [f["id"] for f in response.json()["features"]]


# --- Permission matrices --------------------------------------------------------------------------

# role: (list, retrieve Viettel's, create a Viettel station, update Viettel's)
STATION_MATRIX = {
    "city_official": (200, 200, 201, 200),
    "national_official": (200, 200, 403, 403),
    "operator_viettel": (200, 200, 201, 200),
    "operator_mobifone": (200, 404, 403, 404),
    "agency_api_client": (200, 200, 403, 403),
    "operator_api_client": (200, 404, 403, 404),
    "administrator": (200, 200, 201, 200),
    "no_role": (403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401),
}
# Who sees which of (Viettel's, MobiFone's) stations in the list.
STATION_LIST_SCOPE = {
    "city_official": {"VIETTEL", "MOBIFONE"},
    "national_official": {"VIETTEL", "MOBIFONE"},
    "operator_viettel": {"VIETTEL"},
    "operator_mobifone": {"MOBIFONE"},
    "agency_api_client": {"VIETTEL", "MOBIFONE"},
    "operator_api_client": set(),
    "administrator": {"VIETTEL", "MOBIFONE"},
}


def test_matrices_cover_every_role():
    assert set(STATION_MATRIX) == set(SITE_MATRIX) == set(APPLICATION_MATRIX) == set(ROLES)


@pytest.mark.parametrize("operation", ["list", "retrieve", "create", "update"])
@pytest.mark.parametrize("role", ROLES)
def test_station_permission_matrix(as_role, make_station, role, operation):
    viettel = make_station("VIETTEL", code="VT-OWN")
    mobifone = make_station("MOBIFONE", location=NEAR_BA_DINH, code="MF-OWN")
    client = as_role(role)
    expected = STATION_MATRIX[role][["list", "retrieve", "create", "update"].index(operation)]
    before = snapshot(viettel)
    if operation == "list":
        response = client.get(STATIONS)
    elif operation == "retrieve":
        response = client.get(f"{STATIONS}{viettel.public_id}/")
    elif operation == "create":
        response = client.post(STATIONS, feature(), format="json")
    else:
        response = client.patch(
            f"{STATIONS}{viettel.public_id}/", {"name": "Đổi tên"}, format="json"
        )
    assert response.status_code == expected, response.content[:300]
    if operation == "list" and expected == 200:
        ids = set(feature_ids(response))
        owners = {"VIETTEL": str(viettel.public_id), "MOBIFONE": str(mobifone.public_id)}
        assert ids == {owners[code] for code in STATION_LIST_SCOPE[role]}
    if operation == "create":
        assert Station.objects.filter(code="VT-API-1").exists() == (expected == 201)
    if operation == "update" and expected != 200:
        assert snapshot(viettel) == before
    if operation == "update" and expected == 200:
        assert response.json()["properties"]["name"] == "Đổi tên"


def test_operator_api_client_registers_its_own_stations(as_role):
    client = as_role("operator_api_client")  # VNPT
    response = client.post(STATIONS, feature(operator="VNPT"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["properties"]["operator"] == "VNPT"


# role: (list, retrieve, create, update)
SITE_MATRIX = {
    "city_official": (200, 200, 201, 200),
    "national_official": (200, 200, 403, 403),
    "operator_viettel": (200, 200, 403, 403),
    "operator_mobifone": (200, 200, 403, 403),
    "agency_api_client": (200, 200, 403, 403),
    "operator_api_client": (200, 200, 403, 403),
    "administrator": (200, 200, 201, 200),
    "no_role": (403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401),
}


def site_feature(**properties):
    data = {
        "name": "Nhà văn hoá phường",
        "owner": "UBND_HN",
        "address": "Số 2 Phố Thử",
        "land_category": "public_building",
        "building_height_m": 12,
        "capacity": 2,
    }
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": data,
    }


@pytest.mark.parametrize("operation", ["list", "retrieve", "create", "update"])
@pytest.mark.parametrize("role", ROLES)
def test_public_site_permission_matrix(as_role, make_site, role, operation):
    site = make_site()
    client = as_role(role)
    expected = SITE_MATRIX[role][["list", "retrieve", "create", "update"].index(operation)]
    if operation == "list":
        response = client.get(SITES)
    elif operation == "retrieve":
        response = client.get(f"{SITES}{site.public_id}/")
    elif operation == "create":
        response = client.post(SITES, site_feature(), format="json")
    else:
        response = client.patch(f"{SITES}{site.public_id}/", {"capacity": 3}, format="json")
    assert response.status_code == expected, response.content[:300]
    if operation == "list" and expected == 200:
        assert feature_ids(response) == [str(site.public_id)]
    if operation == "create":
        assert PublicSite.objects.filter(name="Nhà văn hoá phường").exists() == (expected == 201)
    if operation == "update":
        site.refresh_from_db()
        assert site.capacity == (3 if expected == 200 else 1)


# role: (list, retrieve Viettel's, create a draft, edit Viettel's draft)
APPLICATION_MATRIX = {
    "city_official": (200, 200, 403, 403),
    "national_official": (200, 200, 403, 403),
    "operator_viettel": (200, 200, 201, 200),
    "operator_mobifone": (200, 404, 201, 404),
    "agency_api_client": (200, 200, 403, 403),
    "operator_api_client": (200, 404, 201, 404),
    "administrator": (200, 200, 403, 403),
    "no_role": (403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401),
}


def draft_body(**fields):
    data = {
        "application_type": "public_station",
        "station_code": "HN-API-1",
        "station_name": "Trạm mới qua API",
        "address": "Số 3 Phố Thử",
        "location": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "structure_type": "rooftop_mast",
        "structure_height_m": 6,
        "building_height_m": 24,
        "technologies": ["4G"],
        "land_category": "public_building",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("role", "operation"),
    [
        pytest.param(role, operation)
        for role in ROLES
        for operation in ("list", "retrieve", "create", "update")
    ],
)
def test_application_permission_matrix(as_role, role_user, make_application, role, operation):
    viettel_staff = role_user("operator_viettel")
    app = make_application(viettel_staff)
    client = as_role(role)
    expected = APPLICATION_MATRIX[role][["list", "retrieve", "create", "update"].index(operation)]
    if operation == "list":
        response = client.get(APPLICATIONS)
    elif operation == "retrieve":
        response = client.get(f"{APPLICATIONS}{app.pk}/")
    elif operation == "create":
        response = client.post(APPLICATIONS, draft_body(), format="json")
    else:
        response = client.patch(
            f"{APPLICATIONS}{app.pk}/", {"station_name": "Đổi tên"}, format="json"
        )
    assert response.status_code == expected, response.content[:300]
    if operation == "list" and expected == 200:
        ids = [a["id"] for a in response.json()["results"]]
        # The application is a draft: listed to its applicant only (as on the page).
        assert ids == ([app.pk] if role == "operator_viettel" else [])
    if operation == "create":
        assert PermitApplication.objects.filter(station_code="HN-API-1").exists() == (
            expected == 201
        )
    if operation == "update":
        app.refresh_from_db()
        assert (app.station_name == "Đổi tên") == (expected == 200)


@pytest.mark.parametrize("role", ["operator_mobifone", "operator_api_client"])
@pytest.mark.parametrize(
    "step", ["submit", "withdraw", "return", "accept", "approve", "documents", "messages"]
)
def test_another_operator_cannot_act_on_an_application(
    as_role, role_user, make_application, role, step
):
    app = make_application(role_user("operator_viettel"))
    response = as_role(role).post(f"{APPLICATIONS}{app.pk}/{step}/", {}, format="json")
    assert response.status_code == 404
    app.refresh_from_db()
    assert app.status == S.DRAFT and not app.timeline.exists()


# --- Stations: representation, writes and bad input --------------------------------------------------


def test_create_from_a_feature_suggests_the_commune(as_role):
    response = as_role("operator_viettel").post(STATIONS, feature(), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    station = Station.objects.get(code="VT-API-1")
    assert data["type"] == "Feature" and data["id"] == str(station.public_id)
    assert data["geometry"] == {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]}
    props = data["properties"]
    assert props["id"] == str(station.public_id)
    assert props["operator"] == "VIETTEL" and props["commune"] == "00004"
    assert props["technologies"] == ["4G", "5G"] and props["structure_height_m"] == 30.0
    assert props["non_bulky"] is False and props["status"] == "planned"


def test_create_from_plain_json_with_a_location(as_role):
    body = {
        **feature()["properties"],
        "location": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "commune": "00004",
        "structure_type": "camouflaged_mast",
    }
    response = as_role("city_official").post(STATIONS, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["properties"]["non_bulky"] is True
    assert Station.objects.get(code="VT-API-1").commune.code == "00004"


def test_list_and_detail_give_the_same_feature(as_role, make_station):
    station = make_station(
        building_height_m=Decimal("24"), commissioned_on="2024-05-01", permit_reference="12/GP"
    )
    client = as_role("city_official")
    listed = client.get(STATIONS).json()["features"][0]
    detail = client.get(f"{STATIONS}{station.public_id}/").json()
    assert set(listed) == set(detail) == {"type", "id", "geometry", "properties"}
    from datetime import datetime

    for item in (listed, detail):
        item["properties"]["updated_at"] = datetime.fromisoformat(item["properties"]["updated_at"])
    assert listed == detail
    assert list(listed["properties"]) == list(detail["properties"])


def test_update_moves_the_point_and_finds_the_commune_again(as_role, make_station):
    station = make_station()
    cau_giay = Point(105.7950, 21.0300, srid=4326)
    response = as_role("operator_viettel").patch(
        f"{STATIONS}{station.public_id}/",
        {"location": {"type": "Point", "coordinates": [cau_giay.x, cau_giay.y]}},
        format="json",
    )
    assert response.status_code == 200, response.content
    station.refresh_from_db()
    assert station.commune.code != "00004"
    assert response.json()["properties"]["commune"] == station.commune.code


def test_put_replaces_the_station(as_role, make_station):
    station = make_station()
    body = feature(code=station.code, name="Thay hết", structure_height_m=45)
    response = as_role("operator_viettel").put(
        f"{STATIONS}{station.public_id}/", body, format="json"
    )
    assert response.status_code == 200, response.content
    station.refresh_from_db()
    assert station.name == "Thay hết" and station.structure_height_m == Decimal("45")


def test_operator_cannot_hand_its_station_to_another_operator(as_role, make_station):
    station = make_station()
    before = snapshot(station)
    response = as_role("operator_viettel").patch(
        f"{STATIONS}{station.public_id}/", {"operator": "MOBIFONE"}, format="json"
    )
    assert response.status_code == 403
    assert snapshot(station) == before


def test_if_match_guards_against_lost_updates(as_role, make_station):
    station = make_station()
    url = f"{STATIONS}{station.public_id}/"
    client = as_role("operator_viettel")
    tag = client.get(url)["ETag"]
    assert tag
    response = client.patch(url, {"name": "Lần một"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    new_tag = response["ETag"]
    assert new_tag != tag
    # A second writer still holding the first ETag is refused, and changes nothing.
    response = client.patch(url, {"name": "Lần hai"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 412
    station.refresh_from_db()
    assert station.name == "Lần một"
    assert client.patch(url, {"name": "Ba"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    site_tag = as_role("city_official").get(url)["ETag"]
    assert site_tag != new_tag


def test_duplicate_code_is_a_field_error(as_role, make_station):
    make_station(code="VT-API-1")
    response = as_role("operator_viettel").post(STATIONS, feature(), format="json")
    assert response.status_code == 400 and "code" in response.json()


def test_unknown_or_malformed_station_id_is_404(as_role):
    client = as_role("city_official")
    assert client.get(f"{STATIONS}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{STATIONS}not-a-uuid/").status_code == 404


BAD_STATION_INPUT = [
    # (what, change to the Feature, field named in the answer, words of the message)
    ("outside Vietnam", {"location": [2.35, 48.85]}, "location", "outside Vietnam"),
    ("outside Hanoi", {"location": [106.70, 10.78]}, "location", "outside Hanoi"),
    ("not in the commune", {"commune": "00008"}, "commune", "not in"),
    ("negative height", {"structure_height_m": -5}, "structure_height_m", "more than 0"),
    ("height over 300 m", {"structure_height_m": 301}, "structure_height_m", "300 m"),
    ("absurd building", {"building_height_m": 5000}, "building_height_m", "300 m"),
    ("non-numeric height", {"structure_height_m": "tall"}, "structure_height_m", "number"),
    ("unknown operator", {"operator": "NOPE"}, "operator", "Unknown operator code"),
    ("agency as operator", {"operator": "CUC_VT"}, "operator", "Unknown operator code"),
    ("unknown commune", {"commune": "99999"}, "commune", "Unknown commune code"),
    ("bad structure", {"structure_type": "pyramid"}, "structure_type", "not a valid choice"),
    ("bad land", {"land_category": "moon"}, "land_category", "not a valid choice"),
    ("bad status", {"status": "flying"}, "status", "not a valid choice"),
    ("bad technology", {"technologies": ["6G"]}, "technologies", "not a valid choice"),
    ("bad date", {"commissioned_on": "31/31/2024"}, "commissioned_on", "format"),
    ("polygon", {"location": {"type": "Polygon", "coordinates": [[[0, 0]]]}}, "location", ""),
    (
        "line",
        {"location": {"type": "LineString", "coordinates": [[105.8, 21.0], [105.9, 21.1]]}},
        "location",
        "Point",
    ),
    ("not geometry", {"location": {"type": "Nothing"}}, "location", ""),
    ("geometry as number", {"location": 7}, "location", "GeoJSON"),
    ("longitude 200", {"location": [200, 21.0]}, "location", "-180..180"),
    ("no location", {"location": None}, "location", ""),
    ("missing code", {"code": None}, "code", ""),
]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [pytest.param(c, f, w, id=what) for what, c, f, w in BAD_STATION_INPUT],
)
def test_bad_station_input_is_400_and_nothing_is_stored(as_role, change, field, words):
    body = feature(**change)
    if change.get("code", "") is None:
        del body["properties"]["code"]
    response = as_role("city_official").post(STATIONS, body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert words in str(errors[field]), errors
    assert not Station.objects.exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        pytest.param(c, f, w, id=what)
        for what, c, f, w in BAD_STATION_INPUT
        if what not in ("missing code", "no location")
    ],
)
def test_bad_station_update_is_400_and_the_station_unchanged(
    as_role, make_station, change, field, words
):
    station = make_station()
    before = snapshot(station)
    body = feature(**change)
    patch = {**body["properties"]}
    patch = {k: v for k, v in patch.items() if k in change} | (
        {"location": body["geometry"]} if "location" in change else {}
    )
    response = as_role("city_official").patch(
        f"{STATIONS}{station.public_id}/", patch, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert snapshot(station) == before


@pytest.mark.parametrize(
    "body",
    [
        [1, 2, 3],
        "POINT(105 21)",
        {"type": "Feature", "properties": ["not", "an", "object"], "geometry": None},
    ],
)
def test_malformed_bodies_are_400(as_role, body):
    response = as_role("city_official").post(STATIONS, body, format="json")
    assert response.status_code == 400
    assert not Station.objects.exists()


def test_a_feature_without_properties_names_the_missing_fields(as_role):
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.83, 21.03]}}
    response = as_role("city_official").post(STATIONS, body, format="json")
    assert response.status_code == 400
    assert {"operator", "code", "structure_type"} <= set(response.json())
    assert "location" not in response.json()


@pytest.mark.parametrize("z", [12.5, 1e308, 0])
def test_a_height_given_as_third_coordinate_is_refused(as_role, z):
    """Issue 14: a third coordinate was dropped silently; it is a field error now."""
    body = feature(location=[BA_DINH.x, BA_DINH.y, z])
    response = as_role("city_official").post(STATIONS, body, format="json")
    assert response.status_code == 400, response.content
    assert "location" in response.json()
    assert not Station.objects.exists()


# --- Lists: filters, pagination and query counts -------------------------------------------------------


@pytest.fixture
def register(make_station):
    """Six stations with something to tell them apart."""
    return {
        "vt_4g": make_station("VIETTEL", code="VT-1", name="Trạm Đống Đa", technologies=["4G"]),
        "vt_5g": make_station(
            "VIETTEL", location=NEAR_BA_DINH, code="VT-2", technologies=["4G", "5G"]
        ),
        "mf_roof": make_station(
            "MOBIFONE",
            code="MF-1",
            structure_type="rooftop_mast",
            structure_height_m=Decimal("3"),
            building_height_m=Decimal("20"),
            technologies=["5G"],
        ),
        "mf_far": make_station("MOBIFONE", location=FAR_AWAY, code="MF-2", status="planned"),
        "vnpt_camo": make_station(
            "VNPT", location=FAR_AWAY, code="VN-1", structure_type="camouflaged_mast"
        ),
        "vnpt_old": make_station("VNPT", code="VN-2", status="decommissioned", technologies=[]),
    }


def ids_of(register, *names):
    return [str(register[n].public_id) for n in sorted(names, key=lambda n: register[n].pk)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("operator=VIETTEL", ["vt_4g", "vt_5g"]),
        ("operator=VIETTEL&operator=VNPT", ["vt_4g", "vt_5g", "vnpt_camo", "vnpt_old"]),
        ("technology=5G", ["vt_5g", "mf_roof"]),
        ("technology=5G&operator=MOBIFONE", ["mf_roof"]),
        ("status=planned", ["mf_far"]),
        ("status=planned&status=decommissioned", ["mf_far", "vnpt_old"]),
        ("structure_type=camouflaged_mast", ["vnpt_camo"]),
        ("non_bulky=true", ["mf_roof", "vnpt_camo"]),
        ("non_bulky=false", ["vt_4g", "vt_5g", "mf_far", "vnpt_old"]),
        ("bbox=105.77,21.02,105.79,21.04", ["mf_far", "vnpt_camo"]),
        ("near=105.8345,21.0360,50", ["vt_4g", "mf_roof", "vnpt_old"]),
        ("near=105.8345,21.0360,200", ["vt_4g", "vt_5g", "mf_roof", "vnpt_old"]),
        (
            "near=105.8345,21.0360,10000",
            ["vt_4g", "vt_5g", "mf_roof", "mf_far", "vnpt_camo", "vnpt_old"],
        ),
        ("q=dong da", ["vt_4g"]),
        ("q=ĐỐNG ĐA", ["vt_4g"]),
        ("q=tram thu", ["vt_5g", "mf_roof", "mf_far", "vnpt_camo", "vnpt_old"]),
        ("q=vn-1", ["vnpt_camo"]),
        ("commune=00004&operator=MOBIFONE", ["mf_roof"]),
    ],
)
def test_station_filters(as_role, register, query, expected):
    response = as_role("city_official").get(f"{STATIONS}?{query}")
    assert feature_ids(response) == ids_of(register, *expected)


def test_operator_filter_stays_inside_the_operators_scope(as_role, register):
    response = as_role("operator_viettel").get(f"{STATIONS}?operator=MOBIFONE")
    assert feature_ids(response) == []


BAD_FILTERS = [
    ("bbox=1,2,3", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=106,21,105,20", "bbox"),
    ("near=105.8,21.0", "near"),
    ("near=105.8,21.0,0", "near"),
    ("near=105.8,21.0,99999", "near"),
    ("near=east,north,100", "near"),
    ("status=flying", "status"),
    ("operator=NOPE", "operator"),
    ("technology=6G", "technology"),
    ("structure_type=pyramid", "structure_type"),
    ("land_category=moon", "land_category"),
    ("commune=99999", "commune"),
]


@pytest.mark.parametrize(("query", "field"), BAD_FILTERS)
def test_bad_station_filter_is_400_with_its_name(as_role, register, query, field):
    response = as_role("city_official").get(f"{STATIONS}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"{SITES}?bbox=1,2", "bbox"),
        (f"{SITES}?status=lost", "status"),
        (f"{SITES}?owner=NOPE", "owner"),
        (f"{APPLICATIONS}?status=lost", "status"),
        (f"{APPLICATIONS}?overdue=perhaps", None),
        (f"{APPLICATIONS}?applicant=NOPE", "applicant"),
    ],
)
def test_bad_filters_on_other_lists(as_role, url, field):
    response = as_role("city_official").get(url)
    if field is None:  # a boolean filter reads anything else as "either"
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert field in response.json()


def test_cursor_pages_are_disjoint_and_cover_every_station(as_role, make_station):
    stations = [make_station(code=f"P-{i:02d}") for i in range(12)]
    client = as_role("city_official")
    pages, url = [], f"{STATIONS}?page_size=5"
    while url:
        data = client.get(url).json()
        assert data["type"] == "FeatureCollection"
        pages.append([f["id"] for f in data["features"]])
        url = data["next"]
    assert [len(p) for p in pages] == [5, 5, 2]
    flat = [i for page in pages for i in page]
    assert len(set(flat)) == len(flat) == 12
    assert flat == [str(s.public_id) for s in stations]  # in id order
    # Back from the second page to the first.
    second = client.get(client.get(f"{STATIONS}?page_size=5").json()["next"]).json()
    assert second["previous"]
    first = client.get(second["previous"]).json()
    assert [f["id"] for f in first["features"]] == pages[0]
    assert first["previous"] is None


def test_cursor_pages_keep_the_filter(as_role, register):
    client = as_role("city_official")
    data = client.get(f"{STATIONS}?operator=MOBIFONE&operator=VNPT&page_size=3").json()
    rest = client.get(data["next"]).json()
    assert [f["id"] for f in data["features"] + rest["features"]] == ids_of(
        register, "mf_roof", "mf_far", "vnpt_camo", "vnpt_old"
    )
    assert rest["next"] is None


def test_a_bad_cursor_is_404_not_500(as_role):
    assert as_role("city_official").get(f"{STATIONS}?cursor=garbage").status_code == 404


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["city_official", "agency_api_client", "operator_viettel"])
def test_station_list_query_count_is_constant(
    as_role, make_station, django_assert_max_num_queries, role
):
    for i in range(120):
        make_station(
            "VIETTEL" if i % 2 else "MOBIFONE",
            code=f"Q-{i:03d}",
            technologies=["4G", "5G"] if i % 3 else ["4G"],
        )
    client = as_role(role)
    query = "&technology=4G&operator=VIETTEL&operator=MOBIFONE&bbox=105,20,106,22"
    with django_assert_max_num_queries(5):
        small = client.get(f"{STATIONS}?page_size=5{query}")
    with django_assert_max_num_queries(5):
        big = client.get(f"{STATIONS}?page_size=100{query}")
    assert len(small.json()["features"]) == 5
    assert len(big.json()["features"]) == (100 if role != "operator_viettel" else 60)
    small_count, _ = _queries(client, f"{STATIONS}?page_size=5{query}")
    big_count, _ = _queries(client, f"{STATIONS}?page_size=100{query}")
    assert small_count == big_count


def test_public_site_and_application_lists_query_count_is_constant(
    as_role, role_user, make_site, make_application, django_assert_max_num_queries
):
    viettel = role_user("operator_viettel")
    for i in range(30):
        make_site(name=f"Site {i}")
        make_application(viettel, station_code=f"HN-{i:03d}")
    # Submitted: officials do not list drafts.
    PermitApplication.objects.filter(applicant=viettel.organization).update(status=S.SUBMITTED)
    client = as_role("city_official")
    client.get(SITES)  # the user's roles are read once, on the first request
    for base in (SITES, APPLICATIONS):
        small_count, small = _queries(client, f"{base}?page_size=3")
        big_count, big = _queries(client, f"{base}?page_size=30")
        assert small_count == big_count <= 5, base
    assert len(big.json()["results"]) == 30


def test_public_sites_list_with_taken_and_area(as_role, make_site):
    area = {
        "type": "Polygon",
        "coordinates": [
            [
                [105.834, 21.0355],
                [105.835, 21.0355],
                [105.835, 21.0365],
                [105.834, 21.0365],
                [105.834, 21.0355],
            ]
        ],
    }
    client = as_role("city_official")
    response = client.post(SITES, site_feature(area=area), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["properties"]["commune"] == "00004" and created["properties"]["taken"] == 0
    listed = client.get(SITES).json()["features"][0]
    assert listed["id"] == created["id"]
    assert listed["properties"]["area"] == area
    assert listed["properties"]["taken"] == 0 and listed["properties"]["owner"] == "UBND_HN"
    from datetime import datetime

    for item in (listed, created):
        item["properties"]["updated_at"] = datetime.fromisoformat(item["properties"]["updated_at"])
    assert listed == created


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"owner": "NOPE"}, "owner"),
        ({"commune": "00008"}, "commune"),
        ({"building_height_m": -3}, "building_height_m"),
        ({"status": "lost"}, "status"),
        ({"area": {"type": "Point", "coordinates": [105.8, 21.0]}}, "area"),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [105.8, 21.0],
                            [105.81, 21.01],
                            [105.81, 21.0],
                            [105.8, 21.01],
                            [105.8, 21.0],
                        ]
                    ],
                }
            },
            "area",
        ),
    ],
)
def test_bad_public_site_input_is_400(as_role, change, field):
    response = as_role("city_official").post(SITES, site_feature(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not PublicSite.objects.exists()


# --- Permit applications ------------------------------------------------------------------------------


def post(client, app, step, body=None, **kwargs):
    return client.post(
        f"{APPLICATIONS}{app.pk if hasattr(app, 'pk') else app}/{step}/",
        body or {},
        format=kwargs.pop("format", "json"),
        **kwargs,
    )


def test_full_permit_flow_through_the_api(as_role, make_station, make_site):
    viettel, official = as_role("operator_viettel"), as_role("city_official")
    mobifone_station = make_station("MOBIFONE", location=NEAR_BA_DINH, code="MF-NEAR")
    site = make_site()

    # A draft on a public site: the site fills in the place.
    body = draft_body(public_site=str(site.public_id))
    del body["location"], body["address"], body["land_category"]
    response = viettel.post(APPLICATIONS, body, format="json")
    assert response.status_code == 201, response.content
    app = response.json()
    assert app["status"] == "draft" and app["number"] is None and app["applicant"] == "VIETTEL"
    assert app["public_site"] == str(site.public_id) and app["commune"] == "00004"
    assert app["location"] == {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]}
    assert set(app["allowed_actions"]) == {"submit", "withdraw"} and app["days_left"] is None
    assert {c["document_type"] for c in app["checklist"]} >= {"drawings", "land_use"}

    # A PDF for the checklist.
    response = viettel.post(
        f"{APPLICATIONS}{app['id']}/documents/",
        {"document_type": "drawings", "file": pdf()},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "application/pdf"

    # A MobiFone station stands ~115 m away: submitting needs a reason not to share it.
    response = post(viettel, app["id"], "submit")
    assert response.status_code == 400 and "sharing_justification" in response.json()
    assert PermitApplication.objects.get(pk=app["id"]).status == S.DRAFT
    response = post(
        viettel, app["id"], "submit", {"sharing_justification": "Cột MobiFone không đủ tải."}
    )
    assert response.status_code == 200, response.content
    app = response.json()
    assert app["status"] == "submitted" and app["number"].startswith("HN-")
    assert [c["code"] for c in app["colocation_candidates"]] == [mobifone_station.code]
    assert 100 < app["colocation_candidates"][0]["distance_m"] < 130
    assert app["days_left"] == 10 and app["decision_due"]

    # Tracked by number.
    found = official.get(f"{APPLICATIONS}?number={app['number'].lower()}").json()["results"]
    assert [a["id"] for a in found] == [app["id"]]

    # Returned with a note, resubmitted, accepted, approved.
    assert set(official.get(f"{APPLICATIONS}{app['id']}/").json()["allowed_actions"]) == {
        "return",
        "accept",
    }
    response = post(official, app["id"], "return", {"note": "", "version": app["version"]})
    assert response.status_code == 400 and "note" in response.json()
    response = post(
        official, app["id"], "return", {"note": "Thiếu bản vẽ kết cấu", "version": app["version"]}
    )
    assert response.status_code == 200, response.content
    app = response.json()
    assert app["status"] == "returned" and app["allowed_actions"] == []
    response = post(viettel, app["id"], "resubmit", {"note": "Đã bổ sung"})
    assert response.status_code == 200 and response.json()["status"] == "resubmitted"
    app = post(official, app["id"], "accept", {"version": response.json()["version"]}).json()
    assert app["status"] == "under_review"
    response = post(
        official,
        app["id"],
        "approve",
        {"decision_number": "45/GP-SKHCN", "version": app["version"]},
    )
    assert response.status_code == 200, response.content
    app = response.json()
    assert app["status"] == "approved" and app["decision_number"] == "45/GP-SKHCN"
    assert app["station"]

    # The permit made the station.
    station = Station.objects.get(public_id=app["station"])
    assert station.status == Station.Status.PERMITTED and station.code == "HN-API-1"
    assert station.operator.code == "VIETTEL" and station.permit_reference == "45/GP-SKHCN"
    listed = viettel.get(f"{STATIONS}?q=HN-API-1").json()["features"]
    assert [f["properties"]["status"] for f in listed] == ["permitted"]
    site.refresh_from_db()
    assert site.status == PublicSite.Status.OCCUPIED

    # The timeline tells the story.
    timeline = viettel.get(f"{APPLICATIONS}{app['id']}/").json()["timeline"]
    assert [e["to_status"] for e in timeline if e["kind"] == "status"] == [
        "submitted",
        "returned",
        "resubmitted",
        "under_review",
        "approved",
    ]
    assert any(e["kind"] == "document" for e in timeline)


def test_second_decision_with_the_same_version_is_a_conflict(as_role, role_user, make_application):
    from stations import services

    viettel = role_user("operator_viettel")
    app = services.accept(
        role_user("city_official"), services.submit(viettel, make_application(viettel))
    )
    first, second = as_role("city_official"), as_role("city_official")
    response = post(first, app, "approve", {"decision_number": "1/GP", "version": app.version})
    assert response.status_code == 200, response.content
    response = post(second, app, "approve", {"decision_number": "2/GP", "version": app.version})
    assert response.status_code == 409
    assert "Someone else changed this application first" in response.json()["detail"]
    response = post(second, app, "reject", {"reasons": "Không phù hợp", "version": app.version})
    assert response.status_code == 409
    app.refresh_from_db()
    assert app.status == S.APPROVED and app.decision_number == "1/GP"
    assert app.decided_by == first.user and app.timeline.filter(to_status="approved").count() == 1
    # Without a version, a decision on a decided application is a conflict too.
    response = post(second, app, "reject", {"reasons": "Không phù hợp"})
    assert response.status_code == 409
    assert "already been decided" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_two_officials_deciding_at_once_one_wins(
    as_role, role_user, make_application, reference_data
):
    """Real concurrency: two requests in two threads, each on its own database connection."""
    from stations import services

    viettel = role_user("operator_viettel")
    draft = make_application(viettel, station_code="HN-RACE")
    with transaction.atomic():
        app = services.accept(role_user("city_official"), services.submit(viettel, draft))
    clients = [as_role("city_official"), as_role("city_official")]
    bodies = [
        ("approve", {"decision_number": "A/GP", "version": app.version}),
        ("reject", {"reasons": "B", "version": app.version}),
    ]
    barrier, answers = threading.Barrier(2), [None, None]

    def decide(i):
        try:
            barrier.wait()
            answers[i] = post(clients[i], app, *bodies[i]).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == [200, 409]
    app.refresh_from_db()
    winner = answers.index(200)
    assert app.status == (S.APPROVED if winner == 0 else S.REJECTED)
    assert app.timeline.filter(to_status__in=[S.APPROVED, S.REJECTED]).count() == 1
    assert Station.objects.filter(code="HN-RACE").exists() == (winner == 0)


@pytest.mark.parametrize(
    ("role", "step", "body", "status"),
    [
        ("operator_viettel", "accept", {}, S.SUBMITTED),
        ("operator_viettel", "approve", {"decision_number": "1/GP"}, S.UNDER_REVIEW),
        ("operator_viettel", "return", {"note": "x"}, S.SUBMITTED),
        ("city_official", "withdraw", {}, S.SUBMITTED),
        ("national_official", "approve", {"decision_number": "1/GP"}, S.UNDER_REVIEW),
        ("agency_api_client", "reject", {"reasons": "x"}, S.UNDER_REVIEW),
        ("administrator", "resubmit", {}, S.RETURNED),
    ],
)
def test_a_step_the_role_may_not_take_is_403(
    as_role, role_user, make_application, role, step, body, status
):
    from stations import services

    viettel, official = role_user("operator_viettel"), role_user("city_official")
    app = services.submit(viettel, make_application(viettel))
    if status == S.UNDER_REVIEW:
        app = services.accept(official, app)
    elif status == S.RETURNED:
        app = services.return_for_supplement(official, app, "Thiếu")
    before = (app.status, app.version)
    response = post(as_role(role), app, step, body)
    assert response.status_code == 403, response.content
    app.refresh_from_db()
    assert (app.status, app.version) == before


@pytest.mark.parametrize(
    ("role", "step", "body"),
    [
        ("city_official", "approve", {"decision_number": "1/GP"}),  # a draft
        ("city_official", "accept", {}),
        ("operator_viettel", "resubmit", {}),
    ],
)
def test_an_illegal_step_is_409(as_role, role_user, make_application, role, step, body):
    viettel = role_user("operator_viettel")
    app = make_application(viettel)
    response = post(as_role(role), app, step, body)
    assert response.status_code == 409, response.content
    assert "not possible" in response.json()["detail"]
    app.refresh_from_db()
    assert app.status == S.DRAFT


def test_stale_version_on_return_is_409(as_role, role_user, make_application):
    from stations import services

    viettel = role_user("operator_viettel")
    app = services.submit(viettel, make_application(viettel))
    response = post(as_role("city_official"), app, "return", {"note": "x", "version": 1})
    assert response.status_code == 409
    app.refresh_from_db()
    assert app.status == S.SUBMITTED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "two"}, "version"),
        ({"version": 0}, "version"),
        ({"decision_number": ""}, "decision_number"),
    ],
)
def test_bad_decision_input_is_400(as_role, role_user, make_application, body, field):
    from stations import services

    viettel = role_user("operator_viettel")
    app = services.accept(
        role_user("city_official"), services.submit(viettel, make_application(viettel))
    )
    response = post(as_role("city_official"), app, "approve", body)
    assert response.status_code == 400 and field in response.json()
    app.refresh_from_db()
    assert app.status == S.UNDER_REVIEW


def test_jpeg_named_pdf_is_refused_with_a_clear_message(as_role, role_user, make_application):
    viettel = role_user("operator_viettel")
    app = make_application(viettel)
    client = as_role("operator_viettel")
    client.force_authenticate(viettel)
    response = post(
        client,
        app,
        "documents",
        {"document_type": "land_use", "file": jpeg_named_pdf()},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is named land-use.pdf but its content is JPEG."]}
    assert not ApplicationDocument.objects.exists()
    assert not app.timeline.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document_type": "nope", "file": "pdf"}, "document_type"),
        ({"document_type": "drawings"}, "file"),
        ({"document_type": "drawings", "file": "empty"}, "file"),
        ({"document_type": "drawings", "file": "text"}, "file"),
    ],
)
def test_bad_uploads_are_400(as_role, role_user, make_application, body, field):
    from django.core.files.uploadedfile import SimpleUploadedFile

    viettel = role_user("operator_viettel")
    app = make_application(viettel)
    files = {
        "pdf": pdf(),
        "empty": SimpleUploadedFile("x.pdf", b"", content_type="application/pdf"),
        "text": SimpleUploadedFile("x.pdf", b"hello world, not a pdf"),
    }
    if "file" in body:
        body = {**body, "file": files[body["file"]]}
    client = as_role("operator_viettel")
    client.force_authenticate(viettel)
    response = post(client, app, "documents", body, format="multipart")
    assert response.status_code == 400 and field in response.json(), response.content
    assert not ApplicationDocument.objects.exists()


def test_messages_between_the_sides(as_role, role_user, make_application):
    viettel = role_user("operator_viettel")
    app = make_application(viettel)
    operator = as_role("operator_viettel")
    operator.force_authenticate(viettel)
    response = post(operator, app, "messages", {"text": "Xin hỏi về hồ sơ"})
    assert response.status_code == 201 and response.json()["kind"] == "message"
    assert post(operator, app, "messages", {"text": "   "}).status_code == 400
    timeline = as_role("city_official").get(f"{APPLICATIONS}{app.pk}/").json()["timeline"]
    assert [e["note"] for e in timeline] == ["Xin hỏi về hồ sơ"]


def test_draft_edits_and_bad_draft_input(as_role, role_user, make_application, make_station):
    viettel = role_user("operator_viettel")
    app = make_application(viettel)
    client = as_role("operator_viettel")
    client.force_authenticate(viettel)
    url = f"{APPLICATIONS}{app.pk}/"
    for body, field in [
        ({"structure_height_m": 400}, "structure_height_m"),
        ({"location": {"type": "Point", "coordinates": [2.35, 48.85]}}, "location"),
        ({"application_type": "nope"}, "application_type"),
        ({"public_site": "not-a-uuid"}, "public_site"),
        ({"station": str(make_station("MOBIFONE", code="MF-X").public_id)}, "station"),
    ]:
        response = client.patch(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json(), (body, response.json())
    app.refresh_from_db()
    assert app.structure_height_m == Decimal("6") and app.location == BA_DINH
    own = make_station("VIETTEL", code="VT-X")
    response = client.patch(url, {"station": str(own.public_id)}, format="json")
    assert response.status_code == 200 and response.json()["station"] == str(own.public_id)
    # A submitted application is no longer a draft.
    assert post(client, app, "submit", {"sharing_justification": "x"}).status_code == 200
    response = client.patch(url, {"station_name": "Muộn"}, format="json")
    assert response.status_code == 409


def test_operator_tracks_its_application_by_number_only(as_role, role_user, make_application):
    from stations import services

    viettel = role_user("operator_viettel")
    app = services.submit(viettel, make_application(viettel))
    other = as_role("operator_mobifone")
    assert other.get(f"{APPLICATIONS}?number={app.number}").json()["results"] == []
    mine = as_role("operator_viettel")
    mine.force_authenticate(viettel)
    results = mine.get(f"{APPLICATIONS}?number={app.number}").json()["results"]
    assert [r["number"] for r in results] == [app.number]
    assert results[0]["allowed_actions"] == ["withdraw"]
    assert results[0]["days_used"] == 0 and results[0]["days_left"] == 10


def test_schema_documents_the_stations_api(as_role):
    schema = as_role("city_official").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/stations/",
        "/api/v1/stations/{public_id}/",
        "/api/v1/public-sites/",
        "/api/v1/permit-applications/{id}/approve/",
        "/api/v1/permit-applications/{id}/documents/",
    ):
        assert path in schema["paths"], path
    params = {p["name"] for p in schema["paths"]["/api/v1/stations/"]["get"]["parameters"]}
    assert {"bbox", "near", "operator", "technology", "q", "cursor", "page_size"} <= params
    assert "ordering" not in params


def test_feature_collection_of_a_distinct_queryset(role_user, make_station):
    """core.geojson: a DISTINCT queryset (e.g. a filter across a to-many join) cannot be selected
    beside json columns; it is selected by id instead."""
    import json

    from stations import selectors

    planned, operating = make_station(status="planned"), make_station(status="operating")
    make_station(status="suspended")
    queryset = (
        selectors.stations(role_user("city_official"))
        .filter(status__in=["planned", "operating"])
        .distinct()
    )
    data = json.loads(selectors.stations_geojson(queryset))
    assert [f["id"] for f in data["features"]] == [planned.pk, operating.pk]


@pytest.mark.parametrize("role", ["city_official", "national_official", "agency_api_client"])
def test_drafts_are_listed_to_their_applicant_only_on_the_page_and_in_the_api(
    client, as_role, role_user, make_application, role
):
    """Officials list submitted applications, not drafts, in the page's queue and the API's list;
    the applicant lists its own drafts in both. An official opening a draft by its id still can."""
    from stations import services

    viettel = role_user("operator_viettel")
    draft = make_application(viettel, station_code="HN-DRAFT")
    submitted = services.submit(viettel, make_application(viettel, station_code="HN-SENT"), "x")

    def api_ids(api):
        return {a["id"] for a in api.get(APPLICATIONS).json()["results"]}

    official = as_role(role)
    assert api_ids(official) == {submitted.pk}
    assert official.get(f"{APPLICATIONS}{draft.pk}/").status_code == 200
    applicant = as_role("operator_viettel")
    applicant.force_authenticate(viettel)
    assert api_ids(applicant) == {draft.pk, submitted.pk}

    if role != "agency_api_client":  # the pages are for people
        client.force_login(official.user)
        page = client.get("/stations/applications/").context["object_list"]
        assert {a.pk for a in page} == {submitted.pk}
    client.force_login(viettel)
    page = client.get("/stations/applications/").context["object_list"]
    assert {a.pk for a in page} == {draft.pk, submitted.pk}
