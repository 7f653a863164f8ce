"""The automated market maker of credits markets: a logarithmic market scoring rule (LMSR, Hanson)
for a binary market. Pure: no ORM, no clock, Decimal only (README "Credits markets: the market maker").

The maker's state is its liquidity `b` and the shares outstanding on each side, q_this and q_that.
Its cost function is C(q) = b·ln(e^(q_this/b) + e^(q_that/b)); a trade costs the change in C, and the
price of THIS is e^(q_this/b) / (e^(q_this/b) + e^(q_that/b)), so the two prices always lie in (0, 1)
and add up to 1. Why LMSR and not a constant-product maker: the price depends only on the state
(path independent: any order of the same trades costs the same in total), and the house's loss is
bounded by b·ln(p_max / p0) whatever happens, so staff choose `b` knowing what it can cost.

Every trade is rounded in the house's favour: shares bought and credits paid back are rounded DOWN to
the cent, so what a trade moves is never worth more than what it costs.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal, localcontext

from thisthat.money import CENT, ODDS_PLACES, TRADABLE_ODDS_MAX, TRADABLE_ODDS_MIN

THIS, THAT = "this", "that"
SIDES = (THIS, THAT)
SHARES_PLACES = Decimal("0.000001")  # the state's precision; trades move whole cents
LIQUIDITY_MIN, LIQUIDITY_MAX = Decimal("100"), Decimal("1000000")
# Enough digits that rounding to the cent or to 4 decimal odds never depends on the last one.
_MATH = Context(prec=50)
ONE = Decimal(1)


def _other(side: str) -> str:
    if side not in SIDES:
        raise ValueError(f"unknown side {side!r}")
    return THAT if side == THIS else THIS


@dataclass(frozen=True)
class MakerState:
    """What the maker holds: liquidity `b` and the shares outstanding on each side."""

    liquidity: Decimal
    this_shares: Decimal
    that_shares: Decimal

    def shares(self, side: str) -> Decimal:
        _other(side)
        return self.this_shares if side == THIS else self.that_shares

    def moved(self, side: str, shares: Decimal) -> "MakerState":
        """The state after `shares` (negative: sold back) more are outstanding on `side`."""
        if side == THIS:
            return MakerState(self.liquidity, self.this_shares + shares, self.that_shares)
        _other(side)
        return MakerState(self.liquidity, self.this_shares, self.that_shares + shares)

    def price(self, side: str) -> Decimal:
        """The exact (50-digit) marginal price of `side`: sigmoid((q_side - q_other) / b)."""
        with localcontext(_MATH):
            gap = (self.shares(side) - self.shares(_other(side))) / self.liquidity
            return ONE / (ONE + (-gap).exp())

    def cost(self) -> Decimal:
        """C(q), written so that no exponent overflows: max(q) + b·ln(1 + e^(-|q_this - q_that| / b))."""
        with localcontext(_MATH):
            high = max(self.this_shares, self.that_shares)
            gap = abs(self.this_shares - self.that_shares) / self.liquidity
            return high + self.liquidity * (ONE + (-gap).exp()).ln()

    def odds(self) -> tuple[Decimal, Decimal]:
        """(thisOdds, thatOdds) as stored and shown: THIS's price to 4 places, THAT the rest of 1."""
        this = self.price(THIS).quantize(ODDS_PLACES, ROUND_HALF_UP)
        return this, ONE - this


def maker_start(*, liquidity: Decimal, this_odds: Decimal) -> MakerState:
    """A fresh maker whose price of THIS is `this_odds` (0 < odds < 1): the side that starts cheaper
    holds no shares, the other b·ln(p / (1 - p))."""
    if not LIQUIDITY_MIN <= liquidity <= LIQUIDITY_MAX:
        raise ValueError(f"liquidity must lie in [{LIQUIDITY_MIN}, {LIQUIDITY_MAX}], got {liquidity}")
    if not 0 < this_odds < 1:
        raise ValueError(f"odds must lie in (0, 1), got {this_odds}")
    with localcontext(_MATH):
        gap = (liquidity * (this_odds / (ONE - this_odds)).ln()).quantize(SHARES_PLACES, ROUND_HALF_UP)
    zero = Decimal("0").quantize(SHARES_PLACES)
    if gap >= 0:
        return MakerState(liquidity, gap, zero)
    return MakerState(liquidity, zero, -gap)


