"""Resolution and settlement (SPEC §6 "Resolution", §7 "settle market", §8 admin): outcomes recorded,
every pending bet settled exactly once through the ledger, chunked and resumable, the command and
the admin actions."""

from decimal import Decimal
from io import StringIO
from unittest import mock
from uuid import uuid4

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from betting import services as betting_services
from betting.errors import MarketNotResolved
from betting.models import Bet, BetStatus
from betting.services import bet_sell, market_resolve, market_settle
from betting.tasks import settle_market
from economy.errors import DuplicateLedgerPosting
from economy.models import LedgerEntry, LedgerKind
from economy.services import ledger_post
from leaderboard.tasks import DEBOUNCE_SECONDS, recompute_ranks
from markets.errors import MarketClosed, MarketNotFound
from markets.models import Market, MarketStatus, Resolution, ResolutionSource
from markets.services import market_mark_resolved
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import balance_of, fresh, ledger_rows, place, set_odds

pytestmark = pytest.mark.django_db

D = Decimal
MARKETS_ADMIN = "/admin/markets/market/"
BETS_ADMIN = "/admin/betting/bet/"


def resolve(market: Market, outcome: str, by=None) -> Market:
    return market_resolve(
        market_id=market.pk, outcome=outcome, source=ResolutionSource.ADMIN, resolved_by_id=by.pk if by else None
    )


def resolve_and_settle(market: Market, outcome: str, capture, by=None) -> Market:
    """Resolve and let the on-commit settlement run (Celery is eager in tests)."""
    with capture(execute=True):
        resolve(market, outcome, by)
    market.refresh_from_db()
    return market


def statuses(market: Market) -> dict[str, int]:
    rows = Bet.objects.filter(market=market).values_list("status", flat=True)
    return {status: list(rows).count(status) for status in set(rows)}


@pytest.fixture
def book(market):
    """alice 100 on THIS (payout 153.85); bob 50 on THAT (142.86); dave 100 on each side; carol
    100 on THIS, sold at 0.80 for 123.08 before any resolution."""
    alice, bob, carol, dave = (UserFactory(username=name) for name in ("alice", "bob", "carol", "dave"))
    bets = {
        "alice": place(alice, market, "this", "100"),
        "bob": place(bob, market, "that", "50"),
        "dave_this": place(dave, market, "this", "100"),
        "dave_that": place(dave, market, "that", "100"),  # payout 285.71
        "carol": place(carol, market, "this", "100"),
    }
    set_odds(market, "0.80", "0.20")
    bet_sell(user_id=carol.pk, bet_id=bets["carol"].pk)
    set_odds(market, "0.65", "0.35")
    users = {"alice": alice, "bob": bob, "carol": carol, "dave": dave}
    return users, bets


# --- recording the outcome ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (Resolution.THIS, MarketStatus.RESOLVED),
        (Resolution.THAT, MarketStatus.RESOLVED),
        (Resolution.INVALID, MarketStatus.CANCELLED),
    ],
)
def test_resolving_records_the_outcome_who_and_when(market, staff, django_capture_on_commit_callbacks, outcome, status):
    resolve_and_settle(market, outcome, django_capture_on_commit_callbacks, by=staff)

    assert market.status == status
    assert market.resolution == outcome
    assert market.resolved_at is not None
    assert market.resolution_source == ResolutionSource.ADMIN
    assert market.resolved_by_id == staff.pk
    assert market.settled_at is not None


def test_a_polymarket_resolution_has_no_staff_author(user, market, django_capture_on_commit_callbacks):
    place(user, market)
    with django_capture_on_commit_callbacks(execute=True):
        market_resolve(market_id=market.pk, outcome=Resolution.THAT, source=ResolutionSource.POLYMARKET)
    market.refresh_from_db()

    assert (market.resolution_source, market.resolved_by_id) == (ResolutionSource.POLYMARKET, None)


def test_a_closed_market_can_be_resolved(user, django_capture_on_commit_callbacks):
    market = MarketFactory()
    bet = place(user, market)
    Market.objects.filter(pk=market.pk).update(status=MarketStatus.CLOSED)

    assert resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks).status == "resolved"
    bet.refresh_from_db()
    assert bet.status == BetStatus.WON


