"""Bets: placement, cash-out, resolution and settlement. Lock order everywhere: the market, then
the bet, then users in id order (through the ledger)."""

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from economy.models import LedgerKind
from economy.services import Posting, ledger_post, ledger_post_many
from markets import services as market_services
from markets.errors import MarketClosed
from markets.locks import market_lock
from markets.models import SETTLED_STATUSES, Market, MarketStatus, MarketType, Resolution
from markets.odds import price_cache_get
from markets.selectors import market_get
from thisthat.jobs import JobSummary

from .errors import BetNotSellable, MarketNotResolved, OddsChanged
from .models import Bet, BetStatus
from .rules import (
    DEFAULT_MAX_SLIPPAGE,
    cash_out_value,
    ensure_fresh,
    ensure_tradable,
    ensure_valid_amount,
    payout_for,
    value_fell_too_far,
)
from .selectors import bet_get_for_user
from .signals import bets_changed, market_settled

logger = logging.getLogger(__name__)

SETTLEMENT_CHUNK = 1000


def _ensure_open(market: Market, now: datetime) -> None:
    if market.status != MarketStatus.OPEN or (market.expires_at is not None and market.expires_at <= now):
        # The status clients see: past its expiry an open market is closed.
        raise MarketClosed(details={"status": market.current_status, "expiresAt": market.expires_at})


def _trade_odds(market: Market, side: str, *, now: datetime) -> Decimal:
    """The odds a bet or cash-out is priced at. Polymarket odds must be fresh: the newer of the
    shared price cache and the stored odds, younger than ODDS_MAX_AGE_SECONDS. Staff markets' odds
    are ours and never go stale."""
    odds = market.odds_for(side)
    if market.market_type == MarketType.POLYMARKET:
        as_of = market.odds_updated_at
        cached = price_cache_get(market.id)
        if cached is not None and (as_of is None or cached.fetched_at > as_of):
            odds, as_of = cached.odds.for_side(side), cached.fetched_at
        ensure_fresh(as_of, now=now, max_age_seconds=settings.ODDS_MAX_AGE_SECONDS)
    return ensure_tradable(odds)


@dataclass(frozen=True)
class BetPlaced:
    bet: Bet
    new_balance: Decimal


@transaction.atomic
def bet_place(
    *,
    user_id: UUID,
    market_id: UUID | str,
    side: str,
    amount: Decimal,
    expected_odds: Decimal | None = None,
    max_slippage: Decimal = DEFAULT_MAX_SLIPPAGE,
) -> BetPlaced:
    """Stake `amount` on `side` at the market's current odds and debit it through the ledger."""
    ensure_valid_amount(amount)
    market = market_lock(market_id=market_id, exclusive=False)
    now = timezone.now()
    _ensure_open(market, now)
    odds = _trade_odds(market, side, now=now)
    if expected_odds is not None and abs(odds - expected_odds) > max_slippage:
        raise OddsChanged(details={"currentOdds": odds, "expectedOdds": expected_odds, "maxSlippage": max_slippage})
    bet = Bet.objects.create(
        user_id=user_id,
        market=market,
        side=side,
        amount=amount,
        odds_at_bet=odds,
        potential_payout=payout_for(amount, odds),
        placed_at=now,
    )
    entry = ledger_post(
        user_id=user_id,
        amount=-amount,
        kind=LedgerKind.BET_PLACED,
        reference_id=bet.id,
        volume=amount,
        description=f"Bet on {side.upper()}: {market.title}"[:255],
    )
    log = {"bet_id": str(bet.id), "user_id": str(user_id), "market_id": str(market.id), "side": side}
    log |= {"amount": str(amount), "odds": str(odds)}

    def committed() -> None:
        logger.info("bet placed", extra=log)
        bets_changed.send(sender=Bet, user_id=user_id)

    transaction.on_commit(committed, robust=True)
    return BetPlaced(bet=bet, new_balance=entry.balance_after)


@dataclass(frozen=True)
class BetSold:
    bet: Bet
    credits_received: Decimal
    new_balance: Decimal


@transaction.atomic
def bet_sell(*, user_id: UUID, bet_id: UUID | str, expected_value: Decimal | None = None) -> BetSold:
    """Cash a pending bet out at the current odds of its side; a bet is sold at most once."""
    bet = bet_get_for_user(user_id=user_id, bet_id=bet_id)
    market = market_lock(market_id=bet.market_id, exclusive=False)
    bet = Bet.objects.select_for_update().get(pk=bet.pk)
    if bet.status != BetStatus.PENDING:
        raise BetNotSellable(details={"status": bet.status})
    now = timezone.now()
    try:
        _ensure_open(market, now)
    except MarketClosed as exc:
        raise BetNotSellable("This bet's market is not open.", details={"marketStatus": market.current_status}) from exc
    value = cash_out_value(bet.potential_payout, _trade_odds(market, bet.side, now=now))
    if expected_value is not None and value_fell_too_far(value, expected_value):
        raise OddsChanged(details={"currentValue": value, "expectedValue": expected_value})
    bet.status, bet.actual_payout, bet.resolved_at = BetStatus.SOLD, value, now
    bet.save(update_fields=["status", "actual_payout", "resolved_at"])
    entry = ledger_post(
        user_id=user_id,
        amount=value,
        kind=LedgerKind.BET_SALE,
        reference_id=bet.id,
        pnl=value - bet.amount,
        description=f"Cash-out: {market.title}"[:255],
    )
    bet.market = market
    transaction.on_commit(lambda: bets_changed.send(sender=Bet, user_id=user_id), robust=True)
    return BetSold(bet=bet, credits_received=value, new_balance=entry.balance_after)


