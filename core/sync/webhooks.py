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

A 2xx answer means delivered. Anything else (another status, a redirect, a refused connection, a
timeout after SYNC_WEBHOOK_TIMEOUT seconds) is recorded on the delivery (attempts, answer, error,
next attempt) and retried by Celery after ``base × 2**(attempt-1)`` seconds plus up to a quarter of
it in jitter (base: SYNC_WEBHOOK_BACKOFF, 30 s; at most an hour), until SYNC_WEBHOOK_MAX_ATTEMPTS
attempts; then the delivery is ``failed``. ``resend_delivery`` (core.sync.services) starts a failed
or delivered one again. A delivery task that was lost (a broker outage when it was queued) is queued
again by the next dispatch (``requeue_stale``).

Deliveries of one webhook may arrive out of order (a retried one after a later one): every event
carries its ``seq`` and the record's ``version``; a subscriber keeps the highest version per record.
"""

import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from http.client import HTTPException

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import sync
from core.sync import feed
from core.sync.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

BATCH = 100  # events per delivery
MAX_BATCHES = 100  # deliveries queued per webhook in one dispatch (the rest: the next one)
MAX_BACKOFF = 3600.0  # seconds; below Redis' visibility timeout, so a waiting retry is not re-sent
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
    from core.sync.tasks import deliver_webhook

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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: not followed (a POST would become a GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url, body, headers, timeout):
    """POST ``body``; returns (status or None, error text or "")."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(RESPONSE_KEPT)
            return response.status, ""
    except urllib.error.HTTPError as exc:
        try:
            snippet = exc.read(RESPONSE_KEPT).decode("utf-8", "replace").strip()
        except Exception:
            snippet = ""
        return exc.code, f"HTTP {exc.code} {exc.reason}" + (f": {snippet}" if snippet else "")
    except urllib.error.URLError as exc:
        return None, str(exc.reason)
    except (TimeoutError, OSError, HTTPException, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


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
