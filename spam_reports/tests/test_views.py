"""The spam_reports app's HTML pages (and core's import-job page): the permission matrix, scoping
(an operator sees its own cases; another's is a 404), bad input through the forms (errors, never a
500, nothing stored), HTML in contents escaped, query counts that do not grow with the rows, the
public form (off by default, honeypot, rate limit), exports, the import pages and statistics."""

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from conftest import ROLE_USERS
from core import imports, roles
from core.models import ImportJob
from spam_reports import services
from spam_reports.models import (
    Evidence,
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
    png_file,
    report,
)

pytestmark = pytest.mark.django_db

ROLES = list(ROLE_USERS)
SEES_ALL = {"city_official", "national_official", "agency_api_client", "administrator"}
OFFICIALS = {"city_official", "national_official", "administrator"}
# VNPT's API client acts for VNPT, the operator of the 091x case below.
VNPT_SIDE = {"operator_api_client"}
MAY_REPORT = SEES_ALL | {"operator_viettel", "operator_mobifone", "operator_api_client"}
MAY_IMPORT = OFFICIALS | {"operator_viettel", "operator_mobifone", "operator_api_client"}
XSS = '<script>alert("spam")</script><b>Vay tiền</b>'


@pytest.fixture(autouse=True)
def english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def login(client, role_user):
    def log_in(role):
        user = role_user(role)
        if user is not None:
            client.force_login(user)
        return user

    return log_in


@pytest.fixture
def official(make_user):
    return make_user(roles.CITY_OFFICIAL, "SO_KHCN_HN")


@pytest.fixture
def vnpt_staff(make_user):
    return make_user(roles.OPERATOR_STAFF, "VNPT")


@pytest.fixture
def case(official):
    """0912 345 678: a VinaPhone number, so VNPT's case; advertising by SMS at night."""
    report(official, "0912 345 678", received_at=days_ago(1, hour=23), content=XSS)
    return report(official, "0912 345 678").case


@pytest.fixture
def viettel_case(official):
    return report(official, "0987 111 222", recipient="0912 000 111").case


def url_of(case):
    return f"/spam/cases/{case.public_id}/"


# --- Permission matrix ------------------------------------------------------------------------------

LIST_PAGES = ["/spam/cases/", "/spam/reports/", "/spam/assignments/", "/spam/inspections/"]


@pytest.mark.parametrize("url", LIST_PAGES)
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_list_pages_need_a_login_and_open_for_every_role(client, login, case, url, role):
    login(role)
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif role == "no_role":
        assert response.status_code == 403  # an account without a role: core.access
    else:
        assert response.status_code == 200


def test_the_app_root_goes_to_the_cases(client, official):
    client.force_login(official)
    response = client.get("/spam/?status=new")
    assert response.status_code == 302 and response["Location"] == "/spam/cases/?status=new"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/spam/statistics/", MAY_REPORT),
        ("/spam/reports/new/", MAY_REPORT),
        ("/spam/reports/new/5656/", MAY_REPORT),
        ("/spam/import/", MAY_IMPORT),
        ("/spam/inspections/new/", OFFICIALS),
    ],
)
@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_pages_for_some_roles(client, login, url, allowed, role):
    login(role)
    response = client.get(url)
    if role == "anonymous":
        assert response.status_code == 302
    else:
        assert response.status_code == (200 if role in allowed else 403)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_case_page_is_scoped_another_operator_gets_404(client, login, case, role):
    login(role)
    response = client.get(url_of(case))
    if role == "anonymous":
        assert response.status_code == 302
    elif role in SEES_ALL | VNPT_SIDE:
        assert response.status_code == 200
        body = response.content
        assert (b'data-testid="assign-form"' in body) is (role in OFFICIALS)
        assert (b'data-testid="status-form"' in body) is (role in OFFICIALS)
    else:
        assert response.status_code == (403 if role == "no_role" else 404)


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_lists_show_only_the_operators_own_cases_and_reports(
    client, login, case, viettel_case, role
):
    login(role)
    cases = client.get("/spam/cases/")
    reports = client.get("/spam/reports/")
    if role == "anonymous":
        return
    if role == "no_role":
        assert cases.status_code == reports.status_code == 403  # core.access
        return
    listed = {c.sender for c in cases.context["object_list"]}
    expected = {
        **{r: {case.sender, viettel_case.sender} for r in SEES_ALL},
        "operator_api_client": {case.sender},
        "operator_viettel": {viettel_case.sender},
    }.get(role, set())
    assert listed == expected
    assert {r.sender for r in reports.context["object_list"]} == expected


