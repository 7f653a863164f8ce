"""Rank recomputation (SPEC §5 "Leaderboard", §6 PnL and volume, §7 "recompute ranks"): every
period's standings from the bets in UTC calendar windows, ties sharing a rank, only the users with
a bet in the period for each board (SPEC [speed]), inactive users left out, profile ranks, the lock, the command and the
15-minute schedule."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from accounts.selectors import profile_rank_annotations
from betting.models import Bet, BetStatus
from betting.services import bet_place, bet_sell, market_resolve, market_settle
from leaderboard import cache as board_cache
from leaderboard.models import RankingRun, Standing
from leaderboard.services import ranks_recompute
from markets.models import Resolution, ResolutionSource
from tests.factories import MarketFactory, UserFactory
from tests.helpers.betting import set_odds
from tests.helpers.leaderboard import (
    PERIODS,
    PNL_URL,
    USERS_ME,
    VOLUME_URL,
    api_rows,
    at,
    bet,
    expected_board,
    expected_standings,
)
from thisthat.celery import app as celery_app
from thisthat.locks import cache_lock

pytestmark = pytest.mark.django_db

D = Decimal
NOW = at("2026-03-11 15:00:00")  # a Wednesday: today from 11 March, the week from Monday 9, the month from 1 March
LOCK = "leaderboard:recompute"


def standings(period: str) -> dict[str, tuple]:
    """{username: (pnl, volume, pnl_rank, volume_rank)} of the stored standings of a period."""
    return {
        s.user.username: (s.pnl, s.volume, s.pnl_rank, s.volume_rank)
        for s in Standing.objects.filter(period=period).select_related("user")
    }


def stored_vs_oracle(period: str, now=NOW) -> tuple[dict, dict]:
    stored = {s.user_id: (s.pnl, s.volume, s.pnl_rank, s.volume_rank) for s in Standing.objects.filter(period=period)}
    oracle = {uid: (e.pnl, e.volume, e.pnl_rank, e.volume_rank) for uid, e in expected_standings(period, now).items()}
    return stored, oracle


def profile_ranks() -> dict[str, tuple]:
    users = User.objects.filter(is_active=True).annotate(**profile_rank_annotations())
    return {u.username: (u.rank_by_pnl, u.rank_by_volume) for u in users}


# --- a scripted season, played through the betting services ------------------------------------------
def _place(user, market, side, amount):
    return bet_place(user_id=user.pk, market_id=market.pk, side=side, amount=D(amount)).bet


def _resolve_and_settle(market, outcome):
    market_resolve(market_id=market.pk, outcome=outcome, source=ResolutionSource.ADMIN)
    market_settle(market_id=market.pk)


@pytest.fixture
def season(time_machine, settings):
    """Bets placed, settled and sold at chosen moments (odds 0.65 / 0.35); the clock is left at NOW.

    alice: 20 Feb 200 THIS won 25 Feb (+107.69); 10 Mar 100 THIS won 10 Mar 23:00 (+53.85)
    bob:   20 Feb 100 THAT lost 25 Feb (-100);   10 Mar 100 THIS won 10 Mar 23:00 (+53.85)
    carol: 20 Feb 100 THIS won 25 Feb (+53.85);  11 Mar 100 THIS sold at 0.80 today (123.08, +23.08)
    dave:  2 Mar 300 THIS lost 3 Mar (-300);     11 Mar 500 THIS still pending
    erin:  2 Mar 50 THAT won 3 Mar (+92.86)
    gina:  11 Mar 1,000 THIS won today (+538.46) — then deactivated
    frank, hank: no bets
    """
    time_machine.move_to(at("2026-02-20 10:00:00"), tick=False)
    names = ("alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank")
    users = {name: UserFactory(username=name) for name in names}
    # Mirrored odds that stay put (a credits market's maker would move them), and never go stale
    # however far the season travels in time.
    settings.ODDS_MAX_AGE_SECONDS = 0
    markets = {n: MarketFactory(expires_at=at("2027-01-01 00:00:00")) for n in range(1, 6)}
    _place(users["alice"], markets[1], "this", "200")
    _place(users["bob"], markets[1], "that", "100")
    _place(users["carol"], markets[1], "this", "100")
    time_machine.move_to(at("2026-02-25 12:00:00"), tick=False)
    _resolve_and_settle(markets[1], Resolution.THIS)

    time_machine.move_to(at("2026-03-02 09:00:00"), tick=False)
    _place(users["dave"], markets[2], "this", "300")
    _place(users["erin"], markets[2], "that", "50")
    time_machine.move_to(at("2026-03-03 09:00:00"), tick=False)
    _resolve_and_settle(markets[2], Resolution.THAT)

    time_machine.move_to(at("2026-03-10 10:00:00"), tick=False)
    _place(users["alice"], markets[3], "this", "100")
    _place(users["bob"], markets[3], "this", "100")
    time_machine.move_to(at("2026-03-10 23:00:00"), tick=False)
    _resolve_and_settle(markets[3], Resolution.THIS)

    time_machine.move_to(at("2026-03-11 09:00:00"), tick=False)
    sold = _place(users["carol"], markets[4], "this", "100")
    _place(users["dave"], markets[5], "this", "500")
    _place(users["gina"], markets[4], "this", "1000")
    time_machine.move_to(at("2026-03-11 11:00:00"), tick=False)
    set_odds(markets[4], "0.80", "0.20")
    bet_sell(user_id=users["carol"].pk, bet_id=sold.pk)
    time_machine.move_to(at("2026-03-11 12:00:00"), tick=False)
    _resolve_and_settle(markets[4], Resolution.THIS)
    User.objects.filter(pk=users["gina"].pk).update(is_active=False)

    time_machine.move_to(NOW, tick=False)
    return users


# (pnl, volume, pnl_rank, volume_rank), worked out by hand from the season above.
SEASON = {
    "all": {
        "alice": (D("161.54"), D("300.00"), 1, 2),
        "erin": (D("92.86"), D("50.00"), 2, 5),
        "carol": (D("76.93"), D("200.00"), 3, 3),
        "bob": (D("-46.15"), D("200.00"), 4, 3),
        "dave": (D("-300.00"), D("800.00"), 5, 1),
    },
    "month": {
        "erin": (D("92.86"), D("50.00"), 1, 5),
        "alice": (D("53.85"), D("100.00"), 2, 2),
        "bob": (D("53.85"), D("100.00"), 2, 2),
        "carol": (D("23.08"), D("100.00"), 4, 2),
        "dave": (D("-300.00"), D("800.00"), 5, 1),
    },
    # dave's only bet this week is pending: on the volume board, not the PnL board.
    "week": {
        "alice": (D("53.85"), D("100.00"), 1, 2),
        "bob": (D("53.85"), D("100.00"), 1, 2),
        "carol": (D("23.08"), D("100.00"), 3, 2),
        "dave": (D("0.00"), D("500.00"), None, 1),
    },
    "day": {
        "carol": (D("23.08"), D("100.00"), 1, 2),
        "dave": (D("0.00"), D("500.00"), None, 1),
    },
}


@pytest.mark.parametrize("period", PERIODS)
def test_season_standings_are_the_realised_pnl_and_placed_volume_of_each_window(season, period):
    run = ranks_recompute()

    assert run is not None
    assert standings(period) == SEASON[period]
    stored, oracle = stored_vs_oracle(period)
    assert stored == oracle
    assert run.ranked[period] == {
        "pnl": sum(1 for row in SEASON[period].values() if row[2] is not None),
        "volume": sum(1 for row in SEASON[period].values() if row[3] is not None),
    }
    assert set(Standing.objects.filter(period=period).values_list("computed_at", flat=True)) == {NOW}


def test_the_run_records_when_how_many_active_users_and_how_many_were_ranked_per_period(season):
    run = ranks_recompute()

    assert run.computed_at == NOW
    assert run.users == 7  # gina is inactive
    assert run.ranked == {
        "all": {"pnl": 5, "volume": 5},
        "month": {"pnl": 5, "volume": 5},
        "week": {"pnl": 3, "volume": 4},
        "day": {"pnl": 1, "volume": 2},
    }
    assert run.duration_seconds >= 0
    assert RankingRun.objects.get() == run


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("board", ["pnl", "volume"])
def test_season_boards_served_by_the_api_match_the_independent_computation(season, api_client, board, period):
    ranks_recompute()

    body = api_client.get(PNL_URL if board == "pnl" else VOLUME_URL, {"period": period}).json()

    expected = expected_board(board, period, NOW)
    assert api_rows(body) == expected
    assert (
        body["total"]
        == len(body["leaderboard"])
        == len(expected)
        == sum(1 for row in SEASON[period].values() if row[2 if board == "pnl" else 3] is not None)
    )


def test_users_without_bets_in_the_period_are_not_listed(season, api_client):
    ranks_recompute()

    def listed(url: str) -> list[tuple[str, int]]:
        body = api_client.get(url, {"period": "day"}).json()
        assert body["total"] == len(body["leaderboard"])
        return [(row["user"]["username"], row["rank"]) for row in body["leaderboard"]]

    # alice, bob and erin bet this season but not today, frank and hank never: on no board today.
    # dave's only bet today is pending: on the volume board (first), not the PnL board.
    assert listed(PNL_URL) == [("carol", 1)]
    assert listed(VOLUME_URL) == [("dave", 1), ("carol", 2)]


def test_inactive_users_are_left_out_of_standings_boards_and_the_total(season, api_client):
    gina = season["gina"]

    ranks_recompute()

    assert not Standing.objects.filter(user_id=gina.pk).exists()
    # gina's +538.46 today would have put her first; without her carol is first.
    assert standings("day")["carol"][2] == 1
    for url in (PNL_URL, VOLUME_URL):
        for period in PERIODS:
            body = api_client.get(url, {"period": period}).json()
            assert str(gina.pk) not in {row["user"]["id"] for row in body["leaderboard"]}
            assert body["total"] == len(body["leaderboard"])


# --- ties --------------------------------------------------------------------------------------------
@pytest.fixture
def ties(db):
    """Everything in the same week.

    a: won 100 → 300 (+200, vol 100)        b: sold 200 → 250 (+50, vol 200)
    c: won 200 → 250 (+50, vol 200)         d: lost 300 (-300, vol 300)
    g: pending 50 (0, vol 50)               h: cancelled 100 (0, vol 100)
    e, f: no bets
    """
    when = at("2026-03-10 10:00:00")
    users = {name: UserFactory(username=f"tie_{name}") for name in "abcdefgh"}
    User.objects.filter(pk__in=[user.pk for user in users.values()]).update(created_at=when)  # joined before NOW
    bet(users["a"], amount="100", status=BetStatus.WON, payout="300", placed_at=when)
    bet(users["b"], amount="200", status=BetStatus.SOLD, payout="250", placed_at=when)
    bet(users["c"], amount="200", status=BetStatus.WON, payout="250", placed_at=when)
    bet(users["d"], amount="300", status=BetStatus.LOST, placed_at=when)
    bet(users["g"], amount="50", placed_at=when)
    bet(users["h"], amount="100", status=BetStatus.CANCELLED, placed_at=when)
    return users


def test_ties_share_a_rank_and_the_next_rank_is_skipped_on_both_boards(ties, time_machine):
    time_machine.move_to(NOW, tick=False)

    ranks_recompute()

    ranks = {name[4:]: (pnl_rank, volume_rank) for name, (_, _, pnl_rank, volume_rank) in standings("week").items()}
    assert ranks == {
        # PnL: a +200 | b, c +50 | d -300 (g pending, h cancelled: nothing realised, not on it);
        # volume: d 300 | b, c 200 | a, h 100 | g 50
        "a": (1, 4),
        "b": (2, 2),
        "c": (2, 2),
        "g": (None, 6),
        "h": (None, 4),
        "d": (4, 1),
    }
    stored, oracle = stored_vs_oracle("week")
    assert stored == oracle
    # Profiles (all time): null on a board until the user is on it; e and f have no bets at all.
    profiles = profile_ranks()
    assert {name[4:]: profiles[name] for name in profiles} == {
        "a": (1, 4),
        "b": (2, 2),
        "c": (2, 2),
        "d": (4, 1),
        "e": (None, None),
        "f": (None, None),
        "g": (None, 6),
        "h": (None, 4),
    }


def test_tied_users_are_listed_by_id_and_keep_their_shared_rank_on_the_api(ties, time_machine, api_client):
    time_machine.move_to(NOW, tick=False)
    ranks_recompute()

    pnl = api_client.get(PNL_URL).json()["leaderboard"]
    volume = api_client.get(VOLUME_URL).json()["leaderboard"]

    assert [row["rank"] for row in pnl] == [1, 2, 2, 4]
    assert [row["rank"] for row in volume] == [1, 2, 2, 4, 4, 6]

    def by_id(*names):
        return sorted(str(ties[n].pk) for n in names)

    assert [row["user"]["id"] for row in pnl[1:3]] == by_id("b", "c")
    assert [row["user"]["id"] for row in volume[1:3]] == by_id("b", "c")
    assert [row["user"]["id"] for row in volume[3:5]] == by_id("a", "h")


# --- window edges ------------------------------------------------------------------------------------
def test_window_edges_day_from_midnight_week_from_monday_month_from_the_first(db, time_machine):
    """NOW is Wednesday 11 March 2026 15:00 UTC."""
    u = {name: UserFactory(username=name) for name in ("late", "midnight", "monday", "sunday", "first", "feb")}
    # Placed yesterday, settled yesterday 23:59:59.999999: in the week's PnL, not today's.
    bet(
        u["late"],
        amount="100",
        status=BetStatus.WON,
        placed_at=at("2026-03-10 09:00:00"),
        resolved_at=at("2026-03-10 23:59:59.999999"),
    )
    # Placed exactly at 00:00 today: in today's volume.
    bet(u["midnight"], amount="40", placed_at=at("2026-03-11 00:00:00"))
    # Placed on Sunday 23:59:59, lost at Monday 00:00: PnL in the week, volume not.
    bet(
        u["sunday"],
        amount="70",
        status=BetStatus.LOST,
        placed_at=at("2026-03-08 23:59:59"),
        resolved_at=at("2026-03-09 00:00:00"),
    )
    # Placed at Monday 00:00 exactly: in the week's volume.
    bet(u["monday"], amount="30", placed_at=at("2026-03-09 00:00:00"))
    # Placed at the 1st 00:00 exactly, sold on Sunday 8: in the month, not the week.
    bet(
        u["first"],
        amount="20",
        status=BetStatus.SOLD,
        payout="35",
        placed_at=at("2026-03-01 00:00:00"),
        resolved_at=at("2026-03-08 12:00:00"),
    )
    # The last instant of February: only all-time.
    bet(
        u["feb"],
        amount="10",
        status=BetStatus.WON,
        placed_at=at("2026-02-28 23:59:59.999999"),
        resolved_at=at("2026-02-28 23:59:59.999999"),
    )
    time_machine.move_to(NOW, tick=False)

    ranks_recompute()

    values = {period: {name: row[:2] for name, row in standings(period).items()} for period in PERIODS}
    assert values["day"] == {"midnight": (D("0.00"), D("40.00"))}
    assert values["week"] == {
        "late": (D("100.00"), D("100.00")),
        "midnight": (D("0.00"), D("40.00")),
        "sunday": (D("-70.00"), D("0.00")),
        "monday": (D("0.00"), D("30.00")),
    }
    assert values["month"] == {
        "late": (D("100.00"), D("100.00")),
        "midnight": (D("0.00"), D("40.00")),
        "sunday": (D("-70.00"), D("70.00")),
        "monday": (D("0.00"), D("30.00")),
        "first": (D("15.00"), D("20.00")),
    }
    assert values["all"]["feb"] == (D("10.00"), D("10.00"))
    assert len(values["all"]) == 6
    for period in PERIODS:
        stored, oracle = stored_vs_oracle(period)
        assert stored == oracle


def test_a_week_that_straddles_two_months_counts_both_sides_and_the_month_only_its_own(db, time_machine):
    """Wednesday 1 April 2026: the week began on Monday 30 March, the month today."""
    march, april = UserFactory(username="march"), UserFactory(username="april")
    bet(march, amount="60", status=BetStatus.WON, placed_at=at("2026-03-31 23:00:00"))  # settled 1 April 00:00
    bet(april, amount="25", placed_at=at("2026-04-01 00:00:00"))
    time_machine.move_to(at("2026-04-01 12:00:00"), tick=False)

    ranks_recompute()

    assert standings("week") == {
        "march": (D("60.00"), D("60.00"), 1, 1),
        "april": (D("0.00"), D("25.00"), None, 2),
    }
    # march's bet was placed in March (no volume in April: off April's volume board) but settled
    # at 00:00 on 1 April; april's is pending (off the PnL board).
    assert standings("month") == {
        "march": (D("60.00"), D("0.00"), 1, None),
        "april": (D("0.00"), D("25.00"), None, 1),
    }
    assert standings("day") == standings("month")


# --- profile ranks -----------------------------------------------------------------------------------
def test_profiles_show_the_all_time_ranks_of_the_latest_run(season, client_for, api_client):
    ranks_recompute()

    me = client_for(season["alice"]).get(USERS_ME).json()
    assert (me["rankByPnL"], me["rankByVolume"]) == (1, 2)
    bob = api_client.get(f"/api/v1/users/{season['bob'].pk}").json()
    assert (bob["rankByPnL"], bob["rankByVolume"]) == (4, 3)
    # Without any bet: no rank on either board.
    frank = client_for(season["frank"]).get(USERS_ME).json()
    assert (frank["rankByPnL"], frank["rankByVolume"]) == (None, None)
    hank = api_client.get(f"/api/v1/users/{season['hank'].pk}").json()
    assert (hank["rankByPnL"], hank["rankByVolume"]) == (None, None)
    assert profile_ranks() == {
        "alice": (1, 2),
        "bob": (4, 3),
        "carol": (3, 3),
        "dave": (5, 1),
        "erin": (2, 5),
        "frank": (None, None),
        "hank": (None, None),
    }


def test_profile_ranks_are_null_before_the_first_run_and_follow_later_runs(db, time_machine, client_for):
    time_machine.move_to(NOW, tick=False)
    first, second, idle = (UserFactory(username=n) for n in ("first", "second", "idle"))
    bet(first, amount="100", status=BetStatus.WON, placed_at=at("2026-03-11 09:00:00"))
    assert (client_for(first).get(USERS_ME).json()["rankByPnL"]) is None

    ranks_recompute()
    assert profile_ranks() == {"first": (1, 1), "second": (None, None), "idle": (None, None)}

    bet(second, amount="500", status=BetStatus.WON, placed_at=at("2026-03-11 10:00:00"))
    time_machine.move_to(NOW + timedelta(minutes=15), tick=False)
    ranks_recompute()

    assert profile_ranks() == {"first": (2, 2), "second": (1, 1), "idle": (None, None)}
    me = client_for(idle).get(USERS_ME).json()
    assert (me["rankByPnL"], me["rankByVolume"]) == (None, None)


def test_a_second_run_with_nothing_changed_leaves_the_same_ranks(season):
    ranks_recompute()
    before = {period: standings(period) for period in PERIODS}
    profiles = profile_ranks()

    second = ranks_recompute()

    assert second is not None
    assert RankingRun.objects.count() == 2
    assert {period: standings(period) for period in PERIODS} == before
    assert profile_ranks() == profiles
    assert Standing.objects.count() == sum(len(rows) for rows in SEASON.values())


def test_user_pages_keep_room_so_balance_updates_stay_in_place(db):
    """Every bet rewrites its user's balance and totals (unindexed columns): with room left on each
    page PostgreSQL updates the row in place (HOT) instead of adding an entry to every user index."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [User._meta.db_table])
        assert cursor.fetchone()[0] == ["fillfactor=70"]