def market_resolve(*, market_id: UUID | str, outcome: str, source: str, resolved_by_id: UUID | None = None) -> Market:
    """Record the outcome (this, that or invalid) and settle every bet after commit.

    The same outcome again is a no-op (it only re-queues an unfinished settlement); another outcome
    is refused with MARKET_CLOSED.
    """
    with transaction.atomic():
        market, changed = market_services.market_mark_resolved(
            market_id=market_id, outcome=outcome, source=source, resolved_by_id=resolved_by_id
        )
        if changed or market.settled_at is None:
            # Robust: a broker hiccup must not fail the resolution; the settlement sweep re-queues it.
            transaction.on_commit(lambda: _enqueue_settlement(market.id), robust=True)
    if changed:
        logger.info("market resolved", extra={"market_id": str(market.id), "outcome": outcome, "source": source})
    return market


def _enqueue_settlement(market_id: UUID) -> None:
    from .tasks import settle_market  # the task module imports this one

    settle_market.delay(str(market_id))


@dataclass
class SettlementSummary(JobSummary):
    market_id: UUID
    outcome: str
    chunks: int = 0
    bets: Counter = field(default_factory=Counter)
    paid: Decimal = Decimal(0)


def _settled_values(outcome: str) -> dict:
    """Column values for pending bets of a market that resolved to `outcome`, for one UPDATE."""
    if outcome == Resolution.INVALID:
        return {"status": Value(BetStatus.CANCELLED), "actual_payout": F("amount")}
    won = When(side=outcome, then=Value(BetStatus.WON))
    return {
        "status": Case(won, default=Value(BetStatus.LOST)),
        "actual_payout": Case(When(side=outcome, then=F("potential_payout")), default=Value(Decimal(0))),
    }


@transaction.atomic
def _settle_chunk(*, market_id: UUID, chunk_size: int) -> list[Bet]:
    """Settle up to `chunk_size` pending bets in one transaction: all of them, or none."""
    market = market_lock(market_id=market_id, exclusive=True)  # one chunk at a time, after sales in flight
    ids = list(
        Bet.objects.select_for_update()
        .filter(market_id=market_id, status=BetStatus.PENDING)
        .order_by("id")
        .values_list("id", flat=True)[:chunk_size]
    )
    if not ids:
        return []
    Bet.objects.filter(pk__in=ids).update(resolved_at=timezone.now(), **_settled_values(market.resolution))
    bets = list(Bet.objects.filter(pk__in=ids).order_by("user_id", "id"))
    kind = LedgerKind.BET_REFUND if market.resolution == Resolution.INVALID else LedgerKind.BET_PAYOUT
    label = "Refund" if kind == LedgerKind.BET_REFUND else "Payout"
    postings = [
        Posting(
            user_id=bet.user_id,
            amount=bet.actual_payout,
            kind=kind,
            reference_id=bet.id,
            description=f"{label}: {market.title}"[:255],
        )
        for bet in bets
        if bet.actual_payout > 0
    ]
    pnl: dict[UUID, Decimal] = defaultdict(Decimal)
    for bet in bets:
        if bet.status != BetStatus.CANCELLED:
            pnl[bet.user_id] += bet.actual_payout - bet.amount
    ledger_post_many(postings=postings, pnl=pnl)
    return bets


def market_settle(
    *, market_id: UUID | str, chunk_size: int = SETTLEMENT_CHUNK, progress: Callable[[str], None] | None = None
) -> SettlementSummary:
    """Settle every pending bet of a resolved market, chunk by chunk.

    Resumable and safe to run twice at once: each chunk commits alone under the market lock and
    only picks bets still pending; the ledger's unique (bet, kind) constraint pays a bet at most once.
    """
    market = market_get(market_id=market_id)
    if market.status not in SETTLED_STATUSES:
        raise MarketNotResolved(details={"status": market.status})
    summary = SettlementSummary(market_id=market.id, outcome=market.resolution)
    while bets := _settle_chunk(market_id=market.id, chunk_size=chunk_size):
        summary.chunks += 1
        summary.bets.update(bet.status for bet in bets)
        summary.paid += sum((bet.actual_payout for bet in bets), Decimal(0))
        if progress:
            progress(f"chunk {summary.chunks}: {len(bets)} bets settled, {summary.bets.total()} so far")
    market_services.market_mark_settled(market_id=market.id)
    transaction.on_commit(lambda: market_settled.send(sender=Bet, market_id=market.id), robust=True)
    return summary.finished(logger, "market settled")
