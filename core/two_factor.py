"""Two-factor sign-in (TOTP with django-otp) and the session policy: the rules, in one place.

Officials and administrators must confirm a TOTP device (when REQUIRE_2FA_FOR_OFFICIALS is on);
operators may enable one, and once they have a confirmed device it is asked for at each log-in.
A confirmed device comes with ten one-time recovery codes (django_otp.plugins.otp_static).
"""

import secrets
import time

import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user, match_token, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import roles

RECOVERY_CODE_COUNT = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"
LAST_ACTIVITY_KEY = "_last_activity"
SIGNED_IN_KEY = "_signed_in_at"
OFFICIAL_KEY = "_official"
ENROLLED_KEY = "_2fa_enrolled"


class TwoFactorError(Exception):
    pass


def is_official(user):
    """Officials, administrators and staff (the Django admin) sign in with a second factor."""
    return bool(
        user.is_authenticated
        and (user.is_staff or user.is_superuser or user.has_role(*roles.OFFICIAL_ROLES))
    )


def two_factor_required(request):
    """Whether the signed-in user must pass the code step before using the portal. Read from the
    session (set at log-in, ``on_login``), so a page pays no query for it."""
    user = request.user
    if not user.is_authenticated:
        return False
    flags = _session_flags(request)
    if settings.REQUIRE_2FA_FOR_OFFICIALS and flags[OFFICIAL_KEY]:
        return True
    return flags[ENROLLED_KEY]


def _session_flags(request):
    session = request.session
    if session.session_key is None:
        # Signed in without a session (an API client's token): nothing to remember, and writing
        # would create a session row per call.
        return {
            OFFICIAL_KEY: is_official(request.user),
            ENROLLED_KEY: user_has_device(request.user, confirmed=True),
        }
    if OFFICIAL_KEY not in session or ENROLLED_KEY not in session:
        session[OFFICIAL_KEY] = is_official(request.user)
        session[ENROLLED_KEY] = user_has_device(request.user, confirmed=True)
    return {OFFICIAL_KEY: session[OFFICIAL_KEY], ENROLLED_KEY: session[ENROLLED_KEY]}


def on_login(sender, request, user, **kwargs):
    """user_logged_in: note when the session began and what the user's sign-in needs."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[SIGNED_IN_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now
    request.session[OFFICIAL_KEY] = official = is_official(user)
    request.session[ENROLLED_KEY] = user_has_device(user, confirmed=True)
    if official:
        # Officials' cookies end with the browser; set here so no page has to save the session.
        request.session.set_expiry(0)


def pending_device(user):
    """The user's unconfirmed authenticator, created on first call (the set-up page shows it)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device):
    """The otpauth:// URL of the device as an inline SVG (drawn here: no external service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2)


@transaction.atomic
def confirm_device(request, device, token):
    """Confirm the authenticator with a code it shows, mark the session verified, and issue the
    recovery codes (returned once, stored only as one-time tokens)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user)
    if not token or not device.verify_token(str(token).strip()):
        raise TwoFactorError(_("The code is not valid. Enter the current six-digit code."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    codes = issue_recovery_codes(request.user)
    otp_login(request, device)
    request.session[ENROLLED_KEY] = True
    return codes


@transaction.atomic
def issue_recovery_codes(user):
    """Replace the user's recovery codes with ten new ones and return them."""
    static, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    static.token_set.all().delete()
    codes = [secrets.token_hex(5) for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=c) for c in codes)
    return codes


def verify(request, token):
    """Check a code from the authenticator or a recovery code (used up by this check)."""
    token = str(token or "").strip().replace(" ", "")
    device = match_token(request.user, token) if token else None
    if device is None:
        raise TwoFactorError(_("The code is not valid. Enter the current code or a recovery code."))
    otp_login(request, device)
    return device


def has_confirmed_device(user):
    return any(isinstance(d, TOTPDevice) for d in devices_for_user(user, confirmed=True))


# --- Session policy --------------------------------------------------------------------------


def session_expired(request, now=None):
    """True when an official's session has been idle too long or lasted too long; otherwise the
    activity is recorded. Officials' cookies also end with the browser."""
    session = request.session
    if session.session_key is None:
        return False  # an API client's token: no browser session to expire
    now = int(now if now is not None else time.time())
    official = _session_flags(request)[OFFICIAL_KEY]
    signed_in = session.setdefault(SIGNED_IN_KEY, now)
    last = session.get(LAST_ACTIVITY_KEY, now)
    if official:
        if now - last > settings.SESSION_OFFICIAL_IDLE:
            return True
        if now - signed_in > settings.SESSION_OFFICIAL_AGE:
            return True
        if session.get_expire_at_browser_close() is False:
            session.set_expiry(0)
    elif now - signed_in > settings.SESSION_COOKIE_AGE:
        return True
    # Written at most once a minute, so a busy page does not save its session on every request.
    if now - last >= 60 or LAST_ACTIVITY_KEY not in session:
        session[LAST_ACTIVITY_KEY] = now
    return False
