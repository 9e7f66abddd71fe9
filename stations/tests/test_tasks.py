"""The daily deadline task on a real Celery worker (private queue, real Redis, real PostGIS)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from stations import services
from stations.models import PermitApplication
from stations.tasks import process_deadlines

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_marks_overdue_and_grants_tacit_approval_once(
    celery_worker_queue, role_user, make_application
):
    lan = role_user("operator_viettel")
    today = timezone.localdate()
    long_ago = today - timedelta(days=60)
    plain = services.submit(lan, make_application(lan, station_code="A-1"), today=long_ago)
    tacit = services.submit(
        lan,
        make_application(
            lan, station_code="A-2", type_code="non_bulky", structure_type="camouflaged_mast"
        ),
        today=long_ago,
    )
    first = process_deadlines.apply_async(queue=celery_worker_queue).get(timeout=60)
    assert first == {"overdue": 1, "deemed_approved": 1}
    # Retried or run twice by beat: nothing more happens.
    second = process_deadlines.apply_async(queue=celery_worker_queue).get(timeout=60)
    assert second == {"overdue": 0, "deemed_approved": 0}
    plain.refresh_from_db()
    tacit.refresh_from_db()
    assert plain.overdue and plain.status == PermitApplication.Status.SUBMITTED
    assert tacit.status == PermitApplication.Status.DEEMED_APPROVED and tacit.station_id
