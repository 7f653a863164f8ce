"""The one door for credits: every balance change is posted here, with its ledger row, in one
transaction, under a row lock on the user."""

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers

from thisthat.errors import RateLimited, ValidationFailed
from thisthat.jobs import JobSummary
from thisthat.money import CENT
from thisthat.rates import parse_rate

from .errors import BalanceLimit, DailyRewardClaimed, DuplicateLedgerPosting, InsufficientBalance, PaymentFailed
from .locks import user_lock, users_lock
from .models import (
    MAY_LEAVE_DEBT,
    ONCE_PER_REFERENCE,
    ONCE_PER_ROUND,
    REVERSAL_OF,
    REVERSALS,
    CreditPackage,
    DailyReward,
    LedgerEntry,
    LedgerKind,
    Purchase,
    PurchaseStatus,
)
from .payments import Charge, PaymentProvider, payment_provider
from .rules import DailyRewardState, Funds, RewardLadder, daily_reward_for, funds_after, utc_day, utc_midnight
from .selectors import daily_reward_latest, users_with_unreconciled_balance

logger = logging.getLogger(__name__)


def _check_posting(amount: Decimal, kind: str, reference_id: UUID | None, reverses_id: int | None) -> None:
    if amount != amount.quantize(CENT) or amount == 0:
        raise ValueError(f"ledger amount must be a non-zero number of cents, got {amount}")
    if kind in (*ONCE_PER_REFERENCE, *ONCE_PER_ROUND, *REVERSALS) and reference_id is None:
        raise ValueError(f"a {kind} posting needs the reference it happens once for")
    if (kind in REVERSALS) != (reverses_id is not None):
        raise ValueError(f"a {kind} posting {'needs' if kind in REVERSALS else 'cannot have'} a row it reverses")


@transaction.atomic
def ledger_post(
    *,
    user_id: UUID,
    amount: Decimal,
    kind: LedgerKind,
    reference_id: UUID | None = None,
    description: str = "",
    enforce_cap: bool = False,
    volume: Decimal = Decimal(0),
    pnl: Decimal = Decimal(0),
    created_by_id: UUID | None = None,
    settlement_round: int = 0,
) -> LedgerEntry:
    """Apply `amount` (signed) to the user's balance and record it.

    Callers that lock several users must call this in user-id order (after any market lock).
    A credit pays off any credit debt first (economy.rules.funds_after). `enforce_cap` refuses
    credits that would lift the balance over MAX_CREDIT_BALANCE (rewards, bonuses, purchases);
    payouts, refunds and sales never pass it. `volume` (a bet's stake) and `pnl` (a sale's realised
    profit) move the user's running totals in the same statement. `settlement_round` is the market's
    round for a sale (README "Correcting a resolution").
    """
    _check_posting(amount, kind, reference_id, None)
    users = get_user_model().objects
    locked = user_lock(user_id=user_id)
    funds = funds_after(Funds(locked.balance, locked.debt), amount, may_leave_debt=kind in MAY_LEAVE_DEBT)
    if funds is None:
        raise InsufficientBalance(details={"balance": locked.balance})
    if enforce_cap and amount > 0 and funds.balance > settings.MAX_CREDIT_BALANCE:
        raise BalanceLimit(details={"balance": locked.balance, "maxBalance": settings.MAX_CREDIT_BALANCE})
    try:
        with transaction.atomic():
            entry = LedgerEntry.objects.create(
                user_id=user_id,
                amount=amount,
                kind=kind,
                reference_id=reference_id,
                balance_after=funds.balance,
                debt_after=funds.debt,
                settlement_round=settlement_round,
                description=description,
                created_by_id=created_by_id,
            )
    except IntegrityError as exc:  # the once-per-reference constraints have the last word
        raise DuplicateLedgerPosting(details={"kind": kind, "referenceId": reference_id}) from exc
    users.filter(pk=user_id).update(
        credit_balance=funds.balance,
        credit_debt=funds.debt,
        total_volume=F("total_volume") + volume,
        overall_pnl=F("overall_pnl") + pnl,
    )
    return entry


@dataclass(frozen=True)
class Posting:
    user_id: UUID
    amount: Decimal
    kind: LedgerKind
    reference_id: UUID
    description: str = ""
    settlement_round: int = 0
    reverses_id: int | None = None


@dataclass(frozen=True)
class PostedBatch:
    entries: int
    debt_added: Decimal = Decimal(0)  # what clawbacks in the batch took beyond balances