def test_an_operator_cannot_act_on_another_operators_case(client, make_user, case):
    client.force_login(make_user(roles.OPERATOR_STAFF, "VIETTEL"))
    for path in ("status/", "operator/", "assign/"):
        assert client.post(url_of(case) + path, {}).status_code == 404
    report_ = case.reports.first()
    assert client.get(f"/spam/reports/{report_.public_id}/").status_code == 404
    assert client.post(f"/spam/reports/{report_.public_id}/mark/", {}).status_code == 404


def test_the_cases_operator_may_see_but_not_decide(client, vnpt_staff, case):
    client.force_login(vnpt_staff)
    assert client.get(url_of(case)).status_code == 200
    response = client.post(url_of(case) + "status/", {"status-status": "confirmed"})
    assert response.status_code == 403
    response = client.post(url_of(case) + "assign/", {"assign-operator": org("VNPT").pk})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == "new" and not case.actions.exists()


# --- The case page and its actions -----------------------------------------------------------------


def test_case_page_shows_flags_breakdown_reports_and_history(client, official, case):
    client.force_login(official)
    response = client.get(url_of(case))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-code="ordinary_number_ads"' in body
    assert 'data-code="sms_outside_hours"' in body
    assert "Advertising from an ordinary number" in body
    assert "Decree 91/2020/NĐ-CP" in body
    assert 'data-testid="case-report-count" data-count="2"' in body
    assert 'data-code="VNPT"' in body
    assert [(d["reports"], d["recipients"]) for d in response.context["per_day"]] == [(2, 1)]
    assert response.context["per_channel"][0]["reports"] == 2
    assert response.context["history"]


@pytest.mark.parametrize(
    ("sender", "channel"),
    [("+33 6 12 34 56 78", "sms"), ("Shopee", "sms"), ("Khuyen.Mai@Example.VN", "email")],
)
def test_cases_without_an_operator_render_everywhere(client, official, sender, channel):
    """A foreign number, a brandname or an e-mail address has no operator from its range."""
    recipient = "nguoi.dan@gmail.com" if channel == "email" else "0987 654 321"
    case = report(official, sender, channel=channel, recipient=recipient).case
    assert case.operator is None
    client.force_login(official)
    for url in (
        "/spam/cases/",
        url_of(case),
        "/spam/reports/",
        f"/spam/reports/{case.reports.get().public_id}/",
        "/spam/statistics/?period=year",
    ):
        assert client.get(url).status_code == 200, url
    response = client.post(url_of(case) + "assign/", {"assign-sla_hours": "24"})
    assert response.status_code == 400
    assert "operator" in response.context["assign_form"].errors


def test_html_in_content_is_escaped_on_every_page(client, official, case):
    client.force_login(official)
    bad = case.reports.get(content=XSS)
    for url in (
        url_of(case),
        "/spam/reports/",
        f"/spam/reports/{bad.public_id}/",
    ):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<b>Vay" not in body, url
        assert "&lt;script&gt;alert(&quot;spam&quot;)&lt;/script&gt;" in body, url


