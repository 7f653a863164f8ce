from django.conf import settings
from django.db import models


class Period(models.TextChoices):
    ALL = "all", "All time"
    MONTH = "month", "This month"
    WEEK = "week", "This week"
    DAY = "day", "Today"


class Standing(models.Model):
    """One user's place on both boards for one period, as of the last recomputation. The whole set
    for a period is replaced in one transaction, so readers never see a half-written board."""

    period = models.CharField(max_length=8, choices=Period.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    pnl = models.DecimalField(max_digits=18, decimal_places=2)
    volume = models.DecimalField(max_digits=18, decimal_places=2)
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