def test_a_run_while_another_holds_the_lock_returns_none_and_changes_nothing(season, api_client):
    first = ranks_recompute()
    before = {period: standings(period) for period in PERIODS}
    profiles = profile_ranks()
    board = api_client.get(PNL_URL).json()
    bet(season["hank"], amount="5000", status=BetStatus.WON, placed_at=NOW - timedelta(hours=1))
    board_cache.recompute_request()

    with cache_lock(LOCK, timeout=60) as acquired:
        assert acquired
        assert ranks_recompute() is None

    assert list(RankingRun.objects.all()) == [first]
    assert {period: standings(period) for period in PERIODS} == before
    assert profile_ranks() == profiles
    assert api_client.get(PNL_URL).json() == board
    assert board_cache.recompute_requested()  # the pending request is kept for the next run
    # Once the lock is free, hank's win shows.
    assert ranks_recompute() is not None
    assert standings("all")["hank"][2] == 1


def test_a_run_releases_the_lock(season):
    assert ranks_recompute() is not None
    with cache_lock(LOCK, timeout=60) as acquired:
        assert acquired


def test_bets_of_a_deactivated_user_stop_counting_at_the_next_run(season):
    ranks_recompute()
    assert standings("all")["alice"][2] == 1

    User.objects.filter(pk=season["alice"].pk).update(is_active=False)
    run = ranks_recompute()

    assert "alice" not in standings("all")
    assert standings("all")["erin"][2] == 1
    assert run.users == 6


