"""The reports API over HTTP: who sees which reports and runs, asking for a run (202, and the same
run when asked again), review and submission, downloads, bad input, list queries and the OpenAPI
schema. The worker is not asked here: the on-commit callbacks are captured, not run."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from conftest import ROLE_USERS
from reports import periods, services
from reports.models import ReportDefinition, ReportRun
from reports.tests import factories
from reports.tests.factories import today

pytestmark = pytest.mark.django_db
ROLES = [*ROLE_USERS, "anonymous"]
DEFINITIONS = "/api/v1/report-definitions/"
RUNS = "/api/v1/report-runs/"


@pytest.fixture
def admin(role_user):
    return role_user("administrator")


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def to_cuc(admin):
    """A quarterly report to the Cục Viễn thông (CUC_VT)."""
    return factories.definition(admin, recipient="CUC_VT", period_type="quarter")


@pytest.fixture
def to_so(admin):
    """A monthly report to the Sở KH&CN (SO_KHCN_HN), cut-off on the 15th."""
    return factories.definition(admin, cutoff_day=15)


@pytest.fixture
def runs(official, to_cuc, to_so):
    """To the Cục: last quarter submitted, the quarter before ready for review. To the Sở: last
    month submitted."""
    last = factories.latest(to_cuc)
    return {
        "cuc_submitted": factories.submitted(official, to_cuc, last.key),
        "cuc_ready": factories.computed(official, to_cuc, last.shifted(-1, 0).key),
        "so_submitted": factories.submitted(official, to_so),
    }


def _ids(response):
    assert response.status_code == 200, response.content[:300]
    return {r["id"] for r in response.json()["results"]}


# --- Who sees what --------------------------------------------------------------------------------------

# role: (definitions seen, runs seen) — "all", "cuc" (the Cục's definition, its submitted run), none
MATRIX = {
    "city_official": ("all", "all"),
    "national_official": ("all", "all"),
    "administrator": ("all", "all"),
    "agency_api_client": ("cuc", "cuc"),  # CUC_VT's API client: only what was submitted to it
    "operator_viettel": ("none", "none"),
    "operator_mobifone": ("none", "none"),
    "operator_api_client": ("none", "none"),  # VNPT's API client
    "no_role": (403, 403),
    "anonymous": (401, 401),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_which_reports(as_role, runs, to_cuc, to_so, role):
    client = as_role(role)
    definitions, run_scope = MATRIX[role]
    response = client.get(DEFINITIONS)
    if isinstance(definitions, int):
        assert response.status_code == definitions
        assert client.get(RUNS).status_code == run_scope
        assert client.get(f"{RUNS}{runs['cuc_submitted'].public_id}/").status_code == run_scope
        return
    expected = {
        "all": {str(to_cuc.public_id), str(to_so.public_id)},
        "cuc": {str(to_cuc.public_id)},
        "none": set(),
    }[definitions]
    assert _ids(response) == expected
    expected_runs = {
        "all": {str(r.public_id) for r in runs.values()},
        "cuc": {str(runs["cuc_submitted"].public_id)},
        "none": set(),
    }[run_scope]
    assert _ids(client.get(RUNS)) == expected_runs
    for name, run in runs.items():
        visible = str(run.public_id) in expected_runs
        response = client.get(f"{RUNS}{run.public_id}/")
        assert response.status_code == (200 if visible else 404), (name, response.content[:200])
        for kind in ("xlsx", "pdf"):
            assert client.get(f"{RUNS}{run.public_id}/{kind}/").status_code == (
                200 if visible else 404
            )
    detail = client.get(f"{DEFINITIONS}{to_so.public_id}/")
    assert detail.status_code == (200 if definitions == "all" else 404)


def test_the_agency_reads_what_was_submitted_to_it(as_role, runs):
    client = as_role("agency_api_client")
    run = runs["cuc_submitted"]
    data = client.get(f"{RUNS}{run.public_id}/").json()
    assert data["status"] == "submitted" and data["recipient"] == "CUC_VT"
    assert data["snapshot"]["period_key"] == run.period_key
    assert data["xlsx"].endswith(f"{RUNS}{run.public_id}/xlsx/")
    response = client.get(data["xlsx"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"{run.definition.code}-{run.period_key}.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) == 1 + len(run.snapshot["sections"])
    pdf = client.get(data["pdf"], HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")


def test_list_filters(as_role, runs, to_cuc):
    client = as_role("city_official")
    cuc = {str(runs["cuc_submitted"].public_id), str(runs["cuc_ready"].public_id)}
    assert _ids(client.get(f"{RUNS}?definition={to_cuc.code}")) == cuc
    assert _ids(client.get(f"{RUNS}?status=ready")) == {str(runs["cuc_ready"].public_id)}
    assert len(_ids(client.get(f"{RUNS}?status=ready&status=submitted"))) == 3
    key = runs["cuc_ready"].period_key
    assert _ids(client.get(f"{RUNS}?period={key}")) == {str(runs["cuc_ready"].public_id)}
    assert client.get(f"{RUNS}?status=lost").status_code == 400
    assert _ids(client.get(f"{DEFINITIONS}?recipient=CUC_VT")) == {str(to_cuc.public_id)}
    assert _ids(client.get(f"{DEFINITIONS}?period_type=month")) == {
        str(d.public_id) for d in ReportDefinition.objects.filter(period_type="month")
    }
    listed = client.get(RUNS).json()["results"]
    assert "snapshot" not in listed[0]  # values are read one run at a time


# --- Asking for a run ------------------------------------------------------------------------------------


def test_asking_twice_gives_the_same_run(as_role, to_so, django_capture_on_commit_callbacks):
    client = as_role("city_official")
    key = factories.latest(to_so).key
    with django_capture_on_commit_callbacks() as queued:
        first = client.post(RUNS, {"definition": to_so.code, "period": key}, format="json")
    assert first.status_code == 202, first.content
    body = first.json()
    assert (body["status"], body["period"], body["definition"]) == ("queued", key, to_so.code)
    assert body["snapshot"] is None and body["xlsx"] is None
    with django_capture_on_commit_callbacks() as queued_again:
        second = as_role("national_official").post(
            RUNS, {"definition": str(to_so.public_id), "period": key}, format="json"
        )
    assert second.status_code == 202 and second.json()["id"] == body["id"]
    assert len(queued) == 1 and queued_again == []
    assert ReportRun.objects.count() == 1
    services.compute(ReportRun.objects.get().pk)
    third = client.post(RUNS, {"definition": to_so.code, "period": key}, format="json")
    assert third.status_code == 200 and third.json()["status"] == "ready"
    assert third.json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2026-10"}, "definition"),
        ({"definition": "NO-SUCH-REPORT", "period": "2026-10"}, "definition"),
        ({"definition": 12, "period": "2026-10"}, "definition"),
        ({"definition": "{code}"}, "period"),
        ({"definition": "{code}", "period": "2026-Q3"}, "period"),  # a month report
        ({"definition": "{code}", "period": "2026-13"}, "period"),
        ({"definition": "{code}", "period": "{open}"}, "period"),  # not closed yet
        ({"definition": "{code}", "period": "{future}"}, "period"),
    ],
)
def test_bad_run_request_is_400_and_nothing_is_made(as_role, to_so, body, field):
    current = periods.containing("month", today(), 15)
    values = {"{code}": to_so.code, "{open}": current.key, "{future}": current.shifted(3, 15).key}
    body = {k: values.get(v, v) for k, v in body.items()}
    response = as_role("city_official").post(RUNS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    "role", ["operator_viettel", "agency_api_client", "operator_api_client", "no_role", "anonymous"]
)
def test_only_officials_ask_for_runs(as_role, to_cuc, role):
    body = {"definition": to_cuc.code, "period": factories.latest(to_cuc).key}
    response = as_role(role).post(RUNS, body, format="json")
    assert response.status_code == {"anonymous": 401}.get(role, 403)
    assert not ReportRun.objects.exists()


# --- Review and submission --------------------------------------------------------------------------------


def test_approve_submit_and_recompute(as_role, official, to_so, django_capture_on_commit_callbacks):
    run = factories.computed(official, to_so)
    client = as_role("national_official")
    url = f"{RUNS}{run.public_id}"
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(f"{url}/recompute/")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert len(queued) == 1
    assert client.post(f"{url}/approve/").status_code == 409  # queued, not ready
    services.compute(run.pk)
    assert client.post(f"{url}/submit/").status_code == 409  # not approved yet
    approved = client.post(f"{url}/approve/")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_by"] == client.user.username
    assert client.post(f"{url}/recompute/").status_code == 409
    submitted = client.post(f"{url}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert submitted.json()["overdue"] is False


@pytest.mark.parametrize(
    ("role", "status"),
    [("operator_viettel", 404), ("operator_api_client", 404), ("agency_api_client", 403)],
)
def test_others_do_not_review(as_role, official, runs, role, status):
    """The Cục's API client sees the run submitted to it but moves nothing; operators see none."""
    run = runs["cuc_submitted"]
    client = as_role(role)
    for step in ("approve", "submit", "recompute"):
        assert client.post(f"{RUNS}{run.public_id}/{step}/").status_code == status
    ready = runs["cuc_ready"]
    assert client.post(f"{RUNS}{ready.public_id}/approve/").status_code == 404
    ready.refresh_from_db()
    assert ready.status == "ready"


