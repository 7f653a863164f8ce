"""Row locks on stocks, taken the same way by every writer (trades, staff edits, halts). FOR NO KEY
UPDATE: trades on one stock take turns (each moves its supply and reserve), while rows that merely
reference the stock (a new trade or holding) are not blocked. Lock order everywhere: the stock, then
users through the ledger (economy.locks), then the stock's holdings — so a trade never waits on a
user's lock while holding another user's."""

from uuid import UUID

from .errors import StockNotFound
from .models import Stock


def normalized_symbol(symbol: str) -> str:
    """Symbols are upper-case; clients may send them in any case."""
    return symbol.strip().upper()


def stock_lock(*, symbol: str) -> Stock:
    """The stock row, locked until the transaction ends; an unknown symbol is STOCK_NOT_FOUND."""
    stock = Stock.objects.select_for_update(no_key=True).filter(symbol=normalized_symbol(symbol)).first()
    if stock is None:
        raise StockNotFound(details={"symbol": symbol})
    return stock


def stock_lock_by_id(*, stock_id: UUID) -> Stock:
    stock = Stock.objects.select_for_update(no_key=True).filter(pk=stock_id).first()
    if stock is None:
        raise StockNotFound()
    return stock
