"""Writes of sync: API clients and tokens (administrators), webhooks (a client for itself)."""

import re
import secrets

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roles
from core.exceptions import DomainError, InvalidInput, PermissionDenied
from core.history import acting_as
from sync.models import ApiClient, ApiToken, Webhook, WebhookDelivery


def _is_admin(user):
    return bool(
        user and user.is_authenticated and (user.is_superuser or user.has_role(roles.ADMINISTRATOR))
    )


def _check(obj, exclude=()):
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


def service_username(name):
    """The username of the service account of the client called ``name``."""
    return f"api:{name}"[:150]


def name_in_use(name, username=None):
    """Whether a new client may not be called ``name`` (a client or a user has it already)."""
    from core.models import User

    return (
        ApiClient.objects.filter(name=name).exists()
        or User.objects.filter(username=username or service_username(name)).exists()
    )


def scope_names():
    """The names a scope may be given for: every first URL segment after /api/v1/ (stations,
    public-sites, assets, cable-segments, permit-applications …) and every synced resource, sorted."""
    from django.urls import URLResolver, get_resolver

    import sync

    names = set(sync.resources())

    def walk(patterns, prefix):
        for pattern in patterns:
            route = prefix + str(pattern.pattern).lstrip("^").replace("\\", "")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("api/v1/"):
                segment = re.split(r"[/.($?]", route[len("api/v1/") :], maxsplit=1)[0]
                if segment and re.fullmatch(r"[a-z0-9-]+", segment):
                    names.add(segment)

    walk(get_resolver().url_patterns, "")
    return sorted(names)


def unknown_scope_names(scopes):
    """The keys of ``scopes`` that name no resource of the API ("*" stands for all of them)."""
    if not isinstance(scopes, dict):
        return []
    known = set(scope_names()) | {"*"}
    return sorted(k for k in scopes if k not in known)


def _check_scope_names(scopes):
    unknown = unknown_scope_names(scopes)
    if unknown:
        raise InvalidInput(
            {
                "scopes": [
                    _("Unknown resource(s): %(names)s. Known: %(known)s, or * for all.")
                    % {"names": ", ".join(unknown), "known": ", ".join(scope_names())}
                ]
            }
        )


@transaction.atomic
def create_client(
    admin,
    *,
    name,
    organization,
    scopes=None,
    allowed_networks=(),
    expires_at=None,
    throttle_rate="",
    username=None,
):
    """A new API client with its service account and a first token; returns (client, raw token).
    The raw token is not stored: show it once."""
    from core.models import User

    if admin is not None and not _is_admin(admin):
        raise PermissionDenied()
    username = username or service_username(name)
    if name_in_use(name, username):
        raise InvalidInput({"name": [_("An API client with this name exists.")]})
    _check_scope_names(scopes)
    with acting_as(admin, action="sync.create_client"):
        user = User(username=username, organization=organization, first_name=name[:150])
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get_or_create(name=roles.API_CLIENT)[0])
        client = ApiClient(
            name=name,
            organization=organization,
            user=user,
            scopes=scopes or {},
            allowed_networks=list(allowed_networks or []),
            expires_at=expires_at,
            throttle_rate=throttle_rate or "",
            created_by=admin if admin is not None and admin.pk else None,
        )
        _check(client, exclude=["user", "created_by"])
        client.save()
        _token, raw = ApiToken.issue(client, expires_at=expires_at)
    return client, raw


@transaction.atomic
def save_client(admin, client):
    """Save an administrator's edit of a client (scopes, networks, expiry, rate, active); the
    service account follows the client's organisation and active state."""
    if admin is not None and not _is_admin(admin):
        raise PermissionDenied()
    _check_scope_names(client.scopes)
    _check(client, exclude=["user", "created_by"])
    with acting_as(admin, action="sync.save_client"):
        client.save()
        user = client.user
        user.organization = client.organization
        user.is_active = client.is_active
        user.save(update_fields=["organization", "is_active"])
    return client


@transaction.atomic
def issue_token(admin, client, expires_at=None, revoke_others=False):
    """A new token for ``client`` (a rotation when ``revoke_others``); returns the raw token."""
    if admin is not None and not _is_admin(admin):
        raise PermissionDenied()
    if revoke_others:
        client.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    _token, raw = ApiToken.issue(client, expires_at=expires_at or client.expires_at)
    return raw


@transaction.atomic
def revoke_tokens(admin, client):
    """Revoke every token of ``client`` still valid; returns how many."""
    if admin is not None and not _is_admin(admin):
        raise PermissionDenied()
    return client.tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@transaction.atomic
def revoke_token(admin, token):
    if admin is not None and not _is_admin(admin):
        raise PermissionDenied()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Webhooks --------------------------------------------------------------------------------------


def _webhook_owner(user, client):
    from sync.auth import client_of

    if _is_admin(user):
        return
    own = client_of(user)
    if own is None or own.pk != client.pk:
        raise PermissionDenied()


def check_webhook_types(client, types):
    """InvalidInput unless every type is a synced resource that ``client`` may read."""
    import sync

    unknown = [t for t in types if t not in sync.resources()]
    if unknown:
        raise InvalidInput({"types": [_("Unknown type(s): %(t)s.") % {"t": ", ".join(unknown)}]})
    not_readable = [t for t in types if not client.may(t, "read")]
    if not_readable:
        raise InvalidInput(
            {"types": [_("The client may not read: %(t)s.") % {"t": ", ".join(not_readable)}]}
        )


