"""Rank recomputation: every period's standings in set-based SQL (window functions), one transaction."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from betting.models import REALISED_STATUSES, Bet
from thisthat.locks import cache_lock

from . import cache as board_cache
from . import generations
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
# Measured at 100,000 users and 600,000 bets (BENCHMARKS.md): a bet's realisation time is worked out
# once (not per period), "any bet in the period" is the latest such time compared with the period's
# start (two aggregates, not eight counts), the users left off the boards (few, hashed once) are
# removed rather than every bet joined to its user, and each period is ranked in its own branch, so
# no sort compares period names.
# The sums are a statement of their own: PostgreSQL aggregates in parallel for CREATE TABLE ... AS, never
# for an INSERT ... SELECT, and the new generation is filled by an INSERT.
_SUMS_SQL = """
CREATE TEMPORARY TABLE standing_sums AS
SELECT t.user_id, {per_period}, MAX(t.realised_at) AS last_realised_at, MAX(t.placed_at) AS last_placed_at
FROM (
    SELECT b.user_id, b.amount, b.placed_at, b.actual_payout - b.amount AS pnl,
           CASE WHEN b.status IN ({realised}) THEN b.resolved_at END AS realised_at
    FROM {bet} b
) t
WHERE t.user_id NOT IN (SELECT u.id FROM {user} u WHERE NOT ({ranked_user}))
GROUP BY t.user_id
"""
# Per period: the PnL realised in it and the volume placed in it. `{p}` is the period's name, our own
# enum value.
_PER_PERIOD = """
    COALESCE(SUM(t.pnl) FILTER (WHERE t.realised_at >= %({p})s), 0) AS pnl_{p},
    COALESCE(SUM(t.amount) FILTER (WHERE t.placed_at >= %({p})s), 0) AS volume_{p}"""
# One period's rows, ranked. A board's sort key is the user's whole cents as an integer, or null when
# the user is not on that board (no bet settled/placed in the period): nulls sort last, so the board's
# users rank among themselves, and a leading integer key sorts several times faster than a numeric
# (exact for credits' two decimals; a tenth of a run at 100,000 users).
_PERIOD_RANKED = """
SELECT '{p}' AS period, user_id, pnl, volume,
       CASE WHEN pnl_key IS NOT NULL THEN RANK() OVER (ORDER BY pnl_key DESC NULLS LAST) END AS pnl_rank,
       CASE WHEN volume_key IS NOT NULL THEN RANK() OVER (ORDER BY volume_key DESC NULLS LAST) END AS volume_rank,
       CASE WHEN pnl_key IS NOT NULL THEN ROW_NUMBER() OVER (ORDER BY pnl_key DESC NULLS LAST, user_id) END
           AS pnl_position,
       CASE WHEN volume_key IS NOT NULL THEN ROW_NUMBER() OVER (ORDER BY volume_key DESC NULLS LAST, user_id) END
           AS volume_position
