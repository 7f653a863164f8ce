from thisthat.errors import Conflict, DomainError, NotFound


class MarketNotFound(NotFound):
    code, message = "MARKET_NOT_FOUND", "Market not found."


class UpstreamUnavailable(DomainError):
    code, status, message = "UPSTREAM_UNAVAILABLE", 503, "Polymarket is unreachable and no odds are stored."


class MarketClosed(Conflict):
    code, message = "MARKET_CLOSED", "This market is not open."
