"""Betting under real concurrency: threads with their own PostgreSQL connections, released together.
Each test ends with the ledger reconciling (every balance equals the sum of its ledger rows)."""

import re
import threading
from decimal import Decimal

import pytest

from betting.errors import BetNotSellable
from betting.models import Bet, BetStatus
from betting.services import bet_place, bet_sell, market_resolve, market_settle
from economy.errors import InsufficientBalance
from economy.models import LedgerKind
from markets.errors import MarketClosed
from markets.models import Market, Resolution, ResolutionSource
from markets.services import market_mark_resolved
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import balance_of, fresh, ledger_rows, place, run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def test_50_parallel_bets_of_100_with_1000_accept_exactly_10():
    user = UserFactory()
    market = MarketFactory()

    def bet(i: int) -> str:
        try:
            bet_place(user_id=user.pk, market_id=market.pk, side="this" if i % 2 else "that", amount=D("100"))
        except InsufficientBalance:
            return "refused"
        return "placed"

    outcomes = run_in_parallel(bet, 50)

    assert outcomes == {"placed": 10, "refused": 40}, outcomes
    assert Bet.objects.filter(user=user).count() == 10
    user = fresh(user)
    assert user.credit_balance == 0
    assert user.total_volume == D("1000")
    debits = ledger_rows(user, LedgerKind.BET_PLACED)
    assert debits.count() == 10
    assert sorted(debits.values_list("balance_after", flat=True)) == [D(100 * n) for n in range(10)]  # never < 0
    assert set(debits.values_list("reference_id", flat=True)) == set(Bet.objects.values_list("pk", flat=True))
    assert_ledger_reconciles()


def test_10_parallel_sells_of_one_bet_sell_it_once():
    user = UserFactory()
    market = MarketFactory()
    bet = place(user, market, "this", "100")
    Market.objects.filter(pk=market.pk).update(this_odds=D("0.80"), that_odds=D("0.20"))

    def sell(i: int) -> str:
        try:
            bet_sell(user_id=user.pk, bet_id=bet.pk)
        except BetNotSellable:
            return "not sellable"
        return "sold"

    outcomes = run_in_parallel(sell, 10)

    assert outcomes == {"sold": 1, "not sellable": 9}, outcomes
    bet.refresh_from_db()
    assert (bet.status, bet.actual_payout) == (BetStatus.SOLD, D("123.08"))
    assert ledger_rows(kind=LedgerKind.BET_SALE, reference_id=bet.pk).count() == 1
    assert balance_of(user) == D("900") + D("123.08")
    assert fresh(user).overall_pnl == D("23.08")
    assert_ledger_reconciles()


def test_two_simultaneous_settlements_of_300_bets_settle_each_bet_once(settings):
    settings.ODDS_MAX_AGE_SECONDS = 0  # placing 300 bets may take a busy machine longer than the odds stay fresh
    market = MarketFactory()
    users = [UserFactory() for _ in range(30)]
    bets = [place(users[i % 30], market, "this" if i % 3 else "that", "10") for i in range(300)]
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
    winners = [bet for bet in bets if bet.side == "this"]
    expected_paid = sum((bet.potential_payout for bet in winners), D(0))
    summaries = []

    def settle(i: int) -> str:
        summaries.append(market_settle(market_id=market.pk, chunk_size=50))
        return "done"

    outcomes = run_in_parallel(settle, 2)

    assert outcomes == {"done": 2}, outcomes
    assert sum(summary.bets.total() for summary in summaries) == 300  # split between the runs, none twice
    assert sum((summary.paid for summary in summaries), D(0)) == expected_paid
    assert not Bet.objects.filter(market=market, status=BetStatus.PENDING).exists()
    assert Bet.objects.filter(market=market, status=BetStatus.WON).count() == len(winners)
    payouts = ledger_rows(kind=LedgerKind.BET_PAYOUT)
    assert payouts.count() == len(winners)
    assert sorted(payouts.values_list("reference_id", flat=True)) == sorted(bet.pk for bet in winners)
    assert sum(payouts.values_list("amount", flat=True)) == expected_paid
    for user in users:  # PnL realised once per bet
        mine = [bet for bet in bets if bet.user_id == user.pk]
        expected_pnl = sum(
            (bet.potential_payout - bet.amount if bet.side == "this" else -bet.amount for bet in mine), D(0)
        )
        assert fresh(user).overall_pnl == expected_pnl
    market.refresh_from_db()
    assert market.settled_at is not None
    assert_ledger_reconciles()


