"""sync_pull: following another instance's change feed (sync.pull).

Two kinds of tests:
- in-process, against pytest-django's live server on the test database (the puller reads the feed
  over HTTP and applies it into the same database): refusals of the other side (bad token,
  expired cursor), retries, a refused event, a crash in the middle of a page;
- end to end with two running portals: instance A is the live server on the test database,
  instance B a second portal process (``manage.py runserver``) on a database of its own; sync_pull
  runs as a subprocess against B's database and B is checked over its own HTTP API.
"""

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.contrib.gis.geos import LineString, Point
from django.core.management import CommandError, call_command
from django.utils import translation

from core.models import AdministrativeUnit, Organization
from sync import services as sync_services
from sync.feed import encode_cursor
from sync.models import ChangeFeedState, SyncSource
from sync.pull import Puller, PullStopped, feed_url

BASE_DIR = Path(settings.BASE_DIR)
PYTHON = sys.executable
WARDS_GEOJSON = Path(settings.SHARED_DATA_DIR) / "hanoi_wards_2025.geojson"

# Inside Phường Ba Đình (00004), given as the commune: without boundaries loaded (no shared data),
# the services need it.
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR_BA_DINH = Point(105.8355, 21.0365, srid=4326)
A_LITTLE_EAST = Point(105.8365, 21.0362, srid=4326)


# --- Records on instance A, through its services ---------------------------------------------------


@pytest.fixture
def official(role_user):
    return role_user("city_official")


def add_station(user, code, location=BA_DINH, **fields):
    from stations import services

    data = {
        "commune": AdministrativeUnit.objects.get(code="00004"),
        "operator": Organization.objects.get(code="VIETTEL"),
        "code": code,
        "name": f"Trạm {code}",
        "address": "Số 1 Phố Thử, Hà Nội",
        "location": location,
        "structure_type": "monopole",
        "structure_height_m": Decimal("30"),
        "land_category": "public_land",
        "technologies": ["4G"],
        "status": "operating",
    }
    data.update(fields)
    return services.create_station(user, **data)


def add_site(user, name="Trụ sở UBND phường Ba Đình", **fields):
    from stations import services

    data = {
        "commune": AdministrativeUnit.objects.get(code="00004"),
        "name": name,
        "owner": Organization.objects.get(code="UBND_HN"),
        "address": "Số 1 Phố Thử",
        "land_category": "public_building",
        "location": NEAR_BA_DINH,
        "building_height_m": Decimal("24"),
        "capacity": 2,
    }
    data.update(fields)
    return services.save_public_site(user, None, **data)


def add_asset(user, code, **fields):
    from sharing import services

    data = {
        "commune": AdministrativeUnit.objects.get(code="00004"),
        "code": code,
        "name": f"Cột {code}",
        "kind": "tower",
        "owner": Organization.objects.get(code="VIETTEL"),
        "geometry": A_LITTLE_EAST,
        "capacity": 3,
    }
    data.update(fields)
    return services.save_asset(user, None, **data)


def read_token(org_code="CUC_VT", scopes=None):
    _client, raw = sync_services.create_client(
        None,
        name=f"pull-{uuid.uuid4().hex[:10]}",
        organization=Organization.objects.get(code=org_code),
        scopes=scopes or {"*": "read"},
    )
    return raw


def new_state(live_server, source="instance-a"):
    return SyncSource.objects.create(url=feed_url(live_server.url), source=source)


# --- In-process: the puller against the live server ------------------------------------------------


@pytest.fixture
def live(transactional_db, reference_data, live_server, second_portal):
    """Instance A: the live server on the test database (its reference data loaded again, as a
    transactional test empties the database). Instance B starts setting up beside it."""
    return live_server


def test_feed_url_accepts_the_base_or_the_feed():
    assert feed_url("http://host:8000") == "http://host:8000/api/v1/changes/"
    assert feed_url("http://host:8000/") == "http://host:8000/api/v1/changes/"
    assert feed_url("https://h/portal/api/v1/changes?after=x") == "https://h/portal/api/v1/changes/"
    with pytest.raises(PullStopped):
        feed_url("host:8000")


