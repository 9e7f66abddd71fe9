"""reports.services on real PostGIS, no mocks of the domain: definitions checked against the
indicator registry, one run per report and period (also when asked twice at once), computation as of
the cut-off with the previous period and last year, a failing indicator, review, approval,
submission and the daily queueing. The worker is never asked here (the on-commit callbacks are
captured, not run); tests/test_tasks.py runs it for real."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import translation

from core import indicators, outbox
from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.models import Notification
from reports import periods, services
from reports.models import ReportDefinition, ReportRun
from reports.tests import factories
from reports.tests.factories import today

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The messages are asserted in English (the portal's language is Vietnamese)."""
    with translation.override("en"):
        yield


@pytest.fixture
def admin(role_user):
    return role_user("administrator")


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def report(admin):
    return factories.definition(admin)


@pytest.fixture
def failing_indicator():
    """A registered indicator that raises while ``state["fail"]`` (removed from the registry
    afterwards, so no other test sees it)."""
    state = {"fail": True, "calls": 0}

    @indicators.indicator("tests.failing", "Always failing", "count", dimensions=("operator",))
    def failing(window, by=None):
        state["calls"] += 1
        if state["fail"]:
            raise RuntimeError("the test database is on fire")
        return [] if by else 7

    yield state
    indicators.REGISTRY.pop("tests.failing", None)


# --- Definitions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"sections": [{"title": "A", "indicators": ["stations.nothing"]}]},
            "sections",
            "stations.nothing",
        ),
        (
            {"sections": [{"title": "A", "indicators": ["cables.km_duct_built"], "by": "channel"}]},
            "sections",
            "channel",
        ),
        (
            {
                "sections": [
                    {
                        "title": "A",
                        "indicators": ["spam_reports.reports_received", "agreements.tasks_done"],
                        "by": "channel",
                    }
                ]
            },
            "sections",
            "agreements.tasks_done",
        ),
        ({"sections": []}, "sections", "at least one section"),
        ({"sections": None}, "sections", "at least one section"),
        ({"sections": "stations.count"}, "sections", "at least one section"),
        ({"sections": [{"indicators": ["stations.count"]}]}, "sections", "no title"),
        ({"sections": [{"title": "A", "indicators": []}]}, "sections", "names no indicator"),
        ({"sections": [{"title": "A", "indicators": [["stations.count"]]}]}, "sections", "unknown"),
        ({"sections": [{"title": "A", "indicators": [{}]}]}, "sections", "unknown"),
        (
            {"sections": [{"title": "A", "indicators": ["stations.count"], "by": ["x"]}]},
            "sections",
            "dimension",
        ),  # fmt: skip
        ({"sections": ["stations.count"]}, "sections", "not an object"),
        ({"cutoff_day": 29}, "cutoff_day", "1 to 28"),
        ({"deadline_days": 91}, "deadline_days", "90"),
        ({"period_type": "week"}, "period_type", "period"),
        ({"name": ""}, "name", "name"),
        ({"recipient": "VIETTEL"}, "recipient", "operator"),
    ],
)
def test_bad_definition_is_refused_and_nothing_is_saved(admin, change, field, message):
    before = ReportDefinition.objects.count()
    with pytest.raises(InvalidInput) as caught:
        factories.definition(admin, **change)
    errors = caught.value.errors
    assert field in errors, errors
    assert message.lower() in " ".join(str(m) for m in errors[field]).lower(), errors
    assert ReportDefinition.objects.count() == before


def test_definition_with_a_code_taken_or_an_unknown_field(admin, report):
    with pytest.raises(InvalidInput) as caught:
        factories.definition(admin, code=report.code)
    assert "code" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        factories.definition(admin, colour="red")
    assert "colour" in caught.value.errors


@pytest.mark.parametrize(
    "role", ["city_official", "national_official", "operator_viettel", "agency_api_client"]
)
def test_only_administrators_edit_definitions(role_user, report, role):
    user = role_user(role)
    with pytest.raises(PermissionDenied):
        factories.definition(user)
    with pytest.raises(PermissionDenied):
        services.save_definition(user, report, name="Đổi tên")
    report.refresh_from_db()
    assert report.name != "Đổi tên"


def test_administrator_changes_a_definition(admin, report):
    sections = [{"title": "Trạm BTS", "indicators": ["stations.count"], "by": "operator"}]
    changed = services.save_definition(admin, report, sections=sections, cutoff_day=15)
    changed.refresh_from_db()
    assert (changed.sections, changed.cutoff_day) == (sections, 15)


