"""A Redis cache that degrades open.

When Redis is down or frozen, every cache call would raise (or wait for its socket timeout). This
backend turns a Redis error into a miss (``get`` returns the default, ``set``/``delete`` do
nothing), logs one warning line at most every ``LOG_EVERY`` seconds, and opens a circuit breaker:
for ``BREAKER_SECONDS`` after a failure Redis is not asked at all, so a frozen Redis costs one
socket timeout per few seconds, not one per call. Pages and the API throttle (which counts in this
cache) keep serving; the throttle then allows the request.
"""

import functools
import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger("hanoi_infra.cache")

BREAKER_SECONDS = 5.0
LOG_EVERY = 30.0

_state = {"open_until": 0.0, "logged_at": 0.0}
_lock = threading.Lock()


def available():
    """False while the breaker is open (Redis failed in the last few seconds)."""
    return time.monotonic() >= _state["open_until"]


def reset():
    """Close the breaker (tests; the next call asks Redis again)."""
    with _lock:
        _state["open_until"] = 0.0
        _state["logged_at"] = 0.0


def trip(exc, operation=""):
    now = time.monotonic()
    with _lock:
        _state["open_until"] = now + BREAKER_SECONDS
        should_log = now - _state["logged_at"] >= LOG_EVERY or not _state["logged_at"]
        if should_log:
            _state["logged_at"] = now
    if should_log:
        log.warning(
            "cache unavailable (%s: %s); serving without it for %ss",
            operation,
            exc,
            BREAKER_SECONDS,
        )


def _degrade(default=None, *, result_arg=None):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            if not available():
                return _fallback(args, kwargs, default, result_arg)
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                trip(exc, method.__name__)
                return _fallback(args, kwargs, default, result_arg)

        return call

    return wrap


def _fallback(args, kwargs, default, result_arg):
    if result_arg is not None:
        name, position = result_arg
        if name in kwargs:
            return kwargs[name]
        if len(args) > position:
            return args[position]
    return default() if callable(default) else default


class DegradingRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache that behaves as a miss while Redis is away."""

    get = _degrade(result_arg=("default", 1))(RedisCache.get)
    set = _degrade()(RedisCache.set)
    add = _degrade(False)(RedisCache.add)
    touch = _degrade(False)(RedisCache.touch)
    delete = _degrade(False)(RedisCache.delete)
    get_many = _degrade(dict)(RedisCache.get_many)
    set_many = _degrade(list)(RedisCache.set_many)
    delete_many = _degrade()(RedisCache.delete_many)
    has_key = _degrade(False)(RedisCache.has_key)
    clear = _degrade(False)(RedisCache.clear)

    def incr(self, key, delta=1, version=None):
        if not available():
            raise ValueError(f"Key '{key}' not found (cache unavailable)")
        try:
            return super().incr(key, delta, version)
        except RedisError as exc:
            trip(exc, "incr")
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc
