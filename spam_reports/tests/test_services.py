"""The rules of spam_reports.services: filing reports (what people type, bad input, duplicates,
permissions), cases per sender (one open case, even under concurrent submits; the status table),
assignments to operators and their answers, overdue flags, inspections, and the bulk import
(generic CSV, 5656 export, XLSX, row errors, duplicates, bad files, a resumed job)."""

import threading
import unicodedata
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone, translation

from core import imports, roles
from core.exceptions import InvalidInput, InvalidTransition, PermissionDenied
from core.models import ImportJob, Notification
from spam_reports import services
from spam_reports.models import (
    Evidence,
    InspectionFollowUp,
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)
from spam_reports.tests.factories import (
    assert_rollups_match,
    csv_file,
    days_ago,
    org,
    report,
    run_import,
    xlsx_file,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English (the portal's default language is Vietnamese)."""
    with translation.override("en"):
        yield


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def vnpt_staff(make_user):
    return make_user(roles.OPERATOR_STAFF, "VNPT")


@pytest.fixture
def case(official):
    """The journey's case: 0912 345 678 (a VinaPhone number, so VNPT's), advertising by SMS."""
    return report(official, "0912 345 678").case


# --- Filing a report: what people type ------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, channel, sender, kind",
    [
        ("0912 345 678", "sms", "+84912345678", "phone"),
        ("+84912345678", "sms", "+84912345678", "phone"),
        ("84-912-345-678", "call", "+84912345678", "phone"),
        ("00 84 912 345 678", "call", "+84912345678", "phone"),
        ("1900 1234", "call", "19001234", "short_code"),
        ("8088", "sms", "8088", "short_code"),
        ("Shopee", "sms", "SHOPEE", "brandname"),
        ("KhuyenMai@Ví-Dụ.VN", "email", "KhuyenMai@xn--v-d-rma6749a.vn", "email"),
    ],
)
def test_senders_are_normalised_and_the_raw_value_kept(official, raw, channel, sender, kind):
    content = "" if channel == "call" else "Khuyến mãi"
    recipient = "lan@gmail.com" if channel == "email" else "0987 654 321"
    r = report(official, raw, channel=channel, content=content, recipient=recipient)
    assert (r.sender, r.sender_kind, r.sender_raw) == (sender, kind, raw)
    assert r.case.sender == sender and r.case.sender_kind == kind
    assert r.origin == "official" and r.reported_by == official
    assert r.reporting_organization.code == "SO_KHCN_HN"


def test_operators_are_guessed_from_the_number_ranges(official):
    r = report(official, "0912 345 678", recipient="0961 234 567")
    assert r.sender_operator.code == "VNPT" and r.case.operator.code == "VNPT"
    assert r.recipient == "+84961234567" and r.recipient_operator.code == "VIETTEL"
    assert r.recipient_raw == "0961 234 567"
    brand = report(official, "Shopee", recipient="")
    assert brand.sender_operator is None and brand.recipient_operator is None
    given = report(official, "Shopee", recipient="0961 234 567", recipient_operator=org("MOBIFONE"))
    assert given.recipient_operator.code == "MOBIFONE"  # the ported number's real operator


HTML = '<script>alert("x")</script><b onmouseover=alert(1)>Vay tiền</b> & "khuyến mãi"'


@pytest.mark.parametrize(
    "content",
    [HTML, "Vay tiền 0% lãi\nGọi ngay: 0912 345 678 🎉", "x" * services.CONTENT_MAX],
    ids=["html-and-script", "multiline-emoji", "longest"],
)
def test_content_is_stored_as_given(official, content):
    r = report(official, "Shopee", content=content)
    assert SpamReport.objects.get(pk=r.pk).content == content


def test_nul_characters_are_dropped_from_content(official):
    r = report(official, "Shopee", content="Vay\x00 tiền")
    assert SpamReport.objects.get(pk=r.pk).content == "Vay tiền"


BAD = [
    ({"sender": "12345678901234"}, "sender"),  # not a number
    ({"sender": "+84 12"}, "sender"),
    ({"sender": "07700 900123"}, "sender"),  # a British number without its +
    ({"sender": "ĐẠI LÝ"}, "sender"),  # a brandname with accents
    ({"sender": "VAY<TIEN>"}, "sender"),
    ({"sender": "SHOPEEVIETNAM"}, "sender"),  # longer than 11 characters
    ({"sender": ""}, "sender"),
    ({"sender": "Shopee", "channel": "call", "content": ""}, "sender"),
    ({"channel": "fax"}, "channel"),
    ({"channel": ""}, "channel"),
    ({"recipient": "không rõ"}, "recipient"),
    ({"content": ""}, "content"),
    ({"content": "   \n "}, "content"),
    ({"content": "x" * (services.CONTENT_MAX + 1)}, "content"),
    ({"received_at": None}, "received_at"),
    ({"received_at": ""}, "received_at"),
    ({"received_at": "31/02/2026 10:00"}, "received_at"),
    ({"received_at": "hôm qua"}, "received_at"),
    ({"received_at": "01/01/1999 10:00"}, "received_at"),
    ({"received_at": lambda: timezone.now() + timedelta(minutes=30)}, "received_at"),
    ({"received_at": lambda: timezone.now() + timedelta(days=400)}, "received_at"),
]


@pytest.mark.parametrize("change, field", BAD, ids=[f"{f}-{i}" for i, (_c, f) in enumerate(BAD)])
def test_bad_input_is_refused_with_the_field_and_nothing_stored(official, change, field):
    values = {
        "channel": "sms",
        "sender": "0912 345 678",
        "recipient": "0987 654 321",
        "content": "Vay tiền nhanh",
        "received_at": days_ago(1),
        **{k: v() if callable(v) else v for k, v in change.items()},  # times: when the test runs
    }
    with pytest.raises(InvalidInput) as exc:
        services.submit_report(official, **values)
    assert field in exc.value.errors, exc.value.errors
    assert not SpamReport.objects.exists() and not SpamCase.objects.exists()


def test_every_bad_field_is_reported_at_once(official):
    with pytest.raises(InvalidInput) as exc:
        services.submit_report(
            official, channel="sms", sender="ĐẠI LÝ", recipient="abc", content="", received_at="x"
        )
    assert set(exc.value.errors) == {"sender", "recipient", "content", "received_at"}


def test_times_as_people_write_them(official):
    day = timezone.localdate() - timedelta(days=3)
    r = report(official, "Shopee", received_at=f"{day:%d/%m/%Y} 21:15")
    assert timezone.localtime(r.received_at).strftime("%d/%m/%Y %H:%M") == f"{day:%d/%m/%Y} 21:15"
    seconds = report(official, "Shopee", received_at=f"{day:%d/%m/%Y} 21:15:30")
    assert timezone.localtime(seconds.received_at).second == 30
    iso = report(official, "Shopee", received_at=f"{day:%Y-%m-%d}T14:15:00+00:00")
    assert timezone.localtime(iso.received_at).hour == 21  # UTC+7
    naive_iso = report(official, "Shopee", received_at=f"{day:%Y-%m-%d} 08:00")
    assert timezone.localtime(naive_iso.received_at).hour == 8  # naive times are Hanoi time
    # A few minutes ahead is a clock's drift, not the future.
    report(official, "Shopee", received_at=timezone.now() + timedelta(minutes=2))


def test_a_complaint_is_stored_once(official):
    when = days_ago(2)
    report(official, "0912 345 678", content="Vay tiền", received_at=when)
    with pytest.raises(InvalidInput) as exc:  # the same complaint, typed differently
        report(official, "+84 912 345 678", content=" Vay tiền ", received_at=when)
    assert "__all__" in exc.value.errors
    report(official, "0912 345 678", content="Vay tiền", received_at=when + timedelta(seconds=1))
    assert SpamReport.objects.count() == 2


def test_an_agency_id_is_stored_once(official, role_user):
    client = role_user("agency_api_client")
    r = report(client, "Shopee", external_id="CVT-2026-000123")
    assert (r.source, r.origin) == ("CUC_VT", "api")
    with pytest.raises(InvalidInput) as exc:
        report(client, "Shopee", external_id="CVT-2026-000123")
    assert "external_id" in exc.value.errors


@pytest.mark.parametrize(
    "name, allowed, origin",
    [
        ("city_official", True, "official"),
        ("national_official", True, "official"),
        ("administrator", True, "official"),
        ("operator_viettel", True, "operator_feed"),
        ("operator_api_client", True, "operator_feed"),
        ("agency_api_client", True, "api"),
        ("no_role", False, None),
        ("anonymous", False, None),
    ],
)
def test_who_may_file_a_report(role_user, name, allowed, origin):
    user = role_user(name)
    if not allowed:
        with pytest.raises(PermissionDenied):
            report(user, "Shopee")
        return
    assert report(user, "Shopee").origin == origin


def test_the_public_form_is_behind_a_setting(settings):
    settings.SPAM_PUBLIC_FORM = True
    r = report(None, "Shopee", origin="official")  # a citizen cannot claim to be an official
    assert r.origin == "public_form" and r.reported_by is None and r.reporting_organization is None


def test_evidence_is_content_checked(official):
    png = SimpleUploadedFile("anh-chup.png", PNG, content_type="image/png")
    r = report(official, "Shopee", evidence=[png])
    assert Evidence.objects.get(report=r).content_type == "image/png"
    renamed = SimpleUploadedFile("bien-ban.pdf", JPEG, content_type="application/pdf")
    with pytest.raises(InvalidInput) as exc:
        report(official, "Shopee", evidence=[renamed])
    assert "evidence" in exc.value.errors
    script = SimpleUploadedFile("x.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(InvalidInput):
        report(official, "Shopee", evidence=[script])
    assert SpamReport.objects.count() == 1


def test_the_5656_syntax_through_submit(official):
    sms = services.submit_5656(
        official,
        reporter="0987 654 321",
        message="S 0912345678 Vay tien nhanh",
        received_at=days_ago(1),
    )
    assert (sms.channel, sms.sender, sms.content, sms.recipient) == (
        "sms",
        "+84912345678",
        "Vay tien nhanh",
        "+84987654321",
    )
    assert sms.origin == "export_5656"
    call = services.submit_5656(
        official, reporter="0987654321", message="V 0961234567", received_at=days_ago(1)
    )
    assert (call.channel, call.content) == ("call", "")
    with pytest.raises(InvalidInput) as exc:
        services.submit_5656(
            official, reporter="0987654321", message="Q abc", received_at=days_ago(1)
        )
    assert "message" in exc.value.errors


# --- Cases per sender ----------------------------------------------------------------------------


def test_reports_attach_to_the_senders_open_case(official):
    a = report(official, "0912 345 678")
    b = report(official, "+84912345678", channel="call", content="")
    c = report(official, "84-912-345-678")
    assert a.case_id == b.case_id == c.case_id
    case = SpamCase.objects.get(pk=a.case_id)
    assert case.report_count == 3 and case.channel == "sms" and case.status == "new"
    other = report(official, "0912 345 679")
    assert other.case_id != a.case_id


@pytest.mark.parametrize("ending", ["closed", "not_spam"])
def test_a_new_case_after_the_case_ends(official, ending):
    first = report(official, "0912 345 678", received_at=days_ago(10))
    if ending == "closed":
        services.change_status(official, first.case, "confirmed")
        services.change_status(official, first.case, "closed", note="Đã xử lý xong")
    else:
        services.change_status(official, first.case, "not_spam", note="Tin của ngân hàng")
    later = report(official, "0912 345 678", received_at=days_ago(1))
    assert later.case_id != first.case_id
    old, new = SpamCase.objects.get(pk=first.case_id), SpamCase.objects.get(pk=later.case_id)
    assert (old.status, old.report_count) == (ending, 1) and old.closed_at
    assert (new.status, new.report_count, new.operator.code) == ("new", 1, "VNPT")


def test_a_blocked_case_is_open_and_keeps_collecting(official, vnpt_staff, case):
    action = services.assign(official, case)
    services.respond(vnpt_staff, action, "blocked_number", note="Đã khoá 2 chiều")
    later = report(official, "0912 345 678")
    assert later.case_id == case.pk
    assert SpamCase.objects.get(pk=case.pk).status == "blocked"


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_for_one_sender_end_in_one_open_case(reference_data, make_user):
    official = make_user(roles.CITY_OFFICIAL, "SO_KHCN_HN")
    n = 8
    barrier = threading.Barrier(n)
    errors = []

    def submit(i):
        try:
            barrier.wait(timeout=30)
            report(
                official,
                ["0912 345 678", "+84912345678", "84-912-345-678", "0084912345678"][i % 4],
                recipient=f"0987 000 {i:03d}",
                received_at=days_ago(1 + i % 3, hour=9 + i),
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    cases = SpamCase.objects.filter(sender="+84912345678")
    assert cases.count() == 1
    assert cases.get().report_count == n == SpamReport.objects.count()
    assert_rollups_match()


# The moves an official may make by hand (blocked comes from an operator's answer).
LEGAL = {
    ("new", "verifying"),
    ("new", "confirmed"),
    ("new", "not_spam"),
    ("verifying", "confirmed"),
    ("verifying", "not_spam"),
    ("confirmed", "not_spam"),
    ("confirmed", "closed"),
    ("blocked", "confirmed"),
    ("blocked", "closed"),
}
STATUSES = list(SpamCase.Status.values)


@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("start", STATUSES)
def test_status_transitions(official, case, start, target):
    SpamCase.objects.filter(pk=case.pk).update(status=start)
    if (start, target) not in LEGAL:
        with pytest.raises(InvalidTransition):
            services.change_status(official, case, target, note="Ghi chú")
        assert SpamCase.objects.get(pk=case.pk).status == start
        return
    moved = services.change_status(official, case, target, note="Ghi chú")
    assert moved.status == SpamCase.Status(target)
    assert moved.note.endswith("] Ghi chú")
    assert set(services.allowed_moves(official, SpamCase.objects.get(pk=case.pk))) == {
        t for s, t in LEGAL if s == target
    }


def test_confirming_verifies_the_reports_once(official, case):
    report(official, "0912 345 678")
    r = report(official, "0912 345 678")
    services.mark_report(official, r, valid=False, reason="Không phải quảng cáo")
    moved = services.change_status(official, case, "confirmed")
    first_confirmed = moved.confirmed_at
    statuses = sorted(case.reports.values_list("status", flat=True))
    assert statuses == ["invalid", "verified", "verified"]
    moved = services.change_status(official, case, "not_spam", note="Xác minh lại: tin CSKH")
    assert moved.confirmed_at == first_confirmed and moved.closed_at
    assert set(case.reports.values_list("status", flat=True)) == {"invalid"}
    assert_rollups_match()


def test_case_moves_need_an_official_and_a_reason_for_not_spam(official, role_user, case):
    for name in ("operator_viettel", "agency_api_client", "no_role"):
        with pytest.raises(PermissionDenied):
            services.change_status(role_user(name), case, "verifying")
        assert services.allowed_moves(role_user(name), case) == []
    with pytest.raises(InvalidInput) as exc:
        services.change_status(official, case, "not_spam", note="  ")
    assert "note" in exc.value.errors
    with pytest.raises(InvalidTransition):
        services.change_status(official, case, "blocked")
    with pytest.raises(InvalidInput):
        services.mark_report(official, case.reports.first(), valid=False, reason="")
    with pytest.raises(PermissionDenied):
        services.mark_report(role_user("operator_viettel"), case.reports.first(), valid=True)


def test_correcting_the_operator(official, role_user, case):
    services.set_case_operator(official, case, org("VIETTEL"))
    assert set(case.reports.values_list("sender_operator__code", flat=True)) == {"VIETTEL"}
    with pytest.raises(InvalidInput):
        services.set_case_operator(official, case, org("CUC_VT"))
    with pytest.raises(PermissionDenied):
        services.set_case_operator(role_user("operator_viettel"), case, org("VIETTEL"))
    assert_rollups_match()


# --- Assignments and answers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "sla, ok",
    [(None, 24), ("", 24), (1, 1), (720, 720), ("48", 48), (0, None), (-1, None), (721, None),
     ("abc", None), (2.5, 2)],
)  # fmt: skip
def test_sla_bounds(official, case, sla, ok):
    if ok is None:
        with pytest.raises(InvalidInput) as exc:
            services.assign(official, case, sla_hours=sla)
        assert "sla_hours" in exc.value.errors
        assert not OperatorAction.objects.exists()
        return
    action = services.assign(official, case, sla_hours=sla)
    assert action.sla_hours == ok
    assert action.deadline - action.assigned_at == timedelta(hours=ok)
    assert action.operator.code == "VNPT"


def test_assignment_notifies_the_operator_and_is_made_once(official, vnpt_staff, case):
    action = services.assign(official, case, instructions="Xác minh và chặn nếu đúng")
    note = Notification.objects.get(recipient=vnpt_staff)
    assert "+84912345678" in note.title and str(case.public_id) in note.url
    with pytest.raises(InvalidTransition):
        services.assign(official, case)
    services.respond(vnpt_staff, action, "declined", note="Thuê bao doanh nghiệp, đã có hợp đồng")
    again = services.assign(official, case, sla_hours=12)  # answered: a new assignment may follow
    assert again.pk != action.pk


def test_assignment_rules(official, role_user, case):
    with pytest.raises(PermissionDenied):
        services.assign(role_user("operator_viettel"), case)
    with pytest.raises(InvalidInput):
        services.assign(official, case, operator=org("CUC_VT"))
    brand = report(official, "Shopee").case
    with pytest.raises(InvalidInput) as exc:  # a brandname's operator must be chosen
        services.assign(official, brand)
    assert "operator" in exc.value.errors
    for status in ("blocked", "not_spam", "closed"):
        SpamCase.objects.filter(pk=case.pk).update(status=status)
        with pytest.raises(InvalidTransition):
            services.assign(official, case)
    assert not OperatorAction.objects.exists()


def test_assigning_another_operator_corrects_the_case(official, case):
    services.assign(official, case, operator=org("VIETTEL"))
    case.refresh_from_db()
    assert case.operator.code == "VIETTEL"
    assert set(case.reports.values_list("sender_operator__code", flat=True)) == {"VIETTEL"}
    assert_rollups_match()


@pytest.mark.parametrize(
    "outcome, note, status",
    [
        ("verified", "", "confirmed"),
        ("blocked_number", "", "blocked"),
        ("declined", "Thuê bao đã chuyển mạng", "new"),
    ],
)
def test_answers_move_the_case(official, vnpt_staff, case, outcome, note, status):
    action = services.assign(official, case)
    answered = services.respond(vnpt_staff, action, outcome, note=note)
    assert answered.outcome == outcome and answered.responded_by == vnpt_staff
    assert answered.responded_at > answered.assigned_at
    case.refresh_from_db()
    assert case.status == status
    expected = "received" if outcome == "declined" else "verified"
    assert set(case.reports.values_list("status", flat=True)) == {expected}
    assert Notification.objects.filter(recipient=official, title__contains="VNPT").exists()
    assert_rollups_match()


def test_answer_rules(official, vnpt_staff, role_user, case):
    action = services.assign(official, case)
    with pytest.raises(PermissionDenied):  # another operator's staff
        services.respond(role_user("operator_viettel"), action, "blocked_number")
    with pytest.raises(PermissionDenied):
        services.respond(role_user("no_role"), action, "blocked_number")
    with pytest.raises(InvalidInput) as exc:
        services.respond(vnpt_staff, action, "declined", note="  ")
    assert "note" in exc.value.errors
    with pytest.raises(InvalidInput) as exc:
        services.respond(vnpt_staff, action, "suspended_brandname")
    assert "outcome" in exc.value.errors
    with pytest.raises(InvalidInput):
        services.respond(vnpt_staff, action, "deleted")
    assert OperatorAction.objects.get(pk=action.pk).is_pending
    services.respond(vnpt_staff, action, "blocked_number")
    with pytest.raises(InvalidTransition):
        services.respond(vnpt_staff, action, "verified")


def test_suspending_a_brandname_blocks_its_case(official, make_user):
    case = report(official, "VAYNHANH").case
    action = services.assign(official, case, operator=org("MOBIFONE"))
    staff = make_user(roles.OPERATOR_STAFF, "MOBIFONE")
    services.respond(staff, action, "suspended_brandname", note="Tạm dừng brandname 30 ngày")
    case.refresh_from_db()
    assert case.status == "blocked" and case.confirmed_at
    assert set(case.reports.values_list("status", flat=True)) == {"verified"}


def test_an_official_may_record_the_answer_and_times_are_kept(official, case):
    assigned = timezone.now() - timedelta(hours=30)
    action = services.assign(official, case, sla_hours=24, now=assigned)
    answered = services.respond(
        official, action, "blocked_number", now=assigned + timedelta(hours=26)
    )
    assert answered.is_overdue and answered.handling_hours == pytest.approx(26)


# --- Overdue -------------------------------------------------------------------------------------


def test_flag_overdue_flags_once_and_notifies(official, vnpt_staff, case):
    long_ago = timezone.now() - timedelta(hours=30)
    late = services.assign(official, case, sla_hours=24, now=long_ago)
    answered_case = report(official, "0961 234 567").case
    answered = services.assign(official, answered_case, sla_hours=1, now=long_ago)
    services.respond(official, answered, "verified", now=long_ago + timedelta(hours=3))
    fresh = services.assign(official, report(official, "0912 000 111").case, sla_hours=48)
    inspection = services.save_inspection(
        official,
        operator=org("VNPT"),
        inspecting_agency=org("CUC_VT"),
        inspected_on=timezone.localdate() - timedelta(days=40),
        sample_size=500,
        nonconforming=12,
        deadline=timezone.localdate() - timedelta(days=1),
    )
    before = Notification.objects.count()
    run = services.flag_overdue()
    assert (run.flagged, run.inspections) == (1, 1)
    late.refresh_from_db()
    assert late.overdue_at is not None
    assert OperatorAction.objects.get(pk=fresh.pk).overdue_at is None
    assert OperatorAction.objects.get(pk=answered.pk).overdue_at is None
    assert SubscriberInspection.objects.get(pk=inspection.pk).overdue_notified_on
    to_staff = Notification.objects.filter(recipient=vnpt_staff, title__contains="overdue")
    assert to_staff.count() == 2  # the case and the inspection
    assert Notification.objects.filter(recipient=official, title__contains="overdue").count() == 1
    flagged_at = late.overdue_at
    again = services.flag_overdue()
    assert (again.flagged, again.inspections) == (0, 0)
    assert Notification.objects.count() == before + 3
    assert OperatorAction.objects.get(pk=late.pk).overdue_at == flagged_at


# --- Subscriber-information inspections -----------------------------------------------------------


def _inspection(**change):
    today = timezone.localdate()
    return {
        "operator": org("VIETTEL"),
        "inspecting_agency": org("SO_KHCN_HN"),
        "reference": "BB-12/2026",
        "inspected_on": today - timedelta(days=10),
        "sample_size": 1000,
        "nonconforming": 37,
        "findings": "37 thuê bao sai thông tin CCCD",
        "actions_required": "Chuẩn hoá thông tin, khoá 1 chiều thuê bao không bổ sung",
        "deadline": today + timedelta(days=20),
        **change,
    }


@pytest.mark.parametrize(
    "change, field",
    [
        ({"nonconforming": 1001}, "nonconforming"),
        ({"sample_size": 0}, "sample_size"),
        ({"sample_size": None}, "sample_size"),
        ({"deadline": lambda: timezone.localdate() - timedelta(days=11)}, "deadline"),
        ({"inspected_on": lambda: timezone.localdate() + timedelta(days=1), "deadline": None},
         "inspected_on"),
        ({"operator": "CUC_VT"}, "operator"),
        ({"inspecting_agency": "VNPT"}, "inspecting_agency"),
        ({"colour": "red"}, "colour"),
    ],
)  # fmt: skip
def test_inspection_bad_input(official, change, field):
    change = {k: v() if callable(v) else v for k, v in change.items()}  # dates: when the test runs
    for key in ("operator", "inspecting_agency"):
        if isinstance(change.get(key), str):
            change[key] = org(change[key])
    with pytest.raises(InvalidInput) as exc:
        services.save_inspection(official, **_inspection(**change))
    assert field in exc.value.errors
    assert not SubscriberInspection.objects.exists()


def test_inspection_with_follow_ups(official, role_user, make_user):
    inspection = services.save_inspection(official, **_inspection())
    assert inspection.nonconforming_pct == 3.7
    with pytest.raises(PermissionDenied):
        services.save_inspection(role_user("operator_viettel"), **_inspection())
    lan = make_user(roles.OPERATOR_STAFF, "VIETTEL")
    today = timezone.localdate()
    with pytest.raises(PermissionDenied):  # another operator
        services.record_follow_up(
            role_user("operator_mobifone"), inspection, recorded_on=today, note="x"
        )
    bad = [
        ({"note": " "}, "note"),
        ({"remedied": -1}, "remedied"),
        ({"recorded_on": today - timedelta(days=11)}, "recorded_on"),
        ({"recorded_on": today + timedelta(days=1)}, "recorded_on"),
    ]
    for change, field in bad:
        values = {"recorded_on": today, "note": "Đã chuẩn hoá", "remedied": 5, **change}
        with pytest.raises(InvalidInput) as exc:
            services.record_follow_up(lan, inspection, **values)
        assert field in exc.value.errors
    services.record_follow_up(lan, inspection, recorded_on=today - timedelta(days=5),
                              note="Đã chuẩn hoá 20 thuê bao", remedied=20)  # fmt: skip
    services.record_follow_up(lan, inspection, recorded_on=today, note="Khoá 1 chiều 17 thuê bao",
                              remedied=17, close=True)  # fmt: skip
    inspection.refresh_from_db()
    assert inspection.status == "remedied"
    assert sum(InspectionFollowUp.objects.values_list("remedied", flat=True)) == 37
    services.close_inspection(official, inspection)
    with pytest.raises(InvalidTransition):
        services.record_follow_up(lan, inspection, recorded_on=today, note="Thêm")
    with pytest.raises(PermissionDenied):
        services.close_inspection(lan, inspection)


# --- Bulk import ---------------------------------------------------------------------------------

HEADER = ["channel", "sender", "recipient", "content", "received_at"]


def _when(days, hour=10, minute=0):
    return timezone.localtime(days_ago(days, hour, minute)).strftime("%d/%m/%Y %H:%M")


def test_import_a_generic_csv(official):
    rows = [
        ["Channel", "Sender", "Recipient", "Content", "Received At", "External ID"],
        ["sms", "0912 345 678", "0987 654 321", "Vay tiền nhanh", _when(2), "A-1"],
        ["Tin nhắn", "+84912345678", "0987654322", "Vay tiền, lãi 0%", _when(2, 11), "A-2"],
        ["CUỘC GỌI", "84-961-234-567", "0987654321", "", _when(3, 18), ""],
        ["email", "ads@Khuyến-Mãi.vn", "lan@gmail.com", "Giảm 90%", _when(1), ""],
        ["khác", "FE CREDIT", "", "Zalo: vay nhanh", _when(1), ""],
    ]
    job = run_import(official, csv_file(rows, delimiter=";"))
    assert (job.status, job.total, job.processed) == ("done", 5, 5), job.message
    assert (job.created_count, job.duplicate_count, job.error_count) == (5, 0, 0), job.errors
    case = SpamCase.objects.get(sender="+84912345678")
    assert case.report_count == 2 and case.operator.code == "VNPT"
    assert case.flags == ["ordinary_number_ads"]
    r = SpamReport.objects.get(external_id="A-1")
    assert (r.origin, r.source, r.reported_by, r.sender_raw) == (
        "operator_feed",
        "SO_KHCN_HN",
        official,
        "0912 345 678",
    )
    assert r.recipient_operator.code == "VIETTEL"
    assert SpamReport.objects.get(channel="email").sender == "ads@xn--khuyn-mi-xza0557e.vn"
    assert SpamCase.objects.get(sender="+84961234567").flags == ["call_outside_hours"]
    assert_rollups_match()


def test_import_a_5656_export(official):
    rows = [
        ["reporter", "message", "received_at"],
        ["0987654321", "S 0912345678 Vay tien nhanh lai suat 0%", _when(2)],
        ["0987654322", "s 0912345678 Vay tien nhanh lai suat 0%", _when(2)],
        ["0987654323", "V 0961234567", _when(2, 19)],
        ["0987654324", "Tin rac 0912345678", _when(2)],  # not the syntax
        ["0987654325", "S", _when(2)],
        ["abc", "S 0912345678 Vay", _when(2)],  # the reporter is not a number
    ]
    job = run_import(official, csv_file(rows, name="5656_20261127.csv"), origin="export_5656")
    assert job.status == "done"
    assert (job.created_count, job.error_count) == (3, 3)
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (5, "message"),
        (6, "message"),
        (7, "recipient"),
    ]
    assert set(SpamReport.objects.values_list("origin", flat=True)) == {"export_5656"}
    assert SpamCase.objects.get(sender="+84912345678").report_count == 2
    assert SpamReport.objects.get(channel="call").recipient == "+84987654323"


def test_import_an_xlsx(official):
    when = timezone.localtime(days_ago(2, hour=9)).replace(tzinfo=None)
    rows = [
        HEADER + ["recipient_operator"],
        ["SMS", 912345678, 987654321, "Vay tiền", when, "mobifone"],  # numbers lost their 0
        ["call", "0961 234 567", "0987 654 321", None, when + timedelta(hours=10), None],
        ["sms", "Shopee", "0987 654 321", "Sale", "not a date", None],
        ["sms", "Shopee", "0987 654 321", "Sale", when, "SFONE"],
        [None, None, None, None, None, None],  # an empty row is skipped
    ]
    job = run_import(official, xlsx_file(rows))
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 2), job.message
    assert {(e["row"], e["column"]) for e in job.errors} == {
        (4, "received_at"),
        (5, "recipient_operator"),
    }
    sms = SpamReport.objects.get(channel="sms")
    assert (sms.sender, sms.recipient, sms.recipient_operator.code) == (
        "+84912345678",
        "+84987654321",
        "MOBIFONE",
    )
    assert timezone.localtime(sms.received_at).hour == 9
    assert SpamCase.objects.get(sender="+84961234567").flags == ["call_outside_hours"]