def test_the_other_instance_refusing_stops_the_pull_with_a_clear_message(live, official, role_user):
    """A bad token (401) and a cursor older than the feed keeps (410) stop the pull and say what
    to do; the command checks its arguments before it calls anyone. (One live-server test: each
    costs a database flush.)"""
    state = new_state(live)
    with translation.override("en"), pytest.raises(PullStopped) as stopped:
        Puller(state, "hik_not-a-token", official, retries=0).run()
    assert stopped.value.status == 401
    assert "refused the token" in stopped.value.message
    assert "SYNC_PULL_TOKEN" in stopped.value.message
    state.refresh_from_db()
    assert state.cursor == "" and "refused the token" in state.last_error

    ChangeFeedState.objects.create(pruned_through=50)
    state.cursor = encode_cursor(10)
    state.save()
    token = read_token()
    with translation.override("en"), pytest.raises(PullStopped) as stopped:
        Puller(state, token, official).run()
    assert stopped.value.status == 410 and stopped.value.code == "cursor_expired"
    assert "--reset" in stopped.value.message and "full download" in stopped.value.message
    state.refresh_from_db()
    assert state.cursor == encode_cursor(10)  # left as it was

    args = [live.url, "--source", state.source, "--as", official.username]
    operator = role_user("operator_viettel")
    with translation.override("en"):
        with pytest.raises(CommandError, match="refused the token"):
            call_command("sync_pull", *args, "--token", "hik_wrong", stdout=io.StringIO())
        with pytest.raises(CommandError, match="--reset"):
            call_command("sync_pull", *args, "--token", token, stdout=io.StringIO())
        with pytest.raises(CommandError, match="city official or an administrator"):
            call_command("sync_pull", live.url, "--token", token, "--as", operator.username)
        with pytest.raises(CommandError, match="stored as source"):
            call_command("sync_pull", *args[:1], "--source", "other", *args[3:], "--token", token)
        with pytest.raises(CommandError, match="Unknown type"):
            call_command("sync_pull", *args, "--types", "satellites", "--token", token)
        with pytest.raises(CommandError, match="token is needed"):
            call_command("sync_pull", *args, "--token", "")


class FlakyFeed(BaseHTTPRequestHandler):
    """503 then 429 (each with Retry-After: 0), then an empty page."""

    answers = []
    seen = []
    pages = 0

    def do_GET(self):
        type(self).seen.append((self.path, self.headers.get("Authorization")))
        status = type(self).answers.pop(0) if type(self).answers else 200
        body = b'{"detail": "busy", "code": "busy"}'
        if status == 200:
            type(self).pages += 1
            page = {"results": [], "next": f"CURSOR-{type(self).pages}", "has_more": False}
            body = json.dumps(page).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if status != 200:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_5xx_and_429_are_retried_honouring_retry_after_and_follow_polls_again(db, official):
    FlakyFeed.answers, FlakyFeed.seen, FlakyFeed.pages = [503, 429], [], 0
    server = HTTPServer(("127.0.0.1", 0), FlakyFeed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        state = SyncSource.objects.create(url=feed_url(base), source="flaky")
        waits = []
        puller = Puller(state, "hik_x", official, types=["stations"], limit=7, sleep=waits.append)
        counts = puller.run()
        assert waits == [0.0, 0.0]  # Retry-After: 0, not the backoff
        assert len(FlakyFeed.seen) == 3
        path, auth = FlakyFeed.seen[-1]
        assert path == "/api/v1/changes/?limit=7&types=stations" and auth == "Bearer hik_x"
        state.refresh_from_db()
        assert state.cursor == "CURSOR-1" and counts.total == 0 and state.last_pulled_at

        # --follow polls again every --interval seconds (0 here); --max-pages ends it.
        FlakyFeed.seen, out = [], io.StringIO()
        with translation.override("en"):
            call_command(
                "sync_pull",
                *[base, "--token", "hik_x", "--as", official.username, "--follow"],
                *["--interval", "0", "--max-pages", "2"],
                stdout=out,
            )
    finally:
        server.shutdown()
    assert [path for path, _auth in FlakyFeed.seen] == [
        "/api/v1/changes/?limit=1000&after=CURSOR-1",
        "/api/v1/changes/?limit=1000&after=CURSOR-2",
    ]
    assert "2 page(s), 0 changes" in out.getvalue()
    state.refresh_from_db()
    assert state.cursor == "CURSOR-3"


def test_one_puller_follows_a_feed_at_a_time(db, official):
    from django.db import connection

    from sync.pull import LOCK_BASE, lock_key

    state = SyncSource.objects.create(url="http://x.invalid/api/v1/changes/", source="x")
    other = psycopg2.connect(dbname=connection.settings_dict["NAME"], **_db_params())
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_BASE, lock_key(state.url)])
        with translation.override("en"), pytest.raises(PullStopped, match="Another sync_pull"):
            Puller(state, "hik_x", official).run()
    finally:
        other.close()


