"""The boards in the cache (Redis in production): pages keyed by the run that computed them, so a
new recomputation replaces every page at once; a cold cache is refilled from the standings table."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max

from .models import Period, Standing

PAGE_SECONDS = 30 * 60
PREFILLED_LIMIT = 100  # the first page of every board, at the default page size, is written by each run
_META_KEY = "leaderboard:meta"
_REQUESTED_KEY = "leaderboard:recompute-requested"


def meta() -> dict[str, Any] | None:
    """{"computed_at": datetime, "totals": {period: users}} of the latest run, or None before any."""
    found = cache.get(_META_KEY)
    if found is None:
        computed_at = Standing.objects.aggregate(latest=Max("computed_at"))["latest"]
        if computed_at is None:
            return None
        totals = dict(Standing.objects.values_list("period").annotate(users=Count("id")).order_by())
        found = {"computed_at": computed_at, "totals": totals}
        cache.set(_META_KEY, found, timeout=PAGE_SECONDS)
    return found


def page(board: str, period: str, limit: int, offset: int, *, computed_at: datetime, load: Callable[[], Any]) -> Any:
    key = f"leaderboard:{board}:{period}:{limit}:{offset}:{computed_at.timestamp()}"
    found = cache.get(key)
    if found is None:
        found = load()
        cache.set(key, found, timeout=PAGE_SECONDS)
    return found


def boards_refresh(*, computed_at: datetime) -> None:
    """After a run: publish its meta and prefill the first page of each board and period."""
    from .selectors import board_rows  # selectors read through this module

    cache.delete(_META_KEY)
    fresh = meta()
    for board in ("pnl", "volume"):
        for period in Period.values:
            page(
                board,
                period,
                PREFILLED_LIMIT,
                0,
                computed_at=fresh["computed_at"],
                load=lambda board=board, period=period: board_rows(board, period, PREFILLED_LIMIT, 0),
            )


def recompute_request() -> bool:
    """Mark a recomputation as wanted; True when nobody had asked yet (the caller enqueues one run)."""
    return cache.add(_REQUESTED_KEY, 1, timeout=PAGE_SECONDS)


def recompute_requested() -> bool:
    return cache.get(_REQUESTED_KEY) is not None


def recompute_request_clear() -> None:
    cache.delete(_REQUESTED_KEY)
