"""The daily reward ladder (SPEC §6) as a pure function: no database, no clock."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from economy.rules import RewardLadder, current_streak, daily_reward_for, utc_day, utc_midnight

LADDER = RewardLadder(base=Decimal("1000"), step=Decimal("500"), maximum=Decimal("10000"))
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def state(last_claimed_at, streak, now=NOON, ladder=LADDER):
    return daily_reward_for(last_claimed_at=last_claimed_at, streak=streak, now=now, ladder=ladder)


@pytest.mark.parametrize(
    ("day", "amount"),
    [(1, "1000"), (2, "1500"), (3, "2000"), (10, "5500"), (18, "9500"), (19, "10000"), (20, "10000"), (365, "10000")],
)
def test_the_ladder_starts_at_1000_climbs_500_a_day_and_stops_at_10000(day, amount):
    assert LADDER.amount_for(day) == Decimal(amount)


def test_the_ladder_has_no_day_zero():
    with pytest.raises(ValueError):
        LADDER.amount_for(0)


def test_the_ladder_takes_its_numbers_from_its_arguments():
    ladder = RewardLadder(base=Decimal("10"), step=Decimal("5"), maximum=Decimal("22"))
    assert [ladder.amount_for(day) for day in (1, 2, 3, 4)] == [Decimal(n) for n in ("10", "15", "20", "22")]


def test_a_first_ever_claim_is_day_one_and_claimable_now():
    result = state(None, 0)
    assert result.can_claim
    assert result.streak == 0
    assert result.next_streak_day == 1
    assert result.next_amount == Decimal("1000")
    assert result.next_claim_available == NOON


def test_a_claim_the_day_after_continues_the_streak():
    result = state(NOON - timedelta(days=1), 4)
    assert result.can_claim
    assert result.streak == 4
    assert result.next_streak_day == 5
    assert result.next_amount == Decimal("3000")


def test_a_claim_just_after_midnight_counts_as_the_next_day():
    late_last_night = datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    result = state(late_last_night, 2, now=datetime(2026, 3, 10, 0, 0, 1, tzinfo=UTC))
    assert result.can_claim
    assert result.next_streak_day == 3


def test_a_missed_day_restarts_the_streak_at_day_one():
    result = state(NOON - timedelta(days=2), 7)
    assert result.can_claim
    assert result.streak == 0
    assert result.next_streak_day == 1
    assert result.next_amount == Decimal("1000")


def test_a_second_claim_on_the_same_utc_day_waits_for_the_next_utc_midnight():
    just_after_midnight = datetime(2026, 3, 10, 0, 0, 1, tzinfo=UTC)
    result = state(just_after_midnight, 3, now=datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))
    assert not result.can_claim
    assert result.streak == 3
    assert result.next_streak_day == 4
    assert result.next_amount == Decimal("2500")
    assert result.next_claim_available == datetime(2026, 3, 11, tzinfo=UTC)


def test_days_are_utc_days_whatever_the_time_zone_of_the_inputs():
    new_york = datetime(2026, 3, 9, 21, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    # 21:00 UTC on the 9th is still the 9th in UTC (17:00 in New York): the 10th is the next day.
    result = state(new_york, 1)
    assert result.can_claim
    assert result.next_streak_day == 2


def test_the_streak_is_capped_in_amount_not_in_days():
    result = state(NOON - timedelta(days=1), 30)
    assert result.next_streak_day == 31
    assert result.next_amount == Decimal("10000")


def test_utc_helpers():
    assert utc_day(datetime(2026, 3, 10, 23, 30, tzinfo=UTC)).isoformat() == "2026-03-10"
    assert utc_midnight(utc_day(NOON)) == datetime(2026, 3, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_claim", "streak", "expected"),
    [
        (None, 0, 0),
        (datetime(2026, 3, 10, 8, tzinfo=UTC), 4, 4),  # today
        (datetime(2026, 3, 9, 0, tzinfo=UTC), 4, 4),  # yesterday, at its first second
        (datetime(2026, 3, 8, 23, 59, 59, tzinfo=UTC), 4, 0),  # a whole UTC day missed
    ],
)
def test_the_current_streak_lasts_through_the_day_after_the_last_claim(last_claim, streak, expected):
    now = datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)

    assert current_streak(last_claimed_at=last_claim, streak=streak, now=now) == expected
