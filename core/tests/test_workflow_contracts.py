"""Every workflow of the project has a contract adapter (core.testing.workflows), so a new case
type without contract data fails the suite."""

import sys
import types

from core.testing.workflows import missing_contracts, project_contracts, project_workflows
from core.workflow import Transition, Workflow
from stations.models import PermitApplication

S = PermitApplication.Status


def test_every_workflow_has_a_contract_adapter():
    assert missing_contracts() == []


def test_the_known_workflows_are_found():
    assert {
        "permit",
        "sharing",
        "spam_case",
        "spam_assignment",
        "spam_inspection",
        "agreement",
        "agreement_task",
    } <= set(project_workflows())
    adapters, _exempt = project_contracts()
    assert {"permit", "sharing", "spam_case", "spam_assignment", "agreement_task"} <= set(adapters)


def test_a_new_workflow_without_an_adapter_is_reported(monkeypatch):
    module = types.ModuleType("stations.probe_workflows")
    module.PROBE = Workflow(
        name="probe",
        model=PermitApplication,
        states=S,
        transitions=[Transition("close", (S.DRAFT,), S.WITHDRAWN, lambda user, obj: True)],
    )
    monkeypatch.setitem(sys.modules, module.__name__, module)
    assert "probe" in project_workflows()
    assert missing_contracts() == ["probe: no adapter in <app>/tests/test_workflow_contract.py"]
