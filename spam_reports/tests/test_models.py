"""The rollups kept by database triggers (migration 0002): the case's report count and first / last
seen, DailyStat and CaseMonth always equal a GROUP BY over the reports, whatever wrote them (a form,
an import's COPY, a bulk update or delete), and the models' own invariants."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from spam_reports import services
from spam_reports.models import CaseMonth, DailyStat, SpamCase, SpamReport
from spam_reports.tests.factories import (
    assert_rollups_match,
    csv_file,
    days_ago,
    hanoi,
    org,
    report,
    run_import,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(role_user):
    return role_user("city_official")


def test_counters_and_rollups_follow_single_reports(official):
    first = report(official, received_at=days_ago(40, hour=9))
    report(official, "+84912345678", received_at=days_ago(3, hour=23, minute=30))
    report(official, "84-912-345-678", channel="call", content="", received_at=days_ago(3, 6))
    report(official, "Shopee", received_at=days_ago(2))
    case = SpamCase.objects.get(pk=first.case_id)
    assert case.report_count == 3
    assert case.first_seen_at == days_ago(40, hour=9)
    assert case.last_seen_at == days_ago(3, hour=23, minute=30)
    vnpt = org("VNPT")
    day = timezone.localdate() - timedelta(days=3)
    stats = {(s.channel, s.operator_id): s.received for s in DailyStat.objects.filter(day=day)}
    assert stats == {("sms", vnpt.pk): 1, ("call", vnpt.pk): 1}
    # A brandname has no operator of its own: its rows have operator NULL.
    assert DailyStat.objects.get(operator=None).received == 1
    assert sum(CaseMonth.objects.filter(case=case).values_list("reports", flat=True)) == 3
    assert_rollups_match()


def test_rollups_equal_group_by_after_every_kind_of_write(official):
    # Inserts: single reports on several days and months, then an import (COPY + INSERT … SELECT).
    reports = [
        report(official, "0912345678", received_at=days_ago(d, hour=h))
        for d, h in [(1, 9), (1, 23), (35, 8), (70, 12)]
    ]
    report(official, "0961 234 567", channel="call", content="", received_at=days_ago(5, 19))
    report(official, "FE CREDIT", received_at=days_ago(5, 12))
    report(official, "ads@khuyenmai.vn", channel="email", recipient="lan@gmail.com")
    rows = [["channel", "sender", "recipient", "content", "received_at"]]
    for i in range(30):
        when = timezone.localtime(days_ago(i % 9 + 1, hour=8 + i % 12))
        sender = ["0912345678", "0977 111 222", "8088", "VAYNHANH"][i % 4]
        rows.append(["sms", sender, f"0983 000 {i:03d}", f"Tin {i}", f"{when:%d/%m/%Y %H:%M}"])
    job = run_import(official, csv_file(rows))
    assert job.status == "done" and job.created_count == 30, job.errors
    assert_rollups_match()

    # Status updates: a case confirmed (its reports verified), one report marked invalid.
    case = SpamCase.objects.get(pk=reports[0].case_id)
    services.change_status(official, case, "confirmed")
    assert case.reports.filter(status="verified").count() == case.report_count
    services.mark_report(official, reports[1], valid=False, reason="Số người nhận gõ sai")
    assert_rollups_match()

    # Operator correction: the number moved to Viettel; its reports (and their statistics) follow.
    services.set_case_operator(official, case, org("VIETTEL"))
    assert set(case.reports.values_list("sender_operator__code", flat=True)) == {"VIETTEL"}
    assert_rollups_match()

    # A bulk update of the time received moves reports between days and months, and first / last.
    SpamReport.objects.filter(pk=reports[3].pk).update(received_at=days_ago(80, hour=7))
    assert_rollups_match()

    # Deletes: the first and the last report of a case, then all of another case's reports.
    SpamReport.objects.filter(pk__in=[reports[3].pk, reports[1].pk]).delete()
    assert_rollups_match()
    other = SpamCase.objects.get(sender="+84977111222")
    other.reports.all().delete()
    assert SpamCase.objects.get(pk=other.pk).report_count == 0
    assert_rollups_match()


def test_case_first_and_last_seen_shrink_when_edge_reports_go(official):
    early = report(official, received_at=days_ago(20))
    middle = report(official, received_at=days_ago(10))
    late = report(official, received_at=days_ago(2))
    SpamReport.objects.filter(pk__in=[early.pk, late.pk]).delete()
    case = SpamCase.objects.get(pk=middle.case_id)
    assert case.report_count == 1
    assert case.first_seen_at == case.last_seen_at == middle.received_at


def test_one_open_case_per_sender_is_a_database_rule(official):
    case = report(official).case
    with pytest.raises(IntegrityError), transaction.atomic():
        SpamCase.objects.create(sender=case.sender, sender_kind="phone")
    SpamCase.objects.filter(pk=case.pk).update(status="closed")
    successor = SpamCase.objects.create(sender=case.sender, sender_kind="phone")
    assert successor.status == "new"


def test_a_report_cannot_be_received_in_the_future_even_written_directly(official):
    case = report(official).case
    with pytest.raises(IntegrityError), transaction.atomic():
        SpamReport.objects.create(
            case=case,
            channel="sms",
            sender_raw="x",
            sender=case.sender,
            sender_kind="phone",
            received_at=timezone.now() + timedelta(hours=1),
            origin="official",
            fingerprint="00000000-0000-0000-0000-000000000001",
        )


def test_hanoi_day_boundaries_in_the_daily_rollup(official):
    # 23:59:59 and 00:00:00 Hanoi time fall on different days (UTC+7, not UTC).
    day = timezone.localdate() - timedelta(days=4)
    before = hanoi(day.year, day.month, day.day, 23, 59, 59)
    report(official, "Shopee", received_at=before)
    report(official, "Shopee", received_at=before + timedelta(seconds=1))
    days = sorted(DailyStat.objects.values_list("day", "received"))
    assert days == [(day, 1), (day + timedelta(days=1), 1)]
