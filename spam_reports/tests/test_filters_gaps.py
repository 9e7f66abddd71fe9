"""Filters that closed issue 15's gaps on the spam lists: the API list and the page narrow alike
(one FilterSet serves both), and a bad value is a 400 naming the filter (real PostGIS)."""

import datetime

import pytest

from core.models import Organization
from spam_reports import services
from spam_reports.models import OperatorAction, SpamCase, SpamReport
from spam_reports.tests.factories import hanoi, inspection, org, report

pytestmark = pytest.mark.django_db
D = datetime.date
REPORTS = "/api/v1/spam-reports/"
CASES = "/api/v1/spam-cases/"
ASSIGNMENTS = "/api/v1/spam-assignments/"
INSPECTIONS = "/api/v1/spam-inspections/"


@pytest.fixture
def official(role_user):
    return role_user("city_official")


@pytest.fixture
def api(as_role):
    return as_role("city_official")


def ids(response):
    assert response.status_code == 200, response.content
    return {r["id"] for r in response.json()["results"]}


def bad(response, field):
    assert response.status_code == 400, response.content
    assert response.json()[field]


# --- Cases: first seen, confirmed, closed --------------------------------------------------------


@pytest.fixture
def cases(official):
    made = {}
    for name, sender, first, confirmed, closed in [
        ("old", "0981 234 567", hanoi(2025, 1, 5), hanoi(2025, 1, 10), hanoi(2025, 2, 1)),
        ("mid", "0982 345 678", hanoi(2025, 3, 5), hanoi(2025, 3, 12), None),
        ("new", "0983 456 789", hanoi(2025, 5, 5), None, None),
    ]:
        case_id = report(official, sender).case_id
        SpamCase.objects.filter(pk=case_id).update(
            first_seen_at=first, confirmed_at=confirmed, closed_at=closed
        )
        made[name] = SpamCase.objects.get(pk=case_id)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("first_seen_after=2025-03-05", {"mid", "new"}),
        ("first_seen_before=05/03/2025", {"old", "mid"}),
        ("confirmed_after=11/01/2025", {"mid"}),
        ("confirmed_before=2025-01-10", {"old"}),
        ("closed_after=2025-01-01&closed_before=2025-12-31", {"old"}),
        ("closed_after=02/02/2025", set()),
    ],
)
def test_case_dates_in_the_api(api, cases, query, expected):
    assert ids(api.get(f"{CASES}?{query}")) == {str(cases[n].public_id) for n in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("first_seen_after=recently", "first_seen_after"),
        ("first_seen_before=1899-01-01", "first_seen_before"),
        ("confirmed_after=30/02/2025", "confirmed_after"),
        ("confirmed_before=2101-01-01", "confirmed_before"),
        ("closed_after=x", "closed_after"),
        ("closed_before=01/01/9999", "closed_before"),
    ],
)
def test_bad_case_date_is_400_with_its_name(api, cases, query, field):
    bad(api.get(f"{CASES}?{query}"), field)


def test_case_page_narrows_by_the_new_dates(client, official, cases):
    client.force_login(official)
    response = client.get("/spam/cases/?confirmed_after=01/01/2025&closed_before=31/12/2025")
    assert response.status_code == 200
    assert {c.pk for c in response.context["object_list"]} == {cases["old"].pk}


# --- Reports: sender kind, reporting organisation --------------------------------------------------


@pytest.fixture
def reports(official):
    phone = report(official, "0981 234 567")
    brand = report(official, "SHOPEE")
    other = Organization.objects.filter(kind=Organization.Kind.AGENCY).exclude(
        pk=official.organization_id
    )[0]
    elsewhere = report(official, "0982 345 678")
    SpamReport.objects.filter(pk=elsewhere.pk).update(reporting_organization=other)
    return {"phone": phone, "brand": brand, "elsewhere": elsewhere, "other": other}


