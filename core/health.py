"""Reachability of what the portal depends on, for /healthz and for the Celery heartbeat."""

import time
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, connection

HEARTBEAT_KEY = "hanoi_infra:worker-heartbeat"


HEARTBEAT_STALE_AFTER = 180  # seconds: beat sends the heartbeat every minute


def stuck_limit():
    """How long a report run or import job may go without a heartbeat (its ``updated_at``, moved
    at each step) before its worker is taken as lost: past the broker's visibility timeout (which
    is past the tasks' hard time limit) and the minute or so a worker takes to deliver such a task
    again. A task delivered again refreshes the heartbeat when it starts, so the sweepers only fail
    the work nothing will resume."""
    return timedelta(seconds=settings.CELERY_VISIBILITY_TIMEOUT + 180)


def redis_client(url=None, timeout=0.5):
    return redis.Redis.from_url(
        url or settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT PostGIS_Lib_Version()")
            return True, cursor.fetchone()[0]
    except DatabaseError as exc:
        return False, str(exc).strip().splitlines()[0] if str(exc).strip() else "error"


def check_redis(url=None):
    try:
        client = redis_client(url)
        client.ping()
        return True, client.info("server").get("redis_version", "ok")
    except redis.RedisError as exc:
        return False, str(exc)


def last_heartbeat(url=None):
    """Seconds since a Celery worker last ran the heartbeat task, or None (never / Redis down)."""
    try:
        value = redis_client(url).get(HEARTBEAT_KEY)
    except redis.RedisError:
        return None
    return round(time.time() - float(value), 1) if value else None


def record_heartbeat(worker=""):
    now = time.time()
    redis_client().set(HEARTBEAT_KEY, now, ex=24 * 3600)
    return now


def report():
    """/healthz: each component's status, and the HTTP status. The database is the one thing the
    portal cannot serve without (503); Redis (cache, broker) or a missing worker is "degraded"
    (200): pages and the API keep serving, queued work waits in the outbox."""
    from django.conf import settings

    db_ok, db_info = check_database()
    cache_url = settings.CACHES["default"].get("LOCATION") or settings.REDIS_URL
    cache_ok, cache_info = check_redis(cache_url)
    broker_url = settings.CELERY_BROKER_URL
    if broker_url == cache_url:
        broker_ok, broker_info = cache_ok, cache_info
    else:
        broker_ok, broker_info = check_redis(broker_url)
    age = last_heartbeat(broker_url) if broker_ok else None
    worker_ok = age is not None and age <= HEARTBEAT_STALE_AFTER
    unsent = None
    if db_ok:
        try:
            from core import outbox

            unsent = outbox.unsent_count()
        except DatabaseError:
            unsent = None
    components = {
        "database": {"ok": db_ok, "info": db_info},
        "cache": {"ok": cache_ok, "info": cache_info},
        "broker": {"ok": broker_ok, "info": broker_info},
        "worker": {
            "ok": worker_ok,
            "heartbeat_age_s": age,
            "info": "ok" if worker_ok else ("no heartbeat" if age is None else "heartbeat stale"),
        },
        "outbox": {"ok": not unsent, "unsent": unsent},
    }
    if not db_ok:
        overall = "unavailable"
    elif all(c["ok"] for c in components.values()):
        overall = "ok"
    else:
        overall = "degraded"
    body = {
        "status": overall,
        "down": [name for name, c in components.items() if not c["ok"]],
        **components,
        # kept for existing monitors
        "redis": components["cache"],
        "worker_heartbeat_age_s": age,
    }
    return body, 200 if db_ok else 503
