"""The spam API over HTTP: filing complaints (fields, the 5656 form, evidence), bad input, cases and
their steps, assignments, inspections, statistics, imports (with a real Celery worker), the
do-not-call list, query counts and the OpenAPI schema. Real PostGIS and Redis, no mocks."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import ImportJob
from spam_reports import services
from spam_reports.models import (
    DoNotCallEntry,
    Evidence,
    InspectionFollowUp,
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)
from spam_reports.tests.factories import (
    csv_file,
    days_ago,
    inspection,
    org,
    pdf_file,
    png_file,
    report,
)

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/spam-reports/"
CASES = "/api/v1/spam-cases/"
ASSIGNMENTS = "/api/v1/spam-assignments/"
INSPECTIONS = "/api/v1/spam-inspections/"
STATISTICS = "/api/v1/spam-statistics/"
IMPORTS = "/api/v1/spam-imports/"
DO_NOT_CALL = "/api/v1/do-not-call/"
HEADER = ["channel", "sender", "recipient", "content", "received_at"]


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def client(as_role):
    return as_role("city_official")


def counts():
    return (
        SpamReport.objects.count(),
        SpamCase.objects.count(),
        Evidence.objects.count(),
        OperatorAction.objects.count(),
        SubscriberInspection.objects.count(),
        InspectionFollowUp.objects.count(),
        ImportJob.objects.count(),
        DoNotCallEntry.objects.count(),
    )


def body(**changes):
    data = {
        "channel": "sms",
        "sender": "0981 234 567",
        "recipient": "0912 345 678",
        "content": "Vay tiền nhanh 15 phút, lãi 0%. Soạn VAY gửi 8x88",
        "received_at": days_ago(1, hour=23, minute=15).isoformat(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- Filing complaints ----------------------------------------------------------------------------------


def test_file_a_complaint_and_read_it_back(client):
    response = client.post(REPORTS, body(external_id="CUC-0001"), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["sender_raw"] == "0981 234 567" and created["sender"] == "+84981234567"
    assert created["sender_kind"] == "phone" and created["sender_operator"] == "VIETTEL"
    assert created["recipient_raw"] == "0912 345 678" and created["recipient"] == "+84912345678"
    assert created["recipient_operator"] == "VNPT"
    assert created["channel"] == "sms" and created["status"] == "received"
    assert created["origin"] == "official" and created["reporting_organization"] == "SO_KHCN_HN"
    assert created["external_id"] == "CUC-0001" and created["evidence"] == []
    received = timezone.datetime.fromisoformat(created["received_at"])
    assert received == days_ago(1, hour=23, minute=15)

    case = SpamCase.objects.get(public_id=created["case"])
    assert case.sender == "+84981234567" and case.report_count == 1
    # An SMS from an ordinary number at 23:15: two Decree 91 flags.
    assert set(case.flags) == {"ordinary_number_ads", "sms_outside_hours"}

    detail = client.get(f"{REPORTS}{created['id']}/")
    assert detail.status_code == 200 and detail.json() == created

    # A second complaint about the same sender (written another way) joins the same case.
    again = client.post(
        REPORTS,
        body(sender="+84 981 234 567", content="Tin khác", received_at="02/01/2025 10:30"),
        format="json",
    )
    assert again.status_code == 201, again.content
    assert again.json()["case"] == created["case"]
    assert again.json()["received_at"].startswith("2025-01-02T10:30:00+07:00")


def test_file_a_complaint_in_the_5656_form(client):
    message = {
        "message": "V 0901234567 Mời mua bảo hiểm",
        "reporter": "0912 345 678",
        "received_at": days_ago(2, hour=19).isoformat(),
    }
    response = client.post(REPORTS, message, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["channel"] == "call" and created["sender"] == "+84901234567"
    assert created["sender_operator"] == "MOBIFONE"
    assert created["recipient"] == "+84912345678" and created["content"] == "Mời mua bảo hiểm"
    assert created["origin"] == "export_5656"
    case = SpamCase.objects.get(public_id=created["case"])
    assert "call_outside_hours" in case.flags


def test_evidence_on_create_and_afterwards(client):
    data = body(evidence=[png_file(), pdf_file()])
    response = client.post(REPORTS, data, format="multipart")
    assert response.status_code == 201, response.content
    created = response.json()
    assert sorted(e["content_type"] for e in created["evidence"]) == [
        "application/pdf",
        "image/png",
    ]
    added = client.post(
        f"{REPORTS}{created['id']}/evidence/", {"evidence": [png_file("2.png")]}, format="multipart"
    )
    assert added.status_code == 201, added.content
    assert len(added.json()["evidence"]) == 3
    # A text file named .png is refused by its content, and nothing is kept.
    before = counts()
    fake = png_file("3.png", content=b"<html>not an image</html>")
    refused = client.post(
        f"{REPORTS}{created['id']}/evidence/", {"evidence": [png_file(), fake]}, format="multipart"
    )
    assert refused.status_code == 400 and "evidence" in refused.json()
    assert counts() == before
    assert (
        client.post(f"{REPORTS}{created['id']}/evidence/", {}, format="multipart").status_code
        == 400
    )


def test_html_in_the_content_is_stored_as_given_and_returned_as_json_text(client):
    content = '<script>alert("x")</script><b onmouseover=alert(1)>Khuyến mãi</b> & “quà”'
    response = client.post(REPORTS, body(content=content), format="json")
    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    created = response.json()
    assert created["content"] == content
    assert SpamReport.objects.get(public_id=created["id"]).content == content
    listed = client.get(f"{REPORTS}?case={created['case']}")
    assert listed["Content-Type"].startswith("application/json")
    assert listed.json()["results"][0]["content"] == content


def future():
    return (timezone.now() + timedelta(hours=2)).isoformat()


BAD_REPORTS = [
    ("unparseable recipient", {"recipient": "0912"}, "recipient"),
    ("unparseable sender", {"sender": "091 234 567 890 123"}, "sender"),
    ("brandname with forbidden characters", {"sender": "VIETTEL<script>"}, "sender"),
    ("brandname too long", {"sender": "KHUYENMAI_SIEU_LON"}, "sender"),
    ("US number without +", {"sender": "(212) 555-01"}, "sender"),
    ("empty SMS content", {"content": "   "}, "content"),
    ("content too long", {"content": "x" * (services.CONTENT_MAX + 1)}, "content"),
    ("null character in content", {"content": "a\x00b"}, "content"),
    ("received in the future", {"received_at": "FUTURE"}, "received_at"),
    ("received before 2000", {"received_at": "1999-12-31T10:00:00+07:00"}, "received_at"),
    ("time that is not a time", {"received_at": "hôm qua"}, "received_at"),
    ("impossible date", {"received_at": "31/02/2025 10:00"}, "received_at"),
    ("no time", {"received_at": None}, "received_at"),
    ("unknown channel", {"channel": "fax"}, "channel"),
    ("no sender", {"sender": None}, "sender"),
    ("phone number as e-mail sender", {"channel": "email"}, "sender"),
    ("brandname calling", {"channel": "call", "sender": "SHOPEE"}, "sender"),
    ("unknown operator code", {"recipient_operator": "NOPE"}, "recipient_operator"),
    ("agency as operator", {"recipient_operator": "CUC_VT"}, "recipient_operator"),
    ("external id too long", {"external_id": "x" * 129}, "external_id"),
    ("bad 5656 syntax", {"message": "X 0981234567 abc", "reporter": "0912345678"}, "message"),
    ("5656 form mixed with fields", {"message": "S 0981234567 abc"}, "sender"),
    ("reporter without a 5656 message", {"reporter": "0912345678"}, "reporter"),
]


@pytest.mark.parametrize(("change", "field"), [pytest.param(c, f, id=w) for w, c, f in BAD_REPORTS])
def test_bad_report_is_400_with_the_field_and_nothing_is_stored(client, change, field):
    change = dict(change)
    if change.get("received_at") == "FUTURE":
        change["received_at"] = future()
    if "message" in change and field == "message":
        data = {**change, "received_at": days_ago(1).isoformat()}
    else:
        data = body(**change)
        if "received_at" in change and change["received_at"] is None:
            data.pop("received_at", None)
    before = counts()
    response = client.post(REPORTS, data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert all(isinstance(m, str) and m for m in response.json()[field])
    assert counts() == before


@pytest.mark.parametrize(
    "payload",
    ['{"channel": "sms", "sender": ', "[1, 2, 3]", '"just a string"', "\xff\xfe"],
    ids=["truncated", "a list", "a string", "not utf-8"],
)
def test_malformed_json_is_400_and_nothing_is_stored(client, payload):
    before = counts()
    response = client.generic(
        "POST", REPORTS, payload.encode("latin-1"), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert counts() == before


def test_the_same_complaint_twice_is_refused(client):
    first = client.post(REPORTS, body(external_id="A-1"), format="json")
    assert first.status_code == 201, first.content
    before = counts()
    same = client.post(REPORTS, body(), format="json")
    assert same.status_code == 400, same.content
    assert "non_field_errors" in same.json(), same.json()
    again = client.post(REPORTS, body(content="Khác", external_id="A-1"), format="json")
    assert again.status_code == 400 and "external_id" in again.json()
    assert counts() == before


@pytest.mark.django_db(transaction=True)
def test_the_same_complaint_at_the_same_moment_is_400_not_500(reference_data, as_role):
    """Two agencies send one complaint at once: both pass the service's check; the database's
    unique index refuses the second, which gets the duplicate's answer."""
    client = as_role("city_official")
    other = as_role("national_official").user
    data = body()
    filed, release = threading.Event(), threading.Event()

    def first():
        try:
            with transaction.atomic():
                services.submit_report(other, **{**data, "received_at": days_ago(1, 23, 15)})
                filed.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert filed.wait(10)
    threading.Timer(1.0, release.set).start()  # commits while the request waits on the index
    response = client.post(REPORTS, data, format="json")
    thread.join(10)
    assert response.status_code == 400, response.content
    assert "non_field_errors" in response.json()
    assert SpamReport.objects.count() == 1 and SpamCase.objects.count() == 1


