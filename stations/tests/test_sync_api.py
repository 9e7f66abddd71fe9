"""The station register's sync writes over HTTP: the permission matrix of delete / by-source / bulk,
the batched bulk upsert's business rules (the same as create_station/update_station), its history
and change-feed events, and the public-site catalogue by source (real PostGIS, no mocks)."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point

from conftest import ROLE_USERS
from core.history import events_for
from core.models import AdministrativeUnit, Organization
from stations import services
from stations.models import PublicSite, Station
from stations.tests.conftest import BA_DINH, NEAR_BA_DINH
from sync.models import Change

pytestmark = pytest.mark.django_db

STATIONS = "/api/v1/stations/"
SITES = "/api/v1/public-sites/"
FAR_AWAY = Point(105.7800, 21.0300, srid=4326)  # in Hanoi, ~5.7 km west of BA_DINH
SAIGON = Point(106.7000, 10.7760, srid=4326)  # in Vietnam, not in Hanoi
PARIS = Point(2.3522, 48.8566, srid=4326)


def body(code="VT-SY-1", location=BA_DINH, **properties):
    data = {
        "operator": "VIETTEL",
        "code": code,
        "name": "Trạm đồng bộ",
        "structure_type": "monopole",
        "structure_height_m": 30,
        "land_category": "public_land",
        "technologies": ["4G"],
    }
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [location.x, location.y]},
        "properties": data,
    }


def record(external_id, source="VIETTEL", **kwargs):
    """A bulk record: a create body with its key (here in the Feature's properties)."""
    feature = body(code=kwargs.pop("code", external_id), **kwargs)
    feature["properties"].update(source=source, external_id=external_id)
    return feature


def bulk(client, records, mode="partial"):
    return client.post(f"{STATIONS}bulk/", {"mode": mode, "records": records}, format="json")


def by_source(external_id, source="VIETTEL", prefix=STATIONS):
    return f"{prefix}by-source/{source}/{external_id}/"


@pytest.fixture
def viettel(token_client):
    return token_client(org_code="VIETTEL")


# --- Permission matrix ---------------------------------------------------------------------------------

OPERATIONS = ("get", "put_update", "put_create", "delete_by_source", "destroy", "bulk")
# caller: answers to (GET by source, PUT by source on the existing Viettel station, PUT by source
# of a new one, DELETE by source, DELETE by id, and the bulk record's status or the HTTP status).
MATRIX = {
    "city_official": (200, 200, 201, 204, 204, "created"),
    "national_official": (200, 403, 403, 403, 403, "error"),
    "operator_viettel": (200, 200, 201, 204, 204, "created"),
    # Another operator's source is refused first (source_not_owned), found or not: 403.
    "operator_mobifone": (404, 403, 403, 403, 404, "error"),
    "agency_api_client": (200, 403, 403, 403, 403, "error"),
    "operator_api_client": (404, 403, 403, 403, 404, "error"),
    "administrator": (200, 200, 201, 204, 204, "created"),
    "no_role": (403, 403, 403, 403, 403, 403),
    "anonymous": (401, 401, 401, 401, 401, 401),
    # Token clients (Bearer): the scope, then the source, then the services decide.
    "token_viettel_write": (200, 200, 201, 204, 204, "created"),
    "token_viettel_read": (200, 403, 403, 403, 403, 403),
    "token_mobifone_write": (404, 403, 403, 403, 404, "error"),
    "token_agency_write": (200, 403, 403, 403, 403, "error"),
}
TOKENS = {
    "token_viettel_write": ("VIETTEL", {"*": "write"}),
    "token_viettel_read": ("VIETTEL", {"stations": "read"}),
    "token_mobifone_write": ("MOBIFONE", {"stations": "write"}),
    "token_agency_write": ("CUC_VT", {"*": "write"}),
}


def test_the_matrix_covers_every_role():
    assert set(MATRIX) >= {*ROLE_USERS, "anonymous"}


def caller(name, as_role, token_client):
    if name in TOKENS:
        org_code, scopes = TOKENS[name]
        return token_client(org_code=org_code, scopes=scopes)
    return as_role(name)


def run_operation(client, operation, station):
    if operation == "get":
        return client.get(by_source("M-1"))
    if operation == "put_update":
        return client.put(by_source("M-1"), body(code="M-1", name="Đổi tên"), format="json")
    if operation == "put_create":
        return client.put(by_source("M-NEW"), body(code="M-NEW"), format="json")
    if operation == "delete_by_source":
        return client.delete(by_source("M-1"))
    if operation == "destroy":
        return client.delete(f"{STATIONS}{station.public_id}/")
    return bulk(client, [record("M-NEW")])


@pytest.mark.parametrize(
    ("name", "operation"),
    [(name, operation) for name in MATRIX for operation in OPERATIONS],
)
def test_sync_write_permission_matrix(as_role, token_client, make_station, name, operation):
    station = make_station(code="M-1", source="VIETTEL", external_id="M-1", name="Trạm gốc")
    client = caller(name, as_role, token_client)
    expected = MATRIX[name][OPERATIONS.index(operation)]
    response = run_operation(client, operation, station)
    if isinstance(expected, str):  # a bulk record's status
        assert response.status_code == 200, response.content
        assert response.json()["results"][0]["status"] == expected
    else:
        assert response.status_code == expected, response.content
    written = isinstance(expected, int) and expected < 300 or expected == "created"
    exists = Station.objects.filter(pk=station.pk).exists()
    if operation in ("delete_by_source", "destroy"):
        assert exists != written
    elif operation == "put_update":
        assert (Station.objects.get(pk=station.pk).name == "Đổi tên") == written
    elif operation in ("put_create", "bulk"):
        assert Station.objects.filter(external_id="M-NEW").exists() == written


def test_refusals_name_their_code(token_client):
    reader = token_client(org_code="VIETTEL", scopes={"stations": "read"})
    response = reader.put(by_source("C-1"), body(code="C-1"), format="json")
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    mobifone = token_client(org_code="MOBIFONE")
    response = mobifone.put(by_source("C-1"), body(code="C-1"), format="json")
    assert response.status_code == 403 and response.json()["code"] == "source_not_owned"
    response = mobifone.put(by_source("C-1", "MOBIFONE"), body(code="C-1"), format="json")
    assert response.status_code == 403 and response["Error-Code"] == "permission_denied"
    response = mobifone.put(
        by_source("C-1", "MOBIFONE"), body(code="C-1", operator="MOBIFONE"), format="json"
    )
    assert response.status_code == 201 and response["Sync-Result"] == "created"


def test_a_key_taken_by_another_operators_station_is_a_field_error(make_station, token_client):
    """Created by an official for MobiFone under Viettel's source: Viettel's client cannot see it,
    and may not take it over."""
    make_station("MOBIFONE", code="MF-1", source="VIETTEL", external_id="K-1")
    viettel = token_client(org_code="VIETTEL")
    response = viettel.put(by_source("K-1"), body(code="K-1"), format="json")
    assert response.status_code == 400 and "external_id" in response.json()
    result = bulk(viettel, [record("K-1")]).json()["results"][0]
    assert result["status"] == "error" and "external_id" in result["errors"]
    assert Station.objects.get(external_id="K-1").operator.code == "MOBIFONE"


# --- The batched upsert's rules --------------------------------------------------------------------------


def test_bulk_applies_the_same_rules_as_the_services(viettel, make_station):
    make_station(code="TAKEN")  # a Viettel station without a source
    records = [
        record("R-ok"),
        record("R-op", operator="MOBIFONE"),  # not Viettel's client's operator
        record("R-paris", location=PARIS),  # outside Vietnam
        record("R-saigon", location=SAIGON),  # outside Hanoi
        record("R-commune", location=FAR_AWAY, commune="00004"),  # not in that commune
        record("R-taken", code="TAKEN"),  # the operator has a station with this code
        record("R-twice", code="R-ok"),  # the code is taken earlier in the batch
        record("R-low", structure_height_m=0),
        record("R-building", building_height_m="0.5"),
        record("R-unknown", operator="NOPE"),
        record("R-tech", technologies=["6G"]),
    ]
    response = bulk(viettel, records)
    assert response.status_code == 200, response.content
    results = {r["external_id"]: r for r in response.json()["results"]}
    assert results["R-ok"]["status"] == "created"
    expected_fields = {
        "R-op": "operator",
        "R-paris": "location",
        "R-saigon": "location",
        "R-commune": "commune",
        "R-taken": "code",
        "R-twice": "code",
        "R-low": "structure_height_m",
        "R-building": "building_height_m",
        "R-unknown": "operator",
        "R-tech": "technologies",
    }
    for key, field in expected_fields.items():
        assert results[key]["status"] == "error", key
        assert field in results[key]["errors"], (key, results[key]["errors"])
    assert "Vietnam" in results["R-paris"]["errors"]["location"][0]
    assert "Hanoi" in results["R-saigon"]["errors"]["location"][0]
    assert list(Station.objects.filter(source="VIETTEL").values_list("external_id", flat=True)) == [
        "R-ok"
    ]
    station = Station.objects.get(external_id="R-ok")
    assert station.commune.code == "00004" and station.status == Station.Status.PLANNED
    assert station.search_text and station.technologies == ["4G"]


def test_bulk_matches_what_create_station_stores(viettel, make_user):
    """The same record through the batched upsert and through the service: the same row."""
    official = make_user("city_official", "SO_KHCN_HN")
    data = {
        "operator": Organization.objects.get(code="VIETTEL"),
        "code": "SAME-1",
        "name": "Trạm Ba Đình",
        "address": "Số 1\tPhố \\ Thử",
        "location": NEAR_BA_DINH,
        "structure_type": "rooftop_mast",
        "structure_height_m": Decimal("2.5"),
        "building_height_m": Decimal("20"),
        "technologies": ["4G", "5G"],  # as the API's serializer gives them
        "land_category": "public_building",
        "status": "operating",
        "permit_reference": "GP-1",
        "commissioned_on": date(2025, 3, 1),
        "source": "OTHER",
        "external_id": "SAME-1",
    }
    service_station = services.create_station(official, **data)
    feature = body(
        code="SAME-2",
        location=NEAR_BA_DINH,
        name="Trạm Ba Đình",
        address="Số 1\tPhố \\ Thử",
        structure_type="rooftop_mast",
        structure_height_m="2.5",
        building_height_m=20,
        technologies=["5G", "4G"],
        land_category="public_building",
        status="operating",
        permit_reference="GP-1",
        commissioned_on="2025-03-01",
    )
    feature["properties"].update(source="VIETTEL", external_id="SAME-2")
    assert bulk(viettel, [feature]).json()["counts"]["created"] == 1
    bulk_station = Station.objects.get(external_id="SAME-2")
    skip = {"id", "public_id", "created_at", "updated_at", "code", "source", "external_id"}
    skip |= {"search_text", "location"}
    for field in Station._meta.concrete_fields:
        if field.attname not in skip:
            assert getattr(bulk_station, field.attname) == getattr(
                service_station, field.attname
            ), field.attname
    assert bulk_station.location.equals_exact(service_station.location, 1e-9)
    assert bulk_station.non_bulky is True
    assert bulk_station.search_text == service_station.search_text.replace("same-1", "same-2")


def test_bulk_update_keeps_what_the_record_leaves_out(viettel):
    first = record("U-1", address="Số 9", status="operating", permit_reference="GP-9")
    bulk(viettel, [first])
    station = Station.objects.get(external_id="U-1")
    again = record("U-1", name="Tên mới")  # no address, status or permit reference
    results = bulk(viettel, [again]).json()["results"]
    assert results[0]["status"] == "updated" and results[0]["id"] == str(station.public_id)
    station.refresh_from_db()
    assert station.name == "Tên mới" and station.address == "Số 9"
    assert station.status == "operating" and station.permit_reference == "GP-9"
    assert bulk(viettel, [again]).json()["results"][0]["status"] == "unchanged"


def test_bulk_history_names_the_user_and_the_client(viettel):
    bulk(viettel, [record("H-1")])
    bulk(viettel, [record("H-1", name="Đổi tên")])
    station = Station.objects.get(external_id="H-1")
    events = list(events_for(station))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    for event in events:
        assert event.pgh_context["user"] == viettel.api_client.user.pk
        assert event.pgh_context["api_client"] == viettel.api_client.name
    assert events[-1].pgh_diff["name"] == ["Trạm đồng bộ", "Đổi tên"]


def test_bulk_writes_reach_the_change_feed_once_each(viettel):
    records = [record(f"CF-{i}") for i in range(3)]
    bulk(viettel, records)
    ids = list(Station.objects.filter(source="VIETTEL").values_list("public_id", flat=True))
    created = Change.objects.filter(public_id__in=ids)
    assert sorted(c.action for c in created) == ["create"] * 3
    assert {c.data["properties"]["external_id"] for c in created} == {"CF-0", "CF-1", "CF-2"}
    records[1]["properties"]["name"] = "Đổi tên"
    counts = bulk(viettel, records).json()["counts"]
    assert counts["updated"] == 1 and counts["unchanged"] == 2
    after = Change.objects.filter(public_id__in=ids)
    assert after.count() == 4
    update = after.get(action="update")
    assert update.version == 2 and update.data["properties"]["name"] == "Đổi tên"


def test_an_official_writes_any_operators_stations_in_bulk(as_role):
    official = as_role("city_official")
    records = [record("O-1"), record("O-2", operator="MOBIFONE", source="SO_KHCN")]
    response = bulk(official, records, mode="atomic")
    assert response.status_code == 200, response.content
    assert set(
        Station.objects.filter(external_id__in=["O-1", "O-2"]).values_list(
            "operator__code", flat=True
        )
    ) == {"VIETTEL", "MOBIFONE"}


def test_an_official_may_move_a_station_to_another_commune(as_role):
    official = as_role("city_official")
    bulk(official, [record("MV-1")])
    moved = record("MV-1", location=FAR_AWAY)
    assert bulk(official, [moved]).json()["results"][0]["status"] == "updated"
    station = Station.objects.get(external_id="MV-1")
    expected = AdministrativeUnit.objects.filter(boundary__intersects=FAR_AWAY).get()
    assert station.commune_id == expected.pk and station.commune.code != "00004"


def test_a_code_taken_meanwhile_fails_its_record_only(viettel, make_station, monkeypatch):
    """When the database refuses the batched statement (a code taken by a concurrent writer after
    the check), the rows are written one by one and only the refused one fails."""
    from stations.services import register

    monkeypatch.setattr(
        register,
        "_CODES_SQL",
        "SELECT 1, 1, '' WHERE cardinality(%s::bigint[]) < 0 AND cardinality(%s::text[]) < 0",
    )
    make_station(code="RACED")
    records = [record("T-1"), record("T-2", code="RACED"), record("T-3")]
    results = bulk(viettel, records).json()["results"]
    assert [r["status"] for r in results] == ["created", "error", "created"]
    assert "code" in results[1]["errors"]
    assert Station.objects.filter(external_id__in=["T-1", "T-3"]).count() == 2
    # In atomic mode the same refusal writes nothing.
    records = [record("T-4"), record("T-5", code="RACED")]
    response = bulk(viettel, records, mode="atomic")
    assert response.status_code == 400
    assert [r["status"] for r in response.json()["results"]] == ["not_applied", "error"]
    assert not Station.objects.filter(external_id="T-4").exists()


# --- Public sites by source (city officials) ------------------------------------------------------------


def site_body(**properties):
    data = {
        "name": "Trụ sở UBND phường Ba Đình",
        "owner": "UBND_HN",
        "address": "Phường Ba Đình",
        "land_category": "public_building",
        "building_height_m": 24,
        "capacity": 2,
    }
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": data,
    }