def test_a_run_not_computed_has_no_files(as_role, official, to_so):
    run = factories.requested(official, to_so)
    client = as_role("city_official")
    for kind in ("xlsx", "pdf"):
        response = client.get(f"{RUNS}{run.public_id}/{kind}/")
        assert response.status_code == 404
        assert "not been computed" in response.json()["detail"]


def test_no_writes_to_runs_other_than_the_steps(as_role, runs):
    client = as_role("city_official")
    url = f"{RUNS}{runs['cuc_ready'].public_id}/"
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(url, {"status": "submitted"}, format="json").status_code == 405  # fmt: skip
    runs["cuc_ready"].refresh_from_db()
    assert runs["cuc_ready"].status == "ready"


# --- Definitions ----------------------------------------------------------------------------------------

NEW = {
    "code": "BC-NAM",
    "name": "Báo cáo năm về hạ tầng viễn thông",
    "recipient": "CUC_VT",
    "period_type": "year",
    "cutoff_day": 15,
    "deadline_days": 20,
    "sections": [
        {"title": "Trạm BTS", "indicators": ["stations.count"], "by": "operator"},
        {"title": "Hạ ngầm", "indicators": ["cables.km_duct_built", "cables.km_cable_pulled"]},
    ],
}


def test_administrator_creates_and_changes_a_definition(as_role):
    client = as_role("administrator")
    response = client.post(DEFINITIONS, NEW, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["recipient"], body["sections"]) == (
        "BC-NAM",
        "CUC_VT",
        NEW["sections"],
    )
    assert body["latest_closed_period"] == periods.latest_closed("year", today(), 15).key
    url = f"{DEFINITIONS}{body['id']}/"
    etag = response["ETag"]
    changed = client.patch(url, {"deadline_days": 30}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200 and changed.json()["deadline_days"] == 30
    stale = client.patch(url, {"deadline_days": 40}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert ReportDefinition.objects.get(code="BC-NAM").deadline_days == 30


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"sections": [{"title": "A", "indicators": ["stations.none"]}]},
            "sections",
            "stations.none",
        ),
        (
            {"sections": [{"title": "A", "indicators": ["stations.count"], "by": "channel"}]},
            "sections",
            "channel",
        ),
        ({"sections": []}, "sections", "at least one section"),
        ({"sections": "stations.count"}, "sections", "at least one section"),
        ({"sections": [{"title": "A", "indicators": [{"key": 1}]}]}, "sections", "unknown"),
        ({"cutoff_day": 29}, "cutoff_day", "less than or equal to 28"),
        ({"recipient": "VIETTEL"}, "recipient", "VIETTEL"),
        ({"recipient": "NOWHERE"}, "recipient", "NOWHERE"),
        ({"period_type": "week"}, "period_type", "week"),
    ],
)
def test_bad_definition_is_400_with_a_message(as_role, change, field, words):
    response = as_role("administrator").post(DEFINITIONS, {**NEW, **change}, format="json")
    assert response.status_code == 400, response.content
    messages = " ".join(response.json()[field])
    assert words.lower() in messages.lower(), messages
    assert not ReportDefinition.objects.filter(code="BC-NAM").exists()


