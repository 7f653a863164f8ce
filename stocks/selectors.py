import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.conf import settings
from django.db.models import Case, Count, DecimalField, F, Func, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from economy.dependents import AuditFinding
from economy.models import LedgerEntry, LedgerKind
from thisthat.money import CREDITS

from . import curves
from .errors import StockNotFound
from .locks import normalized_symbol
from .models import SHARES, Holding, Stock, StockTrade, TradeSide

PRICE_PLACES = Decimal("0.0001")  # prices and average costs as shown
_SHARES = DecimalField(**SHARES)
_MONEY = DecimalField(**CREDITS)


def stock_get(*, symbol: str) -> Stock:
    stock = Stock.objects.filter(symbol=normalized_symbol(symbol)).first()
    if stock is None:
        raise StockNotFound(details={"symbol": symbol})
    return stock


def stock_has_trades(*, stock_id: UUID) -> bool:
    return StockTrade.objects.filter(stock_id=stock_id).exists()


def price_shown(price: Decimal) -> Decimal:
    return price.quantize(PRICE_PLACES, ROUND_HALF_UP)


def _sum(queryset: QuerySet, field: str, output: DecimalField) -> Subquery:
    """SUM(field) of a correlated queryset as one scalar subquery (no GROUP BY)."""
    total = queryset.order_by().annotate(total=Func(F(field), function="SUM")).values("total")
    return Coalesce(Subquery(total, output_field=output), Value(Decimal(0)), output_field=output)


def _listed(stocks: QuerySet[Stock], now: datetime | None) -> list[Stock]:
    """The stocks with `holders` (users holding any share) and `change_24h` (the price's change since
    24 hours ago, as a fraction of it: 0.05 = +5 %) set. One query."""
    cutoff = (now or timezone.now()) - timedelta(hours=24)
    then = (
        StockTrade.objects.filter(stock=OuterRef("pk"), created_at__lte=cutoff)
        .order_by("-sequence")
        .values("supply_after")[:1]
    )
    listed = list(
        stocks.annotate(
            holders=Count("holdings", filter=Q(holdings__shares__gt=0)),
            supply_then=Coalesce(Subquery(then, output_field=_SHARES), Value(Decimal(0)), output_field=_SHARES),
        ).order_by("symbol")
    )
    for stock in listed:
        curve = stock.curve_function()
        before = curve.price(stock.supply_then)  # before any trade: the base price (never 0)
        stock.change_24h = ((curve.price(stock.supply) - before) / before).quantize(PRICE_PLACES, ROUND_HALF_UP)
    return listed


def stocks_catalogue(*, now: datetime | None = None) -> list[Stock]:
    """Every stock, by symbol, halted ones too (`tradingEnabled` says so)."""
    return _listed(Stock.objects.all(), now)


def stock_detail(*, symbol: str, points: int, now: datetime | None = None) -> Stock:
    """One stock as the catalogue shows it, with its `history` (at most `points` trades, see
    `stock_history`) and the `fee_rate` trades pay; STOCK_NOT_FOUND for an unknown symbol."""
    found = _listed(Stock.objects.filter(symbol=normalized_symbol(symbol)), now)
    if not found:
        raise StockNotFound(details={"symbol": symbol})
    stock = found[0]
    stock.history = stock_history(stock=stock, points=points)
    stock.fee_rate = settings.STOCK_FEE_RATE
    return stock


@dataclass(frozen=True)
class PricePoint:
    price: Decimal
    supply: Decimal
    recorded_at: datetime


def stock_history(*, stock: Stock, points: int) -> list[PricePoint]:
    """The price after each trade, oldest first, from the listing (the base price at supply 0): at
    most `points` trades, every n-th one (n = ceil(trades / points)) and always the latest."""
    total = stock.trades_count
    step = max(1, math.ceil(total / points))
    rows = (
        StockTrade.objects.filter(stock=stock)
        .annotate(gap=F("sequence") % step)
        .filter(Q(gap=0) | Q(sequence=total))
        .order_by("sequence")
        .values_list("price_after", "supply_after", "created_at")
    )
    start = PricePoint(stock.curve_function().price(Decimal(0)), Decimal(0), stock.created_at)
    return [start, *(PricePoint(price, supply, at) for price, supply, at in rows)]


