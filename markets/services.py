"""The only writers of markets."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify

from thisthat.errors import ValidationFailed
from thisthat.money import TRADABLE_ODDS_MAX, TRADABLE_ODDS_MIN

from .cache import listing_invalidate
from .dependents import markets_traded
from .errors import MarketClosed, MarketNotFound
from .locks import market_lock, markets_lock
from .maker import LIQUIDITY_MAX, LIQUIDITY_MIN, MakerState, maker_start
from .models import SETTLED_STATUSES, Market, MarketStatus, MarketType, OddsPoint, OddsSource, Resolution
from .odds import SUM_TOLERANCE, coherent_odds
from .signals import odds_synced

logger = logging.getLogger(__name__)

# Upstream fields an ingestion run may refresh on a market it already has.
_SYNCED_FIELDS = [
    "polymarket_gamma_id",
    "title",
    "description",
    "slug",
    "image_url",
    "this_option",
    "that_option",
    "this_token_id",
    "that_token_id",
    "volume",
    "liquidity",
    "volume_24h",
    "category",
    "category_slug",
    "expires_at",
    "status",
]
# What a bet was placed on: never changed by ingestion once a market has bets.
IDENTITY_FIELDS = ["this_option", "that_option", "this_token_id", "that_token_id"]
_ODDS_FIELDS = ["this_odds", "that_odds", "odds_updated_at"]
_CONFLICT_FIELDS = ["upstream_identity_conflict", "upstream_identity_conflict_at"]
# Ingested prices only replace odds that the odds sync has not refreshed this recently.
INGEST_ODDS_FRESH_SECONDS = 300


@dataclass(frozen=True)
class ExternalMarket:
    """A binary market as an upstream catalogue describes it, already validated."""

    polymarket_id: str
    polymarket_gamma_id: str
    title: str
    description: str
    slug: str
    image_url: str
    this_option: str
    that_option: str
    this_token_id: str
    that_token_id: str
    this_odds: Decimal
    that_odds: Decimal
    volume: Decimal
    liquidity: Decimal
    volume_24h: Decimal
    category: str
    expires_at: datetime | None
    closed: bool  # closed upstream, or no longer accepting orders


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    settled: int = 0  # resolved or cancelled here: never touched by ingestion
    identity_conflicts: int = 0  # traded markets whose labels or tokens changed upstream (kept ours)


@dataclass(frozen=True)
class OddsUpdate:
    market_id: UUID
    this_odds: Decimal
    that_odds: Decimal


def _status(item: ExternalMarket, now: datetime) -> str:
    expired = item.expires_at is not None and item.expires_at <= now
    return MarketStatus.CLOSED if item.closed or expired else MarketStatus.OPEN


def _synced_values(item: ExternalMarket, now: datetime) -> dict:
    return {
        "polymarket_gamma_id": item.polymarket_gamma_id,
        "title": item.title,
        "description": item.description,
        "slug": item.slug,
        "image_url": item.image_url,
        "this_option": item.this_option,
        "that_option": item.that_option,
        "this_token_id": item.this_token_id,
        "that_token_id": item.that_token_id,
        "volume": item.volume,
        "liquidity": item.liquidity,
        "volume_24h": item.volume_24h,
        "category": item.category,
        "category_slug": slugify(item.category)[:100] or "uncategorized",
        "expires_at": item.expires_at,
        "status": _status(item, now),
    }


def _upstream_identity(item: ExternalMarket) -> dict[str, str]:
    return {
        "thisOption": item.this_option,
        "thatOption": item.that_option,
        "thisTokenId": item.this_token_id,
        "thatTokenId": item.that_token_id,
    }


def _odds_in_our_order(market: Market, item: ExternalMarket) -> tuple[Decimal, Decimal] | None:
    """Upstream prices for our THIS and THAT, matched by token id (else by label) whatever order
    upstream lists the outcomes in now; None when upstream's outcomes are no longer ours."""
    ours_tokens, theirs_tokens = (market.this_token_id, market.that_token_id), (item.this_token_id, item.that_token_id)
    if all(ours_tokens) and all(theirs_tokens):
        ours, theirs = ours_tokens, theirs_tokens
    else:
        ours = (market.this_option.casefold(), market.that_option.casefold())
        theirs = (item.this_option.casefold(), item.that_option.casefold())
    if theirs == ours:
        return item.this_odds, item.that_odds
    if theirs == ours[::-1]:
        return item.that_odds, item.this_odds
    return None


