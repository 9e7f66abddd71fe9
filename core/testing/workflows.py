"""The workflow contract: every move a user may make goes through both doors (the HTML page and the
API) with the same result, and both refuse alike.

An app declares, in ``<app>/tests/test_workflow_contract.py``, one adapter per workflow::

    class TestPermitContract(WorkflowContract):
        workflow = PERMIT
        inputs = {"approve": {"decision_number": "12/GP"}, ...}   # what each action needs

        def make_case(self, state, action, refused=False): ...    # -> (case, user)
        def html(self, client, case, action, version, inputs): ... # -> response
        def api(self, client, case, action, version, inputs): ...  # -> response

``make_case`` returns a case in ``state`` and a user who may take ``action`` (``refused=True``: a
user who sees the case but whom the action's rule refuses). ``html`` posts the page's form (the
client is logged in as that user), ``api`` posts the API's step (the client is authenticated).
``self.fixture(name)`` gives any pytest fixture. For every transition that is not ``by_system``
the class then checks:

(a) ``test_allowed_move``, per (start state, action): through both doors, the same end state (the
    transition's target), the version bumped by one, the same number of timeline events (one, when
    the workflow writes one);
(b) ``test_illegal_move``, per action, from a state it does not start from: the page shows the
    workflow's message (not possible, or closed) and the API answers 4xx with the same text;
    nothing changes;
(c) ``test_stale_version``, per action: 409 with the workflow's stale message in the API, the same
    message on the page; nothing is written;
(d) ``test_refused_user``, per action: 403 in the API, 403 or the permission message on the page;
    nothing changes.

A known difference between the doors is marked, not hidden: ``xfail = {("check", "action"):
"reason"}`` (check is ``allowed``, ``illegal``, ``stale`` or ``refused``; for ``allowed`` the key
may be ``("allowed", "action", "state")``). Every ``Workflow`` of the project must have an adapter
or be listed in its app's contract module as ``CONTRACT_EXEMPT = {"name": "reason"}``
(core/tests/test_workflow_contracts.py).
"""

import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.forms import BaseForm
from django.utils import translation

from core.exceptions import PermissionDenied
from core.workflow import Workflow

CONTRACT_MODULE = "tests.test_workflow_contract"


# --- Reading the doors' answers -------------------------------------------------------------------


def _contexts(response):
    context = getattr(response, "context", None)
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


def page_errors(response):
    """The error messages a page shows: the messages framework's errors and the bound forms'
    non-field errors (in the order the templates got them, each once)."""
    errors, forms = [], {}
    for context in _contexts(response):
        values = context.flatten()
        if "messages" in values and not errors:
            errors.extend(str(m) for m in values["messages"] if m.level_tag == "error")
        for value in values.values():
            candidates = value if isinstance(value, list | tuple) else [value]
            for item in candidates:
                if isinstance(item, Mapping):
                    item = item.get("form")
                if isinstance(item, BaseForm) and item.is_bound:
                    forms[id(item)] = item
    for form in forms.values():
        errors.extend(str(e) for e in form.non_field_errors())
    return errors


