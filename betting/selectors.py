from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from markets import maker
from markets.models import SETTLED_STATUSES, Market, Resolution
from stocks.selectors import HoldingValue, holdings_for_user

from .errors import BetNotFound
from .models import Bet, BetStatus
from .rules import cash_out_value


def bets_for_user(*, user_id: UUID, status: str = "", market_id: UUID | None = None) -> QuerySet[Bet]:
    bets = Bet.objects.filter(user_id=user_id).select_related("market")
    if status:
        bets = bets.filter(status=status)
    if market_id:
        bets = bets.filter(market_id=market_id)
    return bets.order_by("-placed_at", "-id")


def markets_with_bets(market_ids: Collection[UUID]) -> set[UUID]:
    """The markets among `market_ids` that have any bet, whatever its status."""
    return set(Bet.objects.filter(market_id__in=market_ids).values_list("market_id", flat=True).distinct())


def pending_bets_exist() -> Exists:
    """For annotating markets: does the market at OuterRef("pk") have pending bets?"""
    return Exists(Bet.objects.filter(market=OuterRef("pk"), status=BetStatus.PENDING))


def bet_get_for_user(*, user_id: UUID, bet_id: UUID | str) -> Bet:
    """The caller's bet; an unknown, malformed or someone else's id is BET_NOT_FOUND."""
    try:
        return Bet.objects.select_related("market").get(pk=UUID(str(bet_id)), user_id=user_id)
    except (ValueError, Bet.DoesNotExist) as exc:
        raise BetNotFound() from exc


@dataclass(frozen=True)
class Position:
    bet: Bet
    current_odds: Decimal | None
    current_value: Decimal | None
    unrealized_pnl: Decimal | None


@dataclass(frozen=True)
class Portfolio:
    """Pending bets and stock holdings; the totals add both up (a stock's `invested` is what its
    shares held cost)."""

    positions: list[Position]
    holdings: list[HoldingValue]
    invested: Decimal
    current_value: Decimal
    unrealized_pnl: Decimal


def _current_value(bet: Bet, odds: Decimal | None) -> Decimal | None:
    """What a cash-out would pay now: the market maker's price for the shares on a credits market,
    potentialPayout times the side's odds on a Polymarket market."""
    if bet.market.has_maker:
        return maker.sell(bet.market.maker_state(), bet.side, bet.potential_payout).credits
    return cash_out_value(bet.potential_payout, odds) if odds is not None else None


def portfolio_for_user(*, user_id: UUID) -> Portfolio:
    """Pending bets valued at what a cash-out would pay now, and stock holdings at what selling them
    all now would pay."""
    positions = []
    for bet in bets_for_user(user_id=user_id, status=BetStatus.PENDING):
        odds = bet.market.odds_for(bet.side)
        value = _current_value(bet, odds)
        positions.append(Position(bet, odds, value, None if value is None else value - bet.amount))
    valued = [position for position in positions if position.current_value is not None]
    holdings = holdings_for_user(user_id=user_id)
    return Portfolio(
        positions=positions,
        holdings=holdings,
        invested=sum((position.bet.amount for position in positions), Decimal(0))
        + sum((holding.cost_basis for holding in holdings), Decimal(0)),
        current_value=sum((position.current_value for position in valued), Decimal(0))
        + sum((holding.current_value for holding in holdings), Decimal(0)),
        unrealized_pnl=sum((position.unrealized_pnl for position in valued), Decimal(0))
        + sum((holding.unrealized_pnl for holding in holdings), Decimal(0)),
    )


@dataclass(frozen=True)
class SideTotals:
    bets: int = 0
    staked: Decimal = Decimal(0)
    potential_payout: Decimal = Decimal(0)


def pending_totals_by_market(*, market_ids: list[UUID]) -> dict[UUID, dict[str, SideTotals]]:
    """Pending bets per market and side: how many, the stakes, and what winning would pay (one query)."""
    rows = (
        Bet.objects.filter(market_id__in=market_ids, status=BetStatus.PENDING)
        .values("market_id", "side")
        .annotate(bets=Count("id"), staked=Sum("amount"), potential_payout=Sum("potential_payout"))
    )
    totals: dict[UUID, dict[str, SideTotals]] = {market_id: {} for market_id in market_ids}
    for row in rows:
        totals[row["market_id"]][row["side"]] = SideTotals(row["bets"], row["staked"], row["potential_payout"])
    return totals


@dataclass(frozen=True)
class ResolutionPreview:
    """What resolving `market` to an outcome would settle: its pending bets, how many of them it
    would pay (winners, or every stake for INVALID) and how many credits."""

    market: Market
    pending: int
    paid_bets: int
    credits: Decimal


