"""API clients at the door: bearer tokens (stored hashed), expiry, allowed networks, scopes per
resource and a rate limit per client (DRF throttle on the Redis cache).

Every refusal names a machine-readable ``code`` (core.api.exceptions adds it to the body):
``token_invalid``/``token_expired``/``client_disabled`` (401; no credentials at all:
DRF's ``not_authenticated``), ``network_not_allowed``/``scope_missing`` (403), ``throttled`` (429).

The scope is checked twice on purpose: by ``HasScope`` (a default permission class) and again when
the token is authenticated, so a view that sets its own ``permission_classes`` cannot open a
resource to a client without the scope.
"""

import ipaddress
import logging
import time
from datetime import timedelta

import pghistory
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.throttling import SimpleRateThrottle

from sync.models import ApiToken, digest

log = logging.getLogger("hanoi_infra.throttle")
_FAIL_OPEN_LOGGED = {"at": 0.0}

KEYWORDS = (b"bearer", b"token")
USED_EVERY = timedelta(minutes=1)  # last use is written at most once a minute per token
DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """'600/minute' -> (600, 60)."""
    count, _sep, period = str(rate).partition("/")
    if not count.strip().isdigit() or not period or period.strip()[0] not in DURATIONS:
        raise ValueError(rate)
    return int(count), DURATIONS[period.strip()[0]]


def client_address(request):
    """The caller's address: REMOTE_ADDR, or, behind SYNC_TRUSTED_PROXY_COUNT trusted proxies, the
    X-Forwarded-For hop the outermost trusted proxy saw (the N-th from the right). X-Forwarded-For
    is ignored when no proxy is trusted. "" when the address is not an IP address."""
    hops = settings.SYNC_TRUSTED_PROXY_COUNT
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [a.strip() for a in forwarded.split(",") if a.strip()]
        if len(chain) >= hops:
            address = chain[-hops]
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return ""


def scope_name(path):
    """The resource a path belongs to: /api/v1/stations/by-source/… -> "stations"."""
    rest = path.split("/api/v1/", 1)[1] if "/api/v1/" in path else ""
    return rest.split("/", 1)[0]


def client_of(user):
    """The ApiClient a request was authenticated for by token (None for a browser session)."""
    return getattr(user, "sync_client", None)


# Reference data and the feed itself are open to every client (the feed gives only the types it
# may read).
SCOPE_FREE = frozenset({"", "organizations", "units", "changes", "downloads"})


def check_scope(client, request):
    """Refuse (403 ``scope_missing``) a request ``client`` has no scope for: the read scope of the
    resource for GET, HEAD and OPTIONS, its write scope for anything else."""
    resource = scope_name(request.path_info)
    if resource in SCOPE_FREE:
        return
    need = "read" if request.method in SAFE_METHODS else "write"
    if not client.may(resource, need):
        raise exceptions.PermissionDenied(
            _("This client has no %(need)s scope on %(resource)s.")
            % {"need": need, "resource": resource},
            code="scope_missing",
        )


class ApiTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer hik_…`` (``Token hik_…`` is accepted too)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as: Authorization: Bearer <token>."), code="token_invalid"
            )
        try:
            raw = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                _("Invalid token."), code="token_invalid"
            ) from None
        return self.authenticate_token(request, raw)

    def authenticate_token(self, request, raw):
        token = (
            ApiToken.objects.select_related("client__user", "client__organization")
            .filter(digest=digest(raw))
            .first()
        )
        if token is None or token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("Invalid token."), code="token_invalid")
        client = token.client
        now = timezone.now()
        if token.expired(now):
            raise exceptions.AuthenticationFailed(
                _("This token has expired. Ask the portal's administrators for a new one."),
                code="token_expired",
            )
        user = client.user
        if not client.is_active or not user.is_active:
            raise exceptions.AuthenticationFailed(
                _("This API client is disabled."), code="client_disabled"
            )
        address = client_address(request)
        if not client.network_allowed(address):
            raise exceptions.PermissionDenied(
                _("Calls from %(address)s are not allowed for this client.")
                % {"address": address or _("an unknown address")},
                code="network_not_allowed",
            )
        if token.last_used_at is None or token.last_used_at < now - USED_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            type(client).objects.filter(pk=client.pk).update(
                last_used_at=now, last_used_ip=address or None
            )
        check_scope(client, request)
        user.sync_client = client
        user.organization = client.organization
        # Every write of this request is recorded in the history with the client's identity, even
        # by a service that does not call core.history.acting_as (a no-op outside a request's
        # pghistory context).
        pghistory.context(user=user.pk, api_client=client.name, api_client_id=str(client.public_id))
        return user, token

    def authenticate_header(self, request):
        return self.keyword


class HasScope(BasePermission):
    """A token's client needs the resource's read scope to read and its write scope to write.

    The resource is the URL's first segment after /api/v1/ (``stations``, ``permit-applications``
    …), the same names as the change feed's types; reference data and the feed itself
    (``SCOPE_FREE``) are open to every client (the feed gives only the types it may read)."""

    SCOPE_FREE = SCOPE_FREE

    def has_permission(self, request, view):
        client = client_of(request.user)
        if client is not None:
            check_scope(client, request)
        return True


class ApiClientThrottle(SimpleRateThrottle):
    """Requests per client (by token), counted in the Redis cache; browser sessions are not
    throttled here."""

    scope = "api_client"

    def allow_request(self, request, view):
        client = client_of(request.user)
        if client is None:
            return True
        self.rate = client.throttle_rate or settings.SYNC_CLIENT_RATE
        self.num_requests, self.duration = parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache (Redis) is down or frozen: let the request in
            now = time.monotonic()
            if now - _FAIL_OPEN_LOGGED["at"] >= 30 or not _FAIL_OPEN_LOGGED["at"]:
                _FAIL_OPEN_LOGGED["at"] = now
                log.warning("API throttle unavailable (%s); requests are not limited", exc)
            self.history = []
            return True

    def get_rate(self):
        return settings.SYNC_CLIENT_RATE

    def get_cache_key(self, request, view):
        client = client_of(request.user)
        # By public id, not pk: the Redis cache is shared by every instance (and test database).
        return f"throttle_api_client_{client.public_id}" if client else None

    def parse_rate(self, rate):
        return parse_rate(rate) if rate else (None, None)
