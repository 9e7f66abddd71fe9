"""In-app notifications: one call from any service; the navbar shows the unread count."""

from django.utils import timezone

from core import roles
from core.models import Notification, User


def notify(recipients, title, url="", body=""):
    """Send a notification to each distinct active user in ``recipients``; returns how many."""
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=pk, title=str(title)[:255], url=url, body=str(body))
            for pk in users
        ]
    )
    return len(users)


def staff_of(organization):
    """Active users of an organisation (an operator's staff, an agency's officials)."""
    return User.objects.filter(organization=organization, is_active=True)


def city_officials():
    return User.objects.filter(groups__name=roles.CITY_OFFICIAL, is_active=True).distinct()


def unread_count(user):
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, ids=None):
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