# --- Asking for a run ------------------------------------------------------------------------------------


def test_a_period_not_closed_is_refused(official, report):
    current = periods.containing("month", today(), 0)
    future = current.shifted(14, 0)
    for key in (current.key, future.key):
        with pytest.raises(InvalidInput) as caught:
            services.request_run(official, report, key)
        assert "not closed" in str(caught.value.errors["period"][0])
    with pytest.raises(InvalidInput):  # the cut-off is today: still open
        services.request_run(official, report, current.key, today=current.cutoff)
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize("key", ["2026-13", "2026-Q1", "", "tháng 10"])
def test_a_key_that_is_no_period_of_the_report(official, report, key):
    with pytest.raises(InvalidInput) as caught:
        services.request_run(official, report, key)
    assert "period" in caught.value.errors
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    "role", ["operator_viettel", "agency_api_client", "operator_api_client", "no_role"]
)
def test_only_officials_ask_for_runs(role_user, report, role):
    with pytest.raises(PermissionDenied):
        services.request_run(role_user(role), report, factories.latest(report).key)
    assert not ReportRun.objects.exists()


def test_one_run_per_report_and_period(
    official, role_user, report, django_capture_on_commit_callbacks
):
    key = factories.latest(report).key
    with django_capture_on_commit_callbacks() as first:
        run = services.request_run(official, report, key)
    with django_capture_on_commit_callbacks() as second:
        again = services.request_run(role_user("national_official"), report, key)
    assert again.pk == run.pk and ReportRun.objects.count() == 1
    assert len(first) == 1 and len(second) == 0  # queued on the worker once
    per = periods.parse("month", key)
    assert (run.status, run.period_start, run.cutoff) == ("queued", per.start, per.cutoff)
    assert run.deadline == per.cutoff + timedelta(days=report.deadline_days)
    assert run.requested_by == official


def test_a_failed_run_is_queued_again(
    admin, official, failing_indicator, django_capture_on_commit_callbacks
):
    sections = [{"title": "Thử", "indicators": ["tests.failing"], "by": "operator"}]
    report = factories.definition(admin, sections=sections)
    run = factories.computed(official, report)
    assert run.status == "failed" and run.attempts == 1
    failing_indicator["fail"] = False  # the cause is gone
    with django_capture_on_commit_callbacks() as queued:
        again = services.request_run(official, report, run.period_key)
    assert again.pk == run.pk and again.status == "queued" and again.error == ""
    assert len(queued) == 1
    done = services.compute(run.pk)
    assert (done.status, done.attempts) == ("ready", 2)
    assert done.snapshot["sections"][0]["rows"][0]["value"] == 7