def test_row_errors_carry_their_row_numbers(official):
    rows = [
        HEADER,
        ["sms", "0912345678", "0987654321", "ok", _when(1)],
        ["sms", "ĐẠI LÝ", "0987654321", "x", _when(1)],
        ["sms", "0912345678", "0987654321", "x", "01/01/2099 10:00"],
        ["fax", "0912345678", "0987654321", "x", _when(1)],
        ["sms", "0912345678", "0987654321", "", _when(1)],
        ["sms", "07700 900123", "0987654321", "x", _when(1)],
        ["sms", "Shopee", "0987654321", HTML, _when(1)],
    ]
    job = run_import(official, csv_file(rows))
    assert job.status == "done"
    assert (job.created_count, job.error_count) == (2, 5)
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "sender"),
        (4, "received_at"),
        (5, "channel"),
        (6, "content"),
        (7, "sender"),
    ]
    assert all(e["message"] for e in job.errors)
    assert SpamReport.objects.get(sender="SHOPEE").content == HTML


def test_duplicates_are_counted_not_stored(official):
    rows = [
        HEADER,
        ["sms", "0912345678", "0987654321", "Vay tiền", _when(2)],
        ["sms", "0912 345 678", "0987 654 321", "Vay tiền", _when(2)],  # the same, typed otherwise
        ["sms", "0912345678", "0987654321", "Vay tiền", _when(3)],
    ]
    job = run_import(official, csv_file(rows))
    assert (job.created_count, job.duplicate_count, job.error_count) == (2, 1, 0)
    assert job.errors[0]["row"] == 3 and "row 2" in job.errors[0]["message"]
    again = run_import(official, csv_file(rows))  # the same file tomorrow
    assert (again.status, again.created_count, again.duplicate_count) == ("done", 0, 3)
    assert SpamReport.objects.count() == 2
    assert SpamCase.objects.get().report_count == 2


