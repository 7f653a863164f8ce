"""Writers of activity signals: one INSERT in the caller's transaction per recorded action, the odds
each bet was followed by, and the retention purge."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from thisthat.http import Client

from .models import Activity, ActivityKind


def activity_record(
    *,
    kind: ActivityKind,
    user_id: UUID,
    client: Client | None,
    reference_id: UUID | None = None,
    market_id: UUID | None = None,
    side: str = "",
    odds: Decimal | None = None,
    at: datetime | None = None,
) -> Activity | None:
    """Record what `user_id` did from `client`; nothing without a client (a service called from a
    job, a command or the admin has no request to describe)."""
    if client is None:
        return None
    return Activity.objects.create(
        kind=kind,
        user_id=user_id,
        address=client.address,
        device_id=client.device_id,
        reference_id=reference_id,
        market_id=market_id,
        side=side,
        odds=odds,
        created_at=at or timezone.now(),
    )


def bets_odds_after_record(*, odds: Mapping[UUID, tuple[Decimal, Decimal]], synced_at: datetime) -> int:
    """Give each bet recorded before `synced_at` on these markets, and not yet followed by a sync,
    its side's odds from this sync (`odds`: market id → (this, that)). Two statements: which of the
    markets have such bets, then one UPDATE for those."""
    waiting = Activity.objects.filter(kind=ActivityKind.BET, odds_after__isnull=True, created_at__lt=synced_at)
    market_ids = set(waiting.filter(market_id__in=list(odds)).values_list("market_id", flat=True).distinct())
    if not market_ids:
        return 0
    cases = [
        When(Q(market_id=market_id, side=side), then=Value(odds[market_id][index]))
        for market_id in market_ids
        for index, side in enumerate(("this", "that"))
    ]
    after = Case(*cases, default=None, output_field=Activity._meta.get_field("odds_after"))
    return waiting.filter(market_id__in=market_ids).update(odds_after=after)


def activity_purge(*, now: datetime | None = None) -> int:
    """Delete activity older than ACTIVITY_RETENTION_DAYS, kind by kind (each an index range)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.ACTIVITY_RETENTION_DAYS)
    deleted = 0
    for kind in ActivityKind.values:
        count, _ = Activity.objects.filter(kind=kind, created_at__lt=cutoff).delete()
        deleted += count
    return deleted
