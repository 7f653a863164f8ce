"""Bets: placement, cash-out, resolution and settlement. Lock order everywhere: the market, then
the bet, then users in id order (through the ledger)."""

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from activity.models import ActivityKind
from activity.services import activity_record
from economy.models import LedgerKind
from economy.selectors import settlement_postings
from economy.services import Posting, ledger_post, ledger_post_many, ledger_reverse_many
from markets import maker
from markets import services as market_services
from markets.errors import MarketClosed
from markets.locks import market_lock, market_lock_for_trade
from markets.models import SETTLED_STATUSES, Market, MarketStatus, MarketType, Resolution, ResolutionSource
from markets.odds import price_cache_get
from markets.selectors import market_get
from thisthat.errors import ValidationFailed
from thisthat.http import Client
from thisthat.jobs import JobSummary

from .errors import BetNotSellable, MarketNotResolved, OddsChanged
from .models import Bet, BetStatus, ResolutionCorrection
from .rules import (
    DEFAULT_MAX_SLIPPAGE,
    Fill,
    cash_out_value,
    ensure_fresh,
    ensure_tradable,
    ensure_valid_amount,
    ensure_within_slippage,
    maker_fill,
    maker_sale_value,
    mirrored_fill,
    value_fell_too_far,
)
from .selectors import bet_get_for_user
from .signals import bets_changed, market_settled, market_settlement_reversed

logger = logging.getLogger(__name__)

# Bets per settlement transaction. Measured (BENCHMARKS.md, issue 12): 2,500 settles 10,000 bets
# about 10 % faster than 1,000 (fewer commits and statements); a chunk holds its users' rows for
# about 0.1 s, well inside a concurrent bet's latency budget. The market itself is resolved: no bet
# or sale on it waits for the chunk, they are refused.
SETTLEMENT_CHUNK = 2500


def _ensure_open(market: Market, now: datetime) -> None:
    if market.status != MarketStatus.OPEN or (market.expires_at is not None and market.expires_at <= now):
        # The status clients see: past its expiry an open market is closed.
        raise MarketClosed(details={"status": market.current_status, "expiresAt": market.expires_at})


def _trade_odds(market: Market, side: str, *, now: datetime) -> Decimal:
    """The odds a bet or cash-out on a Polymarket market is priced at: the newer of the shared price
    cache and the stored odds, and only while younger than ODDS_MAX_AGE_SECONDS."""
    odds = market.odds_for(side)
    if market.market_type == MarketType.POLYMARKET:
        as_of = market.odds_updated_at
        cached = price_cache_get(market.id)
        if cached is not None and (as_of is None or cached.fetched_at > as_of):
            odds, as_of = cached.odds.for_side(side), cached.fetched_at
        ensure_fresh(as_of, now=now, max_age_seconds=settings.ODDS_MAX_AGE_SECONDS)
    return ensure_tradable(odds)


def _fill(market: Market, side: str, amount: Decimal, *, now: datetime) -> Fill:
    """The pricing step of a bet, one per market type: a credits market's market maker sells shares
    and moves its odds; a Polymarket market's mirrored odds price the bet and stay where they are."""
    if market.has_maker:
        trade = maker.buy(market.maker_state(), side, amount)
        return maker_fill(trade, max_price_impact=settings.MAX_PRICE_IMPACT)
    return mirrored_fill(amount, _trade_odds(market, side, now=now))


