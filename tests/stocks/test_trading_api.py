"""POST /economy/buy, /economy/sell and /economy/quote (SPEC §5 [stocks]): prices on the bonding curve,
the holding, the stock and the ledger moved in one transaction; every refusal with its own code and
nothing written; quotes that match the trade; Idempotency-Key replays."""

from decimal import Decimal

import pytest

from abuse.services import account_suspend
from activity.models import Activity, ActivityKind
from economy.models import LedgerEntry, LedgerKind
from stocks.models import Holding, StockTrade
from tests.factories import StockFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.stocks import (
    BUY,
    HOLDING_KEYS,
    QUOTE,
    QUOTE_KEYS,
    SELL,
    TRADE_KEYS,
    TRANSACTIONS,
    balance_of,
    bought,
    held,
    money,
    state_of,
)

pytestmark = pytest.mark.django_db

D = Decimal


def buy(client, body, **headers):
    return client.post(BUY, body, format="json", **headers)


def sell(client, body, **headers):
    return client.post(SELL, body, format="json", **headers)


def quote(client, body):
    return client.post(QUOTE, body, format="json")


def nothing_written(user, stock, *, balance="1000", supply="0") -> None:
    assert not StockTrade.objects.filter(user=user).exists()
    assert not LedgerEntry.objects.filter(user=user, kind__in=[LedgerKind.STOCK_BUY, LedgerKind.STOCK_SELL]).exists()
    assert balance_of(user) == D(balance)
    assert state_of(stock)[0] == D(supply)


# --- buying --------------------------------------------------------------------------------------
def test_buying_shares_costs_the_curve_integral_and_moves_holding_stock_and_ledger(auth_client, user, stock):
    response = buy(auth_client, {"symbol": "THIS", "shares": 10}, HTTP_X_DEVICE_ID="phone-1")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"trade", "holding", "newBalance"}
    trade, holding = body["trade"], body["holding"]
    assert set(trade) == TRADE_KEYS and set(holding) == HOLDING_KEYS
    # 10·10 + 0.01·10²/2 = 100.50
    assert (trade["symbol"], trade["side"], money(trade["shares"]), money(trade["credits"])) == (
        "THIS",
        "buy",
        D(10),
        D("100.50"),
    )
    assert (D(str(trade["averagePrice"])), D(str(trade["priceAfter"])), trade["realizedPnL"]) == (
        D("10.05"),
        D("10.1"),
        None,
    )
    assert money(body["newBalance"]) == D("899.50") == balance_of(user)
    assert (money(holding["shares"]), D(str(holding["averageCost"]))) == (D(10), D("10.05"))
    assert (money(holding["currentValue"]), money(holding["unrealizedPnL"])) == (D("100.50"), D(0))
    assert state_of(stock) == (D(10), D("100.50"))
    (entry,) = LedgerEntry.objects.filter(user=user, kind=LedgerKind.STOCK_BUY)
    assert (entry.amount, str(entry.reference_id)) == (D("-100.50"), trade["id"])
    assert entry.description == "Bought 10 THIS (THIS Inc.) at 10.05 each"
    activity = Activity.objects.get(user=user, kind=ActivityKind.STOCK_TRADE)
    assert (str(activity.reference_id), activity.device_id) == (trade["id"], "phone-1")
    assert_ledger_reconciles()


def test_a_budget_in_credits_buys_the_most_hundredths_it_covers(auth_client, user, stock):
    body = buy(auth_client, {"symbol": "THIS", "credits": "100"}).json()

    assert (money(body["trade"]["shares"]), money(body["trade"]["credits"])) == (D("9.95"), D("100.00"))
    assert money(body["newBalance"]) == D("900.00")


def test_each_buy_pays_the_price_the_earlier_ones_left(auth_client, client_for, user, stock):
    first = bought(UserFactory(balance=D(5000)), stock, "100")  # 1000 + 50 = 1050.00

    body = buy(auth_client, {"symbol": "this", "shares": "10"}).json()  # any case

    assert first == D("1050.00")
    # from 100 to 110: 10·10 + 0.01·(110² - 100²)/2 = 100 + 10.5
    assert money(body["trade"]["credits"]) == D("110.50")
    assert D(str(body["trade"]["priceAfter"])) == D("11.1")
    assert state_of(stock) == (D(110), D("1160.50"))