@pytest.mark.parametrize(
    "header, message",
    [
        (["channel", "sender", "content", "received_at"], "Missing columns: recipient"),
        (["reporter", "message"], "Missing columns: received_at"),
        (["kênh", "người gửi"], "Missing columns"),
    ],
)
def test_missing_or_unknown_columns_refuse_the_file(official, header, message):
    rows = [header, ["sms"] * len(header)]
    job = run_import(official, csv_file(rows))
    assert job.status == "failed" and message in job.message
    assert not SpamReport.objects.exists() and not SpamCase.objects.exists()


@pytest.mark.parametrize("encoding", ["cp1258", "utf-16"])
def test_windows_1258_and_utf16_files_are_read_and_stored_in_nfc(official, encoding):
    # Windows' Vietnamese code page writes tones as combining marks: NFD text it can encode.
    content = unicodedata.normalize("NFD", "Giảm giá, mua ngay đi")
    rows = [HEADER, ["sms", "0912345678", "0987654321", content, _when(1)]]
    job = run_import(official, csv_file(rows, encoding=encoding))
    assert (job.status, job.created_count) == ("done", 1), job.message
    assert SpamReport.objects.get().content == "Giảm giá, mua ngay đi"  # NFC


def test_a_utf8_file_with_a_stray_byte_is_refused_at_that_byte(official):
    rows = [HEADER, ["sms", "0912345678", "0987654321", "Vay tiền nhanh", _when(1)]]
    upload = csv_file(rows)
    data = upload.read().replace(b"nhanh", b"nh\xe0nh")
    job = run_import(official, SimpleUploadedFile("reports.csv", data))
    assert job.status == "failed" and "line 2, byte" in job.message, job.message
    assert not SpamReport.objects.exists()


