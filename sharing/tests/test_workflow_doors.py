"""Every sharing-request step through both doors (the page and the API) goes through
sharing.workflows.SHARING.perform with the version its user read: stale, it is refused (the conflict
message on the page, 409 in the API) and nothing is written; fresh, it goes through. A move the
state does not allow, or one on a closed request, is refused with the same message by both doors,
and the buttons a user sees are SHARING.allowed_actions (the API's ``allowed_actions`` too)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import translation
from rest_framework.test import APIClient

from core.models import Notification, Organization
from sharing import services
from sharing.forms import ACTION_FORMS
from sharing.models import SharingEvent, SharingRequest, Tenancy
from sharing.workflows import SHARING

pytestmark = pytest.mark.django_db
R = SharingRequest.Status
REQUESTS = "/api/v1/sharing-requests/"
BA_DINH = Point(105.8345, 21.0360, srid=4326)
STALE = "Someone else changed this request first"
API_PATHS = {"accept_counter": "accept-counter"}

# case -> (the action, the state it starts from, who takes it, its inputs)
STEPS = {
    "accept": (
        "accept",
        R.SUBMITTED,
        "owner",
        {"note": "Đồng ý", "location": "Tầng ăng-ten 2", "contract_number": "HĐ-12/2026"},
    ),
    "refuse": ("refuse", R.SUBMITTED, "owner", {"reason": "Cột đã đầy tải."}),
    "counter": (
        "counter",
        R.SUBMITTED,
        "owner",
        {"units": 1, "terms": "12 triệu/năm", "location": "Tầng 3"},
    ),
    "accept_counter": ("accept_counter", R.COUNTERED, "requester", {}),
    "withdraw": ("withdraw", R.SUBMITTED, "requester", {"note": "Không cần nữa."}),
    "withdraw_counter": ("withdraw", R.COUNTERED, "requester", {"note": "Giá cao quá."}),
    "escalate": ("escalate", R.REFUSED, "requester", {"note": "Khiếu nại lên Sở."}),
    "escalate_overdue": ("escalate", "overdue", "owner", {"note": "Quá hạn."}),
    "decide": (
        "decide",
        R.DISPUTED,
        "official",
        {"outcome": "share", "decision_number": "5/QĐ-SKHCN", "text": "Đủ điều kiện kỹ thuật."},
    ),
}


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def people(role_user):
    return {
        "owner": role_user("operator_viettel"),
        "requester": role_user("operator_mobifone"),
        "official": role_user("city_official"),
    }


@pytest.fixture
def tower(people):
    """Viettel's tower with 4 slots, all free."""
    return services.save_asset(
        people["owner"],
        code="T-DOOR",
        name="Cột cửa",
        kind="tower",
        owner=Organization.objects.get(code="VIETTEL"),
        geometry=BA_DINH,
        capacity=4,
    )


@pytest.fixture
def in_state(people, tower):
    """in_state(state) -> a request of Mobifone's on the tower, brought there by the services
    ("overdue": submitted and past its response deadline)."""

    def make(state):
        owner, requester = people["owner"], people["requester"]
        req = services.create_request(requester, asset=tower, units=1, needs="Một ăng-ten 5G")
        if state == "overdue":
            services.mark_overdue(today=req.response_due + timedelta(days=1))
        elif state == R.COUNTERED:
            req = services.counter_offer(owner, req, 1, terms="Giá 10 triệu")
        elif state in (R.REFUSED, R.DISPUTED):
            req = services.refuse(owner, req, "Không đủ tải")
            if state == R.DISPUTED:
                req = services.escalate(requester, req)
        elif state == R.WITHDRAWN:
            req = services.withdraw(requester, req)
        elif state == R.ACCEPTED:
            req = services.accept(owner, req)
        req = SharingRequest.objects.get(pk=req.pk)
        assert req.status == (R.SUBMITTED if state == "overdue" else state)
        assert req.overdue == (state == "overdue")
        return req

    return make


@pytest.fixture
def case(people, in_state):
    """case(name) -> (a request in the step's start state, the user who takes the step)."""

    def make(name):
        _action, start, who, _inputs = STEPS[name]
        return in_state(start), people[who]

    return make