def check_webhook_url(url):
    """InvalidInput on ``url`` unless it is http(s) and its host resolves only to public addresses
    (or to WEBHOOK_ALLOWED_PRIVATE_NETWORKS): sync.webhooks.check_target, also run before
    each delivery."""
    from sync.webhooks import UnsafeTarget, check_target

    try:
        check_target(url)
    except UnsafeTarget as exc:
        raise InvalidInput({"url": [str(exc)]}) from exc


@transaction.atomic
def save_webhook(user, client, webhook=None, *, url, types=(), is_active=True):
    """Register (or change) a webhook of ``client``: the client itself or an administrator.
    A new webhook starts at the feed's head (it is told of changes from now on); returns it with
    ``secret`` (shown to the caller to check signatures)."""
    from sync.feed import head_seq

    _webhook_owner(user, client)
    check_webhook_types(client, types)
    if webhook is None:
        webhook = Webhook(client=client)
    stored = Webhook.objects.filter(pk=webhook.pk).values("url", "is_active").first()
    # The target is checked when it is new, changed or switched on (switching off always works).
    if stored is None or stored["url"] != url or (is_active and not stored["is_active"]):
        check_webhook_url(url)
    if webhook.pk is None:  # new (the admin passes its unsaved form instance)
        webhook.client = client
        webhook.secret = secrets.token_hex(32)
        webhook.after_seq = head_seq()
    webhook.url = url
    webhook.types = sorted(set(types))
    webhook.is_active = is_active
    _check(webhook, exclude=["client"])
    with acting_as(user, action="sync.save_webhook"):
        webhook.save()
    return webhook


@transaction.atomic
def delete_webhook(user, webhook):
    _webhook_owner(user, webhook.client)
    with acting_as(user, action="sync.delete_webhook"):
        webhook.delete()


class WebhookInactive(DomainError):
    status_code = 409
    code = "webhook_inactive"
    default_message = _("This webhook is switched off: switch it on before re-sending.")


@transaction.atomic
def resend_delivery(user, delivery, queue=None):
    """Send a delivery again from its first attempt (a failed one, or one the subscriber lost):
    an administrator or the webhook's own client. The task is queued after the commit."""
    from sync.webhooks import queue_delivery

    delivery = (
        WebhookDelivery.objects.select_for_update(of=("self",))
        .select_related("webhook__client")
        .get(pk=delivery.pk)
    )
    _webhook_owner(user, delivery.webhook.client)
    if not delivery.webhook.is_active:
        raise WebhookInactive()
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.response_status = None
    delivery.error = ""
    delivery.delivered_at = None
    delivery.next_attempt_at = timezone.now()
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "response_status",
            "error",
            "delivered_at",
            "next_attempt_at",
            "updated_at",
        ]
    )
    transaction.on_commit(lambda: queue_delivery(delivery.pk, queue=queue))
    return delivery


# --- Records another organisation owns --------------------------------------------------------------


class SourceNotOwned(PermissionDenied):
    code = "source_not_owned"
    default_message = _(
        "A client writes only the records of its own source (its organisation's code)."
    )


def may_use_source(user, source):
    """The one rule of source keys, whatever the door (form, session API, token API, bulk, import):
    a token client, and anyone acting for an operator, writes only records of its own
    organisation's source (its code); city officials and administrators, who keep the registers,
    may use any source."""
    from core.permissions import is_city_official
    from sync.auth import client_of

    client = client_of(user)
    if client is not None:
        return source == client.organization.code
    if is_city_official(user):
        return True
    if not (user and user.is_authenticated and user.organization_id):
        return False
    return source == user.organization.code


def source_refusal(user, source):
    """The message refusing ``source`` to ``user`` (None when the user may use it)."""
    if may_use_source(user, source):
        return None
    from sync.auth import client_of

    client = client_of(user)
    own = client.organization.code if client is not None else getattr(user.organization, "code", "")
    if client is not None:
        return _("This client writes only records of source “%(own)s”, not “%(source)s”.") % {
            "own": own,
            "source": source,
        }
    return _("You may use only your organisation's source “%(own)s”, not “%(source)s”.") % {
        "own": own,
        "source": source,
    }


def ensure_source_owned(user, source):
    """Raise SourceNotOwned (403 ``source_not_owned``) unless ``user`` may write records of
    ``source`` (``may_use_source``): the by-source URLs and bulk batches ask it first."""
    message = source_refusal(user, source)
    if message is not None:
        raise SourceNotOwned(message)


def check_source_key(user, record):
    """In a service, before saving ``record`` (any model with source and external_id): when its
    (source, external_id) is new or changed, the user must own the source it takes and the one it
    leaves, so nobody moves a record into (or out of) another organisation's keys and breaks that
    organisation's upserts. A field error on ``source`` otherwise; ``user`` None (another service
    acting for the system) is not checked."""
    if user is None:
        return
    stored = None
    if record.pk:
        stored = (
            type(record)
            ._default_manager.filter(pk=record.pk)
            .values_list("source", "external_id")
            .first()
        )
    before = stored or ("", "")
    after = (record.source or "", record.external_id or "")
    if after == before:
        return
    for source in dict.fromkeys(s for s in (after[0], before[0]) if s):
        message = source_refusal(user, source)
        if message is not None:
            raise InvalidInput({"source": [message]})
