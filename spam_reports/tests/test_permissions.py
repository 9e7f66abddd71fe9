"""The spam API's permission matrix: every portal role (and no role, and anonymous) against every
endpoint's list, detail, create and actions, on records of Viettel's network. MobiFone and VNPT's
API client take no part in them: for them those records do not exist (404), as in the other apps;
a role that sees a record but may not act on it gets 403. Nothing changes on a refusal."""

import pytest
from django.utils import timezone

from core.models import ImportJob
from core.testing.permissions import PermissionMatrix
from spam_reports import services
from spam_reports.models import (
    DoNotCallEntry,
    Evidence,
    InspectionFollowUp,
    OperatorAction,
    SpamCase,
    SpamReport,
    SubscriberInspection,
)
from spam_reports.tests.factories import csv_file, days_ago, inspection, png_file, report

pytestmark = pytest.mark.django_db
API = "/api/v1/"

# operation: what (an official, Viettel's staff, an operator with no part in Viettel's records
# (MobiFone's staff, VNPT's API client), the Cục's API client (an agency)) gets. A list gives how
# many records it shows (Viettel's two reports and cases, one assignment, one inspection); the rest
# the HTTP status.
MATRIX = {
    "reports": (2, 2, 0, 2),
    "report": (200, 200, 404, 200),
    "report_create": (201, 201, 201, 201),
    "evidence": (201, 403, 404, 403),
    "cases": (2, 2, 0, 2),
    "case": (200, 200, 404, 200),
    "case_status": (200, 403, 404, 403),
    "case_assign": (200, 403, 404, 403),
    "assignments": (1, 1, 0, 1),
    "assignment": (200, 200, 404, 200),
    "respond": (200, 200, 404, 403),
    "inspections": (1, 1, 0, 1),
    "inspection": (200, 200, 404, 200),
    "inspection_create": (201, 403, 403, 403),
    "follow_up": (201, 201, 404, 403),
    "statistics": (200, 200, 200, 200),
    "import_create": (202, 202, 202, 403),
    "import": (200, 404, 404, 200),
    "import_cancel": (200, 404, 404, 403),
    "dnc_list": (200, 403, 403, 200),
    "dnc_create": (201, 403, 403, 403),
}


def make_world(role_user):
    """Viettel's records, made by a city official: a report (and its case, assigned to Viettel),
    a second Viettel case not yet assigned, an inspection of Viettel and an import job."""
    official = role_user("city_official")
    first = report(official, "0981 234 567", content="Khuyến mãi lớn")
    second = report(official, "0351 234 567", content="Vay nhanh")
    case = SpamCase.objects.get(pk=first.case_id)
    assert case.operator.code == "VIETTEL"
    assignment = services.assign(official, case, sla_hours=24)
    checked = inspection(official, "VIETTEL")
    job = services.start_import(
        official, csv_file([["channel", "sender", "recipient", "content", "received_at"]])
    )
    return {
        "report": first,
        "case": case,
        "fresh_case": SpamCase.objects.get(pk=second.case_id),
        "assignment": assignment,
        "inspection": checked,
        "job": job,
    }


@pytest.fixture
def world(role_user):
    return make_world(role_user)


def counts():
    return (
        SpamReport.objects.count(),
        SpamCase.objects.count(),
        Evidence.objects.count(),
        OperatorAction.objects.count(),
        SubscriberInspection.objects.count(),
        InspectionFollowUp.objects.count(),
        ImportJob.objects.count(),
        DoNotCallEntry.objects.count(),
        tuple(SpamCase.objects.order_by("pk").values_list("status", "operator_id")),
        tuple(OperatorAction.objects.order_by("pk").values_list("outcome", flat=True)),
        tuple(ImportJob.objects.order_by("pk").values_list("status", flat=True)),
    )


