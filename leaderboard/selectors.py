from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from . import cache as board_cache
from .models import Period, RankingRun, Standing

BOARD_RANK_FIELD = {"pnl": "pnl_rank", "volume": "volume_rank"}
BOARD_PLACE_FIELD = {"pnl": "pnl_position", "volume": "volume_position"}


def ranked_users() -> QuerySet:
    """The users the public boards list: active ones, and not staff unless LEADERBOARD_EXCLUDE_STAFF
    is off (the demo staff account, and anyone testing markets, are not players)."""
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(is_staff=False) if settings.LEADERBOARD_EXCLUDE_STAFF else users


def profile_rank_sql() -> dict[str, str]:
    """A profile's all-time ranks, read with its user row (registered in `accounts.dependents`): the
    latest run's, null on a board that does not rank the user (no bet on it yet, staff, inactive)."""
    all_time = f"FROM {Standing._meta.db_table} s WHERE s.period = '{Period.ALL.value}' AND s.user_id = {{user}}.\"id\""
    return {"rank_by_pnl": f"SELECT s.pnl_rank {all_time}", "rank_by_volume": f"SELECT s.volume_rank {all_time}"}


def ranks_ever_computed() -> bool:
    return RankingRun.objects.exists()


def _row(rank: int, user_id: UUID, username: str, pnl: Decimal, volume: Decimal) -> dict:
    return {"rank": rank, "user": {"id": user_id, "username": username}, "pnl": pnl, "volume": volume}


def board_rows(board: str, period: str, limit: int, offset: int) -> list[dict]:
    """One page of a board: the users ranked on it, by place (an index range scan over the standings
    at any depth: `(offset, offset + limit]` on the place column)."""
    rank_field, place_field = BOARD_RANK_FIELD[board], BOARD_PLACE_FIELD[board]
    standings = (
        Standing.objects.filter(period=period, **{f"{place_field}__gt": offset, f"{place_field}__lte": offset + limit})
        .order_by(place_field)
        .values_list(rank_field, "user_id", "user__username", "pnl", "volume")
    )
    return [_row(*row) for row in standings]


@dataclass(frozen=True)
class BoardPage:
    rows: list[dict]
    total: int
    updated_at: datetime | None


def _board_page_of_run(run: RankingRun | None, board: str, period: str, limit: int, offset: int) -> BoardPage:
    if run is None:
        return BoardPage(rows=[], total=0, updated_at=None)
    rows = board_cache.page(
        board, period, limit, offset, run=run, load=lambda size, start: board_rows(board, period, size, start)
    )
    return BoardPage(rows=rows, total=run.ranked[period][board], updated_at=run.computed_at)


def board_page(*, board: str, period: str, limit: int, offset: int) -> BoardPage:
    """A page of the PnL or volume board: from the cache, else the database (refilling the cache)."""
    return _board_page_of_run(board_cache.latest_run(), board, period, limit, offset)


def board_page_body(*, board: str, period: str, limit: int, offset: int, render: Callable[[BoardPage], bytes]) -> bytes:
    """`render(page)` of a board page as the response body; the pages clients page by are kept
    rendered under the latest run (`leaderboard.cache.page_body`)."""
    run = board_cache.latest_run()

    def build() -> bytes:
        return render(_board_page_of_run(run, board, period, limit, offset))

    if run is None:
        return build()
    return board_cache.page_body(board, period, limit, offset, run=run, render=build)


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
    """The user's ranks and values as of the latest run; on a board that does not rank them (no bet
    in the period for it), rank null and value 0."""
    run = board_cache.latest_run()
    if run is None:
        return UserStanding(Placing(None, Decimal(0)), Placing(None, Decimal(0)), 0, None)
    standing = Standing.objects.filter(period=period, user_id=user_id).values_list(
        "pnl_rank", "pnl", "volume_rank", "volume"
    )
    pnl_rank, pnl, volume_rank, volume = standing.first() or (None, Decimal(0), None, Decimal(0))
    return UserStanding(
        Placing(pnl_rank, pnl if pnl_rank is not None else Decimal(0)),
        Placing(volume_rank, volume if volume_rank is not None else Decimal(0)),
        run.users,
        run.computed_at,
    )
