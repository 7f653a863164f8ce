"""The one place that knows the shared cache (Redis in production) can be down — restarting, out of
memory, cut off by the network. A request that reads through the cache goes through `cache_or` or
`cached`, so an outage costs speed (the database answers), never the answer; each failed call logs
one warning. Callers that must refuse rather than degrade (the login rate limits) catch
`CACHE_ERRORS` themselves and report through `cache_unavailable`."""

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import NoScriptError, RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What django-redis (its cache methods) and redis-py (locks, raw clients) raise when Redis cannot answer.
CACHE_ERRORS: tuple[type[Exception], ...] = (ConnectionInterrupted, RedisError)

_MISSING, _UNAVAILABLE = object(), object()


def lua_script(source: str) -> Script:
    """A Lua script run by its digest (EVALSHA: the text goes to Redis once, not with every call)."""
    return Script(None, source.encode())  # the text as bytes: no client needed to digest it


def script_run(script: Script, *, keys: list[str], args: list, client: Redis) -> Any:
    """Run `script` by its digest. Sent as a plain EVALSHA: redis-py's `evalsha` wrapper inspects
    its arguments on every call (8 % of a cached listing's CPU). A Redis that does not know the
    script yet (restarted, flushed) gets it through redis-py's own path, which loads it."""
    try:
        return client.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        return script(keys=keys, args=args, client=client)


def redis_client() -> Redis | None:
    """The shared cache's Redis client, for what the cache API cannot say in one round trip; None when
    the cache is not Redis (Django's database cache in embedded mode)."""
    client = getattr(cache, "client", None)
    return client.get_client(write=True) if hasattr(client, "get_client") else None  # django-redis


def redis_key(key: str) -> str:
    """`key` as the cache stores it (its prefix and version), for raw Redis commands."""
    return cache.client.make_key(key)


# INCR and the first EXPIRE in one round trip, atomically, so a counter never outlives its window.
_INCR_WITH_EXPIRY = lua_script("""
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
""")


def cache_unavailable(what: str, exc: Exception) -> None:
    """Log that `what` went on without the cache (one line, no traceback: an outage repeats it)."""
    logger.warning("cache unavailable: %s", what, extra={"error": exc})


def cache_or(call: Callable[[], T], *, fallback: Callable[[], T], what: str) -> T:
    """`call()`, or `fallback()` when the cache cannot answer."""
    try:
        return call()
    except CACHE_ERRORS as exc:
        cache_unavailable(what, exc)
        return fallback()


def cached(key: str, build: Callable[[], T], *, timeout: int | Callable[[], int]) -> T:
    """Like `cache.get_or_set`, but with the cache down the value is built and served uncached.
    A None from `build` (nothing to show yet) is not stored. A callable `timeout` is asked after
    `build`, so the value can decide how long it stays true."""
    found: Any = cache_or(lambda: cache.get(key, _MISSING), fallback=lambda: _UNAVAILABLE, what=f"read {key}")
    if found is _UNAVAILABLE:
        return build()
    if found is not _MISSING:
        return found
    value = build()
    if value is not None:
        seconds = timeout() if callable(timeout) else timeout
        cache_or(lambda: cache.add(key, value, seconds), fallback=lambda: False, what=f"fill {key}")
    return value


def counter_incr(key: str, *, ttl: int) -> int:
    """Add one to the counter `key` (created with a lifetime of `ttl` seconds) and return it.

    On Redis this is one round trip (a Lua INCR + EXPIRE, by EVALSHA); Django's database cache (embedded mode)
    gets the same result from add/incr/touch. Raises CACHE_ERRORS when the cache cannot answer.
    """
    client = redis_client()
    if client is not None:
        return int(script_run(_INCR_WITH_EXPIRY, keys=[redis_key(key)], args=[ttl], client=client))
    cache.add(key, 0, timeout=ttl)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=ttl)
        count = 1
    cache.touch(key, ttl)  # the database cache's incr resets the expiry
    return count
