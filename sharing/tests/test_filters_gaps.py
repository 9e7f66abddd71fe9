"""Filters that closed issue 15's gaps on the sharing lists: the API list and the page narrow
alike (one FilterSet serves both), and a bad value is a 400 naming the filter (real PostGIS)."""

import datetime

import pytest
from django.utils import timezone

from core.models import Organization
from sharing import services
from sharing.models import SharingRequest
from sharing.tests.test_api import (  # noqa: F401 (fixtures)
    ASSETS,
    NEAR_BA_DINH,
    REQUESTS,
    TENANCIES,
    feature_ids,
    make_asset,
    make_request,
)

pytestmark = pytest.mark.django_db
D = datetime.date


def moment(day):
    """Noon of ``day`` in Hanoi."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


# --- Assets: condition ---------------------------------------------------------------------------


@pytest.fixture
def conditions(make_asset):  # noqa: F811
    return {name: make_asset(code=f"C-{name}", condition=name) for name in ("good", "fair", "poor")}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("condition=poor", ["poor"]),
        ("condition=fair&condition=poor", ["fair", "poor"]),
    ],
)
def test_asset_condition_in_the_api(as_role, conditions, query, expected):
    response = as_role("operator_mobifone").get(f"{ASSETS}?{query}")
    assert set(feature_ids(response)) == {str(conditions[n].public_id) for n in expected}


def test_bad_asset_condition_is_400(as_role, conditions):
    response = as_role("operator_mobifone").get(f"{ASSETS}?condition=ruined")
    assert response.status_code == 400, response.content
    assert response.json()["condition"]


def test_asset_page_narrows_by_condition(client, role_user, conditions):
    client.force_login(role_user("city_official"))
    response = client.get("/sharing/assets/?condition=fair")
    assert response.status_code == 200
    assert {a.code for a in response.context["object_list"]} == {"C-fair"}


# --- Tenancies: since / until ------------------------------------------------------------------


@pytest.fixture
def tenancies(role_user, make_asset):  # noqa: F811
    official = role_user("city_official")
    asset = make_asset("VIETTEL", capacity=5)
    vnpt = Organization.objects.get(code="VNPT")

    def tenancy(since, until=None):
        return services.create_tenancy(official, asset, vnpt, 1, since=since, until=until)

    return {
        "early": tenancy(D(2020, 1, 1), D(2022, 12, 31)),
        "middle": tenancy(D(2022, 6, 1), D(2030, 5, 31)),
        "open": tenancy(D(2024, 3, 1)),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("since_after=2022-06-01", {"middle", "open"}),
        ("since_before=01/06/2022", {"early", "middle"}),
        ("since_after=01/01/2021&since_before=31/12/2023", {"middle"}),
        ("until_after=2023-01-01", {"middle"}),
        ("until_before=31/12/2022", {"early"}),
    ],
)
def test_tenancy_dates_in_the_api(as_role, tenancies, query, expected):
    response = as_role("city_official").get(f"{TENANCIES}?{query}")
    assert response.status_code == 200, response.content
    ids = {t["id"] for t in response.json()["results"]}
    assert ids == {str(tenancies[n].public_id) for n in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since_after=later", "since_after"),
        ("since_before=1800-01-01", "since_before"),
        ("until_after=30/02/2024", "until_after"),
        ("until_before=01/01/2200", "until_before"),
    ],
)
def test_bad_tenancy_date_is_400_with_its_name(as_role, tenancies, query, field):
    response = as_role("city_official").get(f"{TENANCIES}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()[field]


# --- Sharing requests: asset, outcome, submitted_on, decided_at -----------------------------------


@pytest.fixture
def requests_(role_user, make_asset, make_request):  # noqa: F811
    tower = make_asset("VIETTEL", capacity=3)
    pole = make_asset("MOBIFONE", kind="pole", geometry=NEAR_BA_DINH)
    official = role_user("city_official")
    first = make_request(tower)
    second = make_request(tower)
    third = make_request(pole, requester="operator_viettel")
    SharingRequest.objects.filter(pk=first.pk).update(
        submitted_on=D(2025, 1, 6),
        outcome=SharingRequest.Outcome.SHARE,
        decided_at=moment(D(2025, 2, 3)),
        decided_by=official,
    )
    SharingRequest.objects.filter(pk=second.pk).update(
        submitted_on=D(2025, 3, 3),
        outcome=SharingRequest.Outcome.NO_SHARE,
        decided_at=moment(D(2025, 4, 1)),
        decided_by=official,
    )
    SharingRequest.objects.filter(pk=third.pk).update(submitted_on=D(2025, 5, 5))
    return {"tower": tower, "pole": pole, "first": first, "second": second, "third": third}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("asset={tower}", {"first", "second"}),
        ("asset={pole}", {"third"}),
        ("outcome=share", {"first"}),
        ("outcome=no_share", {"second"}),
        ("submitted_after=2025-03-03", {"second", "third"}),
        ("submitted_before=03/03/2025", {"first", "second"}),
        ("submitted_after=07/01/2025&submitted_before=04/05/2025", {"second"}),
        ("decided_after=2025-02-04", {"second"}),
        ("decided_before=03/02/2025", {"first"}),
        ("decided_after=01/01/2025&asset={tower}", {"first", "second"}),
    ],
)
def test_request_filters_in_the_api(as_role, requests_, query, expected):
    query = query.format(tower=requests_["tower"].public_id, pole=requests_["pole"].public_id)
    response = as_role("city_official").get(f"{REQUESTS}?{query}")
    assert response.status_code == 200, response.content
    assert {r["id"] for r in response.json()["results"]} == {requests_[n].pk for n in expected}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("asset=not-a-uuid", "asset"),
        ("outcome=maybe", "outcome"),
        ("submitted_after=tomorrow", "submitted_after"),
        ("submitted_before=2101-01-01", "submitted_before"),
        ("decided_after=31/04/2025", "decided_after"),
        ("decided_before=01/01/1899", "decided_before"),
    ],
)
def test_bad_request_filter_is_400_with_its_name(as_role, requests_, query, field):
    response = as_role("city_official").get(f"{REQUESTS}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()[field]


def test_request_page_narrows_by_the_new_filters(client, role_user, requests_):
    client.force_login(role_user("city_official"))
    response = client.get("/sharing/requests/?outcome=no_share&submitted_after=01/02/2025")
    assert response.status_code == 200
    assert {r.pk for r in response.context["object_list"]} == {requests_["second"].pk}
    response = client.get(f"/sharing/requests/?asset={requests_['pole'].public_id}")
    assert {r.pk for r in response.context["object_list"]} == {requests_["third"].pk}
    # Nobody types an asset's public id: the page filters by it (a link) without a box for it.
    assert 'name="asset"' not in response.content.decode()
    assert 'name="outcome"' in response.content.decode()