@pytest.fixture
def performed(monkeypatch):
    """The calls of SHARING.perform from now on (user, request id, action, expected version); each
    still goes through to the real one."""
    calls = []
    real = SHARING.perform

    def spy(user, obj, action, *, expected_version=None, **inputs):
        calls.append((user, obj.pk, action, expected_version))
        return real(user, obj, action, expected_version=expected_version, **inputs)

    monkeypatch.setattr(SHARING, "perform", spy)
    return calls


def snapshot(req):
    fresh = SharingRequest.objects.select_related("asset").get(pk=req.pk)
    return (
        fresh.status,
        fresh.version,
        fresh.updated_at,
        SharingEvent.objects.filter(request=req).count(),
        Notification.objects.count(),
        Tenancy.objects.filter(request=req).count(),
        fresh.asset.used_capacity,
    )


def stale_version(req):
    """A version other than the present one (an older one where there is one)."""
    return req.version - 1 if req.version > 1 else req.version + 1


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


def api_step(user, req, action, inputs, version=None):
    body = dict(inputs)
    if version is not None:
        body["version"] = version
    url = f"{REQUESTS}{req.pk}/{API_PATHS.get(action, action)}/"
    return api(user).post(url, body, format="json")


def page_step(client, user, req, action, inputs, version):
    data = {f"{action}-version": version}
    data.update({f"{action}-{k}": v for k, v in inputs.items()})
    client.force_login(user)
    return client.post(f"/sharing/requests/{req.pk}/{action}/", data, follow=True)


