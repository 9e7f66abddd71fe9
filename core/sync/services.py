"""Writes of core.sync: API clients and tokens (administrators), webhooks (a client for itself)."""

import secrets

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core import roles
from core.exceptions import InvalidInput, PermissionDenied
from core.history import acting_as
from core.sync.models import ApiClient, ApiToken, Webhook


def _is_admin(user):
    return bool(
        user and user.is_authenticated and (user.is_superuser or user.has_role(roles.ADMINISTRATOR))
    )


def _check(obj, exclude=()):
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        raise InvalidInput(exc.message_dict) from exc


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
    username = username or f"api:{name}"[:150]
    if (
        User.objects.filter(username=username).exists()
        or ApiClient.objects.filter(name=name).exists()
    ):
        raise InvalidInput({"name": [_("An API client with this name exists.")]})
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
def revoke_token(admin, token):
    if admin is not None and not _is_admin(admin):
        raise PermissionDenied()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Webhooks --------------------------------------------------------------------------------------


def _webhook_owner(user, client):
    from core.sync.auth import client_of

    if _is_admin(user):
        return
    own = client_of(user)
    if own is None or own.pk != client.pk:
        raise PermissionDenied()


@transaction.atomic
def save_webhook(user, client, webhook=None, *, url, types=(), is_active=True):
    """Register (or change) a webhook of ``client``: the client itself or an administrator.
    A new webhook starts at the feed's head (it is told of changes from now on); returns it with
    ``secret`` (shown to the caller to check signatures)."""
    from core import sync
    from core.sync.feed import head_seq

    _webhook_owner(user, client)
    unknown = [t for t in types if t not in sync.resources()]
    if unknown:
        raise InvalidInput({"types": [_("Unknown type(s): %(t)s.") % {"t": ", ".join(unknown)}]})
    not_readable = [t for t in types if not client.may(t, "read")]
    if not_readable:
        raise InvalidInput(
            {"types": [_("The client may not read: %(t)s.") % {"t": ", ".join(not_readable)}]}
        )
    if webhook is None:
        webhook = Webhook(client=client, secret=secrets.token_hex(32), after_seq=head_seq())
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