@transaction.atomic
def ledger_post_many(
    *,
    postings: Sequence[Posting],
    pnl: Mapping[UUID, Decimal] | None = None,
    created_by_id: UUID | None = None,
) -> PostedBatch:
    """`ledger_post` for a batch (settlement, its reversal): a constant number of statements however
    many postings.

    Locks every user involved in id order, inserts the ledger rows in one statement (each with the
    running `balance_after` and `debt_after` of its user), then writes balances, debts and realised
    PnL in one statement. A posting that already exists (same reference, kind and round, or a row
    already reversed) fails the whole batch.
    """
    pnl = pnl or {}
    for posting in postings:
        _check_posting(posting.amount, posting.kind, posting.reference_id, posting.reverses_id)
    user_model = get_user_model()
    user_ids = sorted({posting.user_id for posting in postings} | set(pnl))
    if not user_ids:
        return PostedBatch(0)
    locked = users_lock(user_ids=user_ids)
    funds = {pk: Funds(row.balance, row.debt) for pk, row in locked.items()}
    now = timezone.now()
    entries = []
    debt_added = Decimal(0)
    for posting in postings:
        before = funds[posting.user_id]
        after = funds_after(before, posting.amount, may_leave_debt=posting.kind in MAY_LEAVE_DEBT)
        if after is None:
            raise InsufficientBalance(details={"userId": posting.user_id})
        debt_added += max(after.debt - before.debt, Decimal(0))
        funds[posting.user_id] = after
        entries.append(
            LedgerEntry(
                user_id=posting.user_id,
                amount=posting.amount,
                kind=posting.kind,
                reference_id=posting.reference_id,
                balance_after=after.balance,
                debt_after=after.debt,
                settlement_round=posting.settlement_round,
                reverses_id=posting.reverses_id,
                description=posting.description,
                created_by_id=created_by_id,
                created_at=now,
            )
        )
    try:
        with transaction.atomic():
            LedgerEntry.objects.bulk_create(entries)
    except IntegrityError as exc:
        raise DuplicateLedgerPosting() from exc
    user_model.objects.bulk_update(
        [
            user_model(
                pk=pk,
                credit_balance=funds[pk].balance,
                credit_debt=funds[pk].debt,
                overall_pnl=locked[pk].overall_pnl + pnl.get(pk, Decimal(0)),
            )
            for pk in user_ids
        ],
        ["credit_balance", "credit_debt", "overall_pnl"],
    )
    return PostedBatch(len(entries), debt_added)


def ledger_reverse_many(
    *,
    entries: Sequence[LedgerEntry],
    pnl: Mapping[UUID, Decimal] | None = None,
    description: str = "",
    created_by_id: UUID | None = None,
) -> PostedBatch:
    """Compensate ledger rows (payouts, refunds) with rows of the matching reversal kind, each naming
    the row it reverses and taking its credits back (REVERSAL_OF); nothing is edited or deleted. What
    a balance cannot cover becomes credit debt. `pnl` moves realised PnL back in the same statement.
    A row already reversed fails the whole batch (DUPLICATE_POSTING)."""
    postings = []
    for entry in entries:
        if entry.kind not in REVERSAL_OF:
            raise ValueError(f"a {entry.kind} row cannot be reversed")
        postings.append(
            Posting(
                user_id=entry.user_id,
                amount=-entry.amount,
                kind=REVERSAL_OF[entry.kind],
                reference_id=entry.reference_id,
                description=description[:255],
                settlement_round=entry.settlement_round,
                reverses_id=entry.pk,
            )
        )
    return ledger_post_many(postings=postings, pnl=pnl, created_by_id=created_by_id)


# --- daily reward ----------------------------------------------------------------------------------
def reward_ladder() -> RewardLadder:
    return RewardLadder(
        base=settings.DAILY_REWARD_BASE, step=settings.DAILY_REWARD_STEP, maximum=settings.DAILY_REWARD_MAX
    )


def daily_reward_state(
    *, user_id: UUID, now: datetime | None = None, last: DailyReward | None = None
) -> DailyRewardState:
    """Whether the user can claim now, their current streak and what the next claim pays. The
    reward rows are the record (`last` saves the look-up when the caller has it)."""
    last = last or daily_reward_latest(user_id=user_id)
    return daily_reward_for(
        last_claimed_at=last.claimed_at if last else None,
        streak=last.streak_day if last else 0,
        now=now or timezone.now(),
        ladder=reward_ladder(),
    )


