"""API clients and their tokens (sync): authentication, expiry, networks, scopes, last use,
throttling, history of writes, hashed storage, the admin pages and the create_api_client command.

Real PostgreSQL and real Redis, no mocks: every call goes through the whole middleware and DRF stack.
"""

import hashlib
import re
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from core import roles
from core.history import events_for
from core.models import Organization
from sharing.models import InfrastructureAsset
from stations.models import PermitApplication, Station
from stations.tests.conftest import BA_DINH, NEAR_BA_DINH, make_station  # noqa: F401
from sync import services
from sync.auth import SCOPE_FREE
from sync.models import ApiClient, ApiToken

pytestmark = pytest.mark.django_db

ORGS = "/api/v1/organizations/"
STATIONS = "/api/v1/stations/"
ASSETS = "/api/v1/assets/"
APPLICATIONS = "/api/v1/permit-applications/"
CHANGES = "/api/v1/changes/"
ADMIN = "/admin/sync/apiclient/"
TOKEN_RE = re.compile(r"hik_[A-Za-z0-9_\-]{20,}")


def station_feature(code="VT-TOKEN-1", operator="VIETTEL"):
    """A new station as a client sends it (the payload of stations/tests/test_api.py)."""
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [BA_DINH.x, BA_DINH.y]},
        "properties": {
            "operator": operator,
            "code": code,
            "name": "Trạm qua token",
            "structure_type": "monopole",
            "structure_height_m": 30,
            "land_category": "public_land",
            "technologies": ["4G", "5G"],
        },
    }


def code_of(response):
    """The machine-readable code of a refusal: the Error-Code header and, for a message body,
    the body's "code" (both must agree)."""
    body = response.json()
    if "detail" in body:
        assert body.get("code") == response["Error-Code"], body
    return response["Error-Code"]


