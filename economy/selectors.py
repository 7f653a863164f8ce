from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, DecimalField, F, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from thisthat.money import CREDITS

from .models import (
    ONCE_PER_ROUND,
    OWN_ACTIVITY,
    CreditPackage,
    DailyReward,
    LedgerEntry,
    LedgerKind,
    Purchase,
    Referral,
    ReferralStatus,
)

_MONEY = DecimalField(**CREDITS)
HALF_CENT = Decimal("0.005")


def users_with_unreconciled_balance() -> QuerySet:
    """Users whose balance minus credit debt differs from the sum of their ledger rows, in one query
    (without a debt, that is the balance itself)."""
    ledger_sum = (
        LedgerEntry.objects.filter(user_id=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        get_user_model()
        .objects.annotate(
            ledger_total=Coalesce(Subquery(ledger_sum, output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY)
        )
        .annotate(difference=F("credit_balance") - F("credit_debt") - F("ledger_total"))
        # Compare to the half cent: SQLite (embedded mode) sums decimals as floats.
        .filter(Q(difference__gte=HALF_CENT) | Q(difference__lte=-HALF_CENT))
        .order_by("username")
        .only("id", "username", "email", "credit_balance", "credit_debt")
    )


def settlement_postings(*, reference_ids: Iterable[UUID] | QuerySet, settlement_round: int) -> QuerySet[LedgerEntry]:
    """The payouts and refunds of one settlement round for these references (bets), by user then id."""
    return LedgerEntry.objects.filter(
        kind__in=ONCE_PER_ROUND, settlement_round=settlement_round, reference_id__in=reference_ids
    ).order_by("user_id", "id")


def ledger_for_user(*, user_id: UUID, kind: str | None = None) -> QuerySet[LedgerEntry]:
    """A user's ledger rows, newest first, optionally of one kind."""
    rows = LedgerEntry.objects.filter(user_id=user_id).order_by("-created_at", "-id")
    return rows.filter(kind=kind) if kind else rows


_DEFAULT_DESCRIPTIONS = {
    LedgerKind.SIGNUP_BONUS: "Welcome bonus",
    LedgerKind.DAILY_REWARD: "Daily reward",
    LedgerKind.REFERRAL_BONUS: "Referral bonus",
    LedgerKind.PURCHASE: "Credit pack purchase",
    LedgerKind.BET_PLACED: "Bet placed",
    LedgerKind.BET_PAYOUT: "Winning bet paid out",
    LedgerKind.BET_REFUND: "Bet refunded",
    LedgerKind.BET_SALE: "Bet cashed out",
    LedgerKind.ADMIN_ADJUSTMENT: "Adjustment by THISTHAT staff",
    LedgerKind.CLAWBACK: "Credits taken back after a review",
    LedgerKind.CREDIT_EXPIRY: "Credits expired after a long time without activity",
    LedgerKind.BET_PAYOUT_REVERSAL: "Payout taken back: the market's result was corrected",
    LedgerKind.BET_REFUND_REVERSAL: "Refund taken back: the market's result was corrected",
    LedgerKind.STOCK_BUY: "Stock bought",
    LedgerKind.STOCK_SELL: "Stock sold",
}


def ledger_entry_description(entry: LedgerEntry) -> str:
    """What a user reads next to a ledger row: its own description, else a default for its kind."""
    return entry.description or _DEFAULT_DESCRIPTIONS.get(entry.kind, LedgerKind(entry.kind).label)


def daily_rewards_for_user(*, user_id: UUID) -> QuerySet[DailyReward]:
    return DailyReward.objects.filter(user_id=user_id).order_by("-claimed_at", "-id")


def daily_reward_latest(*, user_id: UUID) -> DailyReward | None:
    """The user's most recent daily reward: the record the streak is read from."""
    return DailyReward.objects.filter(user_id=user_id).order_by("-claimed_on", "-claimed_at").first()


def purchases_for_user(*, user_id: UUID) -> QuerySet[Purchase]:
    return Purchase.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def credit_packages_on_sale() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(is_active=True).order_by("sort_order", "id")


@dataclass(frozen=True)
class ReferralTotals:
    credits_earned: Decimal  # paid to the referrer (and not taken back)
    credits_pending: Decimal  # what the referrals still awaiting a first qualifying bet would pay


def referral_totals(*, user_id: UUID) -> ReferralTotals:
    """What `user_id` earned from the people who joined with their code, and what is still pending."""
    totals = Referral.objects.filter(referrer_id=user_id).aggregate(
        earned=Coalesce(Sum("bonus", filter=Q(status=ReferralStatus.PAID)), Value(Decimal(0)), output_field=_MONEY),
        pending=Count("pk", filter=Q(status=ReferralStatus.PENDING)),
    )
    return ReferralTotals(totals["earned"], settings.REFERRAL_BONUS * totals["pending"])


def referrals_for_user(*, user_id: UUID) -> QuerySet[Referral]:
    """The referrals of the people who joined with `user_id`'s code, newest first, with the referred
    user: each one's status (pending, paid, withheld, clawed back) and what it paid the referrer."""
    return (
        Referral.objects.filter(referrer_id=user_id)
        .select_related("referred")
        .only("referred__id", "referred__username", "referred__created_at", "status", "bonus", "created_at")
        .order_by("-created_at", "-referred_id")
    )


# --- inactivity expiry ----------------------------------------------------------------------------
def _with_last_activity(users: QuerySet) -> QuerySet:
    """Annotate `last_active_at`: the latest of the sign-up, the last login and the last ledger row
    the account holder caused (bet, cash-out, claim, purchase, stock trade)."""
    own = Max("ledger_entries__created_at", filter=Q(ledger_entries__kind__in=OWN_ACTIVITY))
    return users.annotate(
        last_active_at=Greatest("created_at", Coalesce("last_login", "created_at"), Coalesce(own, "created_at"))
    )


def users_due_credit_expiry(*, cutoff: datetime) -> QuerySet:
    """Accounts holding more than SIGNUP_BONUS whose last activity is older than `cutoff`."""
    users = get_user_model().objects.filter(is_active=True, credit_balance__gt=settings.SIGNUP_BONUS)
    return _with_last_activity(users).filter(last_active_at__lt=cutoff).order_by("pk")


@dataclass(frozen=True)
class CreditExpiry:
    amount: Decimal
    expires_at: datetime


def credit_expiry_for(*, user_id: UUID) -> CreditExpiry | None:
    """The credits that will expire, and when, if the account stays inactive (None while the expiry
    is off or nothing is above SIGNUP_BONUS)."""
    if not settings.CREDIT_EXPIRY_ENABLED:
        return None
    users = get_user_model().objects.filter(pk=user_id, credit_balance__gt=settings.SIGNUP_BONUS)
    row = _with_last_activity(users).values("credit_balance", "last_active_at").first()
    if row is None:
        return None
    return CreditExpiry(
        amount=row["credit_balance"] - settings.SIGNUP_BONUS,
        expires_at=row["last_active_at"] + timedelta(days=settings.CREDIT_EXPIRY_DAYS),
    )
