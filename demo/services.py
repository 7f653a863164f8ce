"""Demo data for local use: a staff account with known credentials and a market catalogue."""

import json
from dataclasses import dataclass
from pathlib import Path

from accounts.models import User
from accounts.services import user_create
from polymarket.services import IngestSummary, markets_import

DEMO_MARKETS_FILE = Path(__file__).resolve().parent / "data" / "gamma_markets.json"
DEMO_STAFF_EMAIL = "admin@thisthat.local"
DEMO_STAFF_USERNAME = "admin"
DEMO_STAFF_PASSWORD = "thisthat-admin"


@dataclass(frozen=True)
class DemoSeeded:
    staff: User
    staff_created: bool
    markets: IngestSummary


def demo_seed() -> DemoSeeded:
    """Idempotent: the staff account is created once; the catalogue (Gamma format, through the same
    mapping and upsert as ingestion) is loaded again unchanged."""
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
    return DemoSeeded(staff=staff, staff_created=created, markets=markets)