def resolution_previews(*, markets: list[Market], outcome: str) -> list[ResolutionPreview]:
    totals = pending_totals_by_market(market_ids=[market.pk for market in markets])
    previews = []
    for market in markets:
        sides = totals[market.pk]
        pending = sum(side.bets for side in sides.values())
        if outcome == Resolution.INVALID:
            paid, credits = pending, sum((side.staked for side in sides.values()), Decimal(0))
        else:
            winners = sides.get(outcome, SideTotals())
            paid, credits = winners.bets, winners.potential_payout
        previews.append(ResolutionPreview(market, pending, paid, credits))
    return previews


def markets_awaiting_settlement(*, resolved_before: datetime) -> list[UUID]:
    """Resolved or cancelled markets whose settlement has not finished (e.g. its worker died)."""
    return list(
        Market.objects.filter(status__in=SETTLED_STATUSES, settled_at__isnull=True, resolved_at__lt=resolved_before)
        .order_by("resolved_at")
        .values_list("id", flat=True)
    )


@dataclass(frozen=True)
class BetsAndCredits:
    bets: int = 0
    credits: Decimal = Decimal(0)


@dataclass(frozen=True)
class CorrectionPreview:
    """What correcting `market`'s resolution would move: its settled bets back to pending (payouts and
    refunds taken back, realised PnL moved back, what winners already spent becoming credit debt),
    then, with a new outcome, what settling again would pay. Sold bets are untouched."""

    market: Market
    won: BetsAndCredits  # winning bets and the payouts to take back
    lost: int
    cancelled: BetsAndCredits  # cancelled bets and the refunds to take back
    sold: int
    pnl_reversed: Decimal  # realised PnL taken off the users' totals (won and lost bets)
    debtors: int  # users whose balance would not cover what is taken back
    debt: Decimal
    new_outcome: str | None = None
    then_pending: int = 0
    then_paid_bets: int = 0
    then_credits: Decimal = Decimal(0)

    @property
    def settled(self) -> int:
        return self.won.bets + self.lost + self.cancelled.bets

    @property
    def credits_reversed(self) -> Decimal:
        return self.won.credits + self.cancelled.credits


def correction_previews(*, markets: list[Market], outcome: str | None) -> list[CorrectionPreview]:
    """For the admin's confirmation page (a few queries per market: it lists a handful)."""
    user_model = get_user_model()
    previews = []
    for market in markets:
        bets = Bet.objects.filter(market_id=market.pk)
        rows = {
            row["status"]: row
            for row in bets.values("status").annotate(
                count=Count("id"), paid=Sum("actual_payout"), staked=Sum("amount")
            )
        }

        def totals(status: str, rows=rows) -> BetsAndCredits:
            row = rows.get(status)
            return BetsAndCredits(row["count"], row["paid"]) if row else BetsAndCredits()

        lost = rows.get(BetStatus.LOST, {}).get("count", 0)
        pnl = sum(
            (
                rows[status]["paid"] - rows[status]["staked"]
                for status in (BetStatus.WON, BetStatus.LOST)
                if status in rows
            ),
            Decimal(0),
        )
        clawbacks = dict(
            bets.filter(status__in=[BetStatus.WON, BetStatus.CANCELLED])
            .values("user_id")
            .annotate(total=Sum("actual_payout"))
            .values_list("user_id", "total")
        )
        balances = dict(user_model.objects.filter(pk__in=clawbacks).values_list("pk", "credit_balance"))
        shortfalls = [clawbacks[pk] - balances[pk] for pk in clawbacks if clawbacks[pk] > balances[pk]]
        preview = CorrectionPreview(
            market=market,
            won=totals(BetStatus.WON),
            lost=lost,
            cancelled=totals(BetStatus.CANCELLED),
            sold=rows.get(BetStatus.SOLD, {}).get("count", 0),
            pnl_reversed=pnl,
            debtors=len(shortfalls),
            debt=sum(shortfalls, Decimal(0)),
        )
        if outcome is not None:
            unsold = bets.exclude(status=BetStatus.SOLD)
            paid = unsold if outcome == Resolution.INVALID else unsold.filter(side=outcome)
            column = "amount" if outcome == Resolution.INVALID else "potential_payout"
            preview = replace(
                preview,
                new_outcome=outcome,
                then_pending=unsold.count(),
                then_paid_bets=paid.count(),
                then_credits=paid.aggregate(total=Sum(column))["total"] or Decimal(0),
            )
        previews.append(preview)
    return previews
