"""A signed-in account without a portal role (core.access): the home page tells it so, every other
page answers the same notice with 403, the API answers 403 JSON; its own notifications, two-factor
and log-out pages stay open. The rule is declared once: a middleware for pages, a default permission
class for the API (every API view keeps it)."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from core.permissions import HasPortalRole

pytestmark = pytest.mark.django_db

NO_ROLE_TEXT = "Your account has no role yet"


@pytest.fixture
def roleless(client, role_user):
    client.cookies["django_language"] = "en"  # the language switch's choice
    client.force_login(role_user("no_role"))
    return client


def test_home_page_says_the_account_has_no_role(roleless):
    response = roleless.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="no-role"' in html and NO_ROLE_TEXT in html
    assert "Ask an administrator" in html
    # Neither the dashboard nor the register menus: nothing there would open.
    assert 'data-testid="home-links"' not in html
    assert 'data-testid="nav-stations"' not in html and 'data-testid="nav-units"' not in html


@pytest.mark.parametrize(
    "url",
    [
        "/units/",
        "/organizations/",
        "/stations/",
        "/stations/map/",
        "/sharing/assets/",
        "/cables/",
        "/spam/",
        "/spam/cases/",
        "/agreements/",
        "/downloads/",
    ],
)
def test_every_other_page_answers_the_no_role_notice_with_403(roleless, url):
    response = roleless.get(url)
    assert response.status_code == 403, url
    html = response.content.decode()
    assert NO_ROLE_TEXT in html and "open only to accounts with a role" in html


def test_post_only_actions_answer_403_not_405(roleless):
    # Before the rule a roleless POST-only door answered 405 to GET and ran its view on POST.
    assert roleless.get("/stations/applications/1/submit/").status_code == 403
    assert roleless.post("/sharing/requests/1/withdraw/", {}).status_code == 403


@pytest.mark.parametrize("url", ["/notifications/", "/account/2fa/setup/", "/jsi18n/", "/login/"])
def test_the_pages_a_new_account_needs_stay_open(roleless, url):
    assert roleless.get(url).status_code in (200, 302), url


def test_public_pages_are_not_refused(roleless):
    # login_not_required pages (the public complaint form, when enabled) are not role-checked.
    assert roleless.get("/spam/complaint/").status_code != 403


def test_roleless_can_log_out(roleless):
    response = roleless.post("/logout/")
    assert response.status_code == 302
    assert roleless.get("/").status_code == 302  # signed out: the log-in page


def test_users_with_a_role_see_the_dashboard(client, role_user):
    client.force_login(role_user("operator_viettel"))
    html = client.get("/").content.decode()
    assert 'data-testid="home-links"' in html and 'data-testid="no-role"' not in html


def test_an_inactive_role_is_no_role(client, role_user):
    user = role_user("operator_viettel")
    user.groups.clear()
    client.force_login(user)
    assert client.get("/stations/").status_code == 403


def test_api_answers_403_json(role_user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(role_user("no_role"))
    response = client.get("/api/v1/stations/")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and (prefix + str(pattern.pattern)).startswith("api/"):
            view_class = getattr(pattern.callback, "cls", None) or getattr(
                pattern.callback, "view_class", None
            )
            yield prefix + str(pattern.pattern), view_class


def test_every_api_view_keeps_the_portal_role_permission():
    """A viewset that sets its own permission_classes must build on HasPortalRole (or it would open
    the API to accounts without a role)."""
    from drf_spectacular.settings import spectacular_settings

    served = spectacular_settings.SERVE_PERMISSIONS
    missing = []
    for path, view_class in _api_views():
        assert view_class is not None, path
        classes = list(getattr(view_class, "permission_classes", ()))
        if view_class.__module__.startswith("drf_spectacular"):
            classes = served
        if not any(isinstance(c, type) and issubclass(c, HasPortalRole) for c in classes):
            missing.append(f"/{path} ({view_class.__module__}.{view_class.__name__})")
    assert not missing, "API views without HasPortalRole:\n  " + "\n  ".join(sorted(set(missing)))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_in_the_browser_a_roleless_account_is_told_in_vietnamese(page, role_user, tmp_path):
    import os

    from playwright.sync_api import expect

    from conftest import browser_login

    shots = os.environ.get("SCREENSHOT_DIR", str(tmp_path))
    page.set_viewport_size({"width": 1366, "height": 768})
    browser_login(page, role_user("no_role").username)
    page.wait_for_url("**/")
    notice = page.get_by_test_id("no-role")
    expect(notice).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "vi"
    assert NO_ROLE_TEXT not in notice.inner_text()  # translated, not the English source
    # The menus of the registers are not offered; notifications and the account menu are.
    expect(page.get_by_test_id("nav-stations-menu")).to_have_count(0)
    expect(page.get_by_test_id("notifications-link")).to_be_visible()
    page.screenshot(path=f"{shots}/no_role_home_1366.png", full_page=True)

    response = page.goto("/stations/")
    assert response.status == 403
    expect(page.get_by_test_id("no-role")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=f"{shots}/no_role_stations_phone.png", full_page=True)