def test_standings_are_computed_from_the_bets_not_from_the_running_totals(season):
    """The profile's running totals are not the source: tampering with them changes nothing."""
    User.objects.filter(pk=season["erin"].pk).update(overall_pnl=D("99999"), total_volume=D("99999"))

    ranks_recompute()

    assert standings("all")["erin"] == SEASON["all"]["erin"]


# --- the command and the schedule -----------------------------------------------------------------------
def test_recompute_ranks_command_runs_and_prints_a_summary(season):
    out = StringIO()

    call_command("recompute_ranks", stdout=out)

    run = RankingRun.objects.get()
    text = out.getvalue()
    assert "Recomputing standings" in text
    assert "Ranked 5 users by PnL and 5 by volume (all time, of 7 active)" in text
    assert "as of 2026-03-11 15:00:00 UTC" in text
    assert run.ranked["week"] == {"pnl": 3, "volume": 4}
    assert standings("all") == SEASON["all"]


def test_recompute_ranks_command_fails_while_another_run_holds_the_lock(season):
    with cache_lock(LOCK, timeout=60), pytest.raises(CommandError, match="Another recomputation is running"):
        call_command("recompute_ranks", stdout=StringIO())

    assert not RankingRun.objects.exists()
    assert not Standing.objects.exists()