def call(client, operation, world):
    """Perform ``operation``; returns the response."""
    rep, case, fresh = world["report"], world["case"], world["fresh_case"]
    assignment, checked, job = world["assignment"], world["inspection"], world["job"]
    lists = {
        "reports": f"{API}spam-reports/",
        "cases": f"{API}spam-cases/",
        "assignments": f"{API}spam-assignments/",
        "inspections": f"{API}spam-inspections/",
    }
    if operation in lists:
        return client.get(lists[operation])
    if operation == "report":
        return client.get(f"{API}spam-reports/{rep.public_id}/")
    if operation == "report_create":
        body = {
            "channel": "call",
            "sender": "0981 111 222",
            "recipient": "0912 000 111",
            "received_at": days_ago(1).isoformat(),
        }
        return client.post(f"{API}spam-reports/", body, format="json")
    if operation == "evidence":
        return client.post(
            f"{API}spam-reports/{rep.public_id}/evidence/",
            {"evidence": [png_file()]},
            format="multipart",
        )
    if operation == "case":
        return client.get(f"{API}spam-cases/{case.public_id}/")
    if operation == "case_status":
        return client.post(
            f"{API}spam-cases/{case.public_id}/status/", {"status": "verifying"}, format="json"
        )
    if operation == "case_assign":
        return client.post(
            f"{API}spam-cases/{fresh.public_id}/assign/", {"sla_hours": 48}, format="json"
        )
    if operation == "assignment":
        return client.get(f"{API}spam-assignments/{assignment.public_id}/")
    if operation == "respond":
        return client.post(
            f"{API}spam-assignments/{assignment.public_id}/respond/",
            {"outcome": "blocked_number", "note": "Đã chặn"},
            format="json",
        )
    if operation == "inspection":
        return client.get(f"{API}spam-inspections/{checked.public_id}/")
    if operation == "inspection_create":
        body = {
            "operator": "VIETTEL",
            "inspected_on": str(timezone.localdate()),
            "sample_size": 500,
            "nonconforming": 3,
        }
        return client.post(f"{API}spam-inspections/", body, format="json")
    if operation == "follow_up":
        return client.post(
            f"{API}spam-inspections/{checked.public_id}/follow-ups/",
            {"note": "Đã cập nhật 20 thuê bao", "remedied": 20},
            format="json",
        )
    if operation == "statistics":
        return client.get(f"{API}spam-statistics/?period=month")
    if operation == "import_create":
        uploaded = csv_file([["channel", "sender", "recipient", "content", "received_at"]])
        return client.post(f"{API}spam-imports/", {"file": uploaded}, format="multipart")
    if operation == "import":
        return client.get(f"{API}spam-imports/{job.public_id}/")
    if operation == "import_cancel":
        return client.post(f"{API}spam-imports/{job.public_id}/cancel/")
    if operation == "dnc_list":
        return client.get(f"{API}do-not-call/")
    if operation == "dnc_create":
        return client.post(f"{API}do-not-call/", {"numbers": ["0912 345 678"]}, format="json")
    raise AssertionError(operation)


# What a success adds (position in counts()).
CREATES = {
    "report_create": 0,
    "evidence": 2,
    "case_assign": 3,
    "inspection_create": 4,
    "follow_up": 5,
    "import_create": 6,
    "dnc_create": 7,
}


class TestSpamPermissions(PermissionMatrix):
    """Every role × every spam endpoint, through the shared runner (core.testing)."""

    matrix = MATRIX
    lists = {"reports", "cases", "assignments", "inspections"}
    reads = {"report", "case", "assignment", "inspection", "statistics", "import", "dnc_list"}

    def world(self):
        return make_world(self.fixture("role_user"))

    def call(self, client, operation, world):
        return call(client, operation, world)

    def state(self, world):
        return counts()

    def changed(self, operation, before, after):
        if operation in CREATES:  # one more of what it creates
            position = CREATES[operation]
            return after[position] == before[position] + 1
        return after != before


@pytest.mark.parametrize("role", ["operator_mobifone", "operator_api_client"])
def test_another_operators_records_stay_hidden_with_filters(as_role, world, role):
    """Filtering by Viettel or by the case's id reveals nothing to another operator."""
    client = as_role(role)
    case = world["case"]
    for url in (
        f"{API}spam-reports/?case={case.public_id}",
        f"{API}spam-reports/?sender=0981234567",
        f"{API}spam-reports/?sender_operator=VIETTEL",
        f"{API}spam-cases/?operator=VIETTEL",
        f"{API}spam-assignments/?operator=VIETTEL",
        f"{API}spam-inspections/?operator=VIETTEL",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        assert response.json()["results"] == [], url


def test_operator_statistics_are_their_own_whatever_they_ask(as_role, world):
    client = as_role("operator_mobifone")
    day = days_ago(1).date()
    body = client.get(f"{API}spam-statistics/?operator=VIETTEL&period=year&date={day}").json()
    assert body["operator"] == "MOBIFONE"
    assert body["totals"]["received"] == 0 and body["counts"] == []
    assert body["top_senders"] == []
    viettel = as_role("operator_viettel").get(f"{API}spam-statistics/?period=year&date={day}")
    viettel = viettel.json()
    assert viettel["operator"] == "VIETTEL" and viettel["totals"]["received"] == 2


def test_operator_sees_the_reports_it_filed_about_other_networks(as_role, world):
    client = as_role("operator_mobifone")
    body = {
        "channel": "sms",
        "sender": "0981 234 567",  # a Viettel number, reported by MobiFone's feed
        "recipient": "0901 234 567",
        "content": "Quảng cáo",
        "received_at": days_ago(2).isoformat(),
    }
    response = client.post(f"{API}spam-reports/", body, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["origin"] == "operator_feed" and created["reporting_organization"] == "MOBIFONE"
    listed = client.get(f"{API}spam-reports/").json()["results"]
    assert [r["id"] for r in listed] == [created["id"]]
    # The case belongs to Viettel's network: MobiFone does not see it.
    assert client.get(f"{API}spam-cases/{created['case']}/").status_code == 404
    # Whoever filed a report may add evidence to it.
    evidence = client.post(
        f"{API}spam-reports/{created['id']}/evidence/",
        {"evidence": [png_file()]},
        format="multipart",
    )
    assert evidence.status_code == 201, evidence.content
