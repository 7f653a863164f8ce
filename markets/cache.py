"""Listing pages are cached for LISTING_CACHE_SECONDS under a catalogue version; any write to
markets bumps the version (after commit), and a page holding a market that expires sooner is kept
only until then, so a cached page never outlives the data it shows.
A page is kept as the response body (rendered JSON bytes), so a hit is served without rendering,
and on Redis it is found in one round trip: a Lua script reads the version and the page under it.
With the cache down, pages are built from the database on every request, and a bump that cannot
reach the cache is skipped (pages cached before expire within LISTING_CACHE_SECONDS)."""

import hashlib
import json
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from thisthat.cache import CACHE_ERRORS, cache_or, cache_unavailable, lua_script, redis_client, redis_key, script_run
from thisthat.renderers import render_json

LISTING_CACHE_SECONDS = 60
_VERSION_KEY = "markets:catalogue-version"


def _version() -> int:
    version = cache.get(_VERSION_KEY)
    if version is None:
        _version_start()
        version = cache.get(_VERSION_KEY, 0)
    return version


def _version_start() -> None:
    # Start from the clock, not 1, so a lost version key can never revive pages cached under an old one.
    cache.add(_VERSION_KEY, time.time_ns() // 1_000_000, timeout=None)


# The version, and the page stored under it (its key is ARGV[1] .. version .. ARGV[2]).
_PAGE_LOOKUP = lua_script("""
local version = redis.call('GET', KEYS[1])
if not version then return false end
return {version, redis.call('GET', ARGV[1] .. version .. ARGV[2])}
""")


def _page_key(namespace: str, version: int | str, digest: str) -> str:
    return f"markets:{namespace}:v{version}:{digest}"


def _lookup(namespace: str, digest: str) -> tuple[int | None, bytes | None]:
    """The catalogue version (None: none yet) and the page cached under it (None: not cached)."""
    client = redis_client()
    if client is None:  # Django's database cache (embedded mode)
        version = cache.get(_VERSION_KEY)
        return version, None if version is None else cache.get(_page_key(namespace, version, digest))
    before, after = redis_key(_page_key(namespace, "\0", digest)).split("\0")
    found = script_run(_PAGE_LOOKUP, keys=[redis_key(_VERSION_KEY)], args=[before, after], client=client)
    return (None, None) if found is None else (int(found[0]), found[1])


def _store(key: str, body: bytes, seconds: int) -> None:
    client = redis_client()
    if client is None:
        cache.add(key, body, seconds)
    else:  # raw bytes, as _PAGE_LOOKUP returns them
        client.set(redis_key(key), body, ex=seconds, nx=True)


def listing_cached(
    namespace: str,
    params: dict[str, Any],
    build: Callable[[], Any],
    *,
    changes_at: Callable[[], datetime | None] = lambda: None,
    keep: Callable[[], bool] = lambda: True,
) -> bytes:
    """The response body of `build()`'s page, cached; `changes_at()` (asked after building) is the
    first moment the page stops being true without any write, e.g. a market on it expiring: the
    page is dropped then. A page for which `keep()` (asked after building) is false is not stored:
    it can change without a catalogue version bump."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:32]
    try:
        version, body = _lookup(namespace, digest)
        if body is not None:
            return body
        if version is None:
            version = _version()
    except CACHE_ERRORS as exc:
        cache_unavailable("markets listing", exc)
        return render_json(build())
    body = render_json(build())
    if not keep():
        return body
    moment = changes_at()
    seconds = LISTING_CACHE_SECONDS
    if moment is not None:
        seconds = max(1, min(LISTING_CACHE_SECONDS, math.ceil((moment - timezone.now()).total_seconds())))
    cache_or(lambda: _store(_page_key(namespace, version, digest), body, seconds), fallback=lambda: None,
             what="fill markets listing")  # fmt: skip
    return body


def _bump() -> None:
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:  # no version yet: nothing cached under one either
        _version_start()


def listing_invalidate() -> None:
    """Drop every cached listing once the current transaction commits. Robust, and quiet when the
    cache is down, so it can never stop the hooks registered after it (e.g. a settlement)."""
    transaction.on_commit(
        lambda: cache_or(_bump, fallback=lambda: None, what="markets listing invalidation"), robust=True
    )
