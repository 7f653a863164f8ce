from thisthat.errors import Conflict, DomainError, NotFound


class StockNotFound(NotFound):
    code, message = "STOCK_NOT_FOUND", "No stock has this symbol."


class TradingHalted(Conflict):
    code, message = "TRADING_HALTED", "Trading in this stock is halted."


class InsufficientShares(DomainError):
    code, status, message = "INSUFFICIENT_SHARES", 400, "You hold fewer shares of this stock than you tried to sell."


class InvalidTradeAmount(DomainError):
    code, status = "INVALID_TRADE_AMOUNT", 400
    message = "Trade a positive number of shares (at most 2 decimals, at most 1,000,000) or of credits (to the cent)."


class PriceChanged(Conflict):
    code, message = "PRICE_CHANGED", "The price moved past the limit you set; check it and try again."
