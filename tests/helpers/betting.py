"""Betting test helpers: placing bets through the service, API payloads and URLs, odds changes,
ledger look-ups, and a real-thread runner for the race tests."""

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from accounts.models import User
from betting.models import Bet
from betting.services import bet_place
from economy.models import LedgerEntry
from markets.maker import MakerState
from markets.models import Market, OddsPoint
from tests.helpers.concurrency import run_together

# The bet object on the wire (SPEC §5).
BET_KEYS = {
    "id",
    "userId",
    "marketId",
    "market",
    "side",
    "amount",
    "oddsAtBet",
    "potentialPayout",
    "actualPayout",
    "status",
    "placedAt",
    "resolvedAt",
}
BET_MARKET_KEYS = {"id", "title", "thisOption", "thatOption", "status"}

BETS = "/api/v1/bets"


BETS_ME = "/api/v1/bets/me"


QUOTE = "/api/v1/bets/quote"
QUOTE_KEYS = {"shares", "averageOdds", "oddsAfter", "potentialPayout", "priceImpact"}


PORTFOLIO = "/api/v1/economy/portfolio"


def bet_url(bet_or_id) -> str:
    return f"{BETS}/{getattr(bet_or_id, 'pk', bet_or_id)}"


def sell_url(bet_or_id) -> str:
    return f"{bet_url(bet_or_id)}/sell"


def place(user: User, market: Market, side: str = "this", amount: str | Decimal = "100", **kwargs) -> Bet:
    """A bet placed through the service (the same path the API takes)."""
    return bet_place(user_id=user.pk, market_id=market.pk, side=side, amount=Decimal(str(amount)), **kwargs).bet


def payload(market: Market, **overrides) -> dict:
    """A valid POST /bets body (camelCase, as a client sends it)."""
    return {"marketId": str(market.pk), "side": "this", "amount": "100", **overrides}


def set_odds(market: Market, this_odds, that_odds) -> None:
    Market.objects.filter(pk=market.pk).update(
        this_odds=None if this_odds is None else Decimal(str(this_odds)),
        that_odds=None if that_odds is None else Decimal(str(that_odds)),
    )
    market.refresh_from_db()


def maker_of(market: Market) -> MakerState:
    """The market maker's state as stored now."""
    return Market.objects.get(pk=market.pk).maker_state()


def history_of(market: Market) -> list[tuple[Decimal, Decimal, str]]:
    return list(OddsPoint.objects.filter(market=market).order_by("id").values_list("this_odds", "that_odds", "source"))


def balance_of(user: User) -> Decimal:
    return User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def ledger_rows(user: User | None = None, kind: str | None = None, reference_id=None):
    rows = LedgerEntry.objects.all()
    if user is not None:
        rows = rows.filter(user_id=user.pk)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if reference_id is not None:
        rows = rows.filter(reference_id=reference_id)
    return rows


def money(value) -> Decimal:
    """A JSON number (parsed as float) or string back to an exact 2-decimal Decimal."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def odds(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def run_in_parallel(work: Callable[[int], str], count: int) -> Counter:
    """Run `work(i)` in `count` real threads released together; count the outcomes they report."""
    return Counter(run_together(work, count))
