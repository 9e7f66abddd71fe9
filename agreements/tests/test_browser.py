"""Journey 6 in headless Chromium: a coordination programme is followed and renewed.

The 2020–2025 programme between the Sở TT&TT (today the Sở KH&CN) and the Cục Viễn thông is set up
through the services, with cable progress recorded through the cables app's services, so the
undergrounding task's progress is computed from live data. An official opens its overview, sees each
content area's bar and the overdue task at the top, creates the 2026–2030 successor from it and finds
the draft with the same content areas and the open tasks carried over.
"""

import datetime
import re

import pytest
from django.contrib.gis.geos import LineString
from django.utils import timezone

from agreements import services
from agreements.models import Agreement, Task
from cables import services as cable_services
from conftest import browser_login, browser_logout
from core import indicators
from core.models import Organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = datetime.date
AREAS = [
    "Xây dựng chính sách, góp ý văn bản quy phạm pháp luật, quy hoạch, hướng dẫn",
    "Tổ chức thực thi chính sách, pháp luật trên địa bàn thành phố",
    "Phối hợp thanh tra, kiểm tra, xử lý vi phạm",
    "Giải quyết khó khăn, vướng mắc phát sinh trong quản lý",
    "Chia sẻ thông tin, đào tạo, bồi dưỡng cán bộ",
]
# Two long routes across Hanoi, so the kilometres removed make a visible share of 300 km.
ROUTES = [
    LineString((105.70, 21.00), (105.98, 21.05), srid=4326),
    LineString((105.75, 21.10), (105.90, 20.95), srid=4326),
]


