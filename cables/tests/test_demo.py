"""The cables demo (cables/demo.py): believable, consistent and loaded once.

Loaded once for the module (twice, to prove the second load adds nothing) inside a transaction that
is rolled back at the end, so the test database is left as it was.
"""

import time

import pytest
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.test import override_settings
from django.utils import timezone

from cables import demo, selectors
from cables.models import (
    CableProject,
    CableSegment,
    CivilWorksNotice,
    CivilWorksRegistration,
    ProgressUpdate,
    SegmentCommune,
)
from core import demo as core_demo
from core.selectors import boundaries_loaded
from sharing.models import InfrastructureAsset

pytestmark = pytest.mark.django_db

MODELS = (
    CableProject,
    CableSegment,
    SegmentCommune,
    ProgressUpdate,
    CivilWorksNotice,
    CivilWorksRegistration,
)


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
    first = loaded["first"]
    assert first["projects"] == len(demo.PROJECTS) == 40
    assert 80 <= first["segments"] <= 160
    assert first["notices"] == len(demo.NOTICES)
    assert first["registrations"] >= 8
    assert set(loaded["second"].values()) == {0}
    assert _counts() == loaded["after_first"]
    assert loaded["s"] < 15, loaded["s"]


def test_every_project_status_and_no_journey_project(loaded):
    statuses = set(CableProject.objects.values_list("status", flat=True))
    assert statuses == set(CableProject.Status.values)
    assert not CableProject.objects.filter(name="Hạ ngầm cáp phố Kim Mã 2026").exists()
    years = set(CableProject.objects.values_list("year", flat=True))
    assert min(years) == 2016 and max(years) == 2026
    for project in CableProject.objects.prefetch_related("participants"):
        codes = {o.code for o in project.participants.all()}
        assert len(codes) >= 2 and codes <= {"VIETTEL", "VNPT", "MOBIFONE", "FPT", "CMC"}
        assert project.lead_agency.code in {"SO_KHCN_HN", "VIETTEL", "VNPT"}
    methods = set(CableSegment.objects.values_list("method", flat=True))
    assert methods == set(CableSegment.Method.values)
    assert not CableSegment.objects.filter(length_m__lt=80).exists()
    assert not CableSegment.objects.filter(length_m__gt=1600).exists()


def test_progress_made_by_the_demo_users_in_the_past(loaded):
    today = timezone.localdate()
    updates = ProgressUpdate.objects.all()
    assert updates.count() > 150
    assert not updates.filter(reported_on__gt=today).exists()
    assert set(updates.values_list("created_by__username", flat=True)) <= set(demo.DEMO_USERNAMES)
    assert updates.filter(corrects__isnull=False).count() >= 3
    none = CableProject.objects.filter(status__in=["planned", "approved", "cancelled"])
    assert not updates.filter(segment__project__in=none).exists()


def test_duct_and_poles_come_from_each_segments_responsible_operator(loaded):
    """Issue 15: an operator reports civil works only on its own segments (officials on any)."""
    civil = ProgressUpdate.objects.filter(Q(duct_built_m__gt=0) | Q(poles_removed__gt=0))
    assert civil.filter(operator__kind="operator").exists()
    assert not (
        civil.filter(operator__kind="operator").exclude(operator=F("segment__operator")).exists()
    )


def test_completed_projects_are_fully_built_and_their_ducts_shared(loaded):
    completed = list(CableProject.objects.filter(status="completed").values_list("pk", flat=True))
    totals = selectors.project_totals(completed)
    for pk in completed:
        row = totals[pk]
        assert row["km_cable_pulled"] == pytest.approx(row["km_planned"], abs=0.002)
        assert row["km_overhead_removed"] == pytest.approx(row["km_planned"], abs=0.002)
    built = CableSegment.objects.filter(project__status="completed", method="new_duct_bank")
    assert built.exists()
    assert not built.filter(duct_asset__isnull=True).exists()
    for segment in built.select_related("duct_asset"):
        assert segment.duct_asset.kind == "duct"
        assert segment.duct_asset.capacity == segment.bores
    assert InfrastructureAsset.objects.filter(cable_segments__isnull=False).count() == built.count()
    unfinished = CableSegment.objects.exclude(project__status="completed")
    assert not unfinished.filter(duct_asset__isnull=False).exists()


def test_every_segment_has_commune_pieces_summing_to_its_length(loaded):
    if not boundaries_loaded():
        pytest.skip("no boundaries loaded")
    segments = CableSegment.objects.annotate(n=Count("pieces"), clipped=Sum("pieces__length_m"))
    for segment in segments:
        assert segment.n >= 1, segment
        assert segment.clipped == pytest.approx(segment.length_m, rel=1e-3), segment


def test_totals_per_commune_sum_to_km_planned(loaded):
    if not boundaries_loaded():
        pytest.skip("no boundaries loaded")
    rows = selectors.totals_by_commune()
    planned = CableSegment.objects.aggregate(m=Sum("length_m"))["m"] / 1000
    assert sum(r["km_planned"] for r in rows) == pytest.approx(planned, rel=1e-3)
    assert len(rows) >= 15
    projects = selectors.project_totals(CableProject.objects.values_list("pk", flat=True))
    built = sum(r["km_duct_built"] for r in projects.values())
    assert sum(r["km_duct_built"] for r in rows) == pytest.approx(built, rel=1e-3)


def test_notices_open_and_closed_with_registrations(loaded):
    open_ = CivilWorksNotice.objects.filter(status="open")
    closed = CivilWorksNotice.objects.filter(status="closed")
    today = timezone.localdate()
    assert open_.count() >= 4 and closed.count() >= 2
    assert not open_.filter(registration_deadline__lt=today).exists()
    assert not closed.filter(registration_deadline__gte=today).exists()
    two = open_.annotate(n=Count("registrations")).filter(n=2)
    assert two.count() >= 2
    owners = set(CivilWorksNotice.objects.values_list("owner__code", flat=True))
    assert owners <= {"UBND_HN", "SO_KHCN_HN", "EVN_HANOI"} and "EVN_HANOI" in owners
    for notice in CivilWorksNotice.objects.all():
        assert notice.registration_deadline <= notice.effective_from
