"""Journey 4 (../shared/JOURNEYS.md) in headless Chromium against the live server: a street's cables
go underground. Elements are found by test ids and URLs, not by their (translated) text. Drawing the
routes on the map is replaced by the WKT/GeoJSON field next to it."""

import base64
import datetime
import re

import pytest
from django.utils import timezone

from cables.models import CableProject, CableSegment, CivilWorksNotice, ProgressUpdate
from conftest import browser_login, browser_logout
from core.models import Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEGMENTS = [
    ("Kim Mã: Liễu Giai – Núi Trúc", "LINESTRING(105.8150 21.0320, 105.8200 21.0318)", "VNPT"),
    (
        "Kim Mã: Núi Trúc – Giang Văn Minh",
        "LINESTRING(105.8200 21.0318, 105.8250 21.0314)",
        "VIETTEL",
    ),
    (
        "Kim Mã: Giang Văn Minh – Nguyễn Thái Học",
        "LINESTRING(105.8250 21.0314, 105.8300 21.0310)",
        "VIETTEL",
    ),
]
NGUYEN_TRAI = "LINESTRING(105.8120 20.9990, 105.8050 20.9930)"
# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def js_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def login(page, user):
    browser_login(page, user.username)
    page.wait_for_url(re.compile(r".*/$"))


def logout(page):
    browser_logout(page)
    page.wait_for_url("**/login/**")


def record_progress(page, project, segment, duct, cable, overhead):
    page.goto(f"/cables/projects/{project.pk}/")
    page.get_by_test_id("record-progress").click()
    form = page.get_by_test_id("progress-form")
    form.locator("#id_progress-segment").select_option(str(segment.pk))
    # The date picker opens on today (an ISO value: a dd/mm/yyyy one left it empty and the first
    # submit failed, losing the photo).
    assert (
        form.locator("#id_progress-reported_on").input_value() == timezone.localdate().isoformat()
    )
    form.locator("#id_progress-duct_built_m").fill(str(duct))
    form.locator("#id_progress-cable_pulled_m").fill(str(cable))
    form.locator("#id_progress-overhead_removed_m").fill(str(overhead))
    form.locator("#id_progress-poles_removed").fill("2")
    form.locator("#id_progress-photos").set_input_files(
        [{"name": "kim-ma.png", "mimeType": "image/png", "buffer": PNG}]
    )
    form.get_by_test_id("save-progress").click()
    page.wait_for_url(re.compile(r".*#timeline$"))


