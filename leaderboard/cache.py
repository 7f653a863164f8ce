"""The boards in the cache (Redis in production), keyed by the run that computed them, so a new
recomputation replaces every cached row at once; a cold cache is refilled from the database, and
with the cache down every read goes to the database (slower, still right)."""

from collections.abc import Callable

from django.core.cache import cache

from thisthat.cache import cache_or, cached

from .models import RankingRun

PAGE_SECONDS = 30 * 60
PREFILLED_LIMIT = 100  # each run fills the first block of every board (the default page)
BLOCK_ROWS = 100
CACHED_BLOCKS = 10  # the top 1,000 rows of each board and period
# Versioned: a run cached by an older layout of `RankingRun.ranked` is never read as this one.
_LATEST_RUN_KEY = "leaderboard:latest-run:2"
_REQUESTED_KEY = "leaderboard:recompute-requested"


def latest_run() -> RankingRun | None:
    return cached(_LATEST_RUN_KEY, lambda: RankingRun.objects.order_by("-computed_at").first(), timeout=PAGE_SECONDS)


def page(
    board: str, period: str, limit: int, offset: int, *, run: RankingRun, load: Callable[[int, int], list]
) -> list:
    """Rows [offset, offset + limit) of a board, `load(limit, offset)` reading them from the database.

    The cache holds fixed blocks of BLOCK_ROWS rows, and only the first CACHED_BLOCKS of each
    (board, period, run): any page inside them — whatever its limit and offset — is sliced from
    the blocks it overlaps (fetched in one round trip; the missing ones loaded in one query), and
    a page reaching further is read from the database without caching. Caching each (limit,
    offset) a client asked for would let one client fill Redis, which also holds the broker and the
    locks; blocks bound it to boards x periods x CACHED_BLOCKS keys per run whatever is asked.
    """
    first, last = offset // BLOCK_ROWS, (offset + limit - 1) // BLOCK_ROWS
    if limit <= 0 or last >= CACHED_BLOCKS:
        return load(limit, offset)
    keys = {n: f"leaderboard:{board}:{period}:{run.pk}:block:{n}" for n in range(first, last + 1)}
    found = cache_or(lambda: cache.get_many(list(keys.values())), fallback=lambda: None, what="leaderboard read")
    if found is None:
        return load(limit, offset)
    blocks = {n: found[key] for n, key in keys.items() if key in found}
    missing = [n for n in keys if n not in blocks]
    if missing:
        low, high = missing[0], missing[-1]
        rows = load((high - low + 1) * BLOCK_ROWS, low * BLOCK_ROWS)
        loaded = {n: rows[(n - low) * BLOCK_ROWS : (n - low + 1) * BLOCK_ROWS] for n in missing}
        blocks.update(loaded)
        cache_or(
            lambda: cache.set_many({keys[n]: block for n, block in loaded.items()}, timeout=PAGE_SECONDS),
            fallback=lambda: [],
            what="leaderboard fill",
        )
    start = offset - first * BLOCK_ROWS
    return [row for n in range(first, last + 1) for row in blocks[n]][start : start + limit]


def page_body(
    board: str, period: str, limit: int, offset: int, *, run: RankingRun, render: Callable[[], bytes]
) -> bytes:
    """The response body of a page, `render()` building it. The pages clients page by — one whole
    block inside the cached ones, the default page first — are kept as rendered bytes under the
    run (at most boards x periods x CACHED_BLOCKS bodies per run), so a hit is neither sliced,
    serialised nor rendered; any other page is rendered from the blocks each time."""
    block = offset // BLOCK_ROWS
    if limit != BLOCK_ROWS or offset % BLOCK_ROWS or block >= CACHED_BLOCKS:
        return render()
    return cached(f"leaderboard:{board}:{period}:{run.pk}:body:{block}", render, timeout=PAGE_SECONDS)


def run_publish(run: RankingRun) -> None:
    """Make `run` the one boards are read from (its rows are keyed by it)."""
    cache.set(_LATEST_RUN_KEY, run, timeout=PAGE_SECONDS)


def recompute_request() -> bool:
    """Mark a recomputation as wanted; True when nobody had asked yet (the caller enqueues one run)."""
    return cache.add(_REQUESTED_KEY, 1, timeout=PAGE_SECONDS)


def recompute_requested() -> bool:
    return cache.get(_REQUESTED_KEY) is not None


def recompute_request_clear() -> None:
    cache.delete(_REQUESTED_KEY)