def test_settling_when_no_user_is_active_does_not_crash_the_rank_recomputation(
    market, django_capture_on_commit_callbacks
):
    """A settlement asks for fresh ranks on commit (eager in tests). With no active user the
    recomputation writes no standings, and refreshing the cached boards must cope with that."""
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    assert market.settled_at is not None


# --- settlement -----------------------------------------------------------------------------------
def test_resolving_this_pays_winners_their_potential_payout_and_losers_nothing(
    book, market, django_capture_on_commit_callbacks
):
    users, bets = book

    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    for name in ("alice", "dave_this"):
        bets[name].refresh_from_db()
        assert (bets[name].status, bets[name].actual_payout) == (BetStatus.WON, D("153.85"))
        assert bets[name].resolved_at is not None
        payout = ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bets[name].pk).get()
        assert payout.amount == D("153.85")
    for name in ("bob", "dave_that"):
        bets[name].refresh_from_db()
        assert (bets[name].status, bets[name].actual_payout) == (BetStatus.LOST, D("0"))
        assert bets[name].resolved_at is not None
        assert not ledger_rows(reference_id=bets[name].pk).exclude(kind=LedgerKind.BET_PLACED).exists()
    assert balance_of(users["alice"]) == D("1053.85")
    assert balance_of(users["bob"]) == D("950")
    assert balance_of(users["dave"]) == D("953.85")
    assert ledger_rows(kind=LedgerKind.BET_PAYOUT).count() == 2
    assert not ledger_rows(kind=LedgerKind.BET_REFUND).exists()
    assert_ledger_reconciles()


def test_resolving_that_pays_the_that_side(book, market, django_capture_on_commit_callbacks):
    users, _ = book

    resolve_and_settle(market, Resolution.THAT, django_capture_on_commit_callbacks)

    assert statuses(market) == {"won": 2, "lost": 2, "sold": 1}
    assert balance_of(users["bob"]) == D("950") + D("142.86")
    assert balance_of(users["dave"]) == D("800") + D("285.71")
    assert balance_of(users["alice"]) == D("900")
    assert_ledger_reconciles()


def test_settlement_records_realised_pnl_per_the_spec(book, market, django_capture_on_commit_callbacks):
    users, _ = book

    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    assert fresh(users["alice"]).overall_pnl == D("53.85")  # won: payout - amount
    assert fresh(users["bob"]).overall_pnl == D("-50")  # lost: -amount
    assert fresh(users["dave"]).overall_pnl == D("53.85") - D("100")  # one of each
    assert fresh(users["carol"]).overall_pnl == D("23.08")  # the sale only: 123.08 - 100


def test_invalid_cancels_every_pending_bet_and_refunds_its_stake(book, market, django_capture_on_commit_callbacks):
    users, bets = book

    resolve_and_settle(market, Resolution.INVALID, django_capture_on_commit_callbacks)

    assert market.status == MarketStatus.CANCELLED
    assert statuses(market) == {"cancelled": 4, "sold": 1}
    for name in ("alice", "bob", "dave_this", "dave_that"):
        bets[name].refresh_from_db()
        assert bets[name].actual_payout == bets[name].amount
        refund = ledger_rows(kind=LedgerKind.BET_REFUND, reference_id=bets[name].pk).get()
        assert refund.amount == bets[name].amount
    assert not ledger_rows(kind=LedgerKind.BET_PAYOUT).exists()
    assert [balance_of(users[name]) for name in ("alice", "bob", "dave")] == [D("1000")] * 3
    assert [fresh(users[name]).overall_pnl for name in ("alice", "bob", "dave")] == [D("0")] * 3  # cancelled: 0
    assert_ledger_reconciles()


def test_sold_bets_are_left_as_they_were(book, market, django_capture_on_commit_callbacks):
    users, bets = book
    sold = Bet.objects.get(pk=bets["carol"].pk)

    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    after = Bet.objects.get(pk=sold.pk)
    assert (after.status, after.actual_payout, after.resolved_at) == (BetStatus.SOLD, D("123.08"), sold.resolved_at)
    assert set(ledger_rows(reference_id=sold.pk).values_list("kind", flat=True)) == {"bet_placed", "bet_sale"}
    assert balance_of(users["carol"]) == D("1023.08")