def test_buying_more_averages_the_cost(auth_client, user, stock):
    buy(auth_client, {"symbol": "THIS", "shares": 10})  # 100.50
    body = buy(auth_client, {"symbol": "THIS", "shares": 10}).json()  # 10·10.1 + 0.5 = 101.50

    assert money(body["holding"]["shares"]) == D(20)
    assert D(str(body["holding"]["averageCost"])) == D("10.1")  # 202.00 / 20
    assert Holding.objects.get(user=user, stock=stock).cost_basis == D("202.00")


# --- selling -------------------------------------------------------------------------------------
def test_selling_pays_the_integral_back_down_and_realises_the_gain_at_the_average_cost(auth_client, user, stock):
    buy(auth_client, {"symbol": "THIS", "shares": 10})  # 100.50 at 0 → 10
    bought(UserFactory(), stock, "50")  # 10→60: the price rose

    response = sell(auth_client, {"symbol": "THIS", "shares": 4})

    assert response.status_code == 200, response.json()
    body = response.json()
    # 60 → 56: 4·10 + 0.01·(60² - 56²)/2 = 40 + 2.32
    assert (body["trade"]["side"], money(body["trade"]["credits"])) == ("sell", D("42.32"))
    assert money(body["trade"]["realizedPnL"]) == D("2.12")  # 42.32 - 4·10.05
    assert (money(body["holding"]["shares"]), D(str(body["holding"]["averageCost"]))) == (D(6), D("10.05"))
    assert money(body["newBalance"]) == D("941.82") == balance_of(user)  # 899.50 + 42.32
    assert state_of(stock) == (D(56), D("575.68"))  # 560 + 0.01·56²/2 = 575.68
    (entry,) = LedgerEntry.objects.filter(user=user, kind=LedgerKind.STOCK_SELL)
    assert (entry.amount, entry.description) == (D("42.32"), "Sold 4 THIS (THIS Inc.) at 10.58 each")
    assert_ledger_reconciles()


def test_selling_everything_leaves_an_empty_holding_and_returns_at_most_the_cost(auth_client, user, stock):
    cost = money(buy(auth_client, {"symbol": "THIS", "credits": "333.33"}).json()["trade"]["credits"])
    shares = held(user, stock)

    body = sell(auth_client, {"symbol": "THIS", "shares": str(shares)}).json()

    assert money(body["trade"]["credits"]) <= cost
    assert money(body["holding"]["shares"]) == 0 and money(body["holding"]["currentValue"]) == 0
    assert Holding.objects.get(user=user, stock=stock).cost_basis == 0
    assert state_of(stock) == (0, 0)
    assert balance_of(user) <= D(1000)
    assert_ledger_reconciles()


# --- quotes --------------------------------------------------------------------------------------
def test_a_buy_quote_gives_the_numbers_the_buy_then_gets_and_writes_nothing(auth_client, user, stock):
    bought(UserFactory(), stock, "25")
    body = {"symbol": "THIS", "credits": "250", "maxPrice": "11"}

    response = quote(auth_client, {**body, "side": "buy"})

    assert response.status_code == 200, response.json()
    quoted = response.json()
    assert set(quoted) == QUOTE_KEYS
    assert (quoted["symbol"], quoted["side"], D(str(quoted["priceBefore"]))) == ("THIS", "buy", D("10.25"))
    nothing_written(user, stock, supply="25")
    trade = buy(auth_client, body).json()["trade"]
    for key in ("shares", "credits", "fee", "averagePrice", "priceAfter", "supplyAfter"):
        assert quoted[key] == trade[key], key


def test_a_sell_quote_gives_the_numbers_the_sale_then_gets(auth_client, user, stock):
    bought(user, stock, "30")
    body = {"symbol": "THIS", "shares": "12.5", "minProceeds": "100"}

    quoted = quote(auth_client, {**body, "side": "sell"}).json()

    trade = sell(auth_client, body).json()["trade"]
    for key in ("shares", "credits", "fee", "averagePrice", "priceAfter", "supplyAfter"):
        assert quoted[key] == trade[key], key