def test_public_sites_by_source_for_city_officials(as_role, token_client):
    official = as_role("city_official")
    url = by_source("PS-1", source="UBND_HN", prefix=SITES)
    created = official.put(url, site_body(), format="json")
    assert created.status_code == 201, created.content
    again = official.put(url, site_body(), format="json")
    assert again["Sync-Result"] == "unchanged" and again.json() == created.json()
    changed = official.put(url, site_body(capacity=3), format="json")
    assert changed["Sync-Result"] == "updated"
    site = PublicSite.objects.get(source="UBND_HN", external_id="PS-1")
    assert site.capacity == 3
    # Operators read the catalogue but do not write it.
    assert as_role("operator_viettel").get(url).status_code == 200
    refused = as_role("operator_viettel").put(url, site_body(capacity=9), format="json")
    assert refused.status_code == 403
    client = token_client(org_code="UBND_HN")
    assert client.put(url, site_body(capacity=9), format="json").status_code == 403
    results = official.post(
        f"{SITES}bulk/",
        {
            "records": [
                {**site_body(name="Nhà văn hoá"), "source": "UBND_HN", "external_id": "PS-2"}
            ]
        },
        format="json",
    ).json()["results"]
    assert results[0]["status"] == "created"
    site.refresh_from_db()
    assert site.capacity == 3
    assert official.delete(url).status_code == 204
    assert not PublicSite.objects.filter(pk=site.pk).exists()


