"""Rank recomputation: every period's standings in set-based SQL (window functions), one transaction."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from betting.models import REALISED_STATUSES, Bet
from thisthat.locks import cache_lock

from . import cache as board_cache
from .models import Period, RankingRun, Standing
from .periods import period_start
from .selectors import BOARD_RANK_FIELD, board_page, ranked_users

logger = logging.getLogger(__name__)

RUNS_KEPT_FOR = timedelta(days=7)

# Realised PnL and volume per user and period in one pass over the bets (never from running totals),
# then both boards of every period ranked by window functions. A user gets a row in a period with a
# bet placed in it (the volume board) or settled or sold in it (the PnL board); each board ranks only
# its own users: RANK() gives ties one rank and skips (1, 2, 2, 4), ROW_NUMBER() the place a page
# is read by. Cancelled bets are refunds: no PnL, so they rank no one on the PnL board.
_STANDINGS_SQL = """
CREATE TEMPORARY TABLE new_standing AS
WITH a AS (
    SELECT b.user_id, {per_period}
    FROM {bet} b JOIN {user} u ON u.id = b.user_id AND {ranked_user}
    GROUP BY b.user_id
)
SELECT p.period, p.user_id, p.pnl, p.volume,
       CASE WHEN p.settled THEN RANK() OVER (PARTITION BY p.period, p.settled ORDER BY p.pnl DESC) END AS pnl_rank,
       CASE WHEN p.placed THEN RANK() OVER (PARTITION BY p.period, p.placed ORDER BY p.volume DESC) END
           AS volume_rank,
       CASE WHEN p.settled THEN ROW_NUMBER() OVER (PARTITION BY p.period, p.settled ORDER BY p.pnl DESC, p.user_id)
       END AS pnl_position,
       CASE WHEN p.placed THEN ROW_NUMBER() OVER (PARTITION BY p.period, p.placed ORDER BY p.volume DESC, p.user_id)
       END AS volume_position
FROM ({periods}) p
WHERE p.settled OR p.placed
"""
# Only what changed is written (a run after a few bets rewrites the rows whose place moved, not all
# of them): rows that are new or differ, then rows no longer on any board. `computed_at` is the run
# that last changed the row. (WHERE true: SQLite's upsert after INSERT ... SELECT needs a WHERE.)
_STANDINGS_UPSERT_SQL = """
INSERT INTO {standing} (period, user_id, pnl, volume, pnl_rank, volume_rank, pnl_position, volume_position,
                        computed_at)
SELECT n.*, %(now)s FROM new_standing n WHERE true
ON CONFLICT (period, user_id) DO UPDATE SET
    pnl = excluded.pnl, volume = excluded.volume, pnl_rank = excluded.pnl_rank, volume_rank = excluded.volume_rank,
    pnl_position = excluded.pnl_position, volume_position = excluded.volume_position,
    computed_at = excluded.computed_at
WHERE ({standing}.pnl, {standing}.volume, {standing}.pnl_rank, {standing}.volume_rank, {standing}.pnl_position,
       {standing}.volume_position)
      IS DISTINCT FROM (excluded.pnl, excluded.volume, excluded.pnl_rank, excluded.volume_rank,
                        excluded.pnl_position, excluded.volume_position)
"""
_STANDINGS_GONE_SQL = """
DELETE FROM {standing}
WHERE NOT EXISTS (SELECT 1 FROM new_standing n WHERE n.period = {standing}.period AND n.user_id = {standing}.user_id)
"""
# Per period: the PnL realised in it and whether any bet was settled or sold in it; the same for
# the volume placed. `{p}` is the period's name, our own enum value.
_PER_PERIOD = """
    COALESCE(SUM(b.actual_payout - b.amount) FILTER (WHERE b.status IN ({realised}) AND b.resolved_at >= %({p})s), 0)
        AS pnl_{p},
    COUNT(*) FILTER (WHERE b.status IN ({realised}) AND b.resolved_at >= %({p})s) > 0 AS settled_{p},
    COALESCE(SUM(b.amount) FILTER (WHERE b.placed_at >= %({p})s), 0) AS volume_{p},
    COUNT(*) FILTER (WHERE b.placed_at >= %({p})s) > 0 AS placed_{p}"""

# Profiles show the all-time ranks: null until the user has a bet on that board, and for users left
# off the boards (staff, by LEADERBOARD_EXCLUDE_STAFF). Only rows whose rank changed are written.
_NEW_PROFILE_RANKS = """
    SELECT u.id, s.pnl_rank, s.volume_rank
    FROM {user} u LEFT JOIN {standing} s ON s.user_id = u.id AND s.period = %(period)s
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
    realised = ", ".join(f"'{status}'" for status in REALISED_STATUSES)  # our own enum values, not input
    return template.format(
        per_period=",".join(_PER_PERIOD.format(p=period, realised=realised) for period in Period.values),
        periods=" UNION ALL ".join(
            f"SELECT '{p}' AS period, user_id, pnl_{p} AS pnl, settled_{p} AS settled, volume_{p} AS volume,"
            f" placed_{p} AS placed FROM a"
            for p in Period.values
        ),
        standing=Standing._meta.db_table,
        user=get_user_model()._meta.db_table,
        bet=Bet._meta.db_table,
        # Who the public boards list (the same rule as selectors.ranked_users); `u` is the user table.
        ranked_user="u.is_active" + (" AND NOT u.is_staff" if settings.LEADERBOARD_EXCLUDE_STAFF else ""),
    )


def _standings_replace(*, now: datetime, started: float) -> RankingRun:
    """Bring every period's standings to one snapshot of the bets (writing only what changed) and record
    the run."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if outermost:
                # One snapshot for every statement of the run (only this job writes standings, under
                # its lock, so nothing here can meet a serialization failure). Nested in a caller's
                # transaction (tests), the caller's isolation applies.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # window sorts in memory, not on disk
        cursor.execute(_sql(_STANDINGS_SQL), {p: period_start(p, now=now) for p in Period.values})
        cursor.execute(_sql(_STANDINGS_UPSERT_SQL), {"now": now})
        cursor.execute(_sql(_STANDINGS_GONE_SQL))
        cursor.execute("DROP TABLE new_standing")
        ranked = {period: dict.fromkeys(BOARD_RANK_FIELD, 0) for period in Period.values}
        for row in Standing.objects.values("period").annotate(pnl=Count("pnl_rank"), volume=Count("volume_rank")):
            ranked[row["period"]] = {"pnl": row["pnl"], "volume": row["volume"]}
        users = ranked_users().filter(created_at__lte=now).count()
        # Recorded with the standings it describes, so the database never pairs one with the other's run.
        RankingRun.objects.filter(computed_at__lt=now - RUNS_KEPT_FOR).delete()
        return RankingRun.objects.create(
            computed_at=now, users=users, ranked=ranked, duration_seconds=time.monotonic() - started
        )


@transaction.atomic
def _profile_ranks_update() -> None:
    # Its own short transaction: user rows are hot (every bet locks one), so they are not held
    # for the whole run, and only rows whose rank changed are written.
    params = {"period": Period.ALL}
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
        _profile_ranks_update()
        run.duration_seconds = time.monotonic() - started
        RankingRun.objects.filter(pk=run.pk).update(duration_seconds=run.duration_seconds)
    logger.info(
        "ranks recomputed",
        extra={"users": run.users, "ranked": run.ranked, "duration_seconds": round(run.duration_seconds, 3)},
    )
    return run
