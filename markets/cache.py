"""Listing pages are cached for LISTING_CACHE_SECONDS under a catalogue version; any write to
markets bumps the version (after commit), and a page holding a market that expires sooner is kept
only until then, so a cached page never outlives the data it shows.
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

from thisthat.cache import cache_or, cached

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


def listing_cached(
    namespace: str,
    params: dict[str, Any],
    build: Callable[[], Any],
    *,
    changes_at: Callable[[], datetime | None] = lambda: None,
) -> Any:
    """`build()`'s page, cached; `changes_at()` (asked after building) is the first moment the page
    stops being true without any write, e.g. a market on it expiring: the page is dropped then."""
    version = cache_or(_version, fallback=lambda: None, what="markets listing version")
    if version is None:
        return build()
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def timeout() -> int:
        moment = changes_at()
        if moment is None:
            return LISTING_CACHE_SECONDS
        return max(1, min(LISTING_CACHE_SECONDS, math.ceil((moment - timezone.now()).total_seconds())))

    return cached(f"markets:{namespace}:v{version}:{digest}", build, timeout=timeout)


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
