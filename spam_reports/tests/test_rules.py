"""The checks of Decree 91/2020/NĐ-CP (spam_reports.rules): each rule flags a case exactly when one of
its (valid) reports shows the breach, at the boundaries of the hours (Hanoi time), of the counts and
of the 24-hour windows; flags go again when the reports that showed them are marked invalid."""

from datetime import timedelta

import pytest
from django.utils import translation

from spam_reports import rules, services
from spam_reports.models import DoNotCallEntry, SpamCase
from spam_reports.tests.factories import csv_file, days_ago, report, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the portal's default language is Vietnamese)."""
    with translation.override("en"):
        yield


BRANDNAME = "FE CREDIT"  # an SMS from a brandname is not "advertising from an ordinary number"


@pytest.fixture
def official(role_user):
    return role_user("city_official")


def flags(obj):
    case_id = obj.case_id if hasattr(obj, "case_id") else obj.pk
    return SpamCase.objects.get(pk=case_id).flags


def test_every_rule_has_a_label_and_a_legal_basis():
    assert set(rules.RULES) == {
        "ordinary_number_ads",
        "sms_outside_hours",
        "call_outside_hours",
        "too_many_messages",
        "too_many_calls",
        "do_not_call",
    }
    for rule in rules.RULES.values():
        assert str(rule["label"]) and "91/2020" in str(rule["basis"])
    assert [str(x) for x in rules.labels(["do_not_call", "gone"])] == [
        "Recipient on the do-not-call list"
    ]


@pytest.mark.parametrize(
    "sender, channel, flagged",
    [
        ("0912 345 678", "sms", True),
        ("Shopee", "sms", False),
        ("8088", "sms", False),
        ("0912 345 678", "call", False),  # the rule is about messages
        ("0912 345 678", "other", False),
    ],
)
def test_advertising_from_an_ordinary_number(official, sender, channel, flagged):
    content = "" if channel == "call" else "Khuyến mãi 50% hôm nay"
    r = report(official, sender, channel=channel, content=content)
    assert ("ordinary_number_ads" in flags(r)) is flagged


@pytest.mark.parametrize(
    "hms, flagged",
    [
        ((0, 30, 0), True),
        ((6, 59, 59), True),
        ((7, 0, 0), False),
        ((12, 0, 0), False),
        ((21, 59, 59), False),
        ((22, 0, 0), True),
        ((23, 59, 59), True),
    ],
)
def test_messages_outside_07_to_22_hanoi_time(official, hms, flagged):
    r = report(official, BRANDNAME, received_at=days_ago(2, *hms))
    assert flags(r) == (["sms_outside_hours"] if flagged else [])


@pytest.mark.parametrize(
    "hms, flagged",
    [
        ((7, 59, 59), True),
        ((8, 0, 0), False),
        ((16, 59, 59), False),
        ((17, 0, 0), True),
        ((21, 0, 0), True),  # inside the SMS hours, outside the calls' hours
    ],
)
def test_calls_outside_08_to_17_hanoi_time(official, hms, flagged):
    r = report(official, "0961 234 567", channel="call", content="", received_at=days_ago(2, *hms))
    assert flags(r) == (["call_outside_hours"] if flagged else [])


def _messages(official, offsets, recipient="0987 654 321", channel="sms", sender=BRANDNAME):
    start = days_ago(5, hour=10)
    content = "" if channel == "call" else None
    return [
        report(
            official,
            sender,
            channel=channel,
            recipient=recipient,
            content=content,
            received_at=start + offset,
        )
        for offset in offsets
    ]


H = timedelta(hours=1)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    "offsets, flagged",
    [
        ([0 * H, 1 * H, 2 * H], False),  # 3 messages: allowed
        ([0 * H, 1 * H, 2 * H, 3 * H], True),  # 4 in 24 hours
        ([0 * H, 1 * H, 2 * H, 24 * H - S], True),
        ([0 * H, 1 * H, 2 * H, 24 * H], False),  # exactly 24 h later: the first is out of it
        ([0 * H, 1 * H, 2 * H, 24 * H + S], False),
        ([24 * H + S, 0 * H, 1 * H, 2 * H], False),  # the same, filed out of order
        ([3 * H, 2 * H, 1 * H, 0 * H], True),  # filed newest first
        ([0 * H, 20 * H, 30 * H, 40 * H, 43 * H], True),  # a later window: 20, 30, 40, 43
    ],
)
def test_more_than_three_messages_to_one_recipient_in_24_hours(official, offsets, flagged):
    reports = _messages(official, offsets)
    assert ("too_many_messages" in flags(reports[-1])) is flagged


def test_four_messages_to_four_recipients_are_not_too_many(official):
    start = days_ago(5, hour=10)
    for i in range(4):
        r = report(official, BRANDNAME, recipient=f"0987 654 32{i}", received_at=start + i * H)
    assert flags(r) == []