def test_bad_evidence_on_create_stores_nothing(client):
    before = counts()
    fake = png_file("bill.pdf")  # a PNG named .pdf
    response = client.post(REPORTS, body(evidence=[fake]), format="multipart")
    assert response.status_code == 400 and "evidence" in response.json()
    assert counts() == before


def test_report_list_is_keyset_paged_newest_first_and_filtered(client, official):
    made = [report(official, "0981 234 567", received_at=days_ago(n)) for n in range(1, 6)]
    other = report(official, "SHOPEE", received_at=days_ago(3, hour=11))
    first = client.get(f"{REPORTS}?page_size=2")
    assert first.status_code == 200
    page = first.json()
    assert "count" not in page and page["previous"] is None and page["next"]
    ids = [r["id"] for r in page["results"]]
    while page["next"]:
        page = client.get(page["next"]).json()
        ids += [r["id"] for r in page["results"]]
    expected = sorted([*made, other], key=lambda r: r.received_at, reverse=True)
    assert ids == [str(r.public_id) for r in expected]

    typed = client.get(f"{REPORTS}?sender=0981%20234%20567").json()["results"]
    assert {r["id"] for r in typed} == {str(r.public_id) for r in made}
    by_case = client.get(f"{REPORTS}?case={other.case.public_id}").json()["results"]
    assert [r["id"] for r in by_case] == [str(other.public_id)]
    kind = client.get(f"{REPORTS}?sender_operator=VIETTEL&channel=sms").json()["results"]
    assert len(kind) == 5
    assert client.get(f"{REPORTS}?channel=fax").status_code == 400
    assert client.get(f"{REPORTS}?sender_operator=NOPE").status_code == 400
    assert client.get(f"{REPORTS}?received_after=yesterday").status_code == 400


