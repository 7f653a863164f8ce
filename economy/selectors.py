from collections.abc import Iterable
from decimal import Decimal
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from thisthat.money import CREDITS

from .models import ONCE_PER_ROUND, CreditPackage, DailyReward, LedgerEntry, LedgerKind, Purchase

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
    LedgerKind.BET_PAYOUT_REVERSAL: "Payout taken back: the market's result was corrected",
    LedgerKind.BET_REFUND_REVERSAL: "Refund taken back: the market's result was corrected",
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


def _referrer_bonuses(referrer_id: UUID) -> QuerySet[LedgerEntry]:
    """The referral bonuses `referrer_id` received for people who joined with their code (each row's
    reference is the new user; the bonus they got as a new user themselves is not among them)."""
    referred = get_user_model().objects.filter(referred_by_id=referrer_id).values("id")
    return LedgerEntry.objects.filter(
        user_id=referrer_id, kind=LedgerKind.REFERRAL_BONUS, reference_id__in=Subquery(referred)
    )


def referral_credits_earned(*, user_id: UUID) -> Decimal:
    """What the referrer `user_id` has been paid for the people who joined with their code."""
    earned = _referrer_bonuses(user_id).aggregate(total=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=_MONEY))
    return earned["total"]


def referrals_for_user(*, user_id: UUID) -> QuerySet:
    """The users who joined with `user_id`'s code, newest first, each annotated with `bonus`: what
    the referrer was paid for them (0 past REFERRAL_MAX_BONUSES or at the balance cap)."""
    bonus = (
        LedgerEntry.objects.filter(user_id=user_id, kind=LedgerKind.REFERRAL_BONUS, reference_id=OuterRef("pk"))
        .order_by()
        .values("reference_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return (
        get_user_model()
        .objects.filter(referred_by_id=user_id)
        .annotate(bonus=Coalesce(Subquery(bonus, output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY))
        .order_by("-created_at", "-id")
        .only("id", "username", "created_at")
    )
