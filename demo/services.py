"""Demo data for local use: a staff account with known credentials, a market catalogue and a few
virtual stocks."""

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from accounts.models import User
from accounts.services import user_create
from polymarket.services import IngestSummary, markets_import
from stocks.models import Stock
from stocks.services import stock_create

DEMO_MARKETS_FILE = Path(__file__).resolve().parent / "data" / "gamma_markets.json"
DEMO_STAFF_EMAIL = "admin@thisthat.local"
DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "thisthat-admin"


# (symbol, name, description, base price, slope): the symbols of the product's original catalogue.
DEMO_STOCKS = [
    ("THIS", "THIS", "Rises with everyone who backs THIS.", Decimal("10"), Decimal("0.01")),
    ("THAT", "THAT", "Rises with everyone who backs THAT.", Decimal("10"), Decimal("0.01")),
    ("POLY", "Polymarket mirror", "A steeper curve: early believers gain faster.", Decimal("5"), Decimal("0.05")),
]


@dataclass(frozen=True)
class DemoSeeded:
    staff: User
    staff_created: bool
    markets: IngestSummary
    stocks_created: int = 0


def demo_seed() -> DemoSeeded:
    """Idempotent: the staff account and the demo stocks are created once; the catalogue (Gamma format,
    through the same mapping and upsert as ingestion) is loaded again unchanged."""
    staff = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
    created = staff is None
    if staff is None:
        staff = user_create(
            username=DEMO_STAFF_USERNAME,
            email=DEMO_STAFF_EMAIL,
            password=DEMO_STAFF_PASSWORD,
            is_staff=True,
            is_superuser=True,
            validate_password=False,
        )
    markets = markets_import(rows=json.loads(DEMO_MARKETS_FILE.read_text()))
    listed = set(Stock.objects.values_list("symbol", flat=True))
    stocks = 0
    for symbol, name, description, base, slope in DEMO_STOCKS:
        if symbol not in listed:
            stock_create(symbol=symbol, name=name, description=description, base_price=base, slope=slope)
            stocks += 1
    return DemoSeeded(staff=staff, staff_created=created, markets=markets, stocks_created=stocks)
