"""Writes that survive retries and races (sync.api.mixin, sync.middleware), through the
station register (batched bulk) and the asset register (bulk record by record): upsert by source,
If-Match, delete, bulk, Idempotency-Key, bad input, query counts and concurrent first writes."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from sharing.models import InfrastructureAsset
from stations.models import PermitApplication, Station, StationEvent
from stations.tests.conftest import BA_DINH, NEAR_BA_DINH
from sync.api.mixin import SyncWriteMixin
from sync.models import Change, IdempotencyRecord

pytestmark = pytest.mark.django_db

STATIONS = "/api/v1/stations/"
ASSETS = "/api/v1/assets/"
APPLICATIONS = "/api/v1/permit-applications/"


def station_body(code="VT-SW-1", location=BA_DINH, **properties):
    data = {
        "operator": "VIETTEL",
        "code": code,
        "name": "Trạm đồng bộ",
        "structure_type": "monopole",
        "structure_height_m": 30,
        "land_category": "public_land",
        "technologies": ["4G", "5G"],
    }
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [location.x, location.y]},
        "properties": data,
    }


def asset_body(code="VT-T-SW", **properties):
    data = {"owner": "VIETTEL", "code": code, "name": "Cột đồng bộ", "kind": "tower", "capacity": 2}
    data.update(properties)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": data,
    }


def keyed(body, external_id, source="VIETTEL"):
    return {
        **body,
        "properties": {**body["properties"], "source": source},
        "external_id": external_id,
    }


def by_source(prefix, external_id, source="VIETTEL"):
    return f"{prefix}by-source/{source}/{external_id}/"


def changes(public_id):
    return list(Change.objects.filter(public_id=public_id).order_by("id"))


REGISTERS = {
    "stations": (STATIONS, station_body, Station),
    "assets": (ASSETS, asset_body, InfrastructureAsset),
}


@pytest.fixture
def viettel(token_client):
    return token_client(org_code="VIETTEL")


@pytest.fixture
def draft(db):
    """draft(user, **fields) -> a permit application draft through the service."""
    from stations import services
    from stations.models import ApplicationType

    def make(user, **fields):
        data = {
            "application_type": ApplicationType.objects.get(code="public_station"),
            "station_code": "HN-SW-1",
            "station_name": "Trạm mới",
            "address": "Số 1 Phố Thử",
            "location": BA_DINH,
            "structure_type": "rooftop_mast",
            "structure_height_m": Decimal("6"),
            "building_height_m": Decimal("24"),
            "technologies": ["4G"],
            "land_category": "public_building",
        }
        data.update(fields)
        return services.save_draft(user, **data)

    return make


# --- PUT by source --------------------------------------------------------------------------------------


@pytest.mark.parametrize("register", REGISTERS)
def test_put_by_source_creates_updates_then_changes_nothing(viettel, register):
    prefix, body, model = REGISTERS[register]
    url = by_source(prefix, "EXT-1")
    created = viettel.put(url, body(), format="json")
    assert created.status_code == 201, created.content
    assert created["Sync-Result"] == "created" and created["ETag"]
    record = model.objects.get(source="VIETTEL", external_id="EXT-1")
    assert created.json()["id"] == str(record.public_id)
    assert len(changes(record.public_id)) == 1

    updated = viettel.put(url, body(name="Đổi tên"), format="json")
    assert updated.status_code == 200 and updated["Sync-Result"] == "updated"
    assert updated.json()["properties"]["name"] == "Đổi tên"
    assert updated["ETag"] != created["ETag"]
    after_update = changes(record.public_id)
    assert [c.version for c in after_update] == [1, 2]
    events = StationEvent.objects.count()

    again = viettel.put(url, body(name="Đổi tên"), format="json")
    assert again.status_code == 200 and again["Sync-Result"] == "unchanged"
    assert again.json() == updated.json() and again["ETag"] == updated["ETag"]
    assert changes(record.public_id) == after_update  # no new change-feed event
    assert StationEvent.objects.count() == events  # no new history
    assert model.objects.filter(source="VIETTEL", external_id="EXT-1").count() == 1


def test_unchanged_compares_geometry_numbers_and_lists_by_value(viettel):
    url = by_source(STATIONS, "EXT-CMP")
    assert viettel.put(url, station_body(), format="json").status_code == 201
    same = station_body(structure_height_m="30.00", technologies=["5G", "4G", "5G"])
    same["geometry"]["coordinates"] = [BA_DINH.x + 1e-12, BA_DINH.y - 1e-12]
    response = viettel.put(url, same, format="json")
    assert response["Sync-Result"] == "unchanged", response.json()
    moved = station_body(location=NEAR_BA_DINH)
    assert viettel.put(url, moved, format="json")["Sync-Result"] == "updated"
    station = Station.objects.get(external_id="EXT-CMP")
    assert station.location.equals_exact(NEAR_BA_DINH, 1e-9)
    assert station.structure_height_m == Decimal("30")


def test_put_body_naming_another_key_is_400(viettel):
    url = by_source(STATIONS, "EXT-2")
    for body in (
        keyed(station_body(), "OTHER"),
        {**station_body(), "source": "MOBIFONE"},
    ):
        response = viettel.put(url, body, format="json")
        assert response.status_code == 400, response.content
        assert response["Error-Code"] == "invalid"
    # The same key in the body is fine.
    response = viettel.put(url, keyed(station_body(), "EXT-2"), format="json")
    assert response.status_code == 201
    assert not Station.objects.filter(external_id="OTHER").exists()


def test_put_with_a_stale_if_match_is_412_with_the_current_state(viettel):
    url = by_source(STATIONS, "EXT-3")
    first = viettel.put(url, station_body(), format="json")
    second = viettel.put(
        url, station_body(name="Lần hai"), format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert second.status_code == 200 and second["Sync-Result"] == "updated"
    stale = viettel.put(
        url, station_body(name="Lần ba"), format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert stale.status_code == 412
    assert stale["Error-Code"] == "precondition_failed"
    body = stale.json()
    assert body["code"] == "precondition_failed"
    assert body["current"]["properties"]["name"] == "Lần hai"
    assert body["current"] == second.json() and stale["ETag"] == second["ETag"]
    assert Station.objects.get(external_id="EXT-3").name == "Lần hai"
    # Even a PUT that would change nothing is refused when the ETag is stale.
    same = viettel.put(
        url, station_body(name="Lần hai"), format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert same.status_code == 412


def test_get_and_delete_by_source(viettel):
    url = by_source(STATIONS, "EXT-4")
    assert viettel.get(url).status_code == 404
    created = viettel.put(url, station_body(), format="json").json()
    got = viettel.get(url)
    assert got.status_code == 200 and got.json() == created and got["ETag"]
    head = viettel.head(url)
    assert head.status_code == 200 and head["ETag"] == got["ETag"]
    assert viettel.get(url, HTTP_IF_NONE_MATCH=got["ETag"]).status_code == 304
    assert viettel.delete(url, HTTP_IF_MATCH='"1.000000"').status_code == 412
    assert Station.objects.filter(external_id="EXT-4").exists()
    assert viettel.delete(url, HTTP_IF_MATCH=got["ETag"]).status_code == 204
    assert not Station.objects.filter(external_id="EXT-4").exists()
    assert viettel.get(url).status_code == 404
    assert viettel.delete(url).status_code == 404
    assert changes(created["id"])[-1].action == "delete"


def test_a_client_writes_only_its_own_source(viettel, token_client):
    url = by_source(STATIONS, "EXT-5", source="MOBIFONE")
    response = viettel.put(url, station_body(), format="json")
    assert response.status_code == 403
    assert (
        response.json()["code"] == "source_not_owned"
        and response["Error-Code"] == "source_not_owned"
    )
    assert viettel.delete(url).status_code == 403
    assert not Station.objects.filter(external_id="EXT-5").exists()
    bulk = viettel.post(
        f"{STATIONS}bulk/",
        {"mode": "partial", "records": [keyed(station_body(), "EXT-5", source="MOBIFONE")]},
        format="json",
    )
    assert bulk.status_code == 200
    assert bulk.json()["results"][0]["status"] == "error"
    assert "source" in bulk.json()["results"][0]["errors"]
    # Another operator's client does not reach Viettel's records, even naming Viettel's source.
    mobifone = token_client(org_code="MOBIFONE")
    assert (
        viettel.put(by_source(STATIONS, "EXT-6"), station_body(), format="json").status_code == 201
    )
    assert mobifone.get(by_source(STATIONS, "EXT-6")).status_code == 404
    assert mobifone.delete(by_source(STATIONS, "EXT-6")).status_code == 403


def test_a_person_signed_in_writes_any_source(as_role):
    official = as_role("city_official")
    response = official.put(
        by_source(STATIONS, "X-1", source="SO_KHCN"), station_body(), format="json"
    )
    assert response.status_code == 201, response.content
    assert Station.objects.get(external_id="X-1").source == "SO_KHCN"


@pytest.mark.parametrize(
    "path",
    [
        "by-source/VIETTEL/" + "x" * 129 + "/",
        "by-source/" + "V" * 65 + "/A/",
        "by-source/VI%20ETTEL/A/",
    ],
)
def test_malformed_keys_in_the_url_are_404(viettel, path):
    before = Station.objects.count()
    assert viettel.put(f"{STATIONS}{path}", station_body(), format="json").status_code == 404
    assert Station.objects.count() == before


# --- DELETE on the detail ---------------------------------------------------------------------------------


@pytest.mark.parametrize("register", REGISTERS)
def test_delete_with_a_stale_if_match_is_412_and_keeps_the_row(viettel, register):
    prefix, body, model = REGISTERS[register]
    record = viettel.put(by_source(prefix, "DEL-1"), body(), format="json").json()
    url = f"{prefix}{record['id']}/"
    tag = viettel.get(url)["ETag"]
    assert viettel.patch(url, {"name": "Mới"}, format="json", HTTP_IF_MATCH=tag).status_code == 200
    stale = viettel.delete(url, HTTP_IF_MATCH=tag)
    assert stale.status_code == 412 and stale.json()["code"] == "precondition_failed"
    assert stale.json()["current"]["properties"]["name"] == "Mới"
    assert model.objects.filter(public_id=record["id"]).exists()
    fresh = viettel.get(url)["ETag"]
    assert viettel.delete(url, HTTP_IF_MATCH=fresh).status_code == 204
    assert not model.objects.filter(public_id=record["id"]).exists()
    assert viettel.get(url).status_code == 404


# --- Bulk -------------------------------------------------------------------------------------------------


def state(model):
    return model.objects.count(), Change.objects.count()


@pytest.mark.parametrize("register", REGISTERS)
def test_bulk_partial_applies_the_valid_records(viettel, register):
    prefix, body, model = REGISTERS[register]
    viettel.put(by_source(prefix, "B-0"), body(code="B-0"), format="json")
    records = [
        keyed(body(code="B-0"), "B-0"),  # unchanged
        keyed(body(code="B-1"), "B-1"),  # created
        {**body(code="B-2"), "source": "VIETTEL"},  # no external_id
        keyed(body(code="B-3", name=""), "B-3"),  # a field error
        keyed(body(code="B-4"), "B-1"),  # the same key again
        "not a record",
    ]
    response = viettel.post(
        f"{prefix}bulk/", {"mode": "partial", "records": records}, format="json"
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["applied"] is True and data["mode"] == "partial"
    statuses = [r["status"] for r in data["results"]]
    assert statuses == ["unchanged", "created", "error", "error", "error", "error"]
    assert [r["index"] for r in data["results"]] == list(range(6))
    results = data["results"]
    assert "external_id" in results[2]["errors"] and "name" in results[3]["errors"]
    assert "external_id" in results[4]["errors"] and results[4]["id"] is None
    assert data["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 1,
        "error": 4,
        "not_applied": 0,
    }
    created = model.objects.get(source="VIETTEL", external_id="B-1")
    assert results[1]["id"] == str(created.public_id) and created.code == "B-1"
    assert not model.objects.filter(code__in=["B-2", "B-3", "B-4"]).exists()


@pytest.mark.parametrize("register", REGISTERS)
def test_bulk_atomic_applies_nothing_when_one_record_fails(viettel, register):
    prefix, body, model = REGISTERS[register]
    viettel.put(by_source(prefix, "A-0"), body(code="A-0"), format="json")
    before = state(model)
    records = [
        keyed(body(code="A-0", name="Đổi"), "A-0"),
        keyed(body(code="A-1"), "A-1"),
        # Valid for the serializer, refused by the service: the point is outside Vietnam.
        {
            **keyed(body(code="A-2"), "A-2"),
            "geometry": {"type": "Point", "coordinates": [2.35, 48.85]},
        },
    ]
    response = viettel.post(f"{prefix}bulk/", {"records": records}, format="json")
    assert response.status_code == 400, response.content
    assert response["Error-Code"] == "batch_rejected"
    data = response.json()
    assert data["code"] == "batch_rejected" and data["applied"] is False
    assert [r["status"] for r in data["results"]] == ["not_applied", "not_applied", "error"]
    assert all(r["id"] is None for r in data["results"])
    assert state(model) == before
    assert model.objects.get(external_id="A-0").name != "Đổi"
    # The same batch without the bad record goes through, all of it.
    response = viettel.post(f"{prefix}bulk/", {"records": records[:2]}, format="json")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["updated", "created"]
    assert model.objects.get(external_id="A-0").name == "Đổi"


def test_bulk_atomic_with_a_field_error_writes_nothing(viettel):
    before = state(Station)
    records = [keyed(station_body(code=f"F-{i}"), f"F-{i}") for i in range(3)]
    records[1]["properties"]["structure_type"] = "spaceship"
    response = viettel.post(
        f"{STATIONS}bulk/", {"mode": "atomic", "records": records}, format="json"
    )
    assert response.status_code == 400
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["not_applied", "error", "not_applied"]
    assert "structure_type" in results[1]["errors"]
    assert state(Station) == before


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"records": []}, "invalid"),
        ({"mode": "atomic"}, "invalid"),
        ({"records": {"a": 1}}, "invalid"),
        ({"records": "x"}, "invalid"),
        ({"mode": "sometimes", "records": [{}]}, "invalid"),
        ([{"records": []}], "invalid"),
    ],
)
def test_bad_batches_are_400_with_a_code(viettel, payload, code):
    response = viettel.post(f"{STATIONS}bulk/", payload, format="json")
    assert response.status_code == 400, response.content
    assert response["Error-Code"] == code


def test_a_batch_over_the_limit_is_400_batch_too_large(viettel, settings):
    before = state(Station)
    records = [keyed(station_body(code=f"L-{i}"), f"L-{i}") for i in range(1001)]
    response = viettel.post(f"{STATIONS}bulk/", {"records": records}, format="json")
    assert response.status_code == 400
    assert (
        response.json()["code"] == "batch_too_large" and response["Error-Code"] == "batch_too_large"
    )
    assert state(Station) == before
    settings.SYNC_BULK_MAX = 2
    response = viettel.post(f"{STATIONS}bulk/", {"records": records[:3]}, format="json")
    assert response.json()["code"] == "batch_too_large"
    assert (
        viettel.post(f"{STATIONS}bulk/", {"records": records[:2]}, format="json").status_code == 200
    )


@pytest.mark.parametrize("url", [f"{STATIONS}bulk/", by_source(STATIONS, "J-1"), STATIONS])
def test_malformed_json_is_400_parse_error(viettel, url):
    before = state(Station)
    method = viettel.put if "by-source" in url else viettel.post
    response = method(url, '{"records": [', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error" and response["Error-Code"] == "parse_error"
    assert state(Station) == before


def test_a_body_over_the_limit_is_413(viettel, settings):
    settings.SYNC_MAX_BODY_BYTES = 2000
    records = [keyed(station_body(code=f"S-{i}"), f"S-{i}") for i in range(20)]
    response = viettel.post(f"{STATIONS}bulk/", {"records": records}, format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response["Error-Code"] == "payload_too_large"
    response = viettel.put(
        by_source(STATIONS, "S-0"), {**station_body(), "pad": "x" * 3000}, format="json"
    )
    assert response.status_code == 413
    assert not Station.objects.filter(code__startswith="S-").exists()


def test_bulk_queries_do_not_grow_with_the_batch(viettel):
    def run(prefix, size, expected="created", **properties):
        records = [
            keyed(station_body(code=f"{prefix}-{i}", **properties), f"{prefix}-{i}")
            for i in range(size)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = viettel.post(f"{STATIONS}bulk/", {"records": records}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["counts"][expected] == size
        return len(queries)

    run("W", 3)  # warm-up: the client's first call reads its roles and organisation
    small, large = run("Q", 10), run("R", 200)
    assert large <= small, (small, large)
    # Updating them, and finding them unchanged, costs no more either.
    assert run("R", 200, "updated", name="Đổi tên") <= small
    assert run("R", 200, "unchanged", name="Đổi tên") <= small


# --- Concurrent first writes -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("register", REGISTERS)
def test_concurrent_first_puts_create_one_record_and_never_fail(
    token_client, reference_data, monkeypatch, register
):
    """Both callers find no record, both insert; the loser of the unique-key race waits for the
    winner's commit, then updates (here: finds it unchanged) instead of failing."""
    prefix, body, model = REGISTERS[register]
    http = [token_client(org_code="VIETTEL"), token_client(org_code="VIETTEL")]
    barrier = threading.Barrier(2, timeout=20)
    local = threading.local()
    original = SyncWriteMixin.find_by_source

    def find_then_wait(self, *args, **kwargs):
        found = original(self, *args, **kwargs)
        if not getattr(local, "waited", False):
            local.waited = True
            barrier.wait()  # both have looked and found nothing: now both create
        return found

    monkeypatch.setattr(SyncWriteMixin, "find_by_source", find_then_wait)
    responses = [None, None]

    def put(i):
        try:
            responses[i] = http[i].put(by_source(prefix, "RACE-1"), body(), format="json")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=put, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 201], [r.content for r in responses]
    results = sorted(r["Sync-Result"] for r in responses)
    assert results == ["created", "unchanged"]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert model.objects.filter(source="VIETTEL", external_id="RACE-1").count() == 1


