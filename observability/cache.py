"""The cache backends with each call timed (thisthat_cache_call_duration_seconds by method). With
METRICS_ENABLED the settings swap the configured backend for its timed subclass here, keeping its
location and options."""

import functools
import time
from collections.abc import Callable

from django.core.cache.backends.db import DatabaseCache as _DatabaseCache
from django_redis.cache import RedisCache as _RedisCache

from . import metrics

CALLS = ("get", "set", "add", "delete", "get_many", "set_many", "delete_many", "incr", "decr", "touch", "has_key")


def _timed(name: str, method: Callable) -> Callable:
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        except Exception:
            metrics.cache_call_errors.labels(name).inc()
            raise
        finally:
            metrics.cache_timer(name).observe(time.perf_counter() - started)

    return call


def timed(backend: type) -> type:
    """A subclass of `backend` whose calls in CALLS are timed."""
    return type(backend.__name__, (backend,), {name: _timed(name, getattr(backend, name)) for name in CALLS})


RedisCache = timed(_RedisCache)
DatabaseCache = timed(_DatabaseCache)
