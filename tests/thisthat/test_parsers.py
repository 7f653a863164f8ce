"""Request bodies (SPEC §4 [hardening]): JSON nested deeper than 32 levels is a 400 VALIDATION_ERROR
(not a RecursionError 500), and amounts, odds and values accept only plain decimal notation."""

import json
from decimal import Decimal

import pytest

from betting.models import Bet
from tests.factories import MarketFactory
from tests.helpers.assertions import assert_error
from tests.helpers.betting import BETS, balance_of, place, sell_url

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"


def post_text(client, url: str, text: str):
    return client.generic("POST", url, text.encode(), content_type="application/json")


@pytest.fixture
def market():
    return MarketFactory()


# --- nesting -------------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [LOGIN, BETS])
@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_fifty_thousand_levels_of_nesting_are_a_validation_error(auth_client, url, opening, closing):
    response = post_text(auth_client, url, opening * 50_000 + "1" + closing * 50_000)

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "32" in body["error"]


def nested(depth: int) -> str:
    """A value `depth` objects deep."""
    return '{"x":' * depth + "1" + "}" * depth


def test_32_levels_are_accepted_and_33_refused(auth_client, user, market):
    fields = f'"marketId": "{market.pk}", "side": "this", "amount": "100"'  # the body is level 1

    accepted = post_text(auth_client, BETS, f'{{{fields}, "extra": {nested(31)}}}')
    refused = post_text(auth_client, BETS, f'{{{fields}, "extra": {nested(32)}}}')

    assert accepted.status_code == 201, accepted.json()
    assert "32" in assert_error(refused, 400, "VALIDATION_ERROR")["error"]
    assert Bet.objects.count() == 1


def test_brackets_inside_strings_do_not_count_as_nesting(auth_client, market):
    deep_looking = "[{" * 100 + '\\"' + "}]" * 100
    text = json.dumps({"marketId": str(market.pk), "side": "this", "amount": "100"})[:-1]
    response = post_text(auth_client, BETS, text + f', "note": "{deep_looking}"}}')

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_refused(auth_client, market, constant):
    response = post_text(auth_client, BETS, f'{{"marketId": "{market.pk}", "side": "this", "amount": {constant}}}')

    assert_error(response, 400, "VALIDATION_ERROR")
    assert not Bet.objects.exists()


# --- amounts -------------------------------------------------------------------------------------
def bet_body(market, amount_json: str, **extra_json: str) -> str:
    extra = "".join(f', "{name}": {value}' for name, value in extra_json.items())
    return f'{{"marketId": "{market.pk}", "side": "this", "amount": {amount_json}{extra}}}'


@pytest.mark.parametrize(
    "amount_json",
    [
        "100",
        "100.0",
        "100.50",
        '"100"',
        '"100.50"',
        '"0100"',
    ],
)
def test_plain_decimal_amounts_are_accepted(auth_client, user, market, amount_json):
    before = balance_of(user)

    response = post_text(auth_client, BETS, bet_body(market, amount_json))

    assert response.status_code == 201, response.json()
    assert balance_of(user) == before - Decimal(json.loads(amount_json))


@pytest.mark.parametrize(
    "amount_json",
    [
        "1e3",
        "1E3",
        "1e+2",
        "2.5e1",
        "1000e-1",
        '"1e3"',
        '"1E3"',
        '"1_000"',
        '"\u0661\u0660\u0660"',  # Arabic-Indic digits (the characters themselves)
        '"\\u0661\\u0660\\u0660"',  # the same, as JSON escapes
        '"\uff11\uff10\uff10"',  # fullwidth digits
        '" 100"',
        '"100 "',
        '"100\\n"',
        '"\\t100"',
        '"1 000"',
        '"NaN"',
        '"Infinity"',
        '"-Infinity"',
        '"+100"',
        '"100."',
        '".5"',
        '"0x64"',
        '""',
        "true",
        "false",
        "null",
        "[100]",
        '{"value": 100}',
    ],
)
def test_amounts_outside_plain_decimal_notation_are_validation_errors(auth_client, user, market, amount_json):
    before = balance_of(user)

    response = post_text(auth_client, BETS, bet_body(market, amount_json))

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "amount" in body["details"]
    assert not Bet.objects.exists()
    assert balance_of(user) == before


@pytest.mark.parametrize(
    "field, value_json",
    [
        ("expectedOdds", "6.5e-1"),
        ("expectedOdds", '"6.5e-1"'),
        ("expectedOdds", '"0.6_5"'),
        ("maxSlippage", "1e-2"),
        ("maxSlippage", '"\u0660.\u0660\u0662"'),
    ],
)
def test_odds_fields_accept_only_plain_decimal_notation(auth_client, market, field, value_json):
    response = post_text(auth_client, BETS, bet_body(market, '"100"', **{field: value_json}))

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in body["details"]
    assert not Bet.objects.exists()


def test_plain_odds_fields_are_accepted(auth_client, market):
    response = post_text(auth_client, BETS, bet_body(market, '"100"', expectedOdds="0.65", maxSlippage='"0.05"'))

    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("value_json", ["1e2", '"1e2"', '"1_00"', '"\uff11"', "true"])
def test_the_expected_value_of_a_sale_accepts_only_plain_decimal_notation(auth_client, user, market, value_json):
    bet = place(user, market)

    response = post_text(auth_client, sell_url(bet), f'{{"expectedValue": {value_json}}}')

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "expectedValue" in body["details"]
    bet.refresh_from_db()
    assert bet.status == "pending"


def test_a_plain_expected_value_is_accepted(auth_client, user, market):
    bet = place(user, market)

    response = post_text(auth_client, sell_url(bet), '{"expectedValue": 100.00}')

    assert response.status_code == 200, response.json()
