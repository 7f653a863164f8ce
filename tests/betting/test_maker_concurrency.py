"""Credits markets under real concurrency: trades on one market take turns on its row (each moves its
market maker), so none is lost and the odds always follow the maker's formula. Each test replays the
trades in the order they committed (their ledger rows' ids) through the pure maker and compares."""

from decimal import ROUND_HALF_UP, Decimal

import pytest

from betting.models import Bet
from betting.services import bet_place, bet_sell
from economy.models import LedgerEntry, LedgerKind
from markets import maker
from markets.models import MarketType, OddsPoint
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import maker_of, place, run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def replay(market, *, since_entry: int, start: maker.MakerState) -> maker.MakerState:
    """Replay the market's trades committed after ledger row `since_entry`, in commit order, through
    the pure market maker; every bet and sale must be what the formula gives at its turn."""
    bets = {bet.pk: bet for bet in Bet.objects.filter(market=market)}
    rows = LedgerEntry.objects.filter(
        reference_id__in=bets, kind__in=[LedgerKind.BET_PLACED, LedgerKind.BET_SALE], pk__gt=since_entry
    ).order_by("pk")
    points = list(OddsPoint.objects.filter(market=market).order_by("pk").values_list("this_odds", "that_odds"))
    state = start
    for turn, row in enumerate(rows):
        bet = bets[row.reference_id]
        if row.kind == LedgerKind.BET_PLACED:
            trade = maker.buy(state, bet.side, bet.amount)
            assert bet.potential_payout == trade.shares, f"turn {turn}"
            assert bet.odds_at_bet == trade.average_price.quantize(D("0.0001"), ROUND_HALF_UP)
        else:
            trade = maker.sell(state, bet.side, bet.potential_payout)
            assert row.amount == bet.actual_payout == trade.credits, f"turn {turn}"
        state = trade.after
        assert points[-rows.count() + turn] == state.odds(), f"the odds history at turn {turn}"
    return state


def test_40_trades_at_once_on_one_credits_market_lose_no_update_of_its_market_maker():
    market = MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.5"), that_odds=D("0.5"))
    users = [UserFactory() for _ in range(40)]
    held = [place(users[i], market, "this" if i % 2 else "that", "50") for i in range(10)]
    start = maker_of(market)
    last_entry = LedgerEntry.objects.order_by("-pk").values_list("pk", flat=True).first()

    def trade(i: int) -> str:
        if i < 10:
            bet_sell(user_id=users[i].pk, bet_id=held[i].pk)
            return "sold"
        # At most 166 credits: in any commit order no bet moves the odds by more than 0.14 (the pure
        # maker over 3,000 random orders), well under MAX_PRICE_IMPACT (0.20); with 7 * i (283) one
        # order in seven refused a bet with PRICE_IMPACT_TOO_LARGE and the test failed by chance.
        bet_place(user_id=users[i].pk, market_id=market.pk, side="this" if i % 3 else "that", amount=D(10 + 4 * i))
        return "placed"

    outcomes = run_in_parallel(trade, 40)

    assert outcomes == {"sold": 10, "placed": 30}, outcomes
    final = replay(market, since_entry=last_entry, start=start)
    assert maker_of(market) == final
    market.refresh_from_db()
    assert (market.this_odds, market.that_odds) == final.odds()
    unsold = Bet.objects.filter(market=market, status="pending")
    for side, shares in (("this", final.this_shares), ("that", final.that_shares)):
        assert sum(unsold.filter(side=side).values_list("potential_payout", flat=True)) == shares  # started at 0
    assert OddsPoint.objects.filter(market=market).count() == 50
    assert_ledger_reconciles()


def test_bets_racing_for_the_last_room_under_the_limit_are_each_priced_after_the_last():
    """Near 0.99 only some bets fit: the others are refused (nothing written), never priced from a
    stale state."""
    market = MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.97"), that_odds=D("0.03"))
    users = [UserFactory() for _ in range(12)]
    start = maker_of(market)
    fits, state = 0, start  # the same bets one after another: how many stay under 0.99
    while maker.tradable((trade := maker.buy(state, "this", D("200"))).price_after):
        fits, state = fits + 1, trade.after

    def trade(i: int) -> str:
        try:
            bet_place(user_id=users[i].pk, market_id=market.pk, side="this", amount=D("200"))
        except Exception as exc:  # noqa: BLE001 - the refusal's code is what is counted
            return getattr(exc, "code", repr(exc))
        return "placed"

    outcomes = run_in_parallel(trade, 12)

    assert outcomes == {"placed": fits, "ODDS_LIMIT_REACHED": 12 - fits}, outcomes
    assert 0 < fits < 12
    final = replay(market, since_entry=0, start=start)
    assert maker_of(market) == final and final.price("this") <= D("0.99")
    assert Bet.objects.filter(market=market).count() == outcomes["placed"]
    assert_ledger_reconciles()
