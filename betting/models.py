import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from markets.models import Resolution, Side
from thisthat.money import credits_field, odds_field

MIN_BET, MAX_BET = Decimal("10"), Decimal("10000")


class BetStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    CANCELLED = "cancelled", "Cancelled"
    SOLD = "sold", "Sold"


# Bets whose result is realised PnL: paid out or lost at settlement, or sold (cancelled ones are refunded).
REALISED_STATUSES = (BetStatus.WON, BetStatus.LOST, BetStatus.SOLD)


class Bet(models.Model):
    """A stake on one side of a market at the odds of the moment; settled or sold exactly once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the two user indexes below lead with it (one index fewer to write per bet).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bets", db_index=False)
    market = models.ForeignKey("markets.Market", on_delete=models.PROTECT, related_name="bets")
    side = models.CharField(max_length=4, choices=Side.choices)
    amount = credits_field()
    odds_at_bet = odds_field()
    potential_payout = credits_field()
    # What the bet returned: the payout (won), 0 (lost), the stake (cancelled) or the sale value (sold).
    actual_payout = credits_field(null=True, blank=True)
    status = models.CharField(max_length=16, choices=BetStatus.choices, default=BetStatus.PENDING)
    placed_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="When it was settled or sold.")

    class Meta:
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-placed_at", "-id"], name="bet_user_recent_idx"),
            models.Index(fields=["user", "status", "-placed_at"], name="bet_user_status_idx"),
            models.Index(fields=["market", "id"], condition=models.Q(status="pending"), name="bet_market_pending_idx"),
            models.Index(fields=["resolved_at"], name="bet_resolved_at_idx"),
            models.Index(fields=["placed_at"], name="bet_placed_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=MIN_BET, amount__lte=MAX_BET), name="bet_amount_in_range"
            ),
            models.CheckConstraint(condition=models.Q(odds_at_bet__gt=0, odds_at_bet__lt=1), name="bet_odds_in_range"),
            models.CheckConstraint(
                condition=models.Q(potential_payout__gte=models.F("amount")), name="bet_payout_at_least_stake"
            ),
            models.CheckConstraint(
                condition=(models.Q(status="pending") & models.Q(actual_payout__isnull=True, resolved_at__isnull=True))
                | (~models.Q(status="pending") & models.Q(actual_payout__gte=0, resolved_at__isnull=False)),
                name="bet_payout_set_once_settled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} on {self.side} ({self.status})"


class ResolutionCorrection(models.Model):
    """A staff correction of a market's resolution (market_unresolve): what was reversed, why and by
    whom. The ledger holds the compensating rows; this is the record staff read."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    market = models.ForeignKey("markets.Market", on_delete=models.PROTECT, related_name="corrections")
    previous_outcome = models.CharField(max_length=16, choices=Resolution.choices)
    # None: unresolved (the market went back to open or closed); else resolved again to this outcome.
    new_outcome = models.CharField(max_length=16, choices=Resolution.choices, null=True, blank=True)  # noqa: DJ001
    settlement_round = models.PositiveIntegerField(help_text="The settlement round reversed.")
    reason = models.TextField()
    staff = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    bets_reversed = models.PositiveIntegerField(default=0, help_text="Settled bets returned to pending.")
    credits_reversed = credits_field(default=0, help_text="Payouts and refunds taken back.")
    debt_added = credits_field(default=0, help_text="What winners owed beyond their balance (credit debt).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "betting_resolution_correction"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["market", "-created_at"], name="correction_market_recent_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="correction_has_reason"),
            models.CheckConstraint(
                condition=models.Q(new_outcome__isnull=True) | ~models.Q(new_outcome=models.F("previous_outcome")),
                name="correction_changes_the_outcome",
            ),
            models.UniqueConstraint(fields=["market", "settlement_round"], name="correction_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.previous_outcome} → {self.new_outcome or 'unresolved'} ({self.created_at:%Y-%m-%d})"
