"""Many buyers and sellers on one stock at once, in real threads: trades take turns on the stock's row, so
none is lost, none is priced from a stale supply, no holding goes below 0, and afterwards the supply, the
reserve, every holding and the ledger add up. Each test replays the trades in the order they happened
(their sequence) through the pure curve and compares."""

from collections import Counter
from decimal import Decimal

import pytest
from django.db.models import Sum

from accounts.tokens import token_pair_issue
from economy.models import LedgerEntry
from economy.services import ledger_audit
from stocks import curves
from stocks.models import Holding, Stock, StockTrade
from stocks.services import stock_buy, stock_sell
from tests.factories import StockFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.clients import client_from
from tests.helpers.concurrency import run_together
from tests.helpers.stocks import BUY, SELL, bought

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal


def outcome(work) -> str:
    try:
        work()
    except Exception as exc:  # noqa: BLE001 - the refusal's code is what is counted
        return getattr(exc, "code", repr(exc))
    return "ok"


def assert_stock_adds_up(stock: Stock) -> None:
    """Replay every trade of the stock in sequence through the curve; then check the stored state, the
    holdings, the ledger and the audit independently."""
    stock.refresh_from_db()
    curve = stock.curve_function()
    supply, per_user = D(0), Counter()
    trades = list(StockTrade.objects.filter(stock=stock).order_by("sequence"))
    assert [trade.sequence for trade in trades] == list(range(1, len(trades) + 1))
    for trade in trades:
        priced = (curves.buy if trade.side == "buy" else curves.sell)(curve, supply, trade.shares)
        assert (trade.credits, trade.supply_after, trade.price_after) == (
            priced.credits,
            priced.supply_after,
            priced.price_after,
        ), f"trade {trade.sequence}"
        supply = priced.supply_after
        per_user[trade.user_id] += trade.shares if trade.side == "buy" else -trade.shares
        assert per_user[trade.user_id] >= 0, f"trade {trade.sequence} sold shares its seller did not hold"
    assert stock.supply == supply == Holding.objects.filter(stock=stock).aggregate(total=Sum("shares"))["total"]
    assert stock.reserve == curves.reserve_at(curve, supply)
    holdings = dict(Holding.objects.filter(stock=stock).values_list("user_id", "shares"))
    assert holdings == {user: shares for user, shares in per_user.items() if user in holdings}
    assert all(shares >= 0 for shares in holdings.values())
    entries = LedgerEntry.objects.filter(reference_id__in=[trade.pk for trade in trades])
    assert entries.count() == len(trades)
    paid_in = sum((t.credits if t.side == "buy" else -t.credits for t in trades), D(0))
    assert -entries.aggregate(total=Sum("amount"))["total"] == paid_in == stock.reserve + stock.house_take
    audit = ledger_audit()
    assert (audit.mismatches, audit.findings) == ([], [])
    assert_ledger_reconciles()


def test_40_buys_and_sales_at_once_on_one_stock_lose_nothing_and_add_up():
    stock = StockFactory(symbol="THIS")
    users = [UserFactory(balance=D(5000)) for _ in range(40)]
    for user in users[:15]:
        bought(user, stock, "20")

    def trade(i: int) -> str:
        user = users[i]
        if i < 15:  # holders sell some back
            return outcome(lambda: stock_sell(user_id=user.pk, symbol="THIS", shares=D("7.5") + i))
        if i < 28:
            return outcome(lambda: stock_buy(user_id=user.pk, symbol="THIS", shares=D(i) / 4))
        return outcome(lambda: stock_buy(user_id=user.pk, symbol="THIS", credits=D(100 + 13 * i)))

    outcomes = Counter(run_together(trade, 40))

    # Holders 13 and 14 try to sell 20.5 and 21.5 of their 20: refused, the rest goes through.
    assert outcomes == {"ok": 38, "INSUFFICIENT_SHARES": 2}, outcomes
    assert StockTrade.objects.filter(stock=stock).count() == 15 + 38
    assert_stock_adds_up(stock)


def test_one_holder_selling_the_same_shares_twice_at_once_sells_them_once():
    stock = StockFactory(symbol="THIS")
    seller = UserFactory()
    bought(seller, stock, "10")
    others = [UserFactory(balance=D(5000)) for _ in range(6)]

    def trade(i: int) -> str:
        if i < 6:
            return outcome(lambda: stock_sell(user_id=seller.pk, symbol="THIS", shares=D(6)))
        return outcome(lambda: stock_buy(user_id=others[i - 6].pk, symbol="THIS", shares=D(3)))

    outcomes = Counter(run_together(trade, 12))

    assert outcomes == {"ok": 7, "INSUFFICIENT_SHARES": 5}, outcomes
    assert Holding.objects.get(user=seller, stock=stock).shares == D(4)
    assert_stock_adds_up(stock)


def test_users_trading_one_stock_over_http_at_once_add_up():
    """As a client sees it: 24 users post buys and sales to the API at once (half of them twice, with
    the same Idempotency-Key: one trade each)."""
    stock = StockFactory(symbol="THIS")
    users = [UserFactory(balance=D(3000)) for _ in range(24)]
    for user in users[:8]:
        bought(user, stock, "12")
    tokens = [token_pair_issue(user=user).access_token for user in users]

    def request(i: int) -> tuple[int, int]:
        user = i % 24
        client = client_from(token=tokens[user])
        key = {"HTTP_IDEMPOTENCY_KEY": f"trade-{user}"}
        if user < 8:
            response = client.post(SELL, {"symbol": "this", "shares": "5.55"}, format="json", **key)
        else:
            response = client.post(BUY, {"symbol": "THIS", "credits": str(50 + 7 * user)}, format="json", **key)
        return user, response.status_code

    statuses = run_together(request, 36)  # users 0-11 send their request twice

    assert sorted(statuses) == sorted(
        [(u, 200) for u in range(8)] * 2 + [(u, 201) for u in range(8, 24)] + [(u, 201) for u in range(8, 12)]
    )
    assert StockTrade.objects.filter(stock=stock).count() == 8 + 24
    assert all(Holding.objects.get(user=user, stock=stock).shares == D("6.45") for user in users[:8])
    assert_stock_adds_up(stock)
