from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from . import cache as board_cache
from .models import Standing

BOARD_RANK_FIELD = {"pnl": "pnl_rank", "volume": "volume_rank"}


def board_rows(board: str, period: str, limit: int, offset: int) -> list[dict]:
    """One page of a board from the standings table (an index range scan)."""
    rank_field = BOARD_RANK_FIELD[board]
    standings = (
        Standing.objects.filter(period=period)
        .select_related("user")
        .only("pnl", "volume", rank_field, "user__id", "user__username")
        .order_by(rank_field, "user_id")[offset : offset + limit]
    )
    return [
        {
            "rank": getattr(standing, rank_field),
            "user": {"id": standing.user.id, "username": standing.user.username},
            "pnl": standing.pnl,
            "volume": standing.volume,
        }
        for standing in standings
    ]


@dataclass(frozen=True)
class BoardPage:
    rows: list[dict]
    total: int
    updated_at: datetime | None


def board_page(*, board: str, period: str, limit: int, offset: int) -> BoardPage:
    """A page of the PnL or volume board: from the cache, else the standings table (refilling the cache)."""
    meta = board_cache.meta()
    if meta is None:
        return BoardPage(rows=[], total=0, updated_at=None)
    rows = board_cache.page(
        board,
        period,
        limit,
        offset,
        computed_at=meta["computed_at"],
        load=lambda: board_rows(board, period, limit, offset),
    )
    return BoardPage(rows=rows, total=meta["totals"].get(period, 0), updated_at=meta["computed_at"])


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
    """The user's ranks and values as of the latest run (no rank yet if they joined since)."""
    meta = board_cache.meta()
    standing = Standing.objects.filter(period=period, user_id=user_id).first()
    if standing is None:
        return UserStanding(
            Placing(None, Decimal(0)),
            Placing(None, Decimal(0)),
            0 if meta is None else meta["totals"].get(period, 0),
            None if meta is None else meta["computed_at"],
        )
    return UserStanding(
        Placing(standing.pnl_rank, standing.pnl),
        Placing(standing.volume_rank, standing.volume),
        meta["totals"].get(period, 0),
        meta["computed_at"],
    )
