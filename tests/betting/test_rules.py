"""Pure betting rules (SPEC §6): payout and cash-out rounding, amount limits, tradable odds and the
cash-out tolerance. No database."""

from decimal import Decimal

import pytest

from betting.errors import InvalidBetAmount, OddsUnavailable
from betting.rules import (
    CASH_OUT_TOLERANCE,
    cash_out_value,
    ensure_tradable,
    ensure_valid_amount,
    payout_for,
    value_fell_too_far,
)

D = Decimal


# --- potential payout -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("amount", "odds", "expected"),
    [
        ("100", "0.65", "153.85"),  # the SPEC's example: 153.846… rounds up
        ("100", "0.35", "285.71"),  # 285.714… rounds down
        ("10", "0.99", "10.10"),  # 10.1010…
        ("10000", "0.01", "1000000.00"),
        ("10", "0.3", "33.33"),
        ("10", "0.16", "62.50"),  # exact
        ("12.5", "0.4", "31.25"),  # exact, keeps both cents
        ("10.01", "0.2", "50.05"),
    ],
)
def test_payout_is_amount_over_odds_rounded_to_the_cent(amount, odds, expected):
    result = payout_for(D(amount), D(odds))

    assert result == D(expected)
    assert result.as_tuple().exponent == -2


def test_payout_rounds_a_half_cent_up_not_to_even():
    # 10.01 / 0.4 = 25.025 exactly: half-up gives 25.03 where banker's rounding would give 25.02.
    assert payout_for(D("10.01"), D("0.4")) == D("25.03")
    # 10.05 / 0.8 = 12.5625 → 12.56; 10.02 / 0.8 = 12.525 → 12.53 (half-up), 12.52 (half-even).
    assert payout_for(D("10.05"), D("0.8")) == D("12.56")
    assert payout_for(D("10.02"), D("0.8")) == D("12.53")


# --- cash-out value -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("payout", "odds", "expected"),
    [
        ("153.85", "0.65", "100.00"),  # 100.0025 → 100.00: right after placing, the stake back
        ("153.85", "0.80", "123.08"),
        ("153.85", "0.50", "76.93"),  # 76.925: half-up
        ("153.85", "0.01", "1.54"),  # 1.5385
        ("285.71", "0.35", "100.00"),  # 99.9985 → 100.00
        ("10.10", "0.99", "10.00"),  # 9.999
    ],
)
def test_cash_out_value_is_payout_times_current_odds_rounded_half_up(payout, odds, expected):
    result = cash_out_value(D(payout), D(odds))

    assert result == D(expected)
    assert result.as_tuple().exponent == -2


def test_cash_out_rounds_an_exact_half_cent_up():
    # 12.25 x 0.5 = 6.125 → 6.13 (half-even would say 6.12)
    assert cash_out_value(D("12.25"), D("0.5")) == D("6.13")


# --- bet amount -----------------------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["10", "10.00", "10.01", "500.5", "9999.99", "10000", "10000.00"])
def test_amounts_from_10_to_10000_with_at_most_2_decimals_are_valid(amount):
    ensure_valid_amount(D(amount))  # no exception


@pytest.mark.parametrize(
    "amount",
    [
        "9.99",
        "0",
        "-10",
        "-100.00",
        "10000.01",
        "10001",
        "10.001",
        "99.999",
        "NaN",
        "-NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
    ],
)
def test_amounts_outside_the_rule_are_invalid_bet_amount(amount):
    with pytest.raises(InvalidBetAmount) as caught:
        ensure_valid_amount(D(amount))

    assert caught.value.code == "INVALID_BET_AMOUNT"
    assert caught.value.status == 400
    assert "amount" in caught.value.details


@pytest.mark.parametrize("amount", ["1E+26", "1E+30", "123456789012345678901234567890.5"])
def test_huge_amounts_are_invalid_bet_amount_not_a_decimal_crash(amount):
    """A number with more digits than Decimal's context precision must still be refused as
    INVALID_BET_AMOUNT (quantizing it raises decimal.InvalidOperation)."""
    with pytest.raises(InvalidBetAmount):
        ensure_valid_amount(D(amount))


# --- tradable odds --------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["0.01", "0.0100", "0.5", "0.99", "0.9900"])
def test_odds_from_001_to_099_inclusive_are_tradable(value):
    assert ensure_tradable(D(value)) == D(value)


@pytest.mark.parametrize("value", [None, "0", "0.0099", "0.005", "0.9901", "0.995", "1"])
def test_missing_or_extreme_odds_are_unavailable(value):
    with pytest.raises(OddsUnavailable) as caught:
        ensure_tradable(None if value is None else D(value))

    assert caught.value.code == "ODDS_UNAVAILABLE"
    assert caught.value.status == 409


# --- cash-out tolerance ---------------------------------------------------------------------------
def test_cash_out_tolerance_is_two_percent():
    assert D("0.02") == CASH_OUT_TOLERANCE


@pytest.mark.parametrize(
    ("value", "expected_value", "refused"),
    [
        ("100.00", "100.00", False),
        ("105.00", "100.00", False),  # a better value than expected is always fine
        ("98.00", "100.00", False),  # fell exactly 2 %: accepted
        ("97.99", "100.00", True),  # fell a cent more than 2 %
        ("100.00", "102.00", False),  # expected exactly 2 % above the value: accepted
        ("100.00", "102.05", True),  # expected 2.05 % above the value
        ("0.98", "1.00", False),
        ("0.97", "1.00", True),
    ],
)
def test_a_value_that_fell_more_than_2_percent_below_the_expected_one_is_refused(value, expected_value, refused):
    assert value_fell_too_far(D(value), D(expected_value)) is refused
