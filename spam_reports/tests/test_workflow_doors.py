"""Every step of a spam case, an operator's assignment and an inspection, through both doors (the
page and the API), goes through its workflow's ``perform`` (spam_reports.workflows) with the version
its user read: stale, it is refused (the conflict message on the page, 409 in the API) and nothing
is written; a move that is not possible gets the same message through both doors; the page's
buttons are the workflow's ``allowed_actions``."""

import pytest
from django.utils import timezone, translation

from core import roles
from core.models import Notification
from core.workflow import Workflow
from spam_reports import services
from spam_reports.models import InspectionFollowUp, OperatorAction, SpamCase, SubscriberInspection
from spam_reports.tests.factories import org, report
from spam_reports.workflows import SPAM_ASSIGNMENT, SPAM_CASE, SPAM_INSPECTION

STALE = "Someone else changed this record first"
CASES = "/api/v1/spam-cases/"
ASSIGNMENTS = "/api/v1/spam-assignments/"
INSPECTIONS = "/api/v1/spam-inspections/"

# An official's move -> (the case's status before it, the status asked for, the note)
CASE_STEPS = {
    "verify": ("new", "verifying", ""),
    "confirm": ("new", "confirmed", "Đã xác minh"),
    "not_spam": ("verifying", "not_spam", "Tin chăm sóc khách hàng"),
    "close": ("confirmed", "closed", ""),
}
# An operator's answer -> (the outcome recorded, its note, the case's status after it)
ANSWER_STEPS = {
    "verify": ("verified", "", "confirmed"),
    "block_number": ("blocked_number", "Đã chặn 2 chiều", "blocked"),
    "suspend_brandname": ("suspended_brandname", "Tạm dừng 30 ngày", "blocked"),
    "decline": ("declined", "Thuê bao doanh nghiệp", "new"),
}


@pytest.fixture(autouse=True)
def _english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def performed(monkeypatch):
    """The moves made through Workflow.perform: (workflow, action, expected_version)."""
    calls = []
    real = Workflow.perform

    def spy(self, user, obj, action, *, expected_version=None, **inputs):
        calls.append((self.name, action, expected_version))
        return real(self, user, obj, action, expected_version=expected_version, **inputs)

    monkeypatch.setattr(Workflow, "perform", spy)
    return calls


@pytest.fixture
def official(make_user):
    return make_user(roles.CITY_OFFICIAL, "SO_KHCN_HN")


@pytest.fixture
def api(as_role):
    def client_for(user):
        client = as_role("no_role")
        client.force_authenticate(user)
        return client

    return client_for


def case_in(official, status):
    """A VNPT case (0912…) moved to ``status`` through the services."""
    case = report(official, "0912 345 678").case
    path = {
        "new": [],
        "verifying": ["verifying"],
        "confirmed": ["confirmed"],
        "blocked": None,
        "not_spam": ["not_spam"],
        "closed": ["confirmed", "closed"],
    }[status]
    if path is None:  # blocked comes from an operator's answer
        services.change_status(official, case, "confirmed")
        action = services.assign(official, case)
        services.respond(official, action, "blocked_number")
    for target in path or ():
        services.change_status(official, case, target, note="Ghi chú")
    case = SpamCase.objects.get(pk=case.pk)
    assert case.status == status
    return case


def case_snapshot(case):
    fresh = SpamCase.objects.get(pk=case.pk)
    return (
        fresh.status,
        fresh.version,
        fresh.note,
        fresh.operator_id,
        sorted(fresh.reports.values_list("status", flat=True)),
        OperatorAction.objects.filter(case=case).count(),
    )


def stale(version):
    return version + 1


# --- The spam case --------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(CASE_STEPS))
def test_a_status_change_on_the_page_goes_through_perform(client, official, performed, action):
    start, target, note = CASE_STEPS[action]
    case = case_in(official, start)
    performed.clear()
    client.force_login(official)
    response = client.post(
        f"/spam/cases/{case.public_id}/status/",
        {"status-status": target, "status-note": note, "status-version": case.version},
    )
    assert response.status_code == 302, response.content
    assert performed == [("spam_case", action, case.version)]
    fresh = SpamCase.objects.get(pk=case.pk)
    assert (fresh.status, fresh.version) == (target, case.version + 1)


@pytest.mark.parametrize("action", list(CASE_STEPS))
def test_a_status_change_in_the_api_goes_through_perform(api, official, performed, action):
    start, target, note = CASE_STEPS[action]
    case = case_in(official, start)
    performed.clear()
    body = {"status": target, "note": note, "version": case.version}
    response = api(official).post(f"{CASES}{case.public_id}/status/", body, format="json")
    assert response.status_code == 200, response.content
    assert performed == [("spam_case", action, case.version)]
    assert response.json()["status"] == target
    assert response.json()["version"] == case.version + 1