def test_an_official_assigns_and_the_operator_blocks(client, official, vnpt_staff, case):
    client.force_login(official)
    page = client.get(url_of(case))
    assert page.context["assign_form"]["sla_hours"].value() == 24
    assert page.context["assign_form"]["operator"].value() == org("VNPT").pk
    response = client.post(
        url_of(case) + "assign/",
        {"assign-operator": org("VNPT").pk, "assign-sla_hours": "24", "assign-instructions": "x"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#assignments")
    action = OperatorAction.objects.get(case=case)
    assert action.sla_hours == 24 and action.operator.code == "VNPT"
    assert abs((action.deadline - action.assigned_at) - timedelta(hours=24)) < timedelta(seconds=1)
    # Assigning twice is a form error, not a 500.
    again = client.get(url_of(case))
    assert again.context["assign_form"] is None

    client.force_login(vnpt_staff)
    page = client.get(url_of(case))
    assert page.context["respond_form"] is not None
    response = client.post(
        f"/spam/assignments/{action.public_id}/respond/",
        {"respond-outcome": "blocked_number", "respond-note": "Đã chặn"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    action.refresh_from_db()
    assert action.outcome == "blocked_number" and case.status == "blocked"
    page = client.get(url_of(case))
    assert b'data-state="answered"' in page.content
    assert page.context["respond_form"] is None

    client.force_login(official)
    stats = client.get("/spam/statistics/", {"period": "day"})
    assert stats.context["totals"]["blocked"] == 1
    row = stats.context["stats"]["handling"][0]
    assert row["short_name"] == "VNPT" and row["blocked"] == 1 and row["on_time_pct"] == 100.0


def test_answering_twice_shows_a_message_not_a_500(client, official, vnpt_staff, case):
    action = services.assign(official, case, sla_hours=24)
    services.respond(vnpt_staff, action, "verified")
    client.force_login(vnpt_staff)
    response = client.post(
        f"/spam/assignments/{action.public_id}/respond/",
        {"respond-outcome": "blocked_number"},
        follow=True,
    )
    assert response.status_code == 200
    assert "already been answered" in response.content.decode()
    action.refresh_from_db()
    assert action.outcome == "verified"


def test_another_operator_cannot_answer(client, official, make_user, case):
    action = services.assign(official, case, sla_hours=24)
    client.force_login(make_user(roles.OPERATOR_STAFF, "VIETTEL"))
    response = client.post(
        f"/spam/assignments/{action.public_id}/respond/", {"respond-outcome": "blocked_number"}
    )
    assert response.status_code == 404
    action.refresh_from_db()
    assert action.outcome == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"respond-outcome": "declined"}, "note", "Give the reason for declining."),
        ({"respond-outcome": "suspended_brandname"}, "outcome", "The sender is not a brandname."),
        ({"respond-outcome": "teleported"}, "outcome", "Select a valid choice."),
    ],
)
def test_bad_answers_are_form_errors(client, official, vnpt_staff, case, data, field, message):
    action = services.assign(official, case, sla_hours=24)
    client.force_login(vnpt_staff)
    response = client.post(f"/spam/assignments/{action.public_id}/respond/", data)
    assert response.status_code == 400
    assert message in " ".join(response.context["respond_form"].errors[field])
    action.refresh_from_db()
    assert action.outcome == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"assign-sla_hours": "0"}, "sla_hours", "greater than or equal to 1"),
        ({"assign-sla_hours": "abc"}, "sla_hours", "Enter a whole number."),
        ({"assign-sla_hours": "721"}, "sla_hours", "less than or equal to 720"),
        ({"assign-operator": "999999"}, "operator", "Select a valid choice."),
    ],
)
def test_bad_assignments_are_form_errors(client, official, case, data, field, message):
    client.force_login(official)
    post = {"assign-operator": org("VNPT").pk, "assign-sla_hours": "24", **data}
    response = client.post(url_of(case) + "assign/", post)
    assert response.status_code == 400
    assert message in " ".join(response.context["assign_form"].errors[field])
    assert not OperatorAction.objects.exists()


def test_a_closed_case_cannot_be_assigned_the_error_is_shown(client, official, case):
    services.change_status(official, case, "confirmed")
    services.change_status(official, case, "closed")
    client.force_login(official)
    response = client.post(
        url_of(case) + "assign/", {"assign-operator": org("VNPT").pk, "assign-sla_hours": "24"}
    )
    assert response.status_code == 400
    assert "cannot be assigned" in " ".join(response.context["assign_form"].non_field_errors())


