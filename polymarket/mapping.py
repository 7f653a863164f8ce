"""Gamma market payload → ExternalMarket (SPEC §7), as pure functions. A row that cannot be a
binary market raises Skip with a reason that ingestion counts; nothing here touches the network."""

import json
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from markets.odds import IncoherentOdds, OddsPair, odds_checked
from markets.services import ExternalMarket
from thisthat.money import CENT

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


# Dates outside this window are hostile or broken (year 1 or 9999 cannot even be read back by psycopg).
SANE_DATES = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
# C0/C1 control characters and lone surrogates (PostgreSQL refuses NUL; UTF-8 refuses surrogates).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r]+")
TOKEN_ID = re.compile(r"^[0-9]{1,100}$")


def _end_date(value: Any) -> datetime | None:
    """`endDate` in UTC, or None when Gamma gives none; a date that cannot be one is a Skip."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Skip("bad_end_date")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise Skip("bad_end_date") from exc
    try:
        parsed = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:  # e.g. year 1 at +01:00 is year 0 in UTC
        raise Skip("end_date_out_of_range") from exc
    if not SANE_DATES[0] <= parsed < SANE_DATES[1]:
        raise Skip("end_date_out_of_range")
    return parsed


def clean_text(value: Any, limit: int, *, multiline: bool = False) -> str:
    """Upstream text as plain text: control characters dropped, and line breaks folded to spaces
    unless the field may hold several lines. Stored as text; templates and JSON escape it."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", value)
    if not multiline:
        text = _LINE_BREAKS.sub(" ", text)
    return text.strip()[:limit].strip()


def _text(value: Any, limit: int) -> str:
    return clean_text(value, limit)


def _category(row: dict) -> str:
    tags = row.get("tags")
    if isinstance(tags, list):
        for tag in tags[:1]:
            label = _text(tag.get("label"), 100) if isinstance(tag, dict) else ""
            if label:
                return label
    return UNCATEGORIZED


_INCOHERENT_REASONS = {"out_of_range": "price_out_of_range", "bad_sum": "prices_do_not_sum_to_one"}


def _odds(row: dict) -> OddsPair:
    if row.get("outcomePrices") in (None, "", "[]"):
        raise Skip("missing_prices")
    raw = json_list(row.get("outcomePrices"))
    prices = [decimal_or_none(value) for value in raw] if raw is not None else []
    if len(prices) != 2 or None in prices:
        raise Skip("unparseable_prices")
    try:
        return odds_checked(*prices)
    except IncoherentOdds as exc:
        raise Skip(_INCOHERENT_REASONS.get(exc.reason, "unparseable_prices")) from exc


def _tokens(row: dict) -> tuple[str, str]:
    """The two CLOB token ids (digits only), or none at all."""
    tokens = json_list(row.get("clobTokenIds")) or []
    tokens = [str(token).strip() for token in tokens if isinstance(token, str | int) and not isinstance(token, bool)]
    if len(tokens) == 2 and all(TOKEN_ID.match(token) for token in tokens) and tokens[0] != tokens[1]:
        return tokens[0], tokens[1]
    return "", ""


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
    labels = [clean_text(outcome, 100) if isinstance(outcome, str | int | float) else "" for outcome in outcomes]
    if not all(labels) or labels[0].casefold() == labels[1].casefold():
        raise Skip("bad_outcome_labels")
    title = _text(row.get("question"), 500)
    if not title:
        raise Skip("missing_title")
    odds = _odds(row)
    expires_at = _end_date(row.get("endDate"))
    this_token, that_token = _tokens(row)
    image = _text(row.get("image"), 1000)
    return ExternalMarket(
        polymarket_id=condition_id.strip(),
        polymarket_gamma_id=_text(str(row.get("id") or ""), 32),
        title=title,
        description=clean_text(row.get("description"), 20_000, multiline=True),
        slug=_text(row.get("slug"), 255),
        image_url=image if image.startswith(("https://", "http://")) and " " not in image else "",
        this_option=labels[0],
        that_option=labels[1],
        this_token_id=this_token,
        that_token_id=that_token,
        this_odds=odds.this,
        that_odds=odds.that,
        volume=_amount(row, "volumeNum", "volume"),
        liquidity=_amount(row, "liquidityNum", "liquidity"),
        volume_24h=_amount(row, "volume24hr", "volume24hrClob"),
        category=_category(row),
        expires_at=expires_at,
        # Not accepting orders is closed to bets here, whatever the oracle still has to say.
        closed=row.get("closed") is True or row.get("acceptingOrders") is False,
    )