FROM (
    SELECT a.user_id, a.pnl_{p} AS pnl, a.volume_{p} AS volume,
           CASE WHEN a.last_realised_at >= %({p})s THEN CAST(ROUND(a.pnl_{p} * 100) AS BIGINT) END AS pnl_key,
           CASE WHEN a.last_placed_at >= %({p})s THEN CAST(ROUND(a.volume_{p} * 100) AS BIGINT) END AS volume_key
    FROM standing_sums a
    WHERE a.last_realised_at >= %({p})s OR a.last_placed_at >= %({p})s
) p
"""
# Every run writes every row, as a new generation of the table (`generations`): a new bet moves the
# place of everyone below it, so most rows change anyway, and building the indexes once over the
# finished rows costs a fraction of rewriting them row by row (BENCHMARKS.md, issue 12).
_STANDINGS_INSERT_SQL = """
INSERT INTO {into} (period, user_id, pnl, volume, pnl_rank, volume_rank, pnl_position, volume_position, computed_at)
SELECT r.*, %(now)s FROM ({periods}) r
"""
_BOARD_SIZES_SQL = "SELECT period, COUNT(pnl_rank), COUNT(volume_rank) FROM {into} GROUP BY period"


def _sql(template: str, *, into: str = "") -> str:
    names = {
        "realised": ", ".join(f"'{status}'" for status in REALISED_STATUSES),  # our own enum values, not input
        "user": get_user_model()._meta.db_table,
        "bet": Bet._meta.db_table,
        # Who the public boards list (the same rule as selectors.ranked_users); `u` is the user table.
        "ranked_user": "u.is_active" + (" AND NOT u.is_staff" if settings.LEADERBOARD_EXCLUDE_STAFF else ""),
    }
    periods = " UNION ALL ".join(
        f"SELECT * FROM ({_PERIOD_RANKED.format(p=period, **names)}) ranked_{period}" for period in Period.values
    )
    per_period = ",".join(_PER_PERIOD.format(p=period) for period in Period.values)
    return template.format(per_period=per_period, periods=periods, into=f'"{into}"', **names)


def _standings_write(cursor: CursorWrapper, *, now: datetime) -> dict[str, dict[str, int]]:
    """Write every period's standings from one snapshot of the bets; returns each board's size."""
    params = {"now": now, **{p: period_start(p, now=now) for p in Period.values}}
    table = Standing._meta.db_table
    cursor.execute(_sql(_SUMS_SQL), params)
    if connection.vendor == "postgresql":
        into = generations.next_generation_create(cursor, table=table)
        cursor.execute(_sql(_STANDINGS_INSERT_SQL, into=into), params)
        generations.next_generation_index(cursor, table=table)
    else:  # SQLite (embedded mode): a few rows, rewritten in place
        into = table
        cursor.execute(f'DELETE FROM "{table}"')
        cursor.execute(_sql(_STANDINGS_INSERT_SQL, into=into), params)
    cursor.execute("DROP TABLE standing_sums")
    ranked = {period: dict.fromkeys(BOARD_RANK_FIELD, 0) for period in Period.values}
    cursor.execute(_sql(_BOARD_SIZES_SQL, into=into))
    for period, pnl, volume in cursor.fetchall():
        ranked[period] = {"pnl": pnl, "volume": volume}
    return ranked


def _standings_replace(*, now: datetime, started: float) -> RankingRun:
    """Replace every period's standings with a new generation from one snapshot of the bets, and record
    the run with them."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if outermost:
                # One snapshot for every statement of the run (only this job writes standings, under
                # its lock, so nothing here can meet a serialization failure). Nested in a caller's
                # transaction (tests), the caller's isolation applies.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            generations.generation_lock(cursor, table=Standing._meta.db_table)
            cursor.execute("SET LOCAL work_mem = '64MB'")  # window sorts in memory, not on disk
        ranked = _standings_write(cursor, now=now)
        users = ranked_users().filter(created_at__lte=now).count()
        RankingRun.objects.filter(computed_at__lt=now - RUNS_KEPT_FOR).delete()
        if connection.vendor == "postgresql":
            # Last, so the live table is locked (against its readers) for milliseconds before commit.
            generations.next_generation_swap(cursor, table=Standing._meta.db_table)
        # Recorded with the standings it describes, so the database never pairs one with the other's run.
        return RankingRun.objects.create(
            computed_at=now, users=users, ranked=ranked, duration_seconds=time.monotonic() - started
        )


def ranks_recompute() -> RankingRun | None:
    """Recompute every period's standings (which profiles read their ranks from), then refresh the
    cached boards. Returns None when another run holds the lock (runs never overlap)."""
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
        run.duration_seconds = time.monotonic() - started
        RankingRun.objects.filter(pk=run.pk).update(duration_seconds=run.duration_seconds)
    logger.info(
        "ranks recomputed",
        extra={"users": run.users, "ranked": run.ranked, "duration_seconds": round(run.duration_seconds, 3)},
    )
    return run
