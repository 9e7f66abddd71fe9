"""The owner states the tenancy's terms on the request page (accept, counter-offer) in headless
Chromium, on a desktop and on a phone; the tenancy takes exactly them (issue 15).

``SCREENSHOT_DIR=/some/dir`` keeps a screenshot of each form as it is filled in."""

import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from conftest import browser_login, browser_logout
from core.models import AdministrativeUnit, Organization
from sharing import services
from sharing.models import SharingRequest, Tenancy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BA_DINH = Point(105.8345, 21.0360, srid=4326)
NEEDS = "Lắp 2 ăng-ten 5G ở độ cao 30 m, dùng chung nguồn điện của trạm."
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


def shot(page, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def parties(role_user):
    official = role_user("city_official")
    tower = services.save_asset(
        official,
        code="T-0231",
        name="Cột Viettel Ba Đình",
        kind="tower",
        owner=Organization.objects.get(code="VIETTEL"),
        geometry=BA_DINH,
        commune=AdministrativeUnit.objects.get(code="00004"),
        capacity=4,
    )
    mobifone = role_user("operator_mobifone")
    req = services.create_request(mobifone, asset=tower, units=2, needs=NEEDS)
    return {"viettel": role_user("operator_viettel"), "mobifone": mobifone, "req": req}


def open_request(page, user, req):
    browser_login(page, user.username)
    page.wait_for_url("**/")
    page.goto(f"/sharing/requests/{req.pk}/")


def test_a_counter_offer_states_the_terms_and_accepting_it_grants_them(page, parties):
    page.set_viewport_size(DESKTOP)
    req = parties["req"]
    open_request(page, parties["viettel"], req)
    form = page.get_by_test_id("action-counter")
    form.locator("#id_counter-units").fill("1")
    form.locator("#id_counter-location").fill("Tầng ăng-ten 2, hướng Đông")
    form.locator("#id_counter-contract_number").fill("HĐ-DC-2026/017")
    form.locator("#id_counter-start_date").fill("2026-07-01")
    form.locator("#id_counter-end_date").fill("2029-06-30")
    form.locator("#id_counter-terms").fill("Giá thuê 12 triệu đồng/năm theo khung giá 2026.")
    shot(page, "counter-offer-form-1366")
    page.get_by_test_id("do-counter").click()
    page.wait_for_selector("[data-testid=request-status][data-status=countered]")
    assert page.get_by_test_id("counter-location").inner_text() == "Tầng ăng-ten 2, hướng Đông"
    assert page.get_by_test_id("counter-end-date").inner_text() == "30/06/2029"
    browser_logout(page)

    open_request(page, parties["mobifone"], req)
    assert page.get_by_test_id("counter-contract-number").inner_text() == "HĐ-DC-2026/017"
    page.get_by_test_id("do-accept_counter").click()
    page.wait_for_selector("[data-testid=request-status][data-status=accepted]")
    assert page.get_by_test_id("tenancy-location").inner_text() == "Tầng ăng-ten 2, hướng Đông"
    tenancy = Tenancy.objects.get(request=req)
    assert (tenancy.units, tenancy.occupies, tenancy.terms_reference) == (
        1,
        "Tầng ăng-ten 2, hướng Đông",
        "HĐ-DC-2026/017",
    )
    assert (tenancy.since.isoformat(), tenancy.until.isoformat()) == ("2026-07-01", "2029-06-30")


def test_the_owner_accepts_on_a_phone_and_a_bad_end_date_is_shown_on_its_field(page, parties):
    page.set_viewport_size(PHONE)
    req = parties["req"]
    open_request(page, parties["viettel"], req)
    form = page.get_by_test_id("action-accept")
    # Accepting starts today unless the owner says otherwise.
    assert form.locator("#id_accept-start_date").input_value() == timezone.localdate().isoformat()
    form.locator("#id_accept-location").fill("Tầng ăng-ten 3, hướng Tây")
    form.locator("#id_accept-contract_number").fill("HĐ-DC-2026/018")
    form.locator("#id_accept-start_date").fill("2026-07-01")
    form.locator("#id_accept-end_date").fill("2026-06-30")
    shot(page, "accept-form-390")
    page.get_by_test_id("do-accept").click()
    form = page.get_by_test_id("action-accept")
    form.get_by_test_id("error-end_date").wait_for()
    shot(page, "accept-form-error-390")
    assert SharingRequest.objects.get(pk=req.pk).status == "submitted"
    assert not Tenancy.objects.filter(request=req).exists()
    # The owner's other entries are kept; only the end date is corrected.
    assert form.locator("#id_accept-location").input_value() == "Tầng ăng-ten 3, hướng Tây"
    form.locator("#id_accept-end_date").fill("2029-06-30")
    page.get_by_test_id("do-accept").click()
    page.wait_for_selector("[data-testid=request-status][data-status=accepted]")
    assert page.get_by_test_id("tenancy-location").inner_text() == "Tầng ăng-ten 3, hướng Tây"
    assert page.get_by_test_id("tenancy-contract-number").inner_text() == "HĐ-DC-2026/018"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width} px)"
