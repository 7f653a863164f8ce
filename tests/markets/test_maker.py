"""The market maker of credits markets (markets/maker.py, LMSR): hand-computed values, and the
invariants it promises checked over many generated trades (hypothesis)."""

import math
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markets.maker import (
    MakerState,
    buy,
    cost_to_reach,
    maker_start,
    sell,
    tradable,
    worst_case_loss,
)

D = Decimal
EVEN = maker_start(liquidity=D(1000), this_odds=D("0.5"))
TINY = D("1e-40")  # the 50-digit arithmetic's slack

liquidities = st.decimals(min_value=100, max_value=100_000, places=2)
start_odds = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=4)
amounts = st.decimals(min_value=10, max_value=10_000, places=2)
sides = st.sampled_from(["this", "that"])


# --- hand-computed values -------------------------------------------------------------------------
def test_a_fresh_maker_at_even_odds_holds_no_shares_and_prices_both_sides_at_a_half():
    assert (EVEN.this_shares, EVEN.that_shares) == (0, 0)
    assert EVEN.price("this") == EVEN.price("that") == D("0.5")
    assert EVEN.odds() == (D("0.5000"), D("0.5000"))


def test_a_maker_started_at_065_holds_b_ln_065_over_035_shares_of_this():
    state = maker_start(liquidity=D(1000), this_odds=D("0.65"))

    assert state.this_shares == D("619.039208")  # 1000·ln(0.65 / 0.35) = 619.0392084...
    assert state.that_shares == 0
    assert state.odds() == (D("0.6500"), D("0.3500"))


def test_a_maker_started_below_a_half_holds_shares_of_that():
    state = maker_start(liquidity=D(2000), this_odds=D("0.2"))

    assert (state.this_shares, state.that_shares) == (0, D("2772.588722"))  # 2000·ln(4)
    assert state.odds() == (D("0.2000"), D("0.8000"))


def test_100_credits_on_this_at_even_odds_buy_190_90_shares():
    trade = buy(EVEN, "this", D("100"))

    # s = b·ln(1 + (e^(100/b) - 1) / 0.5) = 1000·ln(1.2103418...) = 190.9028..., rounded down.
    assert trade.shares == D("190.90")
    assert trade.credits == D("100")
    assert trade.after == MakerState(D(1000), D("190.90"), D("0"))
    assert round(trade.average_price, 6) == D("0.523834")  # 100 / 190.90
    expected_after = 1 / (1 + math.exp(-0.19090))
    assert abs(float(trade.price_after) - expected_after) < 1e-12  # 0.547580...
    assert round(trade.price_impact, 4) == D("0.0476")
    assert trade.after.odds() == (D("0.5476"), D("0.4524"))


def test_selling_the_shares_straight_back_returns_a_cent_less_than_the_stake():
    bought = buy(EVEN, "this", D("100"))

    sold = sell(bought.after, "this", bought.shares)

    # The 0.0028 shares the rounding kept, and the cent rounded down again: 99.99, never 100.
    assert sold.credits == D("99.99")
    assert sold.after == EVEN


def test_a_bet_on_that_moves_this_down_by_the_same_amount():
    trade = buy(EVEN, "that", D("100"))

    assert trade.shares == D("190.90")
    assert trade.after.odds() == (D("0.4524"), D("0.5476"))


def test_the_cost_to_move_a_price_is_b_ln_of_the_ratio_of_the_other_sides():
    assert cost_to_reach(EVEN, "this", D("0.7")) == D("510.82")  # 1000·ln(0.5 / 0.3) = 510.8256
    assert cost_to_reach(EVEN, "this", D("0.5")) == D("0.00")
    assert cost_to_reach(EVEN, "this", D("0.4")) == D("0.00")


def test_the_house_worst_case_loss_is_b_ln_of_099_over_the_lower_starting_price():
    assert worst_case_loss(liquidity=D(1000), this_odds=D("0.5")) == D("683.10")  # 1000·ln(1.98) = 683.097
    assert worst_case_loss(liquidity=D(1000), this_odds=D("0.9")) == D("2292.54")  # 1000·ln(9.9), from THAT
    assert worst_case_loss(liquidity=D(5000), this_odds=D("0.5")) == D("3415.49")


def test_the_tradable_prices_are_001_to_099():
    assert tradable(D("0.01")) and tradable(D("0.99"))
    assert not tradable(D("0.00999")) and not tradable(D("0.99001"))