def test_journey_4_a_streets_cables_go_underground(
    page, role_user, make_user, js_errors, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    minh = role_user("city_official")
    viettel_staff = role_user("operator_viettel")
    vnpt_staff = make_user("operator_staff", "VNPT")
    vnpt, viettel = Organization.objects.get(code="VNPT"), Organization.objects.get(code="VIETTEL")

    # The lead agency (an official of the Sở) creates the project with VNPT and Viettel.
    login(page, minh)
    page.get_by_test_id("nav-cables").click()
    page.get_by_test_id("nav-cables-projects").click()
    page.get_by_test_id("project-create").click()
    form = page.get_by_test_id("project-form")
    form.locator("#id_code").fill("KM-2026")
    form.locator("#id_name").fill("Hạ ngầm cáp phố Kim Mã 2026")
    form.locator("#id_year").fill("2026")
    form.locator("#id_lead_agency").select_option(
        str(Organization.objects.get(code="SO_KHCN_HN").pk)
    )
    form.locator("#id_status").select_option("in_construction")
    form.locator("#id_streets").fill("Kim Mã")
    for org in (vnpt, viettel):
        form.locator(f"input[name=participants][value='{org.pk}']").check()
    form.get_by_test_id("save").click()
    page.get_by_test_id("project-code").wait_for()
    project = CableProject.objects.get(code="KM-2026")
    assert set(project.participants.values_list("code", flat=True)) == {"VNPT", "VIETTEL"}

    # Three segments; their lengths appear by themselves.
    for index, (name, wkt, operator) in enumerate(SEGMENTS):
        page.get_by_test_id("add-segment").click()
        seg_form = page.get_by_test_id("segment-form")
        if index == 0:  # the map's tools speak Vietnamese (Leaflet.draw and the zoom buttons)
            draw_line = page.locator(".leaflet-draw-draw-polyline")
            draw_line.wait_for()
            assert draw_line.get_attribute("title") == "Vẽ tuyến"
            assert (
                page.locator(".leaflet-control-zoom-in").first.get_attribute("title") == "Phóng to"
            )
        seg_form.locator("#id_segment-name").fill(name)
        seg_form.locator("#id_segment-method").select_option("new_duct_bank")
        seg_form.locator("#id_segment-operator").select_option(
            str(Organization.objects.get(code=operator).pk)
        )
        seg_form.locator("#id_segment-route_text").fill(wkt)
        seg_form.get_by_test_id("save-segment").click()
        page.wait_for_url(re.compile(r".*#segments$"))
    rows = page.get_by_test_id("segment-row")
    assert rows.count() == 3
    for i in range(3):
        assert int(rows.nth(i).get_attribute("data-length")) > 400
    assert float(page.get_by_test_id("project-progress").get_attribute("data-km-planned")) > 1.4
    page.locator("#project-map[data-features='3']").wait_for()
    logout(page)

    # VNPT and Viettel each post progress for their own segments, with a photo.
    segments = {s.name: s for s in CableSegment.objects.filter(project=project)}
    login(page, vnpt_staff)
    record_progress(page, project, segments[SEGMENTS[0][0]], 300, 200, 100)
    logout(page)
    login(page, viettel_staff)
    record_progress(page, project, segments[SEGMENTS[1][0]], 500, 250, 0)
    assert ProgressUpdate.objects.filter(segment__project=project).count() == 2
    assert page.get_by_test_id("update-row").count() == 2
    assert page.get_by_test_id("photo-link").count() == 2

    # The project page shows progress bars in km and %.
    bar = page.get_by_test_id("project-progress").get_by_test_id("bar-duct")
    assert bar.get_attribute("data-km") == "0.800"
    total_m = sum(s.length_m for s in segments.values())
    assert int(bar.get_attribute("data-pct")) == round(100 * 800 / total_m)
    assert "%" in page.get_by_test_id("project-progress").get_by_test_id("pct-duct").inner_text()
    assert page.get_by_test_id("by-operator").get_by_test_id("operator-row").count() == 2

    # The city map loads the segments, coloured by progress.
    page.get_by_test_id("nav-cables").click()
    page.get_by_test_id("nav-cables-map").click()
    page.locator("#segments-map[data-features='3']").wait_for()
    logout(page)

    # A civil-works notice for Nguyễn Trãi, with a registration deadline.
    login(page, minh)
    page.goto("/cables/notices/")
    page.get_by_test_id("notice-create").click()
    form = page.get_by_test_id("notice-form")
    today = timezone.localdate()
    form.locator("#id_title").fill("Cải tạo hè phố Nguyễn Trãi")
    form.locator("#id_owner").select_option(str(Organization.objects.get(code="UBND_HN").pk))
    form.locator("#id_effective_from").fill((today + datetime.timedelta(days=30)).isoformat())
    form.locator("#id_effective_to").fill((today + datetime.timedelta(days=90)).isoformat())
    form.locator("#id_registration_deadline").fill(
        (today + datetime.timedelta(days=14)).isoformat()
    )
    form.locator("#id_route_text").fill(NGUYEN_TRAI)
    form.get_by_test_id("save").click()
    page.get_by_test_id("notice-title").wait_for()
    notice = CivilWorksNotice.objects.get()
    logout(page)

    # Two operators register to lay ducts in the same trench.
    for user in (viettel_staff, vnpt_staff):
        login(page, user)
        page.goto("/cables/notices/")
        page.locator(f"[data-testid=notice-row][data-pk='{notice.pk}'] a").click()
        register = page.get_by_test_id("register-form")
        register.locator("#id_reg-need").select_option("duct")
        register.locator("#id_reg-bores").fill("2")
        register.get_by_test_id("register").click()
        page.wait_for_url(re.compile(r".*#registrations$"))
        page.get_by_test_id("already-registered").wait_for()
        logout(page)
    assert set(notice.registrations.values_list("operator__code", flat=True)) == {
        "VIETTEL",
        "VNPT",
    }
    login(page, minh)
    page.goto(f"/cables/notices/{notice.pk}/")
    assert page.get_by_test_id("registration-row").count() == 2
    assert js_errors == []
