"""The spam app's workflow contracts (core.testing.workflows): an official's moves of a spam case,
an operator's answer to its assignment and an official closing an inspection behave alike through
the page and the API. The page's status form and the API's status step ask for the status to
reach (the action's target); the answer form and step ask for the outcome."""

import itertools

from django.utils import timezone

from core import roles
from core.testing.workflows import WorkflowContract
from spam_reports import services
from spam_reports.models import OperatorAction, SpamCase, SubscriberInspection
from spam_reports.tests.factories import org, report
from spam_reports.workflows import SPAM_ASSIGNMENT, SPAM_CASE, SPAM_INSPECTION

S = SpamCase.Status
I = SubscriberInspection.Status  # noqa: E741

_serial = itertools.count(100)


def number():
    """A VNPT number of its own (each case its own sender)."""
    return f"0912 345 {next(_serial):03d}"


def brandname():
    n = next(_serial)
    return "VAY" + "".join(chr(65 + int(d)) for d in str(n))


# How an official brings a new case to each status (blocked comes from an operator's answer).
CASE_PATHS = {
    S.NEW: [],
    S.VERIFYING: ["verifying"],
    S.CONFIRMED: ["confirmed"],
    S.BLOCKED: None,
    S.NOT_SPAM: ["not_spam"],
    S.CLOSED: ["confirmed", "closed"],
}


class _Spam(WorkflowContract):
    def official(self):
        if not hasattr(self, "_official"):
            self._official = self.fixture("make_user")(roles.CITY_OFFICIAL, "SO_KHCN_HN")
        return self._official

    def staff(self, code="VNPT"):
        return self.fixture("make_user")(roles.OPERATOR_STAFF, code)


class TestSpamCaseContract(_Spam):
    workflow = SPAM_CASE
    inputs = {
        "verify": {"note": ""},
        "confirm": {"note": "Đã xác minh"},
        "not_spam": {"note": "Tin chăm sóc khách hàng"},
        "close": {"note": ""},
    }

    def make_case(self, state, action, refused=False):
        official = self.official()
        case = report(official, number()).case
        path = CASE_PATHS[state]
        if path is None:
            services.change_status(official, case, "confirmed")
            services.respond(official, services.assign(official, case), "blocked_number")
        for target in path or ():
            services.change_status(official, case, target, note="Ghi chú")
        # VNPT's staff see their network's case, but only officials move it.
        return SpamCase.objects.get(pk=case.pk), self.staff() if refused else official

    def html(self, client, case, action, version, inputs):
        data = {"status-status": self.workflow.actions[action].target, "status-version": version}
        data.update({f"status-{k}": v for k, v in inputs.items()})
        return client.post(f"/spam/cases/{case.public_id}/status/", data)

    def api(self, client, case, action, version, inputs):
        body = {"status": self.workflow.actions[action].target, **inputs, "version": version}
        return client.post(f"/api/v1/spam-cases/{case.public_id}/status/", body, format="json")


class TestSpamAssignmentContract(_Spam):
    workflow = SPAM_ASSIGNMENT
    inputs = {
        "verify": {"note": ""},
        "block_number": {"note": "Đã chặn 2 chiều"},
        "suspend_brandname": {"note": "Tạm dừng 30 ngày"},
        "decline": {"note": "Thuê bao doanh nghiệp"},
    }
    # An answered assignment is the one state an answer does not start from.
    illegal_states = dict.fromkeys(inputs, OperatorAction.Outcome.VERIFIED)

    def make_case(self, state, action, refused=False):
        official = self.official()
        if action == "suspend_brandname":
            case, code = report(official, brandname()).case, "MOBIFONE"
        else:
            case, code = report(official, number()).case, "VNPT"
        assigned = services.assign(official, case, operator=org(code))
        staff = self.staff(code)
        if state:
            services.respond(staff, assigned, state)
        # Someone of the operator without a role sees the assignment but may not answer it.
        user = self.fixture("make_user")(None, code) if refused else staff
        return OperatorAction.objects.get(pk=assigned.pk), user

    def html(self, client, case, action, version, inputs):
        data = {"respond-outcome": self.workflow.actions[action].target, "respond-version": version}
        data.update({f"respond-{k}": v for k, v in inputs.items()})
        return client.post(f"/spam/assignments/{case.public_id}/respond/", data, follow=True)

    def api(self, client, case, action, version, inputs):
        body = {"outcome": self.workflow.actions[action].target, **inputs, "version": version}
        url = f"/api/v1/spam-assignments/{case.public_id}/respond/"
        return client.post(url, body, format="json")


class TestSpamInspectionContract(_Spam):
    workflow = SPAM_INSPECTION
    xfail = {
        ("illegal", "close"): (
            "closing a closed inspection again changes nothing and is no error, at both doors "
            "(services.close_inspection), so there is no refusal to compare"
        ),
    }

    def make_case(self, state, action, refused=False):
        official = self.official()
        inspection = services.save_inspection(
            official,
            operator=org("VNPT"),
            inspecting_agency=org("CUC_VT"),
            inspected_on=timezone.localdate(),
            sample_size=500,
            nonconforming=12,
        )
        if state == I.REMEDIED:
            services.record_follow_up(
                official, inspection, recorded_on=timezone.localdate(), note="Xong", close=True
            )
        elif state == I.CLOSED:
            services.close_inspection(official, inspection)
        # VNPT's staff see their inspection and follow it up, but only officials close it.
        return SubscriberInspection.objects.get(pk=inspection.pk), (
            self.staff() if refused else official
        )

    def html(self, client, case, action, version, inputs):
        url = f"/spam/inspections/{case.public_id}/{action}/"
        return client.post(url, {**inputs, "version": version}, follow=True)

    def api(self, client, case, action, version, inputs):
        url = f"/api/v1/spam-inspections/{case.public_id}/{action}/"
        return client.post(url, {**inputs, "version": version}, format="json")
