"""The UTC calendar windows of the leaderboard periods (pure)."""

from datetime import UTC, datetime, timedelta

from .models import Period

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(period: str, *, now: datetime) -> datetime:
    """Start of the window that contains `now`: today, this ISO week (from Monday) or this month, in UTC."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == Period.DAY:
        return today
    if period == Period.WEEK:
        return today - timedelta(days=today.weekday())
    if period == Period.MONTH:
        return today.replace(day=1)
    return EPOCH