def test_a_bom_from_excel_is_fine(official):
    rows = [HEADER, ["sms", "0912345678", "0987654321", "Vay tiền", _when(1)]]
    job = run_import(official, csv_file(rows, encoding="utf-8-sig"))
    assert (job.status, job.created_count) == ("done", 1)


def test_empty_and_wrong_files(official, settings):
    with pytest.raises(InvalidInput):
        services.start_import(official, SimpleUploadedFile("empty.csv", b""))
    with pytest.raises(InvalidInput) as exc:
        services.start_import(official, SimpleUploadedFile("scan.pdf", b"%PDF-1.4"))
    assert "file" in exc.value.errors
    with pytest.raises(InvalidInput):
        services.start_import(official, csv_file([HEADER]), origin="public_form")
    header_only = run_import(official, csv_file([HEADER]))
    assert (header_only.status, header_only.created_count, header_only.total) == ("done", 0, 0)
    blank = run_import(official, SimpleUploadedFile("blank.csv", b"\n\n\n"))
    assert blank.status == "failed"
    fake = run_import(official, SimpleUploadedFile("reports.xlsx", b"channel,sender\nsms,x\n"))
    assert fake.status == "failed" and "Excel" in fake.message
    broken = run_import(official, SimpleUploadedFile("reports.xlsx", b"PK\x03\x04broken"))
    assert broken.status == "failed"
    settings.SPAM_IMPORT_MAX_BYTES = 10
    with pytest.raises(InvalidInput):
        services.start_import(official, csv_file([HEADER]))
    assert not SpamReport.objects.exists()


