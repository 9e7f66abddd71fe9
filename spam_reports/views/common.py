"""Helpers the spam pages share: a case's flags as rows, a service's error on a form."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied

from core.exceptions import InvalidInput
from core.exceptions import PermissionDenied as ServicePermissionDenied
from spam_reports import rules


def flag_rows(flags):
    """The case's flags with the rule's label and legal basis (unknown codes shown as they are)."""
    return [
        {
            "code": code,
            "label": rules.RULES.get(code, {}).get("label", code),
            "basis": rules.RULES.get(code, {}).get("basis", ""),
        }
        for code in flags
    ]


def _service_error(form, exc):
    """A service's domain error on a form (field messages, or one message for the form)."""
    if isinstance(exc, ServicePermissionDenied):
        raise DjangoPermissionDenied(str(exc.message)) from exc
    if isinstance(exc, InvalidInput):
        form.add_service_errors(exc)
    else:
        form.add_error(None, str(exc.message))