def test_an_unreachable_instance_is_retried_with_backoff_then_stops(db, official):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nobody listens
    state = SyncSource.objects.create(url=feed_url(f"http://127.0.0.1:{port}"), source="gone")
    waits = []
    with translation.override("en"), pytest.raises(PullStopped) as stopped:
        Puller(state, "hik_x", official, retries=2, backoff=0.5, sleep=waits.append).run()
    assert waits == [0.5, 1.0]
    assert stopped.value.retryable and "after 3 attempts" in stopped.value.message


def test_a_refused_event_is_counted_as_failed_and_the_pull_goes_on(live, official):
    """Pulled into the same database, the station's copy clashes with the original (same operator
    and code): refused; the public site's copy is created, with the command in its history."""
    from core.history import events_for
    from stations.models import PublicSite, Station

    station = add_station(official, "HN-CLASH")
    site = add_site(official)
    state = new_state(live, source="self")
    token = read_token()
    with translation.override("en"):
        counts = Puller(state, token, official, types=["stations", "public-sites"]).run(max_pages=1)
    assert (counts.created, counts.failed) == (1, 1)
    state.refresh_from_db()
    assert (state.applied, state.failed, state.skipped) == (1, 1, 0)
    assert str(station.public_id) in state.last_error
    assert "already has a station with this code" in state.last_error
    assert not Station.objects.filter(source="self").exists()
    copy = PublicSite.objects.get(source="self", external_id=str(site.public_id))
    assert copy.name == site.name and copy.commune_id == site.commune_id
    context = events_for(copy).first().pgh_context
    assert context["command"] == "sync_pull" and context["source"] == "self"
    assert context["user"] == official.pk

    # --strict: the refusal stops the pull and nothing of its page is applied.
    strict = state  # read the same feed again from the start, as another source (--reset)
    strict.cursor, strict.source = "", "self-strict"
    strict.save()
    with translation.override("en"), pytest.raises(PullStopped) as stopped:
        Puller(strict, token, official, types=["stations", "public-sites"], strict=True).run(
            max_pages=1
        )
    assert "already has a station with this code" in stopped.value.message
    strict.refresh_from_db()
    assert strict.cursor == "" and strict.applied == 1  # as before
    assert not PublicSite.objects.filter(source="self-strict").exists()


def test_a_crash_inside_a_page_applies_none_of_it_and_the_next_run_resumes(
    live, official, monkeypatch
):
    from stations.models import PublicSite
    from sync import pull

    sites = [add_site(official, name=f"Điểm {n}") for n in range(3)]
    state = new_state(live, source="crashy")
    token = read_token()
    real = pull.Puller._upsert
    calls = {"n": 0}

    def crash_on_second(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        return real(self, *args)

    monkeypatch.setattr(pull.Puller, "_upsert", crash_on_second)
    with pytest.raises(RuntimeError):
        Puller(state, token, official, types=["public-sites"], limit=2).run()
    state.refresh_from_db()
    assert state.cursor == "" and state.applied == 0
    assert not PublicSite.objects.filter(source="crashy").exists()

    # The next run (the command) starts from the same page and reports each one.
    monkeypatch.setattr(pull.Puller, "_upsert", real)
    out = io.StringIO()
    with translation.override("en"):
        call_command(
            "sync_pull",
            *[live.url, "--token", token, "--as", official.username, "--types", "public-sites"],
            *["--limit", "2", "--max-pages", "2"],
            stdout=out,
        )
    text = out.getvalue()
    assert "page 1: 2 changes (created 2, updated 0, deleted 0, skipped 0, failed 0)" in text
    assert "— 2 in all, cursor " in text
    assert "page 2: 2 changes" in text and "— 4 in all" in text
    state.refresh_from_db()
    assert state.cursor in text and state.applied == 4
    for site in sites:  # once each (the 4th change was the creation of a copy: copied again)
        assert (
            PublicSite.objects.filter(source="crashy", external_id=str(site.public_id)).count() == 1
        )


def test_read_only_and_unknown_types_are_skipped(db, official):
    state = SyncSource.objects.create(url="http://x.invalid/api/v1/changes/", source="x")
    puller = Puller(state, "hik_x", official)
    event = {"seq": 1, "id": str(uuid.uuid4()), "action": "create", "version": 1, "data": {}}
    assert puller.apply_event(state, {**event, "type": "cable-segments"}) == "skipped"
    assert puller.apply_event(state, {**event, "type": "satellites"}) == "skipped"
    # A tombstone of a record never pulled here: nothing to delete.
    gone = {**event, "type": "stations", "action": "delete", "data": None}
    assert puller.apply_event(state, gone) == "skipped"


# --- End to end: two running portals, two databases ------------------------------------------------


def _db_params():
    db = settings.DATABASES["default"]
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": str(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or "",
    }


