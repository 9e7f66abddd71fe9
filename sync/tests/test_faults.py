"""A worker killed whole mid webhook delivery (moved from core/tests/test_faults.py, whose Redis,
broker and worker-process helpers it uses): the delivery is sent again and recorded once."""

# ruff: noqa: F811  (pytest fixtures imported from their conftest and test modules)
import json
import os
import signal
import threading
import time

import pytest
from django.db import transaction

from core.tests.test_faults import (  # noqa: F401  (own_redis: a fixture)
    broker_at,
    own_redis,
    start_worker_process,
    wait_for,
    worker_processes,
)
from stations.tests.conftest import make_station  # noqa: F401  (fixture)
from sync import webhooks
from sync.models import WebhookDelivery
from sync.tests.test_webhooks import Receiver, subscribe

pytestmark = [pytest.mark.worker]

Status = WebhookDelivery.Status


@pytest.fixture
def held_receiver(settings):
    """A subscriber on 127.0.0.1 (allowed here, as an intranet would allow its network) whose
    first POST waits on ``hold``."""
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    receiver = Receiver()
    receiver.hold = threading.Event()
    yield receiver
    receiver.hold.set()
    receiver.close()


@pytest.mark.django_db(transaction=True)
def test_worker_killed_whole_mid_webhook_delivery_it_is_sent_again_and_delivered_once(
    reference_data,
    own_redis,
    token_client,
    make_station,  # noqa: F811
    held_receiver,
):
    receiver = held_receiver
    webhook = subscribe(token_client(scopes={"stations": "read"}), receiver.url)
    station = make_station()
    queue = f"test-redeliver-webhook-{own_redis.port}"
    allowed = {"WEBHOOK_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8", "SYNC_WEBHOOK_TIMEOUT": "60"}
    with broker_at(own_redis.url), worker_processes() as workers:
        workers.append(start_worker_process(queue, own_redis.url, env=allowed))
        (delivery,) = webhooks.dispatch(queue=queue)
        assert receiver.arrived.wait(120), "the worker never sent the delivery"
        # Mid-delivery: the POST is read, unanswered; the worker holds the row, nothing recorded.
        with transaction.atomic():
            busy = WebhookDelivery.objects.select_for_update(skip_locked=True)
            assert not busy.filter(pk=delivery.pk).exists()
        os.kill(workers[0].pid, signal.SIGKILL)  # the whole worker, mid-POST, no ack
        workers[0].wait(10)
        receiver.hold.set()  # the first POST's answer now goes nowhere
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)
        # Another worker; a short visibility timeout stands for the production one.
        workers.append(
            start_worker_process(queue, own_redis.url, visibility_timeout=3, env=allowed)
        )
        wait_for(
            lambda: WebhookDelivery.objects.get(pk=delivery.pk).status != Status.PENDING,
            timeout=120,
        )
        time.sleep(1)  # nothing more comes
    delivery.refresh_from_db()
    # One successful attempt recorded: the killed one's transaction was rolled back with it.
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert delivery.response_status == 200 and delivery.error == "" and delivery.delivered_at
    assert delivery.next_attempt_at is None
    assert list(WebhookDelivery.objects.filter(webhook=webhook)) == [delivery]
    assert webhooks.dispatch(queue=queue) == []  # the span is not queued again either
    # The subscriber got the same delivery twice (the first unanswered): same body, same ids,
    # each signed; it drops the second by X-Hanoi-Delivery (or the events' seq and version).
    first, again = receiver.requests
    assert first["body"] == again["body"] == delivery.payload.encode()
    assert {r["headers"]["X-Hanoi-Delivery"] for r in receiver.requests} == {
        str(delivery.public_id)
    }
    for r in receiver.requests:
        h = r["headers"]
        assert webhooks.verify(
            webhook.secret, h["X-Hanoi-Timestamp"], r["body"], h["X-Hanoi-Signature"]
        )
    payload = json.loads(again["body"])
    assert payload["delivery"] == str(delivery.public_id)
    assert [e["id"] for e in payload["events"]] == [str(station.public_id)]
