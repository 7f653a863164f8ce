"""A correction racing a settlement in progress, with real threads: whichever way they interleave,
every bet ends pending, nothing stays paid, and the ledger reconciles."""

import threading
from decimal import Decimal

import pytest

from betting.models import Bet, BetStatus, ResolutionCorrection
from betting.services import market_settle, market_unresolve
from economy.models import LedgerEntry, LedgerKind
from markets.models import Market, MarketStatus, MarketType, Resolution, ResolutionSource
from markets.services import market_mark_resolved
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import fresh, place, run_in_parallel

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def resolved_book(bets: int = 120):
    """A credits market resolved as THIS (its settlement not yet run) with `bets` pending bets of 10
    from 12 users, and a staff member."""
    market = MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.5"), that_odds=D("0.5"))
    users = [UserFactory() for _ in range(12)]
    for i in range(bets):
        place(users[i % 12], market, "this" if i % 3 else "that", "10")
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
    return market, users, UserFactory(is_staff=True)


def assert_all_back_to_pending(market: Market, users) -> None:
    assert set(Bet.objects.filter(market=market).values_list("status", flat=True)) == {BetStatus.PENDING}
    paid = LedgerEntry.objects.filter(kind=LedgerKind.BET_PAYOUT)
    reversed_ = LedgerEntry.objects.filter(kind=LedgerKind.BET_PAYOUT_REVERSAL)
    assert paid.count() == reversed_.count()
    assert set(reversed_.values_list("reverses_id", flat=True)) == set(paid.values_list("pk", flat=True))
    for user in users:
        user = fresh(user)
        staked = sum(Bet.objects.filter(user=user).values_list("amount", flat=True))
        assert (user.credit_balance, user.credit_debt, user.overall_pnl) == (D(1000) - staked, 0, 0)
    market.refresh_from_db()
    assert (market.status, market.resolution, market.settlement_round) == (MarketStatus.OPEN, None, 1)
    assert_ledger_reconciles()


def test_an_unresolve_between_two_settlement_chunks_stops_the_settlement_and_reverses_what_it_paid():
    market, users, staff = resolved_book()
    first_chunk_done, corrected = threading.Event(), threading.Event()
    summaries = []

    def after_each_chunk(line: str) -> None:
        first_chunk_done.set()
        assert corrected.wait(timeout=30)

    def work(i: int) -> str:
        if i == 0:
            summaries.append(market_settle(market_id=market.pk, chunk_size=25, progress=after_each_chunk))
            return "settled"
        assert first_chunk_done.wait(timeout=30)
        try:
            market_unresolve(market_id=market.pk, reason="wrong result", staff_id=staff.pk)
        finally:
            corrected.set()
        return "unresolved"

    outcomes = run_in_parallel(work, 2)

    assert outcomes == {"settled": 1, "unresolved": 1}
    summary = summaries[0]
    assert summary.chunks == 1 and summary.bets.total() == 25  # the run stopped after the chunk before the correction
    assert summary.stopped
    correction = ResolutionCorrection.objects.get()
    assert correction.bets_reversed == 25
    assert_all_back_to_pending(market, users)


def test_an_unresolve_racing_a_whole_settlement_leaves_no_bet_paid_whatever_the_order():
    market, users, staff = resolved_book()

    def work(i: int) -> str:
        if i == 0:
            try:
                market_settle(market_id=market.pk, chunk_size=10)
            except Exception as exc:  # noqa: BLE001 - unresolved before it started: MARKET_NOT_RESOLVED
                return getattr(exc, "code", repr(exc))
            return "settle ran"
        market_unresolve(market_id=market.pk, reason="wrong result", staff_id=staff.pk)
        return "unresolved"

    outcomes = run_in_parallel(work, 2)

    assert outcomes["unresolved"] == 1
    assert outcomes.get("settle ran", 0) + outcomes.get("MARKET_NOT_RESOLVED", 0) == 1, outcomes
    assert_all_back_to_pending(market, users)
