"""Pure betting rules (SPEC §6): no ORM, no clock."""

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from markets.maker import MakerState, Trade, cost_to_reach, tradable
from thisthat.money import CENT, ODDS_PLACES, TRADABLE_ODDS_MAX, TRADABLE_ODDS_MIN

from .errors import InvalidBetAmount, OddsChanged, OddsLimitReached, OddsUnavailable, PriceImpactTooLarge
from .models import MAX_BET, MIN_BET

DEFAULT_MAX_SLIPPAGE = Decimal("0.02")
CASH_OUT_TOLERANCE = Decimal("0.02")  # an expectedValue guard refuses a value that fell by more than 2 %


def ensure_valid_amount(amount: Decimal) -> None:
    # The range check comes first: quantizing an absurdly large number would overflow the context.
    if not amount.is_finite() or not MIN_BET <= amount <= MAX_BET or amount != amount.quantize(CENT):
        raise InvalidBetAmount(
            details={"amount": [f"Bets are {MIN_BET} to {MAX_BET} credits with at most 2 decimals."]}
        )


def ensure_tradable(odds: Decimal | None) -> Decimal:
    if odds is None or not TRADABLE_ODDS_MIN <= odds <= TRADABLE_ODDS_MAX:
        raise OddsUnavailable(details={"odds": odds})
    return odds


def ensure_fresh(as_of: datetime | None, *, now: datetime, max_age_seconds: int) -> None:
    """Odds used for money must be younger than `max_age_seconds` (0: no limit)."""
    if max_age_seconds <= 0:
        return
    age = math.inf if as_of is None else (now - as_of).total_seconds()
    if age > max_age_seconds:
        raise OddsUnavailable(
            "The odds of this market are out of date; try again in a moment.",
            details={"ageSeconds": None if as_of is None else math.floor(age), "maxAgeSeconds": max_age_seconds},
        )


def payout_for(amount: Decimal, odds: Decimal) -> Decimal:
    """What a winning bet pays: 100 at 0.65 → 153.85."""
    return (amount / odds).quantize(CENT, ROUND_HALF_UP)


def cash_out_value(potential_payout: Decimal, odds: Decimal) -> Decimal:
    """What an open bet sells for now: its payout times the current odds of its side."""
    return (potential_payout * odds).quantize(CENT, ROUND_HALF_UP)


def value_fell_too_far(value: Decimal, expected_value: Decimal) -> bool:
    return value < expected_value * (1 - CASH_OUT_TOLERANCE)


def ensure_within_slippage(odds: Decimal, expected_odds: Decimal | None, max_slippage: Decimal) -> None:
    """`expectedOdds` ± `maxSlippage` against the odds the bet gets (its average price on a credits market)."""
    if expected_odds is not None and abs(odds - expected_odds) > max_slippage:
        raise OddsChanged(details={"currentOdds": odds, "expectedOdds": expected_odds, "maxSlippage": max_slippage})


@dataclass(frozen=True)
class Fill:
    """What a bet of some amount gets now: `shares` (its potential payout) at `average_odds`, and
    where the side's odds go. Polymarket fills leave the odds where they are; a credits fill carries
    the market maker's state after it."""

    shares: Decimal
    average_odds: Decimal
    odds_before: Decimal
    odds_after: Decimal
    price_impact: Decimal
    maker_after: MakerState | None = None


def _odds(value: Decimal) -> Decimal:
    return value.quantize(ODDS_PLACES, ROUND_HALF_UP)


def mirrored_fill(amount: Decimal, odds: Decimal) -> Fill:
    """A bet on a Polymarket market: its odds are mirrored and do not move."""
    return Fill(
        shares=payout_for(amount, odds), average_odds=odds, odds_before=odds, odds_after=odds, price_impact=Decimal(0)
    )


def _side_odds(state: MakerState, side: str) -> Decimal:
    this, that = state.odds()
    return this if side == "this" else that


def maker_fill(trade: Trade, *, max_price_impact: Decimal) -> Fill:
    """A bet on a credits market, bought from the market maker: refused when it would take its side's
    price past the tradable limit (ODDS_LIMIT_REACHED) or move it by more than `max_price_impact`
    (PRICE_IMPACT_TOO_LARGE); both say the most that may be bet now (`details.maxAmount`)."""
    if not tradable(trade.price_after):
        raise OddsLimitReached(
            details={
                "oddsAfter": _odds(trade.price_after),
                "maxAmount": cost_to_reach(trade.before, trade.side, TRADABLE_ODDS_MAX),
            }
        )
    if trade.price_impact > max_price_impact:
        ceiling = min(trade.price_before + max_price_impact, TRADABLE_ODDS_MAX)
        raise PriceImpactTooLarge(
            details={
                "priceImpact": _odds(trade.price_impact),
                "maxPriceImpact": max_price_impact,
                "maxAmount": cost_to_reach(trade.before, trade.side, ceiling),
            }
        )
    return Fill(
        shares=trade.shares,
        average_odds=_odds(trade.average_price),
        odds_before=_side_odds(trade.before, trade.side),
        odds_after=_side_odds(trade.after, trade.side),
        price_impact=_odds(trade.price_impact),
        maker_after=trade.after,
    )


def maker_sale_value(trade: Trade) -> Decimal:
    """What a cash-out on a credits market pays: the shares sold back to the market maker at its
    price; refused when the sale would take the side's price under the tradable limit."""
    if not tradable(trade.price_after):
        raise OddsLimitReached(
            "Selling now would push the odds past the tradable limits (0.01 to 0.99); try again later.",
            details={"oddsAfter": _odds(trade.price_after)},
        )
    return trade.credits
