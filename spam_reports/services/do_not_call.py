"""The do-not-call list ("Danh sách không quảng cáo")."""

from django.db import transaction
from django.utils import timezone

from core.exceptions import PermissionDenied
from spam_reports import senders
from spam_reports.models import DoNotCallEntry
from spam_reports.services.access import is_spam_official

# --- Do-not-call list --------------------------------------------------------------------------------


@transaction.atomic
def register_do_not_call(user, numbers, source="", registered_on=None):
    """Add numbers to the do-not-call list (normalised; already listed ones are left as they are)."""
    if not is_spam_official(user):
        raise PermissionDenied()
    values = sorted({senders.phone(n, field="number") for n in numbers if str(n).strip()})
    existing = set(
        DoNotCallEntry.objects.filter(number__in=values).values_list("number", flat=True)
    )
    DoNotCallEntry.objects.bulk_create(
        [
            DoNotCallEntry(
                number=v, source=source, registered_on=registered_on or timezone.localdate()
            )
            for v in values
            if v not in existing
        ]
    )
    return len(values) - len(existing)
