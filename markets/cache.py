"""Listing pages are cached for LISTING_CACHE_SECONDS under a catalogue version; any write to
markets bumps the version (after commit), so a cached page never outlives the data it shows."""

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction

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


def listing_cached(namespace: str, params: dict[str, Any], build: Callable[[], Any]) -> Any:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return cache.get_or_set(f"markets:{namespace}:v{_version()}:{digest}", build, timeout=LISTING_CACHE_SECONDS)


def listing_invalidate() -> None:
    """Drop every cached listing once the current transaction commits."""

    def bump() -> None:
        try:
            cache.incr(_VERSION_KEY)
        except ValueError:  # no version yet: nothing cached under one either
            _version_start()

    transaction.on_commit(bump)
