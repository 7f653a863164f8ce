"""The shared price cache and the live-odds read (SPEC §5 `/markets/{id}/live`)."""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.utils import timezone

from markets.models import Market, MarketStatus, MarketType

from .client import UnexpectedPayload, UpstreamRejected
from .connection import polymarket_client
from .resilience import UpstreamUnavailable

logger = logging.getLogger(__name__)

PRICE_CACHE_SECONDS = 10
ODDS_PLACES = Decimal("0.0001")


class NoOddsAvailable(Exception):
    """Polymarket is unreachable and the market has no stored odds."""


@dataclass(frozen=True)
class LiveOdds:
    market_id: object
    this_odds: Decimal | None
    that_odds: Decimal | None
    source: str  # "polymarket" | "cache" | "stored"
    fetched_at: datetime | None
    stale: bool


def odds_pair(this_price: Decimal | None, that_price: Decimal | None) -> tuple[Decimal, Decimal] | None:
    """Both sides' odds from CLOB prices; one missing side is the complement of the other.
    None when both are missing or a price lies outside [0, 1]."""
    if this_price is None and that_price is None:
        return None
    if this_price is None:
        this_price = 1 - that_price
    if that_price is None:
        that_price = 1 - this_price
    if not (0 <= this_price <= 1 and 0 <= that_price <= 1):
        return None
    return this_price.quantize(ODDS_PLACES, ROUND_HALF_UP), that_price.quantize(ODDS_PLACES, ROUND_HALF_UP)


def _key(market_id) -> str:
    return f"odds:{market_id}"


def prices_cache_many(odds: dict[object, tuple[Decimal, Decimal]], *, fetched_at: datetime) -> None:
    cache.set_many(
        {_key(market_id): (this_odds, that_odds, fetched_at) for market_id, (this_odds, that_odds) in odds.items()},
        timeout=PRICE_CACHE_SECONDS,
    )


def _stored(market: Market, *, stale: bool) -> LiveOdds:
    return LiveOdds(market.id, market.this_odds, market.that_odds, "stored", market.odds_updated_at, stale)


def live_odds(*, market: Market) -> LiveOdds:
    """Fresh odds for one market: the shared cache (≤ 10 s old), else one CLOB midpoint, else the
    stored odds marked stale. Settled and staff-run markets answer with their stored odds."""
    if market.market_type != MarketType.POLYMARKET or market.status != MarketStatus.OPEN:
        return _stored(market, stale=False)
    cached = cache.get(_key(market.id))
    if cached is not None:
        this_odds, that_odds, fetched_at = cached
        return LiveOdds(market.id, this_odds, that_odds, "cache", fetched_at, False)
    pair = _midpoint_odds(market)
    if pair is None:
        if market.this_odds is None:
            raise NoOddsAvailable()
        return _stored(market, stale=True)
    fetched_at = timezone.now()
    prices_cache_many({market.id: pair}, fetched_at=fetched_at)
    return LiveOdds(market.id, pair[0], pair[1], "polymarket", fetched_at, False)


def _midpoint_odds(market: Market) -> tuple[Decimal, Decimal] | None:
    """Both sides' odds from one CLOB midpoint of the THIS token; None when Polymarket can't say."""
    if not market.this_token_id:
        return None
    try:
        price = polymarket_client(interactive=True).midpoint(market.this_token_id)
    except (UpstreamUnavailable, UpstreamRejected, UnexpectedPayload) as exc:
        logger.info("live odds fall back to stored odds", extra={"market_id": str(market.id), "reason": str(exc)})
        return None
    return odds_pair(price, None)
