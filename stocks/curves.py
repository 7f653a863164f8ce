"""Bonding curves of virtual stocks and the trades priced on them. Pure: no ORM, no settings, no clock,
Decimal only (README "Virtual stocks").

A curve gives the price of the next share at a supply, `price(s)`, and its integral from 0,
`integral(s)`: buying shares from supply a to b costs integral(b) - integral(a), and selling them back
pays the same integral back down. The house holds a reserve per stock so that every share can always
be sold back: `reserve_at(s)`, the integral rounded UP to the cent.

Shares are fractional, in hundredths (SHARE_STEP); credits are whole cents. Every rounding favours the
house, trade by trade:
- a buy costs the integral over its shares rounded UP to the cent, plus the fee;
- a sale pays the integral rounded DOWN to the cent, minus the fee;
- a budget in credits buys the most hundredths of a share whose cost fits in it (the rest is not spent);
- the fee is `fee_rate` times the curve's part, rounded UP to the cent.
So a buy followed by a sale of the same shares returns at most what the buy cost, and splitting a trade
into pieces never gains a cent. The reserve moves by reserve_at(after) - reserve_at(before): never more
than a buy pays nor less than a sale pays (ceil(b) - ceil(a) <= ceil(b - a) and >= floor(b - a)); what
the house keeps beyond the reserve (rounding and fees) is its take. Hence, whatever the trades, a
stock's reserve is exactly reserve_at(supply), which the audit checks.

Adding a shape: a `Curve` subclass with `price`, `integral` and `shares_for`, and a row in CURVES.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, localcontext

CENT = Decimal("0.01")
SHARE_STEP = Decimal("0.01")  # the smallest trade and the precision of supplies and holdings
ZERO = Decimal("0.00")
# Enough digits that rounding to the cent never depends on the last one.
_MATH = Context(prec=50)
BUY, SELL = "buy", "sell"


def _up(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_CEILING)


def _down(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_FLOOR)


class Curve:
    """A price that never falls as the supply grows and is positive from supply 0."""

    def price(self, supply: Decimal) -> Decimal:
        """The exact marginal price of a share at `supply`."""
        raise NotImplementedError

    def integral(self, supply: Decimal) -> Decimal:
        """The exact cost of the first `supply` shares: the integral of the price from 0."""
        raise NotImplementedError

    def shares_for(self, supply: Decimal, credits: Decimal) -> Decimal:
        """The exact (unrounded) shares d with integral(supply + d) - integral(supply) = credits."""
        raise NotImplementedError


@dataclass(frozen=True)
class Linear(Curve):
    """price(s) = base + slope·s; integral(s) = base·s + slope·s²/2."""

    base: Decimal
    slope: Decimal

    def __post_init__(self):
        if self.base <= 0 or self.slope < 0:
            raise ValueError(f"a linear curve needs base > 0 and slope >= 0, got {self.base}, {self.slope}")

    def price(self, supply: Decimal) -> Decimal:
        with localcontext(_MATH):
            return self.base + self.slope * supply

    def integral(self, supply: Decimal) -> Decimal:
        with localcontext(_MATH):
            return self.base * supply + self.slope * supply * supply / 2

    def shares_for(self, supply: Decimal, credits: Decimal) -> Decimal:
        """Solves slope/2·d² + price(supply)·d = credits for d >= 0."""
        with localcontext(_MATH):
            price = self.price(supply)
            if self.slope == 0:
                return credits / price
            # (sqrt(p² + 2·slope·c) - p) / slope, written without the cancellation of a difference.
            return 2 * credits / ((price * price + 2 * self.slope * credits).sqrt() + price)


LINEAR = "linear"
CURVES: dict[str, type[Curve]] = {LINEAR: Linear}


def curve_of(shape: str, *, base: Decimal, slope: Decimal) -> Curve:
    try:
        return CURVES[shape](base=base, slope=slope)
    except KeyError as exc:
        raise ValueError(f"unknown curve shape {shape!r}") from exc


def reserve_at(curve: Curve, supply: Decimal) -> Decimal:
    """What the house holds for `supply` shares outstanding: the integral rounded up to the cent, so
    selling every share back (each sale rounded down) can never run it dry."""
    return _up(curve.integral(supply))


def fee_on(amount: Decimal, fee_rate: Decimal) -> Decimal:
    """The house's fee on a trade's curve part, rounded up to the cent (0 when the rate is 0)."""
    with localcontext(_MATH):
        return _up(amount * fee_rate)


@dataclass(frozen=True)
class Trade:
    """One trade on a curve: `shares` bought or sold for `credits` (what the trader pays or receives,
    fee included), `fee` of it kept by the house."""

    side: str
    shares: Decimal
    credits: Decimal
    fee: Decimal
    supply_before: Decimal
    supply_after: Decimal
    reserve_before: Decimal
    reserve_after: Decimal
    price_before: Decimal
    price_after: Decimal

    @property
    def average_price(self) -> Decimal:
        """What one share cost (or paid) on average, fee included, exact."""
        with localcontext(_MATH):
            return self.credits / self.shares

    @property
    def house_take(self) -> Decimal:
        """What the house keeps beyond the reserve: the fee and the rounding (never negative)."""
        if self.side == BUY:
            return self.credits - (self.reserve_after - self.reserve_before)
        return (self.reserve_before - self.reserve_after) - self.credits


def _check_shares(shares: Decimal) -> None:
    if shares <= 0 or shares != shares.quantize(SHARE_STEP):
        raise ValueError(f"a trade moves a positive number of hundredths of a share, got {shares}")


def _trade(curve: Curve, side: str, supply: Decimal, after: Decimal, credits: Decimal, fee: Decimal) -> Trade:
    return Trade(
        side=side,
        shares=abs(after - supply),
        credits=credits,
        fee=fee,
        supply_before=supply,
        supply_after=after,
        reserve_before=reserve_at(curve, supply),
        reserve_after=reserve_at(curve, after),
        price_before=curve.price(supply),
        price_after=curve.price(after),
    )


def buy(curve: Curve, supply: Decimal, shares: Decimal, *, fee_rate: Decimal = ZERO) -> Trade:
    """Buy `shares` at `supply`: the integral over them rounded up to the cent, plus the fee."""
    _check_shares(shares)
    with localcontext(_MATH):
        gross = _up(curve.integral(supply + shares) - curve.integral(supply))
    fee = fee_on(gross, fee_rate)
    return _trade(curve, BUY, supply, supply + shares, gross + fee, fee)


def buy_with(curve: Curve, supply: Decimal, budget: Decimal, *, fee_rate: Decimal = ZERO) -> Trade | None:
    """The most hundredths of a share `budget` credits buy at `supply`, fee included (what it costs is
    at most the budget); None when the budget buys none."""
    if budget <= 0:
        return None
    with localcontext(_MATH):
        gross = _down(budget / (1 + fee_rate))
    while gross > 0 and gross + fee_on(gross, fee_rate) > budget:
        gross -= CENT
    if gross <= 0:
        return None
    shares = curve.shares_for(supply, gross).quantize(SHARE_STEP, ROUND_FLOOR)
    # The exact root may sit a hair above a step the rounding of the last digit pushed it over.
    while shares > 0 and (trade := buy(curve, supply, shares, fee_rate=fee_rate)).credits > budget:
        shares -= SHARE_STEP
    return trade if shares > 0 else None


def sell(curve: Curve, supply: Decimal, shares: Decimal, *, fee_rate: Decimal = ZERO) -> Trade:
    """Sell `shares` back at `supply`: the integral down over them rounded down to the cent, minus the
    fee (never below 0: a sale too small to pay a cent pays nothing)."""
    _check_shares(shares)
    if shares > supply:
        raise ValueError(f"cannot sell {shares} shares: {supply} outstanding")
    with localcontext(_MATH):
        gross = _down(curve.integral(supply) - curve.integral(supply - shares))
    fee = min(fee_on(gross, fee_rate), gross)
    return _trade(curve, SELL, supply, supply - shares, gross - fee, fee)
