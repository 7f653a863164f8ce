from django.conf import settings
from django.db import models

from thisthat.money import credits_field


class Period(models.TextChoices):
    ALL = "all", "All time"
    MONTH = "month", "This month"
    WEEK = "week", "This week"
    DAY = "day", "Today"


class Standing(models.Model):
    """One user's place on both boards for one period, as of the last recomputation: only users who
    placed or settled a bet in the period have one. Every run replaces all rows in one transaction,
    so readers never see a half-written board."""

    period = models.CharField(max_length=8, choices=Period.choices)
    # Derived data, rebuilt by every run: no foreign-key trigger to pay for on each inserted row.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    pnl = credits_field()
    volume = credits_field()
    pnl_rank = models.PositiveIntegerField()
    volume_rank = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "user"], name="standing_one_per_period_user")]
        indexes = [
            models.Index(fields=["period", "pnl_rank", "user"], name="standing_pnl_board_idx"),
            models.Index(fields=["period", "volume_rank", "user"], name="standing_volume_board_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.period}: #{self.pnl_rank} PnL, #{self.volume_rank} volume"


class RankingRun(models.Model):
    """One recomputation: when, and how many users each period ranked (the rest share the next rank)."""

    computed_at = models.DateTimeField()
    users = models.PositiveIntegerField(help_text="Active users when the run happened.")
    ranked = models.JSONField(help_text="Per period, how many users had bets in it.")
    duration_seconds = models.FloatField()

    class Meta:
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"ranking of {self.computed_at:%Y-%m-%d %H:%M:%S}"
