"""Fixtures every app's tests share: reference data, users per role, API clients, a real Celery
worker on a private queue, and a headless Chromium driven by Playwright."""

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from core import roles

SHARED_DATA = Path(settings.SHARED_DATA_DIR)
WARDS_GEOJSON = SHARED_DATA / "hanoi_wards_2025.geojson"
CROSSWALK_CSV = SHARED_DATA / "hanoi_ward_crosswalk_2025.csv"
TEST_PASSWORD = "test-pass-2026"


def load_test_reference_data():
    from core import services
    from core.models import AdministrativeUnit, LegacyUnit

    services.load_all_reference_data()
    if (
        WARDS_GEOJSON.exists()
        and not AdministrativeUnit.objects.filter(boundary__isnull=False).exists()
    ):
        services.import_boundaries(WARDS_GEOJSON)
    if CROSSWALK_CSV.exists() and not LegacyUnit.objects.exists():
        services.import_crosswalk(CROSSWALK_CSV)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language, as a fresh process (a worker, a command) does: a
    request with Accept-Language: en leaves English active in the thread after it is answered, and
    messages stored later (a run's error, a command's output) would depend on the tests before."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database starts with the reference data (and boundaries, where the shared data is)."""
    with django_db_blocker.unblock():
        load_test_reference_data()


@pytest.fixture
def reference_data(django_db_blocker):
    """For transactional tests, which empty the database afterwards: put the reference data back."""
    with django_db_blocker.unblock():
        load_test_reference_data()


@pytest.fixture
def needs_shared_data():
    if not WARDS_GEOJSON.exists() or not CROSSWALK_CSV.exists():
        pytest.skip(
            f"shared reference data not found in {SHARED_DATA} (see ../shared/data/README.md)"
        )


@pytest.fixture
def org(db):
    from core.models import Organization

    return lambda code: Organization.objects.get(code=code)


@pytest.fixture
def make_user(db):
    """make_user(role, org_code) -> an active user holding ``role`` in that organisation."""
    from core.models import Organization, User

    def make(role=None, org_code=None, **extra):
        user = User.objects.create_user(
            username=extra.pop("username", f"u-{uuid.uuid4().hex[:10]}"),
            password=TEST_PASSWORD,
            organization=Organization.objects.get(code=org_code) if org_code else None,
            **extra,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


# The roles as people hold them, for permission matrices: name -> (role, organisation).
ROLE_USERS = {
    "city_official": (roles.CITY_OFFICIAL, "SO_KHCN_HN"),
    "national_official": (roles.NATIONAL_OFFICIAL, "CUC_VT"),
    "operator_viettel": (roles.OPERATOR_STAFF, "VIETTEL"),
    "operator_mobifone": (roles.OPERATOR_STAFF, "MOBIFONE"),
    "agency_api_client": (roles.API_CLIENT, "CUC_VT"),
    "operator_api_client": (roles.API_CLIENT, "VNPT"),
    "administrator": (roles.ADMINISTRATOR, "SO_KHCN_HN"),
    "no_role": (None, "VIETTEL"),
}


@pytest.fixture
def role_user(make_user):
    """role_user("operator_viettel") -> a user as in ROLE_USERS; "anonymous" -> None."""

    def get(name):
        if name == "anonymous":
            return None
        role, org_code = ROLE_USERS[name]
        extra = {"is_staff": True, "is_superuser": True} if role == roles.ADMINISTRATOR else {}
        return make_user(role, org_code, **extra)

    return get


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def as_role(role_user):
    """as_role("operator_viettel") -> an API client for a new user of that role (English messages);
    ``client.user`` is that user (None for "anonymous")."""
    from rest_framework.test import APIClient

    def make(role):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        user = role_user(role)
        if user is not None:
            client.force_authenticate(user)
        client.user = user
        return client

    return make


# --- Machine clients of the sync API (the sync app) ------------------------------------------------


@pytest.fixture
def token_client(db):
    """token_client(scopes={"*": "write"}, org_code="CUC_VT", **client_fields) -> a DRF APIClient
    sending ``Authorization: Bearer <token>`` of a new ApiClient (English messages); the client is
    ``.api_client`` and the raw token ``.raw_token``."""
    from rest_framework.test import APIClient

    from core.models import Organization
    from sync import services

    def make(scopes=None, org_code="CUC_VT", **fields):
        client, raw = services.create_client(
            None,
            name=fields.pop("name", f"client-{uuid.uuid4().hex[:10]}"),
            organization=Organization.objects.get(code=org_code),
            scopes={"*": "write"} if scopes is None else scopes,
            **fields,
        )
        http = APIClient(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {raw}")
        http.api_client = client
        http.raw_token = raw
        return http

    return make


@pytest.fixture
def api_token():
    """api_token(org_code, scopes, name=None) -> the raw token of a new ApiClient acting for that
    organisation (for tests that send the header themselves, e.g. through a live server)."""
    from core.models import Organization
    from sync import services

    def make(org_code, scopes, name=None):
        _client, raw = services.create_client(
            None,
            name=name or f"client-{uuid.uuid4().hex[:10]}",
            organization=Organization.objects.get(code=org_code),
            scopes=scopes,
        )
        return raw

    return make


@pytest.fixture
def feed_now(db):
    """Number the test transaction's changes as they are written (a test's transaction never
    commits, and the feed numbers changes at commit): call it before writing."""
    from sync.feed import sequence_pending

    sequence_pending()


# --- A real Celery worker --------------------------------------------------------------------


@pytest.fixture
def celery_worker_queue(transactional_db, reference_data):
    """Start a real Celery worker (thread) on real Redis, consuming only a private queue.

    Yields the queue name: send tasks with ``apply_async(queue=name)``. No other worker on the machine
    listens on it, so none can take the test's tasks and run them against another database.
    """
    from celery.contrib.testing.worker import start_worker

    from hanoi_infra.celery import app

    queue = f"test-{uuid.uuid4().hex[:12]}"
    with start_worker(
        app,
        pool="threads",
        concurrency=2,
        queues=[queue],
        perform_ping_check=False,
        shutdown_timeout=30,
    ):
        yield queue


@pytest.fixture
def outbox_to_queue(monkeypatch):
    """``outbox_to_queue(queue, countdown=None, record=...)``: what core.outbox sends goes to the
    test's private queue (see celery_worker_queue); returns a list that receives
    ``record(message, result)`` for each message sent (the AsyncResult by default)."""
    from core import outbox

    real = outbox._publish

    def route(queue, countdown=None, record=lambda message, result: result):
        sent = []

        def publish(message):
            extra = {"queue": queue, **({"countdown": countdown} if countdown else {})}
            message.options = {**(message.options or {}), **extra}
            result = real(message)
            sent.append(record(message, result))
            return result

        monkeypatch.setattr(outbox, "_publish", publish)
        return sent

    return route


# --- Browser -------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: `bash scripts/setup.sh --test` installs Debian's chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, reference_data):
    """A fresh browser page (Vietnamese) against the live server; ``page.url_for(path)``."""
    context = browser.new_context(locale="vi-VN", base_url=live_server.url)
    # Nothing leaves the machine: anything not on the live server is refused.
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def browser_login(page, username, password=TEST_PASSWORD):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def browser_logout(page):
    page.get_by_test_id("user-menu").click()
    page.locator("form[action='/logout/'] button").click()
