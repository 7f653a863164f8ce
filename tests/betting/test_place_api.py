"""POST /api/v1/bets (SPEC §4, §5 "Bets", §6): the 201 body, the ledger debit, every refusal with
nothing written, Idempotency-Key, the bets rate limit and the "bet placed" log line."""

import logging
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from betting.models import Bet
from economy.models import LedgerKind
from idempotency.models import IdempotencyKey
from markets.models import MarketStatus, MarketType, Resolution
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.betting import (
    BET_KEYS,
    BET_MARKET_KEYS,
    BETS,
    balance_of,
    fresh,
    ledger_rows,
    money,
    odds,
    payload,
    set_odds,
)

pytestmark = pytest.mark.django_db


def post(client: APIClient, body: dict, **headers):
    return client.post(BETS, body, format="json", **headers)


def assert_nothing_written(user, balance_before: Decimal) -> None:
    assert not Bet.objects.exists()
    assert not ledger_rows(kind=LedgerKind.BET_PLACED).exists()
    assert balance_of(user) == balance_before
    assert fresh(user).total_volume == 0


def assert_utc_timestamp(value: str) -> None:
    assert value.endswith(("Z", "+00:00")), value


# --- success --------------------------------------------------------------------------------------
def test_placing_a_bet_returns_201_with_the_bet_and_the_new_balance(auth_client, user, market):
    response = post(auth_client, payload(market, amount="100"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"bet", "newBalance"}
    bet = body["bet"]
    assert set(bet) == BET_KEYS
    assert set(bet["market"]) == BET_MARKET_KEYS
    stored = Bet.objects.get()
    assert bet["id"] == str(stored.pk)
    assert bet["userId"] == str(user.pk)
    assert bet["marketId"] == str(market.pk)
    assert bet["market"] == {
        "id": str(market.pk),
        "title": market.title,
        "thisOption": market.this_option,
        "thatOption": market.that_option,
        "status": "open",
    }
    assert bet["side"] == "this"
    assert money(bet["amount"]) == Decimal("100.00")
    assert odds(bet["oddsAtBet"]) == Decimal("0.6500")
    assert money(bet["potentialPayout"]) == Decimal("153.85")
    assert bet["actualPayout"] is None
    assert bet["status"] == "pending"
    assert_utc_timestamp(bet["placedAt"])
    assert bet["resolvedAt"] is None
    assert money(body["newBalance"]) == Decimal("900.00")
    # numbers on the wire, not strings (SPEC §4)
    assert isinstance(bet["amount"], (int, float)) and isinstance(body["newBalance"], (int, float))


def test_placing_a_bet_debits_the_balance_through_the_ledger(auth_client, user, market):
    response = post(auth_client, payload(market, side="that", amount="250.50"))

    assert response.status_code == 201
    bet = Bet.objects.get()
    assert (bet.side, bet.amount, bet.odds_at_bet) == ("that", Decimal("250.50"), Decimal("0.3500"))
    assert bet.potential_payout == Decimal("715.71")  # 250.50 / 0.35 = 715.714…
    assert balance_of(user) == Decimal("749.50")
    entry = ledger_rows(user, LedgerKind.BET_PLACED).get()
    assert entry.amount == Decimal("-250.50")
    assert entry.reference_id == bet.pk
    assert entry.balance_after == Decimal("749.50")


def test_placing_a_bet_adds_its_amount_to_the_users_volume(auth_client, user, market):
    post(auth_client, payload(market, amount="100"))
    post(auth_client, payload(market, side="that", amount="40.25"))

    assert fresh(user).total_volume == Decimal("140.25")
    assert fresh(user).overall_pnl == 0  # placing realises nothing


def test_the_whole_balance_can_be_bet(auth_client, user, market):
    response = post(auth_client, payload(market, amount="1000"))

    assert response.status_code == 201
    assert money(response.json()["newBalance"]) == 0
    assert balance_of(user) == 0


def test_amount_may_be_a_json_number(auth_client, market):
    response = post(auth_client, payload(market, amount=12.5))

    assert response.status_code == 201
    assert Bet.objects.get().amount == Decimal("12.50")


def test_bets_on_a_credits_market_buy_shares_from_its_market_maker(auth_client, user):
    credits_market = MarketFactory(market_type=MarketType.CREDITS, this_odds=Decimal("0.8"), that_odds=Decimal("0.2"))

    response = post(auth_client, payload(credits_market, amount="100"))

    assert response.status_code == 201
    # b·ln(1 + (e^(100/b) - 1) / 0.8) with b = 1,000: 123.512... shares, rounded down; not 100 / 0.8 = 125.
    assert money(response.json()["bet"]["potentialPayout"]) == Decimal("123.51")
    assert odds(response.json()["bet"]["oddsAtBet"]) == Decimal("0.8097")  # 100 / 123.51 = 0.809651


# --- amount and balance ---------------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["9.99", "10000.01", "10.001", "0", "-50", 10.001])
def test_amount_outside_the_rule_is_invalid_bet_amount(auth_client, user, market, amount):
    before = balance_of(user)

    response = post(auth_client, payload(market, amount=amount))

    assert_error(response, 400, "INVALID_BET_AMOUNT")
    assert_nothing_written(user, before)


@pytest.mark.parametrize("amount", ["10", "10000"])
def test_the_amount_limits_are_inclusive(client_for, market, amount):
    rich = UserFactory(balance=Decimal("20000"))

    response = post(client_for(rich), payload(market, amount=amount))

    assert response.status_code == 201, response.json()
    assert balance_of(rich) == Decimal("20000") - Decimal(amount)


@pytest.mark.parametrize("amount", ["1" + "0" * 26, 10**30, "1" + "0" * 30 + ".5"])
def test_an_absurdly_large_amount_is_invalid_bet_amount_not_a_server_error(auth_client, user, market, amount):
    before = balance_of(user)

    response = post(auth_client, payload(market, amount=amount))

    assert_error(response, 400, "INVALID_BET_AMOUNT")
    assert_nothing_written(user, before)


def test_a_bet_larger_than_the_balance_is_insufficient_balance(client_for, market):
    poor = UserFactory(balance=Decimal("99.99"))

    response = post(client_for(poor), payload(market, amount="100"))

    assert_error(response, 400, "INSUFFICIENT_BALANCE")
    assert_nothing_written(poor, Decimal("99.99"))


# --- market ---------------------------------------------------------------------------------------
def test_an_unknown_market_is_market_not_found(auth_client, user):
    response = post(auth_client, {"marketId": str(uuid4()), "side": "this", "amount": "100"})

    assert_error(response, 404, "MARKET_NOT_FOUND")
    assert_nothing_written(user, Decimal("1000"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"marketId": "not-a-uuid"}, "marketId"),
        ({"side": "THIS"}, "side"),
        ({"side": "both"}, "side"),
        ({"side": ""}, "side"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "Infinity"}, "amount"),
        ({"amount": None}, "amount"),
        ({"expectedOdds": "1.5"}, "expectedOdds"),
        ({"maxSlippage": "-0.01"}, "maxSlippage"),
    ],
)
def test_malformed_fields_are_validation_errors_naming_the_field(auth_client, user, market, body, field):
    response = post(auth_client, payload(market, **body))

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in error["details"], error
    assert_nothing_written(user, Decimal("1000"))