def test_who_may_import(role_user):
    rows = [HEADER, ["sms", "0912345678", "0987654321", "Vay tiền", _when(1)]]
    job = run_import(role_user("operator_viettel"), csv_file(rows))
    assert job.created_count == 1 and job.organization.code == "VIETTEL"
    assert SpamReport.objects.get().reporting_organization.code == "VIETTEL"
    for name in ("no_role", "agency_api_client"):
        with pytest.raises(PermissionDenied):
            services.start_import(role_user(name), csv_file(rows))


def test_a_resumed_job_stores_nothing_twice(official, monkeypatch):
    """A worker dies after the first chunk was committed; the retry resumes after it."""
    from spam_reports.services import importing

    monkeypatch.setattr(importing, "CHUNK", 4)
    rows = [HEADER]
    for i in range(10):
        rows.append(["sms", "0912345678", f"0987000{i:03d}", f"Vay tiền {i}", _when(1 + i % 3)])
    rows[3] = ["sms", "ĐẠI LÝ", "0987654321", "x", _when(1)]  # an error in the first chunk
    rows.append(rows[2])  # row 12 repeats row 3, which the first attempt stored
    job = services.start_import(official, csv_file(rows))

    real_store, calls = importing._store, []

    def crash_on_second_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return real_store(*args, **kwargs)

    monkeypatch.setattr(importing, "_store", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        imports.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.processed, job.created_count, job.error_count) == ("running", 4, 3, 1)
    assert SpamReport.objects.count() == 3

    monkeypatch.setattr(importing, "_store", real_store)
    job = imports.run(job.pk)
    assert (job.status, job.attempts, job.processed, job.total) == ("done", 2, 11, 11)
    assert (job.created_count, job.duplicate_count, job.error_count) == (9, 1, 1)
    assert [(e["row"], e.get("duplicate", False)) for e in job.errors] == [(4, False), (12, True)]
    assert SpamReport.objects.count() == 9
    assert SpamCase.objects.get().report_count == 9
    # A finished job is left as it is.
    assert imports.run(job.pk).attempts == 2
    assert ImportJob.objects.get(pk=job.pk).created_count == 9
    assert_rollups_match()


