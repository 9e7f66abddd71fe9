"""Stored XSS across tenants (issue 14) in headless Chromium: a station, application, asset and cable
segment whose code or name is markup are shown on the maps of another operator and of an official.
Hovering a tooltip or opening a popup shows the literal text and runs nothing; the main pages
report no Content-Security-Policy violation and no console error.
"""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import LineString, Point
from playwright.sync_api import expect

from conftest import browser_login
from core.models import AdministrativeUnit, Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "<img src=x onerror=window.__xss=1>"
BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR = Point(105.8350, 21.0362, srid=4326)  # ~55 m away

# Recorded in every page before its own scripts run (an init script is not subject to the CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


@pytest.fixture
def hostile(role_user, settings, tmp_path):
    """Viettel's station (code and name markup) beside MobiFone's draft application whose station
    name is markup; a Viettel tower and a cable segment whose names are markup."""
    import importlib

    from django.apps import apps

    from cables import services as cable_services
    from sharing import services as sharing_services
    from stations import services as station_services
    from stations.models import ApplicationType, Station

    settings.MEDIA_ROOT = tmp_path
    if not ApplicationType.objects.exists():
        importlib.import_module("stations.migrations.0002_reference_types").forwards(apps, None)
    official = role_user("city_official")
    mobifone = role_user("operator_mobifone")
    viettel = Organization.objects.get(code="VIETTEL")
    commune = AdministrativeUnit.objects.get(code="00004")
    station = Station.objects.create(
        operator=viettel,
        code=HOSTILE,
        name=HOSTILE,
        address=HOSTILE,
        structure_type="monopole",
        structure_height_m=Decimal("30"),
        land_category="public_land",
        status=Station.Status.OPERATING,
        technologies=["4G"],
        location=BA_DINH,
        commune=commune,
    )
    application = station_services.save_draft(
        mobifone,
        application_type=ApplicationType.objects.get(code="public_station"),
        station_code="MF-XSS-1",
        station_name=HOSTILE,
        address="Số 1 Phố Thử",
        location=NEAR,
        structure_type="rooftop_mast",
        structure_height_m=Decimal("6"),
        building_height_m=Decimal("24"),
        technologies=["4G"],
        land_category="public_building",
    )
    asset = sharing_services.save_asset(
        official,
        code="T-XSS",
        name=HOSTILE,
        kind="tower",
        owner=viettel,
        geometry=NEAR,
        commune=commune,
        capacity=3,
    )
    project = cable_services.save_project(
        official,
        code="P-XSS",
        year=2026,
        name=HOSTILE,
        lead_agency=Organization.objects.get(code="SO_KHCN_HN"),
    )
    segment = cable_services.save_segment(
        official,
        project,
        name=HOSTILE,
        route=LineString((105.8340, 21.0355), (105.8352, 21.0366), srid=4326),
        method="new_duct_bank",
    )
    return {
        "official": official,
        "mobifone": mobifone,
        "station": station,
        "application": application,
        "asset": asset,
        "segment": segment,
    }


@pytest.fixture
def watched(page):
    """The page with CSP violations and console errors collected."""
    page.add_init_script(WATCH_CSP)
    page.console_errors = []
    page.on(
        "console",
        lambda m: m.type == "error" and page.console_errors.append(m.text),
    )
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    page.on(
        "response",
        lambda r: r.status >= 400 and page.console_errors.append(f"{r.status} {r.url}"),
    )
    return page


def no_xss(page):
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__csp") == []
    assert (
        page.locator(".leaflet-pane img[src=x], .leaflet-popup img, .leaflet-tooltip img").count()
        == 0
    )


def wait_features(page, map_id, n):
    """The map drew ``n`` features (a locator assertion: the CSP refuses wait_for_function)."""
    expect(page.locator(f"#{map_id}")).to_have_attribute("data-features", str(n))