@pytest.fixture
def js_errors(page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def org(code):
    return Organization.objects.get(code=code)


def login(page, user):
    browser_login(page, user.username)
    page.wait_for_url(re.compile(r".*/$"))


def record_cable_work(official):
    """Overhead cable taken down on two long routes, recorded through the cables app."""
    project = cable_services.save_project(
        official,
        participants=[org("VIETTEL"), org("VNPT")],
        code="HN-NGAM-2024",
        name="Hạ ngầm cáp viễn thông 2024",
        lead_agency=org("SO_KHCN_HN"),
        year=2024,
    )
    for i, (route, operator) in enumerate(zip(ROUTES, ("VIETTEL", "VNPT"), strict=True)):
        segment = cable_services.save_segment(
            official,
            project,
            name=f"Tuyến {i + 1}",
            route=route,
            method="existing_duct",
            operator=org(operator),
        )
        cable_services.record_progress(
            official,
            segment,
            reported_on=timezone.localdate() - datetime.timedelta(days=10),
            overhead_removed_m=round(segment.length_m * 0.9),
            cable_pulled_m=round(segment.length_m * 0.9),
        )


def make_programme(official):
    agreement = services.save_agreement(
        official,
        parties=[
            {
                "organization": org("SO_TTTT_HN"),
                "role": "lead",
                "signatory": "Nguyễn Văn A",
                "signatory_title": "Giám đốc Sở TT&TT",
            },
            {
                "organization": org("CUC_VT"),
                "role": "party",
                "signatory": "Trần Văn B",
                "signatory_title": "Cục trưởng Cục Viễn thông",
            },
        ],
        code="CTPH-CVT-2020-2025",
        title="Chương trình phối hợp quản lý hạ tầng số 2020–2025",
        period_start=D(2020, 1, 1),
        period_end=D(2025, 12, 31),
    )
    services.bring_into_force(official, agreement, signed_on=D(2020, 3, 15))
    areas = [
        services.save_area(official, agreement, number=i, title=title)
        for i, title in enumerate(AREAS, start=1)
    ]
    services.save_task(
        official,
        area=areas[1],
        title="Hạ ngầm 300 tuyến phố",
        responsible=org("SO_TTTT_HN"),
        supporting=[org("CUC_VT")],
        indicator="cables.km_overhead_removed",
        baseline_value=0,
        target_value=300,
        target_date=D(2025, 12, 31),
    )
    guidance = services.save_task(
        official,
        area=areas[0],
        title="Góp ý dự thảo hướng dẫn dùng chung hạ tầng",
        responsible=org("CUC_VT"),
        due_date=D(2024, 6, 30),
    )
    services.set_task_status(official, guidance, "in_progress")  # past its due date: overdue
    done = services.save_task(
        official,
        area=areas[4],
        title="Tập huấn cán bộ quản lý viễn thông",
        responsible=org("CUC_VT"),
        due_date=D(2023, 11, 30),
    )
    services.set_task_status(official, done, "done")
    training = services.save_task(
        official,
        area=areas[4],
        title="Chia sẻ cơ sở dữ liệu trạm BTS",
        responsible=org("SO_TTTT_HN"),
        due_date=D(2025, 9, 30),
    )
    services.post_update(
        official,
        training,
        reported_on=D(2025, 3, 1),
        narrative="Đã chia sẻ dữ liệu quý I",
        percent=40,
        organization=org("CUC_VT"),
    )
    return agreement


def test_journey_6_a_coordination_programme_is_followed_and_renewed(
    page, role_user, js_errors, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    minh = role_user("city_official")
    record_cable_work(minh)
    programme = make_programme(minh)
    removed_km = indicators.get("cables.km_overhead_removed").value()
    expected_pct = round(float(removed_km) / 300 * 100)
    assert 5 <= expected_pct <= 20  # a visible share, computed from the cables data

    # Minh opens the programme from the list.
    login(page, minh)
    page.get_by_test_id("nav-agreements").click()
    page.get_by_test_id("nav-agreements-list").click()
    page.locator(
        f"[data-testid=agreement-row][data-code='{programme.code}'] [data-testid=agreement-link]"
    ).click()
    page.get_by_test_id("agreement-title").wait_for()
    assert page.get_by_test_id("agreement-status").get_attribute("data-status") == "in_force"
    parties = page.get_by_test_id("party-row")
    assert parties.count() == 2
    assert parties.first.get_by_test_id("party-successor").count() == 1  # now: the Sở KH&CN

    # Each content area has its progress bar.
    bars = page.get_by_test_id("area-bar")
    assert bars.count() == 5
    percents = {
        int(bars.nth(i).get_attribute("data-number")): int(bars.nth(i).get_attribute("data-pct"))
        for i in range(5)
    }
    assert percents[2] == expected_pct  # the undergrounding task alone
    assert percents[5] == 70  # a done task (100%) and one at 40% by its update
    assert percents[1] == 0  # the overdue task, with no update
    # The undergrounding task's progress is computed, not typed.
    row = page.locator("[data-testid=task-row][data-title='Hạ ngầm 300 tuyến phố']")
    assert int(row.get_by_test_id("task-bar").get_attribute("data-pct")) == expected_pct
    assert row.get_by_test_id("task-indicator").count() == 1

    # The overdue task is at the top, in red, above the content areas.
    overdue = page.get_by_test_id("overdue")
    assert overdue.get_by_test_id("overdue-task").count() == 1
    assert (
        overdue.get_by_test_id("overdue-task").get_attribute("data-title")
        == "Góp ý dự thảo hướng dẫn dùng chung hạ tầng"
    )
    assert overdue.bounding_box()["y"] < page.get_by_test_id("areas").bounding_box()["y"]
    assert "list-group-item-danger" in overdue.get_by_test_id("overdue-task").get_attribute("class")

    # The task page says where the figure comes from.
    row.locator("a").first.click()
    page.get_by_test_id("live-note").wait_for()
    assert page.get_by_test_id("task-progress").get_attribute("data-source") == "indicator"
    value = float(page.get_by_test_id("indicator-value").get_attribute("data-value"))
    assert value == pytest.approx(float(removed_km), abs=0.01)
    assert page.locator("#id_update-percent").count() == 0
    page.get_by_test_id("agreement-link").click()

    # Minh creates the 2026–2030 successor; the form comes pre-filled with the next five years.
    page.get_by_test_id("renew-open").click()
    form = page.get_by_test_id("renew-form")
    assert form.locator("#id_renew-period_start").input_value() == "2026-01-01"
    assert form.locator("#id_renew-period_end").input_value() == "2030-12-31"
    assert form.locator("#id_renew-code").input_value() == "CTPH-CVT-2026-2030"
    assert "2026–2030" in form.locator("#id_renew-title").input_value()
    form.get_by_test_id("renew").click()
    page.get_by_test_id("predecessor-link").wait_for()

    # The draft has the same content areas and the open tasks, carried over.
    successor = Agreement.objects.get(predecessor=programme)
    assert page.url.rstrip("/").endswith(str(successor.public_id))
    assert page.get_by_test_id("agreement-status").get_attribute("data-status") == "draft"
    titles = page.get_by_test_id("area-title").all_inner_texts()
    assert titles == [f"({i}) {t}" for i, t in enumerate(AREAS, start=1)]
    carried = set(
        page.get_by_test_id("task-row").evaluate_all("rs => rs.map(r => r.dataset.title)")
    )
    assert carried == {
        "Hạ ngầm 300 tuyến phố",
        "Góp ý dự thảo hướng dẫn dùng chung hạ tầng",
        "Chia sẻ cơ sở dữ liệu trạm BTS",
    }
    assert set(
        Task.objects.filter(area__agreement=successor).values_list("responsible__code", flat=True)
    ) == {"SO_KHCN_HN", "CUC_VT"}  # the Sở TT&TT's tasks go to its successor
    assert page.get_by_test_id("overdue").count() == 0  # carried over without dates
    assert page.get_by_test_id("renew-open").count() == 0  # a draft is not renewed

    # The old programme now links to its successor and offers no second renewal.
    page.get_by_test_id("predecessor-link").click()
    page.get_by_test_id("successor-link").wait_for()
    assert page.get_by_test_id("renew-open").count() == 0

    # The printable page has the status without the navigation.
    page.goto(f"/agreements/{programme.public_id}/print/")
    assert page.get_by_test_id("print-area").count() == 5
    assert page.locator("nav.navbar").count() == 0

    # Once signed, the successor comes into force and the old programme is marked renewed.
    page.goto(f"/agreements/{successor.public_id}/")
    page.get_by_test_id("bring-into-force").click()
    page.locator("[data-testid=agreement-status][data-status=in_force]").wait_for()
    programme.refresh_from_db()
    assert programme.status == "renewed"
    browser_logout(page)
    page.wait_for_url("**/login/**")
    assert js_errors == []