def test_a_quote_shows_the_fee_and_the_trade_charges_it(settings, auth_client, user, stock):
    settings.STOCK_FEE_RATE = D("0.01")

    quoted = quote(auth_client, {"symbol": "THIS", "side": "buy", "shares": 10}).json()
    trade = buy(auth_client, {"symbol": "THIS", "shares": 10}).json()["trade"]

    assert (money(quoted["fee"]), money(quoted["credits"]), D(str(quoted["feeRate"]))) == (
        D("1.01"),
        D("101.51"),
        D("0.01"),
    )
    assert (money(trade["fee"]), money(trade["credits"])) == (D("1.01"), D("101.51"))
    sale = sell(auth_client, {"symbol": "THIS", "shares": 10}).json()["trade"]
    assert (money(sale["fee"]), money(sale["credits"])) == (D("1.01"), D("99.49"))
    stock.refresh_from_db()
    assert (stock.reserve, stock.house_take) == (0, D("2.02"))
    assert_ledger_reconciles()


def test_a_quote_refuses_what_the_trade_would(auth_client, user, stock):
    assert_error(quote(auth_client, {"symbol": "NOPE", "side": "buy", "shares": 1}), 404, "STOCK_NOT_FOUND")
    assert_error(quote(auth_client, {"symbol": "THIS", "side": "sell", "shares": 1}), 400, "INSUFFICIENT_SHARES")
    assert_error(
        quote(auth_client, {"symbol": "THIS", "side": "buy", "shares": 1, "maxPrice": "9.99"}), 409, "PRICE_CHANGED"
    )
    assert_error(quote(auth_client, {"symbol": "THIS", "side": "buy", "shares": "0.001"}), 400, "INVALID_TRADE_AMOUNT")
    assert_error(quote(auth_client, {"symbol": "THIS", "side": "hold", "shares": 1}), 400, "VALIDATION_ERROR")
    # The ledger's refusals are not quoted: a quote bigger than the balance is still a quote.
    assert quote(auth_client, {"symbol": "THIS", "side": "buy", "shares": 1000}).status_code == 200


# --- refusals ------------------------------------------------------------------------------------
def test_an_unknown_symbol_is_stock_not_found(auth_client, user, stock):
    assert_error(buy(auth_client, {"symbol": "NOPE", "shares": 1}), 404, "STOCK_NOT_FOUND")
    assert_error(sell(auth_client, {"symbol": "NOPE", "shares": 1}), 404, "STOCK_NOT_FOUND")
    nothing_written(user, stock)


def test_a_halted_stock_is_trading_halted_both_ways(auth_client, user, stock):
    bought(user, stock, "5")
    stock.trading_enabled = False
    stock.save()

    assert_error(buy(auth_client, {"symbol": "THIS", "shares": 1}), 409, "TRADING_HALTED")
    assert_error(sell(auth_client, {"symbol": "THIS", "shares": 1}), 409, "TRADING_HALTED")
    assert held(user, stock) == D(5) and StockTrade.objects.count() == 1


def test_selling_beyond_the_holding_is_insufficient_shares(auth_client, user, stock):
    bought(UserFactory(), stock, "50")  # supply enough: the holding is what counts
    assert_error(sell(auth_client, {"symbol": "THIS", "shares": 1}), 400, "INSUFFICIENT_SHARES")
    bought(user, stock, "2.5")

    body = assert_error(sell(auth_client, {"symbol": "THIS", "shares": "2.51"}), 400, "INSUFFICIENT_SHARES")

    assert body["details"] == {"held": 2.5, "shares": 2.51}
    assert held(user, stock) == D("2.5") and StockTrade.objects.filter(side="sell").count() == 0


def test_max_price_refuses_a_buy_whose_average_price_is_higher(auth_client, user, stock):
    body = assert_error(buy(auth_client, {"symbol": "THIS", "shares": 10, "maxPrice": "10.04"}), 409, "PRICE_CHANGED")

    assert body["details"]["averagePrice"] == 10.05 and body["details"]["maxPrice"] == 10.04
    nothing_written(user, stock)
    assert buy(auth_client, {"symbol": "THIS", "shares": 10, "maxPrice": "10.05"}).status_code == 201


