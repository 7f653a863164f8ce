"""The one door for credits: every balance change is posted here, with its ledger row, in one
transaction, under a row lock on the user."""

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework import serializers

from activity.models import ActivityKind
from activity.services import activity_record
from thisthat.errors import RateLimited, ValidationFailed
from thisthat.http import Client
from thisthat.jobs import JobSummary
from thisthat.money import CENT
from thisthat.rates import parse_rate

from .dependents import AuditFinding, audits_run, referral_veto
from .errors import (
    AccountSuspended,
    BalanceLimit,
    DailyRewardClaimed,
    DuplicateLedgerPosting,
    InsufficientBalance,
    PaymentFailed,
)
from .locks import LockedBalance, user_lock, users_lock
from .models import (
    MAY_LEAVE_DEBT,
    ONCE_PER_REFERENCE,
    ONCE_PER_ROUND,
    ONCE_PER_USER_AND_REFERENCE,
    REVERSAL_OF,
    REVERSALS,
    SUSPENDED_REFUSES,
    CreditPackage,
    DailyReward,
    LedgerEntry,
    LedgerKind,
    Purchase,
    PurchaseStatus,
    Referral,
    ReferralStatus,
    ReferralWithheld,
)
from .payments import Charge, PaymentProvider, payment_provider
from .rules import DailyRewardState, Funds, RewardLadder, daily_reward_for, funds_after, utc_day, utc_midnight
from .selectors import daily_reward_latest, users_due_credit_expiry, users_with_unreconciled_balance

logger = logging.getLogger(__name__)


def _check_posting(amount: Decimal, kind: str, reference_id: UUID | None, reverses_id: int | None) -> None:
    if amount != amount.quantize(CENT) or amount == 0:
        raise ValueError(f"ledger amount must be a non-zero number of cents, got {amount}")
    if (
        kind in (*ONCE_PER_REFERENCE, *ONCE_PER_USER_AND_REFERENCE, *ONCE_PER_ROUND, *REVERSALS)
        and reference_id is None
    ):
        raise ValueError(f"a {kind} posting needs the reference it happens once for")
    if (kind in REVERSALS) != (reverses_id is not None):
        raise ValueError(f"a {kind} posting {'needs' if kind in REVERSALS else 'cannot have'} a row it reverses")


