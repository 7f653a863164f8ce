"""The live-odds read (SPEC §5 `/markets/{id}/live`): the shared price cache, else one request on the
live budget (never the jobs' budget or breaker), else the stored odds marked stale."""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from markets.models import Market, MarketStatus, MarketType
from markets.odds import OddsPair, coherent_odds, price_cache_get, price_cache_put_many
from thisthat.cache import CACHE_ERRORS, cache_unavailable

from .client import UnexpectedPayload, UpstreamRejected
from .connection import polymarket_client
from .resilience import UpstreamUnavailable

logger = logging.getLogger(__name__)


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


def _stored(market: Market, *, stale: bool) -> LiveOdds:
    return LiveOdds(market.id, market.this_odds, market.that_odds, "stored", market.odds_updated_at, stale)


def live_odds(*, market: Market) -> LiveOdds:
    """Fresh odds for one market: the shared cache (≤ 10 s old), else one CLOB request, else the
    stored odds marked stale. Settled, closed and staff-run markets answer with their stored odds."""
    if market.market_type != MarketType.POLYMARKET or market.status != MarketStatus.OPEN:
        return _stored(market, stale=False)
    cached = price_cache_get(market.id)
    if cached is not None:
        return LiveOdds(market.id, cached.odds.this, cached.odds.that, "cache", cached.fetched_at, False)
    pair = _fetched_odds(market)
    if pair is None:
        if market.this_odds is None:
            raise NoOddsAvailable()
        return _stored(market, stale=True)
    fetched_at = timezone.now()
    price_cache_put_many({market.id: pair}, fetched_at=fetched_at)
    return LiveOdds(market.id, pair.this, pair.that, "polymarket", fetched_at, False)


def _fetched_odds(market: Market) -> OddsPair | None:
    """Both sides' midpoints in one request on the live budget; None when Polymarket can't say, the
    budget is spent, or the two prices are not coherent odds."""
    tokens = (market.this_token_id, market.that_token_id)
    if not all(tokens):
        return None
    try:
        prices = polymarket_client(interactive=True).midpoints(tokens)
    except (UpstreamUnavailable, UpstreamRejected, UnexpectedPayload) as exc:
        logger.info("live odds fall back to stored odds", extra={"market_id": str(market.id), "reason": str(exc)})
        return None
    except CACHE_ERRORS as exc:  # the live budget and breaker live in the cache: serve what is stored
        cache_unavailable("live odds budget", exc)
        return None
    pair = coherent_odds(prices.get(tokens[0]), prices.get(tokens[1]))
    if pair is None:
        logger.warning("live odds: incoherent prices refused", extra={"market_id": str(market.id), "prices": prices})
    return pair
