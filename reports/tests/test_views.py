"""The reports pages and the home dashboard: the permission matrix per role, an operator's dashboard
with only its own figures, downloads refused to other organisations, bad input through the forms
(nothing stored), one run per period, the run's life (progress, failure and retry, approval,
submission, recomputation refused after approval) and query counts that do not grow with rows."""

import uuid
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
from openpyxl import load_workbook

from conftest import ROLE_USERS
from core.models import Notification, Organization
from reports import charts, dashboard, services
from reports.models import ReportDefinition, ReportRun

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", *ROLE_USERS]
OFFICIALS = {"city_official", "national_official", "administrator"}
RECIPIENT_READERS = {"agency_api_client"}  # the Cục Viễn thông's API client (ROLE_USERS)
SECTIONS = [
    {"title": "Phản ánh tin nhắn rác", "indicators": ["test.widgets", "test.share"], "by": ""},
    {"title": "Theo doanh nghiệp", "indicators": ["test.widgets"], "by": "operator"},
]
VIETTEL_WIDGETS, MOBIFONE_WIDGETS = 7123, 3457
CALLS = []


def widgets(window, by=None):
    """A measure whose value tells the day it was computed for: year × 100 + month, split between
    two operators (7123 + 3457 this month, for the dashboard)."""
    CALLS.append(("test.widgets", window.as_of, by))
    today = timezone.localdate()
    if (window.as_of.year, window.as_of.month) == (today.year, today.month):
        rows = {"VIETTEL": VIETTEL_WIDGETS, "MOBIFONE": MOBIFONE_WIDGETS}
    else:
        stamp = window.as_of.year * 100 + window.as_of.month
        rows = {"VIETTEL": stamp - 1000, "MOBIFONE": 1000}
    if by == "operator":
        return [{"key": k, "label": k.title(), "value": v} for k, v in rows.items()]
    return sum(rows.values())


def share(window):
    return 42.5


def backlog(window, by=None):
    rows = {"VIETTEL": 4, "MOBIFONE": 9}
    if by == "operator":
        return [{"key": k, "label": k, "value": v} for k, v in rows.items()]
    return 13


