"""The stations demo (stations/demo.py): believable, complete and loaded once.

The demo is loaded once for the module (twice, to prove the second load adds nothing) inside a
transaction that is rolled back at the end, so the test database is left as it was.
"""

import re

import pytest
from django.db import transaction
from django.db.models import Count, F
from django.test import override_settings

from core import demo as core_demo
from core.models import AdministrativeUnit, Organization
from core.selectors import boundaries_loaded
from core.text import fold
from sharing import demo as sharing_demo
from stations import demo
from stations.models import (
    ApplicationDocument,
    ApplicationEvent,
    PermitApplication,
    PublicSite,
    Station,
)

pytestmark = pytest.mark.django_db

MODELS = (Station, PublicSite, PermitApplication, ApplicationDocument, ApplicationEvent)


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
            sharing_demo.load()  # as `load_demo_data` runs them: sharing's towers come first
            first = demo.load()
            after_first = _counts()
            second = demo.load()
            yield {"first": first, "second": second, "after_first": after_first}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_stations_stand_on_the_towers_their_operators_use(loaded):
    from sharing.models import Tenancy

    assert loaded["first"]["on_towers"] > 100
    on_towers = Station.objects.filter(asset__isnull=False).select_related("asset")
    assert on_towers.count() == loaded["first"]["on_towers"]
    for station in on_towers[:200]:
        assert station.location.equals(station.asset.geometry)
        assert Tenancy.objects.filter(
            asset=station.asset, operator=station.operator_id, status="active"
        ).exists()


def test_a_second_load_adds_nothing(loaded):
    assert loaded["first"]["stations"] == demo.N_STATIONS
    assert 55 <= loaded["first"]["sites"] <= 70
    assert loaded["first"]["applications"] == len(demo.APPLICATIONS)
    assert loaded["second"] == {"stations": 0, "on_towers": 0, "sites": 0, "applications": 0}
    assert _counts() == loaded["after_first"]


def test_applications_in_every_status_made_through_the_services(loaded):
    statuses = set(PermitApplication.objects.values_list("status", flat=True))
    assert statuses == set(PermitApplication.Status.values)
    # Clocks started on past days: some applications are overdue, others still have time.
    open_ = PermitApplication.objects.filter(status__in=["submitted", "under_review"])
    assert open_.filter(overdue=True).exists() and open_.filter(overdue=False).exists()
    # Submitted ones are numbered, carry their documents and a timeline.
    for app in PermitApplication.objects.exclude(status="draft").exclude(number=None):
        assert app.documents.exists()
        assert app.timeline.filter(kind="status").exists()
    assert set(ApplicationDocument.objects.values_list("content_type", flat=True)) == {
        "application/pdf"
    }
    # An approval created the station and the site, at capacity, is occupied.
    approved = PermitApplication.objects.filter(status="approved", public_site__isnull=False)
    assert approved.exists()
    for app in approved.select_related("public_site", "station"):
        assert app.station is not None and app.station.status == Station.Status.PERMITTED
        if app.public_site.capacity == 1:
            assert app.public_site.status == PublicSite.Status.OCCUPIED


def test_stations_of_the_real_operators_in_every_commune(loaded):
    per_operator = dict(
        Station.objects.values_list("operator__code").annotate(n=Count("id")).order_by()
    )
    assert set(per_operator) == {code for code, _share, _style in demo.OPERATORS}
    assert per_operator["VIETTEL"] > per_operator["VNPT"] > per_operator["MOBIFONE"]
    assert per_operator["MOBIFONE"] > per_operator["VIETNAMOBILE"] > per_operator["CMC"]
    communes = Station.objects.values("commune").distinct().count()
    assert communes == AdministrativeUnit.objects.count() == 126


def test_every_point_lies_in_its_commune(loaded):
    if not boundaries_loaded():
        pytest.skip("no boundaries loaded")
    assert not Station.objects.exclude(commune__boundary__intersects=F("location")).exists()
    assert not PublicSite.objects.exclude(commune__boundary__intersects=F("location")).exists()
    outside = PermitApplication.objects.exclude(commune__boundary__intersects=F("location"))
    assert not outside.exists()


def test_the_register_looks_like_hanoi(loaded):
    viettel = Station.objects.filter(operator__code="VIETTEL").values_list("code", flat=True)
    assert all(re.fullmatch(r"HNI-[A-Z]{3}-\d{4}", code) for code in viettel)
    assert Station.objects.filter(code="HNI-BDH-0001", commune__code="00004").exists()
    assert Station.objects.filter(non_bulky=True).exists()
    assert (
        Station.objects.filter(structure_type="rooftop_mast", building_height_m=None).count() == 0
    )
    operating = Station.objects.filter(status="operating").count()
    assert operating > 0.8 * Station.objects.count()
    # 5G mostly in the urban wards.
    wards = Station.objects.filter(commune__kind="phuong")
    communes = Station.objects.filter(commune__kind="xa")
    share = lambda qs: qs.filter(technologies__contains=["5G"]).count() / qs.count()  # noqa: E731
    assert share(wards) > 2 * share(communes)
    # search_text as Station.save() writes it.
    sample = Station.objects.order_by("?")[:50]
    assert all(s.search_text == fold(" ".join([s.code, s.name, s.address])) for s in sample)


def test_public_sites_include_an_available_one_in_cau_giay(loaded):
    owner = Organization.objects.get(code="UBND_HN")
    assert PublicSite.objects.exclude(owner=owner).count() == 0
    assert set(PublicSite.objects.values_list("status", flat=True)) == {
        "available",
        "reserved",
        "occupied",
    }
    site = PublicSite.objects.get(name="Trụ sở UBND phường Cầu Giấy")
    assert site.status == PublicSite.Status.AVAILABLE
    assert site.commune.name == "Phường Cầu Giấy"