def _admin_connection(params):
    connection = psycopg2.connect(dbname="postgres", **params)
    connection.autocommit = True
    return connection


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _manage(env, *args, timeout=120):
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result


def _check(result):
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result


B_SETUP = """
from pathlib import Path
from django.contrib.auth.models import Group
from core import roles, services
from core.models import Organization, User
from sync import services as sync_services
services.load_all_reference_data()
wards = Path({wards!r})
if wards.exists():
    services.import_boundaries(wards)
official = User.objects.create_user(
    "b-official", organization=Organization.objects.get(code="SO_KHCN_HN"))
official.groups.add(Group.objects.get(name=roles.CITY_OFFICIAL))
client, raw = sync_services.create_client(
    None, name="b-reader", organization=Organization.objects.get(code="CUC_VT"),
    scopes={{"*": "read"}})
print("TOKEN=" + raw)
"""


class SecondPortal:
    """Instance B: a fresh database of its own (migrated, reference data, boundaries), a city
    official ``b-official`` and a read token, served by ``manage.py runserver`` on a free port.

    Its set-up (mostly ``migrate``, other processes) starts in a background thread as soon as the
    module's live-server tests begin, so it overlaps them; ``ready()`` waits for it."""

    def __init__(self):
        self.params = _db_params()
        self.db = f"test_pull_b_{uuid.uuid4().hex[:10]}"
        password = f":{self.params['password']}" if self.params["password"] else ""
        self.env = {
            **os.environ,
            "DATABASE_URL": (
                f"postgis://{self.params['user']}{password}@{self.params['host']}:"
                f"{self.params['port']}/{self.db}"
            ),
            "DJANGO_SETTINGS_MODULE": "hanoi_infra.settings",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("TEST_DATABASE_NAME", None)  # B's process uses DATABASE_URL, nothing else
        self.server = None
        self.created = False
        self.error = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            "w+", prefix="instance_b_", suffix=".log"
        )
        self.thread = threading.Thread(target=self._set_up, daemon=True)

    def start(self):
        if not self.thread.is_alive() and not self.thread.ident:
            self.thread.start()

    def _set_up(self):
        try:
            admin = _admin_connection(self.params)
            try:
                with admin.cursor() as cursor:
                    cursor.execute(f'CREATE DATABASE "{self.db}"')
            finally:
                admin.close()
            self.created = True
            _check(
                _manage(self.env, "migrate", "--noinput", "-v", "0", "--skip-checks", timeout=600)
            )
            port = _free_port()
            self.server = subprocess.Popen(
                [
                    PYTHON,
                    "manage.py",
                    "runserver",
                    f"127.0.0.1:{port}",
                    "--noreload",
                    "--skip-checks",
                ],
                cwd=BASE_DIR,
                env=self.env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            script = B_SETUP.format(wards=str(WARDS_GEOJSON))
            setup = _check(_manage(self.env, "shell", "-c", script))
            self.token = setup.stdout.strip().rsplit("TOKEN=", 1)[1].split()[0]
            self.url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{self.url}/api/v1/organizations/", timeout=5):
                        break
                except urllib.error.HTTPError:
                    break  # it answers (401 without a token)
                except OSError:
                    if self.server.poll() is not None or time.monotonic() > deadline:
                        self.log.seek(0)
                        raise RuntimeError(
                            f"instance B did not start:\n{self.log.read()}"
                        ) from None
                    time.sleep(0.2)
        except BaseException as exc:  # handed to the test by ready()
            self.error = exc

    def ready(self):
        self.start()
        self.thread.join(timeout=600)
        if self.thread.is_alive():
            raise RuntimeError("instance B is still being set up after 10 minutes")
        if self.error is not None:
            raise self.error
        return self

    def stop(self):
        if self.thread.ident:
            self.thread.join(timeout=600)
        if self.server is not None:
            self.server.terminate()
            try:
                self.server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.server.kill()
        self.log.close()
        if self.created:
            admin = _admin_connection(self.params)
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
            admin.close()


@pytest.fixture(scope="module")
def second_portal(request):
    """Instance B, started in the background when this module's first live-server test begins
    (only if end-to-end tests of this module were selected); stopped and dropped at the end."""
    portal = SecondPortal()
    if any(
        item.get_closest_marker("e2e") and item.module is request.module
        for item in request.session.items
    ):
        portal.start()
    yield portal
    portal.stop()


@pytest.fixture
def instance_b(second_portal):
    return second_portal.ready()


def b_query(b, sql, params=()):
    with psycopg2.connect(dbname=b.db, **b.params) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.close()
    return rows


def get_features(base_url, token, resource):
    """Every Feature of a register over HTTP, by its public id there."""
    features = {}
    url = f"{base_url}/api/v1/{resource}/?page_size=500"
    while url:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            page = json.load(response)
        for feature in page["features"]:
            features[feature["properties"]["id"]] = feature
        url = page.get("next")
    return features


def b_features(b, resource, source):
    """B's Features (over B's API) of the records pulled from ``source``, by their id on A (their
    external_id on B, read from B's database: not every register's Feature shows it)."""
    on_b = get_features(b.url, b.token, resource)
    rows = b_query(
        b,
        f"SELECT public_id::text, external_id FROM {REGISTERS[resource]} WHERE source = %s",
        [source],
    )
    return {external_id: on_b[public_id] for public_id, external_id in rows}


def same_record(on_a, on_b):
    """The same Feature apart from each instance's own identity and clock."""
    ignore = {"id", "updated_at", "source", "external_id"}
    assert on_b["geometry"] == on_a["geometry"]
    a_props = {k: v for k, v in on_a["properties"].items() if k not in ignore}
    b_props = {k: v for k, v in on_b["properties"].items() if k not in ignore}
    assert b_props == a_props


def sync_pull(b, a_url, token, *args):
    return _manage(
        {**b.env, "SYNC_PULL_TOKEN": token},
        *["sync_pull", a_url, "--as", "b-official", "--skip-checks", *args],
    )


def b_state(b, a_url):
    rows = b_query(
        b,
        "SELECT source, cursor, applied, skipped, failed FROM core_syncsource WHERE url = %s",
        [feed_url(a_url)],
    )
    return rows[0] if rows else None


REGISTERS = {
    "stations": "stations_station",
    "public-sites": "stations_publicsite",
    "assets": "sharing_infrastructureasset",
}


def b_duplicates(b):
    return [
        row
        for table in REGISTERS.values()
        for row in b_query(
            b,
            f"SELECT source, external_id, count(*) FROM {table} WHERE external_id <> '' "
            "GROUP BY 1, 2 HAVING count(*) > 1",
        )
    ]


@pytest.mark.e2e
def test_records_created_updated_and_deleted_on_a_follow_on_b(live, official, instance_b):
    b = instance_b
    stations = [
        add_station(official, "E2E-1"),
        add_station(official, "E2E-2", location=NEAR_BA_DINH, technologies=["4G", "5G"]),
        add_station(
            official,
            "E2E-3",
            location=A_LITTLE_EAST,
            structure_type="rooftop_mast",
            structure_height_m=Decimal("3"),
            building_height_m=Decimal("24"),
            land_category="public_building",
        ),
    ]
    site = add_site(official, area=BA_DINH.buffer(0.0003))
    asset = add_asset(official, "T-E2E")
    duct = add_asset(
        official,
        "D-E2E",
        kind="duct",
        geometry=LineString(BA_DINH.coords, A_LITTLE_EAST.coords, srid=4326),
    )
    token_a = read_token()

    first = _check(sync_pull(b, live.url, token_a, "--source", "hanoi-a"))
    source, cursor, applied, skipped, failed = b_state(b, live.url)
    assert (source, applied, failed) == ("hanoi-a", 6, 0) and cursor
    assert cursor in first.stdout  # the progress line names it

    a_records = {r: get_features(live.url, token_a, r) for r in REGISTERS}
    b_records = {r: b_features(b, r, "hanoi-a") for r in REGISTERS}
    for resource, on_a in a_records.items():
        assert set(b_records[resource]) == set(on_a), resource
        for remote_id, feature in on_a.items():
            same_record(feature, b_records[resource][remote_id])
    assert len(a_records["stations"]) == 3 and len(a_records["assets"]) == 2
    assert {f["properties"]["source"] for f in b_records["stations"].values()} == {"hanoi-a"}
    history = b_query(
        b,
        "SELECT count(*) FROM pghistory_context WHERE metadata->>'command' = 'sync_pull' "
        "AND metadata->>'source' = 'hanoi-a'",
    )
    assert history[0][0] >= 6

    # Changed on A: a station renamed, raised and moved, an asset's capacity; deleted: a station
    # and the public site.
    from sharing import services as sharing_services
    from stations import services as station_services

    station_services.update_station(
        official,
        stations[0],
        name="Trạm đổi tên",
        structure_height_m=Decimal("42.5"),
        location=NEAR_BA_DINH,
    )
    sharing_services.save_asset(official, asset, capacity=5)
    station_services.delete_station(official, stations[1])
    station_services.delete_public_site(official, site)

    second = _check(sync_pull(b, live.url, token_a))
    _source, _cursor, applied, skipped, failed = b_state(b, live.url)
    assert (applied, failed) == (6 + 4, 0), second.stdout
    b_stations = b_features(b, "stations", "hanoi-a")
    assert set(b_stations) == {str(stations[0].public_id), str(stations[2].public_id)}
    renamed = b_stations[str(stations[0].public_id)]["properties"]
    assert renamed["name"] == "Trạm đổi tên" and renamed["structure_height_m"] == 42.5
    assert b_stations[str(stations[0].public_id)]["geometry"]["coordinates"] == [105.8355, 21.0365]
    on_a = get_features(live.url, token_a, "stations")
    for kept in (stations[0], stations[2]):
        same_record(on_a[str(kept.public_id)], b_stations[str(kept.public_id)])
    assert get_features(b.url, b.token, "public-sites") == {}
    b_assets = b_features(b, "assets", "hanoi-a")
    assert b_assets[str(asset.public_id)]["properties"]["capacity"] == 5
    assert str(duct.public_id) in b_assets

    # Nothing new on A: a pull applies nothing and leaves the cursor where it was.
    before = b_state(b, live.url)
    _check(sync_pull(b, live.url, token_a))
    assert b_state(b, live.url) == before
    assert b_duplicates(b) == []


@pytest.mark.e2e
def test_a_pull_stopped_between_pages_resumes_without_duplicates(live, official, instance_b):
    b = instance_b
    stations = [
        add_station(official, f"RES-{n}", location=[BA_DINH, NEAR_BA_DINH][n % 2]) for n in range(5)
    ]
    token_a = read_token()
    # The counters add up over runs (and over the earlier test): look at what this one adds.
    counted = b_state(b, live.url)[2:] if b_state(b, live.url) else (0, 0, 0)

    def progress():
        source, cursor, *counters = b_state(b, live.url)
        return source, cursor, tuple(n - was for n, was in zip(counters, counted, strict=True))

    def pulled():
        return b_query(b, "SELECT count(*) FROM stations_station WHERE source = 'hanoi-a2'")[0][0]

    # A's feed starts afresh in this test (its database was emptied): forget B's old cursor.
    args = ["--reset", "--source", "hanoi-a2", "--max-pages", "1", "--limit", "2"]
    stopped = _check(sync_pull(b, live.url, token_a, *args))
    _source, first_cursor, counters = progress()
    assert counters == (2, 0, 0) and first_cursor, stopped.stdout
    assert pulled() == 2

    _check(sync_pull(b, live.url, token_a, "--limit", "2"))
    source, cursor, counters = progress()
    assert (source, counters) == ("hanoi-a2", (5, 0, 0))
    assert cursor != first_cursor
    rows = b_query(b, "SELECT external_id FROM stations_station WHERE source = 'hanoi-a2'")
    assert sorted(r[0] for r in rows) == sorted(str(s.public_id) for s in stations)
    assert b_duplicates(b) == []

    # Reading the whole feed again (--reset) re-applies every change: all unchanged, skipped.
    _check(sync_pull(b, live.url, token_a, "--reset", "--limit", "2"))
    _source, _cursor, counters = progress()
    assert counters == (5, 5, 0)
    assert pulled() == 5 and b_duplicates(b) == []
