"""The sharing API over HTTP: permissions, bad input, the request workflow, pagination, filters and
query counts (real PostGIS, no mocks)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString, Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from conftest import ROLE_USERS
from core.models import AdministrativeUnit, Organization
from sharing import services
from sharing.models import InfrastructureAsset, SharingRequest, Tenancy

pytestmark = pytest.mark.django_db
R = SharingRequest.Status
ROLES = [*ROLE_USERS, "anonymous"]
OPERATIONS = ["list", "retrieve", "create", "update"]

# Inside Phường Ba Đình (00004), checked against the real boundaries; FAR_AWAY ~5.7 km west.
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR_BA_DINH = Point(105.8355, 21.0365, srid=4326)  # ~115 m away
FAR_AWAY = Point(105.7800, 21.0300, srid=4326)
ROUTE = [[105.8345, 21.0360], [105.8355, 21.0365]]
ASSETS = "/api/v1/assets/"
TENANCIES = "/api/v1/tenancies/"
REQUESTS = "/api/v1/sharing-requests/"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- Factories -------------------------------------------------------------------------------------------


@pytest.fixture
def make_asset(db):
    """make_asset(owner_code="VIETTEL", kind="tower", capacity=2, geometry=BA_DINH, **fields)
    (straight into the database: no permission check)."""
    counter = {"n": 0}

    def make(owner_code="VIETTEL", kind="tower", capacity=2, geometry=BA_DINH, **fields):
        counter["n"] += 1
        commune = (
            fields.pop("commune", None)
            or AdministrativeUnit.objects.defer("boundary", "map_boundary")
            .filter(boundary__intersects=geometry)
            .first()
            or AdministrativeUnit.objects.get(code="00004")
        )
        defaults = {"code": f"A-{counter['n']:05d}", "name": f"Cột thử {counter['n']}"}
        defaults.update(fields)
        return InfrastructureAsset.objects.create(
            owner=Organization.objects.get(code=owner_code),
            kind=kind,
            capacity=capacity,
            geometry=geometry,
            commune=commune,
            **defaults,
        )

    return make


@pytest.fixture
def make_request(role_user):
    """make_request(asset, units=1, requester="operator_mobifone") through the service."""

    def make(asset, units=1, requester="operator_mobifone", **fields):
        user = role_user(requester)
        return services.create_request(
            user,
            units=units,
            needs=fields.pop("needs", "Hai ăng-ten ở 30 m"),
            asset=asset,
            **fields,
        )

    return make


def asset_body(**properties):
    """An asset as a GeoJSON Feature, as a client would send it."""
    coordinates = properties.pop("coordinates", [BA_DINH.x, BA_DINH.y])
    geometry_type = properties.pop("geometry_type", "Point")
    data = {
        "owner": "VIETTEL",
        "code": "VT-T-1",
        "name": "Cột Ba Đình",
        "kind": "tower",
        "capacity": 2,
    }
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": geometry_type, "coordinates": coordinates},
        "properties": data,
    }


def feature_ids(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/geo+json")
    return [f["id"] for f in response.json()["features"]]


def snapshot(obj):
    obj.refresh_from_db()
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in ("geometry", "point")
    }


def counts():
    return (
        InfrastructureAsset.objects.count(),
        Tenancy.objects.count(),
        SharingRequest.objects.count(),
        sum(InfrastructureAsset.objects.values_list("used_capacity", flat=True)),
    )


# --- Permission matrices ---------------------------------------------------------------------------------

# role: (list, retrieve Viettel's tower, create a Viettel tower, update Viettel's tower)
ASSET_MATRIX = {
    "city_official": (200, 200, 201, 200),
    "national_official": (200, 200, 403, 403),
    "operator_viettel": (200, 200, 201, 200),
    "operator_mobifone": (200, 200, 403, 403),
    "agency_api_client": (200, 200, 403, 403),
    "operator_api_client": (200, 200, 403, 403),
    "administrator": (200, 200, 201, 200),
    "no_role": (403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401),
}
# role: (list, retrieve VNPT's tenancy on Viettel's tower, record one for MobiFone, end VNPT's)
TENANCY_MATRIX = {
    "city_official": (200, 200, 201, 200),
    "national_official": (200, 200, 403, 403),
    "operator_viettel": (200, 200, 201, 200),  # the owner
    "operator_mobifone": (200, 404, 403, 404),  # a third party
    "agency_api_client": (200, 200, 403, 403),
    "operator_api_client": (200, 200, 403, 200),  # VNPT, the tenant
    "administrator": (200, 200, 201, 200),
    "no_role": (403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401),
}
# role: (list, retrieve MobiFone's request to Viettel, ask for Viettel's tower, refuse the request)
REQUEST_MATRIX = {
    "city_official": (200, 200, 403, 403),
    "national_official": (200, 200, 403, 403),
    "operator_viettel": (200, 200, 400, 200),  # the owner: cannot ask for its own tower
    "operator_mobifone": (200, 200, 201, 403),  # the requester
    "agency_api_client": (200, 200, 403, 403),
    "operator_api_client": (200, 404, 201, 404),  # VNPT, a third party
    "administrator": (200, 200, 403, 403),
    "no_role": (403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401),
}
# Who sees the tenancy / the request in the list.
SEES_ALL = {"city_official", "national_official", "agency_api_client", "administrator"}


def test_matrices_cover_every_role():
    assert set(ASSET_MATRIX) == set(TENANCY_MATRIX) == set(REQUEST_MATRIX) == set(ROLES)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_asset_permission_matrix(as_role, make_asset, role, operation):
    viettel = make_asset("VIETTEL")
    power_pole = make_asset("EVN_HANOI", kind="pole", geometry=NEAR_BA_DINH)
    client = as_role(role)
    expected = ASSET_MATRIX[role][OPERATIONS.index(operation)]
    before = snapshot(viettel)
    if operation == "list":
        response = client.get(ASSETS)
    elif operation == "retrieve":
        response = client.get(f"{ASSETS}{viettel.public_id}/")
    elif operation == "create":
        response = client.post(ASSETS, asset_body(), format="json")
    else:
        response = client.patch(f"{ASSETS}{viettel.public_id}/", {"capacity": 4}, format="json")
    assert response.status_code == expected, response.content[:300]
    if operation == "list" and expected == 200:
        # Every portal role sees the whole register (operators need it to ask for sharing).
        assert feature_ids(response) == [str(viettel.public_id), str(power_pole.public_id)]
    if operation == "retrieve" and expected == 200:
        assert response["ETag"]
        assert response.json()["properties"]["owner"] == "VIETTEL"
    if operation == "create":
        assert InfrastructureAsset.objects.filter(code="VT-T-1").exists() == (expected == 201)
    if operation == "update":
        after = snapshot(viettel)
        if expected == 200:
            assert after["capacity"] == 4 and response.json()["properties"]["free_capacity"] == 4
        else:
            assert after == before


@pytest.mark.parametrize("operation", ["list", "retrieve", "create", "end"])
@pytest.mark.parametrize("role", ROLES)
def test_tenancy_permission_matrix(as_role, role_user, make_asset, role, operation):
    tower = make_asset("VIETTEL", capacity=3)
    held = services.create_tenancy(
        role_user("city_official"), tower, Organization.objects.get(code="VNPT"), 1
    )
    client = as_role(role)
    expected = TENANCY_MATRIX[role][["list", "retrieve", "create", "end"].index(operation)]
    if operation == "list":
        response = client.get(TENANCIES)
    elif operation == "retrieve":
        response = client.get(f"{TENANCIES}{held.public_id}/")
    elif operation == "create":
        body = {"asset": str(tower.public_id), "operator": "MOBIFONE", "units": 1}
        response = client.post(TENANCIES, body, format="json")
    else:
        response = client.post(f"{TENANCIES}{held.public_id}/end/", {}, format="json")
    assert response.status_code == expected, response.content[:300]
    tower.refresh_from_db()
    if operation == "list" and expected == 200:
        ids = [t["id"] for t in response.json()["results"]]
        sees = role in SEES_ALL or role in ("operator_viettel", "operator_api_client")
        assert ids == ([str(held.public_id)] if sees else [])
    if operation == "create":
        assert Tenancy.objects.filter(operator__code="MOBIFONE").exists() == (expected == 201)
        assert tower.used_capacity == (2 if expected == 201 else 1)
    if operation == "end":
        held.refresh_from_db()
        assert (held.status == Tenancy.Status.ENDED) == (expected == 200)
        assert tower.used_capacity == (0 if expected == 200 else 1)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("role", ROLES)
def test_request_permission_matrix(as_role, make_asset, make_request, role, operation):
    tower = make_asset("VIETTEL", capacity=3)
    req = make_request(tower)
    client = as_role(role)
    expected = REQUEST_MATRIX[role][OPERATIONS.index(operation)]
    before = snapshot(req)
    if operation == "list":
        response = client.get(REQUESTS)
    elif operation == "retrieve":
        response = client.get(f"{REQUESTS}{req.pk}/")
    elif operation == "create":
        body = {"asset": str(tower.public_id), "units": 1, "needs": "Một ăng-ten"}
        response = client.post(REQUESTS, body, format="json")
    else:
        body = {"reason": "Cột đã kín", "version": 1}
        response = client.post(f"{REQUESTS}{req.pk}/refuse/", body, format="json")
    assert response.status_code == expected, response.content[:300]
    if operation == "list" and expected == 200:
        ids = [r["id"] for r in response.json()["results"]]
        sees = role in SEES_ALL or role in ("operator_viettel", "operator_mobifone")
        assert ids == ([req.pk] if sees else [])
    if operation == "create":
        assert SharingRequest.objects.count() == (2 if expected == 201 else 1)
    if operation == "update":
        after = snapshot(req)
        if expected == 200:
            assert after["status"] == R.REFUSED and after["refusal_reason"] == "Cột đã kín"
        else:
            assert after == before


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("accept", {"version": 1}),
        ("refuse", {"reason": "Không"}),
        ("counter", {"units": 1}),
        ("accept-counter", {}),
        ("withdraw", {}),
        ("escalate", {}),
        ("decide", {"outcome": "share", "decision_number": "1/QĐ"}),
        ("messages", {"text": "Chào"}),
        ("documents", {}),
    ],
)
def test_a_third_operator_cannot_see_or_act_on_a_request(
    as_role, make_asset, make_request, step, body
):
    req = make_request(make_asset("VIETTEL", capacity=3))
    before, before_counts = snapshot(req), counts()
    response = as_role("operator_api_client").post(
        f"{REQUESTS}{req.pk}/{step}/", body, format="json"
    )
    assert response.status_code == 404
    assert snapshot(req) == before and counts() == before_counts
    assert req.timeline.count() == 1  # only its submission


# --- Assets: representation, writes and bad input ------------------------------------------------------


def test_create_a_tower_finds_the_commune_and_list_and_detail_agree(as_role):
    client = as_role("operator_viettel")
    response = client.post(ASSETS, asset_body(address="Số 1 Phố Thử"), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    asset = InfrastructureAsset.objects.get(code="VT-T-1")
    assert data["id"] == str(asset.public_id)
    assert data["geometry"] == {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]}
    props = data["properties"]
    assert props["owner"] == "VIETTEL" and props["commune"] == "00004"
    assert props["free_capacity"] == 2 and props["used_capacity"] == 0
    assert props["status"] == "active" and props["shareable"] is True
    listed = client.get(ASSETS).json()["features"][0]
    detail = client.get(f"{ASSETS}{asset.public_id}/").json()
    assert list(listed["properties"]) == list(detail["properties"])
    from datetime import datetime

    for item in (listed, detail):
        item["properties"]["updated_at"] = datetime.fromisoformat(item["properties"]["updated_at"])
    assert listed == detail


def test_a_duct_route_is_a_line_with_its_length(as_role):
    body = asset_body(kind="duct", code="VT-D-1", capacity=6, geometry_type="LineString")
    body["geometry"]["coordinates"] = ROUTE
    response = as_role("operator_viettel").post(ASSETS, body, format="json")
    assert response.status_code == 201, response.content
    props = response.json()["properties"]
    assert response.json()["geometry"]["type"] == "LineString"
    assert 100 < props["length_m"] < 130


def test_an_owner_of_power_poles_registers_its_poles(as_role, make_user):
    from core import roles

    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(make_user(roles.OPERATOR_STAFF, "EVN_HANOI"))
    response = client.post(ASSETS, asset_body(owner="EVN_HANOI", kind="pole"), format="json")
    assert response.status_code == 201, response.content


def test_if_match_guards_asset_updates(as_role, make_asset):
    asset = make_asset()
    url = f"{ASSETS}{asset.public_id}/"
    client = as_role("operator_viettel")
    tag = client.get(url)["ETag"]
    response = client.patch(url, {"name": "Lần một"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content
    assert response["ETag"] != tag
    response = client.patch(url, {"name": "Lần hai"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 412
    asset.refresh_from_db()
    assert asset.name == "Lần một"


def test_moving_an_asset_finds_its_commune_again(as_role, make_asset):
    asset = make_asset()
    response = as_role("operator_viettel").patch(
        f"{ASSETS}{asset.public_id}/",
        {"geometry": {"type": "Point", "coordinates": [FAR_AWAY.x, FAR_AWAY.y]}},
        format="json",
    )
    assert response.status_code == 200, response.content
    asset.refresh_from_db()
    assert asset.commune.code != "00004"
    assert response.json()["properties"]["commune"] == asset.commune.code


def test_an_operator_cannot_hand_its_asset_to_another_owner(as_role, make_asset):
    asset = make_asset()
    before = snapshot(asset)
    response = as_role("operator_viettel").patch(
        f"{ASSETS}{asset.public_id}/", {"owner": "MOBIFONE"}, format="json"
    )
    assert response.status_code == 403
    assert snapshot(asset) == before


BAD_ASSET_INPUT = [
    # (what, change to the Feature, field named in the answer)
    ("a tower drawn as a line", {"geometry_type": "LineString", "coordinates": ROUTE}, "geometry"),
    ("a duct drawn as a point", {"kind": "duct"}, "geometry"),
    (
        "a polygon",
        {"geometry_type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 1], [0, 0]]]},
        "geometry",
    ),
    ("outside Vietnam", {"coordinates": [2.35, 48.85]}, "geometry"),
    ("in Vietnam, not in Hanoi", {"coordinates": [106.70, 10.78]}, "geometry"),
    ("coordinates out of range", {"coordinates": [200, 21]}, "geometry"),
    ("unknown owner code", {"owner": "NOPE"}, "owner"),
    ("unknown commune code", {"commune": "99999"}, "commune"),
    ("the wrong commune", {"commune": "00007"}, "commune"),
    ("unknown kind", {"kind": "satellite"}, "kind"),
    ("no capacity", {"capacity": 0}, "capacity"),
    ("too much capacity", {"capacity": 10_001}, "capacity"),
    ("an unknown status", {"status": "gone"}, "status"),
]


@pytest.mark.parametrize(
    ("change", "field"), [pytest.param(c, f, id=w) for w, c, f in BAD_ASSET_INPUT]
)
def test_bad_asset_input_is_400_and_nothing_is_stored(as_role, change, field):
    before = counts()
    response = as_role("operator_viettel").post(ASSETS, asset_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"), [pytest.param(c, f, id=w) for w, c, f in BAD_ASSET_INPUT]
)
def test_bad_asset_update_is_400_and_the_asset_unchanged(as_role, make_asset, change, field):
    asset = make_asset()
    before = snapshot(asset) | {"geometry": asset.geometry.wkt}
    body = asset_body(code=asset.code, **change)
    response = as_role("operator_viettel").put(f"{ASSETS}{asset.public_id}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    asset.refresh_from_db()
    assert snapshot(asset) | {"geometry": asset.geometry.wkt} == before


def test_capacity_cannot_drop_below_what_tenancies_use(as_role, role_user, make_asset):
    asset = make_asset(capacity=3)
    services.create_tenancy(
        role_user("city_official"), asset, Organization.objects.get(code="VNPT"), 2
    )
    response = as_role("operator_viettel").patch(
        f"{ASSETS}{asset.public_id}/", {"capacity": 1}, format="json"
    )
    assert response.status_code == 400 and "capacity" in response.json()
    asset.refresh_from_db()
    assert asset.capacity == 3 and asset.used_capacity == 2


def test_duplicate_asset_code_is_a_field_error(as_role, make_asset):
    make_asset(code="VT-T-1")
    response = as_role("operator_viettel").post(ASSETS, asset_body(), format="json")
    assert response.status_code == 400 and "code" in response.json()


def test_unknown_or_malformed_asset_id_is_404(as_role):
    client = as_role("city_official")
    assert client.get(f"{ASSETS}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{ASSETS}not-a-uuid/").status_code == 404


# --- Tenancies: bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"units": 3}, "units"),  # beyond the free capacity (2 free)
        ({"units": 0}, "units"),
        ({"operator": "EVN_HANOI"}, "operator"),  # not a telecom operator
        ({"operator": "NOPE"}, "operator"),
        ({"asset": "00000000-0000-0000-0000-000000000000"}, "asset"),
        ({"asset": "not-a-uuid"}, "asset"),
    ],
)
def test_bad_tenancy_input_is_400_and_capacity_unchanged(as_role, make_asset, body, field):
    tower = make_asset(capacity=2)
    before = counts()
    data = {"asset": str(tower.public_id), "operator": "MOBIFONE", "units": 1, **body}
    response = as_role("operator_viettel").post(TENANCIES, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before
    tower.refresh_from_db()
    assert tower.used_capacity == 0


def test_a_tenancy_is_ended_once(as_role, make_asset):
    tower = make_asset(capacity=2)
    client = as_role("operator_viettel")
    body = {
        "asset": str(tower.public_id),
        "operator": "MOBIFONE",
        "units": 2,
        "occupies": "2 ăng-ten",
    }
    created = client.post(TENANCIES, body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["owner"] == "VIETTEL" and data["operator"] == "MOBIFONE" and data["units"] == 2
    tower.refresh_from_db()
    assert tower.free_capacity == 0
    url = f"{TENANCIES}{data['id']}/end/"
    ended = client.post(url, {"until": "2026-03-02"}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert ended.json()["until"] == "2026-03-02"
    assert client.post(url, {}, format="json").status_code == 409
    tower.refresh_from_db()
    assert tower.used_capacity == 0


# --- Sharing requests: bad input and illegal steps -----------------------------------------------------------


def test_asking_to_share_ones_own_asset_is_400(as_role, make_asset):
    tower = make_asset("VIETTEL")
    before = counts()
    body = {"asset": str(tower.public_id), "units": 1, "needs": "x"}
    response = as_role("operator_viettel").post(REQUESTS, body, format="json")
    assert response.status_code == 400
    assert "own asset" in response.json()["asset"][0]
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"units": 3}, "units"),  # more than is free
        ({"units": 0}, "units"),
        ({"needs": "  "}, "needs"),
        ({"asset": "00000000-0000-0000-0000-000000000000"}, "asset"),
        ({"asset": None}, "asset"),  # neither an asset nor an area
        (
            {
                "asset": None,
                "owner": "NOPE",
                "point": {"type": "Point", "coordinates": [105.83, 21.03]},
                "radius_m": 300,
            },
            "owner",
        ),
        (
            {
                "asset": None,
                "owner": "VIETTEL",
                "point": {"type": "Point", "coordinates": [2.35, 48.85]},
                "radius_m": 300,
            },
            "point",
        ),
        (
            {
                "asset": None,
                "owner": "VIETTEL",
                "point": {"type": "LineString", "coordinates": ROUTE},
                "radius_m": 300,
            },
            "point",
        ),
        (
            {
                "asset": None,
                "owner": "VIETTEL",
                "point": {"type": "Point", "coordinates": [105.83, 21.03]},
                "radius_m": 9000,
            },
            "radius_m",
        ),
    ],
)
def test_bad_request_input_is_400_and_nothing_is_stored(as_role, make_asset, body, field):
    tower = make_asset("VIETTEL", capacity=2)
    before = counts()
    data = {"asset": str(tower.public_id), "units": 1, "needs": "Một ăng-ten", **body}
    response = as_role("operator_mobifone").post(REQUESTS, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


def test_an_area_request_names_the_asset_on_acceptance(as_role, make_asset):
    tower = make_asset("VIETTEL", capacity=2)
    mobifone, viettel = as_role("operator_mobifone"), as_role("operator_viettel")
    body = {
        "owner": "VIETTEL",
        "point": {"type": "Point", "coordinates": [NEAR_BA_DINH.x, NEAR_BA_DINH.y]},
        "radius_m": 500,
        "units": 1,
        "needs": "Bất kỳ cột nào gần đây",
    }
    created = mobifone.post(REQUESTS, body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["asset"] is None and data["point"]["type"] == "Point" and data["radius_m"] == 500
    url = f"{REQUESTS}{data['id']}/"
    missing = viettel.post(f"{url}accept/", {"version": 1}, format="json")
    assert missing.status_code == 400 and "asset" in missing.json()
    done = viettel.post(
        f"{url}accept/", {"version": 1, "asset": str(tower.public_id)}, format="json"
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "accepted" and done.json()["asset"] == str(tower.public_id)
    tower.refresh_from_db()
    assert tower.used_capacity == 1


@pytest.mark.parametrize("role", ["operator_viettel", "operator_mobifone", "national_official"])
def test_a_decision_by_a_party_not_allowed_is_403(
    as_role, role_user, make_asset, make_request, role
):
    req = make_request(make_asset("VIETTEL", capacity=2))
    req = services.refuse(role_user("operator_viettel"), req, "Không còn chỗ")
    req = services.escalate(role_user("operator_mobifone"), req)
    before, before_counts = snapshot(req), counts()
    body = {"outcome": "share", "decision_number": "9/QĐ", "version": req.version}
    response = as_role(role).post(f"{REQUESTS}{req.pk}/decide/", body, format="json")
    assert response.status_code == 403, response.content
    assert snapshot(req) == before and counts() == before_counts


@pytest.mark.parametrize(
    ("role", "step", "body"),
    [
        ("operator_mobifone", "accept", {}),  # the requester cannot accept its own request
        ("operator_mobifone", "counter", {"units": 1}),
        ("operator_viettel", "withdraw", {}),  # the owner cannot withdraw it
        ("operator_viettel", "accept-counter", {}),
    ],
)
def test_a_step_of_the_other_party_is_403_or_409(
    as_role, make_asset, make_request, role, step, body
):
    req = make_request(make_asset("VIETTEL", capacity=2))
    before, before_counts = snapshot(req), counts()
    response = as_role(role).post(f"{REQUESTS}{req.pk}/{step}/", body, format="json")
    # Not this party's step (403), or not a step of a submitted request at all (409).
    assert response.status_code == (409 if step == "accept-counter" else 403), response.content
    assert snapshot(req) == before and counts() == before_counts


def test_a_counter_offer_on_a_closed_request_is_409(as_role, role_user, make_asset, make_request):
    tower = make_asset("VIETTEL", capacity=3)
    req = services.accept(role_user("operator_viettel"), make_request(tower))
    before, before_counts = snapshot(req), counts()
    response = as_role("operator_viettel").post(
        f"{REQUESTS}{req.pk}/counter/", {"units": 1, "version": req.version}, format="json"
    )
    assert response.status_code == 409, response.content
    assert "closed" in response.json()["detail"]
    assert snapshot(req) == before and counts() == before_counts


def test_escalating_before_the_deadline_is_409(as_role, make_asset, make_request):
    req = make_request(make_asset("VIETTEL", capacity=2))
    before = snapshot(req)
    response = as_role("operator_mobifone").post(f"{REQUESTS}{req.pk}/escalate/", {}, format="json")
    assert response.status_code == 409
    assert snapshot(req) == before


def test_a_stale_version_is_409_and_changes_nothing(as_role, make_asset, make_request):
    tower = make_asset("VIETTEL", capacity=2)
    req = make_request(tower, units=2)
    viettel = as_role("operator_viettel")
    countered = viettel.post(
        f"{REQUESTS}{req.pk}/counter/", {"units": 1, "version": 1}, format="json"
    )
    assert countered.status_code == 200 and countered.json()["version"] == 2
    before, before_counts = snapshot(req), counts()
    # MobiFone still holds version 1: accepting the counter-offer it has not seen is refused.
    stale = as_role("operator_mobifone").post(
        f"{REQUESTS}{req.pk}/accept-counter/", {"version": 1}, format="json"
    )
    assert stale.status_code == 409, stale.content
    assert "changed this request first" in stale.json()["detail"]
    assert snapshot(req) == before and counts() == before_counts


@pytest.mark.parametrize(
    ("step", "body", "field"),
    [
        ("refuse", {"reason": " "}, "reason"),
        ("counter", {}, "units"),
        ("counter", {"units": 3}, "units"),  # more than is free (2)
        ("accept", {"version": "x"}, "version"),
    ],
)
def test_bad_step_input_is_400(as_role, make_asset, make_request, step, body, field):
    req = make_request(make_asset("VIETTEL", capacity=2))
    before, before_counts = snapshot(req), counts()
    response = as_role("operator_viettel").post(f"{REQUESTS}{req.pk}/{step}/", body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert snapshot(req) == before and counts() == before_counts


def test_bad_decision_input_is_400(as_role, role_user, make_asset, make_request):
    req = make_request(make_asset("VIETTEL", capacity=2))
    req = services.refuse(role_user("operator_viettel"), req, "Không")
    req = services.escalate(role_user("operator_mobifone"), req)
    official = as_role("city_official")
    url = f"{REQUESTS}{req.pk}/decide/"
    for body, field in (
        ({"outcome": "maybe", "decision_number": "1/QĐ"}, "outcome"),
        ({"outcome": "share", "decision_number": " "}, "decision_number"),
    ):
        response = official.post(url, body, format="json")
        assert response.status_code == 400 and field in response.json(), response.content
    req.refresh_from_db()
    assert req.status == R.DISPUTED


def test_messages_and_documents_between_the_parties(as_role, make_asset, make_request):
    req = make_request(make_asset("VIETTEL", capacity=2))
    viettel = as_role("operator_viettel")
    message = viettel.post(
        f"{REQUESTS}{req.pk}/messages/", {"text": "Xin gửi bản vẽ"}, format="json"
    )
    assert message.status_code == 201 and message.json()["kind"] == "message"
    upload = viettel.post(
        f"{REQUESTS}{req.pk}/documents/",
        {"file": SimpleUploadedFile("terms.pdf", PDF_BYTES, content_type="application/pdf")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["original_name"] == "terms.pdf"
    fake = viettel.post(
        f"{REQUESTS}{req.pk}/documents/",
        {"file": SimpleUploadedFile("x.pdf", b"MZ\x90\x00" * 20, content_type="application/pdf")},
        format="multipart",
    )
    assert fake.status_code == 400 and "file" in fake.json()
    official_upload = as_role("city_official").post(
        f"{REQUESTS}{req.pk}/documents/",
        {"file": SimpleUploadedFile("y.pdf", PDF_BYTES, content_type="application/pdf")},
        format="multipart",
    )
    assert official_upload.status_code == 403
    detail = as_role("operator_mobifone").get(f"{REQUESTS}{req.pk}/").json()
    assert [d["original_name"] for d in detail["documents"]] == ["terms.pdf"]
    assert [e["kind"] for e in detail["timeline"]] == ["status", "message", "document"]
    blank = viettel.post(f"{REQUESTS}{req.pk}/messages/", {"text": "  "}, format="json")
    assert blank.status_code == 400 and "text" in blank.json()


# --- The whole flow through the API -------------------------------------------------------------------------


def test_full_sharing_flow_through_the_api(as_role):
    viettel, mobifone = as_role("operator_viettel"), as_role("operator_mobifone")
    official = as_role("city_official")

    # Viettel registers a tower with 2 free antenna slots.
    created = viettel.post(ASSETS, asset_body(capacity=2), format="json")
    assert created.status_code == 201, created.content
    tower_id = created.json()["id"]
    tower_url = f"{ASSETS}{tower_id}/"

    # MobiFone asks for both.
    asked = mobifone.post(
        REQUESTS, {"asset": tower_id, "units": 2, "needs": "Hai ăng-ten 5G ở 30 m"}, format="json"
    )
    assert asked.status_code == 201, asked.content
    req = asked.json()
    assert req["status"] == "submitted" and req["number"].startswith("CS-")
    assert req["requester"] == "MOBIFONE" and req["owner"] == "VIETTEL"
    assert req["allowed_actions"] == ["withdraw"]
    url = f"{REQUESTS}{req['id']}/"
    assert set(viettel.get(url).json()["allowed_actions"]) == {"accept", "refuse", "counter"}

    # Viettel counters with one slot; MobiFone accepts the counter-offer.
    countered = viettel.post(
        f"{url}counter/",
        {"units": 1, "terms": "HĐ-2026-01", "version": req["version"]},
        format="json",
    )
    assert countered.status_code == 200, countered.content
    assert countered.json()["status"] == "countered" and countered.json()["counter_units"] == 1
    assert mobifone.get(url).json()["allowed_actions"] == ["accept_counter", "withdraw"]
    accepted = mobifone.post(
        f"{url}accept-counter/", {"version": countered.json()["version"]}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    done = accepted.json()
    assert done["status"] == "accepted" and done["allowed_actions"] == []
    assert [(t["units"], t["status"]) for t in done["tenancies"]] == [(1, "active")]
    assert [e["to_status"] for e in done["timeline"]] == ["submitted", "countered", "accepted"]

    # The tenancy is listed for both, and the tower's free capacity dropped by one.
    for client in (viettel, mobifone):
        tenancies = client.get(f"{TENANCIES}?asset={tower_id}").json()["results"]
        assert [(t["operator"], t["units"], t["sharing_request"]) for t in tenancies] == [
            ("MOBIFONE", 1, req["id"])
        ]
    props = viettel.get(tower_url).json()["properties"]
    assert props["used_capacity"] == 1 and props["free_capacity"] == 1

    # Another request goes unanswered past its deadline: MobiFone escalates; the regulator decides.
    second = mobifone.post(
        REQUESTS, {"asset": tower_id, "units": 1, "needs": "Thêm một ăng-ten"}, format="json"
    ).json()
    url = f"{REQUESTS}{second['id']}/"
    assert mobifone.post(f"{url}escalate/", {}, format="json").status_code == 409
    due = SharingRequest.objects.get(pk=second["id"]).response_due
    assert services.mark_overdue(today=due + timedelta(days=1)).overdue == 1
    overdue = mobifone.get(url).json()
    assert overdue["overdue"] is True and "escalate" in overdue["allowed_actions"]
    assert [r["id"] for r in official.get(f"{REQUESTS}?overdue=true").json()["results"]] == [
        second["id"]
    ]
    escalated = mobifone.post(
        f"{url}escalate/", {"note": "Không trả lời", "version": overdue["version"]}, format="json"
    )
    assert escalated.status_code == 200 and escalated.json()["status"] == "disputed"
    assert official.get(url).json()["allowed_actions"] == ["decide"]
    decided = official.post(
        f"{url}decide/",
        {
            "outcome": "share",
            "decision_number": "15/QĐ-SKHCN",
            "text": "Viettel phải cho thuê một vị trí.",
            "version": escalated.json()["version"],
        },
        format="json",
    )
    assert decided.status_code == 200, decided.content
    result = decided.json()
    assert result["status"] == "decided" and result["outcome"] == "share"
    assert result["decision_number"] == "15/QĐ-SKHCN"
    assert [t["units"] for t in result["tenancies"]] == [1]
    props = viettel.get(tower_url).json()["properties"]
    assert props["used_capacity"] == 2 and props["free_capacity"] == 0
    # Nothing free is left: has_free no longer finds the tower.
    assert feature_ids(mobifone.get(f"{ASSETS}?has_free=true")) == []


# --- Lists: filters, keyset pages and query counts -----------------------------------------------------------


@pytest.fixture
def register(make_asset, role_user):
    full = make_asset("VIETTEL", capacity=1, code="VT-FULL")
    services.create_tenancy(
        role_user("city_official"), full, Organization.objects.get(code="VNPT"), 1
    )
    return {
        "vt_tower": make_asset("VIETTEL", code="VT-1"),
        "vt_full": full,
        "mf_pole": make_asset("MOBIFONE", kind="pole", geometry=NEAR_BA_DINH, code="MF-1"),
        "evn_far": make_asset("EVN_HANOI", kind="pole", geometry=FAR_AWAY, code="EVN-1"),
        "vt_duct": make_asset(
            "VIETTEL", kind="duct", geometry=LineString(ROUTE, srid=4326), code="VT-D", capacity=4
        ),
        "vt_private": make_asset("VIETTEL", code="VT-P", shareable=False),
    }


def ids_of(register, *names):
    return [str(register[name].public_id) for name in names]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=pole", ["mf_pole", "evn_far"]),
        ("kind=tower&kind=duct&owner=VIETTEL", ["vt_full", "vt_tower", "vt_duct", "vt_private"]),
        ("owner=EVN_HANOI", ["evn_far"]),
        ("has_free=false", ["vt_full"]),
        ("has_free=true&kind=tower", ["vt_tower", "vt_private"]),
        ("min_free=3", ["vt_duct"]),
        ("shareable=false", ["vt_private"]),
        (f"near={BA_DINH.x},{BA_DINH.y},200&kind=pole", ["mf_pole"]),
        (f"near={FAR_AWAY.x},{FAR_AWAY.y},100", ["evn_far"]),
        ("bbox=105.77,21.02,105.79,21.04", ["evn_far"]),
        (
            "bbox=105.83,21.03,105.84,21.04&has_free=true&shareable=true",
            ["vt_tower", "mf_pole", "vt_duct"],
        ),
        ("q=evn-1", ["evn_far"]),
        ("commune=00004&kind=pole", ["mf_pole"]),
        ("status=active&kind=duct", ["vt_duct"]),
    ],
)
def test_asset_filters(as_role, register, query, expected):
    response = as_role("operator_mobifone").get(f"{ASSETS}?{query}")
    assert feature_ids(response) == ids_of(register, *expected)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        (f"{ASSETS}?kind=satellite", "kind"),
        (f"{ASSETS}?owner=NOPE", "owner"),
        (f"{ASSETS}?near=105.8,21", "near"),
        (f"{ASSETS}?bbox=1,2,3", "bbox"),
        (f"{ASSETS}?min_free=x", "min_free"),
        (f"{TENANCIES}?operator=NOPE", "operator"),
        (f"{TENANCIES}?asset=x", "asset"),
        (f"{REQUESTS}?status=nope", "status"),
        (f"{REQUESTS}?owner=NOPE", "owner"),
    ],
)
def test_bad_filters_are_400_with_their_name(as_role, url, field):
    response = as_role("city_official").get(url)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_request_filters(as_role, role_user, make_asset, make_request):
    tower = make_asset("VIETTEL", capacity=3)
    first = make_request(tower)
    second = make_request(
        make_asset("MOBIFONE", geometry=NEAR_BA_DINH), requester="operator_viettel"
    )
    services.refuse(role_user("operator_viettel"), first, "Không")
    client = as_role("city_official")

    def ids(query):
        response = client.get(f"{REQUESTS}?{query}")
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids("") == [second.pk, first.pk]  # newest first
    assert ids("status=refused") == [first.pk]
    assert ids("owner=MOBIFONE") == [second.pk]
    assert ids("requester=MOBIFONE") == [first.pk]
    assert ids(f"number={second.number}") == [second.pk]
    assert ids("ordering=id") == [second.pk, first.pk]  # a cursor fixes the order


def test_keyset_pages_are_disjoint_and_cover_every_asset(as_role, make_asset):
    assets = [make_asset(code=f"P-{i:02d}") for i in range(12)]
    client = as_role("operator_mobifone")
    pages, url = [], f"{ASSETS}?page_size=5"
    while url:
        data = client.get(url).json()
        assert data["type"] == "FeatureCollection"
        pages.append([f["id"] for f in data["features"]])
        url = data["next"]
    assert [len(p) for p in pages] == [5, 5, 2]
    flat = [i for page in pages for i in page]
    assert flat == [str(a.public_id) for a in assets]
    second = client.get(client.get(f"{ASSETS}?page_size=5").json()["next"]).json()
    first = client.get(second["previous"]).json()
    assert [f["id"] for f in first["features"]] == pages[0]
    assert client.get(f"{ASSETS}?cursor=garbage").status_code == 404


def test_keyset_pages_of_requests_and_tenancies(as_role, role_user, make_asset, make_request):
    tower = make_asset("VIETTEL", capacity=20)
    official = role_user("city_official")
    reqs = [make_request(tower) for _ in range(7)]
    vnpt = Organization.objects.get(code="VNPT")
    tenancies = [services.create_tenancy(official, tower, vnpt, 1) for _ in range(7)]
    client = as_role("operator_viettel")
    for base, expected in (
        (REQUESTS, [r.pk for r in reversed(reqs)]),
        (TENANCIES, [str(t.public_id) for t in reversed(tenancies)]),
    ):
        seen, url = [], f"{base}?page_size=3"
        while url:
            data = client.get(url).json()
            seen.append([r["id"] for r in data["results"]])
            url = data["next"]
        assert [len(p) for p in seen] == [3, 3, 1], base
        assert [i for page in seen for i in page] == expected, base


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["city_official", "operator_mobifone"])
def test_list_query_counts_are_constant(
    as_role, role_user, make_asset, make_request, django_assert_max_num_queries, role
):
    official = role_user("city_official")
    vnpt = Organization.objects.get(code="VNPT")
    for i in range(30):
        asset = make_asset(
            "VIETTEL" if i % 2 else "EVN_HANOI", kind="tower" if i % 3 else "pole", capacity=5
        )
        services.create_tenancy(official, asset, vnpt, 1)
        make_request(asset)
    client = as_role(role)
    client.get(ASSETS)  # the user's roles are read once, on the first request
    query = f"&kind=tower&kind=pole&owner=VIETTEL&owner=EVN_HANOI&has_free=true&near={BA_DINH.x},{BA_DINH.y},1000"
    with django_assert_max_num_queries(5):
        small = client.get(f"{ASSETS}?page_size=3{query}")
    with django_assert_max_num_queries(5):
        big = client.get(f"{ASSETS}?page_size=30{query}")
    assert len(small.json()["features"]) == 3 and len(big.json()["features"]) == 30
    for base in (f"{ASSETS}?x=1{query}", f"{TENANCIES}?x=1", f"{REQUESTS}?x=1"):
        small_count, _ = _queries(client, f"{base}&page_size=3")
        big_count, big = _queries(client, f"{base}&page_size=30")
        assert small_count == big_count <= 5, base
    assert len(big.json()["results"]) == 30  # the requests: MobiFone made every one


def test_schema_documents_the_sharing_api(as_role):
    schema = as_role("city_official").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/assets/",
        "/api/v1/assets/{public_id}/",
        "/api/v1/tenancies/{public_id}/end/",
        "/api/v1/sharing-requests/",
        "/api/v1/sharing-requests/{id}/accept-counter/",
        "/api/v1/sharing-requests/{id}/decide/",
        "/api/v1/sharing-requests/{id}/documents/",
    ):
        assert path in schema["paths"], path
    params = {p["name"] for p in schema["paths"]["/api/v1/assets/"]["get"]["parameters"]}
    assert {"kind", "owner", "has_free", "near", "bbox", "q", "cursor", "page_size"} <= params
    request_params = schema["paths"]["/api/v1/sharing-requests/"]["get"]["parameters"]
    assert "ordering" not in {p["name"] for p in request_params}