def test_min_proceeds_refuses_a_sale_that_would_pay_less(auth_client, user, stock):
    bought(user, stock, "10")

    body = assert_error(
        sell(auth_client, {"symbol": "THIS", "shares": 10, "minProceeds": "100.51"}), 409, "PRICE_CHANGED"
    )

    assert (body["details"]["proceeds"], body["details"]["minProceeds"]) == (100.5, 100.51)
    assert held(user, stock) == D(10)
    assert sell(auth_client, {"symbol": "THIS", "shares": 10, "minProceeds": "100.50"}).status_code == 200


def test_a_buy_beyond_the_balance_is_insufficient_balance(auth_client, user, stock):
    assert_error(buy(auth_client, {"symbol": "THIS", "shares": 100}), 400, "INSUFFICIENT_BALANCE")  # 1050
    nothing_written(user, stock)
    assert not Holding.objects.filter(user=user).exists()


def test_a_sale_that_would_lift_the_balance_over_the_cap_is_balance_limit(settings, auth_client, user, stock):
    bought(user, stock, "10")  # balance 899.50
    settings.MAX_CREDIT_BALANCE = D("950")

    assert_error(sell(auth_client, {"symbol": "THIS", "shares": 10}), 409, "BALANCE_LIMIT")

    assert held(user, stock) == D(10) and balance_of(user) == D("899.50")
    assert sell(auth_client, {"symbol": "THIS", "shares": 5}).status_code == 200  # 50.12 fits


@pytest.mark.parametrize(
    "body",
    [
        {"shares": 0},
        {"shares": -1},
        {"shares": "0.001"},
        {"shares": "1000000.01"},
        {"credits": "0"},
        {"credits": "10.001"},
        {"credits": "0.10"},  # buys less than a hundredth of a share (0.11)
    ],
)
def test_amounts_that_are_not_a_trade_are_invalid_trade_amount(auth_client, user, stock, body):
    assert_error(buy(auth_client, {"symbol": "THIS", **body}), 400, "INVALID_TRADE_AMOUNT")
    nothing_written(user, stock)


def test_a_sale_too_small_to_pay_a_cent_after_the_fee_is_invalid_trade_amount(settings, auth_client, user):
    cheap = StockFactory(symbol="PENNY", base_price=D("1"), slope=D("0.000001"))
    bought(user, cheap, "1")
    settings.STOCK_FEE_RATE = D("0.01")  # a hundredth of a share pays 0.01, and the fee (rounded up) takes it

    body = assert_error(sell(auth_client, {"symbol": "PENNY", "shares": "0.01"}), 400, "INVALID_TRADE_AMOUNT")

    assert body["details"] == {"shares": 0.01}
    assert held(user, cheap) == D(1)
    assert sell(auth_client, {"symbol": "PENNY", "shares": "0.02"}).status_code == 200  # 0.02 - 0.01


@pytest.mark.parametrize(
    "body",
    [
        {"symbol": "THIS"},  # neither
        {"symbol": "THIS", "shares": 1, "credits": 10},  # both
        {"shares": 1},  # no symbol
        {"symbol": "THIS", "shares": "1e3"},  # not plain decimal notation
        {"symbol": 7, "shares": 1},
    ],
)
def test_malformed_buys_are_validation_error(auth_client, user, stock, body):
    assert_error(buy(auth_client, body), 400, "VALIDATION_ERROR")
    nothing_written(user, stock)


def test_a_sale_is_given_in_shares(auth_client, user, stock):
    bought(user, stock, "1")
    assert_error(sell(auth_client, {"symbol": "THIS"}), 400, "VALIDATION_ERROR")
    assert_error(quote(auth_client, {"symbol": "THIS", "side": "sell", "credits": 5}), 400, "VALIDATION_ERROR")


def test_buys_and_sales_share_the_stock_trades_rate_limit_and_quotes_do_not_count(settings, auth_client, user, stock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "stock_trades": "2/min"}
    assert buy(auth_client, {"symbol": "THIS", "shares": 2}).status_code == 201
    assert quote(auth_client, {"symbol": "THIS", "side": "sell", "shares": 1}).status_code == 200
    assert sell(auth_client, {"symbol": "THIS", "shares": 1}).status_code == 200

    response = buy(auth_client, {"symbol": "THIS", "shares": 1})

    assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) >= 1
    assert held(user, stock) == D(1)


