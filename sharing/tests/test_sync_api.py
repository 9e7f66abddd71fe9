"""The asset register's sync writes over HTTP (sync.api.mixin without a batched service: each
bulk record goes through sharing.services.save_asset in a savepoint): the permission matrix of
delete / by-source / bulk, duct routes compared by geometry, and the services' refusals as record
errors (real PostGIS, no mocks)."""

import pytest
from django.contrib.gis.geos import Point

from conftest import ROLE_USERS
from core.models import AdministrativeUnit, Organization
from sharing import services
from sharing.models import InfrastructureAsset
from sync.models import Change

pytestmark = pytest.mark.django_db

ASSETS = "/api/v1/assets/"
BA_DINH = Point(105.8345, 21.0360, srid=4326)
ROUTE = [[105.8345, 21.0360], [105.8355, 21.0365]]


def body(code="VT-T-1", **properties):
    geometry = properties.pop("geometry", {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]})
    data = {"owner": "VIETTEL", "code": code, "name": "Cột đồng bộ", "kind": "tower", "capacity": 2}
    data.update(properties)
    return {"type": "Feature", "geometry": geometry, "properties": data}


def record(external_id, source="VIETTEL", **kwargs):
    feature = body(code=kwargs.pop("code", external_id), **kwargs)
    return {**feature, "source": source, "external_id": external_id}


def by_source(external_id, source="VIETTEL"):
    return f"{ASSETS}by-source/{source}/{external_id}/"


def bulk(client, records, mode="partial"):
    return client.post(f"{ASSETS}bulk/", {"mode": mode, "records": records}, format="json")


@pytest.fixture
def tower(db):
    return InfrastructureAsset.objects.create(
        owner=Organization.objects.get(code="VIETTEL"),
        kind="tower",
        capacity=2,
        code="M-1",
        name="Cột gốc",
        geometry=BA_DINH,
        commune=AdministrativeUnit.objects.get(code="00004"),
        source="VIETTEL",
        external_id="M-1",
    )


# --- Permission matrix -------------------------------------------------------------------------------------

OPERATIONS = ("get", "put_update", "put_create", "delete_by_source", "destroy", "bulk")
# The register is open to every portal role; its owner's staff and clients and city officials write.
MATRIX = {
    "city_official": (200, 200, 201, 204, 204, "created"),
    "national_official": (200, 403, 403, 403, 403, "error"),
    "operator_viettel": (200, 200, 201, 204, 204, "created"),
    "operator_mobifone": (200, 403, 403, 403, 403, "error"),
    "agency_api_client": (200, 403, 403, 403, 403, "error"),
    "operator_api_client": (200, 403, 403, 403, 403, "error"),
    "administrator": (200, 200, 201, 204, 204, "created"),
    "no_role": (403, 403, 403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401, 401, 401),
    "token_viettel_write": (200, 200, 201, 204, 204, "created"),
    "token_viettel_read": (200, 403, 403, 403, 403, 403),
    "token_mobifone_write": (200, 403, 403, 403, 403, "error"),
    "token_agency_write": (200, 403, 403, 403, 403, "error"),
}
TOKENS = {
    "token_viettel_write": ("VIETTEL", {"assets": "write"}),
    "token_viettel_read": ("VIETTEL", {"*": "read"}),
    "token_mobifone_write": ("MOBIFONE", {"assets": "write"}),
    "token_agency_write": ("CUC_VT", {"*": "write"}),
}


def test_the_matrix_covers_every_role():
    assert set(MATRIX) >= {*ROLE_USERS, "anonymous"}


def run_operation(client, operation, asset):
    if operation == "get":
        return client.get(by_source("M-1"))
    if operation == "put_update":
        return client.put(by_source("M-1"), body(code="M-1", name="Đổi tên"), format="json")
    if operation == "put_create":
        return client.put(by_source("M-NEW"), body(code="M-NEW"), format="json")
    if operation == "delete_by_source":
        return client.delete(by_source("M-1"))
    if operation == "destroy":
        return client.delete(f"{ASSETS}{asset.public_id}/")
    return bulk(client, [record("M-NEW")])


@pytest.mark.parametrize(
    ("name", "operation"),
    [(name, operation) for name in MATRIX for operation in OPERATIONS],
)
def test_sync_write_permission_matrix(as_role, token_client, tower, name, operation):
    if name in TOKENS:
        org_code, scopes = TOKENS[name]
        client = token_client(org_code=org_code, scopes=scopes)
    else:
        client = as_role(name)
    expected = MATRIX[name][OPERATIONS.index(operation)]
    response = run_operation(client, operation, tower)
    if isinstance(expected, str):
        assert response.status_code == 200, response.content
        assert response.json()["results"][0]["status"] == expected
    else:
        assert response.status_code == expected, response.content
    written = isinstance(expected, int) and expected < 300 or expected == "created"
    if operation in ("delete_by_source", "destroy"):
        assert InfrastructureAsset.objects.filter(pk=tower.pk).exists() != written
    elif operation == "put_update":
        assert (InfrastructureAsset.objects.get(pk=tower.pk).name == "Đổi tên") == written
    elif operation in ("put_create", "bulk"):
        assert InfrastructureAsset.objects.filter(external_id="M-NEW").exists() == written


# --- Behaviour --------------------------------------------------------------------------------------------


def test_a_duct_route_sent_again_is_unchanged(token_client):
    viettel = token_client(org_code="VIETTEL")
    route = {"type": "LineString", "coordinates": ROUTE}
    duct = record("D-1", kind="duct", capacity=6, geometry=route)
    assert bulk(viettel, [duct]).json()["results"][0]["status"] == "created"
    asset = InfrastructureAsset.objects.get(external_id="D-1")
    versions = Change.objects.filter(public_id=asset.public_id).count()
    assert bulk(viettel, [duct]).json()["results"][0]["status"] == "unchanged"
    reversed_route = {"type": "LineString", "coordinates": ROUTE[::-1]}
    moved = record("D-1", kind="duct", capacity=6, geometry=reversed_route)
    assert bulk(viettel, [moved]).json()["results"][0]["status"] == "updated"
    assert Change.objects.filter(public_id=asset.public_id).count() == versions + 1


def test_the_services_refusals_become_record_errors(token_client, as_role, tower):
    viettel = token_client(org_code="VIETTEL")
    services.create_tenancy(
        as_role("city_official").user, tower, Organization.objects.get(code="MOBIFONE"), 2
    )
    records = [
        record("M-1", code="M-1", capacity=1),  # tenancies use 2
        record("X-1", code="M-1"),  # the owner has an asset with this code
        record("X-2", kind="duct"),  # a duct is a line, not a point
        record("X-3"),
    ]
    results = bulk(viettel, records).json()["results"]
    assert [r["status"] for r in results] == ["error", "error", "error", "created"]
    assert "capacity" in results[0]["errors"] and "code" in results[1]["errors"]
    tower.refresh_from_db()
    assert tower.capacity == 2
    # An asset with tenancies cannot be deleted: 409, and it stays.
    response = viettel.delete(by_source("M-1"))
    assert response.status_code == 409 and response.json()["code"] == "conflict"
    assert InfrastructureAsset.objects.filter(pk=tower.pk).exists()
