"""The boards in the cache (Redis in production): pages keyed by the run that computed them, so a
new recomputation replaces every page at once; a cold cache is refilled from the database."""

from collections.abc import Callable
from typing import Any

from django.core.cache import cache

from .models import RankingRun

PAGE_SECONDS = 30 * 60
PREFILLED_LIMIT = 100  # each run writes the first page of every board at the default page size
_LATEST_RUN_KEY = "leaderboard:latest-run"
_REQUESTED_KEY = "leaderboard:recompute-requested"


def latest_run() -> RankingRun | None:
    run = cache.get(_LATEST_RUN_KEY)
    if run is None:
        run = RankingRun.objects.order_by("-computed_at").first()
        if run is not None:
            cache.set(_LATEST_RUN_KEY, run, timeout=PAGE_SECONDS)
    return run


def page(board: str, period: str, limit: int, offset: int, *, run: RankingRun, load: Callable[[], Any]) -> Any:
    return cache.get_or_set(f"leaderboard:{board}:{period}:{limit}:{offset}:{run.pk}", load, timeout=PAGE_SECONDS)


def run_publish(run: RankingRun) -> None:
    """Make `run` the one boards are read from (its pages are keyed by it)."""
    cache.set(_LATEST_RUN_KEY, run, timeout=PAGE_SECONDS)


def recompute_request() -> bool:
    """Mark a recomputation as wanted; True when nobody had asked yet (the caller enqueues one run)."""
    return cache.add(_REQUESTED_KEY, 1, timeout=PAGE_SECONDS)


def recompute_requested() -> bool:
    return cache.get(_REQUESTED_KEY) is not None


def recompute_request_clear() -> None:
    cache.delete(_REQUESTED_KEY)
