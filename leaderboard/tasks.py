from celery import shared_task
from django.db import OperationalError

from thisthat.cache import cache_or

from . import cache as board_cache
from . import services

DEBOUNCE_SECONDS = 5


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3)
def recompute_ranks() -> dict | None:
    """Every 15 minutes (beat) and shortly after settlements. When another run holds the lock and a
    settlement asked for fresh ranks, try again a little later rather than lose the request."""
    run = services.ranks_recompute()
    if run is None:
        if board_cache.recompute_requested():
            recompute_ranks.apply_async(countdown=DEBOUNCE_SECONDS)
        return None
    return {"users": run.users, "ranked": run.ranked, "duration_seconds": round(run.duration_seconds, 3)}


def recompute_ranks_soon() -> None:
    """Ask for a recomputation; a burst of requests (settlements) coalesces into one run. With the
    cache down nothing is asked: the beat run within 15 minutes catches up."""
    if cache_or(board_cache.recompute_request, fallback=lambda: False, what="leaderboard recompute request"):
        recompute_ranks.apply_async(countdown=DEBOUNCE_SECONDS)
