"""Gamma market payload → ExternalMarket (SPEC §7), as pure functions. A row that cannot be a
binary market raises Skip with a reason that ingestion counts; nothing here touches the network."""

import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from markets.services import ExternalMarket

CENT = Decimal("0.01")
ODDS_PLACES = Decimal("0.0001")
PRICE_SUM_TOLERANCE = Decimal("0.02")
UNCATEGORIZED = "Uncategorized"
CONDITION_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


class Skip(Exception):
    """The row is not ingested; `reason` is a stable label for counting."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def json_list(value: Any) -> list | None:
    """Gamma sends arrays JSON-encoded inside strings; accept real arrays too."""
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, list) else None
    return None


def decimal_or_none(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _amount(row: dict, number_key: str, string_key: str) -> Decimal:
    """`volumeNum` else `volume` (and the same for liquidity); unusable or negative → 0."""
    for key in (number_key, string_key):
        value = decimal_or_none(row.get(key))
        if value is not None and value >= 0:
            return min(value, Decimal("1e17")).quantize(CENT, ROUND_HALF_UP)
    return Decimal(0)


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _text(value: Any, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _category(row: dict) -> str:
    tags = row.get("tags")
    if isinstance(tags, list):
        for tag in tags[:1]:
            label = _text(tag.get("label"), 100) if isinstance(tag, dict) else ""
            if label:
                return label
    return UNCATEGORIZED


def _odds(row: dict) -> tuple[Decimal, Decimal]:
    if row.get("outcomePrices") in (None, "", "[]"):
        raise Skip("missing_prices")
    raw = json_list(row.get("outcomePrices"))
    prices = [decimal_or_none(value) for value in raw] if raw is not None else []
    if len(prices) != 2 or None in prices:
        raise Skip("unparseable_prices")
    if any(not 0 <= price <= 1 for price in prices):
        raise Skip("price_out_of_range")
    if abs(sum(prices) - 1) > PRICE_SUM_TOLERANCE:
        raise Skip("prices_do_not_sum_to_one")
    this_odds, that_odds = (price.quantize(ODDS_PLACES, ROUND_HALF_UP) for price in prices)
    return this_odds, that_odds


def gamma_to_market(row: Any) -> ExternalMarket:
    if not isinstance(row, dict):
        raise Skip("malformed")
    if row.get("archived") is True:
        raise Skip("archived")
    condition_id = row.get("conditionId")
    if not isinstance(condition_id, str) or not condition_id.strip():
        raise Skip("not_deployed")
    if not CONDITION_ID.match(condition_id.strip()):
        raise Skip("invalid_condition_id")
    outcomes = json_list(row.get("outcomes"))
    if outcomes is None or len(outcomes) != 2:
        raise Skip("not_binary")
    title = _text(row.get("question"), 500)
    if not title:
        raise Skip("missing_title")
    this_odds, that_odds = _odds(row)
    tokens = json_list(row.get("clobTokenIds")) or []
    tokens = [str(token) for token in tokens] if len(tokens) == 2 else ["", ""]
    image = _text(row.get("image"), 1000)
    return ExternalMarket(
        polymarket_id=condition_id.strip(),
        polymarket_gamma_id=str(row.get("id") or "")[:32],
        title=title,
        description=_text(row.get("description"), 20_000),
        slug=_text(row.get("slug"), 255),
        image_url=image if image.startswith(("https://", "http://")) else "",
        this_option=_text(str(outcomes[0]), 100) or "Yes",
        that_option=_text(str(outcomes[1]), 100) or "No",
        this_token_id=tokens[0][:100],
        that_token_id=tokens[1][:100],
        this_odds=this_odds,
        that_odds=that_odds,
        volume=_amount(row, "volumeNum", "volume"),
        liquidity=_amount(row, "liquidityNum", "liquidity"),
        volume_24h=_amount(row, "volume24hr", "volume24hrClob"),
        category=_category(row),
        expires_at=_datetime(row.get("endDate")),
        closed=row.get("closed") is True,
    )
