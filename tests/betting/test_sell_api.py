"""POST /api/v1/bets/{id}/sell (SPEC §5, §6): cash-out at potentialPayout x the current odds of the
bet's side, once, through the ledger; refusals leave everything as it was."""

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.utils import timezone

from betting.models import Bet, BetStatus
from betting.services import market_resolve, market_settle
from economy.models import LedgerKind
from markets.models import Market, MarketStatus, Resolution
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.betting import BET_KEYS, balance_of, fresh, ledger_rows, money, place, sell_url, set_odds

pytestmark = pytest.mark.django_db


def sell(client, bet, body: dict | None = None, **headers):
    return client.post(sell_url(bet), body or {}, format="json", **headers)


@pytest.fixture
def bet(user, market) -> Bet:
    """100 on THIS at 0.65: potential payout 153.85; the user has 900 left."""
    return place(user, market, side="this", amount="100")


def assert_untouched(bet: Bet, user, balance: Decimal = Decimal("900")) -> None:
    bet.refresh_from_db()
    assert bet.status == BetStatus.PENDING
    assert bet.actual_payout is None
    assert not ledger_rows(kind=LedgerKind.BET_SALE).exists()
    assert balance_of(user) == balance
    assert fresh(user).overall_pnl == 0


# --- success --------------------------------------------------------------------------------------
def test_selling_pays_potential_payout_times_the_current_odds(auth_client, user, market, bet):
    set_odds(market, "0.80", "0.20")

    response = sell(auth_client, bet)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"bet", "creditsReceived", "newBalance"}
    assert set(body["bet"]) == BET_KEYS
    assert money(body["creditsReceived"]) == Decimal("123.08")  # 153.85 x 0.80 = 123.08
    assert money(body["newBalance"]) == Decimal("1023.08")
    assert body["bet"]["status"] == "sold"
    assert money(body["bet"]["actualPayout"]) == Decimal("123.08")
    assert body["bet"]["resolvedAt"] is not None
    assert body["bet"]["market"]["status"] == "open"


def test_a_sale_is_recorded_on_the_bet_the_ledger_and_the_users_pnl(auth_client, user, market, bet):
    set_odds(market, "0.50", "0.50")

    sell(auth_client, bet)

    bet.refresh_from_db()
    assert bet.status == BetStatus.SOLD
    assert bet.actual_payout == Decimal("76.93")  # 153.85 x 0.5 = 76.925 → half-up
    assert bet.resolved_at is not None
    entry = ledger_rows(user, LedgerKind.BET_SALE).get()
    assert (entry.amount, entry.reference_id, entry.balance_after) == (Decimal("76.93"), bet.pk, Decimal("976.93"))
    user = fresh(user)
    assert user.credit_balance == Decimal("976.93")
    assert user.overall_pnl == Decimal("-23.07")  # sale - amount
    assert user.total_volume == Decimal("100")  # selling adds no volume


def test_selling_a_that_bet_uses_the_that_odds(auth_client, user, market):
    that_bet = place(user, market, side="that", amount="35")  # payout 100.00
    set_odds(market, "0.30", "0.70")

    response = sell(auth_client, that_bet)

    assert money(response.json()["creditsReceived"]) == Decimal("70.00")
    assert fresh(user).overall_pnl == Decimal("35.00")


# --- not sellable ---------------------------------------------------------------------------------
def test_a_bet_sold_once_is_not_sellable_again(auth_client, user, bet):
    sell(auth_client, bet)

    response = sell(auth_client, bet)

    assert_error(response, 409, "BET_NOT_SELLABLE")
    assert ledger_rows(kind=LedgerKind.BET_SALE).count() == 1
    assert balance_of(user) == Decimal("1000.00")  # 900 + 100.00 (153.85 x 0.65 = 100.0025)


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(Resolution.THIS, "won"), (Resolution.THAT, "lost"), (Resolution.INVALID, "cancelled")],
)
def test_a_settled_bet_is_not_sellable(auth_client, user, market, bet, outcome, status):
    market_resolve(market_id=market.pk, outcome=outcome, source="admin")
    market_settle(market_id=market.pk)
    bet.refresh_from_db()
    assert bet.status == status
    balance = balance_of(user)

    assert_error(sell(auth_client, bet), 409, "BET_NOT_SELLABLE")

    assert balance_of(user) == balance
    assert not ledger_rows(kind=LedgerKind.BET_SALE).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"status": MarketStatus.CLOSED},
        {"status": MarketStatus.RESOLVED, "resolution": Resolution.THIS},
        {"status": MarketStatus.CANCELLED, "resolution": Resolution.INVALID},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
    ids=["closed", "resolved-not-yet-settled", "cancelled-not-yet-settled", "past-expiry"],
)
def test_a_pending_bet_on_a_market_that_is_not_open_is_not_sellable(auth_client, user, market, bet, changes):
    Market.objects.filter(pk=market.pk).update(**changes)

    assert_error(sell(auth_client, bet), 409, "BET_NOT_SELLABLE")
    assert_untouched(bet, user)


