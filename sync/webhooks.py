"""Webhooks: the change feed pushed to a subscriber's URL, signed, retried, logged.

**Dispatch** (``dispatch``, every 30 s from beat): for each active webhook, the feed is read as its
client's service account (``client.user`` acting for the client, so its scopes and, for an
operator's client, its organisation apply) after ``webhook.after_seq``, for its types (or every type
it may read), at most ``BATCH`` events at a time. Each batch becomes one WebhookDelivery, and
``after_seq`` moves past it in the same transaction, under a row lock on the webhook taken with
SKIP LOCKED: two dispatchers never queue the same span twice, and the span a delivery covers is
never skipped. The delivery task is queued once that transaction has committed.

**Delivery** (``deliver``, a Celery task per delivery): one POST of the payload
``{"webhook": <webhook id>, "delivery": <delivery id>, "events": [<feed events>]}`` with headers

- ``Content-Type: application/json``
- ``X-Hanoi-Webhook``: the webhook's id; ``X-Hanoi-Delivery``: the delivery's id (the same on every
  attempt: a subscriber drops a delivery it has already processed);
- ``X-Hanoi-Timestamp``: the attempt's Unix time;
- ``X-Hanoi-Signature: sha256=<hex>``: HMAC-SHA256 with the webhook's secret (its UTF-8 bytes) of
  ``f"{timestamp}.{body}"``. A subscriber recomputes it over the raw body, compares in constant time
  and refuses old timestamps (replays).

**Targets** (``check_target``): a webhook URL is http(s) and its host resolves (every address
getaddrinfo gives) only to public addresses: not private, loopback, link-local, multicast,
reserved or unspecified, IPv6 and IPv4-mapped IPv6 included, unless the address is in one of
WEBHOOK_ALLOWED_PRIVATE_NETWORKS (an intranet's CIDRs). It is checked when the webhook is
registered or changed (a field error on ``url``) and again before each attempt, because DNS may
change: the POST goes to the address just checked (no second look-up a rebinding DNS could
answer differently), with the URL's host name in the Host header and for TLS. A refused target
is a failed attempt whose error in the delivery log says why; nothing is sent.

A 2xx answer means delivered. Anything else (another status, a redirect, a refused connection, a
timeout after SYNC_WEBHOOK_TIMEOUT seconds) is recorded on the delivery (attempts, answer, error,
next attempt) and retried by Celery after ``base × 2**(attempt-1)`` seconds plus up to a quarter of
it in jitter (base: SYNC_WEBHOOK_BACKOFF, 30 s; at most an hour), until SYNC_WEBHOOK_MAX_ATTEMPTS
attempts; then the delivery is ``failed``. ``resend_delivery`` (sync.services) starts a failed
or delivered one again. A delivery task that was lost (a broker outage when it was queued) is queued
again by the next dispatch (``requeue_stale``).

Deliveries of one webhook may arrive out of order (a retried one after a later one): every event
carries its ``seq`` and the record's ``version``; a subscriber keeps the highest version per record.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import socket
import time
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from http.client import HTTPException

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

import sync
from sync import feed
from sync.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

BATCH = 100  # events per delivery
MAX_BATCHES = 100  # deliveries queued per webhook in one dispatch (the rest: the next one)
MAX_BACKOFF = 3600.0  # seconds; a retry redelivered early by the broker (visibility timeout) is skipped: next_attempt_at and the row lock
STALE_AFTER = timedelta(minutes=5)  # a pending delivery this overdue lost its task: queue it again
RESPONSE_KEPT = 500  # characters of an error answer kept in the log
Status = WebhookDelivery.Status


def backoff_base():
    return float(getattr(settings, "SYNC_WEBHOOK_BACKOFF", 30.0))


def backoff(attempt):
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, …), with jitter."""
    delay = backoff_base() * 2 ** max(0, attempt - 1)
    return min(MAX_BACKOFF, delay + random.uniform(0, delay / 4))


def sign(secret, timestamp, body):
    """The X-Hanoi-Signature value of ``body`` (bytes) sent at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret, timestamp, body, signature, tolerance=300, now=None):
    """What a subscriber does (and tests): the signature matches and the timestamp is recent."""
    now = time.time() if now is None else now
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except (TypeError, ValueError):
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def acting_user(client):
    """The client's service account, as the API sees it when the client calls with its token."""
    user = client.user
    user.sync_client = client
    user.organization = client.organization
    return user


# --- Dispatch -----------------------------------------------------------------------------------


def dispatch(queue=None):
    """Queue the new changes of every active webhook; returns the deliveries created."""
    created = []
    ids = Webhook.objects.filter(is_active=True, client__is_active=True).values_list(
        "pk", flat=True
    )
    for pk in list(ids):
        try:
            created += dispatch_webhook(pk, queue=queue)
        except Exception:  # one subscriber's trouble must not stop the others
            log.exception("Dispatching webhook %s failed", pk)
    requeue_stale(queue=queue)
    return created


