"""The daily overdue task on a real Celery worker (private queue, real Redis and PostGIS)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from core.models import Organization
from sharing import services
from sharing.models import SharingRequest
from sharing.tasks import mark_overdue

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_marks_unanswered_requests_overdue_once(celery_worker_queue, role_user):
    viettel, mobifone = role_user("operator_viettel"), role_user("operator_mobifone")
    tower = services.save_asset(
        viettel,
        code="T-W",
        name="Cột",
        kind="tower",
        owner=Organization.objects.get(code="VIETTEL"),
        geometry=Point(105.8345, 21.0360, srid=4326),
        capacity=2,
    )
    old = services.create_request(
        mobifone,
        asset=tower,
        units=1,
        needs="1 vị trí",
        today=timezone.localdate() - timedelta(days=60),
    )
    fresh = services.create_request(mobifone, asset=tower, units=1, needs="1 vị trí nữa")
    assert mark_overdue.apply_async(queue=celery_worker_queue).get(timeout=60) == {"overdue": 1}
    assert mark_overdue.apply_async(queue=celery_worker_queue).get(timeout=60) == {"overdue": 0}
    assert SharingRequest.objects.get(pk=old.pk).overdue
    assert not SharingRequest.objects.get(pk=fresh.pk).overdue
