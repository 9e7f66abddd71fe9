"""Faults with the real services: a Redis of the test's own that is stopped or frozen (SIGSTOP), a
worker process killed whole mid-task, a database connection terminated mid-task. The shared Redis
on 6379 is never touched: the cache and the broker are pointed at a private redis-server."""

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core import cache as degrading_cache
from core import health, outbox
from core.models import OutboxMessage
from reports import services as report_services
from reports.models import ReportRun
from reports.tests import factories
from stations.tests.conftest import make_station  # noqa: F401  (fixture)

pytestmark = [pytest.mark.worker]

BASE = Path(__file__).resolve().parents[2]
RUNS = "/api/v1/report-runs/"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test only: start, stop (kill), freeze (SIGSTOP), thaw."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)

    def freeze(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self):
        os.kill(self.process.pid, signal.SIGCONT)


@pytest.fixture
def own_redis():
    server = OwnRedis().start()
    degrading_cache.reset()
    outbox.reset()
    yield server
    server.stop()
    degrading_cache.reset()
    outbox.reset()


@pytest.fixture
def cache_on(settings):
    def point(url):
        settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
        degrading_cache.reset()

    return point


def _reset_pools(app):
    # kombu keeps its connection and producer pools in global groups keyed by the connection:
    # closing one in place would leave later tests (same broker URL) an "Acquire on closed pool".
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_at(url):
    """The Celery app (producer side) sends to ``url`` for the block."""
    from hanoi_infra.celery import app

    saved = app.conf.broker_url
    _reset_pools(app)
    app.conf.broker_url = url
    outbox.reset()
    try:
        yield app
    finally:
        _reset_pools(app)
        app.conf.broker_url = saved
        outbox.reset()


def wait_for(predicate, timeout=60, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("condition not met in time")


def timed(call):
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


def spam_report(admin):
    sections = [{"title": "Tin nhắn rác", "indicators": ["spam_reports.reports_received"]}]
    return factories.definition(admin, sections=sections)


# --- Redis stopped or frozen: reads keep serving ---------------------------------------------


@pytest.mark.django_db
def test_pages_and_api_serve_when_redis_is_stopped(
    own_redis, cache_on, client, role_user, token_client, caplog
):
    cache_on(own_redis.url)
    official = role_user("city_official")
    client.force_login(official)
    api = token_client()
    assert client.get("/").status_code == 200  # warm: templates, panels
    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="hanoi_infra.cache")
    response, took = timed(lambda: client.get("/"))
    assert response.status_code == 200 and took < 1.5
    for _ in range(3):  # the API client's throttle counts in the cache: it lets the request in
        response, took = timed(lambda: api.get("/api/v1/organizations/"))
        assert response.status_code == 200, response.content
        assert took < 1.5
    warnings = [r for r in caplog.records if r.name == "hanoi_infra.cache"]
    assert len(warnings) == 1 and "cache unavailable" in warnings[0].getMessage()


@pytest.mark.django_db
def test_the_api_throttle_lets_requests_in_when_its_cache_fails(
    own_redis, settings, token_client, caplog
):
    # Even on a plain RedisCache (no degrading backend) the throttle fails open with a log line.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": own_redis.url,
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.5},
        }
    }
    api = token_client()
    assert api.get("/api/v1/organizations/").status_code == 200
    own_redis.stop()
    caplog.set_level(logging.WARNING, logger="hanoi_infra.throttle")
    for _ in range(3):
        response, took = timed(lambda: api.get("/api/v1/organizations/"))
        assert response.status_code == 200, response.content[:300]
        assert took < 2.0
    assert any("throttle unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_frozen_redis_costs_one_timeout_then_the_breaker_skips_it(
    own_redis, cache_on, client, role_user
):
    cache_on(own_redis.url)
    client.force_login(role_user("city_official"))
    assert client.get("/").status_code == 200
    own_redis.freeze()
    try:
        start = time.monotonic()
        for _ in range(5):
            assert client.get("/").status_code == 200
        took = time.monotonic() - start
    finally:
        own_redis.thaw()
    # One socket timeout (0.5 s) for the first cache call; the breaker skips Redis afterwards.
    assert took < 2.5, took
    assert not degrading_cache.available()


