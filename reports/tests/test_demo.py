"""The reports demo (reports/demo.py): the two reports the city sends, with their latest runs
computed, and loaded once.

Loaded once for the module (twice, to prove the second load adds nothing) inside a transaction that
is rolled back at the end, so the test database is left as it was.
"""

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from core import demo as core_demo
from core import indicators
from core.models import Notification, User
from reports import demo, periods, selectors, services
from reports.models import ReportDefinition, ReportRun
from sync import demo as sync_demo

pytestmark = pytest.mark.django_db

MONTHLY = "Báo cáo tháng về hạ tầng viễn thông"
QUARTERLY = "Báo cáo quý gửi Cục Viễn thông"


def _counts():
    return (
        ReportDefinition.objects.count(),
        ReportRun.objects.count(),
        Notification.objects.count(),
    )


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            core_demo.load()
            sync_demo.load()  # the Cục's API client, as load_demo_data loads it
            first = demo.load()
            after_first = _counts()
            second = demo.load()
            yield {"first": first, "second": second, "after_first": after_first}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_a_second_load_adds_nothing(loaded):
    assert loaded["first"] == {"definitions": 2, "runs": 2}
    assert loaded["second"] == {"definitions": 0, "runs": 0}
    assert _counts() == loaded["after_first"]


def test_the_two_reports(loaded):
    monthly = ReportDefinition.objects.get(name=MONTHLY)
    assert (monthly.recipient.code, monthly.period_type) == ("SO_KHCN_HN", "month")
    assert (monthly.cutoff_day, monthly.deadline_days, monthly.active) == (15, 5, True)
    quarterly = ReportDefinition.objects.get(name=QUARTERLY)
    assert (quarterly.recipient.code, quarterly.period_type) == ("CUC_VT", "quarter")
    assert (quarterly.cutoff_day, quarterly.deadline_days, quarterly.active) == (0, 10, True)
    for report in (monthly, quarterly):
        assert services.check_sections(report.sections) == []
        keys = [k for s in report.sections for k in s["indicators"]]
        apps = {k.split(".")[0] for k in keys}
        assert apps == {"stations", "sharing", "cables", "spam_reports", "agreements"}
        assert not any("overdue" in indicators.get(k).tags for k in keys)  # day-of measures
        for section in report.sections:
            offer = all("operator" in indicators.get(k).dimensions for k in section["indicators"])
            if offer:
                assert section["by"] == "operator", section


def test_latest_runs_computed_one_submitted_one_ready(loaded):
    today = timezone.localdate()
    minh = User.objects.get(username="minh")
    runs = {r.definition.name: r for r in ReportRun.objects.select_related("definition")}
    assert set(runs) == {MONTHLY, QUARTERLY}
    for run in runs.values():
        report = run.definition
        per = periods.latest_closed(report.period_type, today, report.cutoff_day)
        assert run.period_key == per.key and run.cutoff == per.cutoff
        assert run.snapshot and run.xlsx and run.pdf and run.error == ""
        assert run.requested_by == minh and run.attempts == 1
        rows = [r for s in run.snapshot["sections"] for r in s["rows"]]
        assert len(rows) == sum(len(s["indicators"]) for s in report.sections)
    quarterly, monthly = runs[QUARTERLY], runs[MONTHLY]
    assert quarterly.status == "submitted" and quarterly.approved_by == minh
    assert quarterly.submitted_at is not None
    assert monthly.status == "ready" and monthly.approved_by is None


def test_the_cuc_api_client_reads_the_submitted_report(loaded):
    sync = User.objects.get(username="cucvt-sync")
    assert [r.definition.name for r in selectors.runs(sync)] == [QUARTERLY]
    assert [d.name for d in selectors.definitions(sync)] == [QUARTERLY]
    assert not selectors.runs(User.objects.get(username="lan")).exists()  # Viettel's staff
