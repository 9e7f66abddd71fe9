"""Sign-in hardening: lock-out after failed log-ins (django-axes), two-factor sign-in for officials
(django-otp, TOTP and recovery codes), session expiry, and the production (deploy) settings."""

import re
import time

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

EN = {}  # pages speak Vietnamese whatever the browser sends: English is the switch's cookie


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def post_login(client, username, password, ip="10.1.2.3"):
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=ip, **EN
    )


def code_for(device, offset=0):
    return (
        f"{totp(device.bin_key, device.step, device.t0, device.digits, offset):0{device.digits}d}"
    )


# --- Lock-out --------------------------------------------------------------------------------


def test_thirty_wrong_passwords_lock_the_account_out_until_an_administrator_resets_it(
    client, role_user, settings
):
    user = role_user("operator_viettel")
    answers = [post_login(client, user.username, f"wrong-{i}").status_code for i in range(30)]
    # Four plain refusals on the form, then the lock-out from the fifth failure on.
    assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(answers[settings.AXES_FAILURE_LIMIT - 1 :]) == {429}

    locked = post_login(client, user.username, TEST_PASSWORD)
    assert locked.status_code == 429
    body = locked.content.decode()
    assert 'data-testid="locked-out"' in body
    assert "Too many failed log-ins (5)" in body and "locked for 30 minutes" in body
    assert "<nav" in body  # the site's layout, not a bare page
    assert "_auth_user_id" not in client.session

    # Another address is not locked out by this one's failures (username + address).
    other = post_login(client, user.username, TEST_PASSWORD, ip="10.9.9.9")
    assert other.status_code == 302
    client.logout()

    call_command("axes_reset_username", user.username)
    assert not AccessAttempt.objects.filter(username=user.username).exists()
    ok = post_login(client, user.username, TEST_PASSWORD)
    assert ok.status_code == 302 and ok.url == "/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_failures_are_counted_in_the_database_so_a_redis_outage_cannot_break_log_ins(
    client, role_user
):
    user = role_user("operator_viettel")
    dead_cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=dead_cache):
        assert post_login(client, user.username, "wrong").status_code == 200
        assert AccessAttempt.objects.get(username=user.username).failures_since_start == 1
        ok = post_login(client, user.username, TEST_PASSWORD)
    assert ok.status_code == 302


