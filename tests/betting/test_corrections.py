"""Correcting a resolution (market_unresolve, re-resolution): compensating ledger rows that name the row
they reverse, bets back to pending, realised PnL moved back, credit debt when a winner already spent
the credits, a re-resolution that pays each bet again exactly once, the admin's confirmation page,
and the Polymarket poller's flag."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from betting.errors import MarketNotResolved
from betting.models import Bet, BetStatus, ResolutionCorrection
from betting.services import bet_sell, market_resolve, market_settle, market_unresolve
from betting.tasks import settle_market
from economy.errors import DuplicateLedgerPosting, InsufficientBalance
from economy.models import LedgerEntry, LedgerKind
from economy.services import Posting, daily_reward_claim, ledger_post_many, ledger_reverse_many
from leaderboard.services import ranks_recompute
from markets.models import Market, MarketStatus, MarketType, Resolution, ResolutionSource
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import balance_of, fresh, ledger_rows, place, set_odds
from thisthat.errors import ValidationFailed

pytestmark = pytest.mark.django_db

D = Decimal
MARKETS_ADMIN = "/admin/markets/market/"


@pytest.fixture
def book(market):
    """On a Polymarket market at 0.65/0.35 (mirrored odds: payouts are easy to check by hand):
    alice 100 on THIS (pays 153.85), bob 50 on THAT (142.86), dave 100 on each side; carol 100 on
    THIS sold at 0.80 for 123.08."""
    users = {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave")}
    bets = {
        "alice": place(users["alice"], market, "this", "100"),
        "bob": place(users["bob"], market, "that", "50"),
        "dave_this": place(users["dave"], market, "this", "100"),
        "dave_that": place(users["dave"], market, "that", "100"),  # pays 285.71
        "carol": place(users["carol"], market, "this", "100"),
    }
    set_odds(market, "0.80", "0.20")
    bet_sell(user_id=users["carol"].pk, bet_id=bets["carol"].pk)
    set_odds(market, "0.65", "0.35")
    return users, bets


def settle(market: Market, outcome: str, capture) -> None:
    with capture(execute=True):
        market_resolve(market_id=market.pk, outcome=outcome, source=ResolutionSource.ADMIN)


def correct(market: Market, staff, capture, *, outcome=None, reopen=True, reason="Wrong result entered") -> None:
    with capture(execute=True):
        market_unresolve(market_id=market.pk, reason=reason, staff_id=staff.pk, outcome=outcome, reopen=reopen)


def state(users) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """(balance, credit debt, realised PnL) per user."""
    return {name: (fresh(u).credit_balance, fresh(u).credit_debt, fresh(u).overall_pnl) for name, u in users.items()}


# Each user's (balance, debt, PnL) in each state of the book, worked out by hand.
PENDING = {  # carol's sale is final: 900 + 123.08, PnL +23.08
    "alice": (D("900"), D("0"), D("0")),
    "bob": (D("950"), D("0"), D("0")),
    "carol": (D("1023.08"), D("0"), D("23.08")),
    "dave": (D("800"), D("0"), D("0")),
}
THIS_WON = {
    "alice": (D("1053.85"), D("0"), D("53.85")),
    "bob": (D("950"), D("0"), D("-50")),
    "carol": (D("1023.08"), D("0"), D("23.08")),
    "dave": (D("953.85"), D("0"), D("-46.15")),  # +53.85 - 100
}
THAT_WON = {
    "alice": (D("900"), D("0"), D("-100")),
    "bob": (D("1092.86"), D("0"), D("92.86")),
    "carol": (D("1023.08"), D("0"), D("23.08")),
    "dave": (D("1085.71"), D("0"), D("85.71")),  # -100 + 185.71
}


def test_unresolve_then_re_resolve_then_unresolve_again_keeps_the_ledger_and_pnl_right_at_every_step(
    book, market, staff, django_capture_on_commit_callbacks
):
    users, bets = book
    capture = django_capture_on_commit_callbacks

    settle(market, Resolution.THIS, capture)
    assert state(users) == THIS_WON

    correct(market, staff, capture)  # unresolve: every settled bet pending again
    market.refresh_from_db()
    # A Polymarket market goes back to closed (upstream closed it); a credits market may reopen.
    assert (market.status, market.resolution, market.settlement_round, market.settled_at) == ("closed", None, 1, None)
    assert state(users) == PENDING
    assert Bet.objects.filter(market=market, status=BetStatus.PENDING).count() == 4
    assert Bet.objects.get(pk=bets["carol"].pk).status == BetStatus.SOLD
    assert_ledger_reconciles()

    with django_capture_on_commit_callbacks(execute=True):  # the settlement is queued after commit
        market_resolve(market_id=market.pk, outcome=Resolution.THAT, source=ResolutionSource.ADMIN)
    assert state(users) == THAT_WON
    assert_ledger_reconciles()

    correct(market, staff, capture, reopen=False)
    market.refresh_from_db()
    assert (market.status, market.settlement_round) == ("closed", 2)
    assert state(users) == PENDING
    assert_ledger_reconciles()

    # The whole story is in the ledger, nothing edited: alice was paid once in round 0 and it was
    # taken back; dave's THAT bet was paid in round 1 and taken back.
    alice_rows = ledger_rows(reference_id=bets["alice"].pk).order_by("pk")
    assert [(row.kind, row.amount, row.settlement_round) for row in alice_rows] == [
        (LedgerKind.BET_PLACED, D("-100"), 0),
        (LedgerKind.BET_PAYOUT, D("153.85"), 0),
        (LedgerKind.BET_PAYOUT_REVERSAL, D("-153.85"), 0),
    ]
    assert alice_rows[2].reverses_id == alice_rows[1].pk
    assert alice_rows[2].created_by_id == staff.pk
    assert "Wrong result entered" in alice_rows[2].description
    dave_that = ledger_rows(reference_id=bets["dave_that"].pk).order_by("pk")
    assert [(row.kind, row.amount, row.settlement_round) for row in dave_that] == [
        (LedgerKind.BET_PLACED, D("-100"), 0),
        (LedgerKind.BET_PAYOUT, D("285.71"), 1),
        (LedgerKind.BET_PAYOUT_REVERSAL, D("-285.71"), 1),
    ]
    corrections = list(
        ResolutionCorrection.objects.order_by("created_at").values_list("previous_outcome", "new_outcome")
    )
    assert corrections == [("this", None), ("that", None)]


def test_re_resolving_to_the_other_outcome_settles_again_exactly_once(
    book, market, staff, django_capture_on_commit_callbacks
):
    users, bets = book
    settle(market, Resolution.THIS, django_capture_on_commit_callbacks)

    correct(market, staff, django_capture_on_commit_callbacks, outcome=Resolution.THAT)

    market.refresh_from_db()
    assert (market.status, market.resolution, market.settlement_round) == ("resolved", "that", 1)
    assert (market.resolution_source, market.resolved_by_id) == (ResolutionSource.ADMIN, staff.pk)
    assert market.settled_at is not None
    assert state(users) == THAT_WON
    assert ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bets["bob"].pk).count() == 1
    market_settle(market_id=market.pk)  # a duplicate run pays nothing more
    settle_market.delay(str(market.pk))
    assert state(users) == THAT_WON
    correction = ResolutionCorrection.objects.get()
    assert (correction.previous_outcome, correction.new_outcome, correction.staff_id) == ("this", "that", staff.pk)
    assert (correction.bets_reversed, correction.credits_reversed, correction.debt_added) == (4, D("307.70"), 0)
    assert_ledger_reconciles()


def test_invalid_refunds_are_reversed_with_their_own_kind(book, market, staff, django_capture_on_commit_callbacks):
    users, bets = book
    settle(market, Resolution.INVALID, django_capture_on_commit_callbacks)

    correct(market, staff, django_capture_on_commit_callbacks, outcome=Resolution.THIS)

    reversal = ledger_rows(kind=LedgerKind.BET_REFUND_REVERSAL, reference_id=bets["bob"].pk).get()
    assert (reversal.amount, reversal.reverses.kind) == (D("-50"), LedgerKind.BET_REFUND)
    assert state(users) == THIS_WON
    assert_ledger_reconciles()


def test_a_winner_who_spent_the_credits_owes_the_rest_as_credit_debt_paid_off_first_by_later_credits(
    django_capture_on_commit_callbacks, staff, client_for
):
    credits_market = MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.5"), that_odds=D("0.5"))
    other = MarketFactory(market_type=MarketType.CREDITS)
    winner = UserFactory(balance=D("100"))
    won = place(winner, credits_market, "this", "100")  # 190.90 shares
    settle(credits_market, Resolution.THIS, django_capture_on_commit_callbacks)
    assert balance_of(winner) == D("190.90")
    place(winner, other, "this", "150")  # spends most of the winnings
    assert balance_of(winner) == D("40.90")

    correct(credits_market, staff, django_capture_on_commit_callbacks)

    credits_market.refresh_from_db()
    assert credits_market.status == MarketStatus.OPEN  # reopened to bets: its market maker trades on
    winner = fresh(winner)
    assert (winner.credit_balance, winner.credit_debt) == (D("0"), D("150.00"))  # 40.90 - 190.90
    profile = client_for(winner).get("/api/v1/users/me").json()
    assert (profile["creditBalance"], profile["creditDebt"]) == (0, 150)
    reversal = ledger_rows(winner, LedgerKind.BET_PAYOUT_REVERSAL).get()
    assert (reversal.amount, reversal.balance_after, reversal.debt_after) == (D("-190.90"), D("0"), D("150.00"))
    assert winner.overall_pnl == 0
    assert ResolutionCorrection.objects.get().debt_added == D("150.00")
    assert_ledger_reconciles()  # balance - debt = 0 - 150 = the sum of the rows

    # In debt, the user cannot bet: there is no balance to stake.
    with pytest.raises(InsufficientBalance):
        place(winner, other, "that", "10")
    # A credit pays the debt off first; only the rest reaches the balance.
    claim = daily_reward_claim(user_id=winner.pk)
    assert claim.new_balance == D("850.00")  # 1,000 - 150
    assert (fresh(winner).credit_balance, fresh(winner).credit_debt) == (D("850.00"), D("0"))
    row = ledger_rows(winner, LedgerKind.DAILY_REWARD).get()
    assert (row.amount, row.balance_after, row.debt_after) == (D("1000"), D("850.00"), D("0"))
    assert won.pk in set(Bet.objects.filter(status=BetStatus.PENDING).values_list("pk", flat=True))
    assert_ledger_reconciles()


def test_the_database_refuses_a_balance_and_a_debt_at_once_or_a_negative_debt(user):
    from accounts.models import User

    for values in ({"credit_balance": D("5"), "credit_debt": D("5")}, {"credit_debt": D("-1")}):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.filter(pk=user.pk).update(**values)


def test_the_database_pays_a_bet_once_per_round_and_reverses_a_row_once(book, market, staff, capture_settle):
    users, bets = book
    capture_settle(market, Resolution.THIS)
    paid = ledger_rows(kind=LedgerKind.BET_PAYOUT, reference_id=bets["alice"].pk).get()
    again = Posting(
        user_id=users["alice"].pk, amount=D("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=paid.reference_id
    )

    with pytest.raises(DuplicateLedgerPosting):
        ledger_post_many(postings=[again])  # the same round: refused
    ledger_reverse_many(entries=[paid])
    with pytest.raises(DuplicateLedgerPosting):
        ledger_reverse_many(entries=[paid])  # a row is reversed once
    with pytest.raises(IntegrityError), transaction.atomic():  # a reversal names its row
        LedgerEntry.objects.create(
            user=users["alice"],
            amount=D("-1"),
            kind=LedgerKind.BET_PAYOUT_REVERSAL,
            reference_id=paid.reference_id,
            balance_after=D("0"),
        )
    with pytest.raises(ValueError):
        ledger_reverse_many(entries=[ledger_rows(kind=LedgerKind.BET_SALE).get()])  # only payouts and refunds
    # The next round may pay it again, once.
    ledger_post_many(postings=[Posting(**{**again.__dict__, "settlement_round": 1})])
    with pytest.raises(DuplicateLedgerPosting):
        ledger_post_many(postings=[Posting(**{**again.__dict__, "settlement_round": 1})])


@pytest.fixture
def capture_settle(django_capture_on_commit_callbacks):
    def run(market, outcome):
        settle(market, outcome, django_capture_on_commit_callbacks)

    return run


# --- refusals -------------------------------------------------------------------------------------
def test_a_market_without_an_outcome_cannot_be_unresolved(market, staff):
    with pytest.raises(MarketNotResolved):
        market_unresolve(market_id=market.pk, reason="oops", staff_id=staff.pk)


def test_a_correction_needs_a_reason(market, staff, capture_settle):
    capture_settle(market, Resolution.THIS)

    with pytest.raises(ValidationFailed) as refused:
        market_unresolve(market_id=market.pk, reason="   ", staff_id=staff.pk)

    assert list(refused.value.details) == ["reason"]
    market.refresh_from_db()
    assert market.status == MarketStatus.RESOLVED


def test_re_resolving_to_the_same_outcome_is_refused(book, market, staff, capture_settle):
    users, _ = book
    capture_settle(market, Resolution.THIS)

    with pytest.raises(ValidationFailed):
        market_unresolve(market_id=market.pk, reason="again", staff_id=staff.pk, outcome=Resolution.THIS)

    assert state(users) == THIS_WON


def test_an_expired_credits_market_goes_back_to_closed_and_a_polymarket_one_always(
    staff, capture_settle, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    expired = MarketFactory(market_type=MarketType.CREDITS, expires_at=timezone.now())
    mirrored = MarketFactory()
    for market in (expired, mirrored):
        capture_settle(market, Resolution.THAT)
        correct(market, staff, django_capture_on_commit_callbacks, reopen=True)
        market.refresh_from_db()
        assert market.status == MarketStatus.CLOSED


def test_a_settlement_task_queued_before_an_unresolve_finds_nothing_to_settle(
    book, market, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        market_resolve(market_id=market.pk, outcome=Resolution.THIS, source=ResolutionSource.ADMIN)
    correct(market, staff, django_capture_on_commit_callbacks)

    result = settle_market.delay(str(market.pk)).get()

    assert "skipped" in result
    assert not ledger_rows(kind=LedgerKind.BET_PAYOUT).exists()
    assert not Bet.objects.filter(market=market, status__in=["won", "lost"]).exists()


def test_ranks_follow_the_corrected_results(book, market, staff, api_client, django_capture_on_commit_callbacks):
    users, _ = book
    settle(market, Resolution.THIS, django_capture_on_commit_callbacks)
    ranks_recompute()
    assert api_client.get("/api/v1/leaderboard/pnl").json()["leaderboard"][0]["user"]["username"] == "alice"

    correct(market, staff, django_capture_on_commit_callbacks, outcome=Resolution.THAT)  # ranks recomputed on commit

    board = api_client.get("/api/v1/leaderboard/pnl").json()["leaderboard"]
    assert [(row["user"]["username"], row["overallPnL"]) for row in board if row["user"]["username"] in users] == [
        ("bob", 92.86),
        ("dave", 85.71),
        ("carol", 23.08),
        ("alice", -100),
    ]


# --- the admin ------------------------------------------------------------------------------------
def test_the_admin_confirmation_shows_per_outcome_what_moves_and_changes_nothing(
    book, market, admin_browser, capture_settle
):
    users, _ = book
    capture_settle(market, Resolution.THIS)
    place(users["alice"], MarketFactory(), "this", "1000")  # alice spends her winnings: the correction leaves a debt

    page = admin_browser.post(MARKETS_ADMIN, {"action": "reresolve_that", "_selected_action": [str(market.pk)]})

    assert page.status_code == 200
    preview = page.context["previews"][0]
    assert (preview.won.bets, preview.won.credits) == (2, D("307.70"))
    assert (preview.lost, preview.cancelled.bets, preview.sold) == (2, 0, 1)
    assert preview.pnl_reversed == D("307.70") - D("350")  # payouts minus the stakes of won and lost bets
    assert (preview.debtors, preview.debt) == (1, D("100.00"))  # alice: 153.85 to take back, 53.85 left
    assert (preview.then_pending, preview.then_paid_bets, preview.then_credits) == (4, 2, D("428.57"))
    html = page.content.decode()
    assert "307.70" in html and "428.57" in html and "Reason" in html
    assert state(users)["bob"] == THIS_WON["bob"]


def test_the_admin_correction_needs_a_reason_then_records_the_staff_member(
    book, market, staff, admin_browser, capture_settle, django_capture_on_commit_callbacks
):
    users, _ = book
    capture_settle(market, Resolution.THIS)
    form = {"action": "reresolve_that", "_selected_action": [str(market.pk)], "confirm": "yes"}

    refused = admin_browser.post(MARKETS_ADMIN, {**form, "reason": ""})
    assert refused.status_code == 200 and refused.context["form"].errors["reason"]
    assert state(users) == THIS_WON

    with django_capture_on_commit_callbacks(execute=True):  # the new settlement is queued after commit
        done = admin_browser.post(MARKETS_ADMIN, {**form, "reason": "Upstream corrected the result"}, follow=True)

    assert done.status_code == 200
    assert "4 bets back to pending" in done.content.decode()
    correction = ResolutionCorrection.objects.get()
    assert (correction.staff_id, correction.reason) == (staff.pk, "Upstream corrected the result")
    assert state(users) == THAT_WON
    assert admin_browser.get("/admin/betting/resolutioncorrection/").status_code == 200
    assert_ledger_reconciles()


def test_the_admin_unresolve_can_keep_a_credits_market_closed(staff, admin_browser, capture_settle):
    credits_market = MarketFactory(market_type=MarketType.CREDITS)
    place(UserFactory(), credits_market, "this", "100")
    capture_settle(credits_market, Resolution.THIS)
    form = {"action": "unresolve", "_selected_action": [str(credits_market.pk)], "confirm": "yes", "reason": "x"}

    admin_browser.post(MARKETS_ADMIN, form)  # the reopen box unticked

    credits_market.refresh_from_db()
    assert credits_market.status == MarketStatus.CLOSED
    assert Bet.objects.get().status == BetStatus.PENDING


def test_correcting_an_unresolved_market_from_the_admin_says_why_not(market, admin_browser):
    form = {"action": "unresolve", "_selected_action": [str(market.pk)], "confirm": "yes", "reason": "x"}

    response = admin_browser.post(MARKETS_ADMIN, form, follow=True)

    assert "has no outcome to correct" in response.content.decode()
    assert not ResolutionCorrection.objects.exists()