@pytest.mark.parametrize("missing", ["marketId", "side", "amount"])
def test_a_missing_field_is_a_validation_error(auth_client, user, market, missing):
    body = payload(market)
    del body[missing]

    error = assert_error(post(auth_client, body), 400, "VALIDATION_ERROR")

    assert missing in error["details"]
    assert_nothing_written(user, Decimal("1000"))


def test_an_empty_body_is_a_validation_error(auth_client, user):
    error = assert_error(post(auth_client, {}), 400, "VALIDATION_ERROR")

    assert {"marketId", "side", "amount"} <= set(error["details"])


@pytest.mark.parametrize(
    "market_kwargs",
    [
        {"status": MarketStatus.CLOSED},
        {"status": MarketStatus.RESOLVED, "resolution": Resolution.THIS},
        {"status": MarketStatus.CANCELLED, "resolution": Resolution.INVALID},
        {"expires_at": timezone.now() - timedelta(seconds=1)},
    ],
    ids=["closed", "resolved", "cancelled", "open-but-expired"],
)
def test_bets_on_a_market_that_is_not_open_are_market_closed(auth_client, user, market_kwargs):
    market = MarketFactory(**market_kwargs)

    response = post(auth_client, payload(market))

    assert_error(response, 409, "MARKET_CLOSED")
    assert_nothing_written(user, Decimal("1000"))