@dataclass(frozen=True)
class Trade:
    """One trade with the maker on `side`: `shares` bought (or sold) for `credits`."""

    side: str
    shares: Decimal  # whole cents: what the bet holds, paid 1 credit each if its side wins
    credits: Decimal  # paid for them (a buy) or paid back (a sale), whole cents
    before: MakerState
    after: MakerState

    @property
    def price_before(self) -> Decimal:
        return self.before.price(self.side)

    @property
    def price_after(self) -> Decimal:
        return self.after.price(self.side)

    @property
    def average_price(self) -> Decimal:
        """What one share cost on average (credits / shares), exact."""
        with localcontext(_MATH):
            return self.credits / self.shares

    @property
    def price_impact(self) -> Decimal:
        """How far the side's price moved (in probability, e.g. 0.05 = 5 points), exact."""
        return abs(self.price_after - self.price_before)


def buy(state: MakerState, side: str, amount: Decimal) -> Trade:
    """Spend `amount` credits on `side`: the shares s that solve C(q + s) - C(q) = amount, i.e.
    s = b·ln(1 + (e^(amount/b) - 1) / p), rounded down to the cent (the house keeps the rest)."""
    if amount <= 0:
        raise ValueError(f"a buy spends a positive amount, got {amount}")
    with localcontext(_MATH):
        b, price = state.liquidity, state.price(side)
        exact = b * (ONE + ((amount / b).exp() - ONE) / price).ln()
    shares = exact.quantize(CENT, ROUND_DOWN)
    return Trade(side=side, shares=shares, credits=amount, before=state, after=state.moved(side, shares))


def sell(state: MakerState, side: str, shares: Decimal) -> Trade:
    """Sell `shares` of `side` back: the maker pays C(q) - C(q - shares) = -b·ln(p·e^(-s/b) + 1 - p),
    rounded down to the cent."""
    if shares <= 0 or shares > state.shares(side):
        raise ValueError(f"cannot sell {shares} shares of {side}: {state.shares(side)} outstanding")
    with localcontext(_MATH):
        b, price = state.liquidity, state.price(side)
        exact = -b * (price * (-shares / b).exp() + ONE - price).ln()
    credits = max(exact.quantize(CENT, ROUND_DOWN), Decimal("0.00"))
    return Trade(side=side, shares=shares, credits=credits, before=state, after=state.moved(side, -shares))


def cost_to_reach(state: MakerState, side: str, price: Decimal) -> Decimal:
    """The most a buy of `side` may spend without its price passing `price` (rounded down to the
    cent): b·ln((1 - p) / (1 - price)), 0 when the price is already there."""
    with localcontext(_MATH):
        current = state.price(side)
        if price <= current:
            return Decimal("0.00")
        exact = state.liquidity * ((ONE - current) / (ONE - price)).ln()
    return exact.quantize(CENT, ROUND_DOWN)


def worst_case_loss(*, liquidity: Decimal, this_odds: Decimal) -> Decimal:
    """The most the house can lose on a market started at `this_odds`, rounded up to the cent.

    If side i wins, the house pays q_i - q0_i and has collected at least C(q) - C(q0); the difference
    is b·ln(p_i / p0_i), and trading never takes p_i past TRADABLE_ODDS_MAX. So the bound is
    b·ln(0.99 / the lower starting price): 683.15 credits for b = 1,000 at 50/50."""
    with localcontext(_MATH):
        lower = min(this_odds, ONE - this_odds)
        exact = liquidity * (TRADABLE_ODDS_MAX / lower).ln()
    return exact.quantize(CENT, ROUND_UP)


def tradable(price: Decimal) -> bool:
    """A price trading may leave a side at: within [0.01, 0.99]."""
    return TRADABLE_ODDS_MIN <= price <= TRADABLE_ODDS_MAX