@pytest.fixture(autouse=True)
def fake_indicators(monkeypatch, settings):
    """Measures of the tests' own, so these pages are tested apart from the domain apps' data."""
    from core.indicators import REGISTRY, Indicator

    for key, unit, compute, dimensions, tags in (
        ("test.widgets", "count", widgets, ("operator",), ()),
        ("test.share", "percent", share, (), ()),
        ("test.backlog", "count", backlog, ("operator",), ("overdue",)),
    ):
        monkeypatch.setitem(
            REGISTRY,
            key,
            Indicator(
                key=key,
                label=f"Thử {key}",
                unit=unit,
                description="",
                compute=compute,
                dimensions=dimensions,
                app="test",
                tags=tags,
                link="/stations/" if tags else "",
            ),
        )
    settings.DASHBOARD_INDICATORS = ["test.widgets", "test.share"]
    CALLS.clear()


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def own_cache(settings):
    """The real Redis cache, under a key prefix of this test's own (no figures from another test)."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    }


@pytest.fixture
def login(client, role_user):
    def log_in(role):
        user = role_user(role)
        if user is not None:
            client.force_login(user)
        return user

    return log_in


@pytest.fixture
def admin(make_user):
    return make_user("administrator", "SO_KHCN_HN", is_staff=True, is_superuser=True)


@pytest.fixture
def official(make_user):
    return make_user("city_official", "SO_KHCN_HN")


def months_back(n, today=None):
    """The key of the calendar month ``n`` months before this one (its 15th cut-off has passed)."""
    today = today or timezone.localdate()
    year, month = today.year, today.month - n
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year}-{month:02d}"


def make_definition(admin, code="SO-MONTHLY", recipient="SO_KHCN_HN", **fields):
    data = {
        "code": code,
        "name": f"Báo cáo {code}",
        "recipient": Organization.objects.get(code=recipient),
        "period_type": "month",
        "cutoff_day": 15,
        "deadline_days": 5,
        "heading": "BÁO CÁO HẠ TẦNG VIỄN THÔNG THÀNH PHỐ HÀ NỘI",
        "sections": SECTIONS,
    }
    data.update(fields)
    return services.save_definition(admin, **data)


@pytest.fixture
def definition(admin):
    return make_definition(admin)


@pytest.fixture
def cuc_definition(admin):
    return make_definition(admin, code="CUC-QUARTERLY", recipient="CUC_VT", period_type="quarter")


def make_run(official, definition, key, status="ready"):
    run = services.request_run(official, definition, key, enqueue=False)
    if status == "queued":
        return run
    run = services.compute(run.pk)
    if status in ("approved", "submitted"):
        run = services.approve(official, run)
    if status == "submitted":
        run = services.submit(official, run)
    run.refresh_from_db()
    return run


def last_quarter_key(today=None):
    today = today or timezone.localdate()
    quarter = (today.month - 1) // 3  # the previous quarter's number (0 = last year's Q4)
    return f"{today.year}-Q{quarter}" if quarter else f"{today.year - 1}-Q4"


# --- Permission matrix -----------------------------------------------------------------------------


def expected(url_kind, role):
    if role == "anonymous":
        return 302
    if url_kind in ("runs", "definitions"):
        return 200 if role in OFFICIALS | RECIPIENT_READERS else 403
    if url_kind == "run-new":
        return 200 if role in OFFICIALS else 403
    if url_kind == "definition-new":
        return 200 if role == "administrator" else 403
    raise AssertionError(url_kind)


PAGES = {
    "runs": "/reports/",
    "definitions": "/reports/definitions/",
    "run-new": "/reports/runs/new/",
    "definition-new": "/reports/definitions/new/",
}


@pytest.mark.parametrize("kind", list(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_reports_pages_per_role(client, login, definition, kind, role):
    login(role)
    response = client.get(PAGES[kind])
    assert response.status_code == expected(kind, role)
    if role == "anonymous":
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("role", ROLES)
def test_run_detail_and_downloads_per_role(client, login, official, definition, role):
    """A submitted run of the Sở's report: officials read it; the Cục's API client and operators do
    not (404, as if it did not exist); an account without a role reaches no page (403, core.access)."""
    run = make_run(official, definition, months_back(1), status="submitted")
    login(role)
    for url in (
        f"/reports/runs/{run.public_id}/",
        f"/reports/runs/{run.public_id}/download/xlsx/",
        f"/reports/runs/{run.public_id}/download/pdf/",
    ):
        response = client.get(url)
        if role == "anonymous":
            assert response.status_code == 302
        elif role in OFFICIALS:
            assert response.status_code == 200, url
        elif role == "no_role":
            assert response.status_code == 403, url
        else:
            assert response.status_code == 404, url


def test_recipient_reads_only_the_runs_submitted_to_it(
    client, make_user, official, definition, cuc_definition
):
    submitted = make_run(official, cuc_definition, last_quarter_key(), status="submitted")
    under_review = make_run(official, cuc_definition, f"{timezone.localdate().year - 1}-Q2")
    other_agency = make_run(official, definition, months_back(1), status="submitted")
    cuc_client = make_user("api_client", "CUC_VT")
    client.force_login(cuc_client)

    listed = client.get("/reports/")
    assert [r.pk for r in listed.context["object_list"]] == [submitted.pk]
    assert listed.context["run_form"] is None and b'data-testid="run-now"' not in listed.content
    assert b'data-testid="nav-reports"' in listed.content
    assert client.get(f"/reports/runs/{submitted.public_id}/").status_code == 200
    xlsx = client.get(f"/reports/runs/{submitted.public_id}/download/xlsx/")
    assert xlsx.status_code == 200
    assert load_workbook(BytesIO(b"".join(xlsx.streaming_content))).sheetnames[0] == "Summary"
    pdf = client.get(f"/reports/runs/{submitted.public_id}/download/pdf/")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert 'filename="CUC-QUARTERLY-' in pdf["Content-Disposition"]
    for run in (under_review, other_agency):
        assert client.get(f"/reports/runs/{run.public_id}/").status_code == 404
        assert client.get(f"/reports/runs/{run.public_id}/download/pdf/").status_code == 404
    # It reads; it does not approve or submit.
    assert client.post(f"/reports/runs/{submitted.public_id}/approve/").status_code == 403
    definitions = client.get("/reports/definitions/").context["object_list"]
    assert [d.code for d in definitions] == ["CUC-QUARTERLY"]

    # The Sở's own API client downloads what was submitted to the Sở.
    so_client = make_user("api_client", "SO_KHCN_HN")
    client.force_login(so_client)
    response = client.get(f"/reports/runs/{other_agency.public_id}/download/xlsx/")
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]


def test_downloads_of_a_run_under_review_are_for_officials_only(
    client, make_user, official, definition
):
    run = make_run(official, definition, months_back(1))
    client.force_login(make_user("api_client", "SO_KHCN_HN"))
    assert client.get(f"/reports/runs/{run.public_id}/download/xlsx/").status_code == 404
    client.force_login(official)
    assert client.get(f"/reports/runs/{run.public_id}/download/xlsx/").status_code == 200
    assert client.get(f"/reports/runs/{run.public_id}/download/docx/").status_code == 404


# --- Run now --------------------------------------------------------------------------------------


def next_month_key():
    today = timezone.localdate()
    return f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2026-13", "is not a period of this report"),
        ("tháng trước", "is not a period of this report"),
        ("2026-Q3", "is not a period of this report"),
        ("", "This field is required"),
        ("next-month", "The period is not closed yet"),
    ],
)
def test_run_now_with_a_bad_period_is_a_form_error(client, official, definition, period, message):
    client.force_login(official)
    if period == "next-month":
        period = next_month_key()
    response = client.post("/reports/runs/new/", {"definition": definition.pk, "period": period})
    assert response.status_code == 400
    errors = response.context["form"].errors["period"]
    assert any(message in str(e) for e in errors), errors
    assert b'data-testid="error-period"' in response.content
    assert not ReportRun.objects.exists()


def test_run_now_opens_the_same_run_for_the_same_period(client, official, definition):
    client.force_login(official)
    key = months_back(1)
    written = f"{int(key[5:])}/{key[:4]}"  # 11/2026: as officials write it
    first = client.post("/reports/runs/new/", {"definition": definition.pk, "period": written})
    run = ReportRun.objects.get()
    assert run.period_key == key and run.status == ReportRun.Status.QUEUED
    assert first.status_code == 302 and first["Location"] == f"/reports/runs/{run.public_id}/"
    again = client.post(
        "/reports/runs/new/", {"definition": definition.pk, "period": key}, follow=True
    )
    assert ReportRun.objects.count() == 1
    assert again.redirect_chain[-1][0] == f"/reports/runs/{run.public_id}/"
    assert "already requested" in again.content.decode()


def test_run_now_refused_to_non_officials(client, make_user, definition):
    client.force_login(make_user("operator_staff", "VIETTEL"))
    response = client.post(
        "/reports/runs/new/", {"definition": definition.pk, "period": months_back(1)}
    )
    assert response.status_code == 403
    assert not ReportRun.objects.exists()


def test_run_now_form_offers_the_latest_closed_period(client, official, definition):
    client.force_login(official)
    html = client.get(f"/reports/runs/new/?definition={definition.pk}").content.decode()
    assert 'data-testid="latest-period"' in html
    assert f'<option value="{definition.pk}" selected>' in html


# --- A run's page --------------------------------------------------------------------------------


def test_run_page_compares_with_previous_period_and_last_year(client, official, definition):
    run = make_run(official, definition, months_back(2))
    assert run.status == ReportRun.Status.READY
    client.force_login(official)
    response = client.get(f"/reports/runs/{run.public_id}/")
    html = response.content.decode()
    assert html.count('data-testid="section"') == 2
    assert 'data-testid="col-previous"' in html and 'data-testid="col-last-year"' in html
    # test.widgets is year × 100 + month of its cut-off: each column was computed as of its own.
    first = response.context["sections"][0]["rows"][0]
    cutoff = run.cutoff
    previous = cutoff.replace(day=1) - timedelta(days=1)
    assert first["value"] == cutoff.year * 100 + cutoff.month
    assert first["previous"] == previous.year * 100 + previous.month
    assert first["last_year"] == first["value"] - 100
    assert first["vs_last_year"] == {
        "delta": 100,
        "pct": pytest.approx(100 * 100 / first["last_year"], abs=0.1),
        "direction": "up",
        "good": True,
    }
    assert 'data-direction="up"' in html and "▲ +100" in html
    assert first["label"] in html and "42.5" in html
    # The breakdown as an SVG bar chart, one bar per operator.
    assert html.count('data-testid="breakdown"') == 1
    assert 'data-testid="bar-chart" data-bars="2"' in html and 'data-label="Viettel"' in html
    assert 'data-testid="download-xlsx"' in html and 'data-testid="download-pdf"' in html
    assert 'data-testid="approve"' in html and 'data-testid="recompute"' in html
    assert 'data-testid="submit"' not in html
    assert "hx-trigger" not in html  # finished: nothing polls


def test_progress_polls_while_the_run_is_computed_then_reloads(client, official, definition):
    run = make_run(official, definition, months_back(1), status="queued")
    client.force_login(official)
    page = client.get(f"/reports/runs/{run.public_id}/").content.decode()
    assert 'data-testid="run-bar"' in page and 'hx-trigger="every 1s"' in page
    assert 'data-testid="download-xlsx"' not in page and 'data-testid="approve"' not in page
    ReportRun.objects.filter(pk=run.pk).update(status="running", progress=45)
    partial = client.get(f"/reports/runs/{run.public_id}/progress/?poll=1", HTTP_HX_REQUEST="true")
    assert 'data-progress="45"' in partial.content.decode()
    assert "HX-Refresh" not in partial
    services.compute(run.pk)
    done = client.get(f"/reports/runs/{run.public_id}/progress/?poll=1", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert 'data-status="ready"' in done.content.decode()


def test_a_failed_run_shows_why_and_can_be_retried(client, official, definition):
    run = make_run(official, definition, months_back(1), status="queued")
    services.compute(run.pk, today=run.cutoff)  # as if computed before its cut-off had passed
    run.refresh_from_db()
    assert run.status == ReportRun.Status.FAILED
    client.force_login(official)
    html = client.get(f"/reports/runs/{run.public_id}/").content.decode()
    assert 'data-testid="run-error"' in html and "not closed yet" in html
    assert 'data-testid="recompute"' in html and 'data-testid="download-pdf"' not in html
    response = client.post(f"/reports/runs/{run.public_id}/recompute/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ReportRun.Status.QUEUED and run.error == ""


def test_approve_submit_and_no_recompute_after_approval(client, make_user, official, definition):
    so_staff = make_user("api_client", "SO_KHCN_HN")
    run = make_run(official, definition, months_back(1))
    client.force_login(official)
    url = f"/reports/runs/{run.public_id}/"

    # Submitting before approval is refused with a message.
    response = client.post(url + "submit/", follow=True)
    assert "Only an approved report can be submitted" in response.content.decode()
    client.post(url + "approve/")
    run.refresh_from_db()
    assert run.status == "approved" and run.approved_by == official

    response = client.post(url + "recompute/", follow=True)
    assert "not computed again" in response.content.decode()
    run.refresh_from_db()
    assert run.status == "approved"
    html = client.get(url).content.decode()
    assert 'data-testid="recompute"' not in html and 'data-testid="submit"' in html

    client.post(url + "submit/")
    run.refresh_from_db()
    assert run.status == "submitted" and run.submitted_at is not None
    assert Notification.objects.filter(recipient=so_staff, url=url).exists()
    html = client.get(url).content.decode()
    assert 'data-testid="run-actions"' not in html
    assert 'data-testid="submitted"' in html
    assert client.post(url + "nonsense/").status_code == 404


def test_actions_need_a_post_and_an_official(client, login, official, definition):
    run = make_run(official, definition, months_back(1))
    client.force_login(official)
    assert client.get(f"/reports/runs/{run.public_id}/approve/").status_code == 405
    login("operator_viettel")
    assert client.post(f"/reports/runs/{run.public_id}/approve/").status_code == 404
    run.refresh_from_db()
    assert run.status == "ready"


# --- Runs list ---------------------------------------------------------------------------------------


def test_runs_list_filters_and_deadline_states(client, official, admin, definition):
    other = make_definition(admin, code="SO-OTHER")
    today = timezone.localdate()
    late = make_run(official, definition, months_back(2))
    soon = make_run(official, definition, months_back(3))
    on_time = make_run(official, other, months_back(2))
    ReportRun.objects.filter(pk=late.pk).update(deadline=today - timedelta(days=2))
    ReportRun.objects.filter(pk=soon.pk).update(deadline=today + timedelta(days=2))
    ReportRun.objects.filter(pk=on_time.pk).update(deadline=today + timedelta(days=20))
    client.force_login(official)

    page = client.get("/reports/").content.decode()
    assert page.count('data-testid="run-row"') == 3
    for run, state in ((late, "late"), (soon, "due_soon"), (on_time, "on_time")):
        assert f'data-deadline-state="{state}" data-period="{run.period_key}"' in page
        rows = client.get("/reports/", {"deadline": state}).context["object_list"]
        assert [r.pk for r in rows] == [run.pk]
    rows = client.get("/reports/", {"definition": other.pk}).context["object_list"]
    assert [r.pk for r in rows] == [on_time.pk]
    rows = client.get("/reports/", {"status": "approved"}).context["object_list"]
    assert rows == []
    bad = client.get("/reports/", {"status": "nonsense"})
    assert bad.status_code == 200 and bad.context["filter"].errors["status"]


def test_list_query_counts_do_not_grow_with_rows(
    client, official, admin, definition, django_assert_max_num_queries
):
    client.force_login(official)
    make_run(official, definition, months_back(1))
    with django_assert_max_num_queries(12) as few:
        assert client.get("/reports/").status_code == 200
    with django_assert_max_num_queries(12) as few_definitions:
        assert client.get("/reports/definitions/").status_code == 200
    for n in range(2, 9):
        make_run(official, definition, months_back(n), status="approved")
    for n in range(6):
        make_definition(admin, code=f"EXTRA-{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/reports/")
    assert response.content.decode().count('data-testid="run-row"') == 8
    with django_assert_max_num_queries(len(few_definitions.captured_queries)):
        response = client.get("/reports/definitions/")
    assert response.content.decode().count('data-testid="definition-row"') == 7


# --- Definitions ------------------------------------------------------------------------------------


def definition_form(**overrides):
    data = {
        "code": "SO-NEW",
        "name": "Báo cáo tháng gửi Sở KH&CN",
        "recipient": Organization.objects.get(code="SO_KHCN_HN").pk,
        "period_type": "month",
        "cutoff_day": "15",
        "deadline_days": "5",
        "heading": "BÁO CÁO",
        "intro": "",
        "sections": '[{"title": "Trạm BTS", "indicators": ["test.widgets"], "by": "operator"}]',
        "active": "on",
    }
    data.update(overrides)
    return data


def test_administrator_creates_and_edits_a_definition(client, admin):
    client.force_login(admin)
    response = client.post("/reports/definitions/new/", definition_form())
    assert response.status_code == 302
    created = ReportDefinition.objects.get(code="SO-NEW")
    assert created.sections[0]["indicators"] == ["test.widgets"] and created.cutoff_day == 15
    page = client.get(f"/reports/definitions/{created.pk}/edit/").content.decode()
    assert "&quot;test.widgets&quot;" in page and "Trạm BTS" in page  # sections as JSON
    client.post(
        f"/reports/definitions/{created.pk}/edit/", definition_form(name="Đổi tên", cutoff_day=0)
    )
    created.refresh_from_db()
    assert (created.name, created.cutoff_day) == ("Đổi tên", 0)
    assert client.get("/reports/definitions/99999/edit/").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"sections": "[{"}, "sections", "not valid JSON (line 1"),
        ({"sections": '{"title": "x"}'}, "sections", "a list"),
        ({"sections": "[]"}, "sections", "at least one section"),
        (
            {"sections": '[{"title": "A", "indicators": ["nope.nothing"]}]'},
            "sections",
            "unknown indicator “nope.nothing”",
        ),
        (
            {"sections": '[{"title": "A", "indicators": ["test.widgets"], "by": "channel"}]'},
            "sections",
            "cannot be broken down by channel",
        ),
        ({"sections": '[{"indicators": ["test.widgets"]}]'}, "sections", "has no title"),
        ({"cutoff_day": "31"}, "cutoff_day", "less than or equal to 28"),
        ({"recipient": ""}, "recipient", "required"),
        ({"code": ""}, "code", "required"),
    ],
)
def test_bad_definitions_are_form_errors(client, admin, overrides, field, message):
    client.force_login(admin)
    response = client.post("/reports/definitions/new/", definition_form(**overrides))
    assert response.status_code == 200
    errors = [str(e) for e in response.context["form"].errors.get(field, [])]
    assert any(message in e for e in errors), response.context["form"].errors
    assert not ReportDefinition.objects.filter(code="SO-NEW").exists()


def test_an_operator_is_no_recipient(client, admin):
    client.force_login(admin)
    response = client.post(
        "/reports/definitions/new/",
        definition_form(recipient=Organization.objects.get(code="VIETTEL").pk),
    )
    assert response.status_code == 200 and response.context["form"].errors["recipient"]


def test_a_duplicate_code_is_a_form_error(client, admin, definition):
    client.force_login(admin)
    response = client.post("/reports/definitions/new/", definition_form(code=definition.code))
    assert "A report with this code exists" in str(response.context["form"].errors["code"])


def test_officials_read_definitions_without_editing(client, official, definition):
    client.force_login(official)
    html = client.get("/reports/definitions/").content.decode()
    assert f'data-code="{definition.code}"' in html
    assert 'data-testid="definition-create"' not in html
    assert 'data-testid="definition-edit"' not in html
    assert client.get(f"/reports/definitions/{definition.pk}/edit/").status_code == 403
    assert client.post("/reports/definitions/new/", definition_form()).status_code == 403


# --- The home dashboard -------------------------------------------------------------------------------


def headline_values(response):
    figures = {}
    for panel in response.context["panels"]:
        for figure in panel.get("headline", []):
            figures[figure["key"]] = figure
    return figures


def test_officials_dashboard_shows_headlines_trends_overdue_and_deadlines(
    client, official, definition
):
    make_run(official, definition, months_back(2))
    client.force_login(official)
    response = client.get("/")
    html = response.content.decode()
    figures = headline_values(response)
    assert list(figures)[:2] == ["test.widgets", "test.share"]
    widgets = figures["test.widgets"]
    assert widgets["value"] == VIETTEL_WIDGETS + MOBIFONE_WIDGETS
    assert len(widgets["points"]) == 12
    previous = timezone.localdate().replace(day=1) - timedelta(days=1)
    assert widgets["points"][-2] == (
        previous.strftime("%m/%Y"),
        previous.year * 100 + previous.month,
    )
    assert 'data-scope="city"' in html and "10,580" in html  # the city's figure, in English
    assert 'data-key="test.widgets" data-value="10580"' in html
    assert html.count('data-testid="line-chart" data-points="12"') == len(
        [f for f in figures.values() if not f["failed"]]
    )
    # Overdue items across apps: every indicator tagged "overdue", with its count and link.
    from core import indicators

    overdue = response.context["panels"][0]["overdue"]
    assert {o["key"] for o in overdue} == {i.key for i in indicators.tagged("overdue")}
    assert html.count('data-testid="overdue-item"') == len(overdue)
    assert 'data-key="test.backlog" data-count="13"' in html and 'href="/stations/"' in html
    # Deadlines: the run under review, the month with no run yet and the next period.
    assert 'data-testid="report-deadlines"' in html
    rows = next(p for p in response.context["panels"] if "deadlines" in p)["deadlines"]
    periods = [r["period"] for r in rows]
    assert ReportRun.objects.get().period_label in periods
    assert any(r.get("next") for r in rows)
    assert any(not r.get("next") and not r["status"] for r in rows)  # not run yet
    assert 'data-testid="home-links"' in html  # the links every role has stay


def test_operator_dashboard_shows_only_its_own_figures(client, login):
    login("operator_viettel")
    response = client.get("/")
    html = response.content.decode()
    assert 'data-scope="VIETTEL"' in html
    figures = headline_values(response)
    assert "test.share" not in figures  # no breakdown by operator: not an operator's figure
    widgets = figures["test.widgets"]
    assert widgets["value"] == VIETTEL_WIDGETS
    assert len(widgets["points"]) == 12 and widgets["points"][-1][1] == VIETTEL_WIDGETS
    for other in ("3,457", "3457", "10,580", "10580"):
        assert other not in html
    assert 'data-key="test.backlog" data-count="4"' in html
    assert 'data-testid="report-deadlines"' not in html
    from core import indicators

    for key in figures:
        assert dashboard.org_dimension(indicators.get(key))

    client.logout()
    login("operator_mobifone")
    response = client.get("/")
    assert headline_values(response)["test.widgets"]["value"] == MOBIFONE_WIDGETS
    assert 'data-key="test.backlog" data-count="9"' in response.content.decode()


@pytest.mark.parametrize(
    ("role", "figures", "deadlines", "received"),
    [
        ("city_official", True, True, False),
        ("national_official", True, True, False),
        ("administrator", True, True, False),
        ("agency_api_client", True, False, True),
        ("operator_viettel", True, False, False),
        ("operator_api_client", True, False, False),
        ("no_role", False, False, False),
    ],
)
def test_dashboard_per_role(client, login, role, figures, deadlines, received):
    login(role)
    html = client.get("/").content.decode()
    assert ('data-testid="dashboard"' in html) is figures
    assert ('data-testid="report-deadlines"' in html) is deadlines
    assert ('data-testid="reports-received"' in html) is received
    assert ('data-testid="nav-reports"' in html) is (
        role in OFFICIALS or role == "agency_api_client"
    )


def test_dashboard_series_come_from_the_cache(client, official):
    client.force_login(official)
    client.get("/")
    computed = [c for c in CALLS if c[0] == "test.widgets"]
    assert len(computed) == 12
    today = timezone.localdate()
    database = connection.settings_dict["NAME"]
    key = f"reports:dashboard:v1:{database}:test.widgets:*:{today.isoformat()}"
    assert len(cache.get(key)) == 12
    CALLS.clear()
    response = client.get("/")
    assert [c for c in CALLS if c[0] == "test.widgets"] == []
    assert headline_values(response)["test.widgets"]["value"] == 10580


def test_a_failing_indicator_does_not_break_the_dashboard(client, official, monkeypatch):
    from core import indicators

    def fail(window, by=None):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    broken = indicators.get("test.widgets")
    monkeypatch.setitem(
        indicators.REGISTRY, "test.widgets", type(broken)(**{**broken.__dict__, "compute": fail})
    )
    client.force_login(official)
    response = client.get("/")
    assert response.status_code == 200
    assert headline_values(response)["test.widgets"]["failed"] is True
    assert headline_values(response)["test.share"]["value"] == 42.5
    assert 'data-testid="headline-failed"' in response.content.decode()


def test_months_of_the_trend_end_today():
    result = dashboard.months(date(2026, 3, 10), count=3)
    assert result == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 10)),
    ]


# --- Charts ------------------------------------------------------------------------------------------


def test_line_chart_breaks_at_missing_values_and_escapes_labels():
    svg = charts.line_chart([("01/2026", 3), ("02/2026", None), ("<b>", 5), ("04/2026", 7)])
    assert svg.startswith("<svg") and 'data-points="4"' in svg
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 3
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert charts.line_chart([]) == ""


def test_bar_chart_scales_escapes_and_caps_the_bars():
    svg = charts.bar_chart([("Viettel", 10), ("<script>", 5), ("Không", None)], unit="km")
    assert 'data-bars="3"' in svg and "<script>" not in svg and "&lt;script&gt;" in svg
    with translation.override("vi"):
        assert charts.measure(1234.5, "km") == "1.234,50"
        assert charts.measure(1234, "count") == "1.234"
    assert charts.measure(None) == "—"
    many = charts.bar_chart([(f"P{i}", i) for i in range(30)])
    assert 'data-bars="20"' in many and "+ 10" in many


def test_compare_knows_when_up_is_bad():
    assert charts.compare(12, 10)["good"] is True
    assert charts.compare(12, 10, lower_is_better=True)["good"] is False
    assert charts.compare(10, 10)["direction"] == "same"
    assert charts.compare(5, 0)["pct"] is None
    assert charts.compare(None, 1) is None
