"""Rank recomputation: every period's standings in set-based SQL (window functions), one transaction."""

import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from betting.models import Bet
from thisthat.locks import cache_lock

from . import cache as board_cache
from .models import Period, Standing
from .periods import period_start

logger = logging.getLogger(__name__)

# Realised PnL and volume per user in a window, straight from the bets (never from running totals).
# A user "has bets" in a window when they placed or settled one in it; the others share the rank
# after everyone who has (RANK() gives ties one rank and skips: 1, 2, 2, 4).
_STANDINGS_SQL = """
INSERT INTO {standing} (period, user_id, pnl, volume, pnl_rank, volume_rank, computed_at)
SELECT %(period)s, u.id, COALESCE(a.pnl, 0), COALESCE(a.volume, 0),
       RANK() OVER (ORDER BY CASE WHEN a.user_id IS NULL THEN 1 ELSE 0 END, COALESCE(a.pnl, 0) DESC),
       RANK() OVER (ORDER BY CASE WHEN a.user_id IS NULL THEN 1 ELSE 0 END, COALESCE(a.volume, 0) DESC),
       %(now)s
FROM {user} u
LEFT JOIN (
    SELECT user_id,
           SUM(CASE WHEN status IN ('won', 'lost', 'sold') AND resolved_at >= %(start)s
                    THEN actual_payout - amount ELSE 0 END) AS pnl,
           SUM(CASE WHEN placed_at >= %(start)s THEN amount ELSE 0 END) AS volume
    FROM {bet}
    WHERE placed_at >= %(start)s OR resolved_at >= %(start)s
    GROUP BY user_id
) a ON a.user_id = u.id
WHERE u.is_active
"""

# Profiles show the all-time ranks; only rows whose rank changed are written.
_PROFILE_RANKS_SQL = """
UPDATE {user} SET rank_by_pnl = s.pnl_rank, rank_by_volume = s.volume_rank
FROM {standing} s
WHERE s.period = %(period)s AND s.user_id = {user}.id
  AND ({user}.rank_by_pnl IS DISTINCT FROM s.pnl_rank OR {user}.rank_by_volume IS DISTINCT FROM s.volume_rank)
"""


def _sql(template: str) -> str:
    return template.format(
        standing=Standing._meta.db_table, user=get_user_model()._meta.db_table, bet=Bet._meta.db_table
    )


@dataclass(frozen=True)
class RecomputeResult:
    users: int
    computed_at: datetime
    duration_seconds: float


@transaction.atomic
def _standings_replace(*, now: datetime) -> int:
    users = 0
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Standing._meta.db_table}")
        for period in Period.values:
            cursor.execute(_sql(_STANDINGS_SQL), {"period": period, "now": now, "start": period_start(period, now=now)})
            if period == Period.ALL:
                users = cursor.rowcount
        cursor.execute(_sql(_PROFILE_RANKS_SQL), {"period": Period.ALL})
    return users


def ranks_recompute() -> RecomputeResult | None:
    """Recompute every period's standings and the profile ranks, then refresh the cached boards.
    Returns None when another run holds the lock (runs never overlap)."""
    with cache_lock("leaderboard:recompute", timeout=10 * 60) as acquired:
        if not acquired:
            return None
        board_cache.recompute_request_clear()
        started = time.monotonic()
        now = timezone.now()
        users = _standings_replace(now=now)
        board_cache.boards_refresh(computed_at=now)
        result = RecomputeResult(users=users, computed_at=now, duration_seconds=time.monotonic() - started)
    logger.info(
        "ranks recomputed", extra={"users": result.users, "duration_seconds": round(result.duration_seconds, 3)}
    )
    return result