def _already_claimed(next_claim_available: datetime) -> DailyRewardClaimed:
    return DailyRewardClaimed(details={"nextClaimAvailable": _iso(next_claim_available)})


@dataclass(frozen=True)
class DailyRewardClaim:
    reward: DailyReward
    new_balance: Decimal
    state: DailyRewardState  # after the claim: can_claim is False until the next UTC midnight


@transaction.atomic
def daily_reward_claim(*, user_id: UUID, now: datetime | None = None) -> DailyRewardClaim:
    """Pay today's reward once per UTC day, continuing or restarting the streak (SPEC §6).

    The user row is locked first, so parallel claims read and write the streak one at a time; the
    one-per-day unique constraint is the backstop. Over MAX_CREDIT_BALANCE it is BALANCE_LIMIT and
    nothing is recorded.
    """
    now = now or timezone.now()
    user_lock(user_id=user_id)
    state = daily_reward_state(user_id=user_id, now=now)
    if not state.can_claim:
        raise _already_claimed(state.next_claim_available)
    try:
        with transaction.atomic():
            reward = DailyReward.objects.create(
                user_id=user_id,
                streak_day=state.next_streak_day,
                credits_awarded=state.next_amount,
                claimed_on=utc_day(now),
                claimed_at=now,
            )
    except IntegrityError as exc:  # the database says today is taken
        raise _already_claimed(utc_midnight(utc_day(now) + timedelta(days=1))) from exc
    entry = ledger_post(
        user_id=user_id,
        amount=reward.credits_awarded,
        kind=LedgerKind.DAILY_REWARD,
        reference_id=reward.pk,
        description=f"Daily reward, day {reward.streak_day} of your streak",
        enforce_cap=True,
    )
    # The profile's copy of the streak (dailyStreak, lastDailyRewardAt); never the balance.
    get_user_model().objects.filter(pk=user_id).update(daily_streak=reward.streak_day, last_daily_reward_at=now)
    state = daily_reward_state(user_id=user_id, now=now, last=reward)
    return DailyRewardClaim(reward=reward, new_balance=entry.balance_after, state=state)


def _iso(moment: datetime) -> str:
    return serializers.DateTimeField().to_representation(moment)


# --- purchases -------------------------------------------------------------------------------------
class PurchaseOutcome(NamedTuple):
    purchase: Purchase
    new_balance: Decimal


def _ensure_purchase_rate(*, user_id: UUID, now: datetime) -> None:
    """At most N purchases per user per rolling period (the `purchases` rate, SPEC §9). Counted
    here, under the user lock, so a replayed request never counts and parallel ones can't slip by."""
    if not settings.RATE_LIMIT_ENABLED:
        return
    limit, period = parse_rate(settings.RATE_LIMITS["purchases"])
    window_start = now - timedelta(seconds=period)
    recent = list(
        Purchase.objects.filter(user_id=user_id, created_at__gt=window_start)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) >= limit:
        oldest = recent[-1]
        retry_after = math.ceil((oldest + timedelta(seconds=period) - now).total_seconds())
        raise RateLimited(f"At most {limit} purchases per {_period_name(period)}.", retry_after=retry_after)