def test_api_tokens_are_not_counted_as_log_ins(api_client, role_user):
    user = role_user("operator_viettel")
    for _i in range(8):
        api_client.get("/api/v1/stations/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert not AccessAttempt.objects.exists()
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/stations/").status_code == 200


# --- Two-factor sign-in ----------------------------------------------------------------------


@pytest.fixture
def two_factor_on(settings):
    settings.REQUIRE_2FA_FOR_OFFICIALS = True


def test_official_without_device_sets_up_totp_and_gets_recovery_codes_once(
    client, role_user, two_factor_on
):
    official = role_user("city_official")
    response = post_login(client, official.username, TEST_PASSWORD)
    assert response.status_code == 302
    home = client.get("/", **EN)
    assert home.status_code == 302 and home.url.startswith("/account/2fa/setup/")
    # Nothing else either: the admin, another page, the API.
    assert client.get("/admin/").url.startswith("/account/2fa/setup/")
    assert client.get("/units/").url.startswith("/account/2fa/setup/")
    api = client.get("/api/v1/stations/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"

    setup = client.get(home.url, **EN)
    assert setup.status_code == 200
    body = setup.content.decode()
    assert "<svg" in body
    # No inline script (CSP): only <script src=...> of our own static files, and data
    # (json_script's application/json, which never runs).
    assert not re.search(r"<script(?![^>]*(\bsrc=\"/static/|type=\"application/json\"))", body)
    device = TOTPDevice.objects.get(user=official, confirmed=False)

    wrong = client.post(home.url, {"token": "000000" if code_for(device) != "000000" else "1"})
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    confirmed = client.post(home.url, {"token": code_for(device), "next": "/"})
    assert confirmed.status_code == 302 and "recovery-codes" in confirmed.url
    codes_page = client.get(confirmed.url, **EN)
    codes = codes_page.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get(confirmed.url).status_code == 302  # shown once
    assert client.get("/", **EN).status_code == 200
    assert TOTPDevice.objects.get(pk=device.pk).confirmed

    # The next log-in asks for a code; a recovery code works once.
    client.post("/logout/")
    post_login(client, official.username, TEST_PASSWORD)
    step = client.get("/")
    assert step.url.startswith("/account/2fa/verify/")
    assert client.post(step.url, {"token": codes[0], "next": "/"}).status_code == 302
    assert client.get("/").status_code == 200

    client.post("/logout/")
    post_login(client, official.username, TEST_PASSWORD)
    again = client.post("/account/2fa/verify/", {"token": codes[0], "next": "/"})
    assert again.status_code == 400
    assert client.get("/").url.startswith("/account/2fa/verify/")
    time.sleep(1.1)  # django-otp throttles codes after a failure (1 s, doubling)
    good = client.post("/account/2fa/verify/", {"token": codes[1], "next": "/"})
    assert good.status_code == 302
    assert client.get("/").status_code == 200


def test_official_confirms_with_a_totp_code_at_a_later_log_in(client, role_user, two_factor_on):
    official = role_user("national_official")
    device = TOTPDevice.objects.create(user=official, name="app", confirmed=True)
    post_login(client, official.username, TEST_PASSWORD)
    assert client.get("/").url.startswith("/account/2fa/verify/")
    response = client.post("/account/2fa/verify/", {"token": code_for(device), "next": "/units/"})
    assert response.status_code == 302 and response.url == "/units/"
    assert client.get("/units/").status_code == 200


def test_verify_does_not_redirect_off_site(client, role_user, two_factor_on):
    official = role_user("city_official")
    device = TOTPDevice.objects.create(user=official, name="app", confirmed=True)
    post_login(client, official.username, TEST_PASSWORD)
    response = client.post(
        "/account/2fa/verify/", {"token": code_for(device), "next": "https://evil.example/"}
    )
    assert response.url == "/"


def test_operator_is_not_forced_but_may_enable_two_factor(client, role_user, two_factor_on):
    operator = role_user("operator_viettel")
    post_login(client, operator.username, TEST_PASSWORD)
    assert client.get("/").status_code == 200

    client.get("/account/2fa/setup/")
    device = TOTPDevice.objects.get(user=operator)
    client.post("/account/2fa/setup/", {"token": code_for(device)})
    client.post("/logout/")
    post_login(client, operator.username, TEST_PASSWORD)
    assert client.get("/").url.startswith("/account/2fa/verify/")


def test_with_the_setting_off_officials_sign_in_with_the_password(client, role_user, settings):
    settings.REQUIRE_2FA_FOR_OFFICIALS = False
    official = role_user("city_official")
    post_login(client, official.username, TEST_PASSWORD)
    assert client.get("/").status_code == 200


# --- Session expiry --------------------------------------------------------------------------


def set_session(client, **values):
    session = client.session
    for key, value in values.items():
        session[key] = value
    session.save()


@pytest.mark.parametrize(
    "name, idle_minutes, expired",
    [
        ("city_official", 29, False),
        ("city_official", 31, True),
        ("administrator", 31, True),
        ("operator_viettel", 31, False),
        ("operator_viettel", 11 * 60, False),
    ],
)
def test_idle_sessions_of_officials_expire(client, role_user, name, idle_minutes, expired):
    user = role_user(name)
    client.force_login(user)
    assert client.get("/").status_code == 200
    now = int(time.time())
    set_session(client, _last_activity=now - idle_minutes * 60)
    response = client.get("/")
    if expired:
        assert response.status_code == 302 and response.url.startswith("/login/")
        assert "_auth_user_id" not in client.session
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(
    "name, hours, expired",
    [("city_official", 9, True), ("operator_viettel", 9, False), ("operator_viettel", 13, True)],
)
def test_sessions_end_after_their_maximum_age(client, role_user, name, hours, expired):
    client.force_login(role_user(name))
    client.get("/")
    now = int(time.time())
    set_session(client, _signed_in_at=now - hours * 3600, _last_activity=now - 60)
    response = client.get("/")
    assert (response.status_code == 302) is expired


def test_officials_session_cookie_ends_with_the_browser(client, role_user):
    client.force_login(role_user("city_official"))
    response = client.get("/")
    assert response.status_code == 200
    assert client.session.get_expire_at_browser_close()


# --- Deploy settings -------------------------------------------------------------------------

PRODUCTION = {
    "DEBUG": False,
    "SECRET_KEY": "k7#Qz1v9Lr2pX8mN4bT6yW0cE3hJ5gU-aS_dF!oK@iZ%lP^qR&tY*uV(wB)nM+eC",
    "ALLOWED_HOSTS": ["portal.example.vn"],
    "SECURE_SSL_REDIRECT": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


@pytest.fixture
def deployment_env(monkeypatch):
    """The deployed process's environment: no test-only async switch (Playwright's)."""
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)


def test_check_deploy_is_clean_with_the_production_settings(deployment_env):
    with override_settings(**PRODUCTION):
        call_command("check", "--deploy", "--fail-level", "WARNING")


@pytest.mark.parametrize(
    "setting, value",
    [("SESSION_COOKIE_SECURE", False), ("SECURE_HSTS_SECONDS", 0), ("SECURE_SSL_REDIRECT", False)],
)
def test_check_deploy_fails_when_a_production_setting_is_missing(setting, value, deployment_env):
    with override_settings(**{**PRODUCTION, setting: value}), pytest.raises(SystemCheckError):
        call_command("check", "--deploy", "--fail-level", "WARNING")


def test_local_settings_serve_plain_http(client, settings):
    assert settings.PRODUCTION is False
    assert client.get("/login/").status_code == 200
