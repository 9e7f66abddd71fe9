"""The sharing request's workflow contract (core.testing.workflows): every move the owner, the
requester or an official takes behaves alike through the page and the API."""

import itertools
from datetime import timedelta

from django.contrib.gis.geos import Point

from core.models import Organization
from core.testing.workflows import WorkflowContract
from sharing import services
from sharing.models import SharingEvent, SharingRequest
from sharing.workflows import SHARING

R = SharingRequest.Status
BA_DINH = Point(105.8345, 21.0360, srid=4326)
API_PATHS = {"accept_counter": "accept-counter"}
_serial = itertools.count(1)

# Who takes each move, and who sees the request but may not take it.
TAKES = {
    "accept": ("owner", "requester"),
    "refuse": ("owner", "requester"),
    "counter": ("owner", "requester"),
    "accept_counter": ("requester", "owner"),
    "withdraw": ("requester", "owner"),
    "escalate": ("requester", "official"),
    "decide": ("official", "requester"),
}


class TestSharingContract(WorkflowContract):
    workflow = SHARING
    inputs = {
        "accept": {"note": "Đồng ý", "location": "Tầng ăng-ten 2", "contract_number": "HĐ-12/2026"},
        "refuse": {"reason": "Cột đã đầy tải."},
        "counter": {"units": 1, "terms": "12 triệu/năm", "location": "Tầng 3"},
        "accept_counter": {},
        "withdraw": {"note": "Không cần nữa."},
        "escalate": {"note": "Khiếu nại lên Sở."},
        "decide": {
            "outcome": "share",
            "decision_number": "5/QĐ-SKHCN",
            "text": "Đủ điều kiện kỹ thuật.",
        },
    }

    def people(self):
        if not hasattr(self, "_people"):
            role_user = self.fixture("role_user")
            self._people = {
                "owner": role_user("operator_viettel"),
                "requester": role_user("operator_mobifone"),
                "official": role_user("city_official"),
            }
        return self._people

    def make_case(self, state, action, refused=False):
        people = self.people()
        owner, requester = people["owner"], people["requester"]
        tower = services.save_asset(
            owner,
            code=f"T-CT-{next(_serial)}",
            name="Cột hợp đồng",
            kind="tower",
            owner=Organization.objects.get(code="VIETTEL"),
            geometry=BA_DINH,
            capacity=4,
        )
        req = services.create_request(requester, asset=tower, units=1, needs="Một ăng-ten 5G")
        if state == R.SUBMITTED and action == "escalate":  # unanswered past its deadline
            services.mark_overdue(today=req.response_due + timedelta(days=1))
        elif state == R.COUNTERED:
            req = services.counter_offer(owner, req, 1, terms="Giá 10 triệu")
        elif state in (R.REFUSED, R.DISPUTED, R.DECIDED):
            req = services.refuse(owner, req, "Không đủ tải")
            if state in (R.DISPUTED, R.DECIDED):
                req = services.escalate(requester, req)
            if state == R.DECIDED:
                req = services.decide(people["official"], req, "no_share", "1/QĐ")
        elif state == R.WITHDRAWN:
            req = services.withdraw(requester, req)
        elif state == R.ACCEPTED:
            req = services.accept(owner, req)
        return SharingRequest.objects.get(pk=req.pk), people[TAKES[action][int(refused)]]

    def html(self, client, case, action, version, inputs):
        data = {f"{action}-version": version}
        data.update({f"{action}-{k}": v for k, v in inputs.items()})
        return client.post(f"/sharing/requests/{case.pk}/{action}/", data, follow=True)

    def api(self, client, case, action, version, inputs):
        url = f"/api/v1/sharing-requests/{case.pk}/{API_PATHS.get(action, action)}/"
        return client.post(url, {**inputs, "version": version}, format="json")

    def events(self, case):
        return SharingEvent.objects.filter(
            request_id=case.pk, kind=SharingEvent.Kind.STATUS
        ).count()
