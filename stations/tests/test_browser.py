"""Journeys 1 and 2 (../shared/JOURNEYS.md) in headless Chromium against the live server.

Elements are found by test ids and URLs, not by their (translated) text.
"""

import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.gis.geos import Point
from playwright.sync_api import expect

from conftest import browser_login, browser_logout
from core.models import AdministrativeUnit, Organization
from stations import services
from stations.models import ApplicationType, DocumentType, PermitApplication, PublicSite, Station
from stations.tests.conftest import JPEG_BYTES, PDF_BYTES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The roof of Phường Cầu Giấy's ward office, and what stands around it.
WARD_OFFICE = Point(105.7902, 21.0300, srid=4326)
MOBIFONE_MAST = Point(105.7912, 21.0302, srid=4326)  # ~106 m away
VNPT_MAST = Point(105.7900, 21.0313, srid=4326)  # ~146 m away
ELSEWHERE = Point(105.8345, 21.0360, srid=4326)  # Phường Ba Đình


@pytest.fixture
def permit_types(reference_data, settings, tmp_path):
    """Document and application types (a transactional test empties the tables they live in)."""
    settings.MEDIA_ROOT = tmp_path
    if not ApplicationType.objects.exists() or not DocumentType.objects.exists():
        migration = importlib.import_module("stations.migrations.0002_reference_types")
        migration.forwards(apps, None)


@pytest.fixture
def cau_giay(permit_types, needs_shared_data):
    """An available public site in Cầu Giấy, another in Ba Đình, MobiFone and VNPT masts nearby."""
    cg = AdministrativeUnit.objects.get(code="00166")
    owner = Organization.objects.get(code="UBND_HN")
    site = PublicSite.objects.create(
        name="Trụ sở UBND phường Cầu Giấy",
        owner=owner,
        address="Số 1 Phố Thử, Phường Cầu Giấy",
        commune=cg,
        land_category="public_building",
        location=WARD_OFFICE,
        building_height_m=Decimal("24"),
        capacity=1,
    )
    PublicSite.objects.create(
        name="Trụ sở UBND phường Ba Đình",
        owner=owner,
        address="Phường Ba Đình",
        commune=AdministrativeUnit.objects.get(code="00004"),
        land_category="public_building",
        location=ELSEWHERE,
        building_height_m=Decimal("20"),
    )
    for code, operator, point in (
        ("MF-CG-01", "MOBIFONE", MOBIFONE_MAST),
        ("VNPT-CG-01", "VNPT", VNPT_MAST),
    ):
        Station.objects.create(
            operator=Organization.objects.get(code=operator),
            code=code,
            name=f"Trạm {code}",
            commune=cg,
            location=point,
            structure_type="monopole",
            structure_height_m=Decimal("21"),
            land_category="private",
            status=Station.Status.OPERATING,
            technologies=["4G"],
        )
    return site