def bet_quote(
    *,
    market_id: UUID | str,
    side: str,
    amount: Decimal,
    expected_odds: Decimal | None = None,
    max_slippage: Decimal = DEFAULT_MAX_SLIPPAGE,
) -> Fill:
    """What `bet_place` with the same arguments would get now, with the same refusals (except the
    balance); nothing is written or locked, so a bet placed next gets the same unless others traded."""
    ensure_valid_amount(amount)
    market = market_get(market_id=market_id)
    now = timezone.now()
    _ensure_open(market, now)
    fill = _fill(market, side, amount, now=now)
    ensure_within_slippage(fill.average_odds, expected_odds, max_slippage)
    return fill


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
    client: Client | None = None,
) -> BetPlaced:
    """Stake `amount` on `side` and debit it through the ledger (which refuses a suspended account and
    notices a referred user's first qualifying bet). On a Polymarket market the bet gets the current
    odds; on a credits market it buys shares from the market maker (`oddsAtBet` is the average price,
    `potentialPayout` the shares) and moves its odds."""
    ensure_valid_amount(amount)
    market = market_lock_for_trade(market_id=market_id)
    now = timezone.now()
    _ensure_open(market, now)
    fill = _fill(market, side, amount, now=now)
    ensure_within_slippage(fill.average_odds, expected_odds, max_slippage)
    bet = Bet.objects.create(
        user_id=user_id,
        market=market,
        side=side,
        amount=amount,
        odds_at_bet=fill.average_odds,
        potential_payout=fill.shares,
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
    if fill.maker_after is not None:
        market_services.market_maker_trade(market=market, state=fill.maker_after, at=now)
    activity_record(
        kind=ActivityKind.BET,
        user_id=user_id,
        client=client,
        reference_id=bet.id,
        market_id=market.id,
        side=side,
        odds=fill.average_odds,
        at=now,
    )
    log = {"bet_id": str(bet.id), "user_id": str(user_id), "market_id": str(market.id), "side": side}
    log |= {"amount": str(amount), "odds": str(fill.average_odds), "odds_after": str(fill.odds_after)}

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
def bet_sell(
    *, user_id: UUID, bet_id: UUID | str, expected_value: Decimal | None = None, client: Client | None = None
) -> BetSold:
    """Cash a pending bet out; a bet is sold at most once (never by a suspended account: the ledger
    refuses it). On a Polymarket market it pays `potentialPayout` times the current odds of its side;
    on a credits market its shares are sold back to the market maker at its price (which moves its
    odds), so buying and selling back at once never returns more than the stake."""
    bet = bet_get_for_user(user_id=user_id, bet_id=bet_id)
    market = market_lock_for_trade(market_id=bet.market_id)
    if bet.status != BetStatus.PENDING:  # settled or sold before the market lock: final either way
        raise BetNotSellable(details={"status": bet.status})
    now = timezone.now()
    try:
        _ensure_open(market, now)
    except MarketClosed as exc:
        raise BetNotSellable("This bet's market is not open.", details={"marketStatus": market.current_status}) from exc
    sale = maker.sell(market.maker_state(), bet.side, bet.potential_payout) if market.has_maker else None
    if sale is not None:
        value = maker_sale_value(sale)
    else:
        value = cash_out_value(bet.potential_payout, _trade_odds(market, bet.side, now=now))
    if expected_value is not None and value_fell_too_far(value, expected_value):
        raise OddsChanged(details={"currentValue": value, "expectedValue": expected_value})
    # Sold only while still pending: the UPDATE takes the bet's row lock (after the market's, the
    # lock order) and re-checks the status on the latest version, so of two sales at once one wins.
    # Settlement cannot run meanwhile: it needs the market lock exclusively.
    sold = Bet.objects.filter(pk=bet.pk, status=BetStatus.PENDING).update(
        status=BetStatus.SOLD, actual_payout=value, resolved_at=now
    )
    if not sold:
        raise BetNotSellable(details={"status": Bet.objects.values_list("status", flat=True).get(pk=bet.pk)})
    bet.status, bet.actual_payout, bet.resolved_at = BetStatus.SOLD, value, now
    entry = ledger_post(
        user_id=user_id,
        amount=value,
        kind=LedgerKind.BET_SALE,
        reference_id=bet.id,
        pnl=value - bet.amount,
        description=f"Cash-out: {market.title}"[:255],
        settlement_round=market.settlement_round,
    )
    if sale is not None:
        market_services.market_maker_trade(market=market, state=sale.after, at=now)
    activity_record(kind=ActivityKind.CASH_OUT, user_id=user_id, client=client, reference_id=bet.id, at=now)
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
    stopped: str = ""  # why the run ended before the market was settled (a correction meanwhile)


def _settled_values(outcome: str) -> dict:
    """Column values for pending bets of a market that resolved to `outcome`, for one UPDATE."""
    if outcome == Resolution.INVALID:
        return {"status": Value(BetStatus.CANCELLED), "actual_payout": F("amount")}
    won = When(side=outcome, then=Value(BetStatus.WON))
    return {
        "status": Case(won, default=Value(BetStatus.LOST)),
        "actual_payout": Case(When(side=outcome, then=F("potential_payout")), default=Value(Decimal(0))),
    }


# One statement marks a chunk of pending bets (locked in id order, after the market) and returns what
# the ledger needs; no bet is read twice and no model instance is built per bet.
_SETTLE_CHUNK_SQL = """
UPDATE {bet} SET status = CASE WHEN %(invalid)s THEN %(cancelled)s WHEN side = %(outcome)s THEN %(won)s
                               ELSE %(lost)s END,
                 actual_payout = CASE WHEN %(invalid)s THEN amount WHEN side = %(outcome)s THEN potential_payout
                                      ELSE 0 END,
                 resolved_at = %(now)s
WHERE id IN (SELECT id FROM {bet} WHERE market_id = %(market_id)s AND status = %(pending)s
             ORDER BY id LIMIT %(chunk_size)s FOR UPDATE)
RETURNING id, user_id, status, amount, actual_payout
"""


class _SettledBet(NamedTuple):  # a tuple: 10,000 per settlement, built and read at C speed
    id: UUID
    user_id: UUID
    status: str
    amount: Decimal
    actual_payout: Decimal


def _settled_chunk_mark(*, market: Market, chunk_size: int) -> list[_SettledBet]:
    if connection.vendor != "postgresql":  # SQLite (embedded mode): no FOR UPDATE, the same in three statements
        pending = Bet.objects.filter(market_id=market.pk, status=BetStatus.PENDING).order_by("id")
        ids = list(pending.values_list("id", flat=True)[:chunk_size])
        Bet.objects.filter(pk__in=ids).update(resolved_at=timezone.now(), **_settled_values(market.resolution))
        columns = ("id", "user_id", "status", "amount", "actual_payout")
        return [_SettledBet(*row) for row in Bet.objects.filter(pk__in=ids).values_list(*columns)]
    params = {
        "invalid": market.resolution == Resolution.INVALID,
        "outcome": market.resolution,
        "now": timezone.now(),
        "market_id": market.pk,
        "chunk_size": chunk_size,
        **{status: getattr(BetStatus, status.upper()).value for status in ("pending", "won", "lost", "cancelled")},
    }
    with connection.cursor() as cursor:
        cursor.execute(_SETTLE_CHUNK_SQL.format(bet=Bet._meta.db_table), params)
        return [_SettledBet(*row) for row in cursor.fetchall()]


@transaction.atomic
def _settle_chunk(*, market_id: UUID, settlement_round: int, chunk_size: int) -> list[_SettledBet]:
    """Settle up to `chunk_size` pending bets in one transaction: all of them, or none. Nothing when
    the market was unresolved since the settlement began (its round moved on)."""
    market = market_lock(market_id=market_id, exclusive=True)  # one chunk at a time, after sales in flight
    if market.status not in SETTLED_STATUSES or market.settlement_round != settlement_round:
        return []
    # Each user's rows in bet order, for a deterministic running balance (integer keys: comparing
    # UUID objects runs Python code per comparison).
    bets = sorted(
        _settled_chunk_mark(market=market, chunk_size=chunk_size), key=lambda bet: (bet.user_id.int, bet.id.int)
    )
    if not bets:
        return []
    kind = LedgerKind.BET_REFUND if market.resolution == Resolution.INVALID else LedgerKind.BET_PAYOUT
    description = f"{'Refund' if kind == LedgerKind.BET_REFUND else 'Payout'}: {market.title}"[:255]
    postings = [
        Posting(
            user_id=bet.user_id,
            amount=bet.actual_payout,
            kind=kind,
            reference_id=bet.id,
            description=description,
            settlement_round=settlement_round,
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
    only picks bets still pending; the ledger's unique (bet, kind, round) constraint pays a bet at
    most once per settlement round. A correction (market_unresolve) between two chunks ends the run.
    """
    market = market_get(market_id=market_id)
    if market.status not in SETTLED_STATUSES:
        raise MarketNotResolved(details={"status": market.status})
    summary = SettlementSummary(market_id=market.id, outcome=market.resolution)
    settlement_round = market.settlement_round
    while bets := _settle_chunk(market_id=market.id, settlement_round=settlement_round, chunk_size=chunk_size):
        summary.chunks += 1
        summary.bets.update(bet.status for bet in bets)
        summary.paid += sum((bet.actual_payout for bet in bets), Decimal(0))
        if progress:
            progress(f"chunk {summary.chunks}: {len(bets)} bets settled, {summary.bets.total()} so far")
    if not market_services.market_mark_settled(market_id=market.id, settlement_round=settlement_round):
        summary.stopped = "the market was unresolved meanwhile"
        return summary.finished(logger, "market settlement stopped")
    transaction.on_commit(lambda: market_settled.send(sender=Bet, market_id=market.id), robust=True)
    return summary.finished(logger, "market settled")


# --- correcting a resolution -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Reversed:
    bets: int
    credits: Decimal
    debt_added: Decimal


def _reverse_settlement(*, market: Market, description: str, staff_id: UUID) -> _Reversed:
    """Return every settled bet of a (locked) market to pending: its payout or refund of this round
    taken back by a compensating ledger row, its realised PnL moved back. Sold bets are final."""
    # Lock order: the market (held), then its bets, then users (the ledger).
    settled = sorted(
        Bet.objects.select_for_update()
        .filter(market_id=market.pk, status__in=[BetStatus.WON, BetStatus.LOST, BetStatus.CANCELLED])
        .order_by("id")
        .values_list("id", "user_id", "status", "amount", "actual_payout"),
        key=lambda row: (row[1], row[0]),
    )
    pnl: dict[UUID, Decimal] = defaultdict(Decimal)
    for _, user_id, status, amount, actual_payout in settled:
        if status != BetStatus.CANCELLED:
            pnl[user_id] -= actual_payout - amount
    bet_ids = Bet.objects.filter(market_id=market.pk, status__in=[BetStatus.WON, BetStatus.CANCELLED]).values("id")
    postings = list(settlement_postings(reference_ids=bet_ids, settlement_round=market.settlement_round))
    batch = ledger_reverse_many(entries=postings, pnl=pnl, description=description, created_by_id=staff_id)
    Bet.objects.filter(pk__in=[row[0] for row in settled]).update(
        status=BetStatus.PENDING, actual_payout=None, resolved_at=None
    )
    return _Reversed(len(settled), sum((entry.amount for entry in postings), Decimal(0)), batch.debt_added)


def _ensure_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.on("reason", "Say why the resolution is corrected.")
    return reason


@transaction.atomic
def market_unresolve(
    *, market_id: UUID | str, reason: str, staff_id: UUID, outcome: str | None = None, reopen: bool = True
) -> ResolutionCorrection:
    """Correct a settled market's resolution (staff): reverse its settlement with compensating ledger
    rows (a winner who spent the credits owes the rest as credit debt), return its settled bets to
    pending and the market to `open` (`reopen`, credits markets not past their end) or `closed`, and
    queue rank recomputation. With `outcome`, resolve it again to that other outcome in the same
    transaction; its settlement then pays each bet again exactly once. Sold bets are untouched.

    Takes the market's exclusive lock, so it waits for a settlement chunk in flight; the chunks after
    it see the new round and stop. Recorded with the reason and the staff member."""
    reason = _ensure_reason(reason)
    market = market_lock(market_id=market_id, exclusive=True)
    if market.status not in SETTLED_STATUSES:
        raise MarketNotResolved("This market has no outcome to correct.", details={"status": market.status})
    previous, settlement_round = market.resolution, market.settlement_round
    if outcome == previous:
        raise ValidationFailed.on("outcome", f"This market is already resolved as {previous}.")
    reversed_ = _reverse_settlement(
        market=market, description=f"Correction of {market.title}: {reason}"[:255], staff_id=staff_id
    )
    market = market_services.market_mark_unresolved(market_id=market.pk, reopen=reopen and outcome is None)
    if outcome is not None:
        market, _ = market_services.market_mark_resolved(
            market_id=market.pk, outcome=outcome, source=ResolutionSource.ADMIN, resolved_by_id=staff_id
        )
        transaction.on_commit(lambda: _enqueue_settlement(market.id), robust=True)
    correction = ResolutionCorrection.objects.create(
        market=market,
        previous_outcome=previous,
        new_outcome=outcome,
        settlement_round=settlement_round,
        reason=reason,
        staff_id=staff_id,
        bets_reversed=reversed_.bets,
        credits_reversed=reversed_.credits,
        debt_added=reversed_.debt_added,
    )
    transaction.on_commit(lambda: market_settlement_reversed.send(sender=Bet, market_id=market.id), robust=True)
    log = {"market_id": str(market.pk), "from": previous, "to": outcome, "staff_id": str(staff_id)}
    log |= {"bets": reversed_.bets, "credits": str(reversed_.credits), "debt_added": str(reversed_.debt_added)}
    transaction.on_commit(lambda: logger.warning("resolution corrected", extra=log), robust=True)
    return correction
