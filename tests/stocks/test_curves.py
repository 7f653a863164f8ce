"""The bonding curves of virtual stocks (stocks/curves.py, pure): hand-computed integrals, the direction
of every rounding, and the promises checked over many generated trades (hypothesis): round trips never
profit, splitting a trade never helps, and the reserve is always the curve's at the supply."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stocks.curves import (
    BUY,
    SELL,
    Linear,
    buy,
    buy_with,
    curve_of,
    fee_on,
    reserve_at,
    sell,
)

D = Decimal
THIS = Linear(base=D("10"), slope=D("0.01"))

bases = st.decimals(min_value=1, max_value=10_000, places=2)
slopes = st.decimals(min_value=D("0.000001"), max_value=100, places=6)
supplies = st.decimals(min_value=0, max_value=100_000, places=2)
lots = st.decimals(min_value=D("0.01"), max_value=5_000, places=2)
budgets = st.decimals(min_value=D("0.01"), max_value=1_000_000, places=2)
fee_rates = st.sampled_from([D(0), D("0.001"), D("0.01"), D("0.025"), D("0.1")])


def curves():
    return st.builds(Linear, base=bases, slope=slopes)


# --- hand-computed values -------------------------------------------------------------------------
def test_the_linear_curve_prices_base_plus_slope_times_supply_and_integrates_it():
    assert THIS.price(D(0)) == D(10)
    assert THIS.price(D("250")) == D("12.5")
    assert THIS.integral(D(10)) == D("100.5")  # 10·10 + 0.01·10²/2
    assert THIS.integral(D("0.01")) == D("0.1000005")


def test_buying_ten_shares_from_zero_costs_the_integral_and_moves_the_price():
    trade = buy(THIS, D(0), D(10))

    assert (trade.side, trade.shares, trade.credits, trade.fee) == (BUY, D(10), D("100.50"), D(0))
    assert (trade.supply_before, trade.supply_after) == (D(0), D(10))
    assert (trade.price_before, trade.price_after) == (D(10), D("10.1"))
    assert trade.average_price == D("10.05")
    assert (trade.reserve_before, trade.reserve_after, trade.house_take) == (D(0), D("100.50"), D(0))


def test_selling_four_back_pays_the_integral_down_over_them():
    trade = sell(THIS, D(10), D(4))

    # 100.5 - (60 + 0.01·36/2) = 40.32
    assert (trade.side, trade.credits, trade.supply_after, trade.price_after) == (SELL, D("40.32"), D(6), D("10.06"))
    assert (trade.reserve_before, trade.reserve_after) == (D("100.50"), D("60.18"))


def test_a_buy_rounds_up_to_the_cent_and_a_sale_rounds_down():
    # One hundredth of a share from 0: exactly 0.1000005 credits.
    bought = buy(THIS, D(0), D("0.01"))
    sold = sell(THIS, D("0.01"), D("0.01"))

    assert bought.credits == D("0.11")
    assert sold.credits == D("0.10")
    assert reserve_at(THIS, D("0.01")) == D("0.11")  # the reserve rounds up too
    assert bought.house_take == 0 and sold.house_take == D("0.01")  # what the reserve held beyond the sale


def test_the_fee_is_the_rate_of_the_curve_price_rounded_up_and_shown_on_both_sides():
    bought = buy(THIS, D(0), D(10), fee_rate=D("0.01"))
    sold = sell(THIS, D(10), D(10), fee_rate=D("0.01"))

    assert (bought.credits, bought.fee) == (D("101.51"), D("1.01"))  # 100.50 + 1.005 rounded up
    assert (sold.credits, sold.fee) == (D("99.49"), D("1.01"))
    assert bought.house_take == D("1.01") and sold.house_take == D("1.01")
    assert fee_on(D("100.50"), D(0)) == 0


def test_a_budget_buys_the_most_hundredths_of_a_share_it_covers():
    trade = buy_with(THIS, D(0), D(100))

    # 100.5 buys exactly 10 shares; 100 buys 9.95 (costing 99.995 → 100.00), not 9.96 (100.496...).
    assert (trade.shares, trade.credits) == (D("9.95"), D("100.00"))
    assert buy(THIS, D(0), D("9.96")).credits > D(100)


def test_a_budget_with_a_fee_leaves_room_for_the_fee():
    trade = buy_with(THIS, D(0), D("101.51"), fee_rate=D("0.01"))

    assert (trade.shares, trade.credits, trade.fee) == (D(10), D("101.51"), D("1.01"))


def test_a_budget_too_small_for_a_hundredth_buys_nothing():
    assert buy_with(THIS, D(0), D("0.10")) is None  # a hundredth costs 0.11
    assert buy_with(THIS, D(0), D("0.11")).shares == D("0.01")
    assert buy_with(THIS, D(0), D(0)) is None


def test_trades_refuse_nonsense():
    with pytest.raises(ValueError, match="hundredths"):
        buy(THIS, D(0), D("0.005"))
    with pytest.raises(ValueError, match="hundredths"):
        sell(THIS, D(5), D(0))
    with pytest.raises(ValueError, match="outstanding"):
        sell(THIS, D(5), D(6))
    with pytest.raises(ValueError, match="base > 0"):
        Linear(base=D(0), slope=D(1))
    with pytest.raises(ValueError, match="unknown curve"):
        curve_of("exponential", base=D(1), slope=D(1))
    assert curve_of("linear", base=D(10), slope=D("0.01")) == THIS


def test_a_flat_curve_prices_every_share_at_its_base():
    flat = Linear(base=D(5), slope=D(0))

    assert buy_with(flat, D(100), D(50)).shares == D(10)
    assert flat.shares_for(D(0), D(12)) == D("2.4")


# --- invariants -----------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(curve=curves(), supply=supplies, shares=lots, fee_rate=fee_rates)
def test_every_rounding_favours_the_house(curve, supply, shares, fee_rate):
    exact_up = curve.integral(supply + shares) - curve.integral(supply)
    bought = buy(curve, supply, shares, fee_rate=fee_rate)
    sold = sell(curve, supply + shares, shares, fee_rate=fee_rate)

    assert bought.credits - bought.fee >= exact_up and bought.credits - bought.fee - exact_up < D("0.01")
    assert sold.credits + sold.fee <= exact_up and exact_up - sold.credits - sold.fee < D("0.01")
    assert bought.fee >= exact_up * fee_rate - D("0.01") and sold.fee >= 0
    assert bought.house_take >= 0 and sold.house_take >= 0


@settings(max_examples=300, deadline=None)
@given(curve=curves(), supply=supplies, shares=lots, fee_rate=fee_rates)
def test_buying_then_selling_the_same_shares_never_returns_more_than_the_cost(curve, supply, shares, fee_rate):
    bought = buy(curve, supply, shares, fee_rate=fee_rate)
    sold = sell(curve, bought.supply_after, shares, fee_rate=fee_rate)

    assert sold.supply_after == supply
    assert sold.credits <= bought.credits
    if fee_rate == 0:
        assert bought.credits - sold.credits <= D("0.01")  # a cent of rounding at most


@settings(max_examples=200, deadline=None)
@given(curve=curves(), supply=supplies, pieces=st.lists(lots, min_size=2, max_size=6), fee_rate=fee_rates)
def test_splitting_a_trade_into_pieces_never_costs_less_nor_pays_more(curve, supply, pieces, fee_rate):
    total = sum(pieces)
    at, paid = supply, D(0)
    for piece in pieces:
        trade = buy(curve, at, piece, fee_rate=fee_rate)
        at, paid = trade.supply_after, paid + trade.credits
    received = D(0)
    for piece in pieces:
        trade = sell(curve, at, piece, fee_rate=fee_rate)
        at, received = trade.supply_after, received + trade.credits

    assert paid >= buy(curve, supply, total, fee_rate=fee_rate).credits
    assert received <= sell(curve, supply + total, total, fee_rate=fee_rate).credits


@settings(max_examples=200, deadline=None)
@given(
    curve=curves(),
    moves=st.lists(st.tuples(st.booleans(), lots), min_size=1, max_size=12),
    fee_rate=fee_rates,
)
def test_the_reserve_is_the_curve_at_the_supply_whatever_the_trades(curve, moves, fee_rate):
    """Trades move the reserve by the difference of the rounded-up integral: it always covers every
    share outstanding, and what trades took in beyond it is the house's take."""
    supply, reserve, taken_in, house = D(0), D(0), D(0), D(0)
    for buying, shares in moves:
        if buying:
            trade = buy(curve, supply, shares, fee_rate=fee_rate)
            taken_in += trade.credits
        elif shares <= supply:
            trade = sell(curve, supply, shares, fee_rate=fee_rate)
            taken_in -= trade.credits
        else:
            continue
        assert trade.reserve_before == reserve
        supply, reserve, house = trade.supply_after, trade.reserve_after, house + trade.house_take
        assert reserve == reserve_at(curve, supply) >= curve.integral(supply)
        assert taken_in == reserve + house and house >= 0
    if supply:
        assert sell(curve, supply, supply, fee_rate=fee_rate).credits <= reserve  # everyone can leave


@settings(max_examples=300, deadline=None)
@given(curve=curves(), supply=supplies, budget=budgets, fee_rate=fee_rates)
def test_a_budget_never_overspends_and_buys_the_most_it_can(curve, supply, budget, fee_rate):
    trade = buy_with(curve, supply, budget, fee_rate=fee_rate)

    if trade is None:
        assert buy(curve, supply, D("0.01"), fee_rate=fee_rate).credits > budget
        return
    assert trade.credits <= budget
    assert trade == buy(curve, supply, trade.shares, fee_rate=fee_rate)
    assert buy(curve, supply, trade.shares + D("0.01"), fee_rate=fee_rate).credits > budget