# --- The file's date order (core.dateorder) ---------------------------------------------------------


def _received(sender):
    moment = timezone.localtime(SpamReport.objects.get(sender=sender).received_at)
    return (moment.day, moment.month)


def test_a_13th_elsewhere_in_the_file_makes_9_8_the_9th_of_august(official):
    rows = [
        HEADER,
        ["sms", "0912345678", "0987654321", "Vay", "9/8/2026 10:00"],
        ["sms", "0961234567", "0987654321", "Vay", "13/8/2026 10:00"],
    ]
    job = run_import(official, csv_file(rows))
    assert (job.status, job.created_count) == ("done", 2), job.message
    assert _received("+84912345678") == (9, 8)
    assert "could be day-first or month-first" not in job.message


def test_a_month_first_file_is_refused_until_the_user_says_so(official):
    rows = [
        HEADER,
        ["sms", "0912345678", "0987654321", "Vay", "9/8/2026 10:00"],
        ["sms", "0961234567", "0987654321", "Vay", "8/13/2026 10:00"],
    ]
    refused = run_import(official, csv_file(rows))
    assert refused.status == "failed" and "month first" in refused.message, refused.message
    assert "row 3" in refused.message and not SpamReport.objects.exists()
    job = run_import(official, csv_file(rows), date_order="mdy")
    assert (job.status, job.created_count) == ("done", 2), job.message
    assert _received("+84912345678") == (8, 9)
    assert _received("+84961234567") == (13, 8)


