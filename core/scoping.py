"""Who sees which records: the one rule every selector and viewset applies.

- Officials (city, national) and administrators see every organisation's records.
- An API client acting for a state agency sees every record (it syncs the city's picture); one acting
  for an operator sees only that operator's records, like the operator's staff.
- Operator staff see only records of their own organisation.
- Anyone else (anonymous, inactive, no role, no organisation) sees nothing.

A model names the field(s) that tie a record to an organisation in ``scope_field`` (a string or a
tuple: a record is visible when any of them is the user's organisation), or the caller passes
``fields``.
"""

from django.db.models import Q

from core import roles
from core.exceptions import PermissionDenied


def sees_everything(user):
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.has_role(*roles.OFFICIAL_ROLES):
        return True
    return bool(
        user.has_role(roles.API_CLIENT)
        and user.organization_id
        and user.organization.kind == "agency"
    )


def _own_records(user):
    return (
        user.is_authenticated
        and user.is_active
        and user.organization_id is not None
        and user.has_role(roles.OPERATOR_STAFF, roles.API_CLIENT)
    )


def scope_queryset(queryset, user, fields=None):
    """Narrow ``queryset`` to the records ``user`` may see."""
    if sees_everything(user):
        return queryset
    if not user or not _own_records(user):
        return queryset.none()
    fields = fields or getattr(queryset.model, "scope_field", None)
    if not fields:
        return queryset.none()
    if isinstance(fields, str):
        fields = (fields,)
    condition = Q()
    for field in fields:
        condition |= Q(**{field: user.organization_id})
    return queryset.filter(condition)


def can_access(user, obj, fields=None):
    model = type(obj)
    return scope_queryset(model._default_manager.filter(pk=obj.pk), user, fields).exists()


def ensure_in_scope(user, obj, fields=None):
    """Raise PermissionDenied unless ``user`` may see ``obj``.

    Services call it after a write, inside the same transaction, so that a save that would move a
    record out of the user's own organisation rolls back.
    """
    if not can_access(user, obj, fields):
        raise PermissionDenied()
