# ruff: noqa: F811  (pytest fixtures imported from stations.tests.conftest)
"""Nightly downloads of the public registers (sync.downloads): real PostGIS, real files, a
real worker; a consumer who loads a file and follows the feed from its cursor misses nothing."""

import csv
import hashlib
import io
import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.contrib.gis.geos import LineString
from django.db import connection
from django.utils import timezone

from core.models import Organization
from stations.models import PublicSite, Station
from stations.tests.conftest import BA_DINH, make_site, make_station  # noqa: F401
from sync import downloads, feed
from sync.models import RegisterDownload
from sync.tasks import build_downloads

PUBLIC = ["stations", "public-sites", "assets", "cable-segments"]
VIETNAMESE = "Trạm Hoàn Kiếm – Đinh Tiên Hoàng, “Hồ Gươm”"


def org(code):
    return Organization.objects.get(code=code)


def read_bytes(download):
    with download.file.open("rb") as handle:
        return handle.read()


def geojson_of(download):
    return json.loads(read_bytes(download).decode("utf-8"))


def csv_rows(download):
    data = read_bytes(download)
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def registers(make_station, make_site, role_user):
    """Some records in every public register."""
    from cables import services as cables
    from sharing import services as sharing

    make_station(name=VIETNAMESE, technologies=["4G", "5G"], source="CUC_VT", external_id="X-1")
    make_station(name='=HYPERLINK("http://bad")', operator_code="MOBIFONE")
    make_station(operator_code="VNPT")
    make_site(name="Nhà văn hoá tổ dân phố số 5")
    viettel = role_user("operator_viettel")
    sharing.save_asset(
        viettel,
        code="T-0001",
        name="Cột anten Đội Cấn",
        kind="tower",
        owner=org("VIETTEL"),
        geometry=BA_DINH,
        capacity=4,
    )
    official = role_user("city_official")
    project = cables.save_project(
        official,
        participants=[org("VIETTEL")],
        code="HN-KM-1",
        name="Hạ ngầm cáp phố Kim Mã",
        lead_agency=org("SO_KHCN_HN"),
        year=2026,
        status="in_construction",
    )
    cables.save_segment(
        official,
        project,
        name="Kim Mã – đoạn 1",
        route=LineString((105.8120, 21.0316), (105.8230, 21.0318), srid=4326),
        method="new_duct_bank",
        operator=org("VIETTEL"),
        bores=6,
    )


def by_key(built):
    return {(d.resource, d.format): d for d in built}


# --- The files ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_public_register_is_built_as_geojson_and_csv(registers, feed_now):
    built = by_key(downloads.build(batch_size=2))
    assert set(built) == {(r, f) for r in PUBLIC for f in ("geojson", "csv")}
    head = feed.head_seq()
    counts = {r: downloads.public_resources()[r].model.objects.count() for r in PUBLIC}
    for (resource, fmt), download in built.items():
        data = read_bytes(download)
        assert download.rows == counts[resource] > 0
        assert download.size == len(data)
        assert download.sha256 == hashlib.sha256(data).hexdigest()
        assert download.cursor_seq == head
        if fmt == "geojson":
            collection = json.loads(data)
            assert collection["type"] == "FeatureCollection"
            assert collection["cursor"] == feed.encode_cursor(head)
            assert len(collection["features"]) == counts[resource]
            for feature in collection["features"]:
                assert feature["type"] == "Feature" and feature["geometry"]["coordinates"]
                assert feature["id"] == feature["properties"]["id"]
                assert not {"source", "external_id"} & set(feature["properties"])
        else:
            rows = csv_rows(download)
            assert len(rows) == counts[resource]
            assert "source" not in rows[0] and "external_id" not in rows[0]
    stations = {
        f["properties"]["name"]: f for f in geojson_of(built["stations", "geojson"])["features"]
    }
    assert stations[VIETNAMESE]["properties"]["technologies"] == ["4G", "5G"]
    rows = {r["name"]: r for r in csv_rows(built["stations", "csv"])}
    assert rows[VIETNAMESE]["technologies"] == "4G;5G"
    assert rows[VIETNAMESE]["id"] == str(Station.objects.get(name=VIETNAMESE).public_id)
    assert float(rows[VIETNAMESE]["longitude"]) == pytest.approx(BA_DINH.x)
    assert float(rows[VIETNAMESE]["latitude"]) == pytest.approx(BA_DINH.y)
    assert rows["'" + '=HYPERLINK("http://bad")']  # a formula is written as text
    assert rows[VIETNAMESE]["operator"] == "VIETTEL"
    segment = csv_rows(built["cable-segments", "csv"])[0]
    assert segment["name"] == "Kim Mã – đoạn 1" and segment["wkt"].startswith("LINESTRING(105.812 ")
    site = csv_rows(built["public-sites", "csv"])[0]
    assert site["name"] == "Nhà văn hoá tổ dân phố số 5" and site["longitude"]


