"""Celery tasks of core.sync (imported by core.tasks so the worker finds them)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone


@shared_task(name="core.tasks.prune_sync")
def prune_sync():
    """Nightly: drop superseded changes older than the retention (core.sync.feed.prune) and
    Idempotency-Key answers older than SYNC_IDEMPOTENCY_HOURS."""
    from core.sync import feed
    from core.sync.models import IdempotencyRecord

    removed = feed.prune()
    cutoff = timezone.now() - timedelta(hours=settings.SYNC_IDEMPOTENCY_HOURS)
    keys, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return {"changes": removed, "idempotency_keys": keys}