def _types(webhook):
    """The types to read: the webhook's (still known ones) or None for all the client may read;
    [] when none of its types exists any more."""
    if not webhook.types:
        return None
    known = sync.resources()
    return [t for t in webhook.types if t in known]


def dispatch_webhook(webhook_id, queue=None, max_batches=MAX_BATCHES):
    """Turn the changes after the webhook's position into deliveries of at most BATCH events."""
    created = []
    for _batch in range(max_batches):
        with transaction.atomic():
            webhook = (
                Webhook.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("client__user", "client__organization")
                .filter(pk=webhook_id, is_active=True)
                .first()
            )
            if webhook is None:  # gone, switched off, or another dispatcher is on it
                break
            client = webhook.client
            if not client.is_active or client.expired() or not client.user.is_active:
                break
            types = _types(webhook)
            if types == []:
                break
            user = acting_user(client)
            after = feed.encode_cursor(webhook.after_seq) if webhook.after_seq else None
            try:
                page = feed.read(user, after=after, types=types, limit=BATCH)
            except feed.CursorExpired:
                # Fell behind the retention: start from the beginning, which still holds every
                # live record's last change (events already sent come again; versions tell).
                page = feed.read(user, after=None, types=types, limit=BATCH)
            except feed.InvalidCursor:  # beyond the feed's end (the feed was emptied): wait
                break
            if not page.count:
                if page.next_seq > webhook.after_seq:
                    Webhook.objects.filter(pk=webhook.pk).update(after_seq=page.next_seq)
                break
            events = json.loads(page.text)
            delivery = WebhookDelivery(
                webhook=webhook,
                first_seq=events[0]["seq"],
                last_seq=events[-1]["seq"],
                event_count=page.count,
                status=Status.PENDING,
                next_attempt_at=timezone.now(),
            )
            delivery.payload = (
                f'{{"webhook":"{webhook.public_id}","delivery":"{delivery.public_id}",'
                f'"events":{page.text}}}'
            )
            delivery.save()
            Webhook.objects.filter(pk=webhook.pk).update(after_seq=page.next_seq)
            transaction.on_commit(lambda pk=delivery.pk: queue_delivery(pk, queue=queue))
            created.append(delivery)
        if not page.has_more:
            break
    return created


def queue_delivery(delivery_id, queue=None, countdown=None):
    """Send the delivery task to the broker (after the commit that created or reset it). A broker
    outage is logged, not raised: the next dispatch queues the delivery again."""
    from sync.tasks import deliver_webhook

    try:
        deliver_webhook.apply_async((delivery_id,), queue=queue, countdown=countdown)
    except Exception:
        log.exception("Could not queue webhook delivery %s", delivery_id)


def requeue_stale(queue=None, now=None):
    """Queue again the pending deliveries whose attempt is long overdue (their task was lost)."""
    now = now or timezone.now()
    stale = list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING,
            webhook__is_active=True,
            next_attempt_at__lt=now - STALE_AFTER,
        ).values_list("pk", flat=True)[:1000]
    )
    if stale:
        WebhookDelivery.objects.filter(pk__in=stale).update(next_attempt_at=now)
        for pk in stale:
            queue_delivery(pk, queue=queue)
    return len(stale)


# --- Delivery -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # delivered | retry | failed | skipped
    retry_in: float | None = None


# --- Targets ------------------------------------------------------------------------------------


class UnsafeTarget(Exception):
    """A webhook URL that may not be called; ``str()`` says why (translated)."""


def allowed_networks():
    """WEBHOOK_ALLOWED_PRIVATE_NETWORKS as ip_network objects."""
    networks = []
    for value in getattr(settings, "WEBHOOK_ALLOWED_PRIVATE_NETWORKS", None) or []:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"WEBHOOK_ALLOWED_PRIVATE_NETWORKS: {value!r} is not a network: {exc}"
            ) from exc
    return networks


