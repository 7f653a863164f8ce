from django.conf import settings
from django.db import models
from django.utils import timezone


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


# Kinds that may happen at most once per referenced object (a bet is paid, refunded or sold once).
ONCE_PER_REFERENCE = [
    LedgerKind.BET_PLACED,
    LedgerKind.BET_PAYOUT,
    LedgerKind.BET_REFUND,
    LedgerKind.BET_SALE,
    LedgerKind.PURCHASE,
    LedgerKind.DAILY_REWARD,
]


class LedgerEntry(models.Model):
    """One balance change. A user's balance always equals the sum of their entries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ledger_entries")
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    kind = models.CharField(max_length=32, choices=LedgerKind.choices)
    reference_id = models.UUIDField(null=True, blank=True)
    balance_after = models.DecimalField(max_digits=18, decimal_places=2)
    description = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
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
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_amount_non_zero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="ledger_balance_after_non_negative"),
            models.CheckConstraint(
                condition=~models.Q(kind__in=ONCE_PER_REFERENCE) | models.Q(reference_id__isnull=False),
                name="ledger_once_per_reference_has_reference",
            ),
            models.UniqueConstraint(
                fields=["reference_id", "kind"],
                condition=models.Q(kind__in=ONCE_PER_REFERENCE),
                name="ledger_once_per_reference",
            ),
            models.UniqueConstraint(
                fields=["user"], condition=models.Q(kind=LedgerKind.SIGNUP_BONUS), name="ledger_one_signup_bonus"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+} → {self.balance_after}"
