from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils.text import slugify

from .dependents import has_open_positions
from .errors import MarketNotFound
from .models import Market, MarketStatus, MarketType

SORTS = {
    "trending": ["-volume", "id"],
    "liquidity": ["-liquidity", "id"],
    "expires_soon": ["expires_at", "id"],  # NULLs (no end date) sort last in ascending order
    "newest": ["-created_at", "id"],
}


@dataclass(frozen=True)
class MarketFilters:
    status: str = MarketStatus.OPEN  # or "all"
    category: str = ""
    market_type: str = ""
    q: str = ""
    sort: str = "trending"


def market_list(*, filters: MarketFilters) -> QuerySet[Market]:
    markets = Market.objects.all()
    if filters.status != "all":
        markets = markets.filter(status=filters.status)
    if filters.category:
        markets = markets.filter(category_slug=slugify(filters.category))
    if filters.market_type:
        markets = markets.filter(market_type=filters.market_type)
    if filters.q:
        markets = markets.filter(title__icontains=filters.q)
    return markets.order_by(*SORTS[filters.sort])


def market_get(*, market_id: str | UUID) -> Market:
    """A market by id; a malformed or unknown id is MARKET_NOT_FOUND."""
    try:
        return Market.objects.get(pk=UUID(str(market_id)))
    except (ValueError, Market.DoesNotExist) as exc:
        raise MarketNotFound() from exc


def market_categories() -> list[dict]:
    """Categories with open markets, busiest first."""
    rows = (
        Market.objects.filter(status=MarketStatus.OPEN)
        .values("category_slug")
        .annotate(name=Min("category"), open_markets=Count("id"))
        .order_by("-open_markets", "category_slug")
    )
    return [{"name": row["name"], "slug": row["category_slug"], "open_markets": row["open_markets"]} for row in rows]


def markets_random(*, count: int) -> list[Market]:
    return list(Market.objects.filter(status=MarketStatus.OPEN).order_by("?")[:count])


def markets_for_odds_sync(*, limit: int) -> list[Market]:
    """Open Polymarket markets with CLOB tokens: those with pending bets first, then the most traded."""
    return list(
        Market.objects.filter(status=MarketStatus.OPEN, market_type=MarketType.POLYMARKET)
        .exclude(this_token_id="")
        .annotate(has_pending_bets=has_open_positions())
        .order_by("-has_pending_bets", "-volume_24h", "-volume", "id")
        .only("id", "this_token_id", "that_token_id")[:limit]
    )


# An open market missing from the open listing this long may have closed early upstream.
UNLISTED_AFTER = timedelta(minutes=30)


def markets_for_resolution_poll(*, limit: int, now: datetime) -> list[Market]:
    """Unsettled Polymarket markets that may have resolved: closed, past their end date, gone from
    the open listing, or carrying pending bets; the ones asked about least recently first, so every
    candidate gets its turn."""
    return list(
        Market.objects.filter(market_type=MarketType.POLYMARKET, status__in=[MarketStatus.OPEN, MarketStatus.CLOSED])
        .annotate(has_pending_bets=has_open_positions())
        .filter(
            Q(status=MarketStatus.CLOSED)
            | Q(expires_at__lte=now)
            | Q(listed_at__lt=now - UNLISTED_AFTER)
            | Q(has_pending_bets=True)
        )
        .order_by(F("resolution_checked_at").asc(nulls_first=True), "expires_at", "id")[:limit]
    )


# Namespace of the per-market advisory locks (the second key is a hash of the market id).
_MARKET_LOCK_SPACE = 7_301


def market_lock(*, market_id: str | UUID, exclusive: bool) -> Market:
    """The market row, locked until the transaction ends: shared for bets and sales (they never
    wait for each other), exclusive for resolution and settlement (they wait for those in flight,
    and bets after them see the market settled).

    On PostgreSQL an advisory lock is taken first: its queue is fair, so a waiting resolution holds
    back new bets instead of being starved by a stream of them (row share locks do not queue).
    SQLite (embedded mode) has no row locks: its IMMEDIATE transactions serialize writers anyway."""
    try:
        pk = UUID(str(market_id))
    except ValueError as exc:
        raise MarketNotFound() from exc
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            cursor.execute(f"SELECT {function}(%s, hashtext(%s))", [_MARKET_LOCK_SPACE, str(pk)])
    if exclusive:
        market = Market.objects.select_for_update().filter(pk=pk).first()
    elif connection.vendor == "postgresql":
        table = Market._meta.db_table
        market = next(iter(Market.objects.raw(f"SELECT * FROM {table} WHERE id = %s FOR SHARE", [pk])), None)
    else:
        market = Market.objects.filter(pk=pk).first()
    if market is None:
        raise MarketNotFound()
    return market