def test_report_sender_kind_and_reporting_organization_in_the_api(api, official, reports):
    def of(*names):
        return {str(reports[n].public_id) for n in names}

    assert ids(api.get(f"{REPORTS}?sender_kind=phone")) == of("phone", "elsewhere")
    assert ids(api.get(f"{REPORTS}?sender_kind=brandname")) == of("brand")
    home = official.organization.code
    assert ids(api.get(f"{REPORTS}?reporting_organization={home}")) == of("phone", "brand")
    other = reports["other"].code
    assert ids(api.get(f"{REPORTS}?reporting_organization={other}&sender_kind=phone")) == of(
        "elsewhere"
    )
    bad(api.get(f"{REPORTS}?sender_kind=pigeon"), "sender_kind")
    bad(api.get(f"{REPORTS}?reporting_organization=NOPE"), "reporting_organization")


def test_report_page_narrows_by_reporting_organization(client, official, reports):
    client.force_login(official)
    response = client.get(f"/spam/reports/?reporting_organization={reports['other'].code}")
    assert response.status_code == 200
    assert {r.pk for r in response.context["object_list"]} == {reports["elsewhere"].pk}


# --- Assignments: responded_at ---------------------------------------------------------------------


@pytest.fixture
def actions(official):
    made = {}
    for name, sender, answered in [
        ("early", "0981 234 567", hanoi(2025, 2, 1)),
        ("late", "0982 345 678", hanoi(2025, 4, 1)),
        ("open", "0983 456 789", None),
    ]:
        case = report(official, sender).case
        services.assign(official, case, operator=org("VIETTEL"), sla_hours=24)
        action = OperatorAction.objects.get(case=case)
        if answered is not None:
            OperatorAction.objects.filter(pk=action.pk).update(
                outcome=OperatorAction.Outcome.VERIFIED, responded_at=answered
            )
        made[name] = action
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("responded_after=2025-02-02", {"late"}),
        ("responded_before=01/02/2025", {"early"}),
        ("responded_after=01/01/2025&responded_before=2025-12-31", {"early", "late"}),
    ],
)
def test_assignment_responded_range_in_the_api(api, actions, query, expected):
    assert ids(api.get(f"{ASSIGNMENTS}?{query}")) == {str(actions[n].public_id) for n in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("responded_after=soon", "responded_after"),
        ("responded_before=1800-01-01", "responded_before"),
    ],
)
def test_bad_responded_date_is_400_with_its_name(api, actions, query, field):
    bad(api.get(f"{ASSIGNMENTS}?{query}"), field)


# --- Inspections: inspecting agency, deadline ------------------------------------------------------


@pytest.fixture
def inspections(official):
    agencies = Organization.objects.filter(kind=Organization.Kind.AGENCY)
    other = agencies.exclude(code="SO_KHCN_HN").order_by("code")[0].code
    on = D(2025, 1, 15)
    return {
        "soon": inspection(official, inspected_on=on, deadline=D(2025, 6, 30)),
        "later": inspection(official, inspected_on=on, deadline=D(2025, 12, 31)),
        "other": inspection(official, agency=other, inspected_on=on, deadline=None),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("inspecting_agency=SO_KHCN_HN", {"soon", "later"}),
        ("deadline_after=01/07/2025", {"later"}),
        ("deadline_before=2025-06-30", {"soon"}),
        ("deadline_after=2025-01-01&deadline_before=31/12/2025", {"soon", "later"}),
    ],
)
def test_inspection_filters_in_the_api(api, inspections, query, expected):
    assert ids(api.get(f"{INSPECTIONS}?{query}")) == {
        str(inspections[n].public_id) for n in expected
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("inspecting_agency=VIETTEL", "inspecting_agency"),  # an operator is no inspecting agency
        ("deadline_after=31/06/2025", "deadline_after"),
        ("deadline_before=2200-01-01", "deadline_before"),
    ],
)
def test_bad_inspection_filter_is_400_with_its_name(api, inspections, query, field):
    bad(api.get(f"{INSPECTIONS}?{query}"), field)
