import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from thisthat.money import credits_field


class LedgerKind(models.TextChoices):
    SIGNUP_BONUS = "signup_bonus", "Signup bonus"
    DAILY_REWARD = "daily_reward", "Daily reward"
    REFERRAL_BONUS = "referral_bonus", "Referral bonus"
    PURCHASE = "purchase", "Purchase"
    BET_PLACED = "bet_placed", "Bet placed"
    BET_PAYOUT = "bet_payout", "Bet payout"
    BET_REFUND = "bet_refund", "Bet refund"
    BET_SALE = "bet_sale", "Bet sale"
    ADMIN_ADJUSTMENT = "admin_adjustment", "Admin adjustment"
    CLAWBACK = "clawback", "Clawback"
    CREDIT_EXPIRY = "credit_expiry", "Credit expiry"
    BET_PAYOUT_REVERSAL = "bet_payout_reversal", "Bet payout reversed"
    BET_REFUND_REVERSAL = "bet_refund_reversal", "Bet refund reversed"
    STOCK_BUY = "stock_buy", "Stock bought"
    STOCK_SELL = "stock_sell", "Stock sold"


# Kinds that may happen at most once per referenced object (a bet is placed and sold once, a
# purchase or a daily reward credited once, a stock trade paid once).
ONCE_PER_REFERENCE = [
    LedgerKind.BET_PLACED,
    LedgerKind.BET_SALE,
    LedgerKind.PURCHASE,
    LedgerKind.DAILY_REWARD,
    LedgerKind.STOCK_BUY,
    LedgerKind.STOCK_SELL,
]
# Settlement postings: once per referenced bet and settlement round. A correction reverses them (and
# moves the market to the next round), so a re-resolution pays each bet again exactly once.
ONCE_PER_ROUND = [LedgerKind.BET_PAYOUT, LedgerKind.BET_REFUND]
BET_RETURNS = [LedgerKind.BET_PAYOUT, LedgerKind.BET_REFUND, LedgerKind.BET_SALE]
# Each reversal kind and the kind of row it reverses (compensating rows: nothing is edited or deleted).
REVERSAL_OF = {
    LedgerKind.BET_PAYOUT: LedgerKind.BET_PAYOUT_REVERSAL,
    LedgerKind.BET_REFUND: LedgerKind.BET_REFUND_REVERSAL,
}
REVERSALS = list(REVERSAL_OF.values())
# Only the reversal of a payout or refund (a corrected resolution) may take more than the balance
# holds: the rest becomes the user's credit debt.
MAY_LEAVE_DEBT = REVERSALS

# Kinds that happen at most once per (user, reference): a referral bonus per referral (the new user's
# references the referrer, the referrer's the new user), a clawback per posting it takes back.
ONCE_PER_USER_AND_REFERENCE = [LedgerKind.REFERRAL_BONUS, LedgerKind.CLAWBACK]

# What a suspended account can neither spend nor receive: its own bets, cash-outs, claims and stock
# trades (its holdings are frozen as they are, like its bets: selling would realise gains staff are
# reviewing), and referral bonuses. Settlement still pays and refunds it; staff may still adjust it. A
# purchase is refused before it is charged (purchase_create), so one already paid for is always credited.
SUSPENDED_REFUSES = [
    LedgerKind.BET_PLACED,
    LedgerKind.BET_SALE,
    LedgerKind.DAILY_REWARD,
    LedgerKind.REFERRAL_BONUS,
    LedgerKind.STOCK_BUY,
    LedgerKind.STOCK_SELL,
]

# What the account holder does themselves: the inactivity expiry counts from the latest of these.
OWN_ACTIVITY = [
    LedgerKind.BET_PLACED,
    LedgerKind.BET_SALE,
    LedgerKind.DAILY_REWARD,
    LedgerKind.PURCHASE,
    LedgerKind.STOCK_BUY,
    LedgerKind.STOCK_SELL,
]