def test_status_changes_follow_the_table(client, official, case):
    client.force_login(official)
    choices = [
        c for c, _l in client.get(url_of(case)).context["status_form"]["status"].field.choices
    ]
    assert choices == ["verifying", "confirmed", "not_spam"]
    # Not spam needs a reason.
    response = client.post(url_of(case) + "status/", {"status-status": "not_spam"})
    assert response.status_code == 400
    assert "Say why this is not spam." in response.context["status_form"].errors["note"]
    # "closed" is not a move from "new": the form refuses it.
    response = client.post(url_of(case) + "status/", {"status-status": "closed"})
    assert response.status_code == 400
    response = client.post(
        url_of(case) + "status/", {"status-status": "confirmed", "status-note": "Đã xác minh"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "confirmed" and "Đã xác minh" in case.note
    assert set(case.reports.values_list("status", flat=True)) == {"verified"}


def test_an_official_corrects_the_operator(client, official, case):
    client.force_login(official)
    response = client.post(url_of(case) + "operator/", {"op-operator": org("VIETTEL").pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.operator.code == "VIETTEL"
    assert set(case.reports.values_list("sender_operator__code", flat=True)) == {"VIETTEL"}
    response = client.post(url_of(case) + "operator/", {"op-operator": org("UBND_HN").pk})
    assert response.status_code == 400


def test_case_reports_are_paginated(client, official, case):
    for i in range(25):
        report(official, "0912 345 678", received_at=days_ago(2, minute=i))
    client.force_login(official)
    first = client.get(url_of(case))
    assert len(first.context["reports_page"]) == 20
    second = client.get(url_of(case), {"page": "2"})
    assert len(second.context["reports_page"]) == 7
    assert client.get(url_of(case), {"page": "abc"}).status_code == 200


# --- Reports: the forms -------------------------------------------------------------------------------


def report_post(**overrides):
    data = {
        "channel": "sms",
        "sender": "0912 345 678",
        "recipient": "0987 654 321",
        "content": "Vay tiền nhanh",
        "received_at": (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "recipient_operator": "",
    }
    data.update(overrides)
    return data


def test_an_official_files_a_report_with_evidence(client, official):
    client.force_login(official)
    data = report_post(evidence=[png_file("a.png"), png_file("b.png")])
    response = client.post("/spam/reports/new/", data)
    assert response.status_code == 302
    stored = SpamReport.objects.get()
    assert response["Location"] == f"/spam/reports/{stored.public_id}/"
    assert stored.sender == "+84912345678" and stored.sender_raw == "0912 345 678"
    assert stored.origin == "official" and stored.evidence.count() == 2
    page = client.get(response["Location"])
    assert b'data-testid="sender-raw">0912 345 678<' in page.content
    assert page.content.count(b'data-testid="evidence-link"') == 2
    evidence = Evidence.objects.first()
    download = client.get(f"/spam/evidence/{evidence.public_id}/")
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


def test_evidence_is_only_served_to_who_sees_the_report(client, official, make_user):
    stored = report(official, "0912 345 678", evidence=[png_file()])
    evidence = stored.evidence.get()
    client.force_login(make_user(roles.OPERATOR_STAFF, "MOBIFONE"))
    assert client.get(f"/spam/evidence/{evidence.public_id}/").status_code == 404
    assert client.get(f"/spam/evidence/{uuid.uuid4()}/").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"sender": ""}, "sender", "This field is required."),
        ({"sender": "12ab!!"}, "sender", "is not a valid brandname"),
        ({"sender": "+33 6 12 34 56 78 99"}, "sender", "not a valid Vietnamese phone number"),
        ({"sender": "0912345678", "channel": "email"}, "sender", "cannot be the sender"),
        ({"content": "   "}, "content", "Give the content of the message."),
        ({"recipient": "not a number"}, "recipient", "is not a phone number"),
        ({"received_at": "2099-01-01T10:00"}, "received_at", "cannot be in the future"),
        ({"received_at": "2999-01-01T10:00"}, "received_at", "between 1900 and 2100"),
        ({"received_at": "yesterday"}, "received_at", "Enter a valid date/time."),
        ({"channel": "fax"}, "channel", "Select a valid choice."),
        ({"evidence": [SimpleUploadedFile("x.png", b"MZ\x90\x00 not an image")]}, "evidence", ""),
    ],
)
def test_bad_reports_are_refused_and_nothing_stored(client, official, overrides, field, message):
    client.force_login(official)
    response = client.post("/spam/reports/new/", report_post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert b'data-testid="form-errors"' in response.content
    assert not SpamReport.objects.exists()


def test_form_errors_are_vietnamese_by_default(client, official, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    client.force_login(official)
    with translation.override("vi"):
        response = client.post("/spam/reports/new/", report_post(sender=""))
    assert "Trường này là bắt buộc." in response.content.decode()
    assert "Vui lòng sửa các lỗi dưới đây." in response.content.decode()


def test_the_same_complaint_twice_is_a_form_error(client, official):
    client.force_login(official)
    assert client.post("/spam/reports/new/", report_post()).status_code == 302
    response = client.post("/spam/reports/new/", report_post())
    assert response.status_code == 200
    assert "already received" in " ".join(response.context["form"].non_field_errors())
    assert SpamReport.objects.count() == 1


def test_a_5656_message_becomes_a_report(client, official):
    client.force_login(official)
    when = (timezone.localtime() - timedelta(hours=1)).strftime("%d/%m/%Y %H:%M")
    response = client.post(
        "/spam/reports/new/5656/",
        {"reporter": "0987 654 321", "message": "V 0912345678 goi moi vay", "received_at": when},
    )
    assert response.status_code == 302
    stored = SpamReport.objects.get()
    assert (stored.channel, stored.sender, stored.recipient, stored.origin) == (
        "call",
        "+84912345678",
        "+84987654321",
        "export_5656",
    )
    bad = client.post(
        "/spam/reports/new/5656/",
        {"reporter": "0987 654 321", "message": "X hello", "received_at": when},
    )
    assert bad.status_code == 200
    assert "5656 syntax" in " ".join(bad.context["form"].errors["message"])


def test_an_operator_files_a_report_and_sees_it(client, make_user):
    staff = make_user(roles.OPERATOR_STAFF, "VIETTEL")
    client.force_login(staff)
    response = client.post("/spam/reports/new/", report_post())
    assert response.status_code == 302
    stored = SpamReport.objects.get()
    assert stored.origin == "operator_feed" and stored.reporting_organization.code == "VIETTEL"
    # Its own report is visible; the VNPT sender's case is not.
    assert client.get(response["Location"]).status_code == 200
    assert client.get(url_of(stored.case)).status_code == 404


def test_marking_a_report(client, official, case):
    client.force_login(official)
    target = case.reports.exclude(content=XSS).get()
    url = f"/spam/reports/{target.public_id}/mark/"
    response = client.post(url, {"mark-status": "invalid", "mark-reason": ""})
    assert response.status_code == 400
    assert "Say why the report is invalid." in response.context["mark_form"].errors["reason"]
    response = client.post(url, {"mark-status": "invalid", "mark-reason": "Sai số"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.status == "invalid" and target.invalid_reason == "Sai số"


def test_operators_cannot_mark_reports(client, vnpt_staff, case):
    client.force_login(vnpt_staff)
    target = case.reports.first()
    page = client.get(f"/spam/reports/{target.public_id}/")
    assert page.status_code == 200 and page.context["mark_form"] is None
    response = client.post(f"/spam/reports/{target.public_id}/mark/", {"mark-status": "verified"})
    assert response.status_code == 403


# --- The public form ----------------------------------------------------------------------------


def public_post(**overrides):
    data = report_post(recipient="0987 654 321", website="")
    data.pop("recipient_operator")
    data.update(overrides)
    return data


def test_the_public_form_is_off_by_default(client):
    assert client.get("/spam/complaint/").status_code == 404
    assert client.post("/spam/complaint/", public_post()).status_code == 404
    assert not SpamReport.objects.exists()


@pytest.fixture
def public_form(settings):
    settings.SPAM_PUBLIC_FORM = True
    settings.SPAM_PUBLIC_RATE_PER_HOUR = 3
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    yield {"REMOTE_ADDR": address}
    cache.clear()


def test_a_citizen_files_a_complaint_without_an_account(client, public_form):
    assert client.get("/spam/complaint/", **public_form).status_code == 200
    response = client.post(
        "/spam/complaint/", public_post(evidence=png_file()), **public_form, follow=True
    )
    assert response.redirect_chain[-1][0] == "/spam/complaint/thanks/"
    stored = SpamReport.objects.get()
    assert stored.origin == "public_form" and stored.reported_by is None
    assert stored.evidence.count() == 1


def test_the_honeypot_pretends_success_and_stores_nothing(client, public_form):
    response = client.post(
        "/spam/complaint/", public_post(website="http://spam.example"), **public_form
    )
    assert response.status_code == 302 and response["Location"] == "/spam/complaint/thanks/"
    assert not SpamReport.objects.exists()


def test_the_public_form_is_rate_limited_per_address(client, public_form, settings):
    for i in range(3):
        response = client.post(
            "/spam/complaint/", public_post(content=f"Quảng cáo {i}"), **public_form
        )
        assert response.status_code == 302
    response = client.post("/spam/complaint/", public_post(content="Quảng cáo 4"), **public_form)
    assert response.status_code == 429
    assert "Too many complaints" in " ".join(response.context["form"].non_field_errors())
    assert SpamReport.objects.count() == 3
    # Another address is not limited.
    other = {"REMOTE_ADDR": "192.0.2.77"}
    response = client.post("/spam/complaint/", public_post(content="Quảng cáo 5"), **other)
    assert response.status_code == 302
    # The message is Vietnamese by default.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "vi"
    with translation.override("vi"):
        response = client.post(
            "/spam/complaint/", public_post(content="Quảng cáo 6"), **public_form
        )
    assert response.status_code == 429


def test_bad_public_input_is_a_form_error(client, public_form):
    response = client.post(
        "/spam/complaint/", public_post(sender="", received_at="2999-01-01T10:00"), **public_form
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "sender" in errors
    assert not SpamReport.objects.exists()


# --- Lists: filters, exports, query counts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/spam/cases/", {"min_reports": "abc", "seen_after": "31/02/2026", "status": "bogus"}),
        ("/spam/cases/", {"operator": "NOPE", "flag": "nope", "ordering": "drop table"}),
        ("/spam/reports/", {"case": "not-a-uuid", "received_after": "x", "channel": "fax"}),
        ("/spam/assignments/", {"state": "lost", "assigned_after": "x"}),
        ("/spam/inspections/", {"status": "x", "inspected_after": "2026-13-45"}),
        ("/spam/statistics/", {"period": "decade", "date": "garbage", "channel": "fax"}),
    ],
)
def test_bad_filter_values_are_not_500(client, official, case, url, params):
    client.force_login(official)
    assert client.get(url, params).status_code == 200


def test_case_filters(client, official, case, viettel_case):
    client.force_login(official)

    def senders(**params):
        response = client.get("/spam/cases/", params)
        return {c.sender for c in response.context["object_list"]}

    assert senders(sender="0912 345 678") == {case.sender}
    assert senders(operator="VIETTEL") == {viettel_case.sender}
    assert senders(flag="sms_outside_hours") == {case.sender}
    assert senders(min_reports="2") == {case.sender}
    assert senders(ordering="report_count") == {case.sender, viettel_case.sender}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "url", ["/spam/cases/", "/spam/reports/", "/spam/assignments/", "/spam/inspections/"]
)
def test_lists_export_csv_and_xlsx(client, official, case, url, fmt):
    services.assign(official, case, sla_hours=24)
    inspection(official)
    client.force_login(official)
    response = client.get(url, {"export": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert len(rows) >= 2
    else:
        book = load_workbook(io.BytesIO(response.content))
        assert book.active.max_row >= 2


def test_the_case_export_holds_the_filtered_cases(client, official, case, viettel_case):
    client.force_login(official)
    response = client.get("/spam/cases/", {"export": "csv", "operator": "VNPT"})
    rows = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff")))
    )
    assert [r["sender"] for r in rows] == ["'+84912345678"]
    assert rows[0]["operator"] == "VNPT" and rows[0]["report_count"] == "2"
    assert "Advertising from an ordinary number" in rows[0]["flag_labels"]


def test_query_counts_do_not_grow_with_the_rows(client, official, make_user):
    """Each page's query count with 3 rows equals its count with 30 (and stays small)."""
    vnpt = make_user(roles.OPERATOR_STAFF, "VNPT")
    target = report(official, "0912 345 678").case
    pending = services.assign(official, target, sla_hours=24)
    services.respond(vnpt, pending, "verified")
    services.assign(official, target, sla_hours=24)

    def add(start, stop):
        for i in range(start, stop):
            r = report(official, f"0912 {i:03d} 678", received_at=days_ago(1, minute=i))
            report(
                official, "0912 345 678", received_at=days_ago(2, minute=i), evidence=[png_file()]
            )
            if i % 3 == 0:
                action = services.assign(official, r.case, sla_hours=24)
                if i % 2 == 0:
                    services.respond(vnpt, action, "blocked_number")
            inspection(official, operator="VNPT" if i % 2 else "VIETTEL")

    pages = [*LIST_PAGES, "/spam/statistics/?period=month", "/spam/statistics/", url_of(target)]
    report_url = f"/spam/reports/{target.reports.first().public_id}/"

    def counts():
        out = {}
        for user in (official, vnpt):
            client.force_login(user)
            for url in [*pages, report_url]:
                with CaptureQueriesContext(connection) as queries:
                    assert client.get(url).status_code == 200
                out[(user.pk, url)] = len(queries.captured_queries)
        return out

    add(0, 3)
    few = counts()
    add(3, 30)
    many = counts()
    assert many == few
    for (_user, url), n in many.items():
        assert n <= (10 if url in LIST_PAGES else 16), (url, n)


# --- Import: the upload page and core's job page ---------------------------------------------------

IMPORT_ROWS = [
    ["reporter", "message", "received_at"],
    ["0987 654 321", "S 0912345678 Vay tien nhanh", days_ago(1).strftime("%d/%m/%Y %H:%M")],
    ["0987 654 322", "S 0912345678 Vay tien nhanh", days_ago(1).strftime("%d/%m/%Y %H:%M")],
    ["0987 654 321", "S 0912345678 Vay tien nhanh", days_ago(1).strftime("%d/%m/%Y %H:%M")],
    ["0987 654 323", "hello there", days_ago(1).strftime("%d/%m/%Y %H:%M")],
    ["0987 654 324", "S 0912345678 Khuyen mai", "31/12/2999 10:00"],
]


def test_the_import_page_starts_a_job_and_its_page_follows_it(client, official):
    client.force_login(official)
    response = client.post(
        "/spam/import/", {"kind": "export_5656", "file": csv_file(IMPORT_ROWS, "5656.csv")}
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.public_id}/"
    assert job.options == {"origin": "export_5656"} and job.created_by == official

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b'hx-trigger="every 1s"' in page.content and b'data-status="queued"' in page.content

    imports.run(job.pk)  # the worker's part
    partial = client.get(f"/imports/{job.public_id}/progress/")
    body = partial.content.decode()
    assert "hx-trigger" not in body
    assert 'data-status="done"' in body and 'data-percent="100"' in body
    assert 'data-testid="import-created">2<' in body
    assert 'data-testid="import-duplicates">1<' in body
    assert 'data-testid="import-refused">2<' in body
    assert 'data-row="4"' in body and 'data-row="5"' in body and 'data-row="6"' in body
    assert 'href="/spam/import/"' in body
    errors = client.get(f"/imports/{job.public_id}/errors.csv")
    body = b"".join(errors.streaming_content).decode()  # streamed: every row error
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["row", "column", "value", "message", "duplicate"]
    assert {r[0] for r in rows[1:]} == {"4", "5", "6"}
    case = SpamCase.objects.get(sender="+84912345678")
    assert case.report_count == 2


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_the_import_job_page_is_scoped(client, login, make_user, role):
    creator = make_user(roles.OPERATOR_STAFF, "VNPT")
    job = services.start_import(creator, csv_file(IMPORT_ROWS, "5656.csv"), "export_5656")
    login(role)
    response = client.get(f"/imports/{job.public_id}/")
    if role == "anonymous":
        assert response.status_code == 302
    elif role in SEES_ALL | VNPT_SIDE:
        assert response.status_code == 200
    else:
        assert response.status_code == (403 if role == "no_role" else 404)
    client.force_login(creator)
    assert client.get(f"/imports/{job.public_id}/progress/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "export_5656"}, "file", "This field is required."),
        (
            {"kind": "export_5656", "file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")},
            "file",
            "Upload a CSV or XLSX file.",
        ),
        (
            {"kind": "api", "file": csv_file(IMPORT_ROWS)},
            "kind",
            "Select a valid choice.",
        ),
        (
            {"kind": "export_5656", "file": SimpleUploadedFile("x.csv", b"")},
            "file",
            "empty",
        ),
    ],
)
def test_bad_uploads_are_form_errors(client, official, data, field, message):
    client.force_login(official)
    response = client.post("/spam/import/", data)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not ImportJob.objects.exists()


def test_a_file_without_the_columns_goes_to_the_mapping_step(client, official):
    """Not refused at once: the page asks which column feeds which field (a file the worker
    refuses shows why on the job's page, test_services' missing-columns cases)."""
    client.force_login(official)
    response = client.post(
        "/spam/import/", {"kind": "export_5656", "file": csv_file([["a", "b"], [1, 2]])}
    )
    job = ImportJob.objects.get()
    assert job.status == "draft" and response.url == f"/imports/{job.public_id}/mapping/"
    page = client.get(response.url)
    assert "channel" in page.context["missing"]
    assert imports.run(job.pk).status == "draft"  # the worker does not take a job still waiting
    assert (
        'data-testid="import-mapping"' in client.get(f"/imports/{job.public_id}/").content.decode()
    )


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        (
            "operator_feed",
            "channel,sender,recipient,content,received_at,recipient_operator,external_id",
        ),
        ("export_5656", "reporter,message,received_at"),
    ],
)
def test_import_templates(client, official, kind, header):
    client.force_login(official)
    response = client.get(f"/spam/import/template/{kind}.csv")
    assert response.status_code == 200
    assert response.content.decode().lstrip("\ufeff").strip() == header
    assert client.get("/spam/import/template/other.csv").status_code == 404