def test_code_taken_is_400(as_role, to_so):
    response = as_role("administrator").post(
        DEFINITIONS, {**NEW, "code": to_so.code}, format="json"
    )
    assert response.status_code == 400 and "code" in response.json()


@pytest.mark.parametrize(
    ("role", "create", "change"),
    [
        ("city_official", 403, 403),
        ("national_official", 403, 403),
        ("agency_api_client", 403, 404),  # it sees only the Cục's definitions
        ("operator_viettel", 403, 404),
        ("no_role", 403, 403),
        ("anonymous", 401, 401),
    ],
)
def test_only_administrators_edit_definitions(as_role, to_so, role, create, change):
    client = as_role(role)
    # A bad body too: permission is answered before the fields.
    assert client.post(DEFINITIONS, {**NEW, "sections": []}, format="json").status_code == create
    response = client.patch(f"{DEFINITIONS}{to_so.public_id}/", {"name": "X"}, format="json")
    assert response.status_code == change
    to_so.refresh_from_db()
    assert to_so.name != "X" and not ReportDefinition.objects.filter(code="BC-NAM").exists()


# --- Queries and schema -----------------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["city_official", "agency_api_client"])
def test_list_query_counts_are_constant(as_role, admin, official, role):
    for _ in range(6):
        report = factories.definition(admin, recipient="CUC_VT", period_type="quarter")
        latest = factories.latest(report)
        factories.submitted(official, report, latest.key)
        factories.submitted(official, report, latest.shifted(-1, 0).key)
    client = as_role(role)
    client.get(RUNS)  # the user's roles are read once, on the first request
    for url in (RUNS, DEFINITIONS):
        small, small_response = _queries(client, f"{url}?page_size=2")
        big, big_response = _queries(client, f"{url}?page_size=6")
        assert len(small_response.json()["results"]) == 2
        assert len(big_response.json()["results"]) == 6
        assert small == big, url