def test_payouts_to_one_user_chain_their_balance_after(market, django_capture_on_commit_callbacks):
    user = UserFactory()
    for _ in range(3):
        place(user, market, "this", "10")  # 15.38 each; balance 970

    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    rows = ledger_rows(user, LedgerKind.BET_PAYOUT).order_by("balance_after")
    assert list(rows.values_list("balance_after", flat=True)) == [D("985.38"), D("1000.76"), D("1016.14")]
    assert balance_of(user) == D("1016.14")
    assert_ledger_reconciles()


def test_the_same_outcome_again_is_a_no_op(book, market, staff, django_capture_on_commit_callbacks):
    users, _ = book
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks, by=staff)
    first_resolved_at = market.resolved_at
    rows_before = LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = resolve(market, Resolution.THIS)

    assert again.resolved_at == first_resolved_at
    assert callbacks == []  # nothing queued: the settlement had finished
    assert LedgerEntry.objects.count() == rows_before
    assert ledger_rows(kind=LedgerKind.BET_PAYOUT).count() == 2
    assert balance_of(users["alice"]) == D("1053.85")


def test_the_same_outcome_again_requeues_an_unfinished_settlement(book, market, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        resolve(market, Resolution.THIS)  # the settlement task was lost (never ran)
    assert statuses(market)["pending"] == 4

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        resolve(market, Resolution.THIS)

    assert len(callbacks) >= 1
    assert "pending" not in statuses(market)
    assert ledger_rows(kind=LedgerKind.BET_PAYOUT).count() == 2


@pytest.mark.parametrize("second", [Resolution.THAT, Resolution.INVALID])
def test_another_outcome_after_resolution_is_market_closed(book, market, django_capture_on_commit_callbacks, second):
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)
    rows_before = LedgerEntry.objects.count()

    with pytest.raises(MarketClosed), django_capture_on_commit_callbacks(execute=True):
        resolve(market, second)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)
    assert LedgerEntry.objects.count() == rows_before


# --- tasks ----------------------------------------------------------------------------------------
def test_settlement_is_enqueued_only_on_commit(book, market, django_capture_on_commit_callbacks):
    with mock.patch.object(settle_market, "delay") as delay, django_capture_on_commit_callbacks() as callbacks:
        resolve(market, Resolution.THIS)
        delay.assert_not_called()  # not before the resolution commits

    assert statuses(market)["pending"] == 4
    with mock.patch.object(settle_market, "delay") as delay:
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(str(market.pk))


def test_recompute_ranks_is_enqueued_after_each_settlement(book, market, django_capture_on_commit_callbacks):
    with mock.patch.object(recompute_ranks, "apply_async") as apply_async:
        resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    apply_async.assert_called_once_with(countdown=DEBOUNCE_SECONDS)
    assert "pending" not in statuses(market)


def test_recompute_ranks_is_enqueued_on_commit_of_a_direct_settlement(book, market, django_capture_on_commit_callbacks):
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THAT, source=ResolutionSource.ADMIN)

    with mock.patch.object(recompute_ranks, "apply_async") as apply_async:
        with django_capture_on_commit_callbacks(execute=True):
            market_settle(market_id=market.pk)
            apply_async.assert_not_called()  # only once the settlement is committed

        apply_async.assert_called_once_with(countdown=DEBOUNCE_SECONDS)


def test_the_settle_market_task_settles_and_returns_a_summary(book, market):
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)

    summary = settle_market.delay(str(market.pk)).get()

    assert summary["market_id"] == str(market.pk)
    assert summary["outcome"] == "this"
    assert summary["bets"] == {"won": 2, "lost": 2}
    assert D(summary["paid"]) == D("307.70")
    assert summary["chunks"] == 1


@pytest.mark.parametrize("status", [MarketStatus.OPEN, MarketStatus.CLOSED])
def test_settling_a_market_without_an_outcome_is_market_not_resolved(book, status):
    _, bets = book
    market = Market.objects.get(pk=bets["alice"].market_id)
    Market.objects.filter(pk=market.pk).update(status=status)

    with pytest.raises(MarketNotResolved):
        market_settle(market_id=market.pk)

    assert statuses(market)["pending"] == 4
    assert not ledger_rows(kind=LedgerKind.BET_PAYOUT).exists()