def test_trading_needs_a_token(api_client, stock):
    for url in (BUY, SELL, QUOTE):
        assert_error(api_client.post(url, {"symbol": "THIS", "shares": 1}, format="json"), 401, "NOT_AUTHENTICATED")


def test_a_suspended_account_can_neither_buy_nor_sell_and_its_holding_stays(auth_client, user, stock, staff):
    bought(user, stock, "10")
    account_suspend(user_id=user.pk, reason="review", staff_id=staff.pk)

    assert_error(buy(auth_client, {"symbol": "THIS", "shares": 1}), 403, "ACCOUNT_SUSPENDED")
    assert_error(sell(auth_client, {"symbol": "THIS", "shares": 1}), 403, "ACCOUNT_SUSPENDED")

    assert held(user, stock) == D(10) and state_of(stock) == (D(10), D("100.50"))
    assert StockTrade.objects.count() == 1
    # it may still read: its portfolio values the frozen holding
    assert money(auth_client.get("/api/v1/economy/portfolio").json()["holdings"][0]["currentValue"]) == D("100.50")


# --- Idempotency-Key -----------------------------------------------------------------------------
def test_a_replayed_buy_returns_the_same_body_and_buys_once(auth_client, user, stock):
    first = buy(auth_client, {"symbol": "THIS", "shares": 10}, HTTP_IDEMPOTENCY_KEY="buy-1")
    second = buy(auth_client, {"symbol": "THIS", "shares": 10}, HTTP_IDEMPOTENCY_KEY="buy-1")

    assert first.status_code == second.status_code == 201
    assert second.content == first.content and second["Idempotent-Replayed"] == "true"
    assert StockTrade.objects.count() == 1 and balance_of(user) == D("899.50") and held(user, stock) == D(10)


def test_a_replayed_sale_sells_once_and_a_different_body_is_a_conflict(auth_client, user, stock):
    bought(user, stock, "10")
    first = sell(auth_client, {"symbol": "THIS", "shares": 4}, HTTP_IDEMPOTENCY_KEY="sell-1")
    second = sell(auth_client, {"symbol": "THIS", "shares": 4}, HTTP_IDEMPOTENCY_KEY="sell-1")

    assert first.status_code == second.status_code == 200 and second.content == first.content
    assert held(user, stock) == D(6)
    assert_error(
        sell(auth_client, {"symbol": "THIS", "shares": 5}, HTTP_IDEMPOTENCY_KEY="sell-1"), 409, "IDEMPOTENCY_CONFLICT"
    )
    assert held(user, stock) == D(6)


def test_a_refused_trade_is_replayed_as_refused_even_once_it_would_pass(auth_client, user, stock):
    assert_error(
        sell(auth_client, {"symbol": "THIS", "shares": 1}, HTTP_IDEMPOTENCY_KEY="k"), 400, "INSUFFICIENT_SHARES"
    )
    bought(user, stock, "5")

    assert_error(
        sell(auth_client, {"symbol": "THIS", "shares": 1}, HTTP_IDEMPOTENCY_KEY="k"), 400, "INSUFFICIENT_SHARES"
    )
    assert held(user, stock) == D(5)


# --- history -------------------------------------------------------------------------------------
def test_the_transaction_history_describes_stock_trades(auth_client, user):
    stock = StockFactory(symbol="POLY", name="Polymarket mirror")
    bought(user, stock, "2.5")
    sell(auth_client, {"symbol": "POLY", "shares": "1.25"})

    rows = auth_client.get(TRANSACTIONS, {"limit": 2}).json()["transactions"]

    assert [(row["transactionType"], row["description"]) for row in rows] == [
        ("stock_sell", "Sold 1.25 POLY (Polymarket mirror) at 10.02 each"),
        ("stock_buy", "Bought 2.5 POLY (Polymarket mirror) at 10.02 each"),
    ]
    only_buys = auth_client.get(TRANSACTIONS, {"type": "stock_buy"}).json()
    assert only_buys["total"] == 1