def _period_name(seconds: int) -> str:
    return {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(seconds, f"{seconds} seconds")


def _ensure_within_cap(*, balance: Decimal, credits: Decimal) -> None:
    if balance + credits > settings.MAX_CREDIT_BALANCE:
        raise BalanceLimit(details={"balance": balance, "maxBalance": settings.MAX_CREDIT_BALANCE})


@transaction.atomic
def purchase_create(*, user_id: UUID, package_id: int, provider: PaymentProvider | None = None) -> PurchaseOutcome:
    """Buy an active credit pack: record the purchase, charge it, and credit the pack on the ledger.

    Refused, with nothing recorded, for an unknown or inactive package (VALIDATION_ERROR), over the
    per-user purchase rate (RATE_LIMIT_EXCEEDED) or above MAX_CREDIT_BALANCE (BALANCE_LIMIT, checked
    before charging and again by the ledger).
    """
    provider = provider or payment_provider()
    now = timezone.now()
    package = CreditPackage.objects.filter(pk=package_id, is_active=True).first()
    if package is None:
        raise ValidationFailed.on("packageId", "No credit package on sale has this id.")
    balance = user_lock(user_id=user_id).balance
    _ensure_purchase_rate(user_id=user_id, now=now)
    _ensure_within_cap(balance=balance, credits=package.credits)
    purchase = Purchase.objects.create(
        user_id=user_id,
        package=package,
        credits=package.credits,
        price_usd=package.price_usd,
        provider=provider.name,
        created_at=now,
    )
    result = provider.charge(purchase=purchase)
    purchase.provider_reference = result.reference
    if result.status == Charge.DECLINED:  # rolls the purchase back: a declined charge leaves no row
        raise PaymentFailed(result.message or None)
    if result.status == Charge.COMPLETED:
        return _purchase_settle(purchase)
    purchase.save(update_fields=["provider_reference"])
    return PurchaseOutcome(purchase, balance)


@transaction.atomic
def purchase_complete(*, purchase_id: UUID, provider_reference: str = "") -> PurchaseOutcome:
    """Settle a pending purchase (for providers that confirm later, e.g. from a webhook). Safe to
    call again: a completed purchase is returned as it is."""
    purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
    if purchase.status == PurchaseStatus.COMPLETED:
        balance = get_user_model().objects.values_list("credit_balance", flat=True).get(pk=purchase.user_id)
        return PurchaseOutcome(purchase, balance)
    if provider_reference:
        purchase.provider_reference = provider_reference
    return _purchase_settle(purchase)


def _purchase_settle(purchase: Purchase) -> PurchaseOutcome:
    entry = ledger_post(
        user_id=purchase.user_id,
        amount=purchase.credits,
        kind=LedgerKind.PURCHASE,
        reference_id=purchase.pk,
        description=f"Bought {purchase.package.name} ({purchase.credits:,.0f} credits, ${purchase.price_usd})",
        enforce_cap=True,
    )
    purchase.status = PurchaseStatus.COMPLETED
    purchase.completed_at = timezone.now()
    purchase.save(update_fields=["status", "completed_at", "provider_reference"])
    return PurchaseOutcome(purchase, entry.balance_after)


# --- staff adjustments -----------------------------------------------------------------------------
def credit_adjust(*, user_id: UUID, amount: Decimal, reason: str, staff_id: UUID) -> LedgerEntry:
    """A staff member's signed correction of a balance, through the ledger with its reason and author.

    Refused when it would take the balance below 0 (INSUFFICIENT_BALANCE) or a credit would lift it
    over MAX_CREDIT_BALANCE (BALANCE_LIMIT).
    """
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.on("reason", "A reason is required.")
    if amount == 0 or amount != amount.quantize(CENT):
        raise ValidationFailed.on("amount", "Enter a non-zero amount with at most 2 decimals.")
    entry = ledger_post(
        user_id=user_id,
        amount=amount,
        kind=LedgerKind.ADMIN_ADJUSTMENT,
        description=reason[:255],
        enforce_cap=True,
        created_by_id=staff_id,
    )
    logger.info(
        "credit adjustment",
        extra={"user_id": str(user_id), "staff_id": str(staff_id), "amount": str(amount), "entry_id": entry.pk},
    )
    return entry


# --- audit -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerMismatch:
    user_id: UUID
    username: str
    balance: Decimal
    ledger_total: Decimal
    debt: Decimal = Decimal(0)

    @property
    def difference(self) -> Decimal:
        return self.balance - self.debt - self.ledger_total


@dataclass
class LedgerAudit(JobSummary):
    users: int = 0
    mismatches: list[LedgerMismatch] = field(default_factory=list)


def ledger_audit() -> LedgerAudit:
    """Check every balance minus credit debt against the sum of its ledger rows (one set-based
    query); log an error line per mismatch. The hourly task and `manage.py reconcile_ledger` both run
    this."""
    audit = LedgerAudit(users=get_user_model().objects.count())
    for user in users_with_unreconciled_balance().iterator(chunk_size=1000):
        mismatch = LedgerMismatch(user.pk, user.username, user.credit_balance, user.ledger_total, user.credit_debt)
        audit.mismatches.append(mismatch)
        logger.error(
            "ledger mismatch",
            extra={
                "user_id": str(mismatch.user_id),
                "username": mismatch.username,
                "balance": str(mismatch.balance),
                "debt": str(mismatch.debt),
                "ledger_total": str(mismatch.ledger_total),
                "difference": str(mismatch.difference),
            },
        )
    if audit.mismatches:
        logger.error("ledger audit found mismatches", extra={"users": audit.users, "mismatches": len(audit.mismatches)})
    return audit.finished(logger, "ledger reconciled")