def test_settling_an_unknown_market_is_market_not_found():
    with pytest.raises(MarketNotFound):
        market_settle(market_id=uuid4())


# --- chunks ---------------------------------------------------------------------------------------
def bets_on(market: Market, count: int, users: int = 5) -> list[Bet]:
    people = [UserFactory(balance=D("10000")) for _ in range(users)]
    return [place(people[i % users], market, "this" if i % 2 == 0 else "that", "10") for i in range(count)]


def test_25_bets_in_chunks_of_10_settle_in_3_chunks(market):
    bets_on(market, 25)
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
    progress: list[str] = []

    summary = market_settle(market_id=market.pk, chunk_size=10, progress=progress.append)

    assert summary.chunks == 3
    assert dict(summary.bets) == {"won": 13, "lost": 12}
    assert summary.paid == 13 * D("15.38")
    assert progress == [
        "chunk 1: 10 bets settled, 10 so far",
        "chunk 2: 10 bets settled, 20 so far",
        "chunk 3: 5 bets settled, 25 so far",
    ]
    assert "pending" not in statuses(market)
    assert ledger_rows(kind=LedgerKind.BET_PAYOUT).count() == 13
    assert_ledger_reconciles()


def test_settlement_queries_do_not_grow_with_the_chunk_size():
    small, large = MarketFactory(), MarketFactory()
    bets_on(small, 10, users=5)
    bets_on(large, 100, users=25)
    for market in (small, large):
        market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)

    with CaptureQueriesContext(connection) as five_per_chunk:
        assert market_settle(market_id=small.pk, chunk_size=5).chunks == 2
    with CaptureQueriesContext(connection) as fifty_per_chunk:
        assert market_settle(market_id=large.pk, chunk_size=50).chunks == 2

    assert len(fifty_per_chunk) == len(five_per_chunk), [q["sql"][:120] for q in fifty_per_chunk.captured_queries]
    assert "pending" not in statuses(large)


def test_a_second_settlement_run_finds_nothing_to_do(book, market, django_capture_on_commit_callbacks):
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)
    rows_before = LedgerEntry.objects.count()

    summary = market_settle(market_id=market.pk)

    assert (summary.chunks, summary.paid, dict(summary.bets)) == (0, D(0), {})
    assert LedgerEntry.objects.count() == rows_before


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_settlement_leaves_nothing_half_paid_and_the_next_run_finishes():
    market = MarketFactory()
    bets = bets_on(market, 25)
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
    real_post_many = betting_services.ledger_post_many
    calls = {"n": 0}

    def crash_on_second_chunk(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real_post_many(**kwargs)

    with (
        mock.patch("betting.services.ledger_post_many", side_effect=crash_on_second_chunk),
        pytest.raises(RuntimeError),
    ):
        market_settle(market_id=market.pk, chunk_size=10)

    settled = Bet.objects.filter(market=market).exclude(status=BetStatus.PENDING)
    assert settled.count() == 10  # the first chunk committed
    for bet in settled:
        expected = 1 if bet.status == BetStatus.WON else 0
        assert ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bet.pk).count() == expected
    pending = Bet.objects.filter(market=market, status=BetStatus.PENDING)
    assert pending.count() == 15
    assert pending.filter(actual_payout__isnull=True, resolved_at__isnull=True).count() == 15
    assert not ledger_rows(kind=LedgerKind.BET_PAYOUT).filter(reference_id__in=pending.values("pk")).exists()
    market.refresh_from_db()
    assert market.settled_at is None
    assert_ledger_reconciles()

    summary = market_settle(market_id=market.pk, chunk_size=10)

    assert summary.chunks == 2
    assert "pending" not in statuses(market)
    winners = [bet.pk for bet in bets if bet.side == "this"]
    payouts = ledger_rows(kind=LedgerKind.BET_PAYOUT)
    assert sorted(payouts.values_list("reference_id", flat=True)) == sorted(winners)  # each exactly once
    assert sum(payouts.values_list("amount", flat=True)) == len(winners) * D("15.38")
    market.refresh_from_db()
    assert market.settled_at is not None
    assert_ledger_reconciles()