@pytest.mark.django_db
def test_an_empty_register_gives_valid_files(feed_now):
    Station.objects.all().delete()
    built = by_key(downloads.build(["stations"]))
    assert geojson_of(built["stations", "geojson"])["features"] == []
    assert csv_rows(built["stations", "csv"]) == []
    assert built["stations", "csv"].rows == 0


@pytest.mark.django_db
def test_only_public_registers_are_built():
    with pytest.raises(ValueError):
        downloads.build(["permit-applications"])
    assert "permit-applications" not in downloads.public_resources()


@pytest.mark.django_db
def test_old_files_are_pruned(settings, make_station, django_capture_on_commit_callbacks):
    settings.SYNC_DOWNLOADS_KEEP = 2
    make_station()
    start = timezone.now() - timedelta(days=5)
    names = []
    with django_capture_on_commit_callbacks(execute=True):
        for day in range(4):
            for d in downloads.build(["stations"], now=start + timedelta(days=day)):
                names.append((day, d.file.name))
    kept = RegisterDownload.objects.filter(resource="stations")
    assert kept.count() == 4  # two per format
    assert {d.built_at for d in kept} == {start + timedelta(days=2), start + timedelta(days=3)}
    storage = RegisterDownload.file.field.storage
    for day, name in names:
        assert storage.exists(name) == (day >= 2), (day, name)
    latest = downloads.latest_of("stations", "geojson")
    assert latest.built_at == start + timedelta(days=3)
    assert downloads.download_name(latest) == (
        f"stations-{timezone.localtime(start + timedelta(days=3)):%Y-%m-%d}.geojson"
    )


# --- A consumer: the file, then the feed from its cursor ------------------------------------------


def _apply(state, events):
    for event in events:
        if event["action"] == "delete":
            state.pop(event["id"], None)
        else:
            state[event["id"]] = event["data"]["properties"]


@pytest.mark.django_db(transaction=True)
def test_file_then_feed_from_its_cursor_misses_nothing(reference_data, make_station, role_user):
    """Writers commit creates, updates and deletes while the file is built in small batches; the
    file plus the feed after its cursor give exactly the register as it ends up."""
    for _ in range(40):
        make_station()
    stop = threading.Event()
    errors = []

    def writer(operator):
        from stations.models import Station as S

        n = 0
        try:
            while not stop.is_set():
                n += 1
                created = make_station(
                    operator_code=operator, code=f"W-{operator}-{n}", name=f"Mới {operator} {n}"
                )
                victim = S.objects.filter(operator__code=operator).exclude(pk=created.pk).first()
                if n % 3 == 0 and victim is not None:
                    victim.delete()
                else:
                    S.objects.filter(pk=created.pk).update(name=f"Sửa {operator} {n}")
                    first = S.objects.order_by("?").first()
                    if first is not None:
                        first.name = f"Đổi {n}"
                        first.save()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(code,)) for code in ("VIETTEL", "VNPT")]
    for t in threads:
        t.start()
    time.sleep(0.3)
    try:
        started = timezone.now()
        built = by_key(downloads.build(["stations"], batch_size=2))
        finished = timezone.now()
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors
    download = built["stations", "geojson"]
    collection = geojson_of(download)
    state = {f["id"]: f["properties"] for f in collection["features"]}
    assert len(state) == download.rows
    assert (
        Station.objects.count() != download.rows
        or Station.objects.exclude(public_id__in=list(state)).exists()
    ), "the writers changed the register after the snapshot"

    reader = role_user("national_official")
    after, events = collection["cursor"], []
    while True:
        page = feed.read(reader, after=after, types=["stations"], limit=7)
        events += json.loads(page.text)
        after = feed.encode_cursor(page.next_seq)
        if not page.has_more:
            break
    during = [e for e in events if started < datetime.fromisoformat(e["changed_at"]) < finished]
    print(
        f"file: {download.rows}; after its cursor: {len(events)}, during the build: {len(during)}"
    )
    assert during, "writers committed while the file was being written"
    # A record in the file is created again only after the feed deleted it (a writer's save() of a
    # station the other writer had just deleted inserts it again, under the same id).
    deleted, created_in_file = set(), []
    for e in events:
        if e["action"] == "delete":
            deleted.add(e["id"])
        elif e["action"] == "create" and e["id"] in state and e["id"] not in deleted:
            created_in_file.append(e)
    assert not created_in_file, "a record in the file must not be created again by the feed"
    _apply(state, events)

    current = {
        str(s.public_id): s for s in Station.objects.select_related("operator").order_by("pk")
    }
    assert set(state) == set(current)
    for public_id, station in current.items():
        assert state[public_id]["name"] == station.name
        assert state[public_id]["operator"] == station.operator.code


