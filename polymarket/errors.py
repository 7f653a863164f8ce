from thisthat.errors import DomainError


class PolymarketUnavailable(DomainError):
    """A user read needs Polymarket, which is unreachable, and nothing is stored or cached."""

    code, status, message = "UPSTREAM_UNAVAILABLE", 503, "Polymarket is unreachable and no odds are stored."