def test_the_database_refuses_a_second_payout_for_one_bet(book, market, django_capture_on_commit_callbacks):
    users, bets = book
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            user=users["alice"],
            amount=D("153.85"),
            kind=LedgerKind.BET_PAYOUT,
            reference_id=bets["alice"].pk,
            balance_after=D("1207.70"),
        )
    with pytest.raises(DuplicateLedgerPosting):
        ledger_post(
            user_id=users["alice"].pk, amount=D("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=bets["alice"].pk
        )

    assert ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bets["alice"].pk).count() == 1
    assert balance_of(users["alice"]) == D("1053.85")


def test_a_bet_reset_to_pending_is_not_paid_twice(book, market, django_capture_on_commit_callbacks):
    """Even if a settled bet were found pending again (a bug or a hand edit), the ledger's unique
    (reference, kind) constraint stops a second payout and the whole chunk is rolled back."""
    users, bets = book
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)
    Bet.objects.filter(pk=bets["alice"].pk).update(status=BetStatus.PENDING, actual_payout=None, resolved_at=None)

    with pytest.raises(DuplicateLedgerPosting):
        market_settle(market_id=market.pk)

    assert ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bets["alice"].pk).count() == 1
    assert Bet.objects.get(pk=bets["alice"].pk).status == BetStatus.PENDING  # the chunk rolled back
    assert balance_of(users["alice"]) == D("1053.85")


# --- settle_market command ------------------------------------------------------------------------
def test_the_command_settles_with_progress_lines_and_a_summary(market):
    bets_on(market, 25)
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THAT, source=ResolutionSource.ADMIN)
    out = StringIO()

    call_command("settle_market", str(market.pk), "--chunk-size", "10", stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "chunk 1: 10 bets settled, 10 so far",
        "chunk 2: 10 bets settled, 20 so far",
        "chunk 3: 5 bets settled, 25 so far",
    ]
    summary = lines[-1]
    assert f"Settled market {market.pk} (that) in 3 chunks" in summary
    assert "12 won" in summary and "13 lost" in summary
    assert f"{12 * D('28.57')} credits paid" in summary  # 10 / 0.35 = 28.57
    assert "pending" not in statuses(market)


def test_the_command_on_a_settled_market_says_there_was_nothing_to_do(user, market, django_capture_on_commit_callbacks):
    place(user, market)
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)
    out = StringIO()

    call_command("settle_market", str(market.pk), stdout=out)

    assert "in 0 chunks" in out.getvalue()
    assert "no pending bets" in out.getvalue()


@pytest.mark.parametrize("market_id", ["open", str(uuid4()), "not-a-uuid"])
def test_the_command_refuses_an_open_unknown_or_malformed_market(market, market_id):
    target = str(market.pk) if market_id == "open" else market_id

    with pytest.raises(CommandError) as caught:
        call_command("settle_market", target, stdout=StringIO())

    assert target in str(caught.value)


@pytest.mark.parametrize("size", ["0", "-5"])
def test_the_command_refuses_a_chunk_size_below_1(market, size):
    market_mark_resolved(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)

    with pytest.raises(CommandError, match="chunk-size"):
        call_command("settle_market", str(market.pk), "--chunk-size", size, stdout=StringIO())

    market.refresh_from_db()
    assert market.settled_at is None


# --- admin ----------------------------------------------------------------------------------------
def action(client, name: str, markets: list[Market], confirm: bool = False):
    data = {"action": name, "_selected_action": [str(m.pk) for m in markets], "index": 0}
    if confirm:
        data["confirm"] = "yes"
    return client.post(MARKETS_ADMIN, data)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_resolve_action_first_shows_what_would_be_settled(admin_browser, book, market):
    response = action(admin_browser, "resolve_this", [market])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/markets/market/resolve_confirmation.html"
    (plan,) = response.context["plans"]
    assert (plan.market.pk, plan.pending, plan.paid_bets, plan.credits) == (market.pk, 4, 2, D("307.70"))
    assert response.context["total_pending"] == 4
    assert response.context["total_credits"] == D("307.70")
    content = response.content.decode()
    assert market.title in content
    assert "307.70" in content
    assert 'name="confirm" value="yes"' in content
    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.OPEN, None)
    assert statuses(market)["pending"] == 4


def test_the_invalid_action_plans_to_refund_every_stake(admin_browser, book, market):
    response = action(admin_browser, "resolve_invalid", [market])

    (plan,) = response.context["plans"]
    assert (plan.pending, plan.paid_bets, plan.credits) == (4, 4, D("350.00"))