@pytest.mark.django_db
def test_healthz_with_redis_frozen_is_degraded_and_quick(own_redis, cache_on, client, settings):
    cache_on(own_redis.url)
    settings.CELERY_BROKER_URL = own_redis.url
    own_redis.freeze()
    try:
        response, took = timed(lambda: client.get("/healthz"))
    finally:
        own_redis.thaw()
    assert response.status_code == 200 and took < 2.5
    body = response.json()
    assert body["status"] == "degraded" and body["database"]["ok"] is True
    assert body["cache"]["ok"] is False and "broker" in body["down"]


# --- Broker down: the work is kept in the outbox and runs once when it is back --------------


@pytest.mark.django_db(transaction=True)
def test_report_run_requested_with_broker_down_runs_once_when_it_is_back(
    reference_data, own_redis, cache_on, as_role, role_user, outbox_to_queue
):
    from celery.contrib.testing.worker import start_worker

    cache_on(own_redis.url)
    report = spam_report(role_user("administrator"))
    key = factories.latest(report).key
    client = as_role("city_official")
    queue = f"test-{os.getpid()}-{own_redis.port}"
    sent = outbox_to_queue(queue)
    with broker_at(own_redis.url) as app:
        own_redis.stop()
        response, took = timed(
            lambda: client.post(RUNS, {"definition": report.code, "period": key}, format="json")
        )
        assert response.status_code == 202, response.content
        assert took < 3.0, took
        run = ReportRun.objects.get(public_id=response.json()["id"])
        assert run.status == "queued"
        message = OutboxMessage.objects.get()
        assert (message.task, message.args, message.sent_at) == (
            "reports.tasks.compute_run",
            [run.pk],
            None,
        )
        # Asked again while queued: the same run, nothing more kept to send.
        again = client.post(RUNS, {"definition": report.code, "period": key}, format="json")
        assert again.status_code == 202 and again.json()["id"] == str(run.public_id)
        assert OutboxMessage.objects.count() == 1 and outbox.drain() == 0
        assert sent == []

        own_redis.start()  # the broker is back (same port, empty)
        with start_worker(
            app, pool="threads", concurrency=1, queues=[queue], perform_ping_check=False
        ):
            assert outbox.drain() == 1
            wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "ready", timeout=120)
            assert outbox.drain() == 0  # sent once
            time.sleep(1)
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("ready", 1) and run.xlsx
    assert OutboxMessage.objects.get().sent_at is not None and len(sent) == 1


def spam_csv(n, name="reports.csv"):
    from spam_reports.tests.factories import csv_file, days_ago

    when = timezone.localtime(days_ago(2)).strftime("%d/%m/%Y %H:%M")
    header = ["channel", "sender", "recipient", "content", "received_at"]
    return csv_file(
        [header] + [["sms", f"09123456{i:02d}", "0987654321", f"Vay {i}", when] for i in range(n)],
        name=name,
    )


@pytest.mark.django_db(transaction=True)
def test_spam_import_with_broker_down_is_kept_and_runs_once_when_it_is_back(
    reference_data, own_redis, cache_on, role_user, outbox_to_queue
):
    from celery.contrib.testing.worker import start_worker
    from rest_framework.test import APIClient

    from core.models import ImportJob
    from spam_reports.models import SpamReport

    cache_on(own_redis.url)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(role_user("operator_viettel"))
    queue = f"test-import-{own_redis.port}"
    sent = outbox_to_queue(queue)
    with broker_at(own_redis.url) as app:
        own_redis.stop()
        response, took = timed(
            lambda: client.post("/api/v1/spam-imports/", {"file": spam_csv(5)}, format="multipart")
        )
        assert response.status_code == 202, response.content
        assert took < 3.0, took
        job = ImportJob.objects.get(public_id=response.json()["id"])
        assert job.status == "queued" and outbox.unsent_count() == 1 and sent == []
        own_redis.start()
        with start_worker(
            app, pool="threads", concurrency=1, queues=[queue], perform_ping_check=False
        ):
            assert outbox.drain() == 1
            wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "done", timeout=120)
            assert outbox.drain() == 0
    job.refresh_from_db()
    assert (job.created_count, job.attempts) == (5, 1) and SpamReport.objects.count() == 5
    assert len(sent) == 1


# --- A task that loses its database connection retries on a fresh one ------------------------


@pytest.fixture
def connection_killing_indicator():
    from core import indicators

    state = {"kills": 1, "calls": 0}

    @indicators.indicator("tests.drops_connection", "Drops its connection", "count")
    def drops(window, by=None):
        state["calls"] += 1
        if state["kills"] > 0:
            state["kills"] -= 1
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return 3

    yield state
    indicators.REGISTRY.pop("tests.drops_connection", None)