@pytest.mark.parametrize("action", list(CASE_STEPS))
def test_a_stale_status_change_is_refused_through_both_doors(client, api, official, action):
    start, target, note = CASE_STEPS[action]
    case = case_in(official, start)
    before = case_snapshot(case)
    client.force_login(official)
    page = client.post(
        f"/spam/cases/{case.public_id}/status/",
        {"status-status": target, "status-note": note, "status-version": stale(case.version)},
    )
    assert page.status_code == 400
    assert STALE in " ".join(page.context["status_form"].non_field_errors())
    body = {"status": target, "note": note, "version": stale(case.version)}
    answer = api(official).post(f"{CASES}{case.public_id}/status/", body, format="json")
    assert answer.status_code == 409, answer.content
    assert STALE in answer.json()["detail"]
    assert case_snapshot(case) == before


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("new", "closed"),
        ("verifying", "verifying"),
        ("closed", "confirmed"),
        ("not_spam", "closed"),
    ],
)
def test_a_move_that_is_not_possible_gets_the_same_message_through_both_doors(
    client, api, official, start, target
):
    case = case_in(official, start)
    before = case_snapshot(case)
    expected = (
        f"A case that is “{SpamCase.Status(start).label}” cannot become "
        f"“{SpamCase.Status(target).label}”."
    )
    client.force_login(official)
    page = client.post(
        f"/spam/cases/{case.public_id}/status/",
        {"status-status": target, "status-note": "x", "status-version": case.version},
    )
    assert page.status_code == 400
    assert page.context["status_form"].non_field_errors() == [expected]
    body = {"status": target, "note": "x", "version": case.version}
    answer = api(official).post(f"{CASES}{case.public_id}/status/", body, format="json")
    assert answer.status_code == 409, answer.content
    assert answer.json()["detail"] == expected
    assert case_snapshot(case) == before


@pytest.mark.parametrize("status", ["new", "verifying", "confirmed", "blocked", "closed"])
def test_the_status_buttons_are_the_workflows_allowed_actions(client, api, official, status):
    case = case_in(official, status)
    wanted = [SPAM_CASE.actions[a].target for a in SPAM_CASE.allowed_actions(official, case)]
    client.force_login(official)
    form = client.get(f"/spam/cases/{case.public_id}/").context["status_form"]
    shown = [value for value, _label in form["status"].field.choices] if form else []
    assert shown == wanted
    assert api(official).get(f"{CASES}{case.public_id}/").json()["allowed_moves"] == wanted
    if form:
        assert form["version"].value() == case.version


def test_an_operator_gets_no_status_buttons_and_may_not_move(client, make_user, official):
    case = case_in(official, "new")
    staff = make_user(roles.OPERATOR_STAFF, "VNPT")
    assert SPAM_CASE.allowed_actions(staff, case) == []
    client.force_login(staff)
    assert client.get(f"/spam/cases/{case.public_id}/").context["status_form"] is None


def test_the_case_steps_that_are_not_moves_honour_the_version(client, api, official):
    case = case_in(official, "new")
    before = case_snapshot(case)
    old = stale(case.version)
    client.force_login(official)
    page = client.post(
        f"/spam/cases/{case.public_id}/operator/",
        {"op-operator": org("VIETTEL").pk, "op-version": old},
    )
    assert page.status_code == 400
    assert STALE in " ".join(page.context["operator_form"].non_field_errors())
    page = client.post(
        f"/spam/cases/{case.public_id}/assign/",
        {"assign-operator": org("VNPT").pk, "assign-sla_hours": "24", "assign-version": old},
    )
    assert page.status_code == 400
    assert STALE in " ".join(page.context["assign_form"].non_field_errors())
    for step, body in (("operator", {"operator": "VIETTEL"}), ("assign", {"sla_hours": 24})):
        answer = api(official).post(
            f"{CASES}{case.public_id}/{step}/", {**body, "version": old}, format="json"
        )
        assert answer.status_code == 409, answer.content
        assert STALE in answer.json()["detail"]
    assert case_snapshot(case) == before
    # With the version read, correcting the operator goes through and bumps it.
    fresh = api(official).post(
        f"{CASES}{case.public_id}/operator/",
        {"operator": "VIETTEL", "version": case.version},
        format="json",
    )
    assert fresh.status_code == 200 and fresh.json()["version"] == case.version + 1


# --- The operator's assignment --------------------------------------------------------------------


