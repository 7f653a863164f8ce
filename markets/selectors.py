from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from .cache import listing_cached
from .dependents import has_open_positions
from .errors import MarketNotFound
from .models import SETTLED_STATUSES, Market, MarketStatus, MarketType, OddsPoint

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


def market_list(*, filters: MarketFilters, now: datetime | None = None) -> QuerySet[Market]:
    markets = Market.objects.all()
    if filters.status != "all":
        markets = markets.with_status_at(filters.status, now or timezone.now())
    if filters.category:
        markets = markets.filter(category_slug=slugify(filters.category))
    if filters.market_type:
        markets = markets.filter(market_type=filters.market_type)
    if filters.q:
        markets = markets.filter(title__icontains=filters.q)
    return markets.order_by(*SORTS[filters.sort])


def market_id_parsed(market_id: str | UUID) -> UUID:
    """A market id in the one form of its many spellings (case, dashes, braces, `urn:uuid:`); a
    malformed one is MARKET_NOT_FOUND."""
    try:
        return UUID(str(market_id))
    except ValueError as exc:
        raise MarketNotFound() from exc


def market_page_body(*, market_id: str | UUID, render: Callable[[Market], Any]) -> bytes:
    """A market's page as the response body, `render(market)` building it: kept rendered under the
    catalogue version (one page per market, however its id is spelled) until the market expires.
    A credits market's page is always built anew: its odds move with every trade, which leaves the
    catalogue version alone (markets.services.market_maker_trade)."""
    market_pk = market_id_parsed(market_id)
    found: list[Market] = []

    def build() -> Any:
        found.append(market_get(market_id=market_pk))
        return render(found[0])

    def expiry() -> datetime | None:
        expires_at = found[0].expires_at
        return expires_at if expires_at and expires_at > timezone.now() else None

    return listing_cached(
        "detail", {"id": str(market_pk)}, build, changes_at=expiry, keep=lambda: not found[0].has_maker
    )


def market_get(*, market_id: str | UUID) -> Market:
    """A market by id; a malformed or unknown id is MARKET_NOT_FOUND."""
    try:
        return Market.objects.get(pk=market_id_parsed(market_id))
    except Market.DoesNotExist as exc:
        raise MarketNotFound() from exc


def market_categories() -> list[dict]:
    """Categories with open markets, busiest first."""
    rows = (
        Market.objects.open_at(timezone.now())
        .values("category_slug")
        .annotate(name=Min("category"), open_markets=Count("id"))
        .order_by("-open_markets", "category_slug")
    )
    return [{"name": row["name"], "slug": row["category_slug"], "open_markets": row["open_markets"]} for row in rows]


def open_markets_next_expiry() -> datetime | None:
    """When the next open market expires (a cached count of open markets ends then)."""
    return Market.objects.open_at(timezone.now()).aggregate(next=Min("expires_at"))["next"]


def markets_random(*, count: int) -> list[Market]:
    return list(Market.objects.open_at(timezone.now()).order_by("?")[:count])


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


def odds_history(*, market_id: UUID) -> QuerySet[OddsPoint]:
    """A market's odds after each change, oldest first."""
    return OddsPoint.objects.filter(market_id=market_id).order_by("recorded_at", "id")


# Results already checked this recently are not asked about again.
RESULT_RECHECK_EVERY = timedelta(hours=1)


def markets_for_result_recheck(*, limit: int, now: datetime, days: int) -> list[Market]:
    """Polymarket markets we settled in the last `days`, not checked within the hour, least recently
    checked first: the poller asks upstream whether their final result still matches ours."""
    return list(
        Market.objects.filter(
            market_type=MarketType.POLYMARKET, status__in=SETTLED_STATUSES, resolved_at__gte=now - timedelta(days=days)
        )
        .filter(Q(resolution_checked_at__isnull=True) | Q(resolution_checked_at__lt=now - RESULT_RECHECK_EVERY))
        .order_by(F("resolution_checked_at").asc(nulls_first=True), "resolved_at", "id")[:limit]
    )