def tables_containing(text):
    """Every table of the database with a row whose text contains ``text``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        found = []
        for table in tables:
            cursor.execute(
                f'SELECT EXISTS (SELECT 1 FROM "{table}" t WHERE strpos(t::text, %s) > 0)', [text]
            )
            if cursor.fetchone()[0]:
                found.append(table)
    return found


@pytest.fixture(autouse=True)
def _forget_throttle_counts():
    """Each client's request count lives in Redis under its public id: drop the test's ones."""
    before = set(ApiClient.objects.values_list("public_id", flat=True))
    yield
    for public_id in ApiClient.objects.exclude(public_id__in=before).values_list(
        "public_id", flat=True
    ):
        cache.delete(f"throttle_api_client_{public_id}")


# --- Authentication ---------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_token_authenticates_as_its_client(token_client, api_client, keyword):
    http = token_client(scopes={"stations": "read"}, org_code="VIETTEL")
    api_client.credentials(HTTP_AUTHORIZATION=f"{keyword} {http.raw_token}")
    response = api_client.get(STATIONS)
    assert response.status_code == 200, response.content[:300]
    # Without the token the same call is refused: the token did the authenticating.
    api_client.credentials()
    assert api_client.get(STATIONS).status_code == 401


def test_an_unknown_token_is_refused_with_token_invalid(token_client, api_client):
    http = token_client()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {http.raw_token}x")
    response = api_client.get(ORGS)
    assert response.status_code == 401
    assert code_of(response) == "token_invalid"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "token_invalid"),
        ("Bearer one two", "token_invalid"),
        ("Token ", "token_invalid"),
        ("Bearer hik_\u00e9\u00e8", "token_invalid"),
        ("Basic dXNlcjpwYXNz", "not_authenticated"),
    ],
)
def test_a_malformed_header_is_a_clear_401(api_client, header, code):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    response = api_client.get(ORGS)
    assert response.status_code == 401
    assert code_of(response) == code


def test_a_revoked_token_is_refused(token_client):
    http = token_client()
    assert http.get(ORGS).status_code == 200
    services.revoke_token(None, http.api_client.tokens.get())
    response = http.get(ORGS)
    assert response.status_code == 401
    assert code_of(response) == "token_invalid"


def test_rotation_revokes_the_old_token_and_the_new_one_works(token_client, api_client):
    http = token_client()
    raw = services.issue_token(None, http.api_client, revoke_others=True)
    assert http.get(ORGS).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get(ORGS).status_code == 200


@pytest.mark.parametrize("what", ["token", "client"])
def test_an_expired_token_or_client_is_refused_with_token_expired(token_client, what):
    http = token_client()
    client = http.api_client
    target = (
        ApiToken.objects.filter(client=client)
        if what == "token"
        else ApiClient.objects.filter(pk=client.pk)
    )
    target.update(expires_at=timezone.now() + timedelta(minutes=5))
    assert http.get(ORGS).status_code == 200  # not yet
    target.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = http.get(ORGS)
    assert response.status_code == 401
    assert code_of(response) == "token_expired"


def test_a_disabled_client_is_refused_and_can_be_enabled_again(token_client):
    http = token_client()
    client = http.api_client
    client.is_active = False
    services.save_client(None, client)
    response = http.get(ORGS)
    assert response.status_code == 401
    assert code_of(response) == "client_disabled"
    client.is_active = True
    services.save_client(None, client)
    assert http.get(ORGS).status_code == 200


# --- Networks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("10.1.2.3", True),
        ("10.255.255.255", True),
        ("11.0.0.1", False),
        ("192.0.2.10", True),
        ("192.0.2.11", False),
        ("2001:db8::5", True),
        ("2001:db9::5", False),
        ("::ffff:10.1.2.3", True),  # an IPv4 caller on a dual-stack socket
        ("::1", False),
    ],
)
def test_allowed_networks_by_remote_address(token_client, address, allowed):
    http = token_client(allowed_networks=["10.0.0.0/8", "192.0.2.10", "2001:db8::/32"])
    response = http.get(ORGS, REMOTE_ADDR=address)
    if allowed:
        assert response.status_code == 200, response.content[:300]
    else:
        assert response.status_code == 403
        assert code_of(response) == "network_not_allowed"


def test_no_networks_means_anywhere(token_client):
    http = token_client(allowed_networks=[])
    for address in ("203.0.113.9", "2001:db8::1"):
        assert http.get(ORGS, REMOTE_ADDR=address).status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "remote", "allowed"),
    [
        (0, "10.1.2.3", "203.0.113.1", False),  # not trusted: X-Forwarded-For is ignored
        (0, "203.0.113.1", "10.1.2.3", True),
        (1, "10.1.2.3", "203.0.113.1", True),  # the proxy saw the client at 10.1.2.3
        (1, "10.1.2.3, 203.0.113.7", "203.0.113.1", False),  # the left hop is the caller's claim
        (1, "203.0.113.7, 10.1.2.3", "203.0.113.1", True),
        (2, "10.1.2.3, 203.0.113.7", "203.0.113.1", True),
        (1, "not-an-address", "10.1.2.3", False),
    ],
)
def test_forwarded_for_counts_only_behind_trusted_proxies(
    token_client, settings, proxies, forwarded, remote, allowed
):
    settings.SYNC_TRUSTED_PROXY_COUNT = proxies
    http = token_client(allowed_networks=["10.0.0.0/8"])
    response = http.get(ORGS, REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == (200 if allowed else 403), response.content[:300]
    if not allowed:
        assert code_of(response) == "network_not_allowed"


# --- Scopes -----------------------------------------------------------------------------------------

# name -> (scopes for resource R, may read R, may write R)
SCOPE_CASES = {
    "none": (lambda r: {}, False, False),
    "another resource": (lambda r: {"cable-segments": "write"}, False, False),
    "read": (lambda r: {r: "read"}, True, False),
    "write": (lambda r: {r: "write"}, True, True),
    "* read": (lambda r: {"*": "read"}, True, False),
    "* write": (lambda r: {"*": "write"}, True, True),
    "read, * write": (lambda r: {r: "read", "*": "write"}, True, True),
}
# resource -> (URL, a POST body, its answer when the scope allows it, the model it creates)
ENDPOINTS = {
    "stations": (STATIONS, station_feature(), 201, Station),
    "assets": (ASSETS, {}, 400, InfrastructureAsset),  # the write reaches validation
    "permit-applications": (APPLICATIONS, {}, 400, PermitApplication),
    "organizations": (ORGS, {"code": "X"}, 405, Organization),  # reference data, read-only
}


@pytest.mark.parametrize("case", SCOPE_CASES)
@pytest.mark.parametrize("resource", ENDPOINTS)
def test_scope_matrix(token_client, resource, case):
    url, body, allowed_answer, model = ENDPOINTS[resource]
    scopes, may_read, may_write = SCOPE_CASES[case]
    free = resource in SCOPE_FREE
    http = token_client(scopes=scopes(resource), org_code="VIETTEL")

    response = http.get(url)
    if may_read or free:
        assert response.status_code == 200, response.content[:300]
    else:
        assert response.status_code == 403
        assert code_of(response) == "scope_missing"

    before = model.objects.count()
    response = http.post(url, body, format="json")
    if may_write or free:
        assert response.status_code == allowed_answer, response.content[:300]
    else:
        assert response.status_code == 403
        assert code_of(response) == "scope_missing"
        assert "write" in response.json()["detail"] and resource in response.json()["detail"]
    assert model.objects.count() - before == (1 if response.status_code == 201 else 0)


def test_update_and_delete_need_the_write_scope(token_client, make_station):  # noqa: F811
    station = make_station("VIETTEL", code="VT-SCOPE")
    url = f"{STATIONS}{station.public_id}/"
    reader = token_client(scopes={"stations": "read"}, org_code="VIETTEL")
    assert reader.get(url).status_code == 200
    for response in (
        reader.patch(url, {"name": "Đổi tên"}, format="json"),
        reader.put(url, station_feature(code="VT-SCOPE"), format="json"),
        reader.delete(url),
    ):
        assert response.status_code == 403 and code_of(response) == "scope_missing"
    station.refresh_from_db()
    assert station.name != "Đổi tên" and Station.objects.filter(pk=station.pk).exists()
    writer = token_client(scopes={"stations": "write"}, org_code="VIETTEL")
    assert writer.patch(url, {"name": "Đổi tên"}, format="json").status_code == 200
    station.refresh_from_db()
    assert station.name == "Đổi tên"


def test_a_view_with_its_own_permissions_still_needs_the_scope(token_client):
    """The agreements API sets its own permission_classes (without HasScope): the token's scope is
    checked when it is authenticated all the same."""
    without = token_client(scopes={"stations": "read"})
    response = without.get("/api/v1/agreements/")
    assert response.status_code == 403 and code_of(response) == "scope_missing"
    with_scope = token_client(scopes={"agreements": "read"})
    assert with_scope.get("/api/v1/agreements/").status_code == 200


def test_the_change_feed_gives_only_the_types_the_client_may_read(
    feed_now,
    token_client,
    make_station,  # noqa: F811
):
    station = make_station("VIETTEL", code="VT-FEED")
    asset = InfrastructureAsset.objects.create(
        owner=Organization.objects.get(code="VIETTEL"),
        kind="tower",
        capacity=2,
        geometry=NEAR_BA_DINH,
        commune=station.commune,
        code="A-FEED",
        name="Cột thử",
    )

    def seen(http, query=""):
        response = http.get(f"{CHANGES}{query}")
        assert response.status_code == 200, response.content[:300]
        return {(e["type"], e["id"]) for e in response.json()["results"]}

    stations_only = token_client(scopes={"stations": "read"})
    everything = token_client(scopes={"*": "read"})
    nothing = token_client(scopes={})
    station_event = ("stations", str(station.public_id))
    asset_event = ("assets", str(asset.public_id))

    assert {t for t, _id in seen(stations_only)} == {"stations"}
    assert station_event in seen(stations_only) and asset_event not in seen(stations_only)
    assert asset_event not in seen(stations_only, "?types=assets")
    assert {station_event, asset_event} <= seen(everything)
    assert seen(nothing) == set()


def test_an_operator_client_lists_only_its_operators_records(
    token_client,
    make_station,  # noqa: F811
):
    viettel = make_station("VIETTEL", code="VT-OWN")
    mobifone = make_station("MOBIFONE", location=NEAR_BA_DINH, code="MF-OWN")

    def listed(http):
        response = http.get(STATIONS)
        assert response.status_code == 200
        return {f["id"] for f in response.json()["features"]}

    assert listed(token_client(scopes={"*": "read"}, org_code="VIETTEL")) == {
        str(viettel.public_id)
    }
    assert listed(token_client(scopes={"*": "read"}, org_code="MOBIFONE")) == {
        str(mobifone.public_id)
    }
    assert listed(token_client(scopes={"*": "read"}, org_code="CUC_VT")) == {
        str(viettel.public_id),
        str(mobifone.public_id),
    }


# --- Last use ---------------------------------------------------------------------------------------


def test_last_use_is_recorded_at_most_once_a_minute(token_client):
    http = token_client()
    client = http.api_client
    assert client.last_used_at is None
    assert http.get(ORGS, REMOTE_ADDR="10.0.0.7").status_code == 200
    client.refresh_from_db()
    token = client.tokens.get()
    first = client.last_used_at
    assert first is not None and client.last_used_ip == "10.0.0.7"
    assert token.last_used_at == first

    assert http.get(ORGS, REMOTE_ADDR="10.0.0.8").status_code == 200
    client.refresh_from_db()
    assert (client.last_used_at, client.last_used_ip) == (first, "10.0.0.7")  # not written again

    a_while_ago = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=a_while_ago)
    assert http.get(ORGS, REMOTE_ADDR="2001:db8::8").status_code == 200
    client.refresh_from_db()
    token.refresh_from_db()
    assert client.last_used_at > first and client.last_used_ip == "2001:db8::8"
    assert token.last_used_at == client.last_used_at


def test_a_refused_call_is_not_a_use(token_client):
    http = token_client(allowed_networks=["10.0.0.0/8"])
    assert http.get(ORGS, REMOTE_ADDR="203.0.113.5").status_code == 403
    http.api_client.refresh_from_db()
    assert http.api_client.last_used_at is None


# --- Throttling -------------------------------------------------------------------------------------


def test_a_client_over_its_rate_gets_429_and_others_are_not_affected(token_client, api_client):
    slow = token_client(throttle_rate="3/minute")
    other = token_client(throttle_rate="3/minute")
    for _ in range(3):
        assert slow.get(ORGS).status_code == 200
    response = slow.get(ORGS)
    assert response.status_code == 429
    assert code_of(response) == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60
    # Per client, not per token: a second token of the same client is throttled too.
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {services.issue_token(None, slow.api_client)}"
    )
    assert api_client.get(ORGS).status_code == 429
    # Another client has its own count.
    for _ in range(3):
        assert other.get(ORGS).status_code == 200
    # The counts are kept in the Redis cache, by client.
    assert len(cache.get(f"throttle_api_client_{slow.api_client.public_id}")) == 3


def test_the_default_rate_applies_without_a_rate_of_its_own(token_client, settings):
    settings.SYNC_CLIENT_RATE = "2/minute"
    http = token_client()
    assert [http.get(ORGS).status_code for _ in range(3)] == [200, 200, 429]


def test_browser_sessions_are_not_throttled_as_clients(as_role, settings):
    settings.SYNC_CLIENT_RATE = "1/minute"
    session = as_role("city_official")
    assert [session.get(ORGS).status_code for _ in range(3)] == [200, 200, 200]


# --- History ----------------------------------------------------------------------------------------


def test_a_write_through_a_token_is_recorded_with_the_clients_identity(token_client):
    http = token_client(scopes={"stations": "write"}, org_code="VIETTEL", name="viettel-oss-test")
    client = http.api_client
    response = http.post(STATIONS, station_feature(code="VT-HIST"), format="json")
    assert response.status_code == 201, response.content[:500]
    station = Station.objects.get(code="VT-HIST")
    response = http.patch(f"{STATIONS}{station.public_id}/", {"name": "Tên mới"}, format="json")
    assert response.status_code == 200, response.content[:500]
    events = list(events_for(station))
    assert [e.pgh_label for e in events][:1] == ["insert"]
    assert "update" in [e.pgh_label for e in events]
    for event in events:
        assert event.pgh_context["api_client"] == "viettel-oss-test"
        assert event.pgh_context["api_client_id"] == str(client.public_id)
        assert event.pgh_context["user"] == client.user_id
        assert event.pgh_context["url"].startswith(STATIONS)


def test_a_browser_write_names_no_client(as_role):
    http = as_role("operator_viettel")
    response = http.post(STATIONS, station_feature(code="VT-BROWSER"), format="json")
    assert response.status_code == 201, response.content[:500]
    event = list(events_for(Station.objects.get(code="VT-BROWSER")))[0]
    assert "api_client" not in event.pgh_context
    assert event.pgh_context["user"] == http.user.pk


# --- Storage ----------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed(token_client):
    http = token_client()
    raw = http.raw_token
    token = http.api_client.tokens.get()
    assert raw.startswith("hik_") and len(raw) >= 40
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest() != raw
    assert raw.startswith(token.prefix) and len(token.prefix) < len(raw) // 2
    assert http.get(ORGS).status_code == 200  # and it was used
    assert tables_containing(raw) == []
    assert tables_containing(token.digest) == [ApiToken._meta.db_table]


def test_two_tokens_are_never_alike(token_client):
    http = token_client()
    raws = {http.raw_token} | {services.issue_token(None, http.api_client) for _ in range(5)}
    assert len(raws) == 6
    assert http.api_client.tokens.count() == 6


# --- Admin ------------------------------------------------------------------------------------------


def admin_form(org, **fields):
    data = {
        "name": f"admin-{uuid.uuid4().hex[:8]}",
        "organization": str(org.pk),
        "is_active": "on",
        "scopes": '{"stations": "write", "*": "read"}',
        "allowed_networks": "10.0.0.0/8\n2001:db8::/32",
        "expires_at_0": "",
        "expires_at_1": "",
        "throttle_rate": "",
        "tokens-TOTAL_FORMS": "0",
        "tokens-INITIAL_FORMS": "0",
        "tokens-MIN_NUM_FORMS": "0",
        "tokens-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    return data


def tokens_in(response):
    return TOKEN_RE.findall(response.content.decode())


@pytest.fixture
def admin_client(client, role_user):
    client.cookies["django_language"] = "en"  # the language switch's choice
    client.force_login(role_user("administrator"))
    return client


def test_the_add_form_shows_the_token_once(admin_client, api_client, org):
    response = admin_client.post(
        f"{ADMIN}add/",
        admin_form(
            org("VIETTEL"), name="viettel-admin", expires_at_0="2099-12-31", expires_at_1="18:00"
        ),
    )
    assert response.status_code == 200, response.content[:2000]
    assert "no-store" in response["Cache-Control"]
    shown = tokens_in(response)
    assert len(shown) == 1
    raw = shown[0]
    client = ApiClient.objects.get(name="viettel-admin")
    assert client.organization.code == "VIETTEL"
    assert client.scopes == {"stations": "write", "*": "read"}
    assert client.allowed_networks == ["10.0.0.0/8", "2001:db8::/32"]
    assert timezone.localtime(client.expires_at).isoformat() == "2099-12-31T18:00:00+07:00"
    assert client.created_by.is_superuser
    assert client.user.username == "api:viettel-admin" and client.user.has_role(roles.API_CLIENT)
    assert client.tokens.get().expires_at == client.expires_at

    # The token shown works …
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get(STATIONS, REMOTE_ADDR="10.0.0.1").status_code == 200
    # … and is never shown again, nor stored: the change page and the list give its prefix only.
    change = admin_client.get(f"{ADMIN}{client.pk}/change/")
    assert change.status_code == 200
    html = change.content.decode()
    assert raw not in html and tokens_in(change) == []
    assert f"{raw[:12]}…" in html
    assert client.tokens.get().digest not in html
    listing = admin_client.get(ADMIN)
    assert "viettel-admin" in listing.content.decode() and raw not in listing.content.decode()
    assert tables_containing(raw) == []


def test_an_expiry_date_without_a_time_is_the_end_of_that_day(admin_client, org):
    response = admin_client.post(
        f"{ADMIN}add/", admin_form(org("CUC_VT"), name="until-2099", expires_at_0="2099-12-31")
    )
    assert response.status_code == 200 and len(tokens_in(response)) == 1
    client = ApiClient.objects.get(name="until-2099")
    assert timezone.localtime(client.expires_at).isoformat() == "2099-12-31T23:59:59+07:00"


def test_the_add_form_lists_the_resource_names_for_scopes(admin_client):
    html = admin_client.get(f"{ADMIN}add/").content.decode()
    for name in ("stations", "public-sites", "assets", "cable-segments", "permit-applications"):
        assert name in html


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"scopes": '{"stations": "admin"}'}, "scopes", "A scope is read or write"),
        ({"scopes": '{"station": "read"}'}, "scopes", "Unknown resource(s): station"),
        ({"scopes": '["stations"]'}, "scopes", "Scopes are an object"),
        ({"scopes": "{stations: write"}, "scopes", "Enter a valid JSON"),
        ({"allowed_networks": "10.0.0.0/33"}, "allowed_networks", "Not a network address"),
        ({"throttle_rate": "fast"}, "throttle_rate", "Write it as a number"),
        ({"name": "taken"}, "name", "exists"),
    ],
)
def test_the_add_form_explains_bad_input(admin_client, org, fields, field, message):
    services.create_client(None, name="taken", organization=org("CUC_VT"))
    count = ApiClient.objects.count()
    response = admin_client.post(f"{ADMIN}add/", admin_form(org("CUC_VT"), **fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert any(message in str(m) for m in errors[field]), errors
    assert ApiClient.objects.count() == count
    assert tokens_in(response) == []


def test_the_change_form_saves_through_the_service(admin_client, token_client, org):
    http = token_client(scopes={"stations": "read"}, org_code="VIETTEL")
    client = http.api_client
    data = admin_form(
        org("VIETTEL"),
        name=client.name,
        scopes='{"stations": "write"}',
        allowed_networks="",
        throttle_rate="100/minute",
    )
    data["tokens-TOTAL_FORMS"] = data["tokens-INITIAL_FORMS"] = "1"
    data["tokens-0-id"] = str(client.tokens.get().pk)
    data["tokens-0-client"] = str(client.pk)
    del data["is_active"]  # disable it
    response = admin_client.post(f"{ADMIN}{client.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    client.refresh_from_db()
    assert client.scopes == {"stations": "write"} and client.throttle_rate == "100/minute"
    assert not client.is_active and not client.user.is_active  # the service account follows
    response = http.get(STATIONS)
    assert response.status_code == 401 and code_of(response) == "client_disabled"


def test_only_administrators_reach_the_api_client_admin(client, make_user, token_client):
    api = token_client()
    pages = [ADMIN, f"{ADMIN}add/", f"{ADMIN}{api.api_client.pk}/change/"]
    # A staff member holding every permission on clients and tokens, but not an administrator.
    staff = make_user(roles.CITY_OFFICIAL, "SO_KHCN_HN", is_staff=True)
    staff.user_permissions.set(
        Permission.objects.filter(content_type__model__in=["apiclient", "apitoken"])
    )
    client.force_login(staff)
    for page in pages:
        assert client.get(page).status_code == 403, page
    assert client.post(f"{ADMIN}add/", {"name": "sneaky"}).status_code == 403
    assert not ApiClient.objects.filter(name="sneaky").exists()
    assert "apiclient" not in client.get("/admin/").content.decode()
    # An administrator by role (not a superuser) does reach it.
    admin = make_user(roles.ADMINISTRATOR, "SO_KHCN_HN", is_staff=True)
    client.force_login(admin)
    for page in pages:
        assert client.get(page).status_code == 200, page
    assert "apiclient" in client.get("/admin/").content.decode()
    # A client is disabled, never deleted (the history names it).
    assert client.get(f"{ADMIN}{api.api_client.pk}/delete/").status_code == 403


def action(admin_client, name, clients, **extra):
    data = {"action": name, "_selected_action": [str(c.pk) for c in clients], **extra}
    return admin_client.post(ADMIN, data)


def test_admin_action_issues_a_new_token_shown_once(admin_client, token_client, api_client):
    first, second = token_client(), token_client()
    response = action(admin_client, "issue_new_token", [first.api_client, second.api_client])
    assert response.status_code == 200
    shown = tokens_in(response)
    assert len(shown) == 2 and "no-store" in response["Cache-Control"]
    for raw in shown:
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert api_client.get(ORGS).status_code == 200
    assert first.get(ORGS).status_code == 200  # the old tokens stay valid
    assert first.api_client.tokens.count() == second.api_client.tokens.count() == 2
    assert tables_containing(shown[0]) == []


def test_admin_action_refuses_a_token_for_a_disabled_client(admin_client, token_client):
    http = token_client()
    client = http.api_client
    client.is_active = False
    services.save_client(None, client)
    response = action(admin_client, "issue_new_token", [client])
    assert response.status_code == 302
    assert client.tokens.count() == 1
    follow = admin_client.get(response["Location"])
    assert "No token issued" in follow.content.decode()


def test_admin_action_rotates_after_confirmation(admin_client, token_client, api_client):
    http = token_client()
    client = http.api_client
    ask = action(admin_client, "rotate_tokens", [client])
    assert ask.status_code == 200 and tokens_in(ask) == []
    assert client.name in ask.content.decode()
    assert client.tokens.filter(revoked_at__isnull=True).count() == 1  # nothing done yet
    done = action(admin_client, "rotate_tokens", [client], confirmed="yes")
    assert done.status_code == 200
    [raw] = tokens_in(done)
    assert http.get(ORGS).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get(ORGS).status_code == 200
    assert client.tokens.filter(revoked_at__isnull=True).count() == 1
    assert client.tokens.count() == 2


def test_admin_action_revokes_every_token_after_confirmation(admin_client, token_client):
    http = token_client()
    client = http.api_client
    services.issue_token(None, client)
    ask = action(admin_client, "revoke_all_tokens", [client])
    assert ask.status_code == 200 and http.get(ORGS).status_code == 200
    done = action(admin_client, "revoke_all_tokens", [client], confirmed="yes")
    assert done.status_code == 302
    assert not client.tokens.filter(revoked_at__isnull=True).exists()
    assert http.get(ORGS).status_code == 401
    page = admin_client.get(f"{ADMIN}{client.pk}/change/").content.decode()
    assert page.count("revoked") >= 2


# --- Management command -----------------------------------------------------------------------------


def run(*args):
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def test_the_command_creates_a_client_and_prints_its_token_once(api_client):
    out = run(
        "cmd-viettel",
        "--org",
        "VIETTEL",
        "--scope",
        "stations=write",
        "--scope",
        "*=read",
        "--network",
        "10.0.0.0/8",
        "--expires",
        "2099-12-31",
        "--rate",
        "600/minute",
    )
    [raw] = TOKEN_RE.findall(out)
    client = ApiClient.objects.get(name="cmd-viettel")
    assert client.organization.code == "VIETTEL"
    assert client.scopes == {"stations": "write", "*": "read"}
    assert client.allowed_networks == ["10.0.0.0/8"]
    assert client.throttle_rate == "600/minute"
    # Valid through 31 December 2099, Hanoi time.
    assert timezone.localtime(client.expires_at).isoformat() == "2099-12-31T23:59:59+07:00"
    assert tables_containing(raw) == []
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get(STATIONS, REMOTE_ADDR="10.2.3.4").status_code == 200
    assert api_client.get(STATIONS, REMOTE_ADDR="203.0.113.4").status_code == 403


def test_the_command_rotates_a_token(api_client):
    [old] = TOKEN_RE.findall(run("cmd-rotate", "--org", "CUC_VT", "--scope", "*=read"))
    [new] = TOKEN_RE.findall(run("--rotate", "cmd-rotate"))
    assert new != old
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old}")
    assert api_client.get(ORGS).status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {new}")
    assert api_client.get(ORGS).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["c1"], "--org"),
        (["--org", "CUC_VT"], "name"),
        (["c1", "--org", "NOPE"], "No organisation has the code NOPE"),
        (["c1", "--org", "CUC_VT", "--scope", "stations:write"], "RESOURCE=read"),
        (["c1", "--org", "CUC_VT", "--scope", "stations=admin"], "RESOURCE=read"),
        (["c1", "--org", "CUC_VT", "--scope", "station=read"], "unknown resource(s) station"),
        (
            ["c1", "--org", "CUC_VT", "--scope", "stations=read", "--scope", "stations=write"],
            "given twice",
        ),
        (["c1", "--org", "CUC_VT", "--network", "10.0.0.0/33"], "Not a network address"),
        (["c1", "--org", "CUC_VT", "--expires", "2020-01-01"], "in the past"),
        (["c1", "--org", "CUC_VT", "--expires", "31/12/2099"], "2027-12-31"),
        (["c1", "--org", "CUC_VT", "--expires", "2099-02-30"], "2027-12-31"),
        (["c1", "--org", "CUC_VT", "--rate", "lots"], "--rate lots"),
        (["taken", "--org", "CUC_VT"], "exists"),
        (["--rotate", "nobody"], "No API client is called nobody"),
        (["--rotate", "taken", "--scope", "*=write"], "--rotate takes only --expires"),
    ],
)
def test_the_command_refuses_bad_input_clearly(org, args, message, settings):
    settings.LANGUAGE_CODE = (
        "en"  # commands speak the site's language; the messages are read in English
    )
    services.create_client(None, name="taken", organization=org("CUC_VT"))
    tokens = ApiToken.objects.count()
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    assert not ApiClient.objects.filter(name="c1").exists()
    assert ApiToken.objects.count() == tokens


def test_the_command_will_not_rotate_for_a_disabled_or_expired_client(org, settings):
    settings.LANGUAGE_CODE = "en"
    client, _raw = services.create_client(None, name="old", organization=org("CUC_VT"))
    ApiClient.objects.filter(pk=client.pk).update(expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(CommandError, match="expired"):
        run("--rotate", "old")
    ApiClient.objects.filter(pk=client.pk).update(expires_at=None, is_active=False)
    with pytest.raises(CommandError, match="disabled"):
        run("--rotate", "old")
    assert client.tokens.count() == 1


# Moved from core/tests/test_api.py.
def test_token_authentication(org, api_client):
    """An agency's API client authenticates with its token (sync); a wrong one is refused."""
    _client, raw = services.create_client(
        None, name="agency-sync", organization=org("CUC_VT"), scopes={"*": "read"}
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api_client.get("/api/v1/organizations/").status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = api_client.get("/api/v1/organizations/")
    assert response.status_code == 401
    assert response["Error-Code"] == "token_invalid"
    api_client.credentials()
    assert api_client.get("/api/v1/organizations/").status_code == 401
