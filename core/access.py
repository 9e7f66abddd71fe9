"""Who may open a page at all: a signed-in account needs a portal role (core.roles).

The rule lives here, once, for every HTML page: ``RoleRequiredMiddleware`` answers a signed-in user
who holds no role with the "your account has no role yet" page (403), whatever the page, except the
few a new account needs (marked ``role_not_required``: the home page, which shows the same notice,
their own notifications, the two-factor and log-out pages) and the public ones (marked
``login_not_required``). The API has the same rule in its default permission class
(core.permissions.HasPortalRole, 403 JSON). What a role may then see or do is the selectors' and
services' business (core.scoping and each app's services).

The Django admin guards itself (``is_staff`` and model permissions) and is left to it.
"""

from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

NO_ROLE_TEMPLATE = "core/no_role.html"


def role_not_required(view):
    """Mark a view (function, or the result of ``as_view()``) as open to a signed-in user without
    a role. A class-based view may instead set ``role_required = False``."""
    view.role_required = False
    return view


def has_portal_role(user):
    return bool(user and user.is_authenticated and user.is_active and user.role_names)


def view_requires_role(view_func):
    if not getattr(view_func, "login_required", True):
        return False  # public: open to everyone, signed in or not
    if not getattr(view_func, "role_required", True):
        return False
    view_class = getattr(view_func, "view_class", None)
    return getattr(view_class, "role_required", True)


def no_role_response(request, status=403):
    """The page that tells a signed-in user their account has no role yet."""
    return render(
        request,
        NO_ROLE_TEMPLATE,
        {"title": _("Your account has no role yet"), "denied": status == 403},
        status=status,
    )


class RoleRequiredMiddleware:
    """A signed-in user without a portal role reaches only the pages marked ``role_not_required``
    (or public); every other page answers the no-role page with 403. After the log-in middleware
    (anonymous visitors are sent to the log-in page first). /api/ answers for itself (DRF)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or has_portal_role(user):
            return None
        if request.path_info.startswith("/api/"):
            return None  # DRF: HasPortalRole answers 403 JSON
        match = getattr(request, "resolver_match", None)
        if match is not None and "admin" in match.namespaces:
            return None  # the admin's own guard (is_staff, model permissions)
        if not view_requires_role(view_func):
            return None
        return no_role_response(request)