# Two officials ask for the same report at the same moment: one run, computed once.
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_make_one_run(reference_data, admin, role_user, monkeypatch):
    official = role_user("city_official")
    report = factories.definition(admin)
    key = factories.latest(report).key
    queued = []
    # What the outbox sends after each commit is recorded here, not sent to a broker.
    monkeypatch.setattr(outbox, "_publish", lambda message: queued.append(message.args[0]))
    barrier = threading.Barrier(6)
    results, errors = [], []

    def ask():
        try:
            barrier.wait(timeout=20)
            results.append(services.request_run(official, report, key).pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == 6 and len(set(results)) == 1
    assert ReportRun.objects.filter(definition=report).count() == 1
    assert queued == results[:1]


# --- Computing a run ---------------------------------------------------------------------------------------


@pytest.fixture
def undergrounding(official, report):
    """Duct reported before last year's cut-off (100 m), before the previous period's (200 m) and
    on the cut-off day of the report's latest closed period (300 m)."""
    per = factories.latest(report)
    _, segment = factories.project(official)
    factories.progress(official, segment, per.last_year(0).cutoff - timedelta(days=2), duct_m=100)
    factories.progress(official, segment, per.shifted(-1, 0).cutoff - timedelta(days=2), 200, 20)
    factories.progress(official, segment, per.cutoff, duct_m=300, cable_m=40)
    return segment


def _row(snapshot, key):
    return next(r for s in snapshot["sections"] for r in s["rows"] if r["key"] == key)


def test_snapshot_holds_the_indicators_values_as_of_the_cutoff(official, report, undergrounding):
    run = factories.computed(official, report)
    assert (run.status, run.progress, run.attempts, run.error) == ("ready", 100, 1, "")
    per = factories.latest(report)
    snapshot = run.snapshot
    assert (snapshot["period_key"], snapshot["cutoff"]) == (per.key, per.cutoff.isoformat())
    assert [s["title"] for s in snapshot["sections"]] == [s["title"] for s in report.sections]

    duct = _row(snapshot, "cables.km_duct_built")
    assert duct["value"] == pytest.approx(0.6, abs=1e-3)
    assert duct["previous"] == pytest.approx(0.3, abs=1e-3)
    assert duct["last_year"] == pytest.approx(0.1, abs=1e-3)
    assert duct["unit"] == "km"
    cable = _row(snapshot, "cables.km_cable_pulled")
    assert (cable["value"], cable["previous"]) == (pytest.approx(0.06), pytest.approx(0.02))
    # The same numbers as the indicators give for each period's own window.
    windows = {
        "value": per,
        "previous": per.shifted(-1, 0),
        "last_year": per.last_year(0),
    }
    for section in snapshot["sections"]:
        for row in section["rows"]:
            indicator = indicators.get(row["key"])
            for column, window in windows.items():
                expected = indicator.value(as_of=window.cutoff, start=window.start)
                assert row[column] == pytest.approx(expected), (row["key"], column)
            if section["by"]:
                expected = indicator.value(as_of=per.cutoff, start=per.start, by=section["by"])
                assert [(b["key"], b["value"]) for b in row["breakdown"]] == [
                    (str(e["key"]), pytest.approx(e["value"])) for e in expected
                ]
            else:
                assert row["breakdown"] == []
    assert sum(b["value"] for b in duct["breakdown"]) == pytest.approx(0.6, abs=1e-3)
    assert run.xlsx.name.endswith(".xlsx") and run.pdf.name.endswith(".pdf")
    with run.pdf.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert Notification.objects.filter(recipient=official, url__contains=str(run.public_id))


def test_regenerating_a_past_period_gives_the_same_numbers(official, report, undergrounding):
    run = factories.computed(official, report)
    first = run.snapshot
    # Work reported later, dated after the cut-off (today), changes today's figures only.
    factories.progress(official, undergrounding, today(), duct_m=50, cable_m=10)
    now = indicators.get("cables.km_duct_built").value(as_of=today())
    assert now == pytest.approx(0.65, abs=1e-3)
    again = services.recompute(official, run)
    assert again.status == "queued"
    again = services.compute(run.pk)
    assert again.status == "ready" and again.attempts == 2
    assert again.snapshot["sections"] == first["sections"]


def test_a_failing_indicator_fails_the_run_cleanly(admin, official, report, failing_indicator):
    sections = [
        {"title": "Hạ ngầm", "indicators": ["cables.km_duct_built"], "by": ""},
        {"title": "Hỏng", "indicators": ["tests.failing"], "by": "operator"},
    ]
    broken = factories.definition(admin, sections=sections)
    run = factories.computed(official, broken)
    assert run.status == "failed"
    assert "tests.failing" in run.error and "on fire" in run.error
    assert run.snapshot is None and not run.xlsx and not run.pdf
    assert run.progress == 0 and run.finished_at is not None
    # Other runs go on.
    other = factories.computed(official, report)
    assert other.status == "ready" and other.snapshot


def test_compute_leaves_a_finished_run_alone(official, report):
    run = factories.computed(official, report)
    stamp = run.finished_at
    again = services.compute(run.pk)
    assert (again.status, again.attempts, again.finished_at) == ("ready", 1, stamp)
    assert services.compute(10**9) is None  # a run deleted meanwhile


def test_compute_refuses_a_period_not_closed_on_the_day_it_runs(official, report):
    run = factories.requested(official, report)
    run = services.compute(run.pk, today=run.cutoff)  # e.g. a clock set back
    assert run.status == "failed" and "not closed" in run.error
    assert run.snapshot is None


# --- Review, approval, submission ---------------------------------------------------------------------------


def test_approve_and_submit(official, role_user, report):
    receiver = role_user("agency_api_client")  # CUC_VT
    report = services.save_definition(
        role_user("administrator"), report, recipient=factories.org("CUC_VT")
    )
    run = factories.computed(official, report)
    national = role_user("national_official")
    approved = services.approve(national, run)
    assert (approved.status, approved.approved_by, approved.submitted_at) == (
        "approved",
        national,
        None,
    )
    assert approved.approved_at is not None
    submitted = services.submit(official, approved)
    assert submitted.status == "submitted" and submitted.submitted_at is not None
    assert Notification.objects.filter(recipient=receiver, url__contains=str(run.public_id))


def test_illegal_moves_are_errors(official, report):
    run = factories.requested(official, report)
    with pytest.raises(InvalidTransition):
        services.approve(official, run)  # not computed
    run = services.compute(run.pk)
    with pytest.raises(InvalidTransition):
        services.submit(official, run)  # not approved
    run = services.approve(official, run)
    with pytest.raises(InvalidTransition):
        services.approve(official, run)
    with pytest.raises(InvalidTransition):
        services.recompute(official, run)  # approved figures are not computed again
    run = services.submit(official, run)
    for move in (services.approve, services.submit, services.recompute):
        with pytest.raises(InvalidTransition):
            move(official, run)
    run.refresh_from_db()
    assert run.status == "submitted"


@pytest.mark.parametrize(
    "role", ["operator_viettel", "agency_api_client", "operator_api_client", "no_role"]
)
def test_only_officials_review(role_user, official, report, role):
    run = factories.computed(official, report)
    user = role_user(role)
    for move in (services.approve, services.recompute):
        with pytest.raises(PermissionDenied):
            move(user, run)
    run = services.approve(official, run)
    with pytest.raises(PermissionDenied):
        services.submit(user, run)
    run.refresh_from_db()
    assert run.status == "approved"


def test_recompute_queues_a_ready_run(official, report, django_capture_on_commit_callbacks):
    run = factories.computed(official, report)
    with django_capture_on_commit_callbacks() as queued:
        run = services.recompute(official, run)
    assert run.status == "queued" and run.progress == 0 and len(queued) == 1


# --- Daily queueing ---------------------------------------------------------------------------------------


def test_queue_due_runs_is_idempotent(admin, django_capture_on_commit_callbacks):
    monthly = factories.definition(admin, cutoff_day=15)
    quarterly = factories.definition(admin, period_type="quarter")
    factories.definition(admin, active=False)
    day = today()
    with django_capture_on_commit_callbacks() as first_queued:
        first = services.queue_due_runs(today=day)
    assert {(r.definition_id, r.period_key) for r in first} == {
        (monthly.pk, periods.latest_closed("month", day, 15).key),
        (quarterly.pk, periods.latest_closed("quarter", day, 0).key),
    }
    assert len(first_queued) == 2
    with django_capture_on_commit_callbacks() as second_queued:
        assert services.queue_due_runs(today=day) == []
    assert second_queued == [] and ReportRun.objects.count() == 2
    assert all(r.requested_by is None for r in ReportRun.objects.all())


def test_a_run_finished_meanwhile_keeps_its_result(official, report, monkeypatch):
    """A second delivery of the task computing a run another one has finished (and an official
    approved meanwhile) does not overwrite it, whether it ends well or fails."""
    from reports import documents

    run = factories.computed(official, report)
    approved = services.approve(official, run)
    snapshot = approved.snapshot
    real_pdf = documents.pdf

    def behind(mode):
        def pdf(data):
            # While this computation runs, the other one finishes and the run is approved.
            ReportRun.objects.filter(pk=run.pk).update(status="approved")
            if mode == "fail":
                raise RuntimeError("disk full")
            return real_pdf(data)

        return pdf

    for mode in ("ok", "fail"):
        ReportRun.objects.filter(pk=run.pk).update(status="running")  # a redelivered task
        monkeypatch.setattr(documents, "pdf", behind(mode))
        after = services.compute(run.pk)
        assert after.status == "approved" and after.error == "", mode
        assert after.snapshot == snapshot and after.approved_by == official


def test_every_move_bumps_the_version(official, report):
    """The people's moves (REPORT_RUN.perform) and the system's, failing included, each make a new
    version of the run: a page or client that read an older one is told it is stale (409)."""
    run = factories.requested(official, report)
    assert run.version == 1
    run = services.compute(run.pk)  # started, then finished
    assert run.status == "ready" and run.version == 3
    with pytest.raises(Conflict):
        services.approve(official, run, expected_version=2)
    run = services.recompute(official, run, expected_version=3)
    assert run.status == "queued" and run.version == 4
    assert services.fail_run(run.pk, "lost") == 1
    run.refresh_from_db()
    assert run.status == "failed" and run.version == 5
    run = services.retry(official, run, expected_version=5)
    assert run.status == "queued" and run.version == 6