@pytest.fixture
def js_errors(page):
    """Uncaught JavaScript errors on any page of the test (none expected)."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def logout(page):
    browser_logout(page)
    page.wait_for_url("**/login/**")


def test_journey_1_an_operator_applies_on_a_public_site(page, role_user, cau_giay, js_errors):
    lan = role_user("operator_viettel")
    browser_login(page, lan.username)
    page.wait_for_url("**/")

    # The map of public sites, filtered to Phường Cầu Giấy: one available site.
    page.get_by_test_id("nav-stations-menu").click()
    page.get_by_test_id("nav-sites").click()
    page.wait_for_selector("[data-testid=site-marker]")
    page.select_option("#id_commune", "00166")
    page.get_by_test_id("filter-submit").click()
    page.wait_for_url("**commune=00166**")
    marker = page.locator("[data-testid=site-marker][data-status=available]")
    marker.wait_for()
    assert page.locator("[data-testid=site-marker]").count() == 1

    # Its popup starts an application that already knows the site, the commune and the owner.
    marker.click()
    page.get_by_test_id("site-popup").wait_for()
    page.get_by_test_id("apply-here").click()
    page.wait_for_url("**/stations/applications/new/?site=*")
    assert page.get_by_test_id("site-owner").inner_text() == cau_giay.owner.name
    assert page.input_value("#id_public_site") == str(cau_giay.pk)
    assert page.input_value("#id_commune") == str(cau_giay.commune_id)
    assert page.input_value("#id_building_height_m").startswith("24")
    assert float(page.input_value("#id_lon")) == pytest.approx(WARD_OFFICE.x)

    # A 6 m rooftop mast on the 24 m building is not "non-bulky" (over 3 m).
    page.fill("#id_station_code", "VT-CG-NEW")
    page.fill("#id_station_name", "Viettel Cầu Giấy mái UBND")
    page.select_option("#id_structure_type", "rooftop_mast")
    page.fill("#id_structure_height_m", "6")
    hint = page.locator("[data-testid=non-bulky-hint][data-non-bulky=no]")
    hint.wait_for()
    assert "3 m" in hint.inner_text()
    page.check("#id_technologies_2")  # 4G
    page.get_by_test_id("save").click()
    page.wait_for_url(re.compile(r".*/stations/applications/\d+/$"))
    app = PermitApplication.objects.get(station_code="VT-CG-NEW")
    assert app.public_site_id == cau_giay.pk and app.status == "draft"

    # The drawings as a PDF are accepted; a JPEG renamed .pdf is refused with a clear message.
    drawings = DocumentType.objects.get(code="drawings")
    land_use = DocumentType.objects.get(code="land_use")
    page.select_option("#id_doc-document_type", str(drawings.pk))
    page.set_input_files(
        "#id_doc-file",
        {"name": "ban-ve.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES},
    )
    page.get_by_test_id("upload").click()
    page.locator("[data-doc=drawings][data-done=yes]").wait_for()
    page.select_option("#id_doc-document_type", str(land_use.pk))
    page.set_input_files(
        "#id_doc-file",
        {"name": "thoa-thuan.pdf", "mimeType": "application/pdf", "buffer": JPEG_BYTES},
    )
    page.get_by_test_id("upload").click()
    error = page.get_by_test_id("error-file")
    error.wait_for()
    assert "thoa-thuan.pdf" in error.inner_text() and "JPEG" in error.inner_text()
    assert page.locator("[data-doc=land_use]").get_attribute("data-done") == "no"

    # Submitting without a reason is refused: MobiFone and VNPT structures stand within 200 m.
    colocation = page.get_by_test_id("colocation").inner_text()
    assert "MF-CG-01" in colocation and "VNPT-CG-01" in colocation
    page.get_by_test_id("do-submit").click()
    page.get_by_test_id("error-sharing_justification").wait_for()
    assert "200" in page.get_by_test_id("error-sharing_justification").inner_text()
    assert PermitApplication.objects.get(pk=app.pk).status == "draft"

    page.fill("#id_submit-sharing_justification", "Cột MobiFone không đủ tải cho ăng ten 5G.")
    page.get_by_test_id("do-submit").click()
    page.locator("[data-testid=application-status][data-status=submitted]").wait_for()
    app.refresh_from_db()
    assert page.get_by_test_id("application-number").inner_text() == app.number
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", page.get_by_test_id("decision-due").inner_text())
    assert page.get_by_test_id("days-left").inner_text() == str(app.application_type.decision_days)
    assert page.locator("[data-testid=checklist] li").count() == 5
    assert [c["code"] for c in app.colocation_candidates] == ["MF-CG-01", "VNPT-CG-01"]
    assert js_errors == []


def test_journey_2_an_official_decides_on_time(page, role_user, cau_giay, js_errors):
    lan, minh = role_user("operator_viettel"), role_user("city_official")
    draft = services.save_draft(
        lan,
        application_type=ApplicationType.objects.get(code="public_station"),
        public_site=cau_giay,
        station_code="VT-CG-NEW",
        station_name="Viettel Cầu Giấy mái UBND",
        structure_type="rooftop_mast",
        structure_height_m=Decimal("6"),
        technologies=["4G", "5G"],
    )
    app = services.submit(lan, draft, sharing_justification="Cột MobiFone đã đầy.")

    # Minh sees the queue, opens Lan's application (site, nearby structures, timeline, checklist).
    browser_login(page, minh.username)
    page.wait_for_url("**/")
    page.get_by_test_id("nav-stations-menu").click()
    page.get_by_test_id("nav-applications").click()
    row = page.locator(f"[data-testid=application-row][data-number='{app.number}']")
    assert row.get_by_test_id("days-left").inner_text().strip() == "10"
    row.get_by_role("link", name=app.number).click()
    page.wait_for_url(f"**/stations/applications/{app.pk}/")
    assert page.get_by_test_id("application-site").inner_text() == cau_giay.name
    assert "MF-CG-01" in page.get_by_test_id("colocation").inner_text()
    # the site and the two masts (a locator assertion: the CSP refuses wait_for_function's eval)
    expect(page.locator("#application-map")).to_have_attribute("data-features", "3")

    # One document is missing: he returns it with a note; the clock stops.
    page.fill("#id_return-note", "Thiếu báo cáo an toàn kết cấu.")
    page.get_by_test_id("do-return").click()
    page.locator("[data-testid=application-status][data-status=returned]").wait_for()
    assert "Thiếu báo cáo an toàn kết cấu." in page.get_by_test_id("timeline").inner_text()
    logout(page)

    # Lan gets a notification, opens it, uploads the report and resubmits.
    browser_login(page, lan.username)
    page.wait_for_url("**/")
    assert page.get_by_test_id("unread-badge").inner_text() == "1"
    page.get_by_test_id("notifications-link").click()
    page.get_by_test_id("notification").first.get_by_role("link").click()
    page.wait_for_url(f"**/stations/applications/{app.pk}/")
    page.select_option("#id_doc-document_type", str(DocumentType.objects.get(code="structural").pk))
    page.set_input_files(
        "#id_doc-file",
        {"name": "ket-cau.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES},
    )
    page.get_by_test_id("upload").click()
    page.locator("[data-doc=structural][data-done=yes]").wait_for()
    page.get_by_test_id("do-resubmit").click()
    page.locator("[data-testid=application-status][data-status=resubmitted]").wait_for()
    logout(page)

    # Minh accepts it and approves it with a decision number.
    browser_login(page, minh.username)
    page.wait_for_url("**/")
    page.goto(f"/stations/applications/{app.pk}/")
    page.get_by_test_id("do-accept").click()
    page.locator("[data-testid=application-status][data-status=under_review]").wait_for()
    page.fill("#id_approve-decision_number", "125/QĐ-SKHCN")
    page.get_by_test_id("do-approve").click()
    page.locator("[data-testid=application-status][data-status=approved]").wait_for()
    assert page.get_by_test_id("decision-number").inner_text() == "125/QĐ-SKHCN"

    # The station is in the register as permitted; the site is occupied.
    page.get_by_test_id("nav-stations-menu").click()
    page.get_by_test_id("nav-stations").click()
    page.fill("#id_q", "VT-CG-NEW")
    page.get_by_test_id("filter-submit").click()
    row = page.locator("[data-testid=station-table] tr[data-code='VT-CG-NEW']")
    row.wait_for()
    assert "status-permitted" in row.get_by_test_id("status").get_attribute("class")
    page.goto(f"/stations/sites/{cau_giay.public_id}/")
    assert "status-occupied" in page.get_by_test_id("site-status").get_attribute("class")
    assert js_errors == []


def test_journey_10_another_systems_file_mapped_once_and_reused(
    page, make_user, needs_shared_data, js_errors, tmp_path
):
    """Tuấn at VNPT uploads VNPT's own export (other column names, month-first dates, UTF-16 from
    Excel), maps it once (saved as "VNPT OSS"), confirms the date order and sees the result; next
    month's file is read with the same mapping by itself."""
    from stations.tests.test_import_file import OSS_HEADER, OSS_ROWS, utf16_tabs

    tuan = make_user("operator_staff", "VNPT")
    bad = ["HN-0003", "Trạm lạ", "VNPT", "2.35", "48.85", "Monopole", "30", "Public land", "", ""]
    first = tmp_path / "vnpt-oss-11.txt"
    first.write_bytes(utf16_tabs([OSS_HEADER, *OSS_ROWS, bad]))
    browser_login(page, tuan.username)
    page.wait_for_url("**/")
    page.goto("/stations/import/")
    page.set_input_files("input[name=file]", str(first))
    page.select_option("select[name=mode]", "partial")
    page.get_by_test_id("import-submit").click()
    page.wait_for_url("**/mapping/")
    expect(page.get_by_test_id("mapping-missing")).to_contain_text("operator")
    assert page.locator("select[name=column-0]").input_value() == "code"  # "Site ID"
    assert page.locator("select[name=column-5]").input_value() == "structure_type"  # "Tower"
    page.select_option("select[name=column-2]", "operator")  # "Net"
    page.get_by_test_id("mapping-submit").click()
    # The dates are month first (8/13/2024): the step asks instead of guessing.
    expect(page.get_by_test_id("mapping-date-problem")).to_contain_text("8/13/2024")
    page.select_option("select[name=column-2]", "operator")
    page.select_option("select[name=date_order]", "mdy")
    page.fill("input[name=save_as]", "VNPT OSS")
    page.get_by_test_id("mapping-submit").click()
    page.wait_for_url(re.compile(r".*/imports/[0-9a-f-]+/$"))
    expect(page.get_by_test_id("import-status")).to_have_text("Hoàn thành")
    expect(page.get_by_test_id("import-created")).to_have_text("2")
    expect(page.get_by_test_id("import-refused")).to_have_text("1")
    expect(page.get_by_test_id("import-error")).to_contain_text("2.35")
    expect(page.get_by_test_id("import-notices")).to_contain_text("Vendor")
    assert str(Station.objects.get(code="HN-0001").commissioned_on) == "2024-08-13"

    following = tmp_path / "vnpt-oss-12.txt"
    row = [OSS_ROWS[1][0], "Trạm Đống Đa (mới)", *OSS_ROWS[1][2:]]
    following.write_bytes(utf16_tabs([OSS_HEADER, row]))
    page.goto("/stations/import/")
    page.set_input_files("input[name=file]", str(following))
    page.get_by_test_id("import-submit").click()
    page.wait_for_url("**/stations/")
    expect(page.locator("body")).to_contain_text("VNPT OSS")
    assert Station.objects.get(code="HN-0002").name == "Trạm Đống Đa (mới)"
    assert str(Station.objects.get(code="HN-0002").commissioned_on) == "2024-09-08"
    assert js_errors == []
