"""The scoping rule as a matrix: each role against its own organisation's and another's records.

Users are the scoped records here (scope_field = "organization"); every later app's selectors and
viewsets call the same function with their own field.
"""

import pytest

from core.exceptions import PermissionDenied
from core.models import User
from core.scoping import can_access, ensure_in_scope, scope_queryset, sees_everything

pytestmark = pytest.mark.django_db

# role -> (sees a Viettel record, sees a MobiFone record, sees everything)
MATRIX = {
    "city_official": (True, True, True),
    "national_official": (True, True, True),
    "administrator": (True, True, True),
    "agency_api_client": (True, True, True),
    "operator_viettel": (True, False, False),
    "operator_mobifone": (False, True, False),
    "operator_api_client": (False, False, False),  # a VNPT system: neither Viettel's nor MobiFone's
    "no_role": (False, False, False),
}


@pytest.fixture
def records(make_user):
    return {"viettel": make_user(None, "VIETTEL"), "mobifone": make_user(None, "MOBIFONE")}


@pytest.mark.parametrize("role", MATRIX)
def test_scope_matrix(role, role_user, records):
    user = role_user(role)
    sees_viettel, sees_mobifone, sees_all = MATRIX[role]
    visible = scope_queryset(User.objects.all(), user)
    assert (records["viettel"] in visible) is sees_viettel
    assert (records["mobifone"] in visible) is sees_mobifone
    assert sees_everything(user) is sees_all
    assert can_access(user, records["viettel"]) is sees_viettel
    if sees_viettel:
        ensure_in_scope(user, records["viettel"])
    else:
        with pytest.raises(PermissionDenied):
            ensure_in_scope(user, records["viettel"])


def test_anonymous_and_inactive_users_see_nothing(role_user, records):
    from django.contrib.auth.models import AnonymousUser

    assert not scope_queryset(User.objects.all(), AnonymousUser()).exists()
    assert not scope_queryset(User.objects.all(), None).exists()
    official = role_user("city_official")
    official.is_active = False
    official.save()
    official = User.objects.get(pk=official.pk)
    assert not scope_queryset(User.objects.all(), official).exists()


def test_operator_without_organisation_sees_nothing(make_user, records):
    user = make_user("operator_staff", None)
    assert not scope_queryset(User.objects.all(), user).exists()


def test_several_scope_fields_are_ored(role_user, records):
    """A record tied to two organisations (e.g. a sharing request) is visible to both."""
    viettel_staff = role_user("operator_viettel")
    qs = scope_queryset(
        User.objects.all(), viettel_staff, fields=("organization", "organization__successor")
    )
    assert records["viettel"] in qs and records["mobifone"] not in qs