# --- Over HTTP ------------------------------------------------------------------------------------


@pytest.fixture
def built(registers, feed_now):
    return by_key(downloads.build())


@pytest.mark.django_db
def test_download_list_and_files_over_the_api(built, token_client):
    # The Cục's client sees every record: it is offered every public register.
    http = token_client(scopes={"stations": "read"}, org_code="CUC_VT")
    listing = http.get("/api/v1/downloads/")
    assert listing.status_code == 200
    items = {(i["resource"], i["format"]): i for i in listing.json()}
    assert set(items) == set(built)
    item = items["stations", "geojson"]
    download = built["stations", "geojson"]
    assert item["rows"] == download.rows and item["sha256"] == download.sha256
    assert item["built_at"].endswith("+07:00")
    assert feed.decode_cursor(item["cursor"]) == download.cursor_seq
    assert item["url"].endswith("/api/v1/downloads/stations.geojson")

    response = http.get("/api/v1/downloads/stations.geojson")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == read_bytes(download)
    local_day = timezone.localtime(download.built_at).strftime("%Y-%m-%d")
    assert f'filename="stations-{local_day}.geojson"' in response["Content-Disposition"]
    assert response["ETag"] == f'"{download.sha256}"'
    assert response["Last-Modified"]
    assert response["Content-Type"] == "application/geo+json"
    assert response["X-Hanoi-Cursor"] == item["cursor"]

    again = http.get("/api/v1/downloads/stations.geojson", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304

    as_csv = http.get("/api/v1/downloads/assets.csv", HTTP_ACCEPT="text/csv")
    assert as_csv.status_code == 200
    text = b"".join(as_csv.streaming_content).decode("utf-8-sig")
    assert "Cột anten Đội Cấn" in text
    assert as_csv["Content-Type"].startswith("text/csv")

    for path in ("permit-applications.csv", "stations.xlsx", "nothing.geojson"):
        assert http.get(f"/api/v1/downloads/{path}").status_code == 404


@pytest.mark.django_db
def test_downloads_need_a_portal_user(built, api_client, as_role, make_user):
    assert api_client.get("/api/v1/downloads/").status_code in (401, 403)
    assert api_client.get("/api/v1/downloads/stations.csv").status_code in (401, 403)
    nobody = make_user(None, "VIETTEL")
    api_client.force_authenticate(nobody)
    assert api_client.get("/api/v1/downloads/stations.csv").status_code == 403
    operator = as_role("operator_viettel")
    # Every operator's stations are not an operator's download (sync/tests/test_download_scoping.py).
    assert operator.get("/api/v1/downloads/stations.csv").status_code == 404
    assert operator.get("/api/v1/downloads/assets.csv").status_code == 200


@pytest.mark.django_db
def test_downloads_page(built, client, role_user, make_user):
    client.cookies["django_language"] = "en"  # the language switch's choice
    page = client.get("/downloads/")
    assert page.status_code == 302 and "/login/" in page["Location"]
    client.force_login(role_user("city_official"))
    page = client.get("/downloads/")
    assert page.status_code == 200
    html = page.content.decode()
    download = built["stations", "csv"]
    assert timezone.localtime(download.built_at).strftime("%d/%m/%Y") in html
    assert "/api/v1/downloads/stations.csv" in html
    assert 'data-testid="download-cable-segments-geojson"' in html
    client.force_login(role_user("operator_viettel"))  # only the registers open to every role
    html = client.get("/downloads/").content.decode()
    assert "/api/v1/downloads/assets.csv" in html
    assert "/api/v1/downloads/stations.csv" not in html
    assert 'data-testid="nav-downloads"' in html
    client.force_login(make_user(None, "VIETTEL"))
    assert client.get("/downloads/").status_code == 403


@pytest.mark.django_db
def test_downloads_page_before_any_build(client, role_user):
    client.cookies["django_language"] = "en"
    client.force_login(role_user("city_official"))
    page = client.get("/downloads/")
    assert page.status_code == 200
    assert "No download has been built yet" in page.content.decode()


# --- The nightly task, run by a real worker --------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_builds_the_downloads(celery_worker_queue, make_station):
    make_station(name=VIETNAMESE)
    PublicSite.objects.all().delete()
    result = build_downloads.apply_async(queue=celery_worker_queue).get(timeout=60)
    assert {(r["resource"], r["format"]) for r in result} == {
        (r, f) for r in PUBLIC for f in ("geojson", "csv")
    }
    stations_csv = downloads.latest_of("stations", "csv")
    assert stations_csv.rows == 1
    assert csv_rows(stations_csv)[0]["name"] == VIETNAMESE
    assert stations_csv.cursor_seq == feed.head_seq()
    assert downloads.latest_of("public-sites", "geojson").rows == 0
