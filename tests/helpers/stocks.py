"""Stock test helpers: trading through the services (the same path the API takes), the URLs, and
reading balances, holdings and the stock's state back."""

from decimal import Decimal

from accounts.models import User
from stocks.models import Holding, Stock
from stocks.services import stock_buy, stock_sell

STOCKS = "/api/v1/economy/stocks"
BUY = "/api/v1/economy/buy"
SELL = "/api/v1/economy/sell"
QUOTE = "/api/v1/economy/quote"
TRADES_ME = "/api/v1/economy/trades/me"
PORTFOLIO = "/api/v1/economy/portfolio"
TRANSACTIONS = "/api/v1/transactions/me"

STOCK_KEYS = {"symbol", "name", "description", "imageUrl", "price", "supply", "holders", "change24h", "tradingEnabled"}
TRADE_KEYS = {
    "id",
    "symbol",
    "side",
    "shares",
    "credits",
    "fee",
    "averagePrice",
    "priceAfter",
    "supplyAfter",
    "realizedPnL",
    "createdAt",
}
HOLDING_KEYS = {"symbol", "shares", "averageCost", "currentValue", "unrealizedPnL"}
QUOTE_KEYS = {
    "symbol",
    "side",
    "shares",
    "credits",
    "fee",
    "feeRate",
    "averagePrice",
    "priceBefore",
    "priceAfter",
    "supplyAfter",
}


def stock_url(stock_or_symbol) -> str:
    return f"{STOCKS}/{getattr(stock_or_symbol, 'symbol', stock_or_symbol)}"


def bought(user: User, stock: Stock, shares: str | Decimal) -> Decimal:
    """Buy through the service; return what it cost."""
    return stock_buy(user_id=user.pk, symbol=stock.symbol, shares=Decimal(str(shares))).trade.credits


def sold(user: User, stock: Stock, shares: str | Decimal) -> Decimal:
    """Sell through the service; return what it paid."""
    return stock_sell(user_id=user.pk, symbol=stock.symbol, shares=Decimal(str(shares))).trade.credits


def held(user: User, stock: Stock) -> Decimal:
    holding = Holding.objects.filter(user=user, stock=stock).first()
    return holding.shares if holding else Decimal(0)


def state_of(stock: Stock) -> tuple[Decimal, Decimal]:
    """(supply, reserve) as stored now."""
    stock.refresh_from_db()
    return stock.supply, stock.reserve


def balance_of(user: User) -> Decimal:
    user.refresh_from_db()
    return user.credit_balance


def money(value) -> Decimal:
    """A JSON number or string as credits (2 places)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
