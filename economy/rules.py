"""Pure economy rules: no ORM, no settings, no clock. The services feed them numbers and times."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class RewardLadder:
    """Day 1 of a streak pays `base`, each further consecutive day `step` more, never more than `maximum`."""

    base: Decimal
    step: Decimal
    maximum: Decimal

    def amount_for(self, streak_day: int) -> Decimal:
        if streak_day < 1:
            raise ValueError(f"streak days start at 1, got {streak_day}")
        return min(self.base + self.step * (streak_day - 1), self.maximum)


@dataclass(frozen=True)
class DailyRewardState:
    can_claim: bool
    streak: int  # the current streak: 0 once a day has been missed
    next_streak_day: int  # the streak day the next claim counts as
    next_amount: Decimal  # what the next claim pays
    next_claim_available: datetime  # `now` when claimable, else the next UTC midnight


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def current_streak(*, last_claimed_at: datetime | None, streak: int, now: datetime) -> int:
    """The streak as of `now`: the last claim's streak day while it was today or yesterday, else 0."""
    if last_claimed_at is None or utc_day(last_claimed_at) < utc_day(now) - timedelta(days=1):
        return 0
    return max(streak, 1)


def daily_reward_for(
    *, last_claimed_at: datetime | None, streak: int, now: datetime, ladder: RewardLadder
) -> DailyRewardState:
    """The daily reward rule of SPEC §6, on UTC calendar days.

    One claim per UTC day. A claim on the day after the previous one continues the streak; a
    missed day restarts it at day 1. `streak` is the streak day of the last claim.
    """
    current = current_streak(last_claimed_at=last_claimed_at, streak=streak, now=now)
    last_day = utc_day(last_claimed_at) if last_claimed_at is not None else None
    claimed_today = last_day is not None and last_day >= utc_day(now)  # (>=: a clock moved back)
    return DailyRewardState(
        can_claim=not claimed_today,
        streak=current,
        next_streak_day=current + 1,
        next_amount=ladder.amount_for(current + 1),
        next_claim_available=utc_midnight(last_day + timedelta(days=1)) if claimed_today else now,
    )


@dataclass(frozen=True)
class Funds:
    """A user's balance and credit debt (never both above 0): balance - debt is what the ledger sums to."""

    balance: Decimal
    debt: Decimal = Decimal(0)


def funds_after(funds: Funds, amount: Decimal, *, may_leave_debt: bool) -> Funds | None:
    """The balance and debt after posting `amount` (signed), or None when it would overdraw.

    A credit pays the debt off first and only the rest reaches the balance; a debit takes from the
    balance. Only a clawback (`may_leave_debt`) may take more than the balance holds: the rest becomes
    debt, so the balance itself never goes below 0."""
    net = funds.balance - funds.debt + amount
    if net < 0 and amount < 0 and not may_leave_debt:
        return None
    return Funds(balance=max(net, Decimal(0)), debt=max(-net, Decimal(0)))