def _plain(address):
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, 6to4), else the address itself."""
    if address.version == 6:
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return embedded
    return address


def is_public(address):
    """Whether ``address`` (an ipaddress object) is a public unicast address."""
    address = _plain(address)
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def address_allowed(address, networks=None):
    """Public, or inside one of the allowed private networks."""
    networks = allowed_networks() if networks is None else networks
    if is_public(address):
        return True
    plain = _plain(address)
    return any(
        candidate in network
        for network in networks
        for candidate in {address, plain}
        if candidate.version == network.version
    )


def resolve(host, port):
    """Every address ``host`` resolves to (strings, getaddrinfo's order, no duplicates)."""
    addresses = []
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        text = info[4][0].split("%", 1)[0]  # an IPv6 scope id is not part of the address
        if text not in addresses:
            addresses.append(text)
    return addresses


@dataclass
class Target:
    scheme: str
    host: str  # as in the URL: the Host header and the TLS server name
    port: int
    path: str  # path and query
    addresses: list  # the checked IP addresses (strings), in getaddrinfo's order


def check_target(url):
    """The target of ``url`` once every address its host resolves to is allowed; raises
    UnsafeTarget (with the reason) otherwise."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(_("This URL cannot be read: %(e)s.") % {"e": exc}) from exc
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget(_("Only http and https URLs can receive webhooks."))
    host = parts.hostname
    if not host:
        raise UnsafeTarget(_("The URL has no host."))
    port = port or (443 if scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(
            _("The host %(host)s does not resolve: %(e)s.") % {"host": host, "e": exc}
        ) from exc
    if not addresses:
        raise UnsafeTarget(_("The host %(host)s does not resolve.") % {"host": host})
    networks = allowed_networks()
    refused = [a for a in addresses if not address_allowed(ipaddress.ip_address(a), networks)]
    if refused:
        raise UnsafeTarget(
            _(
                "The host %(host)s resolves to a private, loopback, link-local or reserved "
                "address (%(addresses)s): webhooks go to public addresses only."
            )
            % {"host": host, "addresses": ", ".join(refused)}
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, addresses)


def _connection(target, address, timeout):
    """An HTTP(S) connection to ``address`` that speaks to the target's host name (Host header,
    TLS server name and certificate check); no proxy, no second DNS look-up."""
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def connect_to_checked(_address, timeout=None, source_address=None):
        return socket.create_connection((address, target.port), timeout, source_address)

    connection._create_connection = connect_to_checked
    return connection


def post(url, body, headers, timeout):
    """POST ``body`` to the checked address of ``url``; returns (status or None, error text or "").
    A redirect is an answer like any other non-2xx: not followed."""
    try:
        target = check_target(url)
    except UnsafeTarget as exc:
        return None, _("Refused: %(reason)s") % {"reason": exc}
    error = ""
    for address in target.addresses:
        connection = _connection(target, address, timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:  # this address does not answer: the next one, if any
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            snippet = response.read(RESPONSE_KEPT)
            if 200 <= response.status < 300:
                return response.status, ""
            text = snippet.decode("utf-8", "replace").strip()
            return response.status, f"HTTP {response.status} {response.reason}" + (
                f": {text}" if text else ""
            )
        except (TimeoutError, OSError, HTTPException, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            connection.close()
    return None, error


def headers_for(delivery, timestamp, body):
    return {
        "Content-Type": "application/json",
        "User-Agent": "hanoi_infra-webhooks/1",
        "X-Hanoi-Webhook": str(delivery.webhook.public_id),
        "X-Hanoi-Delivery": str(delivery.public_id),
        "X-Hanoi-Timestamp": str(timestamp),
        "X-Hanoi-Signature": sign(delivery.webhook.secret, timestamp, body),
    }


def deliver(delivery_id):
    """One attempt of a pending delivery. The delivery row stays locked during the POST, so a
    resend or a duplicate task cannot send it twice at once; returns what to do next."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Status.PENDING:
            return Outcome("skipped")
        if not delivery.webhook.is_active:
            return Outcome("skipped")
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now + timedelta(seconds=1):
            return Outcome("skipped")  # not due: another copy of this task will run then
        maximum = max(1, int(settings.SYNC_WEBHOOK_MAX_ATTEMPTS))
        timestamp = int(time.time())
        body = delivery.payload.encode()
        status, error = post(
            delivery.webhook.url,
            body,
            headers_for(delivery, timestamp, body),
            settings.SYNC_WEBHOOK_TIMEOUT,
        )
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.response_status = status
        delivery.error = error[:2000]
        if status is not None and 200 <= status < 300:
            delivery.status = Status.DELIVERED
            delivery.delivered_at = timezone.now()
            delivery.next_attempt_at = None
            outcome = Outcome("delivered")
        elif delivery.attempts >= maximum:
            delivery.status = Status.FAILED
            delivery.next_attempt_at = None
            outcome = Outcome("failed")
        else:
            wait = backoff(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=wait)
            outcome = Outcome("retry", retry_in=wait)
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "response_status",
                "error",
                "status",
                "delivered_at",
                "next_attempt_at",
                "updated_at",
            ]
        )
    return outcome


def prune_log(now=None):
    """Drop delivered deliveries older than SYNC_WEBHOOK_LOG_DAYS and failed ones older than three
    times that (pending ones stay); returns how many."""
    now = now or timezone.now()
    days = int(getattr(settings, "SYNC_WEBHOOK_LOG_DAYS", 30))
    delivered = WebhookDelivery.objects.filter(
        status=Status.DELIVERED, created_at__lt=now - timedelta(days=days)
    )
    failed = WebhookDelivery.objects.filter(
        status=Status.FAILED, created_at__lt=now - timedelta(days=3 * days)
    )
    return delivered.delete()[0] + failed.delete()[0]
