"""A real Celery worker on real Redis, on a private queue (see conftest.celery_worker_queue)."""

import time

import pytest

from core import health
from core.tasks import heartbeat
from hanoi_infra.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_runs_heartbeat_and_healthz_sees_it(celery_worker_queue, client):
    health.redis_client().delete(health.HEARTBEAT_KEY)
    assert health.last_heartbeat() is None
    before = time.time()
    result = heartbeat.apply_async(queue=celery_worker_queue)
    value = result.get(timeout=30)
    assert value["database"] is True
    assert value["recorded_at"] >= before
    assert 0 <= health.last_heartbeat() < 30
    assert client.get("/healthz").json()["worker_heartbeat_age_s"] is not None


def test_celery_configuration_is_safe_for_retries():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_url.startswith("redis://")
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "core-heartbeat" in conf.beat_schedule
