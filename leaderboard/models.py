from django.conf import settings
from django.db import models

from thisthat.money import credits_field


class Period(models.TextChoices):
    ALL = "all", "All time"
    MONTH = "month", "This month"
    WEEK = "week", "This week"
    DAY = "day", "Today"


class Standing(models.Model):
    """One user's place on the boards for one period, as of the last recomputation: only users who
    placed or settled a bet in the period have one. A board lists only the users ranked on it: the
    volume board those who placed a bet in the period, the PnL board those with a bet settled (won
    or lost) or sold in it; the other board's rank is null. Every run writes the whole table anew, as
    a generation swapped in at commit (`leaderboard.generations`), so readers never see a half-written
    board."""

    period = models.CharField(max_length=8, choices=Period.choices)
    # Derived data, rebuilt by every run: no foreign-key trigger to pay for on each inserted row, and
    # no index of its own (every lookup by user also names the period: the unique index serves it),
    # one index fewer to write for each of the many rows a run rewrites.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    pnl = credits_field()
    volume = credits_field()
    pnl_rank = models.PositiveIntegerField(null=True)
    volume_rank = models.PositiveIntegerField(null=True)
    # The row's place on the board (1, 2, 3, ... in rank then user-id order): a page at any depth is
    # the index range (offset, offset + limit], never a scan past `offset` rows.
    pnl_position = models.PositiveIntegerField(null=True)
    volume_position = models.PositiveIntegerField(null=True)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "user"], name="standing_one_per_period_user")]
        indexes = [
            models.Index(fields=["period", "pnl_position"], name="standing_pnl_board_idx"),
            models.Index(fields=["period", "volume_position"], name="standing_volume_board_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.period}: #{self.pnl_rank} PnL, #{self.volume_rank} volume"


class RankingRun(models.Model):
    """One recomputation: when, and how many users each board ranked in each period."""

    computed_at = models.DateTimeField()
    users = models.PositiveIntegerField(help_text="Active users when the run happened.")
    # {"all": {"pnl": 812, "volume": 950}, "month": {...}, ...}: each board's `total`.
    ranked = models.JSONField(help_text="Per period and board, how many users it ranks.")
    duration_seconds = models.FloatField()

    class Meta:
        get_latest_by = "computed_at"

    def __str__(self) -> str:
        return f"ranking of {self.computed_at:%Y-%m-%d %H:%M:%S}"
