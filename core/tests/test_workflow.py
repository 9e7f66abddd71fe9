"""The workflow engine (core.workflow) on a real model and table: a small workflow declared here over
PermitApplication, with its timeline written to ApplicationEvent. No database call is mocked."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.utils import translation

from core.exceptions import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from core.workflow import Move, Transition, Workflow
from stations import services
from stations.models import ApplicationEvent, ApplicationType, PermitApplication

S = PermitApplication.Status
BA_DINH = Point(105.8345, 21.0360, srid=4326)


class Boom(Exception):
    pass


def owner(user, app):
    return user is not None and user.pk == app.created_by_id


def make_workflow(calls, scope=lambda user, app: True, after_take=()):
    def prepare_take(user, app, inputs):
        if inputs.get("note") == "refuse":
            raise InvalidInput({"note": ["Not this note."]})
        calls.append(("prepare", app.status))
        return {"station_name": f"Taken: {inputs['note']}"}

    def before_save(user, app, move):
        calls.append(("before_save", app.status, app.version))

    def after(user, app, move):
        calls.append(("after", move))

    def write_event(user, app, move):
        ApplicationEvent.objects.create(
            application=app,
            kind=ApplicationEvent.Kind.STATUS,
            from_status=move.from_state,
            to_status=move.to_state,
            actor=user,
            note=move.inputs.get("note", ""),
        )

    return Workflow(
        name="test",
        model=PermitApplication,
        states=S,
        transitions=[
            Transition(
                "take",
                (S.DRAFT,),
                S.SUBMITTED,
                owner,
                label="Take",
                required={"note": "Say why."},
                prepare=prepare_take,
                after=after_take,
            ),
            Transition("close", (S.SUBMITTED, S.DRAFT), S.WITHDRAWN, owner, label="Close"),
            Transition(
                "expire", (S.DRAFT,), S.REJECTED, lambda user, app: user is None, by_system=True
            ),
        ],
        write_event=write_event,
        before_save=(before_save,),
        after=(after,),
        scope=scope,
        final_states=(S.WITHDRAWN, S.REJECTED),
        select_related=("application_type",),
    )


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def lan(make_user):
    return make_user("operator_staff", "VIETTEL")


@pytest.fixture
def draft(lan):
    return services.save_draft(
        lan,
        application_type=ApplicationType.objects.get(code="public_station"),
        station_code="WF-1",
        station_name="Trạm thử",
        address="Số 1 Phố Thử",
        location=BA_DINH,
        structure_type="rooftop_mast",
        structure_height_m=Decimal("6"),
        building_height_m=Decimal("24"),
        technologies=["4G"],
        land_category="public_building",
    )


def unchanged(app):
    """The row as it was: same status and version, no timeline event."""
    fresh = PermitApplication.objects.get(pk=app.pk)
    return (
        fresh.status == app.status
        and fresh.version == app.version
        and not ApplicationEvent.objects.filter(application=app, kind="status").exists()
    )


def test_a_move_sets_state_version_fields_event_and_runs_hooks_in_order(lan, draft):
    calls = []
    flow = make_workflow(calls)
    done = flow.perform(lan, draft, "take", expected_version=draft.version, note="đủ hồ sơ")

    fresh = PermitApplication.objects.get(pk=draft.pk)
    assert (fresh.status, fresh.version) == (S.SUBMITTED, draft.version + 1)
    assert fresh.station_name == "Taken: đủ hồ sơ" == done.station_name
    assert done.pk == draft.pk and done.status == S.SUBMITTED
    event = ApplicationEvent.objects.get(application=draft, kind="status")
    assert (event.from_status, event.to_status, event.actor, event.note) == (
        S.DRAFT,
        S.SUBMITTED,
        lan,
        "đủ hồ sơ",
    )
    # prepare sees the old state; before_save the new state and version; after gets the Move.
    assert calls == [
        ("prepare", S.DRAFT),
        ("before_save", S.SUBMITTED, draft.version + 1),
        ("after", Move("take", S.DRAFT, S.SUBMITTED, {"note": "đủ hồ sơ"})),
    ]


def test_the_version_may_come_as_text_and_may_be_left_out(lan, draft):
    flow = make_workflow([])
    app = flow.perform(lan, draft, "take", expected_version=str(draft.version), note="x")
    app = flow.perform(lan, app, "close")
    assert PermitApplication.objects.get(pk=draft.pk).status == S.WITHDRAWN


def test_a_stale_version_is_a_conflict_and_writes_nothing(lan, draft):
    with pytest.raises(Conflict) as caught:
        make_workflow([]).perform(lan, draft, "take", expected_version=draft.version + 1, note="x")
    assert caught.value.status_code == 409
    assert "Someone else changed this record first" in str(caught.value.message)
    assert unchanged(draft)


@pytest.mark.parametrize("action", ["close_forever", "expire_later"])
def test_an_unknown_action_is_an_invalid_transition(lan, draft, action):
    with pytest.raises(InvalidTransition) as caught:
        make_workflow([]).perform(lan, draft, action)
    assert caught.value.status_code == 409
    assert unchanged(draft)


def test_an_action_the_state_does_not_allow_is_an_invalid_transition(lan, draft):
    flow = make_workflow([])
    app = flow.perform(lan, draft, "take", note="x")
    with pytest.raises(InvalidTransition) as caught:
        flow.perform(lan, app, "take", note="again")
    assert "“Take” is not possible while the record is “Submitted”" in str(caught.value.message)
    assert PermitApplication.objects.get(pk=draft.pk).version == app.version


def test_any_action_in_a_final_state_is_a_conflict(lan, draft):
    flow = make_workflow([])
    app = flow.perform(lan, draft, "close")
    with pytest.raises(Conflict) as caught:
        flow.perform(lan, app, "take", note="x")
    assert "already closed" in str(caught.value.message)


def test_a_user_the_rule_refuses_is_denied_and_nothing_is_written(make_user, draft):
    other = make_user("operator_staff", "VIETTEL")
    with pytest.raises(PermissionDenied) as caught:
        make_workflow([]).perform(other, draft, "take", note="x")
    assert caught.value.status_code == 403
    assert unchanged(draft)


def test_a_user_outside_the_scope_is_denied_before_anything_else(lan, draft):
    flow = make_workflow([], scope=lambda user, app: False)
    with pytest.raises(PermissionDenied):  # even with a stale version and an unknown action
        flow.perform(lan, draft, "nothing", expected_version=99)
    assert unchanged(draft)


def test_the_system_acts_without_a_user_and_its_moves_are_no_buttons(lan, draft):
    flow = make_workflow([], scope=lambda user, app: False)  # the scope binds users, not the system
    assert "expire" not in flow.allowed_actions(None, draft)
    with pytest.raises(PermissionDenied):
        flow.perform(lan, draft, "expire")
    app = flow.perform(None, draft, "expire")
    assert app.status == S.REJECTED
    assert ApplicationEvent.objects.get(application=draft, kind="status").actor is None


@pytest.mark.parametrize("note", [None, "", "   "])
def test_a_blank_required_input_is_a_field_error(lan, draft, note):
    inputs = {} if note is None else {"note": note}
    with pytest.raises(InvalidInput) as caught:
        make_workflow([]).perform(lan, draft, "take", **inputs)
    assert caught.value.status_code == 400
    assert caught.value.errors == {"note": ["Say why."]}
    assert unchanged(draft)


def test_prepare_may_refuse_and_nothing_is_written(lan, draft):
    calls = []
    with pytest.raises(InvalidInput) as caught:
        make_workflow(calls).perform(lan, draft, "take", note="refuse")
    assert caught.value.errors == {"note": ["Not this note."]}
    assert calls == [] and unchanged(draft)


def test_a_failing_hook_rolls_the_whole_move_back(lan, draft):
    def fail(user, app, move):
        raise Boom

    with pytest.raises(Boom):
        make_workflow([], after_take=(fail,)).perform(lan, draft, "take", note="x")
    assert unchanged(draft)


def test_allowed_actions_follow_state_and_rules_in_declaration_order(lan, make_user, draft):
    flow = make_workflow([])
    assert flow.allowed_actions(lan, draft) == ["take", "close"]
    assert flow.allowed_actions(make_user("operator_staff", "VIETTEL"), draft) == []
    assert flow.allowed_actions(None, draft) == []
    app = flow.perform(lan, draft, "take", note="x")
    assert flow.allowed_actions(lan, app) == ["close"]
    assert flow.label("take") == "Take" and flow.label("expire") == "expire"
    assert flow.label("nothing") == "nothing"


def test_a_move_declared_twice_from_one_state_is_refused():
    twice = [
        Transition("go", (S.DRAFT,), S.SUBMITTED, owner),
        Transition("go", (S.DRAFT,), S.WITHDRAWN, owner),
    ]
    with pytest.raises(ValueError, match="declared twice"):
        Workflow(name="bad", model=PermitApplication, states=S, transitions=twice)
