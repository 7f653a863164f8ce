"""Odds: the one check every source of odds passes (ingestion, odds sync, live reads, staff), and the
shared price cache that live reads and the odds sync fill and that bets read (SPEC §6)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from uuid import UUID

from django.core.cache import cache

from thisthat.cache import cache_or
from thisthat.money import ODDS_PLACES

from .models import Side

SUM_TOLERANCE = Decimal("0.02")  # THIS + THAT must be 1 ± this
PRICE_CACHE_SECONDS = 10


class OddsPair(NamedTuple):
    this: Decimal
    that: Decimal

    def for_side(self, side: str) -> Decimal:
        return self.this if side == Side.THIS else self.that


class IncoherentOdds(Exception):
    """The two prices cannot be a binary market's odds; `reason` is a stable label for counting."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def odds_checked(this: Decimal | None, that: Decimal | None) -> OddsPair:
    """Both sides present, each in [0, 1], summing to 1 ± SUM_TOLERANCE; quantized to 4 places."""
    if this is None or that is None or not (this.is_finite() and that.is_finite()):
        raise IncoherentOdds("missing_side")
    if not (0 <= this <= 1 and 0 <= that <= 1):
        raise IncoherentOdds("out_of_range")
    if abs(this + that - 1) > SUM_TOLERANCE:
        raise IncoherentOdds("bad_sum")
    return OddsPair(this.quantize(ODDS_PLACES, ROUND_HALF_UP), that.quantize(ODDS_PLACES, ROUND_HALF_UP))


def coherent_odds(this: Decimal | None, that: Decimal | None) -> OddsPair | None:
    try:
        return odds_checked(this, that)
    except IncoherentOdds:
        return None


@dataclass(frozen=True)
class CachedOdds:
    odds: OddsPair
    fetched_at: datetime


def _key(market_id: UUID) -> str:
    return f"odds:{market_id}"


def price_cache_put_many(odds: dict[UUID, OddsPair], *, fetched_at: datetime) -> None:
    """Share freshly fetched (and checked) odds with every process for PRICE_CACHE_SECONDS; without
    the cache the stored odds still hold the prices."""
    values = {_key(market_id): (pair.this, pair.that, fetched_at) for market_id, pair in odds.items()}
    cache_or(
        lambda: cache.set_many(values, timeout=PRICE_CACHE_SECONDS), fallback=lambda: None, what="share fresh odds"
    )


def price_cache_get(market_id: UUID) -> CachedOdds | None:
    """The shared fresh odds of a market, or None (not cached, or the cache is unreachable)."""
    cached = cache_or(lambda: cache.get(_key(market_id)), fallback=lambda: None, what="read fresh odds")
    if cached is None:
        return None
    this, that, fetched_at = cached
    return CachedOdds(OddsPair(this, that), fetched_at)