@pytest.mark.parametrize(("this_odds", "that_odds"), [(None, "0.35"), ("0.995", "0.005"), ("0.0050", "0.995")])
def test_a_bet_whose_side_has_no_tradable_odds_is_odds_unavailable(
    auth_client, user, market, bet, this_odds, that_odds
):
    set_odds(market, this_odds, that_odds)

    assert_error(sell(auth_client, bet), 409, "ODDS_UNAVAILABLE")
    assert_untouched(bet, user)


# --- expectedValue --------------------------------------------------------------------------------
def test_a_value_more_than_2_percent_under_the_expected_one_is_odds_changed(auth_client, user, market, bet):
    set_odds(market, "0.64", "0.36")  # value 153.85 x 0.64 = 98.46

    response = sell(auth_client, bet, {"expectedValue": "100.50"})  # 98.46 < 100.50 x 0.98 = 98.49

    error = assert_error(response, 409, "ODDS_CHANGED")
    assert money(error["details"]["currentValue"]) == Decimal("98.46")
    assert_untouched(bet, user)


def test_a_value_exactly_2_percent_under_the_expected_one_is_accepted(auth_client, user, market, bet):
    set_odds(market, "0.6370", "0.3630")  # 153.85 x 0.637 = 98.00245 → 98.00 = 100.00 x 0.98

    response = sell(auth_client, bet, {"expectedValue": "100.00"})

    assert response.status_code == 200, response.json()
    assert money(response.json()["creditsReceived"]) == Decimal("98.00")


def test_a_value_a_cent_past_the_2_percent_edge_is_refused(auth_client, user, market, bet):
    set_odds(market, "0.6369", "0.3631")  # 153.85 x 0.6369 = 97.9870… → 97.99

    assert_error(sell(auth_client, bet, {"expectedValue": "100.00"}), 409, "ODDS_CHANGED")
    assert_untouched(bet, user)


def test_an_expected_value_2_percent_above_the_value_is_accepted(auth_client, market, bet):
    # value 100.00 at the odds of placing; the client expected 102.00 (2 % above): within tolerance
    response = sell(auth_client, bet, {"expectedValue": "102.00"})

    assert response.status_code == 200, response.json()


def test_a_better_value_than_expected_is_always_accepted(auth_client, market, bet):
    set_odds(market, "0.90", "0.10")

    response = sell(auth_client, bet, {"expectedValue": "50"})

    assert money(response.json()["creditsReceived"]) == Decimal("138.47")  # 138.465 → half-up


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN"])
def test_a_malformed_expected_value_is_a_validation_error(auth_client, user, bet, bad):
    error = assert_error(sell(auth_client, bet, {"expectedValue": bad}), 400, "VALIDATION_ERROR")

    assert "expectedValue" in error["details"]
    assert_untouched(bet, user)


# --- ownership and auth ---------------------------------------------------------------------------
def test_someone_elses_bet_is_bet_not_found(client_for, user, bet):
    other = UserFactory()

    assert_error(sell(client_for(other), bet), 404, "BET_NOT_FOUND")
    assert_untouched(bet, user)
    assert balance_of(other) == Decimal("1000")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", str(uuid4())])
def test_an_unknown_bet_is_bet_not_found(auth_client, bad_id):
    assert_error(sell(auth_client, bad_id), 404, "BET_NOT_FOUND")


def test_selling_needs_a_token(api_client, user, bet):
    assert_error(sell(api_client, bet), 401, "NOT_AUTHENTICATED")
    assert_untouched(bet, user)


# --- Idempotency-Key ------------------------------------------------------------------------------
def test_a_replayed_sale_returns_the_first_response_and_sells_once(auth_client, user, market, bet):
    set_odds(market, "0.80", "0.20")
    first = sell(auth_client, bet, HTTP_IDEMPOTENCY_KEY="sell-1")
    set_odds(market, "0.50", "0.50")  # the replay must not re-price

    second = sell(auth_client, bet, HTTP_IDEMPOTENCY_KEY="sell-1")

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert ledger_rows(kind=LedgerKind.BET_SALE).count() == 1
    assert balance_of(user) == Decimal("1023.08")


def test_the_same_sale_key_with_a_different_body_is_idempotency_conflict(auth_client, bet):
    sell(auth_client, bet, {"expectedValue": "100"}, HTTP_IDEMPOTENCY_KEY="sell-1")

    assert_error(
        sell(auth_client, bet, {"expectedValue": "90"}, HTTP_IDEMPOTENCY_KEY="sell-1"), 409, "IDEMPOTENCY_CONFLICT"
    )


def test_without_a_key_a_second_sale_is_refused(auth_client, bet):
    assert sell(auth_client, bet).status_code == 200
    assert_error(sell(auth_client, bet), 409, "BET_NOT_SELLABLE")
