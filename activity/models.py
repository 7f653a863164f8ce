from django.conf import settings
from django.db import models
from django.utils import timezone

from thisthat.money import odds_field


class ActivityKind(models.TextChoices):
    SIGNUP = "signup", "Sign-up"
    LOGIN = "login", "Login"
    DAILY_REWARD = "daily_reward", "Daily reward claim"
    PURCHASE = "purchase", "Purchase"
    BET = "bet", "Bet"
    CASH_OUT = "cash_out", "Cash-out"
    STOCK_TRADE = "stock_trade", "Stock trade"


class Activity(models.Model):
    """One sign-up, login, reward claim, purchase, bet, cash-out or stock trade and the client it came
    from, written in the transaction of the action it records (`activity.services.activity_record`)
    and purged after ACTIVITY_RETENTION_DAYS. `reference_id` is the bet, purchase, reward or trade."""

    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    # No index of its own: activity_user_time_idx leads with it (one index fewer to write per activity).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    address = models.GenericIPAddressField(null=True, blank=True, help_text="The client address (NUM_PROXIES).")
    device_id = models.CharField(max_length=64, blank=True, help_text="The X-Device-Id header, if any.")
    reference_id = models.UUIDField(null=True, blank=True)
    # Bets only: the side and odds bet on, and that side's odds after the next odds sync of the
    # market (filled by `activity.services.bets_odds_after_record`), for the odds-move rule.
    market_id = models.UUIDField(null=True, blank=True)
    side = models.CharField(max_length=4, blank=True)
    odds = odds_field(null=True, blank=True)
    odds_after = odds_field(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "activity"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="activity_user_time_idx"),
            models.Index(fields=["kind", "created_at"], name="activity_kind_time_idx"),
            models.Index(
                fields=["address", "created_at"], condition=models.Q(address__isnull=False), name="activity_address_idx"
            ),
            models.Index(
                fields=["device_id", "created_at"], condition=~models.Q(device_id=""), name="activity_device_idx"
            ),
            models.Index(
                fields=["market_id"],
                condition=models.Q(kind=ActivityKind.BET, odds_after__isnull=True),
                name="activity_bet_awaiting_odds_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.address or '?'} / {self.device_id or '-'}"