@pytest.mark.parametrize(
    "offsets, flagged",
    [
        ([0 * H], False),
        ([0 * H, 5 * H], True),
        ([0 * H, 24 * H - S], True),
        ([0 * H, 24 * H + S], False),
    ],
)
def test_more_than_one_call_to_one_recipient_in_24_hours(official, offsets, flagged):
    # 10:00 + offsets: some fall outside the calls' hours; only the count rule is asserted here.
    reports = _messages(official, offsets, channel="call", sender="0961 234 567")
    assert ("too_many_calls" in flags(reports[-1])) is flagged
    assert "too_many_messages" not in flags(reports[-1])


def test_calls_and_messages_are_counted_apart(official):
    start = days_ago(5, hour=10)
    for i in range(3):
        report(official, "0961 234 567", received_at=start + i * H)
    r = report(official, "0961 234 567", channel="call", content="", received_at=start + 4 * H)
    assert "too_many_messages" not in flags(r) and "too_many_calls" not in flags(r)


@pytest.mark.parametrize(
    "registered_days_before_received, flagged",
    [(30, True), (1, True), (0, True), (-1, False)],  # -1: registered the day after
)
def test_recipient_on_the_do_not_call_list(official, registered_days_before_received, flagged):
    received = days_ago(3, hour=10)
    DoNotCallEntry.objects.create(
        number="+84987654321",
        registered_on=received.date() - timedelta(days=registered_days_before_received),
    )
    r = report(official, BRANDNAME, recipient="0987 654 321", received_at=received)
    assert ("do_not_call" in flags(r)) is flagged
    call = report(official, "8088", channel="call", content="", recipient="84987654321",
                  received_at=received)  # fmt: skip
    assert ("do_not_call" in flags(call)) is flagged
    rules.refresh_cases([r.case_id])
    assert ("do_not_call" in flags(r)) is flagged


def test_do_not_call_list_does_not_apply_to_e_mail(official):
    DoNotCallEntry.objects.create(number="+84987654321", registered_on=days_ago(90).date())
    r = report(official, "ads@shop.vn", channel="email", recipient="lan@gmail.com")
    assert flags(r) == []


def test_registering_numbers_normalises_them_and_skips_those_listed(official):
    added = services.register_do_not_call(
        official, ["0987 654 321", "84-987-654-321", "0912345678"]
    )
    assert added == 2
    assert services.register_do_not_call(official, ["+84987654321", " "]) == 0
    assert set(DoNotCallEntry.objects.values_list("number", flat=True)) == {
        "+84987654321",
        "+84912345678",
    }


def test_flags_accumulate_and_are_named_once(official):
    first = report(official, "0912345678", received_at=days_ago(4, hour=23))
    report(official, "0912345678", channel="call", content="", received_at=days_ago(3, hour=19))
    report(official, "0912345678", received_at=days_ago(2, hour=9))
    assert flags(first) == ["call_outside_hours", "ordinary_number_ads", "sms_outside_hours"]


def test_marking_the_reports_invalid_removes_their_flags(official):
    night = report(official, BRANDNAME, recipient="0912 000 111", received_at=days_ago(6, hour=23))
    reports = _messages(official, [0 * H, 1 * H, 2 * H, 3 * H])
    assert flags(night) == ["sms_outside_hours", "too_many_messages"]
    services.mark_report(official, reports[1], valid=False, reason="Tin nhắn giao dịch, không QC")
    assert flags(night) == ["sms_outside_hours"]
    services.mark_report(official, night, valid=False, reason="Sai giờ nhận")
    assert flags(night) == []
    services.mark_report(official, night, valid=True)  # valid again: the flag comes back
    assert flags(night) == ["sms_outside_hours"]


def test_not_spam_clears_the_flags(official):
    r = report(official, "0912345678", received_at=days_ago(2, hour=23))
    services.change_status(official, r.case, "not_spam", note="Tin nhắn của ngân hàng, đã xác minh")
    case = SpamCase.objects.get(pk=r.case_id)
    assert case.flags == [] and case.status == "not_spam"
    assert set(case.reports.values_list("status", flat=True)) == {"invalid"}


def test_imported_reports_are_flagged_too(official):
    start = days_ago(5, hour=10)
    rows = [["channel", "sender", "recipient", "content", "received_at"]]
    for i in range(4):
        when = (start + i * H).astimezone(start.tzinfo)
        rows.append(["sms", BRANDNAME, "0987654321", f"Vay {i}", f"{when:%d/%m/%Y %H:%M}"])
    rows.append(["cuộc gọi", "0961234567", "0987654321", "", f"{start.date():%d/%m/%Y} 18:30"])
    job = run_import(official, csv_file(rows))
    assert job.created_count == 5, job.errors
    assert SpamCase.objects.get(sender=BRANDNAME).flags == ["too_many_messages"]
    assert SpamCase.objects.get(sender="+84961234567").flags == ["call_outside_hours"]