def assignment(official, make_user, action):
    """A pending assignment for the answer ``action`` and the operator's staff who answer it."""
    if action == "suspend_brandname":
        case = report(official, "VAYNHANH").case
        assigned = services.assign(official, case, operator=org("MOBIFONE"))
        return assigned, make_user(roles.OPERATOR_STAFF, "MOBIFONE")
    assigned = services.assign(official, report(official, "0912 345 678").case)
    return assigned, make_user(roles.OPERATOR_STAFF, "VNPT")


def assignment_snapshot(assigned):
    fresh = OperatorAction.objects.get(pk=assigned.pk)
    return (
        fresh.outcome,
        fresh.version,
        fresh.responded_at,
        SpamCase.objects.get(pk=assigned.case_id).status,
        Notification.objects.count(),
    )


@pytest.mark.parametrize("action", list(ANSWER_STEPS))
def test_an_answer_on_the_page_goes_through_perform(client, official, make_user, performed, action):
    outcome, note, case_status = ANSWER_STEPS[action]
    assigned, staff = assignment(official, make_user, action)
    client.force_login(staff)
    page = client.get(f"/spam/cases/{assigned.case.public_id}/")
    assert page.context["respond_form"]["version"].value() == assigned.version
    performed.clear()
    response = client.post(
        f"/spam/assignments/{assigned.public_id}/respond/",
        {"respond-outcome": outcome, "respond-note": note, "respond-version": assigned.version},
    )
    assert response.status_code == 302, response.content
    assert performed[0] == ("spam_assignment", action, assigned.version)
    # The case follows through its own workflow (confirmed, then blocked).
    assert all(name == "spam_case" for name, _a, _v in performed[1:])
    fresh = OperatorAction.objects.get(pk=assigned.pk)
    assert (fresh.outcome, fresh.version) == (outcome, assigned.version + 1)
    assert SpamCase.objects.get(pk=assigned.case_id).status == case_status


@pytest.mark.parametrize("action", list(ANSWER_STEPS))
def test_an_answer_in_the_api_goes_through_perform(api, official, make_user, performed, action):
    outcome, note, case_status = ANSWER_STEPS[action]
    assigned, staff = assignment(official, make_user, action)
    performed.clear()
    body = {"outcome": outcome, "note": note, "version": assigned.version}
    response = api(staff).post(f"{ASSIGNMENTS}{assigned.public_id}/respond/", body, format="json")
    assert response.status_code == 200, response.content
    assert performed[0] == ("spam_assignment", action, assigned.version)
    assert response.json()["outcome"] == outcome
    assert response.json()["case_status"] == case_status
    assert response.json()["version"] == assigned.version + 1


@pytest.mark.parametrize("action", list(ANSWER_STEPS))
def test_a_stale_answer_is_refused_through_both_doors(client, api, official, make_user, action):
    outcome, note, _status = ANSWER_STEPS[action]
    assigned, staff = assignment(official, make_user, action)
    before = assignment_snapshot(assigned)
    client.force_login(staff)
    page = client.post(
        f"/spam/assignments/{assigned.public_id}/respond/",
        {"respond-outcome": outcome, "respond-note": note, "respond-version": assigned.version + 1},
        follow=True,
    )
    assert page.status_code == 200
    errors = [str(m) for m in page.context["messages"] if m.level_tag == "error"]
    assert errors and STALE in errors[0], errors
    body = {"outcome": outcome, "note": note, "version": assigned.version + 1}
    answer = api(staff).post(f"{ASSIGNMENTS}{assigned.public_id}/respond/", body, format="json")
    assert answer.status_code == 409, answer.content
    assert STALE in answer.json()["detail"]
    assert assignment_snapshot(assigned) == before


def test_a_second_answer_gets_the_same_message_through_both_doors(client, api, official, make_user):
    assigned, staff = assignment(official, make_user, "verify")
    services.respond(staff, assigned, "verified")
    before = assignment_snapshot(assigned)
    client.force_login(staff)
    page = client.post(
        f"/spam/assignments/{assigned.public_id}/respond/",
        {"respond-outcome": "blocked_number"},
        follow=True,
    )
    errors = [str(m) for m in page.context["messages"] if m.level_tag == "error"]
    assert errors == ["This assignment has already been answered."]
    answer = api(staff).post(
        f"{ASSIGNMENTS}{assigned.public_id}/respond/", {"outcome": "declined", "note": "x"}
    )
    assert answer.status_code == 409
    assert answer.json()["detail"] == "This assignment has already been answered."
    assert assignment_snapshot(assigned) == before


