# ruff: noqa: F811  (pytest fixtures imported from stations.tests.conftest)
"""Webhooks (sync.webhooks): a real HTTP server in a thread receives the deliveries, a real
Celery worker retries them; real PostGIS and Redis, no mocks."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from stations.tests.conftest import make_site, make_station  # noqa: F401
from sync import feed, services, webhooks
from sync.models import Webhook, WebhookDelivery

Status = WebhookDelivery.Status


class Receiver:
    """A subscriber: records every POST; answers ``statuses`` in turn (then the last one), or
    sleeps ``delay`` seconds first. With ``hold`` (a threading.Event) the first POST, once read,
    waits for it before answering (the sender is then mid-delivery); ``arrived`` is set as soon
    as a POST has been read."""

    def __init__(self):
        self.requests = []
        self.statuses = [200]
        self.delay = 0
        self.hold = None
        self.arrived = threading.Event()
        self.location = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append({"headers": dict(self.headers), "body": body})
                    n = len(receiver.requests)
                    status = receiver.statuses[min(n, len(receiver.statuses)) - 1]
                receiver.arrived.set()
                if n == 1 and receiver.hold is not None:
                    receiver.hold.wait(120)
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"try later")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/hanoi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self):
        return [e for r in self.requests for e in json.loads(r["body"])["events"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


PUBLIC_IP = "93.184.215.14"  # a public address: registration accepts it (nothing is sent there)


@pytest.fixture(autouse=True)
def local_targets(settings, monkeypatch):
    """The receivers listen on 127.0.0.1: allowed here as an intranet would allow its network.
    Names under example.org resolve to a public address without a DNS server (``dns`` changes
    them); other names resolve for real (``localhost`` through /etc/hosts)."""
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    names = {}
    real = webhooks.resolve

    def resolve(host, port):
        if host in names:
            answer = names[host]
            return list(answer() if callable(answer) else answer)
        if host == "example.org" or host.endswith(".example.org"):
            return [PUBLIC_IP]
        return real(host, port)

    monkeypatch.setattr(webhooks, "resolve", resolve)
    return names


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fast_retries(settings):
    settings.SYNC_WEBHOOK_BACKOFF = 0.2
    settings.SYNC_WEBHOOK_MAX_ATTEMPTS = 3
    settings.SYNC_WEBHOOK_TIMEOUT = 2.0
    return settings


def subscribe(http, url, types=()):
    """A webhook of the token client ``http`` (through the service, as the API does)."""
    client = http.api_client
    return services.save_webhook(webhooks.acting_user(client), client, url=url, types=types)


def wait_for(predicate, timeout=30.0, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def settled(delivery_pk, *statuses):
    def check():
        d = WebhookDelivery.objects.get(pk=delivery_pk)
        return d if d.status in statuses else None

    return check


# --- Dispatch ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_changes_become_signed_deliveries_of_at_most_100_events(
    feed_now,
    token_client,
    make_station,
    receiver,
):
    http = token_client(scopes={"stations": "read"})
    webhook = subscribe(http, receiver.url)
    stations = [make_station() for _ in range(230)]
    created = webhooks.dispatch()
    assert [d.event_count for d in created] == [100, 100, 30]
    spans = [(d.first_seq, d.last_seq) for d in created]
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))
    webhook.refresh_from_db()
    assert webhook.after_seq >= created[-1].last_seq

    assert webhooks.dispatch() == [], "nothing new: no second delivery of the same span"
    make_station()
    again = webhooks.dispatch()
    assert len(again) == 1 and again[0].first_seq > created[-1].last_seq

    for d in created:
        assert webhooks.deliver(d.pk).status == "delivered"
    assert len(receiver.requests) == 3
    first = receiver.requests[0]
    headers, body = first["headers"], first["body"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Hanoi-Delivery"] == str(created[0].public_id)
    assert headers["X-Hanoi-Webhook"] == str(webhook.public_id)
    signature = headers["X-Hanoi-Signature"]
    assert webhooks.verify(webhook.secret, headers["X-Hanoi-Timestamp"], body, signature)
    assert not webhooks.verify("another secret", headers["X-Hanoi-Timestamp"], body, signature)
    assert not webhooks.verify(webhook.secret, headers["X-Hanoi-Timestamp"], body + b" ", signature)
    payload = json.loads(body)
    assert payload["webhook"] == str(webhook.public_id)
    assert payload["delivery"] == str(created[0].public_id)
    ids = [e["id"] for e in receiver.events()]
    assert ids == [str(s.public_id) for s in stations]
    assert {e["action"] for e in receiver.events()} == {"create"}
    d = WebhookDelivery.objects.get(pk=created[0].pk)
    assert d.status == Status.DELIVERED and d.attempts == 1 and d.response_status == 200
    assert d.delivered_at and d.next_attempt_at is None
    assert webhooks.deliver(d.pk).status == "skipped", "a delivered one is not sent again"


@pytest.mark.django_db
def test_event_types_and_scopes_are_respected(
    feed_now,
    token_client,
    make_station,
    make_site,
    receiver,
):
    everything = subscribe(token_client(scopes={"*": "read"}), receiver.url)
    sites_only = subscribe(token_client(scopes={"*": "read"}), receiver.url, types=["public-sites"])
    stations_scope = subscribe(token_client(scopes={"stations": "read"}), receiver.url)
    station, site = make_station(), make_site()
    created = {d.webhook_id: d for d in webhooks.dispatch()}

    def ids(webhook):
        return [e["id"] for e in json.loads(created[webhook.pk].payload)["events"]]

    assert ids(everything) == [str(station.public_id), str(site.public_id)]
    assert ids(sites_only) == [str(site.public_id)]
    assert ids(stations_scope) == [str(station.public_id)]


@pytest.mark.django_db
def test_an_operators_webhook_gets_only_its_own_records(
    feed_now,
    token_client,
    make_station,
    receiver,
):
    vnpt = subscribe(
        token_client(scopes={"*": "read"}, org_code="VNPT"), receiver.url, ["stations"]
    )
    agency = subscribe(token_client(scopes={"*": "read"}), receiver.url, ["stations"])
    own = make_station(operator_code="VNPT")
    make_station(operator_code="VIETTEL")
    created = {d.webhook_id: d for d in webhooks.dispatch()}
    events = json.loads(created[vnpt.pk].payload)["events"]
    assert [e["id"] for e in events] == [str(own.public_id)]
    assert events[0]["data"]["properties"]["operator"] == "VNPT"
    assert created[agency.pk].event_count == 2
    vnpt.refresh_from_db()
    assert vnpt.after_seq == feed.head_seq(), "past the other operator's change too"


@pytest.mark.django_db
def test_inactive_webhooks_and_clients_get_nothing(feed_now, token_client, make_station, receiver):
    http = token_client(scopes={"*": "read"})
    webhook = subscribe(http, receiver.url)
    webhook.is_active = False
    webhook.save()
    make_station()
    assert webhooks.dispatch() == []
    webhook.is_active = True
    webhook.save()
    http.api_client.is_active = False
    http.api_client.save()
    assert webhooks.dispatch() == []
    http.api_client.is_active = True
    http.api_client.save()
    created = webhooks.dispatch()
    assert len(created) == 1, "switched on again: it gets what it missed"


# --- Failures, recorded -------------------------------------------------------------------------


@pytest.mark.django_db
def test_failures_are_recorded_with_the_next_attempt(
    fast_retries,
    feed_now,
    token_client,
    make_station,
    receiver,
):
    http = token_client(scopes={"*": "read"})
    webhook = subscribe(http, receiver.url)
    make_station()
    (delivery,) = webhooks.dispatch()

    receiver.statuses = [503]
    fast_retries.SYNC_WEBHOOK_BACKOFF = 60
    outcome = webhooks.deliver(delivery.pk)
    assert outcome.status == "retry" and 60 <= outcome.retry_in <= 75
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 1
    assert delivery.response_status == 503 and "503" in delivery.error
    assert delivery.next_attempt_at > delivery.last_attempt_at
    assert webhooks.deliver(delivery.pk).status == "skipped", "not due yet"

    # Nobody listening: a connection error.
    webhook.url = "http://127.0.0.1:9/nothing"
    webhook.save()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert webhooks.deliver(delivery.pk).status == "retry"
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and delivery.response_status is None and delivery.error

    # Too slow: a timeout; the last attempt fails the delivery.
    fast_retries.SYNC_WEBHOOK_TIMEOUT = 0.3
    receiver.delay = 1.0
    webhook.url = receiver.url
    webhook.save()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert webhooks.deliver(delivery.pk).status == "failed"
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 3
    assert "timed out" in delivery.error.lower() and delivery.next_attempt_at is None


@pytest.mark.django_db
def test_a_redirect_is_not_followed(feed_now, token_client, make_station, receiver):
    http = token_client(scopes={"*": "read"})
    subscribe(http, receiver.url)
    make_station()
    (delivery,) = webhooks.dispatch()
    receiver.statuses = [302]
    assert webhooks.deliver(delivery.pk).status == "retry"
    delivery.refresh_from_db()
    assert delivery.response_status == 302 and len(receiver.requests) == 1


def test_backoff_grows_exponentially_with_jitter(settings):
    settings.SYNC_WEBHOOK_BACKOFF = 10
    for attempt, base in [(1, 10), (2, 20), (3, 40), (5, 160)]:
        delays = [webhooks.backoff(attempt) for _ in range(50)]
        assert all(base <= d <= base * 1.25 for d in delays)
        assert len(set(delays)) > 1
    assert webhooks.backoff(30) == webhooks.MAX_BACKOFF


# --- With a real worker ---------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_gets_it_on_the_third_attempt(
    celery_worker_queue,
    fast_retries,
    token_client,
    make_station,
    receiver,
):
    receiver.statuses = [500, 502, 200]
    http = token_client(scopes={"stations": "read"})
    webhook = subscribe(http, receiver.url)
    station = make_station()
    (delivery,) = webhooks.dispatch(queue=celery_worker_queue)
    done = wait_for(settled(delivery.pk, Status.DELIVERED, Status.FAILED))
    assert done.status == Status.DELIVERED
    assert done.attempts == 3 and done.response_status == 200 and done.error == ""
    assert len(receiver.requests) == 3
    assert {r["headers"]["X-Hanoi-Delivery"] for r in receiver.requests} == {
        str(delivery.public_id)
    }
    for r in receiver.requests:
        h = r["headers"]
        assert webhooks.verify(
            webhook.secret, h["X-Hanoi-Timestamp"], r["body"], h["X-Hanoi-Signature"]
        )
    assert receiver.events()[0]["id"] == str(station.public_id)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_dead_subscriber_fails_after_the_last_attempt_and_can_be_resent(
    celery_worker_queue,
    fast_retries,
    token_client,
    make_station,
    receiver,
):
    receiver.statuses = [503]
    http = token_client(scopes={"*": "read"})
    webhook = subscribe(http, receiver.url)
    make_station()
    (delivery,) = webhooks.dispatch(queue=celery_worker_queue)
    failed = wait_for(settled(delivery.pk, Status.FAILED, Status.DELIVERED))
    assert failed.status == Status.FAILED and failed.attempts == 3
    assert failed.response_status == 503 and "503" in failed.error
    assert len(receiver.requests) == 3

    log = http.get(f"/api/v1/webhooks/{webhook.public_id}/deliveries/").json()["results"]
    assert [(d["id"], d["status"], d["attempts"]) for d in log] == [
        (str(delivery.public_id), "failed", 3)
    ]

    receiver.statuses = [200]
    receiver.requests.clear()
    services.resend_delivery(
        webhooks.acting_user(http.api_client), delivery, queue=celery_worker_queue
    )
    resent = wait_for(settled(delivery.pk, Status.DELIVERED))
    assert resent.attempts == 1 and resent.response_status == 200
    assert [r["headers"]["X-Hanoi-Delivery"] for r in receiver.requests] == [
        str(delivery.public_id)
    ]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_never_send_a_span_twice(
    celery_worker_queue,
    token_client,
    make_station,
    receiver,
):
    http = token_client(scopes={"*": "read"})
    subscribe(http, receiver.url, ["stations"])
    stations = [make_station() for _ in range(250)]
    results, errors = [], []

    def run():
        try:
            results.extend(webhooks.dispatch(queue=celery_worker_queue))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    deliveries = list(WebhookDelivery.objects.order_by("first_seq"))
    assert sum(d.event_count for d in deliveries) == 250
    assert all(a.last_seq < b.first_seq for a, b in zip(deliveries, deliveries[1:], strict=False))
    for d in deliveries:
        wait_for(settled(d.pk, Status.DELIVERED))
    ids = [e["id"] for e in receiver.events()]
    assert sorted(ids) == sorted(str(s.public_id) for s in stations)
    assert len(ids) == len(set(ids))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_scheduled_task_dispatches_on_its_queue(
    celery_worker_queue,
    token_client,
    make_station,
    receiver,
):
    from sync.tasks import dispatch_webhooks

    subscribe(token_client(scopes={"*": "read"}), receiver.url)
    make_station()
    dispatch_webhooks.apply_async(queue=celery_worker_queue)  # its result is not kept
    delivery = wait_for(lambda: WebhookDelivery.objects.first())
    wait_for(settled(delivery.pk, Status.DELIVERED))
    assert len(receiver.requests) == 1


# --- Re-send ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resend_is_for_the_client_or_an_administrator(
    feed_now,
    token_client,
    make_station,
    receiver,
    role_user,
    django_capture_on_commit_callbacks,
):
    from core.exceptions import PermissionDenied

    owner = token_client(scopes={"*": "read", "webhooks": "write"})
    webhook = subscribe(owner, receiver.url)
    make_station()
    (delivery,) = webhooks.dispatch()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, attempts=3)

    other = token_client(scopes={"*": "read"})
    for user in (webhooks.acting_user(other.api_client), role_user("city_official")):
        with pytest.raises(PermissionDenied):
            services.resend_delivery(user, delivery)

    with django_capture_on_commit_callbacks() as queued:
        services.resend_delivery(role_user("administrator"), delivery)
    assert len(queued) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 0 and delivery.error == ""

    webhook.is_active = False
    webhook.save()
    response = owner.post(
        f"/api/v1/webhooks/{webhook.public_id}/deliveries/{delivery.public_id}/resend/"
    )
    assert response.status_code == 409 and response.json()["code"] == "webhook_inactive"


# --- The API ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_client_manages_its_own_webhooks(feed_now, token_client, make_station, receiver):
    a = token_client(scopes={"stations": "read", "assets": "read", "webhooks": "write"})
    b = token_client(scopes={"*": "read", "webhooks": "write"})

    created = a.post(
        "/api/v1/webhooks/", {"url": receiver.url, "types": ["stations"]}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert len(body["secret"]) == 64 and body["types"] == ["stations"] and body["is_active"]
    webhook = Webhook.objects.get(public_id=body["id"])
    assert webhook.client == a.api_client and webhook.secret == body["secret"]
    url = f"/api/v1/webhooks/{body['id']}/"

    listed = a.get("/api/v1/webhooks/").json()["results"]
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in a.get(url).json()

    assert b.get("/api/v1/webhooks/").json()["results"] == []
    assert b.get(url).status_code == 404
    assert b.patch(url, {"is_active": False}, format="json").status_code == 404
    assert b.delete(url).status_code == 404

    bad = a.post("/api/v1/webhooks/", {"url": receiver.url, "types": ["spam"]}, format="json")
    assert bad.status_code == 400 and "types" in bad.json()
    unreadable = a.post(
        "/api/v1/webhooks/", {"url": receiver.url, "types": ["public-sites"]}, format="json"
    )
    assert unreadable.status_code == 400 and "types" in unreadable.json()
    not_a_url = a.post("/api/v1/webhooks/", {"url": "ftp://x", "types": []}, format="json")
    assert not_a_url.status_code == 400 and "url" in not_a_url.json()

    changed = a.patch(url, {"types": ["stations", "assets"], "is_active": False}, format="json")
    assert changed.status_code == 200
    assert changed.json()["types"] == ["assets", "stations"] and not changed.json()["is_active"]
    a.patch(url, {"is_active": True}, format="json")

    make_station()
    (delivery,) = webhooks.dispatch()
    log = a.get(f"{url}deliveries/").json()["results"]
    assert log[0]["id"] == str(delivery.public_id) and log[0]["event_count"] == 1
    detail = a.get(f"{url}deliveries/{delivery.public_id}/").json()
    assert detail["payload"]["events"][0]["type"] == "stations"
    assert b.get(f"{url}deliveries/").status_code == 404
    resend = b.post(f"{url}deliveries/{delivery.public_id}/resend/")
    assert resend.status_code == 404
    other = subscribe(b, receiver.url)
    assert (
        a.post(
            f"/api/v1/webhooks/{other.public_id}/deliveries/{delivery.public_id}/resend/"
        ).status_code
        == 404
    )
    assert a.post(f"{url}deliveries/{uuid.uuid4()}/resend/").status_code == 404
    assert a.post(f"{url}deliveries/{delivery.public_id}/resend/").status_code == 202

    assert a.delete(url).status_code == 204
    assert not Webhook.objects.filter(public_id=body["id"]).exists()
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()


@pytest.mark.django_db
def test_webhooks_api_is_for_clients_and_administrators(token_client, as_role, api_client):
    assert api_client.get("/api/v1/webhooks/").status_code in (401, 403)
    operator = as_role("operator_viettel")
    refused = operator.get("/api/v1/webhooks/")
    assert refused.status_code == 403 and refused.json()["code"] == "not_an_api_client"
    assert operator.post("/api/v1/webhooks/", {"url": "https://example.org/"}).status_code == 403
    a = token_client(scopes={"stations": "read"})
    subscribe(a, "https://a.example.org/hook")
    subscribe(token_client(scopes={"*": "read"}), "https://b.example.org/hook")
    admin = as_role("administrator")
    assert {w["url"] for w in admin.get("/api/v1/webhooks/").json()["results"]} == {
        "https://a.example.org/hook",
        "https://b.example.org/hook",
    }
    bad_token = api_client.get("/api/v1/webhooks/", HTTP_AUTHORIZATION="Bearer hik_nope")
    assert bad_token.status_code == 401
    # The scope "webhooks": read to list, write to register.
    assert a.get("/api/v1/webhooks/").json()["code"] == "scope_missing"
    reader = token_client(scopes={"stations": "read", "webhooks": "read"})
    assert reader.get("/api/v1/webhooks/").status_code == 200
    refused = reader.post("/api/v1/webhooks/", {"url": "https://r.example.org/"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "scope_missing"


# --- Admin ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_lists_deliveries_read_only_and_resends(
    feed_now,
    token_client,
    make_station,
    receiver,
    client,
    role_user,
):
    http = token_client(scopes={"*": "read"})
    subscribe(http, receiver.url)
    make_station()
    (delivery,) = webhooks.dispatch()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.FAILED, attempts=3)
    client.force_login(role_user("administrator"))
    assert client.get("/admin/sync/webhook/").status_code == 200
    assert client.get("/admin/sync/webhookdelivery/").status_code == 200
    page = client.get(f"/admin/sync/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    response = client.post(
        "/admin/sync/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 0


@pytest.mark.django_db
def test_admin_creates_a_webhook_through_the_service(token_client, client, role_user, feed_now):
    http = token_client(scopes={"stations": "read"})
    client.force_login(role_user("administrator"))
    refused = client.post(
        "/admin/sync/webhook/add/",
        {
            "client": http.api_client.pk,
            "url": "https://x.example.org/",
            "types": "assets",
            "is_active": "on",
        },
    )
    assert refused.status_code == 200 and not Webhook.objects.exists()
    response = client.post(
        "/admin/sync/webhook/add/",
        {
            "client": http.api_client.pk,
            "url": "https://x.example.org/",
            "types": "stations",
            "is_active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    webhook = Webhook.objects.get()
    assert len(webhook.secret) == 64 and webhook.types == ["stations"]
    assert webhook.secret in response.content.decode()


@pytest.mark.django_db
def test_old_deliveries_leave_the_log(feed_now, token_client, make_station, receiver, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.SYNC_WEBHOOK_LOG_DAYS = 10
    subscribe(token_client(scopes={"*": "read"}), receiver.url)
    for _ in range(4):
        make_station()
        webhooks.dispatch()
    old, older, failed, pending = WebhookDelivery.objects.order_by("id")
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=old.pk).update(
        status=Status.DELIVERED, created_at=now - timedelta(days=11)
    )
    WebhookDelivery.objects.filter(pk=older.pk).update(
        status=Status.FAILED, created_at=now - timedelta(days=31)
    )
    WebhookDelivery.objects.filter(pk=failed.pk).update(
        status=Status.FAILED, created_at=now - timedelta(days=11)
    )
    WebhookDelivery.objects.filter(pk=pending.pk).update(created_at=now - timedelta(days=100))
    assert webhooks.prune_log() == 2
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {failed.pk, pending.pk}


# --- Targets (SSRF) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",  # cloud metadata (link-local)
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused(settings, address):
    import ipaddress

    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    assert not webhooks.address_allowed(ipaddress.ip_address(address))


def test_public_addresses_and_allowed_networks_pass(settings):
    import ipaddress

    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    for address in ("93.184.215.14", "8.8.8.8", "2001:4860:4860::8888"):
        assert webhooks.address_allowed(ipaddress.ip_address(address))
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["10.20.0.0/16", "fd00::/8"]
    assert webhooks.address_allowed(ipaddress.ip_address("10.20.3.4"))
    assert webhooks.address_allowed(ipaddress.ip_address("::ffff:10.20.3.4"))
    assert webhooks.address_allowed(ipaddress.ip_address("fd12::1"))
    assert not webhooks.address_allowed(ipaddress.ip_address("10.21.0.1"))
    assert not webhooks.address_allowed(ipaddress.ip_address("169.254.169.254"))


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",  # a name that resolves to loopback
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",  # 127.0.0.1 as one number
        "http://10.0.0.5/hook",
        "http://inside.example.org/hook",  # resolves (below) to a public and a private address
        "http://nowhere.invalid/hook",  # does not resolve
    ],
)
@pytest.mark.django_db
def test_registration_refuses_non_public_targets_in_the_api(
    token_client, local_targets, settings, url
):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    local_targets["inside.example.org"] = [PUBLIC_IP, "10.0.0.5"]
    a = token_client(scopes={"stations": "read", "webhooks": "write"})
    response = a.post("/api/v1/webhooks/", {"url": url, "types": ["stations"]}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["url"], response.json()
    assert not Webhook.objects.exists()


@pytest.mark.django_db
def test_an_existing_webhook_cannot_be_pointed_at_metadata(token_client, settings):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    a = token_client(scopes={"stations": "read", "webhooks": "write"})
    created = a.post("/api/v1/webhooks/", {"url": "https://hooks.example.org/h"}, format="json")
    assert created.status_code == 201, created.content
    url = f"/api/v1/webhooks/{created.json()['id']}/"
    moved = a.patch(url, {"url": "http://169.254.169.254/"}, format="json")
    assert moved.status_code == 400 and "url" in moved.json()
    assert Webhook.objects.get().url == "https://hooks.example.org/h"
    # A webhook whose host has gone private can still be switched off, not on.
    Webhook.objects.update(url="http://127.0.0.1/h")
    assert a.patch(url, {"is_active": False}, format="json").status_code == 200
    again = a.patch(url, {"is_active": True}, format="json")
    assert again.status_code == 400 and "url" in again.json()


@pytest.mark.django_db
def test_admin_refuses_a_metadata_target_as_a_form_error(
    token_client, client, role_user, settings, feed_now
):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    http = token_client(scopes={"stations": "read"})
    client.force_login(role_user("administrator"))
    response = client.post(
        "/admin/sync/webhook/add/",
        {
            "client": http.api_client.pk,
            "url": "http://169.254.169.254/latest/meta-data/",
            "types": "stations",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and not Webhook.objects.exists()
    assert "url" in response.context["adminform"].form.errors


@pytest.mark.django_db
def test_loopback_is_refused_at_delivery_unless_allowed(
    feed_now, token_client, make_station, receiver, settings
):
    http = token_client(scopes={"*": "read"})
    subscribe(http, receiver.url)  # registered while 127.0.0.0/8 was allowed
    make_station()
    (delivery,) = webhooks.dispatch()

    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    assert webhooks.deliver(delivery.pk).status == "retry"
    delivery.refresh_from_db()
    assert receiver.requests == [], "nothing reached the loopback target"
    assert delivery.attempts == 1 and delivery.response_status is None
    assert delivery.error.startswith("Bị từ chối") and "127.0.0.1" in delivery.error

    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.0/8"]
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
    assert webhooks.deliver(delivery.pk).status == "delivered"
    assert len(receiver.requests) == 1


@pytest.mark.django_db
def test_localhost_by_name_is_refused_at_delivery(
    feed_now, token_client, make_station, receiver, settings
):
    http = token_client(scopes={"*": "read"})
    subscribe(http, receiver.url.replace("127.0.0.1", "localhost"))
    make_station()
    (delivery,) = webhooks.dispatch()
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == [] and "localhost" in delivery.error


@pytest.mark.django_db
def test_dns_rebinding_after_registration_is_refused_at_delivery(
    feed_now, token_client, make_station, receiver, settings, local_targets
):
    settings.WEBHOOK_ALLOWED_PRIVATE_NETWORKS = []
    port = receiver.server.server_port
    local_targets["rebind.example.org"] = [PUBLIC_IP]
    subscribe(token_client(scopes={"*": "read"}), f"http://rebind.example.org:{port}/h")
    make_station()
    (delivery,) = webhooks.dispatch()
    local_targets["rebind.example.org"] = ["127.0.0.1"]  # the name now points inside
    webhooks.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert receiver.requests == [] and "Bị từ chối" in delivery.error


@pytest.mark.django_db
def test_the_post_goes_to_the_checked_address_with_the_host_name(
    feed_now, token_client, make_station, receiver, local_targets
):
    """The host name is resolved once, by the check; the connection goes to that address (no DNS
    server knows hooks.example.org here), with the name in the Host header."""
    port = receiver.server.server_port
    answers = iter([["127.0.0.1"], ["127.0.0.1"], ["169.254.169.254"]])
    local_targets["hooks.example.org"] = lambda: next(answers)
    subscribe(token_client(scopes={"*": "read"}), f"http://hooks.example.org:{port}/h")
    make_station()
    (delivery,) = webhooks.dispatch()
    assert webhooks.deliver(delivery.pk).status == "delivered"
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.org:{port}"


@pytest.mark.django_db
def test_a_redirect_to_a_private_address_is_not_followed(
    feed_now, token_client, make_station, receiver
):
    inside = Receiver()  # stands for a private service the redirect points at
    try:
        receiver.statuses = [307]
        receiver.location = inside.url
        subscribe(token_client(scopes={"*": "read"}), receiver.url)
        make_station()
        (delivery,) = webhooks.dispatch()
        assert webhooks.deliver(delivery.pk).status == "retry"
        delivery.refresh_from_db()
        assert delivery.response_status == 307 and "307" in delivery.error
        assert len(receiver.requests) == 1 and inside.requests == []
    finally:
        inside.close()
