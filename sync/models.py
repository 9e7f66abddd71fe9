"""Models of machine-to-machine sync: API clients and their hashed tokens, the change feed, replayed
POSTs (Idempotency-Key), webhooks and their deliveries, the nightly public downloads and the state of
``sync_pull``. Their tables keep the names they had when they belonged to the core app
(``core_…``): the move to this app changed no table."""

import hashlib
import ipaddress
import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import BaseModel, Organization
from core.text import validate_identifier

TOKEN_PREFIX = "hik_"

READ, WRITE = "read", "write"
SCOPE_LEVELS = {READ: 1, WRITE: 2}


def digest(raw_token):
    """How a token is stored: its SHA-256 (tokens are 256-bit random, so a fast hash is enough)."""
    return hashlib.sha256(raw_token.encode()).hexdigest()


def validate_networks(values):
    bad = []
    for value in values or []:
        try:
            ipaddress.ip_network(str(value).strip(), strict=False)
        except ValueError:
            bad.append(str(value))
    if bad:
        raise ValidationError(
            _("Not a network address (use 203.0.113.0/24 or 2001:db8::/32): %(v)s")
            % {"v": ", ".join(bad)}
        )


def validate_scopes(value):
    if not isinstance(value, dict):
        raise ValidationError(_('Scopes are an object: {"stations": "write", "assets": "read"}.'))
    bad = [f"{k}: {v}" for k, v in value.items() if v not in SCOPE_LEVELS]
    if bad:
        raise ValidationError(_("A scope is read or write: %(v)s") % {"v": ", ".join(bad)})


