"""Rank recomputation: every period's standings in set-based SQL (window functions), one transaction."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from betting.models import REALISED_STATUSES, Bet
from thisthat.locks import cache_lock

from . import cache as board_cache
from .models import Period, RankingRun, Standing
from .periods import period_start
from .selectors import BOARD_RANK_FIELD, board_page, ranked_users

logger = logging.getLogger(__name__)

RUNS_KEPT_FOR = timedelta(days=7)

# Realised PnL and volume per user in a window, straight from the bets (never from running totals).
# Only users who placed or settled a bet in the window get a row; RANK() gives ties one rank and
# skips (1, 2, 2, 4). Everyone else shares the rank after them (see `selectors`).
_STANDINGS_SQL = """
INSERT INTO {standing} (period, user_id, pnl, volume, pnl_rank, volume_rank, computed_at)
SELECT %(period)s, a.user_id, a.pnl, a.volume,
       RANK() OVER (ORDER BY a.pnl DESC), RANK() OVER (ORDER BY a.volume DESC), %(now)s
FROM (
    SELECT b.user_id,
           SUM(CASE WHEN b.status IN ({realised}) AND b.resolved_at >= %(start)s
                    THEN b.actual_payout - b.amount ELSE 0 END) AS pnl,
           SUM(CASE WHEN b.placed_at >= %(start)s THEN b.amount ELSE 0 END) AS volume
    FROM {bet} b
    WHERE b.placed_at >= %(start)s OR b.resolved_at >= %(start)s
    GROUP BY b.user_id
) a
JOIN {user} u ON u.id = a.user_id AND {ranked_user}
"""

# Profiles show the all-time ranks; users without bets share the rank after everyone who has one,
# and users left off the boards (staff, by LEADERBOARD_EXCLUDE_STAFF) have none. Only rows whose rank
# changed are written.
_NEW_PROFILE_RANKS = """
    SELECT u.id,
           CASE WHEN {ranked_user} THEN COALESCE(s.pnl_rank, %(tail)s) END AS pnl_rank,
           CASE WHEN {ranked_user} THEN COALESCE(s.volume_rank, %(tail)s) END AS volume_rank
    FROM {user} u LEFT JOIN {standing} s ON s.user_id = u.id AND s.period = %(period)s
    WHERE u.is_active
"""
_CHANGED = "({user}.rank_by_pnl IS DISTINCT FROM r.pnl_rank OR {user}.rank_by_volume IS DISTINCT FROM r.volume_rank)"
# Settlements lock users in id order; taking these rows in the same order first rules out a deadlock
# (an UPDATE alone would lock them in whatever order its plan reads them).
_LOCK_CHANGED_PROFILES_SQL = f"""
SELECT {{user}}.id FROM {{user}} JOIN ({_NEW_PROFILE_RANKS}) r ON r.id = {{user}}.id
WHERE {_CHANGED} ORDER BY {{user}}.id FOR NO KEY UPDATE OF {{user}}
"""
_PROFILE_RANKS_SQL = f"""
UPDATE {{user}} SET rank_by_pnl = r.pnl_rank, rank_by_volume = r.volume_rank
FROM ({_NEW_PROFILE_RANKS}) r
WHERE {{user}}.id = r.id AND {_CHANGED}
"""


def _sql(template: str) -> str:
    return template.format(
        standing=Standing._meta.db_table,
        user=get_user_model()._meta.db_table,
        bet=Bet._meta.db_table,
        realised=", ".join(f"'{status}'" for status in REALISED_STATUSES),  # our own enum values, not input
        # Who the public boards list (the same rule as selectors.ranked_users); `u` is the user table.
        ranked_user="u.is_active" + (" AND NOT u.is_staff" if settings.LEADERBOARD_EXCLUDE_STAFF else ""),
    )


def _standings_replace(*, now: datetime, started: float) -> RankingRun:
    """Replace every period's standings from one snapshot of the bets and record the run."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if outermost:
                # One snapshot for every statement of the run (only this job writes standings, under
                # its lock, so nothing here can meet a serialization failure). Nested in a caller's
                # transaction (tests), the caller's isolation applies.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # window sorts in memory, not on disk
        cursor.execute(f"DELETE FROM {Standing._meta.db_table}")
        ranked = {}
        for period in Period.values:
            cursor.execute(_sql(_STANDINGS_SQL), {"period": period, "now": now, "start": period_start(period, now=now)})
            ranked[period] = cursor.rowcount
        users = ranked_users().filter(created_at__lte=now).count()
        # Recorded with the standings it describes, so the database never pairs one with the other's run.
        RankingRun.objects.filter(computed_at__lt=now - RUNS_KEPT_FOR).delete()
        return RankingRun.objects.create(
            computed_at=now, users=users, ranked=ranked, duration_seconds=time.monotonic() - started
        )


@transaction.atomic
def _profile_ranks_update(*, tail: int) -> None:
    # Its own short transaction: user rows are hot (every bet locks one), so they are not held
    # for the whole run, and only rows whose rank changed are written.
    params = {"period": Period.ALL, "tail": tail}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # SQLite has no row locks (and no FOR UPDATE)
            cursor.execute(_sql(_LOCK_CHANGED_PROFILES_SQL), params)
        cursor.execute(_sql(_PROFILE_RANKS_SQL), params)


def ranks_recompute() -> RankingRun | None:
    """Recompute every period's standings and the profile ranks, then refresh the cached boards.
    Returns None when another run holds the lock (runs never overlap)."""
    with cache_lock("leaderboard:recompute", timeout=10 * 60) as acquired:
        if not acquired:
            return None
        board_cache.recompute_request_clear()
        started = time.monotonic()
        run = _standings_replace(now=timezone.now(), started=started)
        board_cache.run_publish(run)  # at once, so no page pairs the new standings with the old run
        for board in BOARD_RANK_FIELD:  # the first page of every board is ready before anyone asks
            for period in Period.values:
                board_page(board=board, period=period, limit=board_cache.PREFILLED_LIMIT, offset=0)
        _profile_ranks_update(tail=run.ranked[Period.ALL] + 1)
        run.duration_seconds = time.monotonic() - started
        RankingRun.objects.filter(pk=run.pk).update(duration_seconds=run.duration_seconds)
    logger.info(
        "ranks recomputed",
        extra={"users": run.users, "ranked": run.ranked, "duration_seconds": round(run.duration_seconds, 3)},
    )
    return run