def test_recomputation_is_scheduled_every_15_minutes_in_celery_beat(db):
    task = PeriodicTask.objects.get(task="leaderboard.tasks.recompute_ranks")

    assert task.enabled
    assert (task.interval.every, task.interval.period) == (15, "minutes")
    assert task.crontab is None
    assert "leaderboard.tasks.recompute_ranks" in celery_app.tasks


def test_a_bet_row_changed_after_a_run_is_only_reflected_by_the_next_run(season):
    ranks_recompute()
    Bet.objects.filter(user=season["erin"]).update(status=BetStatus.LOST, actual_payout=D(0))

    assert standings("all")["erin"][0] == D("92.86")
    ranks_recompute()
    assert standings("all")["erin"][:3] == (D("-50.00"), D("50.00"), 4)


def test_runs_older_than_a_week_are_pruned_and_the_newest_is_served(season, time_machine, api_client):
    old = ranks_recompute()
    time_machine.move_to(NOW + timedelta(days=8), tick=False)

    new = ranks_recompute()

    assert list(RankingRun.objects.all()) == [new]
    assert old.pk != new.pk
    body = api_client.get(PNL_URL, {"period": "day"}).json()
    assert body["updatedAt"].startswith("2026-03-19T15:00:00")
    # Nobody bet on 19 March: today's board is empty.
    assert (body["leaderboard"], body["total"]) == ([], 0)
    assert new.ranked["day"] == {"pnl": 0, "volume": 0}
