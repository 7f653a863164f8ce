"""Pure betting rules (SPEC §6): no ORM, no clock."""

import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from thisthat.money import CENT, TRADABLE_ODDS_MAX, TRADABLE_ODDS_MIN

from .errors import InvalidBetAmount, OddsUnavailable
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