@pytest.mark.django_db(transaction=True)
def test_a_task_whose_connection_is_terminated_retries_and_finishes(
    celery_worker_queue, outbox_to_queue, role_user, connection_killing_indicator
):
    sections = [{"title": "Thử", "indicators": ["tests.drops_connection"]}]
    report = factories.definition(role_user("administrator"), sections=sections)
    sent = outbox_to_queue(celery_worker_queue)
    run = report_services.request_run(
        role_user("city_official"), report, factories.latest(report).key
    )
    assert len(sent) == 1
    wait_for(lambda: ReportRun.objects.get(pk=run.pk).status in ("ready", "failed"), timeout=120)
    run.refresh_from_db()
    assert run.status == "ready", run.error
    assert run.attempts == 2  # the first attempt lost its connection
    assert run.snapshot["sections"][0]["rows"][0]["value"] == 3


@pytest.mark.django_db(transaction=True)
def test_a_task_that_keeps_losing_its_connection_ends_failed_with_the_error(
    celery_worker_queue, outbox_to_queue, role_user, connection_killing_indicator, monkeypatch
):
    from reports import tasks

    monkeypatch.setattr(tasks.compute_run, "db_retry_countdown", 0)
    connection_killing_indicator["kills"] = 100
    sections = [{"title": "Thử", "indicators": ["tests.drops_connection"]}]
    report = factories.definition(role_user("administrator"), sections=sections)
    outbox_to_queue(celery_worker_queue)
    run = report_services.request_run(
        role_user("city_official"), report, factories.latest(report).key
    )
    wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "failed", timeout=120)
    run.refresh_from_db()
    assert "Quá trình lập báo cáo bị dừng" in run.error and run.attempts == 4  # 1 + max_retries


# --- A worker killed whole mid-task: the sweeper fails the run, a retry runs it once ---------


def start_worker_process(queue, broker, visibility_timeout=None, env=None):
    """A worker process (solo pool) on ``queue``; ``env``: more settings through the environment."""
    short = (
        {
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        }
        if visibility_timeout
        else {}
    )
    env = {
        **os.environ,
        **short,
        "DATABASE_URL": (
            f"postgis://postgres@127.0.0.1:5432/{settings.DATABASES['default']['NAME']}"
        ),
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": broker,
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hanoi_infra", "worker", "-Q", queue, "-P", "solo"]
        + ["--without-mingle", "--without-gossip", "--without-heartbeat", "-l", "warning"],
        cwd=BASE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_run_is_swept_and_retried_once(
    reference_data, own_redis, role_user, outbox_to_queue
):
    official = role_user("city_official")
    report = spam_report(role_user("administrator"))
    queue = f"test-kill-{own_redis.port}"
    outbox_to_queue(queue)
    dsn = f"host=127.0.0.1 user=postgres dbname={settings.DATABASES['default']['NAME']}"
    with broker_at(own_redis.url):
        worker = start_worker_process(queue, own_redis.url)
        try:
            # The table the indicator reads is locked: the worker's computation waits mid-run.
            lock = psycopg2.connect(dsn)
            try:
                lock.cursor().execute("LOCK TABLE spam_reports_spamreport IN ACCESS EXCLUSIVE MODE")
                run = report_services.request_run(official, report, factories.latest(report).key)
                wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "running", timeout=120)
                os.kill(worker.pid, signal.SIGKILL)  # the worker dies whole, mid-task
                worker.wait(10)
            finally:
                lock.close()
            run.refresh_from_db()
            assert run.status == "running"
            assert report_services.sweep_stuck() == []  # not stuck yet by the real limit
            assert report_services.sweep_stuck(limit=timedelta(0)) == [run.pk]
            run.refresh_from_db()
            assert run.status == "failed" and "bị gián đoạn trong khi lập báo cáo" in run.error
            worker = start_worker_process(queue, own_redis.url)
            report_services.retry(official, run)
            wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "ready", timeout=120)
        finally:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(30)
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("ready", 2) and run.xlsx and run.pdf
    assert ReportRun.objects.filter(definition=report).count() == 1


@contextmanager
def locked(table):
    """The table is locked from another connection: a task that writes or reads it waits."""
    dsn = f"host=127.0.0.1 user=postgres dbname={settings.DATABASES['default']['NAME']}"
    lock = psycopg2.connect(dsn)
    try:
        lock.cursor().execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        lock.close()


