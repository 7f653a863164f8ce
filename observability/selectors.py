"""The numbers operators and staff watch (PRD §11), read from the other apps' tables. Each query
uses an index or counts a table once; callers cache the results (`collectors.py` for a minute, the
overview page per request only)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from activity.models import Activity
from betting.models import Bet
from betting.selectors import markets_awaiting_settlement
from leaderboard.models import Period, RankingRun, Standing
from markets.models import Market
from thisthat.money import CENT

# The rolling windows of the gauges (label `window`).
WINDOWS = {"1d": timedelta(days=1), "7d": timedelta(days=7), "30d": timedelta(days=30)}
# A settlement normally ends seconds after its resolution; one older than this is stuck.
SETTLEMENT_LATE_AFTER = timedelta(minutes=5)
# The leaderboard's shape: the all-time PnL and volume at these ranks.
RANKS = (1, 10, 100, 1000)


def average_bet(*, wagered: Decimal, bets: int) -> Decimal:
    return (wagered / bets).quantize(CENT) if bets else Decimal(0)


@dataclass(frozen=True)
class BetTotals:
    bets: int
    wagered: Decimal

    @property
    def average(self) -> Decimal:
        return average_bet(wagered=self.wagered, bets=self.bets)


def bet_totals(*, since: datetime) -> BetTotals:
    row = Bet.objects.filter(placed_at__gte=since).aggregate(bets=Count("id"), wagered=Sum("amount"))
    return BetTotals(bets=row["bets"], wagered=row["wagered"] or Decimal(0))


def active_users(*, since: datetime) -> int:
    """Users who signed up, logged in, claimed, bought, bet, cashed out or traded since then."""
    return Activity.objects.filter(created_at__gte=since).values("user_id").distinct().count()


def open_markets(*, now: datetime) -> int:
    return Market.objects.open_at(now).count()


def late_settlements(*, now: datetime) -> int:
    """Resolved or cancelled markets whose settlement has not finished SETTLEMENT_LATE_AFTER later."""
    return len(markets_awaiting_settlement(resolved_before=now - SETTLEMENT_LATE_AFTER))


def pending_settlements(*, now: datetime) -> int:
    """Resolved or cancelled markets whose settlement has not finished yet."""
    return len(markets_awaiting_settlement(resolved_before=now))


@dataclass(frozen=True)
class Business:
    users: int
    active_users: dict[str, int]  # by window
    bets: dict[str, BetTotals]  # by window
    credits_in_circulation: Decimal
    credit_debt: Decimal
    open_markets: int
    late_settlements: int
    ranked_users: dict[tuple[str, str], int]  # (period, board) → users listed, as of the last recomputation
    rank_values: dict[tuple[str, int], Decimal]  # (board, rank) → all-time PnL or volume at that rank
    ranks_computed_at: datetime | None


def business(*, now: datetime) -> Business:
    users = get_user_model().objects.aggregate(
        users=Count("id"), balance=Sum("credit_balance"), debt=Sum("credit_debt")
    )
    run = RankingRun.objects.order_by("-computed_at").first()
    rank_values: dict[tuple[str, int], Decimal] = {}
    for board, rank_field, value_field in (("pnl", "pnl_rank", "pnl"), ("volume", "volume_rank", "volume")):
        rows = Standing.objects.filter(period=Period.ALL, **{f"{rank_field}__in": RANKS}).values_list(
            rank_field, value_field
        )
        for rank, value in rows:  # tied users share a rank (and so a value)
            rank_values[(board, rank)] = value
    return Business(
        users=users["users"],
        active_users={name: active_users(since=now - span) for name, span in WINDOWS.items()},
        bets={name: bet_totals(since=now - span) for name, span in WINDOWS.items()},
        credits_in_circulation=users["balance"] or Decimal(0),
        credit_debt=users["debt"] or Decimal(0),
        open_markets=open_markets(now=now),
        late_settlements=late_settlements(now=now),
        ranked_users={
            (period, board): count
            for period, boards in (run.ranked.items() if run is not None else ())
            for board, count in boards.items()
        },
        rank_values=rank_values,
        ranks_computed_at=run.computed_at if run is not None else None,
    )


@dataclass(frozen=True)
class Day:
    day: date
    signups: int
    active_users: int
    bets: int
    wagered: Decimal

    @property
    def average_bet(self) -> Decimal:
        return average_bet(wagered=self.wagered, bets=self.bets)


def daily_series(*, first: date, last: date) -> list[Day]:
    """One row per UTC day from `first` to `last`, days without anything included: four grouped
    queries over the window, whatever its length."""
    start = datetime.combine(first, datetime.min.time()).replace(tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time()).replace(tzinfo=UTC)

    def per_day(queryset, field: str, **aggregates) -> dict[date, dict]:
        rows = (
            queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
            .annotate(day=TruncDate(field, tzinfo=UTC))
            .values("day")
            .annotate(**aggregates)
        )
        return {row.pop("day"): row for row in rows}

    joined = per_day(get_user_model().objects.all(), "created_at", n=Count("id"))
    active = per_day(Activity.objects.all(), "created_at", n=Count("user_id", distinct=True))
    placed = per_day(Bet.objects.all(), "placed_at", n=Count("id"), wagered=Sum("amount"))
    days = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        bets = placed.get(day, {})
        days.append(
            Day(
                day=day,
                signups=joined.get(day, {}).get("n", 0),
                active_users=active.get(day, {}).get("n", 0),
                bets=bets.get("n", 0),
                wagered=bets.get("wagered") or Decimal(0),
            )
        )
    return days


@dataclass(frozen=True)
class Overview:
    """The staff overview: the last `len(days)` UTC days, today last, and their totals."""

    days: list[Day]
    active_users: int  # distinct over the whole window (not the sum of the days')
    open_markets: int
    pending_settlements: int

    @property
    def today(self) -> Day:
        return self.days[-1]

    @cached_property
    def window(self) -> Day:
        """The window's totals in the shape of one day (its `day` is the first)."""
        bets = sum(day.bets for day in self.days)
        return Day(
            day=self.days[0].day,
            signups=sum(day.signups for day in self.days),
            active_users=self.active_users,
            bets=bets,
            wagered=sum((day.wagered for day in self.days), Decimal(0)),
        )


def overview(*, now: datetime, days: int) -> Overview:
    today = now.astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    return Overview(
        days=daily_series(first=first, last=today),
        active_users=active_users(since=datetime.combine(first, datetime.min.time(), tzinfo=UTC)),
        open_markets=open_markets(now=now),
        pending_settlements=pending_settlements(now=now),
    )
