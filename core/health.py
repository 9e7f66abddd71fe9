"""Reachability of what the portal depends on, for /healthz and for the Celery heartbeat."""

import time

import redis
from django.conf import settings
from django.db import DatabaseError, connection

HEARTBEAT_KEY = "hanoi_infra:worker-heartbeat"


def redis_client(url=None, timeout=1.0):
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
