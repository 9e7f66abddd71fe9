"""Every move of a task and of an agreement, through both doors (the page and the API), goes through
agreements.workflows (AGREEMENT_TASK, AGREEMENT) and honours the version its user read: stale, it is
refused (the conflict message on the page, 409 for the body's ``version``, 412 for If-Match) and
nothing is written; fresh, it goes through. An illegal move gets the same message at both doors;
the page's buttons are the workflow's allowed actions. The moves the app makes itself (a first
update starts a task, the reminders mark it overdue and expire agreements) go through it too. And
"a meeting's decision changes a task or creates one, not both" is the service's rule, at both
doors."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from agreements import services
from agreements.models import Agreement, Meeting, ProgressUpdate, Task
from agreements.tests import factories
from agreements.workflows import AGREEMENT, AGREEMENT_TASK
from core.exceptions import InvalidInput

pytestmark = pytest.mark.django_db

S = Task.Status
A = Agreement.Status
TASKS = "/api/v1/agreement-tasks/"
AGREEMENTS = "/api/v1/agreements/"
MEETINGS = "/api/v1/agreement-meetings/"
STALE = "Someone else changed this record first"
PARTIES = ("SO_KHCN_HN", "VIETTEL", "MOBIFONE")

# status asked for -> the status the task starts from
STEPS = {
    "in_progress": S.DONE,
    "done": S.NOT_STARTED,
    "dropped": S.IN_PROGRESS,
    "not_started": S.DROPPED,
}


@pytest.fixture(autouse=True)
def _english(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def today():
    return timezone.localdate()


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def programme(official):
    """An agreement in force around today between the Sở, Viettel and MobiFone, with one area."""
    agreement = factories.agreement(
        official,
        PARTIES,
        period=(today() - timedelta(days=400), today() + timedelta(days=800)),
        signed_on=today() - timedelta(days=400),
    )
    return agreement, factories.area(official, agreement)


@pytest.fixture
def make_task(official, programme):
    """make_task(start, **fields) -> a Viettel task (MobiFone supporting) in ``start``, moved there
    through the services; due in a year unless told."""

    def make(start=S.NOT_STARTED, **fields):
        fields.setdefault("due_date", today() + timedelta(days=365))
        task = factories.task(official, programme[1], "VIETTEL", ("MOBIFONE",), **fields)
        if start == S.DONE:
            services.set_task_status(official, task, "done")
        elif start == S.IN_PROGRESS:
            services.set_task_status(official, task, "in_progress")
        elif start == S.DROPPED:
            services.set_task_status(official, task, "dropped")
        task = Task.objects.get(pk=task.pk)
        assert task.status == start
        return task

    return make


@pytest.fixture
def spy(monkeypatch):
    """The (workflow, action) of every perform, delegating to the real one."""
    calls = []
    for workflow in (AGREEMENT, AGREEMENT_TASK):
        real = workflow.perform

        def perform(user, obj, action, *, _real=real, _name=workflow.name, **kwargs):
            calls.append((_name, action))
            return _real(user, obj, action, **kwargs)

        monkeypatch.setattr(workflow, "perform", perform)
    return calls


def snapshot(obj):
    fresh = type(obj).objects.get(pk=obj.pk)
    return (fresh.status, fresh.version, fresh.updated_at)


def stale_version(obj):
    return obj.version - 1 if obj.version > 1 else obj.version + 1


def touch(obj):
    """Someone else changes the record without moving it: its ETag changes."""
    type(obj).objects.get(pk=obj.pk).save(update_fields=["updated_at"])


def page_errors(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def buttons(client, task):
    page = client.get(f"/agreements/tasks/{task.public_id}/").content.decode()
    return re.findall(r'data-testid="move-(\w+)"', page)


# --- Tasks: the buttons are the workflow's ---------------------------------------------------------


@pytest.mark.parametrize("start", list(S.values))
@pytest.mark.parametrize("who", ["operator_viettel", "operator_mobifone", "city_official"])
def test_the_buttons_are_the_allowed_actions(client, as_role, role_user, make_task, start, who):
    task = make_task()
    Task.objects.filter(pk=task.pk).update(status=start)
    task = Task.objects.get(pk=task.pk)
    user = role_user(who)
    client.force_login(user)
    allowed = AGREEMENT_TASK.allowed_actions(user, task)
    assert sorted(buttons(client, task)) == sorted(allowed)
    api = as_role(who)
    api.force_authenticate(user)
    detail = api.get(f"{TASKS}{task.public_id}/").json()
    assert detail["allowed_actions"] == allowed
    assert detail["version"] == task.version
    if who == "operator_mobifone":  # a supporting party reports, it does not move the task
        assert allowed == []
    else:
        assert allowed  # every status has a way out
        assert set(allowed) <= set(S.values) - {S.OVERDUE}


# --- Tasks: stale and fresh moves at both doors ------------------------------------------------------


@pytest.mark.parametrize("status", list(STEPS))
def test_a_stale_version_on_the_page_is_refused_and_writes_nothing(
    client, role_user, make_task, spy, status
):
    task = make_task(STEPS[status])
    before = snapshot(task)
    spy.clear()
    client.force_login(role_user("operator_viettel"))
    response = client.post(
        f"/agreements/tasks/{task.public_id}/status/",
        {"status": status, "version": stale_version(task)},
        follow=True,
    )
    assert response.status_code == 200
    errors = page_errors(response)
    assert errors and STALE in errors[0], errors
    assert snapshot(task) == before
    assert spy == [("agreement_task", status)]


@pytest.mark.parametrize("status", list(STEPS))
def test_a_stale_version_in_the_api_body_is_409_and_writes_nothing(as_role, make_task, status):
    task = make_task(STEPS[status])
    before = snapshot(task)
    response = as_role("operator_viettel").post(
        f"{TASKS}{task.public_id}/status/",
        {"status": status, "version": stale_version(task)},
        format="json",
    )
    assert response.status_code == 409, response.content
    assert STALE in response.json()["detail"]
    assert snapshot(task) == before


@pytest.mark.parametrize("status", list(STEPS))
def test_a_stale_if_match_is_412_and_writes_nothing(as_role, make_task, status):
    task = make_task(STEPS[status])
    client = as_role("operator_viettel")
    tag = client.get(f"{TASKS}{task.public_id}/")["ETag"]
    touch(task)
    before = snapshot(task)
    response = client.post(
        f"{TASKS}{task.public_id}/status/", {"status": status}, format="json", HTTP_IF_MATCH=tag
    )
    assert response.status_code == 412, response.content
    assert response["ETag"] != tag
    assert snapshot(task) == before


@pytest.mark.parametrize("status", list(STEPS))
def test_a_fresh_version_and_if_match_go_through_in_the_api(as_role, make_task, spy, status):
    task = make_task(STEPS[status])
    spy.clear()
    client = as_role("operator_viettel")
    tag = client.get(f"{TASKS}{task.public_id}/")["ETag"]
    response = client.post(
        f"{TASKS}{task.public_id}/status/",
        {"status": status, "version": task.version},
        format="json",
        HTTP_IF_MATCH=tag,
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["version"]) == (status, task.version + 1)
    assert spy == [("agreement_task", status)]


@pytest.mark.parametrize("status", list(STEPS))
def test_a_fresh_version_goes_through_on_the_page(client, role_user, make_task, spy, status):
    task = make_task(STEPS[status])
    spy.clear()
    client.force_login(role_user("operator_viettel"))
    response = client.post(
        f"/agreements/tasks/{task.public_id}/status/", {"status": status, "version": task.version}
    )
    assert response.status_code == 302
    fresh = Task.objects.get(pk=task.pk)
    assert (fresh.status, fresh.version) == (status, task.version + 1)
    assert spy == [("agreement_task", status)]


def test_an_illegal_move_gets_the_same_message_at_both_doors(client, as_role, role_user, make_task):
    task = make_task(S.DONE)
    before = snapshot(task)
    expected = "A task that is “Done” cannot become “Dropped”."
    client.force_login(role_user("operator_viettel"))
    response = client.post(
        f"/agreements/tasks/{task.public_id}/status/",
        {"status": "dropped", "version": task.version},
        follow=True,
    )
    assert page_errors(response) == [expected]
    response = as_role("operator_viettel").post(
        f"{TASKS}{task.public_id}/status/", {"status": "dropped"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == expected
    # Overdue is the reminders' move, never the user's.
    response = as_role("city_official").post(
        f"{TASKS}{task.public_id}/status/", {"status": "overdue"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "A task that is “Done” cannot become “Overdue”."
    assert snapshot(task) == before


def test_a_supporting_party_cannot_move_at_either_door(client, as_role, role_user, make_task):
    task = make_task()
    before = snapshot(task)
    client.force_login(role_user("operator_mobifone"))
    url = f"/agreements/tasks/{task.public_id}/status/"
    assert client.post(url, {"status": "done", "version": task.version}).status_code == 403
    response = as_role("operator_mobifone").post(
        f"{TASKS}{task.public_id}/status/", {"status": "done"}, format="json"
    )
    assert response.status_code == 403
    assert snapshot(task) == before


def test_a_bad_version_on_the_page_is_refused(client, role_user, make_task):
    task = make_task()
    before = snapshot(task)
    client.force_login(role_user("operator_viettel"))
    response = client.post(
        f"/agreements/tasks/{task.public_id}/status/",
        {"status": "done", "version": "abc"},
        follow=True,
    )
    assert page_errors(response) == ["The form was incomplete. Reload the page and try again."]
    assert snapshot(task) == before


# --- Tasks: the moves with a second outcome ----------------------------------------------------------


def test_a_recurring_task_marked_done_moves_on_at_both_doors(
    client, as_role, role_user, make_task, spy
):
    due = today() + timedelta(days=10)
    spy.clear()
    for door in ("page", "api"):
        task = make_task(recurrence="monthly", due_date=due)
        if door == "page":
            client.force_login(role_user("operator_viettel"))
            client.post(
                f"/agreements/tasks/{task.public_id}/status/",
                {"status": "done", "version": task.version},
            )
        else:
            response = as_role("operator_viettel").post(
                f"{TASKS}{task.public_id}/status/",
                {"status": "done", "version": task.version},
                format="json",
            )
            assert response.status_code == 200, response.content
        fresh = Task.objects.get(pk=task.pk)
        assert fresh.status == S.IN_PROGRESS, door
        assert fresh.due_date == services.next_occurrence(due, "monthly")
        assert fresh.version == task.version + 1
    assert spy == [("agreement_task", "done_next")] * 2


def test_a_task_resumed_after_its_due_date_is_overdue(as_role, make_task, spy):
    task = make_task(S.DONE, due_date=today() - timedelta(days=30))
    spy.clear()
    response = as_role("operator_viettel").post(
        f"{TASKS}{task.public_id}/status/",
        {"status": "in_progress", "version": task.version},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["version"]) == (S.OVERDUE, task.version + 1)
    assert spy == [("agreement_task", "resume_late")]


# --- Tasks: the moves the app makes ----------------------------------------------------------------


def test_a_first_update_starts_the_task_through_the_workflow(
    client, as_role, role_user, make_task, spy
):
    page_task, api_task = make_task(), make_task()
    spy.clear()
    # A supporting party's first update starts the task too (it may report, not move by hand).
    client.force_login(role_user("operator_mobifone"))
    response = client.post(
        f"/agreements/tasks/{page_task.public_id}/updates/",
        {
            "update-reported_on": today().isoformat(),
            "update-narrative": "Đã khảo sát.",
            "update-percent": "30",
        },
    )
    assert response.status_code == 302, response.content
    response = as_role("operator_viettel").post(
        f"{TASKS}{api_task.public_id}/updates/",
        {"reported_on": today().isoformat(), "narrative": "Đã khảo sát.", "percent": 40},
        format="json",
    )
    assert response.status_code == 201, response.content
    for task, percent in ((page_task, 30), (api_task, 40)):
        fresh = Task.objects.get(pk=task.pk)
        assert (fresh.status, fresh.percent, fresh.version) == (S.IN_PROGRESS, percent, 2)
    assert spy == [("agreement_task", "start")] * 2
    # A second update changes the percent, not the status: no move.
    services.post_update(
        role_user("operator_viettel"), api_task, reported_on=today(), narrative="Thêm", percent=60
    )
    fresh = Task.objects.get(pk=api_task.pk)
    assert (fresh.status, fresh.percent, fresh.version) == (S.IN_PROGRESS, 60, 2)
    assert len(spy) == 2 and ProgressUpdate.objects.count() == 3


def test_the_reminders_mark_overdue_and_expire_through_the_workflows(
    official, programme, make_task, spy
):
    late = make_task(due_date=today() - timedelta(days=3))
    ended = factories.agreement(
        official,
        PARTIES,
        period=(today() - timedelta(days=800), today() - timedelta(days=1)),
        signed_on=today() - timedelta(days=800),
    )
    spy.clear()
    run = services.send_reminders()
    assert (run.overdue, run.expired) == (1, 1)
    assert snapshot(late)[:2] == (S.OVERDUE, late.version + 1)
    assert snapshot(ended)[:2] == (A.EXPIRED, ended.version + 1)
    assert sorted(spy) == [("agreement", "expire"), ("agreement_task", "mark_overdue")]
    # Nothing twice.
    run = services.send_reminders()
    assert (run.overdue, run.expired) == (0, 0)


# --- An agreement: bringing it into force --------------------------------------------------------


@pytest.fixture
def draft(official):
    return factories.agreement(official, PARTIES, in_force=False)


def test_a_stale_version_on_the_agreement_page_is_refused(client, official, draft):
    before = snapshot(draft)
    client.force_login(official)
    page = client.get(f"/agreements/{draft.public_id}/").content.decode()
    assert 'data-testid="bring-into-force"' in page
    response = client.post(
        f"/agreements/{draft.public_id}/in-force/",
        {"version": stale_version(draft)},
        follow=True,
    )
    errors = page_errors(response)
    assert errors and STALE in errors[0], errors
    assert snapshot(draft) == before


def test_a_stale_version_or_if_match_in_the_api_is_refused(as_role, draft):
    client = as_role("city_official")
    before = snapshot(draft)
    url = f"{AGREEMENTS}{draft.public_id}/in-force/"
    response = client.post(url, {"version": stale_version(draft)}, format="json")
    assert response.status_code == 409 and STALE in response.json()["detail"]
    tag = client.get(f"{AGREEMENTS}{draft.public_id}/")["ETag"]
    touch(draft)
    before = snapshot(draft)
    assert client.post(url, {}, format="json", HTTP_IF_MATCH=tag).status_code == 412
    assert snapshot(draft) == before


def test_bringing_a_successor_into_force_renews_its_predecessor(client, official, programme, spy):
    old = programme[0]
    successor = services.renew(
        official,
        old,
        code="T-CTPH-NEXT",
        title="Kế tiếp",
        period_start=old.period_end + timedelta(days=1),
        period_end=old.period_end + timedelta(days=1800),
    )
    spy.clear()
    client.force_login(official)
    response = client.post(
        f"/agreements/{successor.public_id}/in-force/", {"version": successor.version}
    )
    assert response.status_code == 302
    assert snapshot(successor)[:2] == (A.IN_FORCE, successor.version + 1)
    assert snapshot(old)[:2] == (A.RENEWED, old.version + 1)
    assert spy == [("agreement", "in_force"), ("agreement", "renewed")]
    # In force, it has no button any more.
    page = client.get(f"/agreements/{successor.public_id}/").content.decode()
    assert 'data-testid="bring-into-force"' not in page


def test_an_agreement_in_force_or_renewed_cannot_come_into_force_again(as_role, programme):
    agreement = programme[0]
    client = as_role("city_official")
    response = client.post(f"{AGREEMENTS}{agreement.public_id}/in-force/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "This status change is not allowed."
    Agreement.objects.filter(pk=agreement.pk).update(status=A.RENEWED)
    response = client.post(f"{AGREEMENTS}{agreement.public_id}/in-force/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["detail"] == "This record is already closed: Renewed."


# --- A meeting's decision changes a task or creates one, not both -----------------------------------

BOTH = "A decision changes a task or creates one, not both."


def test_the_service_refuses_a_decision_that_changes_and_creates(official, programme, make_task):
    agreement, area = programme
    task = make_task()
    with pytest.raises(InvalidInput) as exc:
        services.record_meeting(
            official,
            agreement,
            held_on=today(),
            title="Họp",
            present=[factories.org("SO_KHCN_HN")],
            decisions=[
                {"text": "Ghi nhận"},
                {
                    "text": "Cả hai",
                    "task": task,
                    "changes": {"status": "done"},
                    "new_task": {
                        "area": area,
                        "title": "Việc mới",
                        "responsible": factories.org("VIETTEL"),
                    },
                },
            ],
        )
    assert exc.value.errors == {"decisions.2": [BOTH]}
    assert not Meeting.objects.exists()
    assert Task.objects.count() == 1 and snapshot(task)[0] == S.NOT_STARTED


def test_the_page_shows_the_services_refusal(client, official, programme, make_task):
    agreement, area = programme
    task = make_task()
    client.force_login(official)
    data = {
        "held_on": today().isoformat(),
        "title": "Họp",
        "present": [str(factories.org("SO_KHCN_HN").pk)],
        "decisions-TOTAL_FORMS": "1",
        "decisions-INITIAL_FORMS": "0",
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "20",
        "decisions-0-text": "Cả hai",
        "decisions-0-task": str(task.pk),
        "decisions-0-status": "done",
        "decisions-0-new_title": "Việc mới",
        "decisions-0-new_area": str(area.pk),
        "decisions-0-new_responsible": str(factories.org("VIETTEL").pk),
    }
    response = client.post(f"/agreements/{agreement.public_id}/meetings/new/", data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [f"Decision 1: {BOTH}"]
    assert not Meeting.objects.exists()
    assert Task.objects.count() == 1 and snapshot(task)[0] == S.NOT_STARTED


def test_the_api_answers_400_with_the_services_field_error(as_role, programme, make_task):
    agreement, area = programme
    task = make_task()
    body = {
        "agreement": agreement.code,
        "held_on": today().isoformat(),
        "title": "Họp",
        "present": ["SO_KHCN_HN"],
        "decisions": [
            {
                "text": "Cả hai",
                "task": str(task.public_id),
                "changes": {"status": "done"},
                "new_task": {
                    "area": str(area.public_id),
                    "title": "Việc mới",
                    "responsible": "VIETTEL",
                },
            }
        ],
    }
    response = as_role("city_official").post(MEETINGS, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"decisions.1": [BOTH]}
    assert not Meeting.objects.exists()
    assert Task.objects.count() == 1 and snapshot(task)[0] == S.NOT_STARTED


NO_TASK = "Choose the task the decision changes."


def test_changes_without_their_task_are_refused_alike_by_service_page_and_api(
    client, official, as_role, programme, make_task
):
    """The service's rule, not the form's or the serializer's: a new due date or status with no
    task to apply it to is refused (the whole meeting stays unwritten) through every door."""
    agreement, area = programme
    task = make_task()
    with pytest.raises(InvalidInput) as exc:
        services.record_meeting(
            official,
            agreement,
            held_on=today(),
            title="Họp",
            present=[factories.org("SO_KHCN_HN")],
            decisions=[{"text": "Lùi hạn", "changes": {"due_date": today()}}],
        )
    assert exc.value.errors == {"decisions.1": [NO_TASK]}
    client.force_login(official)
    data = {
        "held_on": today().isoformat(),
        "title": "Họp",
        "present": [str(factories.org("SO_KHCN_HN").pk)],
        "decisions-TOTAL_FORMS": "1",
        "decisions-INITIAL_FORMS": "0",
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "20",
        "decisions-0-text": "Hoàn thành",
        "decisions-0-status": "done",
    }
    response = client.post(f"/agreements/{agreement.public_id}/meetings/new/", data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [f"Decision 1: {NO_TASK}"]
    body = {
        "agreement": agreement.code,
        "held_on": today().isoformat(),
        "title": "Họp",
        "present": ["SO_KHCN_HN"],
        "decisions": [{"text": "Hoàn thành", "changes": {"status": "done"}}],
    }
    response = as_role("city_official").post(MEETINGS, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {"decisions.1": [NO_TASK]}
    assert not Meeting.objects.exists()
    assert snapshot(task)[0] == S.NOT_STARTED


def test_an_edit_does_not_change_the_status(official, as_role, programme):
    """Only the steps move an agreement: neither the service's edit nor the API's PATCH does."""
    agreement = programme[0]
    before = snapshot(agreement)
    with pytest.raises(InvalidInput) as exc:
        services.save_agreement(official, agreement, status=A.EXPIRED)
    assert set(exc.value.errors) == {"status"}
    assert snapshot(agreement) == before
    services.save_agreement(official, agreement, status=A.IN_FORCE, title="Tên mới")  # unchanged
    response = as_role("city_official").patch(
        f"{AGREEMENTS}{agreement.public_id}/", {"status": "expired"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert snapshot(agreement)[:2] == before[:2]