class LedgerEntry(models.Model):
    """One balance change. A user's balance minus their credit debt always equals the sum of their
    entries (the debt is 0 unless a clawback took more than the balance held)."""

    # No index of its own: the user indexes below lead with it (one index fewer to write per posting).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries", db_index=False
    )
    amount = credits_field()
    kind = models.CharField(max_length=32, choices=LedgerKind.choices)
    reference_id = models.UUIDField(null=True, blank=True)
    balance_after = credits_field()
    # What the user owes after this row: a clawback beyond the balance leaves a debt, which later
    # credits pay off first. balance_after - debt_after is the running sum of the user's rows.
    debt_after = credits_field(default=0)
    # The settlement round of the referenced bet's market (ONCE_PER_ROUND); 0 for everything else.
    settlement_round = models.PositiveIntegerField(default=0)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversal",
        help_text="The row a reversal compensates (each row is reversed at most once).",
    )
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed only where set (below): almost every row has no staff member
        help_text="The staff member behind an admin adjustment.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "economy_ledger_entry"
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at", "-id"], name="ledger_user_recent_idx"),
            models.Index(fields=["user", "kind", "-created_at"], name="ledger_user_kind_idx"),
            models.Index(fields=["kind", "created_at"], name="ledger_kind_time_idx"),
            models.Index(
                fields=["created_by"], condition=models.Q(created_by__isnull=False), name="ledger_created_by_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_non_zero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="ledger_balance_after_non_negative"),
            models.CheckConstraint(condition=models.Q(debt_after__gte=0), name="ledger_debt_after_non_negative"),
            models.CheckConstraint(
                condition=models.Q(balance_after=0) | models.Q(debt_after=0), name="ledger_balance_or_debt"
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=ONCE_PER_REFERENCE + ONCE_PER_ROUND + REVERSALS)
                | models.Q(reference_id__isnull=False),
                name="ledger_once_per_reference_has_reference",
            ),
            models.UniqueConstraint(
                fields=["reference_id", "kind"],
                condition=models.Q(kind__in=ONCE_PER_REFERENCE),
                name="ledger_once_per_reference",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind__in=ONCE_PER_USER_AND_REFERENCE) | models.Q(reference_id__isnull=False),
                name="ledger_once_per_user_reference_has_reference",
            ),
            models.UniqueConstraint(
                fields=["user", "reference_id", "kind"],
                condition=models.Q(kind__in=ONCE_PER_USER_AND_REFERENCE),
                name="ledger_once_per_user_and_reference",
            ),
            models.UniqueConstraint(
                fields=["reference_id", "kind", "settlement_round"],
                condition=models.Q(kind__in=ONCE_PER_ROUND),
                name="ledger_once_per_round",
            ),
            # A reversal names the row it compensates and takes its credits back; nothing else does.
            models.CheckConstraint(
                condition=(models.Q(kind__in=REVERSALS) & models.Q(reverses__isnull=False, amount__lt=0))
                | (~models.Q(kind__in=REVERSALS) & models.Q(reverses__isnull=True)),
                name="ledger_reversal_names_its_row",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(kind=LedgerKind.SIGNUP_BONUS), name="ledger_one_signup_bonus"
            ),
            # A bet returns credits once per settlement round, whichever way: paid, refunded or sold.
            models.UniqueConstraint(
                fields=["reference_id", "settlement_round"],
                condition=models.Q(kind__in=BET_RETURNS),
                name="ledger_one_return_per_bet",
            ),
        ]
        permissions = [("adjust_credits", "Can adjust user credits through the ledger")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+} → {self.balance_after}"


