"""The write path with fewer round trips (issue 12) under real concurrency: bets, cash-outs and the
daily claim of one account at once, and many accounts on one hot market, each in its own thread and
PostgreSQL connection. Every posting lands once, the running balances chain, the ledger reconciles."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from betting.models import Bet, BetStatus
from betting.services import bet_place, bet_sell
from economy.errors import DailyRewardClaimed
from economy.models import DailyReward, LedgerEntry, LedgerKind
from economy.services import daily_reward_claim
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import balance_of, fresh, ledger_rows, place, run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def test_one_accounts_bets_cash_outs_and_claims_at_once_each_post_once_and_chain_its_balance():
    user = UserFactory()
    market = MarketFactory()
    to_sell = [place(user, market, "this", "50") for _ in range(6)]  # 700 left

    def act(i: int) -> str:
        if i < 6:
            bet_sell(user_id=user.pk, bet_id=to_sell[i].pk)
            return "sold"
        if i < 12:
            bet_place(user_id=user.pk, market_id=market.pk, side="that", amount=D("20"))
            return "placed"
        daily_reward_claim(user_id=user.pk)  # four at once: one pays, three are refused
        return "claimed"

    outcomes = run_in_parallel(lambda i: _outcome(act, i), 16)

    assert outcomes == {"sold": 6, "placed": 6, "claimed": 1, "refused": 3}, outcomes
    assert DailyReward.objects.filter(user=user).count() == 1
    assert ledger_rows(user, LedgerKind.DAILY_REWARD).count() == 1
    assert ledger_rows(user, LedgerKind.BET_SALE).count() == 6
    assert Bet.objects.filter(user=user, status=BetStatus.SOLD).count() == 6
    assert ledger_rows(user, LedgerKind.BET_PLACED).count() == 12
    # In insertion order (ids), each row's balance_after is the previous one plus its amount: the
    # postings took turns on the user's row, none read a stale balance.
    running = D(0)
    for entry in LedgerEntry.objects.filter(user=user).order_by("id"):
        running += entry.amount
        assert entry.balance_after == running, entry
    assert running == balance_of(user)
    assert fresh(user).total_volume == D("420")  # 6 x 50 + 6 x 20
    assert fresh(user).daily_streak == 1
    assert_ledger_reconciles()


def _outcome(act, i: int) -> str:
    try:
        return act(i)
    except DailyRewardClaimed:
        return "refused"


def test_twenty_accounts_betting_on_one_hot_market_at_once_all_land():
    market = MarketFactory()
    users = [UserFactory() for _ in range(20)]

    def bet(i: int) -> str:
        bet_place(user_id=users[i].pk, market_id=market.pk, side="this" if i % 2 else "that", amount=D("100"))
        return "placed"

    outcomes = run_in_parallel(bet, 20)

    assert outcomes == {"placed": 20}
    assert Bet.objects.filter(market=market).count() == 20
    assert ledger_rows(kind=LedgerKind.BET_PLACED).count() == 20
    placed = ledger_rows(kind=LedgerKind.BET_PLACED).aggregate(total=Sum("amount"))["total"]
    assert placed == D("-2000")
    assert {balance_of(user) for user in users} == {D("900")}
    assert_ledger_reconciles()
