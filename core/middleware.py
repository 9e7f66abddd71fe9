from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a log-in except those marked ``login_not_required``.

    The API (/api/) answers for itself with 401/403 through DRF's authentication, never a redirect.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class VietnameseFirstMiddleware:
    """Pages speak Vietnamese unless the user chose English (the language switch's cookie): what a
    browser sends in Accept-Language is its installer's choice, not the official's, and a portal of
    Hanoi's administration opens in Vietnamese on a first visit whatever the machine. The API keeps
    Accept-Language: a client system asks for the language of its messages. Before LocaleMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class SessionPolicyMiddleware:
    """Officials' and administrators' sessions end after SESSION_OFFICIAL_IDLE idle seconds and
    SESSION_OFFICIAL_AGE seconds after signing in (and with the browser); others' after
    SESSION_COOKIE_AGE. The rule lives in core.two_factor.session_expired."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.utils.translation import gettext as _

        from core.two_factor import session_expired

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and session_expired(request):
            logout(request)
            messages.info(request, _("Your session has expired. Please log in again."))
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """A user who must sign in with a second factor (core.two_factor.two_factor_required) and whose
    session is not verified yet reaches only the log-in, two-factor and log-out pages (and static
    files); the Django admin is covered too. The API answers 403 JSON to such a session."""

    ALLOWED_PREFIXES = ("/login/", "/logout/", "/account/2fa/", "/static/", "/i18n/", "/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.http import JsonResponse
        from django.shortcuts import redirect
        from django.utils.http import urlencode
        from django.utils.translation import gettext as _

        from core.two_factor import has_confirmed_device, two_factor_required

        user = getattr(request, "user", None)
        path = request.path_info
        if (
            user is None
            or not user.is_authenticated
            or path.startswith(self.ALLOWED_PREFIXES)
            or user.is_verified()
            or not two_factor_required(request)
        ):
            return self.get_response(request)
        if path.startswith("/api/"):
            return JsonResponse(
                {
                    "code": "two_factor_required",
                    "detail": _("Complete the two-factor sign-in in the browser first."),
                },
                status=403,
            )
        name = "core:two-factor-verify" if has_confirmed_device(user) else "core:two-factor-setup"
        from django.urls import reverse

        return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


class SecurityHeadersMiddleware:
    """Headers every response carries beyond SecurityMiddleware's and django-csp's:

    - ``Permissions-Policy`` (settings.PERMISSIONS_POLICY): no camera, microphone, geolocation,
      payment … for any page (the maps do not locate the user).
    - ``Cache-Control: private, no-store`` on every response to a signed-in user and on every /api/
      response, so no shared cache or back-button store keeps private records. Static files and
      /healthz keep theirs (CACHE_PUBLIC_PREFIXES); so do anonymous pages (the log-in page has its
      own never_cache). Directives a view set (ETag, must-revalidate …) stay; "public" and any
      max-age give way. It sits outside ConditionalGetMiddleware, so ETags and 304 answers work as
      before.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        if self.is_private(request):
            from django.utils.cache import patch_cache_control

            if "Cache-Control" in response:
                # "public" and a lifetime make no sense for a private answer.
                from django.utils.cache import cc_delim_re

                kept = [
                    d
                    for d in cc_delim_re.split(response["Cache-Control"])
                    if d.strip()
                    and d.split("=")[0].strip().lower() not in ("public", "max-age", "s-maxage")
                ]
                response["Cache-Control"] = ", ".join(kept)
                if not kept:
                    del response["Cache-Control"]
            patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def is_private(request):
        from django.conf import settings

        path = request.path_info
        if path.startswith(tuple(getattr(settings, "CACHE_PUBLIC_PREFIXES", ()))):
            return False
        if path.startswith("/api/"):
            return True
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated)