class DailyReward(models.Model):
    """One claimed daily reward. The database allows one per user per UTC calendar day."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="daily_rewards")
    streak_day = models.PositiveIntegerField()
    credits_awarded = credits_field()
    claimed_on = models.DateField(help_text="The UTC calendar day of the claim.")
    claimed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "economy_daily_reward"
        ordering = ["-claimed_at"]
        indexes = [models.Index(fields=["user", "-claimed_at"], name="daily_reward_user_recent_idx")]
        constraints = [
            models.UniqueConstraint(fields=["user", "claimed_on"], name="daily_reward_once_per_day"),
            models.CheckConstraint(condition=models.Q(streak_day__gte=1), name="daily_reward_streak_day_positive"),
            models.CheckConstraint(condition=models.Q(credits_awarded__gt=0), name="daily_reward_credits_positive"),
        ]

    def __str__(self) -> str:
        return f"day {self.streak_day}: {self.credits_awarded} on {self.claimed_on}"


class ReferralStatus(models.TextChoices):
    PENDING = "pending", "Pending (awaiting the first qualifying bet)"
    PAID = "paid", "Paid"
    WITHHELD = "withheld", "Withheld"
    CLAWED_BACK = "clawed_back", "Clawed back"


class ReferralWithheld(models.TextChoices):
    """Why a referrer's bonus was not paid."""

    SHARED_DEVICE = "shared_device", "The two accounts share a device"
    SHARED_ADDRESS = "shared_address", "The two accounts share an address"
    FLAGGED = "flagged", "The referred account is flagged"
    REFERRER_SUSPENDED = "referrer_suspended", "The referrer is suspended"
    BONUS_CAP = "bonus_cap", "The referrer was paid REFERRAL_MAX_BONUSES times already"
    BALANCE_CAP = "balance_cap", "The referrer's balance is at the maximum"


class Referral(models.Model):
    """A sign-up with someone's referral code. The new user gets their bonus at sign-up; the
    referrer's is pending until the new user's first bet of at least REFERRAL_QUALIFYING_BET
    (`qualified_at`), then paid or withheld once (`economy.services.referral_settle`)."""

    referred = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.PROTECT, related_name="referral"
    )
    referrer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    bonus = credits_field(default=0, help_text="What the referrer was paid.")
    qualified_at = models.DateTimeField(null=True, blank=True, help_text="The referred user's first qualifying bet.")
    qualifying_bet_id = models.UUIDField(null=True, blank=True)
    reason = models.CharField(max_length=32, choices=ReferralWithheld.choices, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "economy_referral"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["referrer", "-created_at"], name="referral_referrer_recent_idx"),
            models.Index(
                fields=["qualified_at"],
                condition=models.Q(status=ReferralStatus.PENDING, qualified_at__isnull=False),
                name="referral_qualified_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status=ReferralStatus.PAID) | models.Q(bonus__gt=0), name="referral_paid_has_bonus"
            ),
            models.CheckConstraint(
                condition=models.Q(status=ReferralStatus.PENDING) | models.Q(decided_at__isnull=False),
                name="referral_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"referral of {self.referred_id} by {self.referrer_id} ({self.status})"


class CreditPackage(models.Model):
    """A credit pack on sale; staff edit them in the admin."""

    name = models.CharField(max_length=64)
    credits = credits_field()
    price_usd = models.DecimalField(max_digits=10, decimal_places=2)
    is_active = models.BooleanField(default=True, help_text="Only active packages are listed and sold.")
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "economy_credit_package"
        ordering = ["sort_order", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="credit_package_credits_positive"),
            models.CheckConstraint(condition=models.Q(price_usd__gte=0), name="credit_package_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.credits} credits, ${self.price_usd})"


class PurchaseStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"


class Purchase(models.Model):
    """A credit pack bought by a user; credits and price are copied from the package at the time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchases")
    package = models.ForeignKey(CreditPackage, on_delete=models.PROTECT, related_name="purchases")
    credits = credits_field()
    price_usd = models.DecimalField(max_digits=10, decimal_places=2)
    provider = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=PurchaseStatus.choices, default=PurchaseStatus.PENDING)
    provider_reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "economy_purchase"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="purchase_user_recent_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="purchase_credits_positive"),
            models.CheckConstraint(condition=models.Q(price_usd__gte=0), name="purchase_price_non_negative"),
            models.CheckConstraint(
                condition=~models.Q(status="completed") | models.Q(completed_at__isnull=False),
                name="purchase_completed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits for ${self.price_usd} ({self.status})"
