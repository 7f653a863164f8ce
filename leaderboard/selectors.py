from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from . import cache as board_cache
from .models import RankingRun, Standing

BOARD_RANK_FIELD = {"pnl": "pnl_rank", "volume": "volume_rank"}


def ranked_users() -> QuerySet:
    """The users the public boards list: active ones, and not staff unless LEADERBOARD_EXCLUDE_STAFF
    is off (the demo staff account, and anyone testing markets, are not players)."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(is_staff=False) if settings.LEADERBOARD_EXCLUDE_STAFF else users


def ranks_ever_computed() -> bool:
    return RankingRun.objects.exists()


def _row(rank: int, user_id: UUID, username: str, pnl: Decimal, volume: Decimal) -> dict:
    return {"rank": rank, "user": {"id": user_id, "username": username}, "pnl": pnl, "volume": volume}


def board_rows(board: str, period: str, limit: int, offset: int, *, run: RankingRun) -> list[dict]:
    """One page of a board: the ranked users (an index range scan over the standings), then the
    users without bets in the period, who share the next rank (ordered by id so pages are stable)."""
    rank_field = BOARD_RANK_FIELD[board]
    ranked = run.ranked.get(period, 0)
    rows = (
        [
            _row(getattr(standing, rank_field), standing.user_id, standing.user.username, standing.pnl, standing.volume)
            for standing in Standing.objects.filter(period=period)
            .select_related("user")
            .only("pnl", "volume", rank_field, "user__username")
            .order_by(rank_field, "user_id")[offset : offset + limit]
        ]
        if offset < ranked
        else []
    )
    missing = limit - len(rows)
    if missing > 0:
        start = max(offset - ranked, 0)
        unranked = (
            ranked_users()
            .filter(created_at__lte=run.computed_at)
            .exclude(pk__in=Standing.objects.filter(period=period).values("user_id"))
            .order_by("pk")
            .values_list("pk", "username")[start : start + missing]
        )
        rows += [_row(ranked + 1, pk, username, Decimal(0), Decimal(0)) for pk, username in unranked]
    return rows


@dataclass(frozen=True)
class BoardPage:
    rows: list[dict]
    total: int
    updated_at: datetime | None


def board_page(*, board: str, period: str, limit: int, offset: int) -> BoardPage:
    """A page of the PnL or volume board: from the cache, else the database (refilling the cache)."""
    run = board_cache.latest_run()
    if run is None:
        return BoardPage(rows=[], total=0, updated_at=None)
    rows = board_cache.page(
        board, period, limit, offset, run=run, load=lambda size, start: board_rows(board, period, size, start, run=run)
    )
    return BoardPage(rows=rows, total=run.users, updated_at=run.computed_at)


@dataclass(frozen=True)
class Placing:
    rank: int | None
    value: Decimal


@dataclass(frozen=True)
class UserStanding:
    pnl: Placing
    volume: Placing
    total_users: int
    updated_at: datetime | None


def user_standing(*, user_id: UUID, period: str) -> UserStanding:
    """The user's ranks and values as of the latest run; without bets in the period, the shared
    rank after everyone who has some."""
    run = board_cache.latest_run()
    if run is None:
        return UserStanding(Placing(None, Decimal(0)), Placing(None, Decimal(0)), 0, None)
    standing = Standing.objects.filter(period=period, user_id=user_id).first()
    if standing is None:
        tail = run.ranked.get(period, 0) + 1
        return UserStanding(Placing(tail, Decimal(0)), Placing(tail, Decimal(0)), run.users, run.computed_at)
    return UserStanding(
        Placing(standing.pnl_rank, standing.pnl),
        Placing(standing.volume_rank, standing.volume),
        run.users,
        run.computed_at,
    )
