"""The whole story over HTTP, as it will be checked: a credits market traded by many users at once
(quotes, bets, cash-outs), resolved from the admin, corrected to the other outcome, settled again;
then every balance, PnL and ledger row is checked against values computed here independently."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.test import Client

from accounts.models import User
from betting.models import Bet, BetStatus
from economy.models import LedgerEntry, LedgerKind
from markets import maker
from markets.models import Market, MarketStatus
from markets.services import market_create_credits
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import BETS, QUOTE, maker_of, money, run_in_parallel, sell_url

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
USERS = 16


def test_a_credits_market_traded_resolved_corrected_and_settled_again_over_http(client_for):
    market = market_create_credits(title="Will the office dog win?", this_odds=D("0.5"), that_odds=D("0.5"))
    start = maker_of(market)
    users = [UserFactory() for _ in range(USERS)]
    clients = [client_for(user) for user in users]

    # Everyone quotes and bets at once, each holding the quote within 25 points: all the other bets
    # together (575 credits on THIS, 345 on THAT at b = 1,000) cannot move a price further than that.
    def trade(i: int) -> int:
        side, amount = ("this" if i % 3 else "that"), str(20 + 5 * i)
        quoted = clients[i].post(QUOTE, {"marketId": str(market.pk), "side": side, "amount": amount}, format="json")
        assert quoted.status_code == 200, quoted.json()
        body = {"marketId": str(market.pk), "side": side, "amount": amount, "maxSlippage": "0.25"}
        placed = clients[i].post(BETS, {**body, "expectedOdds": str(quoted.json()["averageOdds"])}, format="json")
        return placed.status_code if placed.status_code == 201 else placed.json()["code"]

    assert run_in_parallel(trade, USERS) == {201: USERS}

    # Two users cash out at once.
    sellers = [0, 1]
    sold = run_in_parallel(
        lambda i: clients[sellers[i]].post(sell_url(Bet.objects.get(user=users[sellers[i]])), {}, format="json"), 2
    )
    assert {response.status_code for response in sold} == {200}

    # Replayed in commit order through the maker formula, every fill and sale is what it should be.
    state = start
    for row in LedgerEntry.objects.filter(kind__in=[LedgerKind.BET_PLACED, LedgerKind.BET_SALE]).order_by("pk"):
        bet = Bet.objects.get(pk=row.reference_id)
        if row.kind == LedgerKind.BET_PLACED:
            fill = maker.buy(state, bet.side, bet.amount)
            assert (bet.potential_payout, bet.odds_at_bet) == (
                fill.shares,
                fill.average_price.quantize(D("0.0001"), ROUND_HALF_UP),
            )
        else:
            fill = maker.sell(state, bet.side, bet.potential_payout)
            assert row.amount == bet.actual_payout == fill.credits
        state = fill.after
    assert maker_of(market) == state
    market.refresh_from_db()
    assert (market.this_odds, market.that_odds) == state.odds()

    # A quote is what the bet then gets, when nothing moved in between.
    late = client_for(UserFactory())
    body = {"marketId": str(market.pk), "side": "that", "amount": "77.77"}
    quoted = late.post(QUOTE, body, format="json").json()
    placed = late.post(BETS, body, format="json").json()["bet"]
    assert (money(quoted["potentialPayout"]), quoted["averageOdds"]) == (
        money(placed["potentialPayout"]),
        placed["oddsAtBet"],
    )

    # Resolved as THIS from the admin, then corrected to THAT with a reason.
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    action = {"_selected_action": [str(market.pk)], "index": 0, "confirm": "yes"}
    assert staff.post("/admin/markets/market/", {**action, "action": "resolve_this"}).status_code == 302
    paid_for_this = {bet.pk for bet in Bet.objects.filter(market=market, status=BetStatus.WON)}
    assert paid_for_this and LedgerEntry.objects.filter(kind=LedgerKind.BET_PAYOUT).count() == len(paid_for_this)
    assert_ledger_reconciles()
    corrected = staff.post(
        "/admin/markets/market/", {**action, "action": "reresolve_that", "reason": "The dog was disqualified"}
    )
    assert corrected.status_code == 302

    # Checked independently: every bet, balance, PnL and ledger row.
    market = Market.objects.get(pk=market.pk)
    assert (market.status, market.resolution, market.settlement_round) == (MarketStatus.RESOLVED, "that", 1)
    assert market.settled_at is not None
    everyone = {bet.user_id for bet in Bet.objects.filter(market=market)}
    for user_id in everyone:
        expected_balance, expected_pnl = D(1000), D(0)
        for bet in Bet.objects.filter(user_id=user_id):
            rows = list(LedgerEntry.objects.filter(reference_id=bet.pk).order_by("pk"))
            kinds = [(row.kind, row.amount, row.settlement_round) for row in rows]
            expected_balance -= bet.amount
            if bet.status == BetStatus.SOLD:
                assert kinds == [(LedgerKind.BET_PLACED, -bet.amount, 0), (LedgerKind.BET_SALE, bet.actual_payout, 0)]
                expected_balance += bet.actual_payout
                expected_pnl += bet.actual_payout - bet.amount
            elif bet.side == "that":
                assert bet.status == BetStatus.WON and bet.actual_payout == bet.potential_payout
                assert kinds == [
                    (LedgerKind.BET_PLACED, -bet.amount, 0),
                    (LedgerKind.BET_PAYOUT, bet.potential_payout, 1),
                ]
                expected_balance += bet.potential_payout
                expected_pnl += bet.potential_payout - bet.amount
            else:
                assert (bet.status, bet.actual_payout) == (BetStatus.LOST, D(0))
                assert kinds == [
                    (LedgerKind.BET_PLACED, -bet.amount, 0),
                    (LedgerKind.BET_PAYOUT, bet.potential_payout, 0),
                    (LedgerKind.BET_PAYOUT_REVERSAL, -bet.potential_payout, 0),
                ]
                assert rows[2].reverses_id == rows[1].pk and "disqualified" in rows[2].description
                expected_pnl -= bet.amount
        user = User.objects.get(pk=user_id)
        assert (user.credit_balance, user.credit_debt, user.overall_pnl) == (expected_balance, 0, expected_pnl)
    assert_ledger_reconciles()
