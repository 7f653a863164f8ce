"""The recomputation job (SPEC §7 "recompute ranks": every 15 min and after each settlement; never
two runs at once): settlements ask for a run on commit, a burst of requests coalesces into one
enqueued run, the task clears the request, re-enqueues itself when the lock is busy and a request
is pending, and real concurrent runs never overlap."""

import threading
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from betting.models import BetStatus
from betting.services import bet_place, market_resolve, market_settle
from leaderboard import cache as board_cache
from leaderboard import services
from leaderboard.models import RankingRun, Standing
from leaderboard.tasks import DEBOUNCE_SECONDS, recompute_ranks, recompute_ranks_soon
from markets.models import Resolution, ResolutionSource
from tests.factories import MarketFactory, UserFactory
from tests.helpers.betting import run_in_parallel
from tests.helpers.leaderboard import bet, expected_standings, profile_ranks_of
from thisthat.locks import cache_lock

D = Decimal
LOCK = "leaderboard:recompute"


@pytest.fixture
def enqueue():
    """`recompute_ranks.apply_async` replaced by a recorder (nothing runs)."""
    with mock.patch.object(recompute_ranks, "apply_async") as apply_async:
        yield apply_async


def settled_market(users):
    market = MarketFactory()
    for user in users:
        bet_place(user_id=user.pk, market_id=market.pk, side="this", amount=D("100"))
    market_resolve(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
    return market


# --- after settlements ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_settlement_asks_for_a_recomputation_only_once_it_has_committed(django_capture_on_commit_callbacks):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    market = settled_market([alice])
    bet_place(user_id=bob.pk, market_id=MarketFactory().pk, side="that", amount=D("50"))

    with django_capture_on_commit_callbacks() as callbacks:
        market_settle(market_id=market.pk)
        assert not RankingRun.objects.exists()

    assert callbacks, "the settlement announces itself after commit"
    assert not RankingRun.objects.exists()  # nothing ran before the commit
    for callback in callbacks:
        callback()
    # Celery is eager in tests: the run happened at once, with the settled bet counted.
    run = RankingRun.objects.get()
    assert run.ranked["all"] == {"pnl": 1, "volume": 2}  # bob's bet is pending: off the PnL board
    assert Standing.objects.get(period="all", user_id=alice.pk).pnl == D("53.85")
    assert profile_ranks_of(alice) == (1, 1)
    assert profile_ranks_of(bob) == (None, 2)
    assert not board_cache.recompute_requested()


@pytest.mark.django_db
def test_resolving_a_market_ends_with_fresh_ranks(django_capture_on_commit_callbacks):
    """Resolve → settle (on commit) → recompute (on the settlement's commit), all eager."""
    alice = UserFactory(username="alice")
    market = MarketFactory()
    bet_place(user_id=alice.pk, market_id=market.pk, side="that", amount=D("100"))

    with django_capture_on_commit_callbacks(execute=True):
        market_resolve(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)

    assert RankingRun.objects.count() == 1
    assert Standing.objects.get(period="day", user_id=alice.pk).pnl == D("-100.00")


@pytest.mark.django_db
def test_a_burst_of_settlements_enqueues_one_delayed_run(enqueue, django_capture_on_commit_callbacks):
    users = [UserFactory() for _ in range(3)]
    markets = [settled_market(users) for _ in range(4)]

    with django_capture_on_commit_callbacks(execute=True):
        for market in markets:
            market_settle(market_id=market.pk)

    enqueue.assert_called_once_with(countdown=DEBOUNCE_SECONDS)
    assert board_cache.recompute_requested()
    assert not RankingRun.objects.exists()


# --- debounce ------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_burst_of_requests_enqueues_only_one_run_while_it_is_pending(enqueue):
    for _ in range(10):
        recompute_ranks_soon()

    enqueue.assert_called_once_with(countdown=DEBOUNCE_SECONDS)
    assert board_cache.recompute_requested()


@pytest.mark.django_db
def test_the_task_clears_the_request_so_the_next_one_enqueues_again(enqueue):
    UserFactory()
    recompute_ranks_soon()

    result = recompute_ranks()  # the enqueued run, executed

    assert result["users"] == 1
    assert result["ranked"] == {key: {"pnl": 0, "volume": 0} for key in ("all", "month", "week", "day")}
    assert set(result) == {"users", "ranked", "duration_seconds"}
    assert not board_cache.recompute_requested()
    recompute_ranks_soon()
    assert enqueue.call_count == 2
    enqueue.assert_called_with(countdown=DEBOUNCE_SECONDS)


@pytest.mark.django_db
def test_a_request_made_during_a_run_is_not_lost(enqueue):
    """A settlement committing while a run computes must get a run of its own afterwards."""
    UserFactory()
    original = services._standings_replace

    def settlement_meanwhile(**kwargs):
        recompute_ranks_soon()
        return original(**kwargs)

    with mock.patch.object(services, "_standings_replace", side_effect=settlement_meanwhile):
        assert recompute_ranks() is not None

    enqueue.assert_called_once_with(countdown=DEBOUNCE_SECONDS)
    assert board_cache.recompute_requested()


@pytest.mark.django_db
def test_while_the_lock_is_held_a_pending_request_makes_the_task_try_again_later(enqueue):
    UserFactory()
    recompute_ranks_soon()
    assert enqueue.call_count == 1

    with cache_lock(LOCK, timeout=60) as acquired:
        assert acquired
        assert recompute_ranks() is None

    assert enqueue.call_count == 2
    enqueue.assert_called_with(countdown=DEBOUNCE_SECONDS)
    assert board_cache.recompute_requested()
    assert not RankingRun.objects.exists()


@pytest.mark.django_db
def test_while_the_lock_is_held_without_a_pending_request_the_task_just_gives_up(enqueue):
    """The 15-minute run found another run going: nothing was asked for, nothing to retry."""
    UserFactory()

    with cache_lock(LOCK, timeout=60):
        assert recompute_ranks() is None

    enqueue.assert_not_called()
    assert not RankingRun.objects.exists()


@pytest.mark.django_db
def test_the_retried_task_runs_once_the_lock_is_free(enqueue):
    user = UserFactory()
    bet(user, amount="10", placed_at=timezone.now() - timedelta(minutes=5))
    recompute_ranks_soon()
    with cache_lock(LOCK, timeout=60):
        recompute_ranks()

    result = recompute_ranks()  # the retry

    assert result is not None and result["ranked"]["day"] == {"pnl": 0, "volume": 1}
    assert not board_cache.recompute_requested()
    assert RankingRun.objects.count() == 1


@pytest.mark.django_db
def test_recompute_ranks_runs_through_celery(db):
    """Eager in tests: `.delay()` goes through Celery's task machinery and runs."""
    UserFactory()

    recompute_ranks.delay()

    assert RankingRun.objects.count() == 1


# --- real concurrency ----------------------------------------------------------------------------------
def _season(users: int = 6) -> list:
    now = timezone.now()
    people = [UserFactory() for _ in range(users + 2)]  # the last two never bet
    for n, person in enumerate(people[:users]):
        bet(
            person,
            amount=str(10 * (n + 1)),
            status=BetStatus.WON if n % 2 else BetStatus.LOST,
            placed_at=now - timedelta(minutes=30 + n),
        )
        bet(person, amount="20", placed_at=now - timedelta(minutes=10))
    return people


class Overlap:
    """Wraps `_standings_replace` to count how many runs are inside it at once."""

    def __init__(self, hold_until: threading.Event | None = None):
        self.original = services._standings_replace
        self.hold_until = hold_until
        self.lock = threading.Lock()
        self.active = 0
        self.most = 0
        self.entered = 0

    def __call__(self, **kwargs):
        with self.lock:
            self.active += 1
            self.entered += 1
            self.most = max(self.most, self.active)
        try:
            if self.hold_until is not None:
                # Hold this run open until the other caller has had its go (it must not get in).
                self.hold_until.wait(timeout=10)
            return self.original(**kwargs)
        finally:
            with self.lock:
                self.active -= 1


def _final_standings_are_right():
    run = RankingRun.objects.order_by("-computed_at").first()
    for period in ("all", "month", "week", "day"):
        stored = {
            s.user_id: (s.pnl, s.volume, s.pnl_rank, s.volume_rank) for s in Standing.objects.filter(period=period)
        }
        oracle = {
            uid: (e.pnl, e.volume, e.pnl_rank, e.volume_rank)
            for uid, e in expected_standings(period, run.computed_at).items()
        }
        assert stored == oracle, period
    assert run.ranked["all"] == {"pnl": 6, "volume": 6}


@pytest.mark.django_db(transaction=True)
def test_a_run_started_while_another_is_in_progress_returns_none():
    """Two real threads: whichever gets the lock first is held inside its run until the other has
    tried; the other must be turned away (None) rather than run alongside."""
    _season()
    other_tried = threading.Event()
    overlap = Overlap(hold_until=other_tried)

    def work(_: int) -> str:
        run = services.ranks_recompute()
        if run is None:
            other_tried.set()
            return "skipped"
        return "ran"

    with mock.patch.object(services, "_standings_replace", side_effect=overlap):
        outcomes = run_in_parallel(work, 2)

    assert outcomes == Counter({"ran": 1, "skipped": 1})
    assert overlap.most == 1
    assert RankingRun.objects.count() == 1
    _final_standings_are_right()


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_never_overlap_and_leave_correct_standings():
    _season()
    overlap = Overlap()

    def work(_: int) -> str:
        return "skipped" if services.ranks_recompute() is None else "ran"

    with mock.patch.object(services, "_standings_replace", side_effect=overlap):
        outcomes = run_in_parallel(work, 4)

    assert set(outcomes) <= {"ran", "skipped"}, outcomes
    assert outcomes["ran"] >= 1
    assert overlap.most == 1
    assert RankingRun.objects.count() == outcomes["ran"] == overlap.entered
    _final_standings_are_right()
    # The lock was released by whichever run finished last.
    with cache_lock(LOCK, timeout=60) as acquired:
        assert acquired


@pytest.mark.django_db(transaction=True)
def test_one_run_reads_one_snapshot_of_the_bets_for_every_period():
    """A bet committed by another connection while a run is between its period statements must be
    in all of that run's periods or in none: the day board can't count a bet the all-time board missed."""
    _season()
    latecomer = UserFactory(username="latecomer")
    market = MarketFactory()
    original = services.period_start

    def commit_a_bet_elsewhere():
        try:
            bet(latecomer, amount="900", placed_at=timezone.now(), market=market)
        finally:
            connection.close()

    def period_start(period, *, now):
        if period == "day":  # the all, month and week standings are written by now
            writer = threading.Thread(target=commit_a_bet_elsewhere)
            writer.start()
            writer.join(timeout=30)
        return original(period, now=now)

    with mock.patch.object(services, "period_start", side_effect=period_start):
        run = services.ranks_recompute()

    ranked = {
        period: set(Standing.objects.filter(period=period).values_list("user_id", flat=True))
        for period in ("all", "month", "week", "day")
    }
    assert ranked["day"] <= ranked["week"] <= ranked["month"] <= ranked["all"]
    for board in ("pnl", "volume"):
        assert run.ranked["day"][board] <= run.ranked["all"][board]
