"""Leaderboard test helpers: bets written directly with explicit times, and an independent oracle
(plain Python over the bets) of what every period's standings should be."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from accounts.models import User
from betting.models import Bet, BetStatus
from markets.models import Market
from tests.factories import MarketFactory

PNL_URL = "/api/v1/leaderboard/pnl"


VOLUME_URL = "/api/v1/leaderboard/volume"


ME_URL = "/api/v1/leaderboard/me"


USERS_ME = "/api/v1/users/me"


PERIODS = ("all", "month", "week", "day")


D = Decimal


def at(text: str) -> datetime:
    """An aware UTC datetime from 'YYYY-MM-DD HH:MM:SS[.ffffff]'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def money(value) -> Decimal:
    """A JSON number (parsed as float) or a Decimal back to an exact 2-decimal Decimal."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def bet(
    user: User,
    *,
    amount: str | Decimal = "100",
    status: str = BetStatus.PENDING,
    payout: str | Decimal | None = None,
    placed_at: datetime,
    resolved_at: datetime | None = None,
    market: Market | None = None,
) -> Bet:
    """A bet row consistent with the model's check constraints (odds 0.5, payout 2 x amount).

    `payout` is what the bet returned: defaults to 2 x amount (won), 0 (lost), the stake
    (cancelled); required for sold.
    """
    amount = D(str(amount))
    if status == BetStatus.PENDING:
        actual = None
        resolved_at = None
    else:
        default = {BetStatus.WON: amount * 2, BetStatus.LOST: D(0), BetStatus.CANCELLED: amount}.get(status)
        actual = D(str(payout)) if payout is not None else default
        assert actual is not None, "a sold bet needs its sale value"
        resolved_at = resolved_at or placed_at + timedelta(hours=1)
    return Bet.objects.create(
        user=user,
        market=market or MarketFactory(),
        side="this",
        amount=amount,
        odds_at_bet=D("0.5000"),
        potential_payout=max(amount * 2, actual or D(0)),
        actual_payout=actual,
        status=status,
        placed_at=placed_at,
        resolved_at=resolved_at,
    )


def window_start(period: str, now: datetime) -> datetime | None:
    """Written again here (not `period_start`) so the oracle is independent of the code under test."""
    now = now.astimezone(UTC)
    midnight = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return {
        "all": None,
        "day": midnight,
        "week": midnight - timedelta(days=now.weekday()),
        "month": datetime(now.year, now.month, 1, tzinfo=UTC),
    }[period]


def competition_ranks(values: dict[UUID, Decimal]) -> dict[UUID, int]:
    """1 + how many have strictly more: ties share a rank and the next one is skipped (1, 2, 2, 4)."""
    return {key: 1 + sum(1 for other in values.values() if other > value) for key, value in values.items()}


@dataclass(frozen=True)
class Expected:
    pnl: Decimal
    volume: Decimal
    pnl_rank: int | None  # None: not on the PnL board (no bet settled or sold in the window)
    volume_rank: int | None  # None: not on the volume board (no bet placed in the window)


def expected_standings(period: str, now: datetime) -> dict[UUID, Expected]:
    """Per active non-staff user (LEADERBOARD_EXCLUDE_STAFF) with a bet placed or settled in the
    window: realised PnL (won/lost/sold by resolved_at), volume (by placed_at) and the competition
    rank on each board among the users that board lists: the volume board those who placed a bet in
    the window, the PnL board those with a bet won, lost or sold in it."""
    start = window_start(period, now)

    def inside(moment: datetime | None) -> bool:
        return moment is not None and (start is None or moment >= start)

    pnl: dict[UUID, Decimal] = {}
    volume: dict[UUID, Decimal] = {}
    on_pnl, on_volume = set(), set()
    for row in Bet.objects.filter(user__is_active=True, user__is_staff=False):
        if not (inside(row.placed_at) or inside(row.resolved_at)):
            continue
        pnl.setdefault(row.user_id, D(0))
        volume.setdefault(row.user_id, D(0))
        if inside(row.placed_at):
            volume[row.user_id] += row.amount
            on_volume.add(row.user_id)
        if row.status in (BetStatus.WON, BetStatus.LOST, BetStatus.SOLD) and inside(row.resolved_at):
            pnl[row.user_id] += row.actual_payout - row.amount
            on_pnl.add(row.user_id)
    pnl_ranks = competition_ranks({uid: pnl[uid] for uid in on_pnl})
    volume_ranks = competition_ranks({uid: volume[uid] for uid in on_volume})
    return {
        uid: Expected(pnl[uid], volume[uid], pnl_ranks.get(uid), volume_ranks.get(uid))
        for uid in pnl
        if uid in on_pnl or uid in on_volume
    }


def expected_board(board: str, period: str, now: datetime) -> list[dict]:
    """The whole board as the API should list it: only the users ranked on it, by (rank, id)."""
    standings = expected_standings(period, now)
    rank_of = (lambda e: e.pnl_rank) if board == "pnl" else (lambda e: e.volume_rank)
    names = dict(User.objects.values_list("pk", "username"))
    return [
        {"rank": rank_of(e), "id": str(uid), "username": names[uid], "pnl": e.pnl, "volume": e.volume}
        for uid, e in sorted(standings.items(), key=lambda item: (rank_of(item[1]) or 0, item[0]))
        if rank_of(e) is not None
    ]


def api_rows(body: dict) -> list[dict]:
    """A board response's rows in the oracle's shape (numbers back to exact Decimals)."""
    return [
        {
            "rank": row["rank"],
            "id": row["user"]["id"],
            "username": row["user"]["username"],
            "pnl": money(row["overallPnL"]),
            "volume": money(row["totalVolume"]),
        }
        for row in body["leaderboard"]
    ]


def profile_ranks_of(user: User) -> tuple[int | None, int | None]:
    """(rankByPnL, rankByVolume) as the user's profile reads them."""
    from accounts.selectors import profile_get

    profile = profile_get(user_id=user.pk)
    return profile.rank_by_pnl, profile.rank_by_volume