def _transaction():
    """The caller's transaction when there is one, else a new one. The ledger's writes come after
    every check, in one statement that cannot half-happen (a duplicate is skipped by ON CONFLICT,
    not raised), so a refusal leaves nothing to roll back: no savepoint (two round trips) per call."""
    return nullcontext() if transaction.get_connection().in_atomic_block else transaction.atomic()


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
    credits that would lift the balance over MAX_CREDIT_BALANCE (rewards, bonuses, purchases and
    stock sales); bet payouts, refunds and cash-outs never pass it. `volume` (a bet's stake) and
    `pnl` (a sale's realised profit) move the user's running totals in the same statement.
    `settlement_round` is the market's round for a sale (README "Correcting a resolution").

    A suspended account is refused the kinds in SUSPENDED_REFUSES (ACCOUNT_SUSPENDED). A referred
    user's first stake of at least REFERRAL_QUALIFYING_BET qualifies their referral; the referrer is
    paid (or not) after commit. Both facts come with the row lock: no query of their own.

    Two statements: the row lock (with everything the checks need), then the ledger row and the
    balance in one. Inside a caller's transaction a refusal (DUPLICATE_POSTING included) leaves it
    as it was, so the caller may go on.
    """
    _check_posting(amount, kind, reference_id, None)
    with _transaction():
        return _ledger_post_locked(
            user_id=user_id,
            locked=user_lock(user_id=user_id),
            amount=amount,
            kind=kind,
            reference_id=reference_id,
            description=description,
            enforce_cap=enforce_cap,
            volume=volume,
            pnl=pnl,
            created_by_id=created_by_id,
            settlement_round=settlement_round,
        )


# The ledger row and the balance in one statement. ON CONFLICT DO NOTHING: a posting the unique
# constraints refuse inserts nothing, so the UPDATE (which needs the new row) changes nothing either
# and the caller's transaction stays usable; the service turns "no row" into DUPLICATE_POSTING.
_POST_SQL = """
WITH entry AS (
    INSERT INTO {ledger} (user_id, amount, kind, reference_id, balance_after, debt_after, settlement_round,
                          description, created_by_id, created_at)
    VALUES (%(user_id)s, %(amount)s, %(kind)s, %(reference_id)s, %(balance)s, %(debt)s, %(settlement_round)s,
            %(description)s, %(created_by_id)s, %(created_at)s)
    ON CONFLICT DO NOTHING
    RETURNING id
), account AS (
    UPDATE {user} SET credit_balance = %(balance)s, credit_debt = %(debt)s,
                      total_volume = total_volume + %(volume)s, overall_pnl = overall_pnl + %(pnl)s{also}
    WHERE id = %(user_id)s AND EXISTS (SELECT FROM entry)
)
SELECT id FROM entry
"""


def _ledger_post_locked(
    *,
    user_id: UUID,
    locked: LockedBalance,
    amount: Decimal,
    kind: LedgerKind,
    reference_id: UUID | None = None,
    description: str = "",
    enforce_cap: bool = False,
    volume: Decimal = Decimal(0),
    pnl: Decimal = Decimal(0),
    created_by_id: UUID | None = None,
    settlement_round: int = 0,
    also_set: Mapping[str, object] | None = None,
) -> LedgerEntry:
    """`ledger_post` for a caller that holds the user's row lock (`locked`, as the lock returned it,
    with no balance change since). `also_set` writes other columns of the row in the same UPDATE
    (economy's own: the daily reward's copy of the streak)."""
    if kind in SUSPENDED_REFUSES:
        ensure_not_suspended(locked)
    funds = funds_after(Funds(locked.balance, locked.debt), amount, may_leave_debt=kind in MAY_LEAVE_DEBT)
    if funds is None:
        raise InsufficientBalance(details={"balance": locked.balance})
    if enforce_cap and amount > 0 and funds.balance > settings.MAX_CREDIT_BALANCE:
        raise BalanceLimit(details={"balance": locked.balance, "maxBalance": settings.MAX_CREDIT_BALANCE})
    also = dict(also_set or {})
    qualifies = (
        kind == LedgerKind.BET_PLACED and locked.referral_pending and -amount >= settings.REFERRAL_QUALIFYING_BET
    )
    if qualifies:
        also["referral_pending"] = False
    entry = LedgerEntry(
        user_id=user_id,
        amount=amount,
        kind=kind,
        reference_id=reference_id,
        balance_after=funds.balance,
        debt_after=funds.debt,
        settlement_round=settlement_round,
        description=description,
        created_by_id=created_by_id,
        created_at=timezone.now(),
    )
    sql = _POST_SQL.format(
        ledger=LedgerEntry._meta.db_table,
        user=get_user_model()._meta.db_table,
        also="".join(f", {column} = %(also_{column})s" for column in also),  # our own column names
    )
    params = {
        "user_id": user_id,
        "amount": amount,
        "kind": kind,
        "reference_id": reference_id,
        "balance": funds.balance,
        "debt": funds.debt,
        "settlement_round": settlement_round,
        "description": description,
        "created_by_id": created_by_id,
        "created_at": entry.created_at,
        "volume": volume,
        "pnl": pnl,
        **{f"also_{column}": value for column, value in also.items()},
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:  # the once-per-reference constraints have the last word
            raise DuplicateLedgerPosting(details={"kind": kind, "referenceId": reference_id})
        entry.pk = row[0]
        entry._state.adding = False
    else:  # SQLite (embedded mode) has no data-modifying WITH: the same in two statements
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
        except IntegrityError as exc:
            raise DuplicateLedgerPosting(details={"kind": kind, "referenceId": reference_id}) from exc
        get_user_model().objects.filter(pk=user_id).update(
            credit_balance=funds.balance,
            credit_debt=funds.debt,
            total_volume=F("total_volume") + volume,
            overall_pnl=F("overall_pnl") + pnl,
            **also,
        )
    if qualifies:
        _referral_qualify(referred_id=user_id, bet_id=reference_id, at=entry.created_at)
    return entry


def ensure_not_suspended(locked: LockedBalance) -> None:
    """The suspension guard, on the row the caller has locked (so a suspension can't slip in between)."""
    if locked.suspended:
        raise AccountSuspended()


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
    with _transaction():
        user_ids = sorted({posting.user_id for posting in postings} | set(pnl))
        if not user_ids:
            return PostedBatch(0)
        locked = users_lock(user_ids=user_ids)
        funds = {pk: Funds(row.balance, row.debt) for pk, row in locked.items()}
        rows = []
        debt_added = Decimal(0)
        for posting in postings:
            before = funds[posting.user_id]
            after = funds_after(before, posting.amount, may_leave_debt=posting.kind in MAY_LEAVE_DEBT)
            if after is None:
                raise InsufficientBalance(details={"userId": posting.user_id})
            debt_added += max(after.debt - before.debt, Decimal(0))
            funds[posting.user_id] = after
            rows.append(
                (
                    posting.user_id,
                    posting.amount,
                    posting.kind,
                    posting.reference_id,
                    after.balance,
                    after.debt,
                    posting.settlement_round,
                    posting.reverses_id,
                    posting.description,
                )
            )
        balances = {pk: (funds[pk], pnl.get(pk, Decimal(0))) for pk in user_ids}
        if rows:
            try:
                with transaction.atomic():
                    _ledger_rows_insert(rows, created_by_id=created_by_id, created_at=timezone.now())
            except IntegrityError as exc:
                raise DuplicateLedgerPosting() from exc
        _balances_write(balances, locked)
        return PostedBatch(len(rows), debt_added)


# One statement per batch whatever its size: rows passed as arrays and unnested (no per-row SQL).
_ROWS_INSERT_SQL = """
INSERT INTO {ledger} (user_id, amount, kind, reference_id, balance_after, debt_after, settlement_round,
                      reverses_id, description, created_by_id, created_at)
SELECT t.*, %s, %s FROM unnest(%s::uuid[], %s::numeric[], %s::text[], %s::uuid[], %s::numeric[], %s::numeric[],
                               %s::integer[], %s::bigint[], %s::text[]) AS t
"""
_BALANCES_SQL = """
UPDATE {user} SET credit_balance = t.balance, credit_debt = t.debt, overall_pnl = overall_pnl + t.pnl
FROM unnest(%s::uuid[], %s::numeric[], %s::numeric[], %s::numeric[]) AS t(id, balance, debt, pnl)
WHERE {user}.id = t.id
"""


_ROW_COLUMNS = ("user_id", "amount", "kind", "reference_id", "balance_after", "debt_after", "settlement_round")
_ROW_COLUMNS += ("reverses_id", "description")


def _ledger_rows_insert(rows: Sequence[tuple], *, created_by_id: UUID | None, created_at: datetime) -> None:
    """Insert ledger rows given as tuples of _ROW_COLUMNS (no model instance per row)."""
    if connection.vendor != "postgresql":  # SQLite (embedded mode) has no arrays
        extra = {"created_by_id": created_by_id, "created_at": created_at}
        LedgerEntry.objects.bulk_create(
            [LedgerEntry(**dict(zip(_ROW_COLUMNS, row, strict=True)), **extra) for row in rows]
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _ROWS_INSERT_SQL.format(ledger=LedgerEntry._meta.db_table),
            [created_by_id, created_at, *(list(column) for column in zip(*rows, strict=True))],
        )


def _balances_write(balances: Mapping[UUID, tuple[Funds, Decimal]], locked: Mapping[UUID, LockedBalance]) -> None:
    """Each locked user's new balance and debt, and their realised PnL moved by the given amount."""
    user_model = get_user_model()
    if connection.vendor != "postgresql":
        user_model.objects.bulk_update(
            [
                user_model(
                    pk=pk,
                    credit_balance=funds.balance,
                    credit_debt=funds.debt,
                    overall_pnl=locked[pk].overall_pnl + pnl,
                )
                for pk, (funds, pnl) in balances.items()
            ],
            ["credit_balance", "credit_debt", "overall_pnl"],
        )
        return
    ids = list(balances)
    with connection.cursor() as cursor:
        cursor.execute(
            _BALANCES_SQL.format(user=user_model._meta.db_table),
            [
                ids,
                [balances[pk][0].balance for pk in ids],
                [balances[pk][0].debt for pk in ids],
                [balances[pk][1] for pk in ids],
            ],
        )


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
def daily_reward_claim(*, user_id: UUID, now: datetime | None = None, client: Client | None = None) -> DailyRewardClaim:
    """Pay today's reward once per UTC day, continuing or restarting the streak (SPEC §6).

    The user row is locked first, so parallel claims read and write the streak one at a time; the
    one-per-day unique constraint is the backstop. Over MAX_CREDIT_BALANCE it is BALANCE_LIMIT and
    nothing is recorded; a suspended account is ACCOUNT_SUSPENDED.
    """
    now = now or timezone.now()
    locked = user_lock(user_id=user_id)
    ensure_not_suspended(locked)
    state = daily_reward_state(user_id=user_id, now=now)
    if not state.can_claim:
        raise _already_claimed(state.next_claim_available)
    reward = DailyReward(
        user_id=user_id,
        streak_day=state.next_streak_day,
        credits_awarded=state.next_amount,
        claimed_on=utc_day(now),
        claimed_at=now,
    )
    if not _insert_unless_conflict(reward):  # the database says today is taken
        raise _already_claimed(utc_midnight(utc_day(now) + timedelta(days=1)))
    activity_record(kind=ActivityKind.DAILY_REWARD, user_id=user_id, client=client, reference_id=reward.pk, at=now)
    entry = _ledger_post_locked(
        user_id=user_id,
        locked=locked,
        amount=reward.credits_awarded,
        kind=LedgerKind.DAILY_REWARD,
        reference_id=reward.pk,
        description=f"Daily reward, day {reward.streak_day} of your streak",
        enforce_cap=True,
        # The profile's copy of the streak (dailyStreak, lastDailyRewardAt), in the balance's UPDATE.
        also_set={"daily_streak": reward.streak_day, "last_daily_reward_at": now},
    )
    state = daily_reward_state(user_id=user_id, now=now, last=reward)
    return DailyRewardClaim(reward=reward, new_balance=entry.balance_after, state=state)


def _insert_unless_conflict(row: DailyReward) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: False when a unique constraint refused the row. No savepoint
    (and no aborted transaction to roll back), unlike catching the IntegrityError."""
    fields = list(row._meta.concrete_fields)
    values = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {row._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
            " ON CONFLICT DO NOTHING RETURNING 1",
            values,
        )
        inserted = cursor.fetchone() is not None
    row._state.adding = not inserted
    return inserted


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
def purchase_create(
    *, user_id: UUID, package_id: int, provider: PaymentProvider | None = None, client: Client | None = None
) -> PurchaseOutcome:
    """Buy an active credit pack: record the purchase, charge it, and credit the pack on the ledger.

    Refused, with nothing recorded and nothing charged, for an unknown or inactive package
    (VALIDATION_ERROR), a suspended account (ACCOUNT_SUSPENDED), over the per-user purchase rate
    (RATE_LIMIT_EXCEEDED) or above MAX_CREDIT_BALANCE (BALANCE_LIMIT, checked before charging and
    again by the ledger).
    """
    provider = provider or payment_provider()
    now = timezone.now()
    package = CreditPackage.objects.filter(pk=package_id, is_active=True).first()
    if package is None:
        raise ValidationFailed.on("packageId", "No credit package on sale has this id.")
    locked = user_lock(user_id=user_id)
    ensure_not_suspended(locked)
    balance = locked.balance
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
    activity_record(kind=ActivityKind.PURCHASE, user_id=user_id, client=client, reference_id=purchase.pk, at=now)
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


# --- referrals -------------------------------------------------------------------------------------
def referral_open(*, referrer_id: UUID, referred_id: UUID, referrer_username: str) -> LedgerEntry:
    """A sign-up with `referrer_id`'s code, in the registration's transaction: the new user's bonus
    now; the referrer's stays pending until the new user's first bet of at least
    REFERRAL_QUALIFYING_BET (`ledger_post` notices it through the user row's `referral_pending`)."""
    Referral.objects.create(referred_id=referred_id, referrer_id=referrer_id)
    get_user_model().objects.filter(pk=referred_id).update(referral_pending=True)
    return ledger_post(
        user_id=referred_id,
        amount=settings.REFERRAL_BONUS,
        kind=LedgerKind.REFERRAL_BONUS,
        reference_id=referrer_id,
        description=f"Joined with {referrer_username}'s code",
        enforce_cap=True,
    )


def _referral_qualify(*, referred_id: UUID, bet_id: UUID, at: datetime) -> None:
    """Mark the referral qualified by this bet (once: a second first bet finds it qualified) and
    settle it after commit; the referrer is locked in a transaction of its own, never under this one."""
    qualified = Referral.objects.filter(
        pk=referred_id, status=ReferralStatus.PENDING, qualified_at__isnull=True
    ).update(qualified_at=at, qualifying_bet_id=bet_id)
    if qualified:
        transaction.on_commit(lambda: _enqueue_referral_settlement(referred_id), robust=True)


def _enqueue_referral_settlement(referred_id: UUID) -> None:
    from .tasks import settle_referral  # the task module imports this one

    settle_referral.delay(str(referred_id))


def _referral_withheld(referral: Referral, referrer: LockedBalance) -> str | None:
    if referrer.suspended:
        return ReferralWithheld.REFERRER_SUSPENDED
    paid = Referral.objects.filter(
        referrer_id=referral.referrer_id, status__in=[ReferralStatus.PAID, ReferralStatus.CLAWED_BACK]
    ).count()
    if paid >= settings.REFERRAL_MAX_BONUSES:
        return ReferralWithheld.BONUS_CAP
    return referral_veto(referrer_id=referral.referrer_id, referred_id=referral.referred_id)


def referral_settle(*, referred_id: UUID, now: datetime | None = None) -> Referral | None:
    """Pay the referrer's bonus for a qualified referral, or withhold it (referrer suspended, past
    REFERRAL_MAX_BONUSES, at the balance cap, or vetoed by the anti-abuse checks: the two accounts
    share a device or an address, or the referred account is flagged). Decides each referral once:
    the referrer's row lock orders settlements of one referrer, the referral row is re-read under
    its lock, and the ledger's once per (user, reference) constraint is the backstop. None when
    there is nothing (left) to decide."""
    referrer_id = (
        Referral.objects.filter(pk=referred_id, status=ReferralStatus.PENDING, qualified_at__isnull=False)
        .values_list("referrer_id", flat=True)
        .first()
    )
    if referrer_id is None:
        return None
    with transaction.atomic():
        referrer = user_lock(user_id=referrer_id)  # users first, then referral rows (as bets do)
        referral = Referral.objects.select_for_update().filter(pk=referred_id, status=ReferralStatus.PENDING).first()
        if referral is None:
            return None
        reason = _referral_withheld(referral, referrer)
        if reason is None:
            referred_name = get_user_model().objects.values_list("username", flat=True).get(pk=referred_id)
            try:
                with transaction.atomic():
                    ledger_post(
                        user_id=referrer_id,
                        amount=settings.REFERRAL_BONUS,
                        kind=LedgerKind.REFERRAL_BONUS,
                        reference_id=referred_id,
                        description=f"{referred_name} joined with your code and placed a first bet",
                        enforce_cap=True,
                    )
            except BalanceLimit:
                reason = ReferralWithheld.BALANCE_CAP
        referral.status = ReferralStatus.WITHHELD if reason else ReferralStatus.PAID
        referral.bonus = Decimal(0) if reason else settings.REFERRAL_BONUS
        referral.reason = reason or ""
        referral.decided_at = now or timezone.now()
        referral.save(update_fields=["status", "bonus", "reason", "decided_at"])
    logger.info(
        "referral settled",
        extra={
            "referred_id": str(referred_id),
            "referrer_id": str(referrer_id),
            "status": referral.status,
            "reason": referral.reason,
        },
    )
    return referral


@dataclass
class ReferralSweep(JobSummary):
    settled: Counter = field(default_factory=Counter)


def referrals_settle_due(*, now: datetime | None = None, grace_seconds: int = 60) -> ReferralSweep:
    """Settle referrals qualified more than `grace_seconds` ago and still pending: the ones whose
    after-commit settlement was lost (a broker outage, a killed worker)."""
    now = now or timezone.now()
    summary = ReferralSweep()
    due = Referral.objects.filter(
        status=ReferralStatus.PENDING, qualified_at__lt=now - timedelta(seconds=grace_seconds)
    ).values_list("pk", flat=True)
    for referred_id in list(due[:1000]):
        referral = referral_settle(referred_id=referred_id, now=now)
        if referral is not None:
            summary.settled[referral.reason or referral.status] += 1
    return summary.finished(logger, "due referrals settled")


# --- clawbacks -------------------------------------------------------------------------------------
CLAWBACK_KINDS = [LedgerKind.REFERRAL_BONUS, LedgerKind.DAILY_REWARD]


@transaction.atomic
def credits_claw_back(*, user_id: UUID, kinds: Sequence[str], reason: str, staff_id: UUID | None) -> Decimal:
    """Take back the user's referral bonuses and/or daily rewards (`kinds`), oldest first, each
    through the ledger as a `clawback` that references what it takes back, with the reason and the
    staff member; never below a balance of 0 (a posting the balance can't cover is taken back in
    part, and that is final). A posting is taken back at most once (a unique constraint). A
    referrer's bonus taken back marks its referral clawed back. Returns the credits taken."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed.on("reason", "A reason is required.")
    if not set(kinds) <= set(CLAWBACK_KINDS):
        raise ValueError(f"only {CLAWBACK_KINDS} can be clawed back, got {kinds}")
    balance = user_lock(user_id=user_id).balance
    done = LedgerEntry.objects.filter(user_id=user_id, kind=LedgerKind.CLAWBACK).values("reference_id")
    postings = (
        LedgerEntry.objects.filter(user_id=user_id, kind__in=kinds, amount__gt=0)
        .exclude(reference_id__in=done)
        .order_by("created_at", "id")
    )
    taken = Decimal(0)
    for posting in postings:
        amount = min(posting.amount, balance)
        if amount <= 0:
            break
        ledger_post(
            user_id=user_id,
            amount=-amount,
            kind=LedgerKind.CLAWBACK,
            reference_id=posting.reference_id,
            description=f"{LedgerKind(posting.kind).label} taken back: {reason}"[:255],
            created_by_id=staff_id,
        )
        balance -= amount
        taken += amount
        if posting.kind == LedgerKind.REFERRAL_BONUS:  # as a referrer: the reference is the referred user
            Referral.objects.filter(pk=posting.reference_id, referrer_id=user_id, status=ReferralStatus.PAID).update(
                status=ReferralStatus.CLAWED_BACK
            )
    logger.info(
        "credits clawed back",
        extra={"user_id": str(user_id), "staff_id": str(staff_id) if staff_id else None, "amount": str(taken)},
    )
    return taken


# --- inactivity expiry -----------------------------------------------------------------------------
@dataclass
class CreditExpiryRun(JobSummary):
    accounts: int = 0
    credits: Decimal = Decimal(0)


def credits_expire_inactive(*, now: datetime | None = None) -> CreditExpiryRun:
    """With CREDIT_EXPIRY_ENABLED, expire every balance above SIGNUP_BONUS of accounts without
    activity (a login, bet, cash-out, claim, purchase or stock trade) for CREDIT_EXPIRY_DAYS, through the ledger
    (`credit_expiry`). Each account is re-checked under its row lock, so a bet placed meanwhile
    keeps its credits; a second run finds nothing left to expire."""
    now = now or timezone.now()
    summary = CreditExpiryRun()
    if not settings.CREDIT_EXPIRY_ENABLED:
        return summary.finished(logger, "credit expiry is off")
    cutoff = now - timedelta(days=settings.CREDIT_EXPIRY_DAYS)
    for user_id in list(users_due_credit_expiry(cutoff=cutoff).values_list("pk", flat=True)):
        with transaction.atomic():
            balance = user_lock(user_id=user_id).balance
            excess = balance - settings.SIGNUP_BONUS
            if excess <= 0 or not users_due_credit_expiry(cutoff=cutoff).filter(pk=user_id).exists():
                continue
            ledger_post(
                user_id=user_id,
                amount=-excess,
                kind=LedgerKind.CREDIT_EXPIRY,
                description=f"Credits above {settings.SIGNUP_BONUS:,.0f} expired after "
                f"{settings.CREDIT_EXPIRY_DAYS} days without activity",
            )
        summary.accounts += 1
        summary.credits += excess
    return summary.finished(logger, "inactive credits expired")


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
    # What the registered checks found (economy.dependents.register_audit), e.g. a stock's supply
    # that differs from its holdings.
    findings: list[AuditFinding] = field(default_factory=list)

    @property
    def problems(self) -> int:
        return len(self.mismatches) + len(self.findings)


def ledger_audit() -> LedgerAudit:
    """Check every balance minus credit debt against the sum of its ledger rows (one set-based
    query), then run the checks other apps registered (stocks: supply = holdings, reserve = the
    curve's); log an error line per mismatch or finding. The hourly task and `manage.py
    reconcile_ledger` both run this."""
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
    audit.findings = audits_run()
    for finding in audit.findings:
        logger.error(
            "audit finding", extra={"check": finding.check, "subject": finding.subject, "finding": finding.message}
        )
    if audit.problems:
        logger.error(
            "ledger audit found mismatches",
            extra={"users": audit.users, "mismatches": len(audit.mismatches), "findings": len(audit.findings)},
        )
    return audit.finished(logger, "ledger reconciled")