def _refresh(market: Market, item: ExternalMarket, *, traded: bool, now: datetime, result: UpsertResult) -> bool:
    """Apply an upstream row to an unsettled market we have; True when something changed."""
    values = _synced_values(item, now)
    odds: tuple[Decimal, Decimal] | None = (item.this_odds, item.that_odds)
    changed = False
    if traded:
        for name in IDENTITY_FIELDS:
            del values[name]
        odds = _odds_in_our_order(market, item)
        upstream = _upstream_identity(item)
        ours = {key: getattr(market, name) for key, name in zip(upstream, IDENTITY_FIELDS, strict=True)}
        conflict = None if upstream == ours else upstream
        if conflict is not None:
            result.identity_conflicts += 1
        if conflict != market.upstream_identity_conflict:
            if conflict is not None:
                logger.warning(
                    "upstream changed the outcomes of a traded market; ours are kept",
                    extra={"market_id": str(market.pk), "ours": ours, "upstream": upstream},
                )
            market.upstream_identity_conflict = conflict
            market.upstream_identity_conflict_at = now if conflict is not None else None
            changed = True
    for name, value in values.items():
        if getattr(market, name) != value:
            setattr(market, name, value)
            changed = True
    odds_stale = market.odds_updated_at is None or (now - market.odds_updated_at).total_seconds() > (
        INGEST_ODDS_FRESH_SECONDS
    )
    if odds is not None and odds_stale and (market.this_odds, market.that_odds) != odds:
        market.this_odds, market.that_odds = odds
        market.odds_updated_at = now
        changed = True
    return changed


@transaction.atomic
def markets_upsert_external(*, markets: Sequence[ExternalMarket]) -> UpsertResult:
    """Create or refresh Polymarket markets by conditionId in bulk: one read, one insert and one
    update whatever the batch size. Settled markets are left as they are; markets with bets keep
    their outcome labels, order and token ids (an upstream change is recorded for staff instead)."""
    now = timezone.now()
    result = UpsertResult()
    by_id = {item.polymarket_id: item for item in markets}
    # Locked before asking who has bets: a bet (which shares the row lock) can't slip in between.
    known = Market.objects.filter(polymarket_id__in=by_id).values_list("pk", flat=True)
    existing = {market.polymarket_id: market for market in markets_lock(market_ids=list(known))}
    traded = markets_traded([market.pk for market in existing.values()])
    to_create, to_update = [], []
    for polymarket_id, item in by_id.items():
        market = existing.get(polymarket_id)
        if market is None:
            to_create.append(
                Market(
                    market_type=MarketType.POLYMARKET,
                    polymarket_id=polymarket_id,
                    this_odds=item.this_odds,
                    that_odds=item.that_odds,
                    odds_updated_at=now,
                    listed_at=now,
                    created_at=now,
                    updated_at=now,
                    **_synced_values(item, now),
                )
            )
        elif market.status in SETTLED_STATUSES:
            result.settled += 1
        elif _refresh(market, item, traded=market.pk in traded, now=now, result=result):
            market.updated_at = now
            to_update.append(market)
        else:
            result.unchanged += 1
    Market.objects.filter(pk__in=[market.pk for market in existing.values()]).exclude(
        status__in=SETTLED_STATUSES
    ).update(listed_at=now)
    if to_create:
        # A concurrent writer (the ingestion lock makes one unlikely) fails this chunk; the next run redoes it.
        Market.objects.bulk_create(to_create)
    if to_update:
        Market.objects.bulk_update(to_update, [*_SYNCED_FIELDS, *_ODDS_FIELDS, *_CONFLICT_FIELDS, "updated_at"])
    result.created, result.updated = len(to_create), len(to_update)
    if to_create or to_update:
        listing_invalidate()
    return result


