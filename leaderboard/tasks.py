from celery import shared_task
from django.db import OperationalError

from thisthat.cache import cache_or

from . import cache as board_cache
from . import selectors, services

DEBOUNCE_SECONDS = 5


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recompute_ranks() -> dict | None:
    """Every 15 minutes (beat) and shortly after settlements, bets and cash-outs. When another run
    holds the lock and fresh ranks were asked for, try again a little later rather than lose the request."""
    run = services.ranks_recompute()
    if run is None:
        if board_cache.recompute_requested():
            recompute_ranks.apply_async(countdown=DEBOUNCE_SECONDS)
        return None
    return {"users": run.users, "ranked": run.ranked, "duration_seconds": round(run.duration_seconds, 3)}


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recompute_ranks_if_never_computed() -> dict | None:
    """Sent when a worker starts: the first run on a fresh install, so boards do not read empty
    until the first 15-minute run."""
    if selectors.ranks_ever_computed():
        return None
    return recompute_ranks()


def recompute_ranks_soon() -> None:
    """Ask for a recomputation; a burst of requests (settlements, bets, cash-outs) coalesces into one
    run: one cache call each (an add), and one enqueued task per burst. With the cache down nothing
    is asked: the beat run within 15 minutes catches up."""
    if cache_or(board_cache.recompute_request, fallback=lambda: False, what="leaderboard recompute request"):
        recompute_ranks.apply_async(countdown=DEBOUNCE_SECONDS)