@dataclass(frozen=True)
class HoldingValue:
    """A holding as the portfolio shows it: `current_value` is what selling every share now would pay
    (the curve down over them, rounded down, minus the fee)."""

    symbol: str
    name: str
    shares: Decimal
    cost_basis: Decimal
    current_value: Decimal

    @property
    def average_cost(self) -> Decimal:
        return price_shown(self.cost_basis / self.shares) if self.shares else Decimal(0)

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.current_value - self.cost_basis


def holding_value(holding: Holding, stock: Stock) -> HoldingValue:
    value = Decimal("0.00")
    if holding.shares > 0:
        value = curves.sell(
            stock.curve_function(), stock.supply, holding.shares, fee_rate=settings.STOCK_FEE_RATE
        ).credits
    return HoldingValue(stock.symbol, stock.name, holding.shares, holding.cost_basis, value)


def holdings_for_user(*, user_id: UUID) -> list[HoldingValue]:
    """The user's holdings of at least a hundredth of a share, by symbol, valued now (one query)."""
    holdings = Holding.objects.filter(user_id=user_id, shares__gt=0).select_related("stock").order_by("stock__symbol")
    return [holding_value(holding, holding.stock) for holding in holdings]


def trades_for_user(*, user_id: UUID, symbol: str = "") -> QuerySet[StockTrade]:
    trades = StockTrade.objects.filter(user_id=user_id).select_related("stock")
    if symbol:
        trades = trades.filter(stock__symbol=normalized_symbol(symbol))
    return trades.order_by("-created_at", "-sequence")


# --- audit -----------------------------------------------------------------------------------------
def stocks_audit() -> list[AuditFinding]:
    """What the ledger audit checks of every stock (one query, economy.dependents.register_audit):
    its supply is the sum of its holdings; its reserve is the curve's integral at that supply rounded
    up (stocks/curves.py reserve_at); what its trades took in, net, is its reserve plus the house's
    take; and its trades' ledger rows add up to the opposite of that."""
    trades = StockTrade.objects.filter(stock=OuterRef("pk"))
    signed = Case(When(side=TradeSide.BUY, then=F("credits")), default=-F("credits"), output_field=_MONEY)
    ledger = LedgerEntry.objects.filter(
        kind__in=[LedgerKind.STOCK_BUY, LedgerKind.STOCK_SELL],
        reference_id__in=StockTrade.objects.filter(stock=OuterRef(OuterRef("pk"))).values("pk"),
    )
    stocks = Stock.objects.annotate(
        held=_sum(Holding.objects.filter(stock=OuterRef("pk")), "shares", _SHARES),
        taken_in=_sum(trades.annotate(signed=signed), "signed", _MONEY),
        ledger_total=_sum(ledger, "amount", _MONEY),
    ).order_by("symbol")
    findings = []
    for stock in stocks:

        def found(message: str, symbol: str = stock.symbol) -> None:
            findings.append(AuditFinding("stocks", symbol, message))

        if stock.supply != stock.held:
            found(f"supply {stock.supply} != the sum of its holdings {stock.held}")
        expected = curves.reserve_at(stock.curve_function(), stock.supply)
        if stock.reserve != expected:
            found(f"reserve {stock.reserve} != the curve's integral at supply {stock.supply}, {expected}")
        if stock.taken_in != stock.reserve + stock.house_take:
            found(f"trades took in {stock.taken_in} != reserve {stock.reserve} + house take {stock.house_take}")
        if stock.ledger_total != -stock.taken_in:
            found(f"its trades' ledger rows add up to {stock.ledger_total}, not {-stock.taken_in}")
    return findings
