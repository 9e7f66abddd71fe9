"""The daily reminders of agreements on a real Celery worker (private queue, real Redis and
PostGIS)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agreements.models import Agreement, Task
from agreements.tasks import send_reminders
from agreements.tests import factories as f
from core.models import Notification

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_sends_each_reminder_once(celery_worker_queue, role_user):
    official = role_user("city_official")
    today = timezone.localdate()
    agreement = f.agreement(
        official,
        period=(today - timedelta(days=365), today + timedelta(days=60)),
        signed_on=today - timedelta(days=370),
    )
    area = f.area(official, agreement)
    soon = f.task(official, area, title="Báo cáo sơ kết", due_date=today + timedelta(days=3))
    late = f.task(official, area, "CUC_VT", title="Kiểm tra", due_date=today - timedelta(days=2))
    ended = f.agreement(
        official,
        period=(today - timedelta(days=400), today - timedelta(days=1)),
        signed_on=today - timedelta(days=400),
    )

    send = send_reminders.apply_async
    first = send(queue=celery_worker_queue).get(timeout=60)
    assert first == {"reminded": 1, "overdue": 1, "expired": 1, "renewal_prompts": 1}
    sent = Notification.objects.filter(recipient=official).count()
    assert sent == 3  # the reminder, the overdue task and the renewal prompt
    second = send(queue=celery_worker_queue).get(timeout=60)
    assert second == {"reminded": 0, "overdue": 0, "expired": 0, "renewal_prompts": 0}
    assert Notification.objects.filter(recipient=official).count() == sent

    assert Task.objects.get(pk=soon.pk).reminded_on == today
    assert Task.objects.get(pk=late.pk).status == Task.Status.OVERDUE
    assert Agreement.objects.get(pk=ended.pk).status == Agreement.Status.EXPIRED
    assert Agreement.objects.get(pk=agreement.pk).renewal_notified_on == today