class ApiClient(BaseModel):
    """Another agency's or an operator's system using the API: the organisation it acts for, what it
    may read and write, where it may call from, until when, and how often."""

    name = models.CharField(_("name"), max_length=128, unique=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="api_clients",
        verbose_name=_("acts for"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client_profile",
        verbose_name=_("service account"),
        editable=False,
    )
    scopes = models.JSONField(
        _("scopes"),
        default=dict,
        blank=True,
        validators=[validate_scopes],
        help_text=_(
            'Per resource, "read" or "write" (write includes read); "*" stands for every '
            'resource, e.g. {"stations": "write", "*": "read"}.'
        ),
    )
    allowed_networks = ArrayField(
        models.CharField(max_length=64),
        verbose_name=_("allowed networks"),
        default=list,
        blank=True,
        validators=[validate_networks],
        help_text=_("Addresses or networks it may call from (empty: anywhere)."),
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    throttle_rate = models.CharField(
        _("rate limit"),
        max_length=32,
        blank=True,
        help_text=_("Requests per second, minute, hour or day, e.g. 600/minute (empty: default)."),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(
        _("last address"), null=True, blank=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
        editable=False,
    )

    class Meta:
        db_table = "core_apiclient"
        ordering = ["name"]
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.throttle_rate:
            from sync.auth import parse_rate

            try:
                parse_rate(self.throttle_rate)
            except ValueError:
                raise ValidationError(
                    {
                        "throttle_rate": _(
                            "Write it as a number, a slash and second, minute, hour or day."
                        )
                    }
                ) from None

    def expired(self, now=None):
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    def level(self, resource):
        """The scope on ``resource``: 0 (none), 1 (read) or 2 (write)."""
        scopes = self.scopes or {}
        return max(
            SCOPE_LEVELS.get(scopes.get(resource)) or 0, SCOPE_LEVELS.get(scopes.get("*")) or 0
        )

    def may(self, resource, need):
        return self.level(resource) >= SCOPE_LEVELS[need]

    def network_allowed(self, address):
        if not self.allowed_networks:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        # An IPv4 caller seen through a dual-stack socket (::ffff:203.0.113.5) is that IPv4 address.
        candidates = [ip, ip.ipv4_mapped] if ip.version == 6 and ip.ipv4_mapped else [ip]
        networks = [ipaddress.ip_network(n.strip(), strict=False) for n in self.allowed_networks]
        return any(a in n for a in candidates for n in networks if a.version == n.version)


class ApiToken(models.Model):
    """A bearer token of a client, stored as its SHA-256: the token itself is shown once."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(_("starts with"), max_length=16, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        db_table = "core_apitoken"
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.prefix}…"

    @classmethod
    def issue(cls, client, expires_at=None):
        """Create a token; returns (token, raw): the raw value exists only in this call."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            client=client, prefix=raw[:12], digest=digest(raw), expires_at=expires_at
        )
        return token, raw

    def expired(self, now=None):
        now = now or timezone.now()
        return (self.expires_at is not None and self.expires_at <= now) or self.client.expired(now)


class Change(models.Model):
    """One create, update or delete of a synced record, in the order the transactions committed.

    Written by database triggers (sync.capture), so bulk writes and imports are in it too.
    ``seq`` is given at commit, under a lock, so it grows in commit order: a reader that saw seq N
    will never later find an event below N (see sync.feed). ``data`` is the record's API
    Feature after the change (null for a delete: a tombstone).
    """

    seq = models.BigIntegerField(null=True, editable=False)
    txid = models.BigIntegerField(editable=False)
    resource = models.CharField(max_length=32)
    object_id = models.BigIntegerField()
    public_id = models.UUIDField()
    action = models.CharField(max_length=8)
    version = models.PositiveIntegerField()
    org_id = models.BigIntegerField(null=True)
    data = models.JSONField(null=True)
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "core_change"
        verbose_name = _("change")
        verbose_name_plural = _("changes")
        constraints = [
            models.UniqueConstraint(
                fields=["seq"], name="change_seq_uniq", condition=Q(seq__isnull=False)
            )
        ]
        indexes = [
            models.Index(
                fields=["txid"], name="change_unsequenced_idx", condition=Q(seq__isnull=True)
            ),
            models.Index(fields=["resource", "object_id", "id"], name="change_object_idx"),
            models.Index(fields=["org_id", "seq"], name="change_org_seq_idx"),
        ]

    def __str__(self):
        return f"{self.seq} {self.resource} {self.public_id} {self.action} v{self.version}"


class ChangeFeedState(models.Model):
    """One row: how far the feed was pruned. A cursor below ``pruned_through`` is refused (410)."""

    pruned_through = models.BigIntegerField(default=0)
    pruned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "core_changefeedstate"

    def __str__(self):
        return f"pruned through {self.pruned_through}"


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an Idempotency-Key, replayed to a retry with the same key."""

    principal = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "core_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name="idempotency_key_uniq")
        ]

    def __str__(self):
        return f"{self.principal} {self.key}"


class Webhook(BaseModel):
    """A subscriber's URL told of changes of the types it chose, signed with HMAC-SHA256."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("API client")
    )
    url = models.URLField(_("URL"), max_length=500)
    types = ArrayField(
        models.CharField(max_length=32),
        verbose_name=_("event types"),
        default=list,
        blank=True,
        help_text=_(
            "Resources whose changes are sent (empty: every resource the client may read)."
        ),
    )
    secret = models.CharField(_("signing secret"), max_length=128, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    after_seq = models.BigIntegerField(
        _("sent up to change"), default=0, help_text=_("The last change already queued.")
    )

    class Meta:
        db_table = "core_webhook"
        ordering = ["client", "url"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return self.url


class WebhookDelivery(BaseModel):
    """One POST of a batch of changes to a webhook, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook")
    )
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    event_count = models.PositiveIntegerField(_("events"))
    payload = models.TextField()
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        db_table = "core_webhookdelivery"
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.webhook} #{self.first_seq}-{self.last_seq}"


class RegisterDownload(models.Model):
    """A full download of a public register (GeoJSON or CSV), built nightly by Celery."""

    class Format(models.TextChoices):
        GEOJSON = "geojson", "GeoJSON"
        CSV = "csv", "CSV"

    resource = models.CharField(_("register"), max_length=32)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    file = models.FileField(_("file"), upload_to="downloads/%Y/%m/")
    built_at = models.DateTimeField(_("built at"), db_index=True)
    rows = models.PositiveIntegerField(_("records"))
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    cursor_seq = models.BigIntegerField(
        default=0, help_text=_("The change feed position the file includes.")
    )

    class Meta:
        db_table = "core_registerdownload"
        ordering = ["-built_at", "-id"]
        verbose_name = _("register download")
        verbose_name_plural = _("register downloads")

    def __str__(self):
        return f"{self.resource}.{self.format} {self.built_at:%Y-%m-%d}"


class SyncSource(models.Model):
    """Another instance whose change feed ``sync_pull`` follows: where it stopped and what it did."""

    url = models.URLField(_("feed URL"), max_length=500, unique=True)
    source = models.CharField(
        _("source name"),
        max_length=64,
        help_text=_("The records it sends are stored with this source and their id there."),
        validators=[validate_identifier],
    )
    cursor = models.TextField(_("cursor"), blank=True)
    applied = models.PositiveBigIntegerField(_("changes applied"), default=0)
    skipped = models.PositiveBigIntegerField(_("changes skipped"), default=0)
    failed = models.PositiveBigIntegerField(_("changes refused"), default=0)
    last_pulled_at = models.DateTimeField(_("last pulled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        db_table = "core_syncsource"
        verbose_name = _("sync source")
        verbose_name_plural = _("sync sources")

    def __str__(self):
        return self.url
