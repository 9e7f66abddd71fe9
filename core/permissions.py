from rest_framework.permissions import BasePermission


class HasPortalRole(BasePermission):
    """Authenticated, active users holding at least one portal role may use the API."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.role_names)
