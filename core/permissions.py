from rest_framework.permissions import BasePermission


class HasPortalRole(BasePermission):
    """Authenticated, active users holding at least one portal role may use the API."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.role_names)


def is_city_official(user):
    """City officials and administrators: they maintain registers and decide for the city."""
    from core import roles

    return bool(
        user
        and user.is_authenticated
        and (user.is_superuser or user.has_role(roles.CITY_OFFICIAL, roles.ADMINISTRATOR))
    )


def acts_for(user, organization):
    """Staff (or an API client) of ``organization`` acting for it."""
    from core import roles

    org_id = getattr(organization, "pk", organization)
    return bool(
        user
        and user.is_authenticated
        and org_id is not None
        and user.organization_id == org_id
        and user.has_role(roles.OPERATOR_STAFF, roles.API_CLIENT)
    )


def is_operator_user(user):
    """Staff (or an API client) of a telecom operator, acting for it."""
    return bool(
        user
        and user.is_authenticated
        and user.organization_id
        and user.organization.kind == "operator"
        and acts_for(user, user.organization_id)
    )