# --- Idempotency-Key ---------------------------------------------------------------------------------------


def test_a_retried_post_gets_the_first_answer_and_creates_one_row(viettel):
    first = viettel.post(
        STATIONS, station_body(code="I-1"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    again = viettel.post(
        STATIONS, station_body(code="I-1"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again["ETag"] == first["ETag"]
    assert Station.objects.filter(code="I-1").count() == 1
    # Without the key, the same POST is a new request (and the code is taken).
    assert viettel.post(STATIONS, station_body(code="I-1"), format="json").status_code == 400


def test_the_same_key_with_another_body_is_422(viettel):
    assert (
        viettel.post(
            STATIONS, station_body(code="I-2"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
        ).status_code
        == 201
    )
    response = viettel.post(
        STATIONS, station_body(code="I-3"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Station.objects.filter(code="I-3").exists()


def test_keys_belong_to_each_client(viettel, token_client):
    other = token_client(org_code="VIETTEL")
    a = viettel.post(STATIONS, station_body(code="I-4"), format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = other.post(STATIONS, station_body(code="I-5"), format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert a.status_code == b.status_code == 201
    assert "Idempotent-Replayed" not in b and a.json()["id"] != b.json()["id"]
    assert Station.objects.filter(code__in=["I-4", "I-5"]).count() == 2


def test_a_retried_bulk_is_replayed_not_run_again(viettel):
    records = [keyed(station_body(code="I-6"), "I-6")]
    first = viettel.post(
        f"{STATIONS}bulk/", {"records": records}, format="json", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    assert first.json()["results"][0]["status"] == "created"
    changes_before = Change.objects.count()
    again = viettel.post(
        f"{STATIONS}bulk/", {"records": records}, format="json", HTTP_IDEMPOTENCY_KEY="b-1"
    )
    assert again.json() == first.json()  # "created" again, not "unchanged": the first answer
    assert again["Idempotent-Replayed"] == "true"
    assert Change.objects.count() == changes_before


def test_a_refused_call_is_not_kept_so_a_retry_runs(token_client):
    reader = token_client(org_code="VIETTEL", scopes={"stations": "read"})
    refused = reader.post(
        STATIONS, station_body(code="I-7"), format="json", HTTP_IDEMPOTENCY_KEY="k-7"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"
    reader.api_client.scopes = {"stations": "write"}
    reader.api_client.save(update_fields=["scopes"])
    retried = reader.post(
        STATIONS, station_body(code="I-7"), format="json", HTTP_IDEMPOTENCY_KEY="k-7"
    )
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried


def test_a_replayed_error_keeps_its_code(viettel):
    bad = station_body(code="I-8", structure_type="spaceship")
    first = viettel.post(STATIONS, bad, format="json", HTTP_IDEMPOTENCY_KEY="k-8")
    again = viettel.post(STATIONS, bad, format="json", HTTP_IDEMPOTENCY_KEY="k-8")
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true" and again["Error-Code"] == "invalid"


def test_a_replayed_case_step_is_not_run_twice(token_client, draft):
    http = token_client(org_code="VIETTEL")
    app = draft(http.api_client.user, location=NEAR_BA_DINH)
    url = f"{APPLICATIONS}{app.pk}/submit/"
    body = {"sharing_justification": "Không có cột dùng chung."}
    first = http.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="step-1")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "submitted" and first["ETag"]
    again = http.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="step-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    # Without the key the step would be refused: it is no longer a draft.
    assert http.post(url, body, format="json").status_code == 409
    assert PermitApplication.objects.get(pk=app.pk).status == "submitted"


def test_a_large_upload_with_a_key_is_read_once_and_replayed(token_client, draft, settings):
    """A multipart body over DATA_UPLOAD_MAX_MEMORY_SIZE is hashed from a spool, not refused."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    http = token_client(org_code="VIETTEL")
    app = draft(http.api_client.user)
    content = b"%PDF-1.4\n" + b"0" * 120_000 + b"\n%%EOF\n"

    def upload():
        return http.post(
            f"{APPLICATIONS}{app.pk}/documents/",
            {
                "document_type": "drawings",
                "file": SimpleUploadedFile("big.pdf", content, "application/pdf"),
            },
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="upload-1",
        )

    first = upload()
    assert first.status_code == 201, first.content
    again = upload()
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert app.documents.count() == 1
    assert IdempotencyRecord.objects.filter(key="upload-1").count() == 1


# --- ETags on case details ---------------------------------------------------------------------------------


def test_case_details_and_steps_carry_an_etag(as_role, draft):
    client = as_role("operator_viettel")
    app = draft(client.user, location=NEAR_BA_DINH)
    url = f"{APPLICATIONS}{app.pk}/"
    detail = client.get(url)
    assert detail.status_code == 200 and detail["ETag"]
    stepped = client.post(f"{url}submit/", {"sharing_justification": "Không."}, format="json")
    assert stepped.status_code == 200, stepped.content
    assert stepped["ETag"] and stepped["ETag"] != detail["ETag"]
    assert client.get(url)["ETag"] == stepped["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=stepped["ETag"]).status_code == 304


def test_json_dumps_round_trip_of_results_is_plain(viettel):
    """The bulk answer is plain JSON a client can store (no numbers as strings, no lazy text)."""
    records = [keyed(station_body(code="P-1"), "P-1")]
    data = viettel.post(f"{STATIONS}bulk/", {"records": records}, format="json").json()
    assert json.loads(json.dumps(data)) == data
    assert isinstance(data["counts"]["created"], int)