# --- Concurrent batches ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_of_the_same_new_keys_both_succeed(
    token_client, reference_data, monkeypatch
):
    """Two batches with the same new keys in opposite orders, written at the same moment: no
    deadlock error and no 500; each key is created once, by one of them."""
    import threading

    from django.db import connections

    clients = [token_client(org_code="VIETTEL"), token_client(org_code="VIETTEL")]
    barrier = threading.Barrier(2, timeout=20)
    local = threading.local()
    from stations.services import bulk as bulk_module

    original = bulk_module._write_bulk_rows

    def write_together(rows):
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()  # both have checked their keys and found none
        return original(rows)

    monkeypatch.setattr(bulk_module, "_write_bulk_rows", write_together)
    keys = [f"CC-{i}" for i in range(20)]
    batches = [[record(k) for k in keys], [record(k) for k in reversed(keys)]]
    responses = [None, None]

    def post(i):
        try:
            responses[i] = bulk(clients[i], batches[i])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [r.status_code for r in responses] == [200, 200], [r.content for r in responses]
    counts = [r.json()["counts"] for r in responses]
    assert sum(c["created"] for c in counts) == 20
    assert sum(c["created"] + c["updated"] + c["unchanged"] for c in counts) == 40
    assert Station.objects.filter(external_id__in=keys).count() == 20