def test_official_marks_a_report(client, official):
    filed = report(official)
    url = f"{REPORTS}{filed.public_id}/mark/"
    assert client.post(url, {"valid": False}, format="json").status_code == 400
    response = client.post(url, {"valid": False, "reason": "Sai số"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "invalid" and response.json()["invalid_reason"] == "Sai số"


# --- Cases ------------------------------------------------------------------------------------------------


@pytest.fixture
def case(official):
    """A Viettel number's case: three SMS to one recipient and one call, over two days."""
    first = report(official, "0981 234 567", received_at=days_ago(2, hour=9))
    report(official, "0981234567", received_at=days_ago(2, hour=10))
    report(official, "84981234567", received_at=days_ago(1, hour=9))
    report(official, "0981.234.567", channel="call", content="", received_at=days_ago(1, hour=18))
    return SpamCase.objects.get(pk=first.case_id)


def test_case_detail_with_breakdown_flags_and_etag(client, case):
    response = client.get(f"{CASES}{case.public_id}/")
    assert response.status_code == 200, response.content
    assert response["ETag"]
    detail = response.json()
    assert detail["sender"] == "+84981234567" and detail["operator"] == "VIETTEL"
    assert detail["report_count"] == 4 and detail["status"] == "new"
    assert {c["channel"]: c["reports"] for c in detail["breakdown"]["per_channel"]} == {
        "sms": 3,
        "call": 1,
    }
    days = detail["breakdown"]["per_day"]
    assert [d["reports"] for d in days] == [2, 2]
    assert days[0]["day"] == str(days_ago(1).date())
    flags = {f["code"]: f for f in detail["flags"]}
    assert {"ordinary_number_ads", "call_outside_hours"} <= set(flags)
    assert flags["ordinary_number_ads"]["label"] == "Advertising from an ordinary number"
    assert "Decree 91/2020" in flags["call_outside_hours"]["basis"]
    assert detail["actions"] == []
    assert detail["allowed_moves"] == ["verifying", "confirmed", "not_spam"]


def test_case_list_filters_and_orders(client, official, case):
    for i in range(3):
        report(official, "SHOPEE", received_at=days_ago(5, hour=10 + i))
    report(
        official,
        "support@spam.example",
        channel="email",
        recipient="toi@example.vn",
        received_at=days_ago(7),
    )
    ordered = client.get(f"{CASES}?ordering=-report_count").json()["results"]
    assert [c["report_count"] for c in ordered] == [4, 3, 1]
    by_name = client.get(f"{CASES}?ordering=sender").json()["results"]
    assert [c["sender"] for c in by_name] == sorted(c["sender"] for c in ordered)
    recent = client.get(CASES).json()["results"]
    assert recent[0]["sender"] == "+84981234567"
    flagged = client.get(f"{CASES}?flag=call_outside_hours").json()["results"]
    assert [c["id"] for c in flagged] == [str(case.public_id)]
    assert len(client.get(f"{CASES}?min_reports=3").json()["results"]) == 2
    assert client.get(f"{CASES}?sender=0981 234 567").json()["results"][0]["id"] == str(
        case.public_id
    )
    paged = client.get(f"{CASES}?ordering=-report_count&page_size=2").json()
    rest = client.get(paged["next"]).json()["results"]
    assert [c["report_count"] for c in paged["results"] + rest] == [4, 3, 1]
    assert client.get(f"{CASES}?ordering=colour").status_code == 400
    assert client.get(f"{CASES}?flag=nope").status_code == 400


def test_case_steps_with_etag(client, case):
    url = f"{CASES}{case.public_id}/"
    etag = client.get(url)["ETag"]
    response = client.post(
        f"{url}status/", {"status": "verifying", "note": "Đang xác minh"}, HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verifying" and response["ETag"] != etag
    # A step sent with the old version is refused and changes nothing.
    stale = client.post(f"{url}status/", {"status": "confirmed"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    case.refresh_from_db()
    assert case.status == "verifying"
    # Not spam needs a reason; an unknown status is a field error; closed → new is 409.
    assert client.post(f"{url}status/", {"status": "not_spam"}).json().keys() == {"note"}
    assert client.post(f"{url}status/", {"status": "blocked"}).status_code == 400
    assert client.post(f"{url}status/", {"status": "confirmed"}).status_code == 200
    assert client.post(f"{url}status/", {"status": "closed"}).status_code == 200
    assert client.post(f"{url}status/", {"status": "verifying"}).status_code == 409


def test_correct_the_senders_operator(as_role, client, case):
    url = f"{CASES}{case.public_id}/operator/"
    assert client.post(url, {"operator": "NOPE"}, format="json").json().keys() == {"operator"}
    response = client.post(url, {"operator": "MOBIFONE"}, format="json")
    assert response.status_code == 200 and response.json()["operator"] == "MOBIFONE"
    assert set(case.reports.values_list("sender_operator__code", flat=True)) == {"MOBIFONE"}
    # The case moved networks: Viettel no longer sees it, MobiFone does.
    assert as_role("operator_viettel").get(f"{CASES}{case.public_id}/").status_code == 404
    assert as_role("operator_mobifone").get(f"{CASES}{case.public_id}/").status_code == 200
    cleared = client.post(url, {"operator": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["operator"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sla_hours": 0}, "sla_hours"),
        ({"sla_hours": 721}, "sla_hours"),
        ({"sla_hours": -5}, "sla_hours"),
        ({"sla_hours": "một ngày"}, "sla_hours"),
        ({"operator": "NOPE"}, "operator"),
        ({"operator": "SO_KHCN_HN"}, "operator"),
        ({"instructions": ["a"]}, "instructions"),
    ],
)
def test_bad_assignment_is_400_and_nothing_is_stored(client, case, change, field):
    before = counts()
    response = client.post(f"{CASES}{case.public_id}/assign/", change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


def test_assign_respond_and_block(as_role, client, case):
    response = client.post(
        f"{CASES}{case.public_id}/assign/",
        {"sla_hours": 24, "instructions": "Xác minh và chặn"},
        format="json",
    )
    assert response.status_code == 200, response.content
    (assigned,) = response.json()["actions"]
    assert assigned["operator"] == "VIETTEL" and assigned["sla_hours"] == 24
    assert assigned["outcome"] == "" and assigned["overdue"] is False
    twice = client.post(f"{CASES}{case.public_id}/assign/", {}, format="json")
    assert twice.status_code == 409

    viettel = as_role("operator_viettel")
    listed = viettel.get(f"{ASSIGNMENTS}?state=pending").json()["results"]
    assert [a["id"] for a in listed] == [assigned["id"]]
    assert listed[0]["case"] == str(case.public_id) and listed[0]["sender"] == "+84981234567"
    url = f"{ASSIGNMENTS}{assigned['id']}/respond/"
    assert viettel.post(url, {"outcome": "declined"}, format="json").json().keys() == {"note"}
    wrong = viettel.post(url, {"outcome": "suspended_brandname"}, format="json")
    assert wrong.status_code == 400 and "outcome" in wrong.json()
    assert viettel.post(url, {"outcome": "ignored"}, format="json").status_code == 400
    answered = viettel.post(url, {"outcome": "blocked_number", "note": "Đã chặn 2 chiều"})
    assert answered.status_code == 200, answered.content
    result = answered.json()
    assert result["outcome"] == "blocked_number" and result["case_status"] == "blocked"
    assert result["responded_by"] and result["handling_hours"] is not None
    assert viettel.post(url, {"outcome": "verified"}, format="json").status_code == 409
    case.refresh_from_db()
    assert case.status == "blocked"
    assert viettel.get(f"{ASSIGNMENTS}?state=answered").json()["results"][0]["id"] == assigned["id"]
    assert viettel.get(f"{ASSIGNMENTS}?state=sideways").status_code == 400


# --- Inspections ----------------------------------------------------------------------------------------------


def inspection_body(**changes):
    data = {
        "operator": "MOBIFONE",
        "reference": "BB-12/2025/KT",
        "inspected_on": str(timezone.localdate() - timedelta(days=3)),
        "sample_size": 2000,
        "nonconforming": 41,
        "findings": "41 thuê bao thiếu số giấy tờ",
        "actions_required": "Bổ sung thông tin",
        "deadline": str(timezone.localdate() + timedelta(days=30)),
    }
    data.update(changes)
    return data


def test_inspection_create_update_follow_up_and_close(as_role, client):
    response = client.post(INSPECTIONS, inspection_body(), format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["inspecting_agency"] == "SO_KHCN_HN" and created["status"] == "open"
    assert created["nonconforming_pct"] == 2.0 and created["follow_ups"] == []
    url = f"{INSPECTIONS}{created['id']}/"
    etag = response["ETag"]
    changed = client.patch(url, {"nonconforming": 40}, format="json", HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    stale = client.patch(url, {"nonconforming": 10}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert SubscriberInspection.objects.get(public_id=created["id"]).nonconforming == 40

    mobifone = as_role("operator_mobifone")
    assert mobifone.patch(url, {"nonconforming": 0}, format="json").status_code == 403
    note = {"note": "Đã bổ sung 40 thuê bao", "remedied": 40, "close": True}
    followed = mobifone.post(f"{url}follow-ups/", note, format="json")
    assert followed.status_code == 201, followed.content
    assert followed.json()["status"] == "remedied"
    (entry,) = followed.json()["follow_ups"]
    assert entry["remedied"] == 40 and entry["recorded_on"] == str(timezone.localdate())
    assert mobifone.post(f"{url}close/").status_code == 403
    closed = client.post(f"{url}close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    late = mobifone.post(f"{url}follow-ups/", {"note": "Thêm"}, format="json")
    assert late.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nonconforming": 2001}, "nonconforming"),
        ({"nonconforming": -1}, "nonconforming"),
        ({"sample_size": 0}, "sample_size"),
        ({"sample_size": 10**12}, "sample_size"),
        ({"operator": "NOPE"}, "operator"),
        ({"operator": "CUC_VT"}, "operator"),
        ({"inspecting_agency": "VIETTEL"}, "inspecting_agency"),
        ({"inspected_on": "FUTURE"}, "inspected_on"),
        ({"deadline": "PAST"}, "deadline"),
        ({"inspected_on": "3/13/2025"}, "inspected_on"),
    ],
)
def test_bad_inspection_is_400_and_nothing_is_stored(client, change, field):
    change = dict(change)
    if change.get("inspected_on") == "FUTURE":
        change["inspected_on"] = str(timezone.localdate() + timedelta(days=2))
    if change.get("deadline") == "PAST":
        change["deadline"] = str(timezone.localdate() - timedelta(days=30))
    before = counts()
    response = client.post(INSPECTIONS, inspection_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"note": ""}, "note"),
        ({"remedied": -3}, "remedied"),
        ({"recorded_on": "FUTURE"}, "recorded_on"),
        ({"recorded_on": "BEFORE"}, "recorded_on"),
    ],
)
def test_bad_follow_up_is_400(client, official, change, field):
    checked = inspection(official, "VIETTEL")
    change = dict(change)
    if change.get("recorded_on") == "FUTURE":
        change["recorded_on"] = str(timezone.localdate() + timedelta(days=1))
    if change.get("recorded_on") == "BEFORE":
        change["recorded_on"] = str(checked.inspected_on - timedelta(days=1))
    data = {"note": "Đã sửa", "remedied": 5, **change}
    before = counts()
    response = client.post(f"{INSPECTIONS}{checked.public_id}/follow-ups/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


# --- Statistics -------------------------------------------------------------------------------------------------


def test_statistics_for_a_day_and_a_month(as_role, client, official, case):
    services.mark_report(official, case.reports.filter(channel="sms").first(), False, "Nhầm")
    day = days_ago(1).date()
    response = client.get(f"{STATISTICS}?period=day&date={day}")
    assert response.status_code == 200, response.content
    stats = response.json()
    assert stats["period"] == {"kind": "day", "start": str(day), "end": str(day + timedelta(1))}
    assert stats["totals"]["received"] == 2
    rows = {(r["operator"], r["channel"]): r for r in stats["counts"]}
    assert rows[("VIETTEL", "sms")]["received"] == 1 and rows[("VIETTEL", "call")]["received"] == 1
    assert rows[("VIETTEL", "sms")]["operator_name"] == "Viettel"
    assert stats["top_senders"][0]["case"] == str(case.public_id)
    assert stats["top_senders"][0]["operator"] == "VIETTEL"

    month = client.get(f"{STATISTICS}?period=year&date={day}&operator=VIETTEL&channel=sms").json()
    assert month["operator"] == "VIETTEL" and month["channel"] == "sms"
    in_year = SpamReport.objects.filter(channel="sms", received_at__year=day.year)
    assert month["totals"]["received"] == in_year.count()
    assert month["totals"]["invalid"] == in_year.filter(status="invalid").count() == 1
    assert sum(t["received"] for t in month["trend"]) == in_year.count()
    default = client.get(STATISTICS).json()
    assert default["period"]["kind"] == "month"
    assert default["period"]["start"] == str(timezone.localdate().replace(day=1))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=week", "period"),
        ("date=2025-02-30", "date"),
        ("date=30/01/2025", "date"),
        ("operator=NOPE", "operator"),
        ("channel=fax", "channel"),
    ],
)
def test_bad_statistics_query_is_400(client, query, field):
    response = client.get(f"{STATISTICS}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()


# --- Imports ---------------------------------------------------------------------------------------------------


def test_import_is_queued_and_polled(client, as_role):
    uploaded = csv_file(
        [HEADER, ["sms", "0981234567", "0912345678", "Quảng cáo", "01/01/2025 10:00"]]
    )
    response = client.post(IMPORTS, {"file": uploaded, "origin": "export_5656"}, format="multipart")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == "queued" and job["percent"] == 0 and job["origin"] == "export_5656"
    assert job["original_name"] == "reports.csv"
    polled = client.get(f"{IMPORTS}{job['id']}/")
    assert polled.status_code == 200 and polled.json()["id"] == job["id"]
    # Another organisation's operator does not see the job.
    assert as_role("operator_viettel").get(f"{IMPORTS}{job['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"file": "FILE", "origin": "public_form"}, "origin"),
        ({"file": "FILE", "date_order": "ymd"}, "date_order"),
        ({"file": "FILE", "mapping": "[1, 2]"}, "mapping"),
        ({"file": "FILE", "mapping": "{not json"}, "mapping"),
        ({"file": "FILE", "mapping": '{"A": "\\ud800"}'}, "mapping"),  # a lone surrogate
        ({"file": "FILE", "mapping": '{"A\\u0000": "sender"}'}, "mapping"),  # NUL
        ({"file": "FILE", "mapping_name": "No such mapping"}, "mapping"),
        ({"file": "NOTES"}, "file"),
        ({"file": "EMPTY"}, "file"),
        ({}, "file"),
    ],
)
def test_bad_import_is_400_and_nothing_is_queued(client, data, field):
    files = {
        "FILE": csv_file([HEADER]),
        "NOTES": csv_file([HEADER], name="reports.docx"),
        "EMPTY": SimpleUploadedFile("empty.csv", b"", content_type="text/csv"),
    }
    data = {k: files.get(v, v) for k, v in data.items()}
    before = counts()
    response = client.post(IMPORTS, data, format="multipart")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert counts() == before


@pytest.mark.worker
def test_import_runs_on_a_real_worker(celery_worker_queue, outbox_to_queue, as_role):
    """A small CSV ends "done" with its counts and row errors (real Celery worker, private queue)."""
    outbox_to_queue(celery_worker_queue)
    yesterday = days_ago(1).strftime("%d/%m/%Y")
    rows = [
        HEADER,
        ["sms", "0981 234 567", "0912 345 678", "Vay nhanh", f"{yesterday} 09:00"],
        ["SMS", "0981234567", "0912 345 678", "Vay nhanh lần 2", f"{yesterday} 09:05"],
        ["tin nhắn", "0981 234 567", "0912 345 678", "Vay nhanh", f"{yesterday} 09:00"],
        ["sms", "VIETTEL<script>", "0912 345 678", "Khuyến mãi", f"{yesterday} 10:00"],
        ["cuộc gọi", "0901 234 567", "0987 654 321", "", f"{yesterday} 19:00"],
        ["sms", "SHOPEE", "0987 654 321", "<b>Sale</b>", "31/12/2099 10:00"],
    ]
    client = as_role("operator_viettel")
    response = client.post(IMPORTS, {"file": csv_file(rows)}, format="multipart")
    assert response.status_code == 202, response.content
    url = f"{IMPORTS}{response.json()['id']}/"
    deadline = time.monotonic() + 60
    while True:
        job = client.get(url).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"] == "done", job
    assert job["percent"] == 100 and job["origin"] == "operator_feed"
    assert (job["created_count"], job["duplicate_count"], job["error_count"]) == (3, 1, 2)
    assert job["total"] == 6 and job["processed"] == 6
    problems = {(e["row"], e["column"]) for e in job["errors"]}
    assert problems == {(4, ""), (5, "sender"), (7, "received_at")}
    duplicate = next(e for e in job["errors"] if e["row"] == 4)
    assert duplicate["duplicate"] is True and (
        "row 2" in duplicate["message"] or "dòng 2" in duplicate["message"]
    )
    assert SpamReport.objects.count() == 3
    assert SpamCase.objects.get(sender="+84981234567").report_count == 2
    listed = client.get(f"{REPORTS}?origin=operator_feed").json()["results"]
    assert len(listed) == 3  # all filed by Viettel (one names a MobiFone number)


# --- Do-not-call list -------------------------------------------------------------------------------------------


def test_do_not_call_list(client):
    numbers = ["0912 345 678", "+84912345678", "84-987-654-321"]
    response = client.post(DO_NOT_CALL, {"numbers": numbers, "source": "DNC 2025"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"submitted": 3, "added": 2}
    again = client.post(DO_NOT_CALL, {"numbers": ["0912345678"]}, format="json")
    assert again.json() == {"submitted": 1, "added": 0}
    listed = client.get(DO_NOT_CALL).json()["results"]
    assert [e["number"] for e in listed] == ["+84912345678", "+84987654321"]
    assert listed[0]["source"] == "DNC 2025"
    one = client.get(f"{DO_NOT_CALL}?number=0987 654 321").json()["results"]
    assert [e["number"] for e in one] == ["+84987654321"]
    assert client.get(f"{DO_NOT_CALL}?number=abc").status_code == 400


@pytest.mark.parametrize(
    "data",
    [{"numbers": ["0912345678", "0912"]}, {"numbers": []}, {"numbers": "0912345678,"}, {}],
    ids=["one bad number", "empty list", "not a list", "nothing"],
)
def test_bad_do_not_call_numbers_are_400(client, data):
    response = client.post(DO_NOT_CALL, data, format="json")
    assert response.status_code == 400, response.content
    assert "numbers" in response.json()
    assert DoNotCallEntry.objects.count() == 0


def test_do_not_call_flags_a_case(client, official):
    client.post(DO_NOT_CALL, {"numbers": ["0912 345 678"]}, format="json")
    response = client.post(
        REPORTS, body(received_at=days_ago(0, hour=0).isoformat()), format="json"
    )
    assert response.status_code == 201, response.content
    flags = client.get(f"{CASES}{response.json()['case']}/").json()["flags"]
    assert "do_not_call" in {f["code"] for f in flags}


# --- Query counts and the schema ----------------------------------------------------------------------------


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["city_official", "operator_viettel"])
def test_list_query_counts_do_not_grow_with_rows(
    as_role, official, django_assert_max_num_queries, role
):
    senders = ["0981 234 5{:02d}", "0351 234 5{:02d}", "0961 234 5{:02d}"]  # Viettel
    for i in range(30):
        filed = report(official, senders[i % 3].format(i), received_at=days_ago(1 + i % 5))
        if i % 2 == 0:
            services.assign(official, filed.case, operator=org("VIETTEL"), sla_hours=24)
        if i % 3 == 0:
            services.add_evidence(official, filed, [png_file()])
    for _i in range(30):
        checked = inspection(official, "VIETTEL")
        services.record_follow_up(
            official, checked, recorded_on=timezone.localdate(), note="Đã sửa", remedied=1
        )
    client = as_role(role)
    client.get(REPORTS)  # the user's roles are read once, on the first request
    for url in (REPORTS, CASES, ASSIGNMENTS, INSPECTIONS):
        with django_assert_max_num_queries(4):
            small_count, small = _queries(client, f"{url}?page_size=3")
        with django_assert_max_num_queries(4):
            big_count, big = _queries(client, f"{url}?page_size=30")
        assert len(small.json()["results"]) == 3, url
        assert len(big.json()["results"]) == (15 if url == ASSIGNMENTS else 30), url
        assert small_count == big_count, url


def test_schema_documents_the_spam_api(as_role):
    response = as_role("city_official").get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    for path in (
        "/api/v1/spam-reports/",
        "/api/v1/spam-reports/{public_id}/",
        "/api/v1/spam-reports/{public_id}/evidence/",
        "/api/v1/spam-cases/",
        "/api/v1/spam-cases/{public_id}/",
        "/api/v1/spam-cases/{public_id}/status/",
        "/api/v1/spam-cases/{public_id}/operator/",
        "/api/v1/spam-cases/{public_id}/assign/",
        "/api/v1/spam-assignments/",
        "/api/v1/spam-assignments/{public_id}/respond/",
        "/api/v1/spam-inspections/",
        "/api/v1/spam-inspections/{public_id}/",
        "/api/v1/spam-inspections/{public_id}/follow-ups/",
        "/api/v1/spam-inspections/{public_id}/close/",
        "/api/v1/spam-statistics/",
        "/api/v1/spam-imports/",
        "/api/v1/spam-imports/{public_id}/",
        "/api/v1/do-not-call/",
    ):
        assert path in schema["paths"], path
    paths = schema["paths"]
    assert "post" not in paths["/api/v1/spam-cases/"]
    report_params = {p["name"] for p in paths["/api/v1/spam-reports/"]["get"]["parameters"]}
    assert {"case", "sender", "channel", "cursor", "page_size"} <= report_params
    case_params = {p["name"] for p in paths["/api/v1/spam-cases/"]["get"]["parameters"]}
    assert {"ordering", "flag", "status", "operator"} <= case_params
    stats_params = {p["name"] for p in paths["/api/v1/spam-statistics/"]["get"]["parameters"]}
    assert stats_params == {"period", "date", "operator", "channel"}
    create = paths["/api/v1/spam-reports/"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(create)


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
    assert "/api/v1/spam-cases/{public_id}/assign/" in schema["paths"]