def api_message(response):
    """The API's error text (``detail``)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("detail", "")) if isinstance(body, dict) else ""


def _text(message):
    return str(message)


# --- The contract ---------------------------------------------------------------------------------


class WorkflowContract:
    """Base of a workflow's adapter; see the module's docstring. Name the subclass ``Test…``."""

    workflow: Workflow = None
    inputs: Mapping[str, Mapping[str, Any]] = {}
    # action -> the state to try it from for the illegal-move check (default: the first state of
    # ``makeable_states`` it does not start from).
    illegal_states: Mapping[str, str] = {}
    # The states ``make_case`` can produce (default: all the workflow's states).
    makeable_states: Sequence[str] | None = None
    xfail: Mapping[tuple, str] = {}
    api_refused_status = 403

    # --- what the app supplies ------------------------------------------------------------------

    def make_case(self, state, action, refused=False):
        raise NotImplementedError

    def html(self, client, case, action, version, inputs):
        raise NotImplementedError

    def api(self, client, case, action, version, inputs):
        raise NotImplementedError

    def events(self, case):
        """How many timeline events the case has (None: the workflow writes none)."""
        return None

    def snapshot(self, case):
        """What must not change when a move is refused."""
        fresh = type(case)._default_manager.get(pk=case.pk)
        return (self.state(fresh), self.version(fresh), self.events(case))

    def html_errors(self, response):
        return page_errors(response)

    def api_error(self, response):
        return api_message(response)

    def html_refused(self, response):
        """The page refused the user: 403, or the permission message shown."""
        return response.status_code == 403 or (
            _text(PermissionDenied.default_message) in self.html_errors(response)
        )

    # --- helpers --------------------------------------------------------------------------------

    def fixture(self, name):
        return self._request.getfixturevalue(name)

    def state(self, case):
        return getattr(case, self.workflow.state_field)

    def version(self, case):
        return getattr(case, self.workflow.version_field)

    def fresh(self, case):
        return type(case)._default_manager.get(pk=case.pk)

    def inputs_for(self, action):
        return dict(self.inputs.get(action, {}))

    def page_client(self, user):
        from django.test import Client

        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        if user is not None:
            client.force_login(user)
        return client

    def api_client(self, user):
        from rest_framework.test import APIClient

        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            client.force_authenticate(user)
        return client

    def take(self, door, case, user, action, version):
        if door == "html":
            return self.html(self.page_client(user), case, action, version, self.inputs_for(action))
        return self.api(self.api_client(user), case, action, version, self.inputs_for(action))

    def illegal_state(self, action):
        if action in self.illegal_states:
            return self.illegal_states[action]
        sources = set(self.workflow.actions[action].sources)
        states = self.makeable_states or self.workflow.states.values
        for state in states:
            if state not in sources:
                return state
        pytest.skip(f"{action!r} starts from every state this adapter makes")

    def _message(self, template, case, action):
        values = {"status": self.workflow.state_label(case), "action": self.workflow.label(action)}
        return _text(template % values)

    # --- the parametrisation --------------------------------------------------------------------

    @classmethod
    def user_transitions(cls):
        return [t for t in cls.workflow.transitions if not t.by_system]

    def pytest_generate_tests(self, metafunc):
        if self.workflow is None:
            return

        def marks(*key):
            reason = self.xfail.get(key) or self.xfail.get(key[:2])
            return [pytest.mark.xfail(reason=reason, strict=True)] if reason else []

        check = metafunc.function.__name__.removeprefix("test_").split("_")[0]
        if "move" in metafunc.fixturenames:
            metafunc.parametrize(
                "move",
                [
                    pytest.param(
                        (state, t.action),
                        id=f"{t.action}-from-{state or 'blank'}",
                        marks=marks("allowed", t.action, state),
                    )
                    for t in self.user_transitions()
                    for state in t.sources
                ],
            )
        if "action" in metafunc.fixturenames:
            metafunc.parametrize(
                "action",
                [
                    pytest.param(t.action, id=t.action, marks=marks(check, t.action))
                    for t in self.user_transitions()
                ],
            )

    @pytest.fixture(autouse=True)
    def _contract_setup(self, request, db):
        self._request = request
        with translation.override("en"):
            yield

    # --- the checks -----------------------------------------------------------------------------

    def test_allowed_move(self, move):
        state, action = move
        target = self.workflow.actions[action].target
        results = {}
        for door in ("html", "api"):
            case, user = self.make_case(state, action)
            assert self.state(case) == state, (door, self.state(case))
            version, events = self.version(case), self.events(case)
            response = self.take(door, case, user, action, version)
            if door == "html":
                assert response.status_code in (200, 302), (door, response.status_code)
                assert not self.html_errors(response), self.html_errors(response)
            else:
                assert 200 <= response.status_code < 300, (door, response.content)
            fresh = self.fresh(case)
            after = self.events(case)
            results[door] = (
                self.state(fresh),
                self.version(fresh) - version,
                None if events is None else after - events,
            )
        expected_events = 1 if self.workflow.write_event else results["html"][2]
        assert results["html"] == results["api"] == (target, 1, expected_events), results

    def test_illegal_move(self, action):
        state = self.illegal_state(action)
        case, user = self.make_case(state, action)
        assert self.state(case) == state
        final = state in self.workflow.final_states
        template = self.workflow.final_message if final else self.workflow.not_possible_message
        expected = self._message(template, case, action)
        before = self.snapshot(case)
        page = self.take("html", case, user, action, self.version(case))
        assert self.html_errors(page) == [expected], self.html_errors(page)
        assert self.snapshot(case) == before
        answer = self.take("api", case, user, action, self.version(case))
        assert 400 <= answer.status_code < 500, answer.content
        assert self.api_error(answer) == expected
        assert self.snapshot(case) == before

    def test_stale_version(self, action):
        state = self.workflow.actions[action].sources[0]
        case, user = self.make_case(state, action)
        expected = _text(self.workflow.stale_message % {"status": self.workflow.state_label(case)})
        stale = self.version(case) + 1
        before = self.snapshot(case)
        page = self.take("html", case, user, action, stale)
        assert expected in self.html_errors(page), self.html_errors(page)
        assert self.snapshot(case) == before
        answer = self.take("api", case, user, action, stale)
        assert answer.status_code == 409, answer.content
        assert self.api_error(answer) == expected
        assert self.snapshot(case) == before

    def test_refused_user(self, action):
        state = self.workflow.actions[action].sources[0]
        case, user = self.make_case(state, action, refused=True)
        assert not self.workflow.actions[action].allowed(user, case), "the user is allowed"
        before = self.snapshot(case)
        page = self.take("html", case, user, action, self.version(case))
        assert self.html_refused(page), (page.status_code, self.html_errors(page))
        assert self.snapshot(case) == before
        answer = self.take("api", case, user, action, self.version(case))
        assert answer.status_code == self.api_refused_status, answer.content
        assert self.snapshot(case) == before
        if page.status_code < 400:  # the page said why: the same words as the API
            assert self.api_error(answer) in self.html_errors(page), self.html_errors(page)


# --- Every workflow has a contract -----------------------------------------------------------------


def project_apps():
    """The project's own apps (under BASE_DIR, not in the virtualenv)."""
    base = str(settings.BASE_DIR)
    return [
        config
        for config in apps.get_app_configs()
        if config.path.startswith(base) and ".venv" not in config.path
    ]


