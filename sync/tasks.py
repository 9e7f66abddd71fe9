"""Celery tasks of the sync app (found by the worker's autodiscover_tasks).

Their registered names are still ``core.tasks.*``, as before the move to this app: the beat
schedule (CELERY_BEAT_SCHEDULE, copied into django_celery_beat's table) and the messages already in
the broker (webhook deliveries waiting for their retry) name them so."""

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

log = logging.getLogger(__name__)

__all__ = ["build_downloads", "deliver_webhook", "dispatch_webhooks", "prune_sync"]


@shared_task(name="core.tasks.prune_sync")
def prune_sync():
    """Nightly: drop superseded changes older than the retention (sync.feed.prune),
    Idempotency-Key answers older than SYNC_IDEMPOTENCY_HOURS and old webhook deliveries
    (sync.webhooks.prune_log)."""
    from sync import feed, webhooks
    from sync.models import IdempotencyRecord

    removed = feed.prune()
    cutoff = timezone.now() - timedelta(hours=settings.SYNC_IDEMPOTENCY_HOURS)
    keys, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    deliveries = webhooks.prune_log()
    if deliveries:
        log.info("Pruned %d old webhook deliveries", deliveries)
    return {"changes": removed, "idempotency_keys": keys}


def _queue_of(task):
    """The queue the running task came from (deliveries follow it), None when run directly."""
    info = getattr(task.request, "delivery_info", None) or {}
    return info.get("routing_key") or None


@shared_task(name="core.tasks.build_downloads", bind=True, acks_late=True)
def build_downloads(self, resources=None):
    """Nightly: the GeoJSON and CSV of every public register, from one snapshot (sync.downloads);
    older files beyond SYNC_DOWNLOADS_KEEP are deleted. Safe to retry: a retry builds new files."""
    from sync import downloads

    built = downloads.build(resources)
    return [
        {"resource": d.resource, "format": d.format, "rows": d.rows, "size": d.size} for d in built
    ]


@shared_task(name="core.tasks.dispatch_webhooks", bind=True, ignore_result=True)
def dispatch_webhooks(self, queue=None):
    """Every 30 s: turn new changes into webhook deliveries (sync.webhooks.dispatch) and queue
    them, on ``queue`` or the queue this task came from."""
    from sync import webhooks

    created = webhooks.dispatch(queue=queue or _queue_of(self))
    return {"deliveries": len(created)}


@shared_task(name="core.tasks.deliver_webhook", bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id):
    """One attempt of a webhook delivery; on failure Celery runs it again after the backoff the
    delivery recorded (its attempts count lives in the database, so a re-send starts over)."""
    from sync import webhooks

    outcome = webhooks.deliver(delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    return outcome.status