@transaction.atomic
def market_odds_update_many(*, updates: Sequence[OddsUpdate]) -> int:
    """Store fresh odds on open markets (one UPDATE); markets settled meanwhile are left alone."""
    if not updates:
        return 0
    now = timezone.now()
    rows = [
        Market(id=update.market_id, this_odds=update.this_odds, that_odds=update.that_odds, odds_updated_at=now)
        for update in updates
    ]
    markets_lock(market_ids=[update.market_id for update in updates])
    updated = Market.objects.filter(status=MarketStatus.OPEN).bulk_update(rows, _ODDS_FIELDS)
    if updated:
        listing_invalidate()
        odds = {update.market_id: (update.this_odds, update.that_odds) for update in updates}
        transaction.on_commit(lambda: odds_synced.send(sender=Market, odds=odds, synced_at=now), robust=True)
    return updated


def validate_staff_odds(this_odds: Decimal, that_odds: Decimal) -> None:
    for name, odds in (("thisOdds", this_odds), ("thatOdds", that_odds)):
        if not TRADABLE_ODDS_MIN <= odds <= TRADABLE_ODDS_MAX:
            raise ValidationFailed.on(name, f"Odds must lie between {TRADABLE_ODDS_MIN} and {TRADABLE_ODDS_MAX}.")
    if coherent_odds(this_odds, that_odds) is None:
        raise ValidationFailed.on("thatOdds", f"THIS and THAT odds must add up to 1 (± {SUM_TOLERANCE}).")


def validate_maker_liquidity(liquidity: Decimal) -> None:
    if not LIQUIDITY_MIN <= liquidity <= LIQUIDITY_MAX:
        raise ValidationFailed.on(
            "makerLiquidity", f"The market maker's liquidity must lie between {LIQUIDITY_MIN:,} and {LIQUIDITY_MAX:,}."
        )


def _maker_started(market: Market, *, this_odds: Decimal, that_odds: Decimal, liquidity: Decimal, now: datetime):
    """Set a credits market's maker to start at the staff odds (THIS's share of the two, so odds that
    add up to 1 ± 0.02 become exactly 1), and record them as the first point of its history."""
    validate_staff_odds(this_odds, that_odds)
    validate_maker_liquidity(liquidity)
    state = maker_start(liquidity=liquidity, this_odds=this_odds / (this_odds + that_odds))
    _maker_apply(market, state)
    market.liquidity = liquidity  # the `liquidity` shown and sorted on: the maker's b for credits markets
    market.odds_updated_at = now


def _maker_apply(market: Market, state: MakerState) -> None:
    market.maker_liquidity = state.liquidity
    market.maker_this_shares, market.maker_that_shares = state.this_shares, state.that_shares
    market.this_odds, market.that_odds = state.odds()


def _odds_point(market: Market, *, source: str, at: datetime) -> OddsPoint:
    return OddsPoint(
        market=market, this_odds=market.this_odds, that_odds=market.that_odds, source=source, recorded_at=at
    )


def validate_staff_expiry(expires_at: datetime | None, *, now: datetime) -> None:
    """A staff market's expiry, when it has one, is in the future: one already past would be listed
    as open while refusing every bet."""
    if expires_at is not None and expires_at <= now:
        raise ValidationFailed.on("expiresAt", "The expiry must be in the future (times are UTC).")


@transaction.atomic
def market_create_credits(
    *,
    title: str,
    this_odds: Decimal,
    that_odds: Decimal,
    maker_liquidity: Decimal | None = None,
    description: str = "",
    this_option: str = "Yes",
    that_option: str = "No",
    category: str = "Uncategorized",
    expires_at: datetime | None = None,
    image_url: str = "",
) -> Market:
    """A staff-run market priced by our market maker, starting at the odds staff set, with liquidity
    `maker_liquidity` (MARKET_MAKER_DEFAULT_LIQUIDITY when not given)."""
    now = timezone.now()
    validate_staff_expiry(expires_at, now=now)
    market = Market(
        market_type=MarketType.CREDITS,
        title=title,
        slug=slugify(title)[:255],
        description=description,
        this_option=this_option,
        that_option=that_option,
        category=category,
        category_slug=slugify(category)[:100] or "uncategorized",
        expires_at=expires_at,
        image_url=image_url,
        created_at=now,
        updated_at=now,
    )
    liquidity = settings.MARKET_MAKER_DEFAULT_LIQUIDITY if maker_liquidity is None else maker_liquidity
    _maker_started(market, this_odds=this_odds, that_odds=that_odds, liquidity=liquidity, now=now)
    market.save(force_insert=True)
    _odds_point(market, source=OddsSource.STAFF, at=now).save()
    listing_invalidate()
    return market