def _import(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            return None
        raise


def project_workflows():
    """name -> Workflow, for every Workflow a module of the project's apps defines (each app's
    ``workflows`` module is imported first; test modules are left out)."""
    names = [config.name for config in project_apps()]
    for name in names:
        _import(f"{name}.workflows")
    found = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or ".tests" in module_name or module_name.startswith("core.testing"):
            continue
        if not any(module_name == n or module_name.startswith(n + ".") for n in names):
            continue
        for value in vars(module).values():
            if isinstance(value, Workflow):
                found.setdefault(value.name, value)
    return found


def project_contracts():
    """(workflow name -> adapter class, workflow name -> exemption reason) from every app's
    ``tests/test_workflow_contract.py``."""
    adapters, exempt = {}, {}
    for config in project_apps():
        module = _import(f"{config.name}.{CONTRACT_MODULE}")
        if module is None:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, WorkflowContract)
                and value.workflow is not None
            ):
                adapters[value.workflow.name] = value
        exempt.update(getattr(module, "CONTRACT_EXEMPT", {}))
    return adapters, exempt


def missing_contracts():
    """What keeps the project's workflows from all having a contract: a workflow with neither an
    adapter nor an exemption (with its reason), an exemption without a reason, an exemption of a
    workflow that has an adapter or does not exist."""
    workflows = project_workflows()
    adapters, exempt = project_contracts()
    problems = []
    for name in sorted(workflows):
        if name not in adapters and name not in exempt:
            problems.append(f"{name}: no adapter in <app>/{CONTRACT_MODULE.replace('.', '/')}.py")
    for name, reason in sorted(exempt.items()):
        if not str(reason).strip():
            problems.append(f"{name}: exempt without a reason")
        if name in adapters:
            problems.append(f"{name}: exempt and has an adapter")
        if name not in workflows:
            problems.append(f"{name}: exempt, but no such workflow")
    for name, adapter in sorted(adapters.items()):
        if workflows.get(name) is not adapter.workflow:
            problems.append(f"{name}: the adapter's workflow is not the project's")
    return problems