def test_the_answer_choices_are_the_workflows_allowed_actions(client, official, make_user):
    assigned, staff = assignment(official, make_user, "verify")
    wanted = [
        SPAM_ASSIGNMENT.actions[a].target for a in SPAM_ASSIGNMENT.allowed_actions(staff, assigned)
    ]
    assert wanted == ["verified", "blocked_number", "suspended_brandname", "declined"]
    client.force_login(staff)
    form = client.get(f"/spam/cases/{assigned.case.public_id}/").context["respond_form"]
    assert [value for value, _label in form["outcome"].field.choices] == wanted
    other = make_user(roles.OPERATOR_STAFF, "VIETTEL")
    assert SPAM_ASSIGNMENT.allowed_actions(other, assigned) == []


# --- The inspection -------------------------------------------------------------------------------


@pytest.fixture
def inspection(official):
    return services.save_inspection(
        official,
        operator=org("VNPT"),
        inspecting_agency=org("CUC_VT"),
        inspected_on=timezone.localdate(),
        sample_size=500,
        nonconforming=12,
    )


def inspection_snapshot(item):
    fresh = SubscriberInspection.objects.get(pk=item.pk)
    return (fresh.status, fresh.version, InspectionFollowUp.objects.filter(inspection=item).count())


def test_closing_an_inspection_goes_through_perform_through_both_doors(
    client, api, official, inspection, performed
):
    client.force_login(official)
    page = client.get(f"/spam/inspections/{inspection.public_id}/")
    assert f'name="version" value="{inspection.version}"' in page.content.decode()
    response = client.post(
        f"/spam/inspections/{inspection.public_id}/close/", {"version": inspection.version}
    )
    assert response.status_code == 302
    assert performed == [("spam_inspection", "close", inspection.version)]
    assert inspection_snapshot(inspection)[:2] == ("closed", inspection.version + 1)

    other = services.save_inspection(
        official,
        operator=org("VIETTEL"),
        inspecting_agency=org("CUC_VT"),
        inspected_on=timezone.localdate(),
        sample_size=100,
    )
    performed.clear()
    answer = api(official).post(
        f"{INSPECTIONS}{other.public_id}/close/", {"version": other.version}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert performed == [("spam_inspection", "close", other.version)]
    assert answer.json()["status"] == "closed" and answer.json()["version"] == other.version + 1


def test_a_stale_inspection_step_is_refused_through_both_doors(
    client, api, official, make_user, inspection
):
    before = inspection_snapshot(inspection)
    old = inspection.version + 1
    client.force_login(official)
    page = client.post(
        f"/spam/inspections/{inspection.public_id}/close/", {"version": old}, follow=True
    )
    errors = [str(m) for m in page.context["messages"] if m.level_tag == "error"]
    assert errors and STALE in errors[0], errors
    answer = api(official).post(
        f"{INSPECTIONS}{inspection.public_id}/close/", {"version": old}, format="json"
    )
    assert answer.status_code == 409 and STALE in answer.json()["detail"]
    staff = make_user(roles.OPERATOR_STAFF, "VNPT")
    client.force_login(staff)
    follow_up = {
        "followup-recorded_on": timezone.localdate().isoformat(),
        "followup-note": "Đã chuẩn hoá",
        "followup-remedied": "3",
        "followup-close": "on",
        "followup-version": old,
    }
    page = client.post(f"/spam/inspections/{inspection.public_id}/follow-up/", follow_up)
    assert page.status_code == 400
    assert STALE in " ".join(page.context["follow_up_form"].non_field_errors())
    answer = api(staff).post(
        f"{INSPECTIONS}{inspection.public_id}/follow-ups/",
        {"note": "Đã chuẩn hoá", "remedied": 3, "close": True, "version": old},
        format="json",
    )
    assert answer.status_code == 409 and STALE in answer.json()["detail"]
    assert inspection_snapshot(inspection) == before


def test_a_follow_up_that_remedies_goes_through_perform(
    client, official, make_user, inspection, performed
):
    staff = make_user(roles.OPERATOR_STAFF, "VNPT")
    client.force_login(staff)
    page = client.get(f"/spam/inspections/{inspection.public_id}/")
    assert page.context["follow_up_form"]["version"].value() == inspection.version
    response = client.post(
        f"/spam/inspections/{inspection.public_id}/follow-up/",
        {
            "followup-recorded_on": timezone.localdate().isoformat(),
            "followup-note": "Đã chuẩn hoá",
            "followup-remedied": "3",
            "followup-close": "on",
            "followup-version": inspection.version,
        },
    )
    assert response.status_code == 302, response.content
    assert performed == [("spam_inspection", "remedy", None)]
    assert inspection_snapshot(inspection) == ("remedied", inspection.version + 1, 1)
    assert SPAM_INSPECTION.allowed_actions(
        official, SubscriberInspection.objects.get(pk=inspection.pk)
    ) == ["close"]