def page_errors(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def test_every_page_action_is_a_workflow_action():
    assert set(ACTION_FORMS) == {t.action for t in SHARING.transitions if not t.by_system}
    assert {step[0] for step in STEPS.values()} == set(ACTION_FORMS)


@pytest.mark.parametrize("name", list(STEPS))
def test_a_fresh_version_goes_through_perform_on_the_page(client, case, performed, name):
    action, _start, _who, inputs = STEPS[name]
    req, user = case(name)
    performed.clear()  # the services brought the request there, through perform too
    response = page_step(client, user, req, action, inputs, req.version)
    assert response.status_code == 200 and not page_errors(response), page_errors(response)
    assert performed == [(user, req.pk, action, req.version)]
    fresh = SharingRequest.objects.get(pk=req.pk)
    assert (fresh.status, fresh.version) == (SHARING.actions[action].target, req.version + 1)


@pytest.mark.parametrize("name", list(STEPS))
def test_a_fresh_version_goes_through_perform_in_the_api(case, performed, name):
    action, _start, _who, inputs = STEPS[name]
    req, user = case(name)
    performed.clear()
    response = api_step(user, req, action, inputs, version=req.version)
    assert response.status_code == 200, response.content
    assert performed == [(user, req.pk, action, req.version)]
    assert response.json()["version"] == req.version + 1
    assert response.json()["status"] == SHARING.actions[action].target


def test_a_granting_step_creates_the_tenancy_whichever_door(client, case):
    req, user = case("accept")
    page_step(client, user, req, "accept", STEPS["accept"][3], req.version)
    tenancy = Tenancy.objects.get(request=req)
    assert (tenancy.occupies, tenancy.terms_reference) == ("Tầng ăng-ten 2", "HĐ-12/2026")
    req, user = case("decide")
    assert api_step(user, req, "decide", STEPS["decide"][3], req.version).status_code == 200
    assert Tenancy.objects.get(request=req).terms_reference == "5/QĐ-SKHCN"


@pytest.mark.parametrize("name", list(STEPS))
def test_a_stale_version_on_the_page_is_refused_and_writes_nothing(client, case, name):
    action, _start, _who, inputs = STEPS[name]
    req, user = case(name)
    before = snapshot(req)
    response = page_step(client, user, req, action, inputs, stale_version(req))
    assert response.status_code == 200
    errors = page_errors(response)
    assert errors and STALE in errors[0], errors
    assert snapshot(req) == before


@pytest.mark.parametrize("name", list(STEPS))
def test_a_stale_version_in_the_api_is_409_and_writes_nothing(case, name):
    action, _start, _who, inputs = STEPS[name]
    req, user = case(name)
    before = snapshot(req)
    response = api_step(user, req, action, inputs, version=stale_version(req))
    assert response.status_code == 409, response.content
    assert STALE in response.json()["detail"]
    assert snapshot(req) == before


# A state each action does not start from (and that is not closed), and who tries it there.
ILLEGAL = {
    "accept": (R.REFUSED, "owner"),
    "refuse": (R.COUNTERED, "owner"),
    "counter": (R.DISPUTED, "owner"),
    "accept_counter": (R.SUBMITTED, "requester"),
    "withdraw": (R.REFUSED, "requester"),
    "escalate": (R.SUBMITTED, "requester"),  # not yet overdue
    "decide": (R.REFUSED, "official"),
}


@pytest.mark.parametrize("action", list(ILLEGAL))
def test_an_illegal_move_is_the_same_error_through_both_doors(client, people, in_state, action):
    state, who = ILLEGAL[action]
    user = people[who]
    inputs = next(step[3] for step in STEPS.values() if step[0] == action)
    expected = SHARING.not_possible_message % {
        "action": SHARING.label(action),
        "status": R(state).label,
    }
    req = in_state(state)
    before = snapshot(req)
    response = api_step(user, req, action, inputs, version=req.version)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["detail"] == expected
    assert snapshot(req) == before
    response = page_step(client, user, req, action, inputs, req.version)
    assert page_errors(response) == [expected]
    assert snapshot(req) == before


@pytest.mark.parametrize("action", list(ILLEGAL))
def test_a_step_on_a_closed_request_is_the_same_conflict_through_both_doors(
    client, people, in_state, action
):
    user = people[ILLEGAL[action][1]]
    inputs = next(step[3] for step in STEPS.values() if step[0] == action)
    req = in_state(R.WITHDRAWN)
    expected = f"This request is closed: {R.WITHDRAWN.label}."
    before = snapshot(req)
    response = api_step(user, req, action, inputs, version=req.version)
    assert response.status_code == 409, response.content
    assert response.json()["detail"] == expected
    response = page_step(client, user, req, action, inputs, req.version)
    assert page_errors(response) == [expected]
    assert snapshot(req) == before


# (state, who) -> the buttons, as the sharing workflow always offered them.
BUTTONS = {
    (R.SUBMITTED, "owner"): ["accept", "refuse", "counter"],
    (R.SUBMITTED, "requester"): ["withdraw"],
    (R.SUBMITTED, "official"): [],
    ("overdue", "owner"): ["accept", "refuse", "counter", "escalate"],
    ("overdue", "requester"): ["withdraw", "escalate"],
    (R.COUNTERED, "owner"): [],
    (R.COUNTERED, "requester"): ["accept_counter", "withdraw"],
    (R.REFUSED, "owner"): ["escalate"],
    (R.REFUSED, "requester"): ["escalate"],
    (R.DISPUTED, "requester"): [],
    (R.DISPUTED, "official"): ["decide"],
    (R.ACCEPTED, "owner"): [],
    (R.ACCEPTED, "official"): [],
}


@pytest.mark.parametrize(("state", "who"), list(BUTTONS))
def test_the_buttons_are_the_workflows_allowed_actions(client, people, in_state, state, who):
    user = people[who]
    req = in_state(state)
    allowed = SHARING.allowed_actions(user, req)
    assert allowed == BUTTONS[(state, who)]
    assert services.allowed_actions(user, req) == allowed
    client.force_login(user)
    response = client.get(f"/sharing/requests/{req.pk}/")
    assert response.status_code == 200
    assert [item["action"] for item in response.context["action_forms"]] == allowed
    html = response.content.decode()
    for action in ACTION_FORMS:
        assert (f'data-testid="action-{action}"' in html) == (action in allowed), action
    assert api(user).get(f"{REQUESTS}{req.pk}/").json()["allowed_actions"] == allowed
