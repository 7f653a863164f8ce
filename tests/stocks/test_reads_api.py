"""The stock reads (SPEC §5 [stocks]): the public catalogue and a stock's page with its downsampled price
history, the caller's trades, and holdings in the portfolio next to bet positions."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.services import bet_place
from tests.factories import MarketFactory, StockFactory, UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.stocks import (
    HOLDING_KEYS,
    PORTFOLIO,
    STOCK_KEYS,
    STOCKS,
    TRADE_KEYS,
    TRADES_ME,
    bought,
    money,
    sold,
    stock_url,
)

pytestmark = pytest.mark.django_db

D = Decimal


def rich() -> object:
    return UserFactory(balance=D(100_000))


# --- catalogue -----------------------------------------------------------------------------------
def test_the_catalogue_lists_every_stock_by_symbol_without_a_token(api_client, stock):
    halted = StockFactory(symbol="ZED", name="Zed", trading_enabled=False, image_url="https://example.com/z.png")
    StockFactory(symbol="ABC", name="Abc")
    holder, other = rich(), rich()
    bought(holder, stock, "100")
    bought(other, stock, "50")
    sold(other, stock, "50")  # holds none now

    response = api_client.get(STOCKS)

    assert response.status_code == 200
    stocks = response.json()["stocks"]
    assert [item["symbol"] for item in stocks] == ["ABC", "THIS", "ZED"]
    this = stocks[1]
    assert set(this) == STOCK_KEYS
    assert (this["name"], this["description"], this["imageUrl"]) == ("THIS Inc.", "A virtual stock.", "")
    assert (D(str(this["price"])), money(this["supply"]), this["holders"], this["tradingEnabled"]) == (
        D(11),
        D(100),
        1,
        True,
    )
    assert (stocks[2]["tradingEnabled"], stocks[2]["imageUrl"], stocks[2]["holders"]) == (
        False,
        halted.image_url,
        0,
    )
    assert D(str(stocks[0]["price"])) == D(10) and D(str(stocks[0]["change24h"])) == 0


def test_change_24h_compares_the_price_with_the_price_a_day_ago(api_client, stock, time_machine):
    time_machine.move_to("2026-03-10T09:00:00Z", tick=False)
    buyer = rich()
    bought(buyer, stock, "100")  # price 11
    time_machine.move_to("2026-03-11T08:00:00Z", tick=False)  # 23 hours later
    bought(buyer, stock, "50")  # price 11.5

    time_machine.move_to("2026-03-11T09:30:00Z", tick=False)
    (this,) = api_client.get(STOCKS).json()["stocks"]

    assert D(str(this["change24h"])) == D("0.0455")  # 11.5 / 11 - 1 = 0.04545...
    time_machine.move_to("2026-03-11T08:30:00Z", tick=False)  # no trade a day before: from the base price
    (this,) = api_client.get(STOCKS).json()["stocks"]
    assert D(str(this["change24h"])) == D("0.15")  # 11.5 / 10 - 1


def test_the_catalogue_costs_the_same_queries_for_1_or_10_stocks(api_client):
    StockFactory()
    with CaptureQueriesContext(connection) as one:
        assert len(api_client.get(STOCKS).json()["stocks"]) == 1
    for _ in range(9):
        bought(rich(), StockFactory(), "3")
    with CaptureQueriesContext(connection) as ten:
        assert len(api_client.get(STOCKS).json()["stocks"]) == 10

    assert len(ten) == len(one) == 1


# --- a stock's page ------------------------------------------------------------------------------
def test_a_stock_page_has_its_curve_reserve_fee_and_a_point_per_trade(api_client, stock):
    buyer = rich()
    bought(buyer, stock, "10")
    bought(buyer, stock, "10")
    sold(buyer, stock, "5")

    response = api_client.get(stock_url("this"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == STOCK_KEYS | {"curve", "reserve", "feeRate", "history"}
    assert body["curve"] == {"shape": "linear", "basePrice": 10.0, "slope": 0.01}
    assert (money(body["supply"]), money(body["reserve"]), D(str(body["feeRate"]))) == (D(15), D("151.13"), 0)
    assert [(D(str(point["price"])), money(point["supply"])) for point in body["history"]] == [
        (D(10), D(0)),  # the listing
        (D("10.1"), D(10)),
        (D("10.2"), D(20)),
        (D("10.15"), D(15)),
    ]
    assert all(point["recordedAt"] for point in body["history"])


def test_a_long_history_is_downsampled_to_every_nth_trade_and_the_latest(api_client, stock):
    buyer = rich()
    for _ in range(10):
        bought(buyer, stock, "1")

    body = api_client.get(stock_url(stock), {"points": 4}).json()

    # ceil(10 / 4) = every 3rd trade (3, 6, 9) and the latest (10), after the listing.
    assert [money(point["supply"]) for point in body["history"]] == [0, 3, 6, 9, 10]
    every = api_client.get(stock_url(stock), {"points": 10}).json()["history"]
    assert [money(point["supply"]) for point in every] == list(range(11))


def test_a_stock_page_refuses_unknown_symbols_and_bad_points(api_client, stock):
    assert_error(api_client.get(stock_url("NOPE")), 404, "STOCK_NOT_FOUND")
    assert_error(api_client.get(stock_url(stock), {"points": 0}), 400, "VALIDATION_ERROR")
    assert_error(api_client.get(stock_url(stock), {"points": 1001}), 400, "VALIDATION_ERROR")


# --- my trades -----------------------------------------------------------------------------------
def test_my_trades_lists_only_mine_newest_first_and_filters_by_symbol(auth_client, user, stock):
    other_stock = StockFactory(symbol="THAT")
    bought(user, stock, "5")
    bought(user, other_stock, "2")
    sold(user, stock, "1")
    bought(UserFactory(), stock, "3")  # someone else's

    body = auth_client.get(TRADES_ME).json()

    assert (body["total"], body["limit"], body["offset"]) == (3, 20, 0)
    assert [(trade["symbol"], trade["side"]) for trade in body["trades"]] == [
        ("THIS", "sell"),
        ("THAT", "buy"),
        ("THIS", "buy"),
    ]
    assert set(body["trades"][0]) == TRADE_KEYS
    # 5 cost 50.13; 1 sold back for 10.04 takes a fifth of that away (50.13 - 40.10 = 10.03)
    assert money(body["trades"][0]["realizedPnL"]) == D("0.01")
    only_this = auth_client.get(TRADES_ME, {"symbol": "this", "limit": 1, "offset": 1}).json()
    assert (only_this["total"], [t["side"] for t in only_this["trades"]]) == (2, ["buy"])
    assert_error(auth_client.get(TRADES_ME, {"limit": 101}), 400, "VALIDATION_ERROR")


def test_my_trades_need_a_token(api_client):
    assert_error(api_client.get(TRADES_ME), 401, "NOT_AUTHENTICATED")


# --- portfolio -----------------------------------------------------------------------------------
def test_the_portfolio_values_holdings_at_what_selling_them_all_pays_and_totals_both(auth_client, user, stock):
    market = MarketFactory()
    bet_place(user_id=user.pk, market_id=market.pk, side="this", amount=D(100))  # worth 100.00 at 0.65
    bought(user, stock, "10")  # cost 100.50
    bought(rich(), stock, "40")  # the price rises: 10 → 50
    that = StockFactory(symbol="THAT")
    bought(user, that, "1")  # 10.01
    sold(user, that, "1")  # an emptied holding is not listed

    body = auth_client.get(PORTFOLIO).json()

    assert set(body) == {"creditBalance", "positions", "holdings", "totals"}
    (holding,) = body["holdings"]
    assert set(holding) == HOLDING_KEYS
    # selling 10 at supply 50: 10·10 + 0.01·(50² - 40²)/2 = 104.50
    assert (holding["symbol"], money(holding["shares"]), D(str(holding["averageCost"]))) == ("THIS", D(10), D("10.05"))
    assert (money(holding["currentValue"]), money(holding["unrealizedPnL"])) == (D("104.50"), D("4.00"))
    (position,) = body["positions"]
    assert money(position["currentValue"]) == D("100.00")
    assert {key: money(value) for key, value in body["totals"].items()} == {
        "invested": D("200.50"),
        "currentValue": D("204.50"),
        "unrealizedPnL": D("4.00"),
    }


def test_the_portfolio_costs_the_same_queries_for_1_or_10_holdings(auth_client, user):
    bought(user, StockFactory(), "1")
    with CaptureQueriesContext(connection) as one:
        assert len(auth_client.get(PORTFOLIO).json()["holdings"]) == 1
    for _ in range(9):
        bought(user, StockFactory(), "1")
    with CaptureQueriesContext(connection) as ten:
        assert len(auth_client.get(PORTFOLIO).json()["holdings"]) == 10

    assert len(ten) == len(one)
