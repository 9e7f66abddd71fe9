"""The sharing demo (sharing/demo.py): believable, consistent and loaded once.

The demo is loaded once for the module (twice, to prove the second load adds nothing) inside a
transaction that is rolled back at the end, so the test database is left as it was.
"""

import time

import pytest
from django.db import transaction
from django.db.models import CharField, Count, F, Func, Q, Sum
from django.test import override_settings

from core import demo as core_demo
from core.selectors import boundaries_loaded
from core.text import fold
from sharing import demo, selectors
from sharing.models import (
    AssetKind,
    InfrastructureAsset,
    SharingEvent,
    SharingRequest,
    Tenancy,
)

pytestmark = pytest.mark.django_db

MODELS = (InfrastructureAsset, Tenancy, SharingRequest, SharingEvent)


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=str(media)):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            core_demo.load()
            started = time.perf_counter()
            first = demo.load()
            seconds = time.perf_counter() - started
            after_first = _counts()
            second = demo.load()
            yield {"first": first, "second": second, "after_first": after_first, "s": seconds}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_a_second_load_adds_nothing(loaded):
    assert loaded["first"]["assets"] > 2000
    assert loaded["first"]["requests"] == len(demo.REQUESTS)
    assert loaded["second"] == {"assets": 0, "tenancies": 0, "requests": 0}
    assert _counts() == loaded["after_first"]
    assert loaded["s"] < 15


def test_the_register_has_every_kind_and_owner(loaded):
    per_kind = dict(InfrastructureAsset.objects.values_list("kind").annotate(n=Count("id")))
    assert set(per_kind) == set(AssetKind.values)
    assert 1400 <= per_kind["tower"] <= 1600
    assert 280 <= per_kind["pole"] <= 320
    assert 70 <= per_kind["duct"] <= 80
    assert 100 <= per_kind["manhole"] <= 120
    owners = set(InfrastructureAsset.objects.values_list("owner__code", flat=True))
    assert {"VIETTEL", "VNPT", "MOBIFONE", "EVN_HANOI", "UBND_HN"} <= owners
    # Ducts are lines of 200-1500 m (length_m stored as save_asset computes it); the rest points.
    types = dict(
        InfrastructureAsset.objects.annotate(
            t=Func("geometry", function="GeometryType", output_field=CharField())
        )
        .values_list("kind", "t")
        .distinct()
    )
    assert types.pop("duct") == "LINESTRING" and set(types.values()) == {"POINT"}
    ducts = InfrastructureAsset.objects.filter(kind="duct")
    assert not ducts.filter(Q(length_m__lt=150) | Q(length_m__gt=1600)).exists()
    sample = InfrastructureAsset.objects.order_by("?")[:50]
    assert all(a.search_text == fold(" ".join([a.code, a.name, a.address])) for a in sample)


def test_every_request_status_made_through_the_services(loaded):
    statuses = set(SharingRequest.objects.values_list("status", flat=True))
    assert statuses == set(SharingRequest.Status.values)
    submitted = SharingRequest.objects.filter(status="submitted")
    assert submitted.filter(overdue=True).exists() and submitted.filter(overdue=False).exists()
    for req in SharingRequest.objects.all():
        assert req.number and req.number.startswith("CS-")
        assert req.timeline.filter(kind="status").count() >= 1
        assert req.created_by.username in demo.DEMO_USERNAMES
    # Accepted and "share" decisions left a tenancy; events are dated on past days.
    granted = SharingRequest.objects.filter(
        Q(status="accepted") | Q(status="decided", outcome="share")
    )
    assert granted.exists()
    assert all(req.tenancies.filter(status="active").exists() for req in granted)
    assert SharingEvent.objects.filter(created_at__date__lt=F("request__response_due")).exists()


def test_used_capacity_is_the_sum_of_active_tenancies(loaded):
    used = dict(
        Tenancy.objects.filter(status="active")
        .values_list("asset")
        .annotate(units=Sum("units"))
        .order_by()
    )
    for pk, used_capacity, capacity in InfrastructureAsset.objects.values_list(
        "pk", "used_capacity", "capacity"
    ):
        assert used_capacity == used.get(pk, 0), pk
        assert used_capacity <= capacity


def test_the_journey_tower_has_two_free_slots(loaded):
    tower = InfrastructureAsset.objects.get(owner__code="VIETTEL", code="T-0231")
    assert tower.kind == "tower" and tower.status == "active" and tower.shareable
    assert (tower.capacity, tower.used_capacity, tower.free_capacity) == (4, 2, 2)
    assert not tower.requests.exists()
    if boundaries_loaded():
        assert tower.commune.code == "00166"


def test_the_shared_site_ratio_is_believable(loaded):
    rows = selectors.shared_site_ratio(by="operator")
    by_operator = {row["key"]: row for row in rows}
    assert {"VIETTEL", "VNPT", "MOBIFONE"} <= set(by_operator)
    operators_per_tower = (
        Tenancy.objects.filter(status="active", asset__kind="tower", asset__status="active")
        .values("asset")
        .annotate(n=Count("operator", distinct=True))
        .order_by()
    )
    in_use = operators_per_tower.count()
    shared = sum(1 for row in operators_per_tower if row["n"] >= 2)
    assert 0.20 <= shared / in_use <= 0.32, shared / in_use
    communes = selectors.shared_site_ratio(by="commune")
    assert sum(row["sites"] for row in communes) == in_use
    assert sum(row["shared"] for row in communes) == shared


def test_every_point_asset_lies_in_its_commune(loaded):
    if not boundaries_loaded():
        pytest.skip("no boundaries loaded")
    points = InfrastructureAsset.objects.exclude(kind="duct")
    assert not points.exclude(commune__boundary__intersects=F("geometry")).exists()
    ducts = InfrastructureAsset.objects.filter(kind="duct")
    assert not ducts.exclude(commune__boundary__intersects=F("geometry")).exists()
