"""Sign-in pages beyond the password: setting up and checking the second factor (core.two_factor)."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from core import two_factor

RECOVERY_SESSION_KEY = "_recovery_codes_once"


def _next_url(request):
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def _to(name, request):
    return redirect(f"{reverse(name)}?{urlencode({'next': _next_url(request)})}")


@never_cache
@sensitive_post_parameters("token")
def two_factor_setup(request):
    """Show the authenticator's QR code (inline SVG) and key; confirm it with a code."""
    if two_factor.has_confirmed_device(request.user) and not request.user.is_verified():
        return _to("core:two-factor-verify", request)
    device = two_factor.pending_device(request.user)
    error = None
    if request.method == "POST":
        try:
            codes = two_factor.confirm_device(request, device, request.POST.get("token"))
        except two_factor.TwoFactorError as exc:
            error = str(exc)
        else:
            request.session[RECOVERY_SESSION_KEY] = codes
            return _to("core:two-factor-recovery-codes", request)
    return render(
        request,
        "core/two_factor_2fa_setup.html",
        {
            "qr_svg": two_factor.qr_svg(device),
            "secret": device.bin_key and _b32(device.bin_key),
            "error": error,
            "next": _next_url(request),
        },
        status=400 if error else 200,
    )


def _b32(key):
    from base64 import b32encode

    return b32encode(key).decode().rstrip("=")


@never_cache
@sensitive_post_parameters("token")
def two_factor_verify(request):
    """The code step of a log-in: a code from the authenticator or a recovery code."""
    if not two_factor.has_confirmed_device(request.user) and not two_factor.user_has_device(
        request.user, confirmed=True
    ):
        return _to("core:two-factor-setup", request)
    error = None
    if request.method == "POST":
        try:
            two_factor.verify(request, request.POST.get("token"))
        except two_factor.TwoFactorError as exc:
            error = str(exc)
        else:
            return redirect(_next_url(request))
    return render(
        request,
        "core/two_factor_2fa_verify.html",
        {"error": error, "next": _next_url(request)},
        status=400 if error else 200,
    )


@never_cache
def two_factor_recovery_codes(request):
    """The recovery codes, shown once right after the device is confirmed."""
    codes = request.session.pop(RECOVERY_SESSION_KEY, None)
    if not codes:
        return redirect(_next_url(request))
    return render(
        request,
        "core/two_factor_2fa_recovery_codes.html",
        {"codes": codes, "next": _next_url(request)},
    )


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' lock-out answer: the log-in page's layout with a clear message (429)."""
    cool_off = settings.AXES_COOLOFF_TIME
    return render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
        },
        status=429,
    )
