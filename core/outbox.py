"""Transactional outbox: work queued from a request survives a broker that is down.

``enqueue("reports.tasks.compute_run", [run.pk])`` inside the service's transaction writes an
OutboxMessage next to the business row; after the commit it is sent to the broker at once. When the
broker is down or frozen the request does not wait (short socket timeouts, no publish retries, and
for a few seconds after a failure no attempt at all): the row stays unsent and ``drain()`` sends it
later (Celery beat every minute, and each worker when it starts). Tasks sent this way must be
idempotent: a message may reach the broker twice (sent, then the ``sent_at`` write lost), never zero
times.
"""

import logging
import threading
import time

from django.db import transaction
from django.utils import timezone

log = logging.getLogger("hanoi_infra.outbox")

BREAKER_SECONDS = 5.0
_breaker = {"open_until": 0.0}
_lock = threading.Lock()


def broker_available():
    return time.monotonic() >= _breaker["open_until"]


def reset():
    with _lock:
        _breaker["open_until"] = 0.0


def _trip():
    with _lock:
        _breaker["open_until"] = time.monotonic() + BREAKER_SECONDS


def enqueue(task, args=(), kwargs=None, **options):
    """Write the message in the current transaction; send it after the commit."""
    from core.models import OutboxMessage

    message = OutboxMessage.objects.create(
        task=task, args=list(args), kwargs=kwargs or {}, options=options
    )
    transaction.on_commit(lambda: send(message.pk))
    return message


def _publish(message):
    from hanoi_infra.celery import app

    options = dict(message.options or {})
    return app.send_task(
        message.task, args=message.args, kwargs=message.kwargs, retry=False, **options
    )


def send(pk):
    """Send one unsent message; True when the broker took it. Never raises."""
    from core.models import OutboxMessage

    if not broker_available():
        return False
    try:
        with transaction.atomic():
            message = (
                OutboxMessage.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, sent_at__isnull=True)
                .first()
            )
            if message is None:
                return False
            try:
                _publish(message)
            except Exception as exc:  # broker down, frozen, refused: keep it for the drain
                _trip()
                log.warning("outbox: could not send %s (%s); kept for the drain", message, exc)
                OutboxMessage.objects.filter(pk=pk).update(
                    attempts=message.attempts + 1, last_error=str(exc)[:2000]
                )
                return False
            OutboxMessage.objects.filter(pk=pk).update(
                sent_at=timezone.now(), attempts=message.attempts + 1, last_error=""
            )
            return True
    except Exception:  # the database itself: the drain will see the row again
        log.exception("outbox: could not send message %s", pk)
        return False


def drain(limit=1000):
    """Send the unsent messages, oldest first; stops at the first broker failure. Returns the
    number sent."""
    from core.models import OutboxMessage

    reset()  # the drain is the periodic probe: ask the broker again
    sent = 0
    pending = list(
        OutboxMessage.objects.filter(sent_at__isnull=True)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        if send(pk):
            sent += 1
        elif not broker_available():
            break
    return sent


def unsent_count():
    from core.models import OutboxMessage

    return OutboxMessage.objects.filter(sent_at__isnull=True).count()


def pending_first_args(task):
    """The first argument of each unsent message of ``task`` (the run or job it will start)."""
    from core.models import OutboxMessage

    return {
        args[0]
        for args in OutboxMessage.objects.filter(task=task, sent_at__isnull=True).values_list(
            "args", flat=True
        )
        if args
    }
