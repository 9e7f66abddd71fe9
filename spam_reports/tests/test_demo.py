"""The spam demo (spam_reports/demo.py): believable, consistent and loaded once.

Loaded once for the module (twice, to prove the second load adds nothing) inside a transaction that
is rolled back at the end, so the test database is left as it was.
"""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Count
from django.test import override_settings
from django.utils import timezone

from core import demo as core_demo
from core.models import ImportJob, User
from spam_reports import demo, selectors
from spam_reports.models import (
    CaseMonth,
    DailyStat,
    DoNotCallEntry,
    Evidence,
    InspectionFollowUp,
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)
from spam_reports.tests.factories import assert_rollups_match

pytestmark = pytest.mark.django_db

MODELS = (
    SpamReport,
    SpamCase,
    OperatorAction,
    DoNotCallEntry,
    Evidence,
    SubscriberInspection,
    InspectionFollowUp,
    ImportJob,
    DailyStat,
    CaseMonth,
)


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            core_demo.load()
            started = time.perf_counter()
            first = demo.load()
            seconds = time.perf_counter() - started
            after_first = _counts()
            second = demo.load()
            yield {"first": first, "second": second, "after_first": after_first, "s": seconds}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_a_second_load_adds_nothing(loaded):
    first = loaded["first"]
    assert 19_000 <= first["reports"] <= 21_000
    assert first["reports"] == SpamReport.objects.count()
    assert first["imports"] == ImportJob.objects.count() >= 7
    assert first["refused_rows"] > 0 and first["duplicates"] >= 25
    assert first["inspections"] == len(demo.INSPECTIONS)
    assert 300 <= first["do_not_call"] == DoNotCallEntry.objects.count()
    assert not any(v for k, v in loaded["second"].items())
    assert _counts() == loaded["after_first"]
    assert loaded["s"] < 90, loaded["s"]


def test_senders_are_many_and_skewed(loaded):
    per_sender = dict(
        SpamReport.objects.values_list("sender").annotate(n=Count("id")).values_list("sender", "n")
    )
    assert 1_400 <= len(per_sender) <= 1_600
    ranked = sorted(per_sender.values(), reverse=True)
    assert ranked[0] >= 1_406 and ranked[4] >= 200  # a few senders with hundreds or more
    assert sum(1 for n in ranked if n <= 3) >= 300  # and a long tail
    kinds = set(SpamCase.objects.values_list("sender_kind", flat=True))
    assert kinds == {"phone", "short_code", "brandname", "email"}
    operators = set(SpamCase.objects.values_list("operator__code", flat=True))
    assert {"VIETTEL", "VNPT", "MOBIFONE", "VIETNAMOBILE"} <= operators
    assert SpamCase.objects.filter(sender__startswith="+855").exists()  # foreign scam calls
    assert set(SpamReport.objects.values_list("channel", flat=True)) == {
        "sms",
        "call",
        "email",
        "other",
    }
    origins = set(SpamReport.objects.values_list("origin", flat=True))
    assert origins == {"export_5656", "operator_feed", "official"}


def test_the_journey_case(loaded):
    case = SpamCase.objects.get(sender=demo.JOURNEY_SENDER, status__in=SpamCase.OPEN)
    assert case.report_count == demo.JOURNEY_REPORTS == 1_406
    assert case.operator.code == "VNPT"
    assert case.flags == ["call_outside_hours", "ordinary_number_ads"]
    assert case.status == "verifying" and not case.actions.exists()
    raws = set(case.reports.values_list("sender_raw", flat=True))
    assert {"0912345678", "84912345678", "0912 345 678"} <= raws
    assert set(case.reports.values_list("channel", flat=True)) == {"sms", "call"}


def test_every_status_and_every_kind_of_handling(loaded):
    assert set(SpamCase.objects.values_list("status", flat=True)) == set(SpamCase.Status.values)
    actions = OperatorAction.objects.all()
    assert set(actions.values_list("outcome", flat=True)) == {"", *OperatorAction.Outcome.values}
    answered = [a for a in actions if a.outcome]
    assert any(not a.is_overdue for a in answered) and any(a.is_overdue for a in answered)
    pending = [a for a in actions if a.is_pending]
    assert any(a.is_overdue for a in pending) and any(not a.is_overdue for a in pending)
    assert actions.filter(overdue_at__isnull=False).count() == sum(a.is_overdue for a in pending)
    assert not actions.filter(outcome="declined", response_note="").exists()
    blocked = SpamCase.objects.filter(status="blocked")
    assert blocked.exists()
    assert not SpamReport.objects.filter(case__in=blocked, status="received").exists()
    assert (
        SpamCase.objects.filter(status__in=["confirmed", "blocked"], confirmed_at=None).count() == 0
    )
    # A closed sender came back: its new report opened a successor case.
    again = SpamCase.objects.values("sender").annotate(n=Count("id")).filter(n__gt=1)
    assert again.count() >= 3
    assert SpamReport.objects.filter(status="invalid").exclude(invalid_reason="").count() >= 40
    for flag in ("ordinary_number_ads", "sms_outside_hours", "call_outside_hours",
                 "too_many_messages", "too_many_calls", "do_not_call"):  # fmt: skip
        assert SpamCase.objects.filter(flags__contains=[flag]).exists(), flag


def test_counters_and_rollups_equal_real_counts(loaded):
    assert_rollups_match()
    for case in SpamCase.objects.order_by("-report_count")[:20]:
        assert case.report_count == case.reports.count()


def test_imports_show_their_row_errors(loaded):
    jobs = ImportJob.objects.all()
    assert set(jobs.values_list("status", flat=True)) == {"done"}
    exports = jobs.filter(original_name__startswith="xuat_5656")
    assert exports.count() >= 3
    assert all(j.errors and j.errors[0]["row"] > 1 for j in exports)
    assert jobs.filter(original_name="phan_anh_viettel.csv").get().duplicate_count >= 25


def test_statistics_read_the_demo(loaded):
    minh = User.objects.get(username="minh")
    today = timezone.localdate()
    month = selectors.statistics(minh, selectors.period("month", today))
    assert month["totals"]["received"] > 0 and month["top_senders"]
    days = selectors.Period("quarter", today - timedelta(days=90), today + timedelta(days=1))
    stats = selectors.statistics(minh, days)
    assert stats["totals"]["received"] == SpamReport.objects.count()
    assert stats["top_senders"][0]["sender"] == demo.JOURNEY_SENDER
    assert stats["totals"]["blocked"] > 0 and 0 < stats["totals"]["on_time_pct"] < 100
    assert {r["short_name"] for r in stats["handling"]} >= {"Viettel", "VNPT", "MobiFone"}


def test_inspections_with_follow_ups(loaded):
    inspections = SubscriberInspection.objects.all()
    assert set(inspections.values_list("operator__code", flat=True)) == {
        "VIETTEL",
        "VNPT",
        "MOBIFONE",
    }
    assert set(inspections.values_list("status", flat=True)) == {"open", "remedied", "closed"}
    assert InspectionFollowUp.objects.count() >= 4
    assert inspections.filter(overdue_notified_on__isnull=False).count() == 1
    assert Evidence.objects.count() >= 5