def test_a_market_without_an_end_date_stays_open(auth_client):
    market = MarketFactory(expires_at=None)

    assert post(auth_client, payload(market)).status_code == 201


@pytest.mark.parametrize(
    ("this_odds", "that_odds", "side"),
    [(None, "0.35", "this"), ("0.65", None, "that"), ("0.995", "0.005", "this"), ("0.995", "0.005", "that")],
)
def test_missing_or_extreme_odds_are_odds_unavailable(auth_client, user, market, this_odds, that_odds, side):
    set_odds(market, this_odds, that_odds)

    response = post(auth_client, payload(market, side=side))

    assert_error(response, 409, "ODDS_UNAVAILABLE")
    assert_nothing_written(user, Decimal("1000"))


def test_odds_at_the_tradable_edges_are_accepted(auth_client, market):
    set_odds(market, "0.99", "0.01")

    assert post(auth_client, payload(market, side="this", amount="10")).status_code == 201
    response = post(auth_client, payload(market, side="that", amount="10"))

    assert response.status_code == 201
    assert money(response.json()["bet"]["potentialPayout"]) == Decimal("1000.00")


# --- expectedOdds and maxSlippage -----------------------------------------------------------------
@pytest.mark.parametrize("expected", ["0.65", "0.63", "0.67"])
def test_expected_odds_within_the_default_slippage_are_accepted(auth_client, market, expected):
    response = post(auth_client, payload(market, expectedOdds=expected))

    assert response.status_code == 201, response.json()
    assert odds(response.json()["bet"]["oddsAtBet"]) == Decimal("0.65")  # the current odds, not the expected ones


@pytest.mark.parametrize("expected", ["0.6299", "0.6701", "0.50", "0.80"])
def test_expected_odds_beyond_the_default_slippage_are_odds_changed(auth_client, user, market, expected):
    response = post(auth_client, payload(market, expectedOdds=expected))

    error = assert_error(response, 409, "ODDS_CHANGED")
    assert odds(error["details"]["currentOdds"]) == Decimal("0.65")
    assert_nothing_written(user, Decimal("1000"))


def test_a_custom_max_slippage_widens_the_window(auth_client, market):
    response = post(auth_client, payload(market, expectedOdds="0.55", maxSlippage="0.10"))

    assert response.status_code == 201


def test_a_custom_max_slippage_narrows_the_window(auth_client, user, market):
    assert_error(post(auth_client, payload(market, expectedOdds="0.6551", maxSlippage="0.005")), 409, "ODDS_CHANGED")
    assert_error(post(auth_client, payload(market, expectedOdds="0.6449", maxSlippage="0.005")), 409, "ODDS_CHANGED")
    assert_nothing_written(user, Decimal("1000"))

    # exactly maxSlippage away is still accepted
    assert post(auth_client, payload(market, expectedOdds="0.6550", maxSlippage="0.005")).status_code == 201
    assert post(auth_client, payload(market, expectedOdds="0.6450", maxSlippage="0.005")).status_code == 201


def test_zero_slippage_needs_the_exact_odds(auth_client, market):
    assert post(auth_client, payload(market, expectedOdds="0.6501", maxSlippage="0")).status_code == 409
    assert post(auth_client, payload(market, expectedOdds="0.65", maxSlippage="0")).status_code == 201


def test_expected_odds_are_checked_against_the_side_bet_on(auth_client, market):
    assert_error(post(auth_client, payload(market, side="that", expectedOdds="0.65")), 409, "ODDS_CHANGED")
    assert post(auth_client, payload(market, side="that", expectedOdds="0.35")).status_code == 201


# --- auth -----------------------------------------------------------------------------------------
def test_placing_a_bet_needs_a_token(api_client, market):
    response = post(api_client, payload(market))

    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert not Bet.objects.exists()


def test_a_tampered_token_is_token_invalid(api_client, market):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    assert_error(post(api_client, payload(market)), 401, "TOKEN_INVALID")


