"""The daily closing of civil-works notices on a real Celery worker (private queue, real Redis and
PostGIS)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import LineString
from django.utils import timezone

from cables import services
from cables.models import CivilWorksNotice
from cables.tasks import close_expired_notices
from core.models import Organization

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_closes_expired_notices_once(celery_worker_queue, role_user):
    official = role_user("city_official")
    today = timezone.localdate()

    def notice(title, deadline):
        return services.save_notice(
            official,
            title=title,
            owner=Organization.objects.get(code="UBND_HN"),
            route=LineString((105.8120, 21.0316), (105.8230, 21.0318), srid=4326),
            effective_from=deadline + timedelta(days=10),
            effective_to=deadline + timedelta(days=100),
            registration_deadline=deadline,
        )

    old = notice("Cải tạo hè phố Kim Mã", today - timedelta(days=2))
    fresh = notice("Lát đá hè phố Giảng Võ", today + timedelta(days=5))
    send = close_expired_notices.apply_async
    assert send(queue=celery_worker_queue).get(timeout=60) == {"closed": 1}
    assert send(queue=celery_worker_queue).get(timeout=60) == {"closed": 0}
    assert CivilWorksNotice.objects.get(pk=old.pk).status == "closed"
    assert CivilWorksNotice.objects.get(pk=fresh.pk).status == "open"