STAFF_EDITABLE_FIELDS = (
    "title",
    "description",
    "this_option",
    "that_option",
    "this_odds",
    "that_odds",
    "maker_liquidity",
    "category",
    "expires_at",
    "image_url",
)
# The market maker's starting point: staff may change it until the first bet, never after.
MAKER_FIELDS = ("this_odds", "that_odds", "maker_liquidity")


@transaction.atomic
def market_update_credits(*, market_id: UUID, changes: dict[str, Any]) -> Market:
    """Staff edits of a credits market (STAFF_EDITABLE_FIELDS only). The odds and the liquidity start
    the market maker again, so they may change only while the market has no bets."""
    unknown = set(changes) - set(STAFF_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable by staff: {sorted(unknown)}")
    market = market_lock(market_id=market_id, exclusive=True)
    if market.market_type != MarketType.CREDITS:
        raise MarketNotFound()
    if market.status in SETTLED_STATUSES:
        raise MarketClosed("A settled market cannot be edited.")
    now = timezone.now()
    maker_changes = {
        name: value for name, value in changes.items() if name in MAKER_FIELDS and getattr(market, name) != value
    }
    if maker_changes and markets_traded([market.pk]):
        field = {"this_odds": "thisOdds", "that_odds": "thatOdds", "maker_liquidity": "makerLiquidity"}
        raise ValidationFailed.on(
            field[next(iter(maker_changes))],
            "This market has bets: its odds now come from its market maker, and its liquidity is fixed.",
        )
    if "expires_at" in changes and changes["expires_at"] != market.expires_at:
        validate_staff_expiry(changes["expires_at"], now=timezone.now())
    for name, value in changes.items():
        if name not in MAKER_FIELDS:
            setattr(market, name, value)
    if maker_changes:
        _maker_started(
            market,
            this_odds=changes.get("this_odds", market.this_odds),
            that_odds=changes.get("that_odds", market.that_odds),
            liquidity=changes.get("maker_liquidity", market.maker_liquidity),
            now=now,
        )
        _odds_point(market, source=OddsSource.STAFF, at=now).save()
    market.category_slug = slugify(market.category)[:100] or "uncategorized"
    market.updated_at = now
    market.save()
    listing_invalidate()
    return market


_MAKER_STATE_FIELDS = [
    "maker_this_shares",
    "maker_that_shares",
    "this_odds",
    "that_odds",
    "odds_updated_at",
    "updated_at",
]


def market_maker_trade(*, market: Market, state: MakerState, at: datetime) -> Market:
    """Store the maker's state after a trade (its odds follow) and add the odds to the market's
    history. The caller holds the market's exclusive lock (markets.locks.market_lock_for_trade) in
    the transaction that records the trade; the listing cache is left alone (pages are at most 60 s
    old; a market's detail and quotes are always current)."""
    if not market.has_maker or state.liquidity != market.maker_liquidity:
        raise ValueError(f"market {market.pk} has no such market maker")
    _maker_apply(market, state)
    market.odds_updated_at = market.updated_at = at
    market.save(update_fields=_MAKER_STATE_FIELDS)
    _odds_point(market, source=OddsSource.TRADE, at=at).save()
    return market


@transaction.atomic
def market_mark_resolved(
    *, market_id: UUID, outcome: str, source: str, resolved_by_id: UUID | None = None
) -> tuple[Market, bool]:
    """Record a market's outcome (this/that → resolved, invalid → cancelled) with who and when.

    Returns (market, changed). The same outcome again changes nothing; a different one is refused.
    Locks the market FOR UPDATE, so it waits for bets in flight and later bets see it settled.
    """
    market = market_lock(market_id=market_id, exclusive=True)
    if market.status in SETTLED_STATUSES:
        if market.resolution == outcome:
            return market, False
        raise MarketClosed(
            f"This market is already resolved as {market.resolution}.", details={"resolution": market.resolution}
        )
    now = timezone.now()
    market.status = MarketStatus.CANCELLED if outcome == Resolution.INVALID else MarketStatus.RESOLVED
    market.resolution = outcome
    market.resolution_source = source
    market.resolved_by_id = resolved_by_id
    market.resolved_at = now
    market.updated_at = now
    market.upstream_result_conflict, market.upstream_result_conflict_at = None, None  # re-checked from now on
    market.save(
        update_fields=[
            "status",
            "resolution",
            "resolution_source",
            "resolved_by",
            "resolved_at",
            "updated_at",
            "upstream_result_conflict",
            "upstream_result_conflict_at",
        ]
    )
    listing_invalidate()
    return market, True


def market_mark_settled(*, market_id: UUID, settlement_round: int) -> bool:
    """Stamp the end of a settlement (the first time only), unless the market was unresolved since
    (its round moved on); returns whether the market is still settled in that round."""
    return bool(
        Market.objects.filter(pk=market_id, status__in=SETTLED_STATUSES, settlement_round=settlement_round).update(
            settled_at=Coalesce(F("settled_at"), Value(timezone.now()))
        )
    )


@transaction.atomic
def market_mark_unresolved(*, market_id: UUID, reopen: bool) -> Market:
    """Take a settled market back to before its resolution (a correction; betting reverses the
    settlement in the same transaction): `open` when `reopen` is asked, it is a credits market and
    it has not expired, else `closed`. The settlement round moves on, so the next settlement pays
    again, once. Polymarket markets always go back to `closed` (upstream closed them)."""
    market = market_lock(market_id=market_id, exclusive=True)
    if market.status not in SETTLED_STATUSES:
        raise MarketClosed("This market has not been resolved.", details={"status": market.status})
    now = timezone.now()
    expired = market.expires_at is not None and market.expires_at <= now
    can_open = reopen and market.market_type == MarketType.CREDITS and not expired
    market.status = MarketStatus.OPEN if can_open else MarketStatus.CLOSED
    market.resolution = None
    market.resolution_source = ""
    market.resolved_by_id = None
    market.resolved_at = None
    market.settled_at = None
    market.settlement_round += 1
    market.upstream_result_conflict, market.upstream_result_conflict_at = None, None
    market.updated_at = now
    market.save(
        update_fields=[
            "status",
            "resolution",
            "resolution_source",
            "resolved_by",
            "resolved_at",
            "settled_at",
            "settlement_round",
            "upstream_result_conflict",
            "upstream_result_conflict_at",
            "updated_at",
        ]
    )
    listing_invalidate()
    return market


@transaction.atomic
def markets_record_upstream_results(*, results: dict[UUID, str | None]) -> int:
    """Remember, for settled markets, the final result upstream gives when it differs from ours
    (None: it agrees); returns how many markets are newly flagged."""
    now = timezone.now()
    flagged = 0
    for market in markets_lock(market_ids=list(results), status__in=SETTLED_STATUSES):
        upstream = results[market.pk]
        conflict = upstream if upstream is not None and upstream != market.resolution else None
        if conflict == market.upstream_result_conflict:
            continue
        if conflict is not None:
            flagged += 1
            logger.warning(
                "upstream result differs from our resolution",
                extra={"market_id": str(market.pk), "ours": market.resolution, "upstream": conflict},
            )
        market.upstream_result_conflict = conflict
        market.upstream_result_conflict_at = now if conflict is not None else None
        market.save(update_fields=["upstream_result_conflict", "upstream_result_conflict_at"])
    return flagged


@transaction.atomic
def markets_close(*, market_ids: Sequence[UUID]) -> int:
    """Close open markets to bets and cash-outs (upstream closed them or stopped taking orders);
    their result may still be pending. Returns how many were open."""
    still_open = [market.pk for market in markets_lock(market_ids=market_ids, status=MarketStatus.OPEN)]
    closed = Market.objects.filter(pk__in=still_open).update(status=MarketStatus.CLOSED, updated_at=timezone.now())
    if closed:
        listing_invalidate()
    return closed


@transaction.atomic
def market_mark_checked(*, market_ids: Sequence[UUID]) -> None:
    """Remember when the resolution poller last asked upstream about these markets."""
    Market.objects.filter(pk__in=market_ids).update(resolution_checked_at=timezone.now())