def test_rows_that_disagree_refuse_the_file(official):
    rows = [
        HEADER,
        ["sms", "0912345678", "0987654321", "Vay", "13/8/2026 10:00"],
        ["sms", "0961234567", "0987654321", "Vay", "8/13/2026 10:00"],
    ]
    job = run_import(official, csv_file(rows))
    assert job.status == "failed" and "disagree" in job.message, job.message
    assert not SpamReport.objects.exists()


def test_a_file_whose_every_date_could_be_either_is_read_day_first_and_says_so(official):
    rows = [
        HEADER,
        ["sms", "0912345678", "0987654321", "Vay", "9/8/2026 10:00"],
        ["sms", "0961234567", "0987654321", "Vay", "10/8/2026 10:00"],
    ]
    job = run_import(official, csv_file(rows))
    assert (job.status, job.created_count) == ("done", 2), job.message
    assert "could be day-first or month-first" in job.message and "row 2" in job.message
    assert _received("+84912345678") == (9, 8)


def test_an_unknown_date_order_is_a_field_error(official):
    with pytest.raises(InvalidInput) as exc:
        services.start_import(official, csv_file([HEADER]), date_order="ymd")
    assert "date_order" in exc.value.errors


def test_columns_named_otherwise_are_matched_and_extra_ones_ignored_with_a_notice(official):
    """Another system's export: Vietnamese column names, an extra column: read, and said."""
    rows = [
        ["Kênh", "Người gửi", "Số nhận", "Nội dung", "Thời gian", "Ghi chú"],
        ["sms", "0912345678", "0987654321", "Vay nhanh", _when(1), "NA"],
    ]
    job = run_import(official, csv_file(rows))
    assert (job.status, job.created_count) == ("done", 1), job.message
    assert "Columns ignored" in job.message and "Ghi chú" in job.message


