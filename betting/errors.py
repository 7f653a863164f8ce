from thisthat.errors import Conflict, DomainError, NotFound


class InvalidBetAmount(DomainError):
    code, status, message = "INVALID_BET_AMOUNT", 400, "Bets are 10 to 10,000 credits with at most 2 decimals."


class OddsUnavailable(Conflict):
    code, message = "ODDS_UNAVAILABLE", "Odds for this side are unavailable right now."


class OddsChanged(Conflict):
    code, message = "ODDS_CHANGED", "The odds moved more than you allowed; check them and try again."


class BetNotFound(NotFound):
    code, message = "BET_NOT_FOUND", "Bet not found."


class BetNotSellable(Conflict):
    code, message = "BET_NOT_SELLABLE", "This bet can no longer be sold."


class MarketNotResolved(Conflict):
    code, message = "MARKET_NOT_RESOLVED", "This market has no outcome yet."


class PriceImpactTooLarge(Conflict):
    code, message = "PRICE_IMPACT_TOO_LARGE", "This bet would move the odds too far at once; bet less."


class OddsLimitReached(Conflict):
    code, message = "ODDS_LIMIT_REACHED", "This trade would push the odds past the tradable limits (0.01 to 0.99)."
