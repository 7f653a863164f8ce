"""How precise money and odds are, in one place (SPEC §4): credits are Decimal(18, 2), odds
Decimal(5, 4); never float. Bets and cash-outs only take odds within the tradable bounds."""

from decimal import Decimal

from django.db import models

CENT = Decimal("0.01")
ODDS_PLACES = Decimal("0.0001")
CREDITS = {"max_digits": 18, "decimal_places": 2}
ODDS = {"max_digits": 5, "decimal_places": 4}
UPSTREAM_AMOUNT = {"max_digits": 20, "decimal_places": 2}  # Polymarket's volume and liquidity, in USD
TRADABLE_ODDS_MIN, TRADABLE_ODDS_MAX = Decimal("0.01"), Decimal("0.99")


def credits_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(**CREDITS, **kwargs)


def odds_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(**ODDS, **kwargs)