@contextmanager
def worker_processes():
    started = []
    try:
        yield started
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(30)


@pytest.mark.django_db(transaction=True)
def test_worker_killed_whole_mid_run_the_run_is_delivered_again_and_computed_once(
    reference_data, own_redis, role_user, outbox_to_queue
):
    official = role_user("city_official")
    report = spam_report(role_user("administrator"))
    queue = f"test-redeliver-{own_redis.port}"
    outbox_to_queue(queue)
    with broker_at(own_redis.url), worker_processes() as workers:
        workers.append(start_worker_process(queue, own_redis.url))
        with locked("spam_reports_spamreport"):
            run = report_services.request_run(official, report, factories.latest(report).key)
            wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "running", timeout=120)
            os.kill(workers[0].pid, signal.SIGKILL)  # the whole worker, mid-task, no ack
            workers[0].wait(10)
            # Another worker; a short visibility timeout stands for the production one.
            workers.append(start_worker_process(queue, own_redis.url, visibility_timeout=3))
        wait_for(lambda: ReportRun.objects.get(pk=run.pk).status == "ready", timeout=120)
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("ready", 2) and run.xlsx and run.pdf
    assert ReportRun.objects.filter(definition=report).count() == 1


@pytest.mark.django_db(transaction=True)
def test_worker_killed_whole_mid_import_the_import_resumes_and_stores_each_row_once(
    reference_data, own_redis, role_user, outbox_to_queue
):
    from core.models import ImportJob
    from spam_reports import services as spam_services
    from spam_reports.models import SpamReport

    queue = f"test-redeliver-import-{own_redis.port}"
    outbox_to_queue(queue)
    with broker_at(own_redis.url), worker_processes() as workers:
        workers.append(start_worker_process(queue, own_redis.url))
        with locked("spam_reports_spamreport"):
            job = spam_services.start_import(role_user("operator_viettel"), spam_csv(7))
            wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "running", timeout=120)
            time.sleep(0.5)  # the handler now waits on the locked table
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].wait(10)
            workers.append(start_worker_process(queue, own_redis.url, visibility_timeout=3))
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == "done", timeout=120)
    job.refresh_from_db()
    assert (job.created_count, job.processed, job.attempts) == (7, 7, 2)
    assert SpamReport.objects.count() == 7


# --- PostgreSQL restarted: the next request recovers ------------------------------------------


def wsgi_get(path, **headers):
    """A request through Django's real WSGI handler (request_started closes unusable connections,
    which the test client skips)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.client import RequestFactory

    environ = RequestFactory()._base_environ(PATH_INFO=path, REQUEST_METHOD="GET", **headers)
    status = {}

    def start_response(line, response_headers, exc_info=None):
        status["code"] = int(line.split()[0])

    body = b"".join(WSGIHandler()(environ, start_response))
    return status["code"], body


@pytest.mark.django_db(transaction=True)
def test_after_the_database_drops_every_connection_the_next_request_succeeds(
    reference_data, token_client
):
    api = token_client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {api.raw_token}"}
    assert wsgi_get("/healthz")[0] == 200
    assert wsgi_get("/api/v1/organizations/", **auth)[0] == 200
    assert connection.connection is not None  # kept (CONN_MAX_AGE)
    name = settings.DATABASES["default"]["NAME"]
    killer = psycopg2.connect(f"host=127.0.0.1 user=postgres dbname={name}")
    try:
        cursor = killer.cursor()
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        assert cursor.fetchone()[0] >= 1
    finally:
        killer.close()
    code, body = wsgi_get("/api/v1/organizations/", **auth)
    assert code == 200, body[:300]
    code, body = wsgi_get("/healthz")
    assert code == 200 and b'"database": {"ok": true' in body, body[:300]


def test_visibility_timeout_is_sized_to_the_longest_task():
    from hanoi_infra.celery import app

    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert app.conf.task_time_limit < visibility <= app.conf.task_time_limit + 15 * 60
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert "core-outbox-drain" in app.conf.beat_schedule
    assert "reports-sweep-stuck" in app.conf.beat_schedule
    assert "core-sweep-stuck" in app.conf.beat_schedule


def test_health_report_names_the_components():
    assert health.HEARTBEAT_STALE_AFTER >= 120
