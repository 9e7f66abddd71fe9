"""Journey 3 (../shared/JOURNEYS.md) in headless Chromium against the live server: operators share a
tower, or fight about it. Elements are found by test ids and URLs, not by their (translated) text."""

import datetime
import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from conftest import browser_login, browser_logout
from core.models import AdministrativeUnit, Organization
from sharing import services
from sharing.models import InfrastructureAsset, SharingRequest, Tenancy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEAR_BA_DINH = Point(105.8355, 21.0365, srid=4326)


@pytest.fixture
def js_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def logout(page):
    browser_logout(page)
    page.wait_for_url("**/login/**")


@pytest.fixture
def towers(role_user, settings, tmp_path):
    """Viettel's tower T-0231 (3 antenna slots, Viettel uses 1: 2 free) and T-0500 (1 of 2 used)."""
    settings.MEDIA_ROOT = tmp_path
    official = role_user("city_official")
    viettel = Organization.objects.get(code="VIETTEL")
    commune = AdministrativeUnit.objects.get(code="00004")
    made = {}
    for code, capacity, point in (("T-0231", 3, BA_DINH), ("T-0500", 2, NEAR_BA_DINH)):
        asset = services.save_asset(
            official,
            code=code,
            name=f"Cột Viettel {code}",
            kind="tower",
            owner=viettel,
            geometry=point,
            commune=commune,
            capacity=capacity,
        )
        services.create_tenancy(official, asset, viettel, 1, occupies="Ăng ten Viettel")
        made[code] = asset
    return made


def open_request(page, number):
    page.goto("/sharing/requests/")
    row = page.locator(f"[data-testid=request-row][data-number='{number}']")
    row.get_by_role("link", name=number).click()
    page.get_by_test_id("request-status").wait_for()


def status_is(page, status):
    page.locator(f"[data-testid=request-status][data-status={status}]").wait_for()


def test_journey_3_operators_share_a_tower_or_fight_about_it(page, role_user, towers, js_errors):
    huy, lan, minh = (
        role_user("operator_mobifone"),
        role_user("operator_viettel"),
        role_user("city_official"),
    )
    tower = towers["T-0231"]

    # Huy (MobiFone) finds T-0231 in the register: 2 slots free. He asks to share it.
    browser_login(page, huy.username)
    page.wait_for_url("**/")
    page.goto("/sharing/assets/?q=T-0231")
    row = page.locator("[data-testid=asset-row][data-code='T-0231']")
    assert row.get_by_test_id("free").inner_text() == "2"
    row.get_by_role("link", name="T-0231").click()
    page.wait_for_url(f"**/sharing/assets/{tower.public_id}/")
    assert page.get_by_test_id("free-capacity").inner_text() == "2"
    page.get_by_test_id("ask-to-share").click()
    page.wait_for_url("**/sharing/requests/new/?asset=*")
    page.fill("#id_units", "2")
    page.fill("#id_needs", "Hai ăng ten 5G ở độ cao 30 m")
    page.get_by_test_id("send-request").click()
    page.wait_for_url(re.compile(r".*/sharing/requests/\d+/$"))
    status_is(page, "submitted")
    first = SharingRequest.objects.get(asset=tower)
    assert page.get_by_test_id("request-number").inner_text() == first.number
    logout(page)

    # Lan (Viettel) sees it in her inbox with its response deadline, and counter-offers one slot.
    browser_login(page, lan.username)
    page.wait_for_url("**/")
    page.get_by_test_id("nav-sharing").click()
    page.get_by_test_id("nav-sharing-requests").click()
    page.wait_for_url("**/sharing/requests/")
    page.get_by_test_id("box-received").click()
    row = page.locator(f"[data-testid=request-row][data-number='{first.number}']")
    assert row.get_by_test_id("response-due").inner_text() == first.response_due.strftime(
        "%d/%m/%Y"
    )
    row.get_by_role("link", name=first.number).click()
    status_is(page, "submitted")
    page.fill("#id_counter-units", "1")
    page.fill("#id_counter-terms", "Một vị trí ăng ten, giá theo khung 2026")
    page.get_by_test_id("do-counter").click()
    status_is(page, "countered")
    assert page.get_by_test_id("counter-offer").inner_text().startswith("1")
    logout(page)

    # Huy accepts: a tenancy is created and the tower's free capacity drops by one.
    browser_login(page, huy.username)
    page.wait_for_url("**/")
    open_request(page, first.number)
    page.get_by_test_id("do-accept_counter").click()
    status_is(page, "accepted")
    page.get_by_test_id("request-asset").click()
    page.wait_for_url(f"**/sharing/assets/{tower.public_id}/")
    assert page.get_by_test_id("free-capacity").inner_text() == "1"
    tenancy = page.locator("[data-testid=tenancy-row][data-operator=MOBIFONE]")
    assert tenancy.get_by_test_id("tenancy-units").inner_text() == "1"
    assert Tenancy.objects.get(operator__code="MOBIFONE").asset_id == tower.pk

    # A second request goes unanswered past its deadline: it turns overdue; Huy escalates.
    second = services.create_request(huy, asset=towers["T-0500"], units=1, needs="Một ăng ten 4G")
    assert (
        services.mark_overdue(today=second.response_due + datetime.timedelta(days=1)).overdue == 1
    )
    open_request(page, second.number)
    page.get_by_test_id("overdue-badge").wait_for()
    page.get_by_test_id("do-escalate").click()
    status_is(page, "disputed")
    logout(page)

    # Minh (official) sees the shared-site ratio, records a binding decision, and sees it move.
    browser_login(page, minh.username)
    page.wait_for_url("**/")
    page.goto("/sharing/")
    ratio = page.locator("[data-testid=ratio-commune] tr[data-key='00004'] [data-testid=ratio]")
    assert ratio.inner_text() == "50%"
    open_request(page, second.number)
    page.select_option("#id_decide-outcome", "share")
    page.fill("#id_decide-decision_number", "125/QĐ-SKHCN")
    page.get_by_test_id("do-decide").click()
    status_is(page, "decided")
    assert page.get_by_test_id("decision-number").inner_text() == "125/QĐ-SKHCN"
    page.goto("/sharing/")
    assert ratio.inner_text() == "100%"
    mobifone = page.locator(
        "[data-testid=ratio-operator] tr[data-key=MOBIFONE] [data-testid=ratio]"
    )
    assert mobifone.inner_text() == "100%"
    assert InfrastructureAsset.objects.get(code="T-0500").free_capacity == 0
    assert js_errors == []


def test_the_map_shows_free_assets_and_asks_from_a_popup(page, role_user, towers, js_errors):
    huy = role_user("operator_mobifone")
    browser_login(page, huy.username)
    page.wait_for_url("**/")
    page.goto("/sharing/assets/map/")
    # A locator assertion: the CSP refuses wait_for_function's eval.
    expect(page.locator("#assets-map")).to_have_attribute("data-features", "2")
    page.get_by_test_id("colour-free").check()
    marker = page.locator("[data-testid=asset-marker][data-code='T-0231']")
    marker.click()
    page.get_by_test_id("asset-popup").wait_for()
    page.get_by_test_id("ask-here").click()
    page.wait_for_url(f"**/sharing/requests/new/?asset={towers['T-0231'].public_id}")
    assert js_errors == []