def test_the_confirmation_covers_every_selected_market(admin_browser, book, market):
    other = MarketFactory()
    place(UserFactory(), other, "that", "35")  # THAT payout 100.00

    response = action(admin_browser, "resolve_that", [market, other])

    assert response.context["total_pending"] == 5
    assert response.context["total_credits"] == D("142.86") + D("285.71") + D("100.00")


def test_confirming_resolves_and_settles_with_a_message(
    admin_browser, staff, book, market, django_capture_on_commit_callbacks
):
    users, _ = book
    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_browser, "resolve_this", [market], confirm=True)

    assert response.status_code == 302
    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)
    assert (market.resolution_source, market.resolved_by_id) == (ResolutionSource.ADMIN, staff.pk)
    assert market.settled_at is not None
    assert statuses(market) == {"won": 2, "lost": 2, "sold": 1}
    assert balance_of(users["alice"]) == D("1053.85")
    assert any("resolved as THIS" in message for message in messages_of(response))
    assert_ledger_reconciles()


def test_resolving_an_already_resolved_market_otherwise_shows_an_error(
    admin_browser, book, market, django_capture_on_commit_callbacks
):
    resolve_and_settle(market, Resolution.THIS, django_capture_on_commit_callbacks)
    rows_before = LedgerEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = action(admin_browser, "resolve_that", [market], confirm=True)

    assert response.status_code == 302
    errors = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert len(errors) == 1
    assert market.title in str(errors[0]) and "already resolved" in str(errors[0])
    market.refresh_from_db()
    assert market.resolution == Resolution.THIS
    assert LedgerEntry.objects.count() == rows_before


def test_the_market_change_page_shows_pending_bets_by_side(admin_browser, book, market):
    response = admin_browser.get(f"{MARKETS_ADMIN}{market.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    # THIS: alice and dave (carol's was sold); THAT: bob and dave
    assert "THIS (Yes): 2 bets, 200.00 staked, 307.70 if it wins" in content
    assert "THAT (No): 2 bets, 150.00 staked, 428.57 if it wins" in content


def test_the_market_change_page_shows_zero_for_a_market_without_bets(admin_browser, market):
    content = admin_browser.get(f"{MARKETS_ADMIN}{market.pk}/change/").content.decode()

    assert "THIS (Yes): 0 bets, 0.00 staked, 0.00 if it wins" in content


def test_the_resolve_actions_are_staff_only(client_for, book, market):
    from django.test import Client

    client = Client()
    client.force_login(UserFactory())  # not staff

    response = action(client, "resolve_this", [market], confirm=True)

    assert response.status_code == 302 and "/login/" in response.url
    market.refresh_from_db()
    assert market.status == MarketStatus.OPEN


def test_the_bet_admin_lists_bets_with_filters(admin_browser, book):
    response = admin_browser.get(BETS_ADMIN)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 5
    for params, expected in [
        ({"status__exact": "pending"}, 4),
        ({"status__exact": "sold"}, 1),
        ({"side__exact": "that"}, 2),
        ({"market__market_type__exact": "polymarket"}, 5),
        ({"q": "alice"}, 1),
    ]:
        filtered = admin_browser.get(BETS_ADMIN, params)
        assert filtered.status_code == 200
        assert len(filtered.context["cl"].result_list) == expected, params


def test_the_bet_admin_is_read_only(admin_browser, book):
    _, bets = book
    bet = bets["alice"]

    changelist = admin_browser.get(BETS_ADMIN)
    assert changelist.context["has_add_permission"] is False
    assert changelist.context["action_form"] is None  # no actions at all: delete_selected is gone
    assert admin_browser.get(f"{BETS_ADMIN}add/").status_code == 403
    view = admin_browser.get(f"{BETS_ADMIN}{bet.pk}/change/")
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    assert 'name="_save"' not in view.content.decode()
    assert admin_browser.get(f"{BETS_ADMIN}{bet.pk}/delete/").status_code == 403
    assert admin_browser.post(f"{BETS_ADMIN}{bet.pk}/change/", {"amount": "9999"}).status_code == 403
    bet.refresh_from_db()
    assert bet.amount == D("100")