def test_an_operators_markup_is_text_on_another_operators_maps(watched, hostile):
    page = watched
    browser_login(page, hostile["mobifone"].username)
    page.wait_for_url("**/")

    # The application page: the draft's own marker and the Viettel candidate beside it.
    page.goto(f"/stations/applications/{hostile['application'].pk}/")
    wait_features(page, "application-map", 2)
    page.locator("#application-map .map-dot.candidate").hover()
    tooltip = page.locator(".leaflet-tooltip", has_text="· ")
    tooltip.wait_for()
    assert tooltip.inner_text().startswith(HOSTILE + " · ")
    page.locator("#application-map .leaflet-marker-icon:not(.leaflet-div-icon)").first.hover()
    page.locator(".leaflet-tooltip", has_text=HOSTILE).first.wait_for()
    no_xss(page)

    # The sharing map: the tower's popup.
    page.goto("/sharing/assets/map/")
    wait_features(page, "assets-map", 1)
    page.locator("[data-testid=asset-marker][data-code='T-XSS']").click()
    popup = page.get_by_test_id("asset-popup")
    popup.wait_for()
    assert HOSTILE in popup.inner_text()
    no_xss(page)
    assert page.console_errors == []


def test_an_official_sees_the_markup_as_text_on_the_station_and_cable_maps(watched, hostile):
    page = watched
    browser_login(page, hostile["official"].username)
    page.wait_for_url("**/")

    page.goto("/stations/map/")
    wait_features(page, "stations-map", 1)
    page.locator("#stations-map .map-dot.station").click()
    popup = page.get_by_test_id("station-popup")
    popup.wait_for()
    assert popup.inner_text().startswith(HOSTILE + "\n" + HOSTILE)
    no_xss(page)

    page.goto(f"/stations/{hostile['station'].public_id}/")
    wait_features(page, "station-map", 1)
    page.locator("#station-map .leaflet-marker-icon").first.hover()
    page.locator(".leaflet-tooltip", has_text=HOSTILE).first.wait_for()
    no_xss(page)

    page.goto("/cables/map/")
    wait_features(page, "segments-map", 1)
    page.locator("#segments-map path.leaflet-interactive").first.click(force=True)
    popup = page.get_by_test_id("segment-popup")
    popup.wait_for()
    assert popup.inner_text().startswith(HOSTILE)
    no_xss(page)
    assert page.console_errors == []


MAIN_PAGES = [
    "/",
    "/stations/",
    "/stations/map/",
    "/stations/sites/",
    "/stations/new/",
    "/sharing/assets/map/",
    "/sharing/assets/new/",
    "/cables/map/",
    "/cables/notices/",
    "/units/",
    "/units/00004/",
    "/agreements/",
    "/spam/",
    "/reports/",
    "/api/docs/",
]


@pytest.mark.parametrize("who", ["official", "mobifone"])
def test_main_pages_run_under_the_csp_without_violations(watched, hostile, who):
    page = watched
    browser_login(page, hostile[who].username)
    page.wait_for_url("**/")
    pages = [*MAIN_PAGES, f"/stations/applications/{hostile['application'].pk}/"]
    if who == "official":
        pages.append(f"/cables/projects/{hostile['segment'].project_id}/")
    problems = []
    for url in pages:
        response = page.goto(url)
        if response.status != 200:  # a page this role may not see (the reports for operators)
            page.console_errors.clear()
            continue
        page.wait_for_load_state("load")
        page.wait_for_timeout(150)  # maps start on "load" and fetch their GeoJSON
        csp = page.evaluate("window.__csp")
        if csp or page.console_errors:
            problems.append(f"{url}: CSP {csp} console {page.console_errors}")
        page.console_errors.clear()
        assert page.evaluate("typeof window.__xss") == "undefined", url
    assert not problems, "\n".join(problems)


def test_the_violation_watch_can_fail(watched, hostile):
    """An inline script on a page under our CSP is refused and reported by the watch."""
    page = watched
    browser_login(page, hostile["mobifone"].username)
    page.wait_for_url("**/")
    page.goto("/stations/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
        " document.body.appendChild(s); }"
    )
    for _ in range(50):
        if page.evaluate("window.__csp.length"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("typeof window.__ran") == "undefined"
    assert page.evaluate("window.__csp")[0].startswith("script-src")