def test_schema_documents_the_reports_api(as_role):
    response = as_role("city_official").get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/report-definitions/",
        "/api/v1/report-definitions/{public_id}/",
        "/api/v1/report-runs/",
        "/api/v1/report-runs/{public_id}/",
        "/api/v1/report-runs/{public_id}/approve/",
        "/api/v1/report-runs/{public_id}/submit/",
        "/api/v1/report-runs/{public_id}/recompute/",
        "/api/v1/report-runs/{public_id}/xlsx/",
        "/api/v1/report-runs/{public_id}/pdf/",
    ):
        assert path in paths, path
    run_params = {p["name"] for p in paths["/api/v1/report-runs/"]["get"]["parameters"]}
    assert {"definition", "status", "period", "cursor", "page_size"} <= run_params
    assert "202" in paths["/api/v1/report-runs/"]["post"]["responses"]
    assert "put" not in paths["/api/v1/report-runs/{public_id}/"]
    pdf = paths["/api/v1/report-runs/{public_id}/pdf/"]["get"]["responses"]["200"]["content"]
    assert pdf["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert "409" in paths["/api/v1/report-runs/{public_id}/approve/"]["post"]["responses"]


def test_schema_generates_without_warnings():
    """The `manage.py spectacular --validate --fail-on-warn` check, for the whole API."""
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)


# --- Django admin ----------------------------------------------------------------------------------------


def test_admin_pages_and_a_definition_through_the_service(client, admin, official, to_so):
    run = factories.computed(official, to_so)
    client.force_login(admin)
    for url in (
        "/admin/reports/reportdefinition/",
        "/admin/reports/reportdefinition/add/",
        f"/admin/reports/reportdefinition/{to_so.pk}/change/",
        "/admin/reports/reportrun/",
        f"/admin/reports/reportrun/{run.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    form = {
        "code": "BC-ADMIN",
        "name": "Báo cáo từ trang quản trị",
        "recipient": factories.org("CUC_VT").pk,
        "period_type": "half_year",
        "cutoff_day": 0,
        "deadline_days": 7,
        "heading": "",
        "intro": "",
        "active": "on",
    }
    bad = '[{"title": "A", "indicators": ["stations.none"]}]'
    response = client.post("/admin/reports/reportdefinition/add/", {**form, "sections": bad})
    assert response.status_code == 200 and "stations.none" in response.content.decode()
    good = '[{"title": "A", "indicators": ["cables.km_duct_built"], "by": "operator"}]'
    response = client.post("/admin/reports/reportdefinition/add/", {**form, "sections": good})
    assert response.status_code == 302, response.content.decode()[:2000]
    made = ReportDefinition.objects.get(code="BC-ADMIN")
    assert made.sections[0]["by"] == "operator" and made.recipient.code == "CUC_VT"
    actions = {"action": "approve", "_selected_action": [run.pk]}
    assert client.post("/admin/reports/reportrun/", actions).status_code == 302
    run.refresh_from_db()
    assert run.status == "approved" and run.approved_by == admin


def test_admin_is_closed_to_officials(client, official, to_so):
    official.is_staff = True
    official.save()
    client.force_login(official)
    assert client.get(f"/admin/reports/reportdefinition/{to_so.pk}/change/").status_code in (
        302,
        403,
    )