def test_bulk_looks_communes_up_together(viettel):
    """Records in many communes, each naming its commune: still the same few queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    units = list(AdministrativeUnit.objects.filter(boundary__isnull=False).order_by("code")[:40])
    assert len(units) == 40

    def run(prefix, chosen):
        records = [
            record(f"{prefix}-{u.code}", location=u.boundary.point_on_surface, commune=u.code)
            for u in chosen
        ]
        with CaptureQueriesContext(connection) as queries:
            response = bulk(viettel, records, mode="atomic")
        assert response.status_code == 200, response.content
        assert response.json()["counts"]["created"] == len(chosen)
        return len(queries)

    run("W", units[:2])  # warm-up
    assert run("F", units) <= run("T", units[2:6])
    assert Station.objects.get(external_id=f"F-{units[-1].code}").commune_id == units[-1].pk


def test_naming_another_commune_for_an_unmoved_station_is_checked(viettel):
    bulk(viettel, [record("NC-1")])
    elsewhere = AdministrativeUnit.objects.filter(boundary__intersects=FAR_AWAY).get()
    result = bulk(viettel, [record("NC-1", commune=elsewhere.code)]).json()["results"][0]
    assert result["status"] == "error" and "commune" in result["errors"]
    assert bulk(viettel, [record("NC-1", commune="00004")]).json()["results"][0]["status"] == (
        "unchanged"
    )
    assert Station.objects.get(external_id="NC-1").commune.code == "00004"


def test_one_save_and_a_batch_refuse_with_the_same_messages(make_user, make_station):
    """The station rules are one validator (services.validate_stations): the single save (a batch
    of one) and the bulk upsert give each wrong station the same field errors, and the batch
    checks its locations and codes in the same number of queries for one row as for many."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.exceptions import InvalidInput

    official = make_user("city_official", "SO_KHCN_HN")
    make_station(code="TAKEN")
    viettel = Organization.objects.get(code="VIETTEL")
    in_4 = AdministrativeUnit.objects.get(code="00004")
    base = {
        "operator": viettel,
        "name": "Trạm",
        "location": BA_DINH,
        "structure_type": "rooftop_mast",
        "structure_height_m": Decimal("3"),
        "land_category": "public_building",
    }
    cases = {
        "paris": {"location": PARIS},
        "saigon": {"location": SAIGON},
        "commune": {"location": FAR_AWAY, "commune": in_4},
        "taken": {"code": "TAKEN"},
        "future": {"status": "operating", "commissioned_on": date(2999, 1, 1)},
        "agency": {"operator": Organization.objects.get(code="SO_KHCN_HN")},
    }
    records = [
        {**base, "code": f"V-{key}", "source": "OTHER", "external_id": f"V-{key}", **case}
        for key, case in cases.items()
    ]
    batch = services.bulk_upsert_stations(official, records)
    for record_data, outcome in zip(records, batch, strict=True):
        with pytest.raises(InvalidInput) as single:
            services.create_station(official, **record_data)
        assert outcome["status"] == "error"
        assert outcome["errors"] == {
            field: [str(m) for m in messages] for field, messages in single.value.errors.items()
        }, record_data["code"]
    assert not Station.objects.filter(source="OTHER").exists()

    def checked(count):
        rows = [
            {
                "lon": FAR_AWAY.x,
                "lat": FAR_AWAY.y + i * 1e-5,
                "commune": None,
                "operator_id": viettel.pk,
                "code": f"Q-{i}",
            }
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            errors = services.validate_stations(official, rows)
        assert errors == [{}] * count and all(r["commune_id"] for r in rows)
        return len(queries)

    assert checked(1) == checked(200)