@pytest.mark.parametrize(
    "call",
    [
        lambda: maker_start(liquidity=D(99), this_odds=D("0.5")),
        lambda: maker_start(liquidity=D(1000), this_odds=D("1")),
        lambda: buy(EVEN, "this", D("0")),
        lambda: buy(EVEN, "other", D("10")),
        lambda: sell(EVEN, "this", D("1")),  # nothing outstanding to sell
    ],
)
def test_impossible_trades_are_refused(call):
    with pytest.raises(ValueError):
        call()


# --- invariants -----------------------------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(liquidity=liquidities, start=start_odds, trades=st.lists(st.tuples(sides, amounts), max_size=8))
def test_prices_stay_inside_0_and_1_and_add_up_to_1(liquidity, start, trades):
    """Over the trades the betting rules let through (none takes a price past 0.99)."""
    state = maker_start(liquidity=liquidity, this_odds=start)
    for side, amount in trades:
        trade = buy(state, side, amount)
        if not tradable(trade.price_after):
            continue
        state = trade.after
        this, that = state.price("this"), state.price("that")
        assert 0 < this < 1 and 0 < that < 1
        assert abs(this + that - 1) < TINY
        assert sum(state.odds()) == 1


@settings(max_examples=200, deadline=None)
@given(liquidity=liquidities, start=start_odds, side=sides, amount=amounts)
def test_buying_then_selling_back_at_once_never_returns_more_than_the_stake(liquidity, start, side, amount):
    state = maker_start(liquidity=liquidity, this_odds=start)
    bought = buy(state, side, amount)

    sold = sell(bought.after, side, bought.shares)

    assert sold.credits <= amount
    assert sold.after == state


@settings(max_examples=200, deadline=None)
@given(liquidity=liquidities, start=start_odds, side=sides, amount=amounts)
def test_a_buy_costs_the_change_in_the_cost_function_rounded_in_the_house_favour(liquidity, start, side, amount):
    state = maker_start(liquidity=liquidity, this_odds=start)

    trade = buy(state, side, amount)

    exact = trade.after.cost() - state.cost()
    assert exact <= amount  # the shares, rounded down, are worth no more than what was paid
    assert amount - exact < D("0.01")  # and less than a cent's worth of shares was kept back
    assert trade.price_before < trade.average_price


@settings(max_examples=100, deadline=None)
@given(
    liquidity=liquidities,
    start=start_odds,
    trades=st.lists(st.tuples(sides, st.decimals(min_value=1, max_value=5000, places=2)), min_size=2, max_size=6),
    order=st.randoms(use_true_random=False),
)
def test_what_a_set_of_share_purchases_costs_does_not_depend_on_their_order(liquidity, start, trades, order):
    """Path independence: the total cost is C(final) - C(start), whatever the order."""
    state = maker_start(liquidity=liquidity, this_odds=start)

    def total_cost(sequence) -> Decimal:
        current, total = state, D(0)
        with localcontext(Context(prec=50)):
            for side, shares in sequence:
                after = current.moved(side, shares)
                total += after.cost() - current.cost()
                current = after
        return total

    shuffled = list(trades)
    order.shuffle(shuffled)
    assert abs(total_cost(trades) - total_cost(shuffled)) < D("1e-35")


@settings(max_examples=150, deadline=None)
@given(
    liquidity=liquidities,
    start=start_odds,
    trades=st.lists(st.tuples(st.sampled_from(["buy", "sell"]), sides, amounts), max_size=12),
)
def test_the_house_never_loses_more_than_its_worst_case(liquidity, start, trades):
    """Trades within the tradable prices (as the betting rules allow them): whichever side wins, what
    the house pays out minus what it took in stays under b·ln(0.99 / the lower starting price)."""
    state = maker_start(liquidity=liquidity, this_odds=start)
    taken_in = D(0)
    held: dict[str, list[Decimal]] = {"this": [], "that": []}
    for action, side, amount in trades:
        if action == "buy":
            trade = buy(state, side, amount)
            if not tradable(trade.price_after):
                continue
            taken_in += trade.credits
            held[side].append(trade.shares)
        elif held[side]:
            trade = sell(state, side, held[side][-1])
            if not tradable(trade.price_after):
                continue
            taken_in -= trade.credits
            held[side].pop()
        else:
            continue
        state = trade.after
    bound = worst_case_loss(liquidity=liquidity, this_odds=start)
    for side in ("this", "that"):
        assert sum(held[side], D(0)) - taken_in <= bound
