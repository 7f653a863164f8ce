"""Builders shared by the markets tests."""

from datetime import UTC, datetime
from decimal import Decimal

from markets.services import ExternalMarket

# SPEC §5, the market object — spelled exactly as on the wire (`maker`: the market maker of a credits
# market, null on Polymarket ones).
MARKET_FIELDS = {
    "maker",
    "id",
    "polymarketId",
    "slug",
    "title",
    "description",
    "thisOption",
    "thatOption",
    "thisOdds",
    "thatOdds",
    "liquidity",
    "volume",
    "category",
    "marketType",
    "status",
    "resolution",
    "imageUrl",
    "expiresAt",
    "resolvedAt",
    "oddsUpdatedAt",
    "createdAt",
}


def external_market(**overrides) -> ExternalMarket:
    """An upstream binary market as ingestion hands it to `markets_upsert_external`."""
    values = {
        "polymarket_id": "0x" + "ab" * 32,
        "polymarket_gamma_id": "512345",
        "title": "Will the upstream market resolve Yes?",
        "description": "An upstream market.",
        "slug": "will-the-upstream-market-resolve-yes",
        "image_url": "https://polymarket-upload.s3.amazonaws.com/market.png",
        "this_option": "Yes",
        "that_option": "No",
        "this_token_id": "1" * 70,
        "that_token_id": "2" * 70,
        "this_odds": Decimal("0.4200"),
        "that_odds": Decimal("0.5800"),
        "volume": Decimal("123456.78"),
        "liquidity": Decimal("4567.89"),
        "volume_24h": Decimal("890.12"),
        "category": "Crypto",
        "expires_at": datetime(2027, 6, 30, 12, 0, tzinfo=UTC),
        "closed": False,
    }
    return ExternalMarket(**{**values, **overrides})


def parse_timestamp(value: str) -> datetime:
    """An API timestamp, which must be ISO-8601 in UTC (`Z` or `+00:00`)."""
    assert value.endswith(("Z", "+00:00")), value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


MAKER_FIELDS = {"liquidity", "thisShares", "thatShares"}
