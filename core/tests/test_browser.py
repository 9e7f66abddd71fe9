"""Browser journeys in headless Chromium against the live server (no network beyond it)."""

import pytest

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_official_logs_in_and_sees_the_units_map(page, role_user, needs_shared_data):
    official = role_user("city_official")
    page.goto("/")
    assert "/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.get_by_role("button", name="Đăng nhập").is_visible()

    browser_login(page, official.username)
    page.wait_for_url("**/")
    assert official.username in page.get_by_test_id("current-user").inner_text()

    page.get_by_test_id("nav-reference").click()
    page.get_by_test_id("nav-units").click()
    page.wait_for_selector("#units-map .leaflet-interactive")
    assert page.locator("#units-map").get_attribute("data-features") == "126"
    assert page.locator("#units-map path.leaflet-interactive").count() == 126
    assert "126" in page.get_by_test_id("map-status").inner_text()


def test_wrong_password_shows_a_vietnamese_error(page, role_user):
    user = role_user("operator_viettel")
    browser_login(page, user.username, password="sai-mat-khau")
    assert page.get_by_role("alert").inner_text().startswith("Vui lòng nhập")


def test_filtering_the_map_to_one_ward(page, role_user, needs_shared_data):
    browser_login(page, role_user("operator_viettel").username)
    page.wait_for_url("**/")
    page.goto("/units/")
    page.fill("#id_q", "cau giay")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_selector("#units-map .leaflet-interactive")
    assert page.locator("#units-map").get_attribute("data-features") == "1"
    assert "Phường Cầu Giấy" in page.get_by_test_id("unit-table").inner_text()
