"""`period_start`: the UTC calendar windows of the leaderboard periods (day from 00:00 UTC today,
week from Monday 00:00 UTC, month from the 1st 00:00 UTC, all from the epoch)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from leaderboard.models import Period
from leaderboard.periods import EPOCH, period_start
from tests.helpers.leaderboard import at


@pytest.mark.parametrize(
    ("now", "day", "week", "month"),
    [
        # Monday 00:00 exactly: the day, the week (and nothing earlier) start now.
        ("2026-03-09 00:00:00", "2026-03-09", "2026-03-09", "2026-03-01"),
        # Sunday 23:59:59.999999: still the week that started the Monday before.
        ("2026-03-15 23:59:59.999999", "2026-03-15", "2026-03-09", "2026-03-01"),
        # One microsecond later it is Monday: a new week.
        ("2026-03-16 00:00:00", "2026-03-16", "2026-03-16", "2026-03-01"),
        # The 1st (a Sunday): the month starts today, the week started on the Monday of last month.
        ("2026-03-01 00:00:00", "2026-03-01", "2026-02-23", "2026-03-01"),
        # Month end, last instant.
        ("2026-03-31 23:59:59.999999", "2026-03-31", "2026-03-30", "2026-03-01"),
        # A week that straddles two months: Wednesday the 1st, week from Monday 30 March.
        ("2026-04-01 12:00:00", "2026-04-01", "2026-03-30", "2026-04-01"),
        # Leap day.
        ("2028-02-29 18:30:00", "2028-02-29", "2028-02-28", "2028-02-01"),
        # Year end, and the first instant of the next year (the week straddles the years).
        ("2026-12-31 23:59:59.999999", "2026-12-31", "2026-12-28", "2026-12-01"),
        ("2027-01-01 00:00:00", "2027-01-01", "2026-12-28", "2027-01-01"),
    ],
)
def test_period_start_is_the_utc_calendar_window_containing_now(now, day, week, month):
    moment = at(now)
    assert period_start(Period.DAY, now=moment) == at(f"{day} 00:00:00")
    assert period_start(Period.WEEK, now=moment) == at(f"{week} 00:00:00")
    assert period_start(Period.MONTH, now=moment) == at(f"{month} 00:00:00")
    assert period_start(Period.ALL, now=moment) == EPOCH


@pytest.mark.parametrize("period", Period.values)
def test_every_window_contains_now_and_starts_at_midnight_on_a_monday_or_the_first(period):
    moment = at("2026-05-20 07:45:12.345678")  # a Wednesday
    start = period_start(period, now=moment)
    assert start <= moment
    assert (start.hour, start.minute, start.second, start.microsecond) == (0, 0, 0, 0)
    assert start.utcoffset() == timedelta(0)
    if period == Period.WEEK:
        assert start.weekday() == 0
        assert moment - start < timedelta(days=7)
    if period == Period.MONTH:
        assert start.day == 1 and start.month == moment.month


def test_all_time_starts_at_the_epoch():
    assert period_start(Period.ALL, now=at("2026-03-11 12:00:00")) == datetime(1970, 1, 1, tzinfo=UTC)


def test_a_non_utc_now_is_placed_in_its_utc_day_week_and_month():
    # Monday 01:30 at UTC+5 is still Sunday 20:30 UTC: the UTC day, week and month of that instant.
    plus_five = datetime(2026, 3, 9, 1, 30, tzinfo=timezone(timedelta(hours=5)))
    assert period_start(Period.DAY, now=plus_five) == at("2026-03-08 00:00:00")
    assert period_start(Period.WEEK, now=plus_five) == at("2026-03-02 00:00:00")
    assert period_start(Period.MONTH, now=plus_five) == at("2026-03-01 00:00:00")
    # 28 February 22:00 at UTC-5 is already 1 March 03:00 UTC: a new month (and day) in UTC.
    minus_five = datetime(2026, 2, 28, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert period_start(Period.DAY, now=minus_five) == at("2026-03-01 00:00:00")
    assert period_start(Period.WEEK, now=minus_five) == at("2026-02-23 00:00:00")
    assert period_start(Period.MONTH, now=minus_five) == at("2026-03-01 00:00:00")
    # The result is expressed in UTC whatever the zone of `now`.
    for period in (Period.DAY, Period.WEEK, Period.MONTH):
        assert period_start(period, now=minus_five).utcoffset() == timedelta(0)
