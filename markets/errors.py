from thisthat.errors import DomainError, NotFound


class MarketNotFound(NotFound):
    code, message = "MARKET_NOT_FOUND", "Market not found."


class UpstreamUnavailable(DomainError):
    code, status, message = "UPSTREAM_UNAVAILABLE", 503, "Polymarket is unreachable and no odds are stored."
