"""The permit application's workflow contract (core.testing.workflows): every move an applicant or
an official takes behaves alike through the page and the API."""

import itertools

from core.testing.workflows import WorkflowContract
from stations import services
from stations.models import ApplicationEvent, PermitApplication
from stations.workflows import PERMIT

S = PermitApplication.Status
_serial = itertools.count(1)

# The moves that bring a draft to each state: (service, who takes it, its arguments).
PATHS = {
    S.DRAFT: [],
    S.SUBMITTED: ["submit"],
    S.RETURNED: ["submit", "return"],
    S.RESUBMITTED: ["submit", "return", "resubmit"],
    S.UNDER_REVIEW: ["submit", "accept"],
    S.APPROVED: ["submit", "accept", "approve"],
    S.REJECTED: ["submit", "accept", "reject"],
    S.WITHDRAWN: ["withdraw"],
}


class TestPermitContract(WorkflowContract):
    workflow = PERMIT
    makeable_states = list(PATHS)
    inputs = {
        "submit": {"sharing_justification": "Cột gần đã đầy."},
        "withdraw": {"note": "Không làm nữa."},
        "resubmit": {"note": "Đã bổ sung."},
        "return": {"note": "Thiếu bản vẽ."},
        "accept": {"note": ""},
        "approve": {"decision_number": "12/GP-SKHCN", "note": ""},
        "reject": {"reasons": "Không phù hợp quy hoạch."},
    }

    def make_case(self, state, action, refused=False):
        make_user = self.fixture("make_user")
        applicant = make_user("operator_staff", "VIETTEL")
        official = make_user("city_official", "SO_KHCN_HN")
        app = self.fixture("make_application")(applicant, station_code=f"HN-CT-{next(_serial)}")
        steps = {
            "submit": lambda a: services.submit(applicant, a, "Cột gần đã đầy."),
            "return": lambda a: services.return_for_supplement(official, a, "Thiếu"),
            "resubmit": lambda a: services.resubmit(applicant, a),
            "accept": lambda a: services.accept(official, a),
            "approve": lambda a: services.approve(official, a, "1/GP"),
            "reject": lambda a: services.reject(official, a, "Không"),
            "withdraw": lambda a: services.withdraw(applicant, a),
        }
        for step in PATHS[state]:
            app = steps[step](app)
        app = PermitApplication.objects.get(pk=app.pk)
        applicants_move = PERMIT.actions[action].allowed is PERMIT.actions["submit"].allowed
        takes_it = applicants_move != refused
        return app, applicant if takes_it else official

    def html(self, client, case, action, version, inputs):
        data = {f"{action}-version": version}
        data.update({f"{action}-{k}": v for k, v in inputs.items()})
        return client.post(f"/stations/applications/{case.pk}/{action}/", data, follow=True)

    def api(self, client, case, action, version, inputs):
        body = {**inputs, "version": version}
        return client.post(f"/api/v1/permit-applications/{case.pk}/{action}/", body, format="json")

    def events(self, case):
        return ApplicationEvent.objects.filter(
            application_id=case.pk, kind=ApplicationEvent.Kind.STATUS
        ).count()
