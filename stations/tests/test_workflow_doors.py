"""Every permit step through both doors (the page and the API) honours the version its user read:
stale, it is refused (the conflict message on the page, 409 for the body's ``version``, 412 for
If-Match) and nothing is written; fresh, it goes through. Both doors call stations.workflows.PERMIT."""

import pytest
from django.utils import translation

from core.models import Notification
from stations import services
from stations.forms import ACTION_FORMS
from stations.models import ApplicationEvent, PermitApplication, Station
from stations.workflows import PERMIT

S = PermitApplication.Status
APPLICATIONS = "/api/v1/permit-applications/"
STALE = "Someone else changed this application first"

# action -> (state it starts from, who takes it, its inputs)
STEPS = {
    "submit": (S.DRAFT, "applicant", {"sharing_justification": "Cột gần đã đầy."}),
    "withdraw": (S.SUBMITTED, "applicant", {"note": "Không làm nữa."}),
    "resubmit": (S.RETURNED, "applicant", {"note": "Đã bổ sung."}),
    "return": (S.SUBMITTED, "official", {"note": "Thiếu bản vẽ."}),
    "accept": (S.SUBMITTED, "official", {"note": ""}),
    "approve": (S.UNDER_REVIEW, "official", {"decision_number": "12/GP-SKHCN", "note": ""}),
    "reject": (S.UNDER_REVIEW, "official", {"reasons": "Không phù hợp quy hoạch."}),
}


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def case(make_user, make_application):
    """case(action) -> (application in the action's start state, the user who takes the action)."""

    def make(action):
        start, who, _inputs = STEPS[action]
        lan = make_user("operator_staff", "VIETTEL")
        official = make_user("city_official", "SO_KHCN_HN")
        app = make_application(lan, station_code=f"HN-DOOR-{action}")
        if start != S.DRAFT:
            app = services.submit(lan, app, "Cột gần đã đầy.")
        if start == S.RETURNED:
            app = services.return_for_supplement(official, app, "Thiếu")
        if start == S.UNDER_REVIEW:
            app = services.accept(official, app)
        app = PermitApplication.objects.get(pk=app.pk)
        assert app.status == start
        return app, lan if who == "applicant" else official

    return make


def snapshot(app):
    fresh = PermitApplication.objects.get(pk=app.pk)
    return (
        fresh.status,
        fresh.version,
        fresh.updated_at,
        ApplicationEvent.objects.filter(application=app).count(),
        Notification.objects.count(),
        Station.objects.filter(code=app.station_code).count(),
    )


def touch(app):
    """Someone else changes the application without moving it: its ETag changes."""
    fresh = PermitApplication.objects.get(pk=app.pk)
    fresh.save(update_fields=["updated_at"])


def stale_version(app):
    """A version other than the present one (an older one where there is one)."""
    return app.version - 1 if app.version > 1 else app.version + 1


def test_every_page_action_is_a_workflow_action():
    assert set(ACTION_FORMS) == {t.action for t in PERMIT.transitions if not t.by_system}


@pytest.mark.parametrize("action", list(STEPS))
def test_a_stale_version_on_the_page_is_refused_and_writes_nothing(client, case, action):
    app, user = case(action)
    before = snapshot(app)
    data = {f"{action}-version": stale_version(app)}
    data.update({f"{action}-{k}": v for k, v in STEPS[action][2].items()})
    client.force_login(user)
    response = client.post(f"/stations/applications/{app.pk}/{action}/", data, follow=True)
    assert response.status_code == 200
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert errors and STALE in errors[0], errors
    assert snapshot(app) == before


@pytest.mark.parametrize("action", list(STEPS))
def test_a_stale_version_in_the_api_body_is_409_and_writes_nothing(as_role, case, action):
    app, user = case(action)
    before = snapshot(app)
    client = as_role("operator_viettel")
    client.force_authenticate(user)
    body = {**STEPS[action][2], "version": stale_version(app)}
    response = client.post(f"{APPLICATIONS}{app.pk}/{action}/", body, format="json")
    assert response.status_code == 409, response.content
    assert STALE in response.json()["detail"]
    assert snapshot(app) == before


@pytest.mark.parametrize("action", list(STEPS))
def test_a_stale_if_match_is_412_and_writes_nothing(as_role, case, action):
    app, user = case(action)
    client = as_role("operator_viettel")
    client.force_authenticate(user)
    tag = client.get(f"{APPLICATIONS}{app.pk}/")["ETag"]
    touch(app)
    before = snapshot(app)
    response = client.post(
        f"{APPLICATIONS}{app.pk}/{action}/", STEPS[action][2], format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 412, response.content
    assert response["ETag"] != tag
    assert snapshot(app) == before


@pytest.mark.parametrize("action", list(STEPS))
def test_a_fresh_version_and_if_match_go_through_in_the_api(as_role, case, action):
    app, user = case(action)
    client = as_role("operator_viettel")
    client.force_authenticate(user)
    tag = client.get(f"{APPLICATIONS}{app.pk}/")["ETag"]
    body = {**STEPS[action][2], "version": app.version}
    response = client.post(
        f"{APPLICATIONS}{app.pk}/{action}/", body, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 200, response.content
    assert response.json()["version"] == app.version + 1
    assert response.json()["status"] == PERMIT.actions[action].target


@pytest.mark.parametrize("action", list(STEPS))
def test_a_fresh_version_goes_through_on_the_page(client, case, action):
    app, user = case(action)
    data = {f"{action}-version": app.version}
    data.update({f"{action}-{k}": v for k, v in STEPS[action][2].items()})
    client.force_login(user)
    response = client.post(f"/stations/applications/{app.pk}/{action}/", data)
    assert response.status_code == 302
    fresh = PermitApplication.objects.get(pk=app.pk)
    assert (fresh.status, fresh.version) == (PERMIT.actions[action].target, app.version + 1)