def test_bets_racing_a_resolution_are_either_settled_or_refused():
    market = MarketFactory()
    bettors = [UserFactory() for _ in range(10)]
    racing_attempts = 5
    resolved = threading.Event()

    def work(i: int) -> str:
        if i == len(bettors):
            try:
                market_resolve(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
            finally:
                resolved.set()
            return "resolved"  # the on-commit settlement ran eagerly in this thread
        results = []
        for n in range(racing_attempts + 1):
            if n == racing_attempts:
                assert resolved.wait(timeout=60)  # one more bet once the resolution is settled
            try:
                bet_place(user_id=bettors[i].pk, market_id=market.pk, side="this" if n % 2 else "that", amount=D("10"))
                results.append("ok")
            except MarketClosed:
                results.append("closed")
        return ",".join(results)

    outcomes = run_in_parallel(work, len(bettors) + 1)

    assert outcomes["resolved"] == 1, outcomes
    sequences = [outcome for outcome in outcomes.elements() if outcome != "resolved"]
    assert len(sequences) == len(bettors), outcomes
    for sequence in sequences:  # once a bettor saw the market closed, it stayed closed
        assert re.fullmatch(r"(ok,)*(ok|closed)(,closed)*", sequence), sequence
        assert sequence.endswith("closed")  # the bet after the resolution was refused
    accepted = sum(sequence.split(",").count("ok") for sequence in sequences)
    assert Bet.objects.filter(market=market).count() == accepted
    assert not Bet.objects.filter(market=market, status=BetStatus.PENDING).exists()  # every accepted bet settled
    won = Bet.objects.filter(market=market, status=BetStatus.WON)
    assert won.count() == Bet.objects.filter(market=market, side="this").count()
    assert ledger_rows(kind=LedgerKind.BET_PAYOUT).count() == won.count()
    for bet in won:
        assert ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bet.pk).get().amount == bet.potential_payout
    market.refresh_from_db()
    assert market.settled_at is not None
    assert_ledger_reconciles()


def test_sells_racing_a_resolution_end_sold_xor_settled_and_paid_once():
    market = MarketFactory()
    users = [UserFactory() for _ in range(20)]
    bets = [place(user, market, "this" if i % 2 else "that", "100") for i, user in enumerate(users)]
    resolved = threading.Event()

    def work(i: int) -> str:
        if i == len(bets):
            try:
                market_resolve(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
            finally:
                resolved.set()
            return "resolved"
        if i % 4 == 0:
            assert resolved.wait(timeout=60)  # a quarter of the sales come once the market is settled
        try:
            bet_sell(user_id=users[i].pk, bet_id=bets[i].pk)
        except BetNotSellable:
            return "not sellable"
        return "sold"

    outcomes = run_in_parallel(work, len(bets) + 1)

    assert outcomes["resolved"] == 1, outcomes
    assert outcomes["sold"] + outcomes["not sellable"] == len(bets), outcomes
    assert outcomes["not sellable"] >= len(bets) // 4, outcomes
    assert Bet.objects.filter(market=market, status=BetStatus.SOLD).count() == outcomes["sold"]
    for bet in Bet.objects.filter(market=market).select_related("user"):
        kinds = sorted(
            ledger_rows(reference_id=bet.pk).exclude(kind=LedgerKind.BET_PLACED).values_list("kind", flat=True)
        )
        if bet.status == BetStatus.SOLD:
            assert kinds == ["bet_sale"], (bet.side, kinds)
        elif bet.status == BetStatus.WON:
            assert (bet.side, kinds) == ("this", ["bet_payout"])
        else:
            assert (bet.status, bet.side, kinds) == (BetStatus.LOST, "that", [])
        assert bet.user.credit_balance == D("900") + bet.actual_payout  # paid once, by one path
    assert not Bet.objects.filter(market=market, status=BetStatus.PENDING).exists()
    assert_ledger_reconciles()