# --- Idempotency-Key ------------------------------------------------------------------------------
def test_a_replay_with_the_same_key_returns_the_same_body_and_places_one_bet(auth_client, user, market):
    first = post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="bet-1")
    second = post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="bet-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.content == first.content
    assert Bet.objects.count() == 1
    assert ledger_rows(user, LedgerKind.BET_PLACED).count() == 1
    assert balance_of(user) == Decimal("900")


def test_the_same_key_with_a_different_body_is_idempotency_conflict(auth_client, user, market):
    post(auth_client, payload(market, amount="100"), HTTP_IDEMPOTENCY_KEY="bet-1")

    response = post(auth_client, payload(market, amount="200"), HTTP_IDEMPOTENCY_KEY="bet-1")

    assert_error(response, 409, "IDEMPOTENCY_CONFLICT")
    assert Bet.objects.count() == 1
    assert balance_of(user) == Decimal("900")


def test_different_keys_place_different_bets(auth_client, user, market):
    post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="bet-1")
    post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="bet-2")

    assert Bet.objects.count() == 2
    assert balance_of(user) == Decimal("800")


def test_idempotency_keys_are_per_user(auth_client, client_for, user, market):
    other = UserFactory()

    mine = post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="shared-key")
    theirs = post(client_for(other), payload(market), HTTP_IDEMPOTENCY_KEY="shared-key")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["bet"]["id"] != theirs.json()["bet"]["id"]
    assert theirs.json()["bet"]["userId"] == str(other.pk)
    assert balance_of(user) == balance_of(other) == Decimal("900")


def test_a_refused_request_is_replayed_not_placed_later(auth_client, user, market):
    set_odds(market, None, None)
    first = assert_error(post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="retry-me"), 409, "ODDS_UNAVAILABLE")
    assert IdempotencyKey.objects.get().response_status == 409
    set_odds(market, "0.65", "0.35")

    again = post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="retry-me")

    assert assert_error(again, 409, "ODDS_UNAVAILABLE") == first
    assert not Bet.objects.exists()
    assert post(auth_client, payload(market), HTTP_IDEMPOTENCY_KEY="new-attempt").status_code == 201


# --- rate limit -----------------------------------------------------------------------------------
@override_settings(RATE_LIMIT_ENABLED=True, RATE_LIMITS={"bets": "30/min", "default": "100/min"})
def test_the_31st_bet_within_a_minute_is_rate_limited_with_retry_after(auth_client, user, market):
    for _ in range(30):
        assert post(auth_client, payload(market, amount="10")).status_code == 201

    response = post(auth_client, payload(market, amount="10"))

    body = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert body["details"]["retryAfter"] == retry_after
    assert Bet.objects.count() == 30
    assert balance_of(user) == Decimal("700")


@override_settings(RATE_LIMIT_ENABLED=True, RATE_LIMITS={"bets": "30/min", "default": "100/min"})
def test_the_bets_limit_is_per_user(auth_client, client_for, market):
    for _ in range(30):
        post(auth_client, payload(market, amount="10"))
    assert post(auth_client, payload(market, amount="10")).status_code == 429

    assert post(client_for(UserFactory()), payload(market, amount="10")).status_code == 201


# --- log ------------------------------------------------------------------------------------------
def test_each_bet_logs_one_bet_placed_line(auth_client, user, market, caplog, django_capture_on_commit_callbacks):
    with caplog.at_level(logging.INFO, logger="betting.services"), django_capture_on_commit_callbacks(execute=True):
        post(auth_client, payload(market, side="this", amount="100"))
        post(auth_client, payload(market, side="that", amount="20"))
        post(auth_client, payload(market, amount="5"))  # refused: no line

    lines = [record for record in caplog.records if record.getMessage() == "bet placed"]
    assert len(lines) == 2
    bets = {str(bet.pk): bet for bet in Bet.objects.all()}
    for record in lines:
        bet = bets[record.bet_id]
        assert record.user_id == str(user.pk)
        assert record.market_id == str(market.pk)
        assert record.side == bet.side
        assert Decimal(record.amount) == bet.amount
        assert Decimal(record.odds) == bet.odds_at_bet
    assert {(r.side, Decimal(r.amount)) for r in lines} == {("this", Decimal("100")), ("that", Decimal("20"))}