# --- Statistics ----------------------------------------------------------------------------------


def test_statistics_page_tables_chart_and_exports(client, official, case, viettel_case):
    client.force_login(official)
    response = client.get("/spam/statistics/", {"period": "month", "date": days_ago(1).date()})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and 'data-testid="trend-chart"' in body
    assert "cdn" not in body.lower()
    totals = response.context["totals"]
    assert totals["received"] == 3
    assert {(r["short_name"], r["channel"]) for r in response.context["stats"]["counts"]} == {
        ("VNPT", "sms"),
        ("Viettel", "sms"),
    }
    assert f'href="/spam/cases/{case.public_id}/"' in body
    day = days_ago(1).date().isoformat()
    assert f'data-day="{day}" data-received="3"' in body

    xlsx = client.get("/spam/statistics/", {"period": "month", "export": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    assert len(book.sheetnames) == 4
    for table in ("counts", "handling", "top", "trend"):
        csv_response = client.get(
            "/spam/statistics/", {"period": "year", "export": "csv", "table": table}
        )
        assert csv_response["Content-Type"].startswith("text/csv")
        assert len(csv_response.content.decode().splitlines()) >= 1


def test_an_operator_sees_its_own_statistics_only(client, official, make_user, case, viettel_case):
    client.force_login(make_user(roles.OPERATOR_STAFF, "VIETTEL"))
    response = client.get(
        "/spam/statistics/", {"period": "month", "operator": "VNPT", "date": days_ago(1).date()}
    )
    assert response.status_code == 200
    assert "operator" not in response.context["form"].fields
    assert response.context["totals"]["received"] == 1
    assert [r["sender"] for r in response.context["stats"]["top_senders"]] == [viettel_case.sender]


# --- Inspections -----------------------------------------------------------------------------------


def inspection_post(**overrides):
    data = {
        "operator": org("VIETTEL").pk,
        "inspecting_agency": org("SO_KHCN_HN").pk,
        "reference": "BB-01/KT",
        "inspected_on": (timezone.localdate() - timedelta(days=5)).isoformat(),
        "sample_size": "500",
        "nonconforming": "12",
        "findings": "12 thuê bao sai",
        "actions_required": "Chuẩn hoá",
        "deadline": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_an_official_records_an_inspection_the_operator_follows_up(client, official, make_user):
    client.force_login(official)
    response = client.post("/spam/inspections/new/", inspection_post())
    assert response.status_code == 302
    item = SubscriberInspection.objects.get()
    assert response["Location"] == f"/spam/inspections/{item.public_id}/"
    edit = client.post(
        f"/spam/inspections/{item.public_id}/edit/", inspection_post(nonconforming="10")
    )
    assert edit.status_code == 302
    item.refresh_from_db()
    assert item.nonconforming == 10

    staff = make_user(roles.OPERATOR_STAFF, "VIETTEL")
    client.force_login(staff)
    page = client.get(f"/spam/inspections/{item.public_id}/")
    assert page.context["follow_up_form"] is not None and not page.context["can_close"]
    assert client.get(f"/spam/inspections/{item.public_id}/edit/").status_code == 403
    url = f"/spam/inspections/{item.public_id}/follow-up/"
    bad = client.post(
        url, {"followup-recorded_on": "", "followup-note": "", "followup-remedied": "-1"}
    )
    assert bad.status_code == 400
    good = client.post(
        url,
        {
            "followup-recorded_on": timezone.localdate().isoformat(),
            "followup-note": "Đã chuẩn hoá 10 thuê bao",
            "followup-remedied": "10",
            "followup-close": "on",
        },
    )
    assert good.status_code == 302
    item.refresh_from_db()
    assert item.status == "remedied" and item.follow_ups.count() == 1
    assert client.post(f"/spam/inspections/{item.public_id}/close/").status_code == 403

    client.force_login(make_user(roles.OPERATOR_STAFF, "MOBIFONE"))
    assert client.get(f"/spam/inspections/{item.public_id}/").status_code == 404

    client.force_login(official)
    assert client.post(f"/spam/inspections/{item.public_id}/close/").status_code == 302
    item.refresh_from_db()
    assert item.status == "closed"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"nonconforming": "600"}, "nonconforming", "More subscriptions not matching"),
        ({"sample_size": "0"}, "sample_size", "greater than or equal to 1"),
        (
            {"inspected_on": (timezone.localdate() + timedelta(days=3)).isoformat()},
            "inspected_on",
            "cannot be in the future",
        ),
        ({"deadline": "2000-01-01"}, "deadline", "cannot be before the inspection"),
        ({"operator": "agency"}, "operator", "Select a valid choice."),
    ],
)
def test_bad_inspections_are_refused(client, official, overrides, field, message):
    if overrides.get("operator") == "agency":
        overrides = {**overrides, "operator": org("UBND_HN").pk}
    client.force_login(official)
    response = client.post("/spam/inspections/new/", inspection_post(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not SubscriberInspection.objects.exists()


def test_a_cancelled_spam_import_keeps_its_committed_chunks_and_stops(
    client, official, monkeypatch
):
    from spam_reports.models import SpamReport
    from spam_reports.services import importing

    rows = [IMPORT_ROWS[0]] + [
        [f"0987 654 {i:03d}", f"S 09123456{i % 10}8 Vay tien {i}", IMPORT_ROWS[1][2]]
        for i in range(6)
    ]
    job = services.start_import(official, csv_file(rows, "5656.csv"), "export_5656")
    monkeypatch.setattr(importing, "CHUNK", 2)  # three chunks of two rows
    real_store, calls = importing._store, []

    def store(chunk, job, user, origin):
        calls.append(len(chunk))
        if len(calls) == 2:  # Cancel pressed while the second chunk is stored
            imports.cancel(official, ImportJob.objects.get(pk=job.pk))
        return real_store(chunk, job, user, origin)

    monkeypatch.setattr(importing, "_store", store)
    job = imports.run(job.pk)
    assert job.status == ImportJob.Status.CANCELLED
    # The first chunk was committed before; the second committed too (its transaction began
    # before the cancel); the third never started.
    assert calls == [2, 2] and SpamReport.objects.count() == 4
    assert job.created_count == 4 and job.processed == 4


def test_every_spam_row_error_is_kept_for_the_downloads(client, official):
    from core.models import ImportRowError

    rows = [IMPORT_ROWS[0]] + [["0987 654 321", "", "31/12/2999 10:00"]] * 3
    job = imports.run(services.start_import(official, csv_file(rows, "5656.csv"), "export_5656").pk)
    assert job.error_count == 3
    kept = ImportRowError.objects.filter(job=job)
    assert {e.row for e in kept} == {2, 3, 4}
    assert len(kept) == len(job.errors)  # the same problems as the page's list, each kept
    assert {(e.row, e.column) for e in kept} == {(e["row"], e["column"]) for e in job.errors}
