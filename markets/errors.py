from thisthat.errors import Conflict, NotFound


class MarketNotFound(NotFound):
    code, message = "MARKET_NOT_FOUND", "Market not found."


class MarketClosed(Conflict):
    code, message = "MARKET_CLOSED", "This market is not open."