def test_a_mapping_says_which_column_feeds_which_field(official):
    rows = [
        ["Loai tin", "So A", "So B", "Noi dung tin", "Luc"],
        ["sms", "0912345678", "0987654321", "Vay nhanh", _when(1)],
    ]
    mapping = {
        "Loai tin": "channel",
        "So A": "sender",
        "So B": "recipient",
        "Noi dung tin": "content",
        "Luc": "received_at",
    }
    refused = run_import(official, csv_file(rows))
    assert refused.status == "failed" and "Missing columns" in refused.message
    job = services.start_import(official, csv_file(rows), mapping=mapping)
    job = imports.run(job.pk)
    assert (job.status, job.created_count) == ("done", 1), job.message
    assert SpamReport.objects.get().sender == "+84912345678"


def test_channels_as_people_type_them_and_refusals_name_the_value(official):
    rows = [
        HEADER,
        ["Tin Nhan", "0912345678", "0987654321", "Vay", _when(1)],
        [unicodedata.normalize("NFD", "CUỘC GỌI"), "0961234567", "0987654321", "", _when(1)],
        ["fax", "0912345679", "0987654321", "Vay", _when(1)],
    ]
    job = run_import(official, csv_file(rows))
    assert (job.status, job.created_count, job.error_count) == ("done", 2, 1), job.errors
    assert [(e["row"], e["column"], e["value"]) for e in job.errors] == [(4, "channel", "fax")]
