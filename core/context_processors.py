from django.utils.functional import SimpleLazyObject

from core.notifications import unread_count
from core.scoping import sees_everything


def portal(request):
    """What every page needs to know about the user: which roles, whether they see all records, and
    how many notifications are unread."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"is_official": False, "user_roles": [], "unread_notifications": 0}
    return {
        "is_official": sees_everything(user),
        "user_roles": user.role_labels,
        # One indexed COUNT (recipient, read_at) for the navbar badge, only when a page shows it.
        "unread_notifications": SimpleLazyObject(lambda: unread_count(user)),
    }
