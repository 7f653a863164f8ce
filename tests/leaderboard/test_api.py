"""The leaderboard endpoints (SPEC §5 "Leaderboard"): response shapes, ordering, only the users ranked
in the period listed (SPEC [speed]), pagination at any depth, validation, auth, `/leaderboard/me`,
and the cached pages (served from the cache after a run, refilled from the database when the cache
is cold, replaced by a new run)."""

import json
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from betting.models import BetStatus
from leaderboard import cache as board_cache
from leaderboard.cache import PREFILLED_LIMIT
from leaderboard.services import ranks_recompute
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.leaderboard import (
    ME_URL,
    PERIODS,
    PNL_URL,
    VOLUME_URL,
    api_rows,
    at,
    bet,
    expected_board,
    money,
)

pytestmark = pytest.mark.django_db

D = Decimal
NOW = at("2026-03-11 15:00:00")
BOARDS = pytest.mark.parametrize("url", [PNL_URL, VOLUME_URL], ids=["pnl", "volume"])


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def field(clock):
    """Five ranked users (all bets today) and four without bets (with the `user` fixture not used).

    Today:    PnL r1 +300 | r2 +100 | r3 +100 | r4 -50 | r5 -200
              volume r5 400 | r4 250 | r1 150 | r2 100 | r3 100
    All time: r4 also lost 250 in January (PnL -300, volume 500).
    """
    ranked = {name: UserFactory(username=name) for name in ("r1", "r2", "r3", "r4", "r5")}
    idle = [UserFactory(username=f"idle{n}") for n in range(4)]
    placed = at("2026-03-11 08:00:00")
    bet(ranked["r1"], amount="150", status=BetStatus.WON, payout="450", placed_at=placed)
    bet(ranked["r2"], amount="100", status=BetStatus.WON, payout="200", placed_at=placed)
    bet(ranked["r3"], amount="100", status=BetStatus.SOLD, payout="200", placed_at=placed)
    bet(ranked["r4"], amount="50", status=BetStatus.LOST, placed_at=placed)
    bet(ranked["r4"], amount="200", placed_at=placed)
    bet(ranked["r4"], amount="250", status=BetStatus.LOST, placed_at=at("2026-01-05 08:00:00"))  # another month
    bet(ranked["r5"], amount="200", status=BetStatus.LOST, placed_at=placed)
    bet(ranked["r5"], amount="200", placed_at=placed)
    return {"ranked": ranked, "idle": idle}


def whole(url: str) -> str:
    return "pnl" if url == PNL_URL else "volume"


def parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


# --- shapes --------------------------------------------------------------------------------------------
@BOARDS
def test_board_has_exactly_the_documented_keys_and_json_number_values(field, api_client, url):
    run = ranks_recompute()

    response = api_client.get(url)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"leaderboard", "total", "limit", "offset", "period", "updatedAt"}
    # The five users with bets; the four idle ones are not listed.
    assert (body["total"], body["limit"], body["offset"], body["period"]) == (5, 100, 0, "all")
    assert parsed(body["updatedAt"]) == run.computed_at == NOW
    assert len(body["leaderboard"]) == 5
    for row in body["leaderboard"]:
        assert set(row) == {"rank", "user", "overallPnL", "totalVolume"}
        assert set(row["user"]) == {"id", "username"}
        assert isinstance(row["rank"], int)
        assert isinstance(row["overallPnL"], int | float) and not isinstance(row["overallPnL"], bool)
        assert isinstance(row["totalVolume"], int | float) and not isinstance(row["totalVolume"], bool)


def test_pnl_board_is_ordered_by_realised_pnl_with_values(field, api_client):
    ranks_recompute()

    rows = api_client.get(PNL_URL, {"period": "day"}).json()["leaderboard"]

    top = [(row["rank"], row["user"]["username"], money(row["overallPnL"]), money(row["totalVolume"])) for row in rows]
    r2_r3 = sorted(["r2", "r3"], key=lambda n: field["ranked"][n].pk)
    assert top[:5] == [
        (1, "r1", D("300.00"), D("150.00")),
        (2, r2_r3[0], D("100.00"), D("100.00")),
        (2, r2_r3[1], D("100.00"), D("100.00")),
        (4, "r4", D("-50.00"), D("250.00")),
        (5, "r5", D("-200.00"), D("400.00")),
    ]
    assert len(top) == 5  # the idle users are not listed


def test_volume_board_is_ordered_by_volume_placed(field, api_client):
    ranks_recompute()

    rows = api_client.get(VOLUME_URL, {"period": "week"}).json()["leaderboard"]

    names = [row["user"]["username"] for row in rows[:5]]
    assert names[:3] == ["r5", "r4", "r1"]
    assert sorted(names[3:]) == ["r2", "r3"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4, 4]
    assert [money(row["totalVolume"]) for row in rows[:5]] == [D(400), D(250), D(150), D(100), D(100)]


def test_all_time_board_includes_bets_outside_the_month(field, api_client):
    ranks_recompute()

    rows = {row["user"]["username"]: row for row in api_client.get(VOLUME_URL, {"period": "all"}).json()["leaderboard"]}
    month = {
        row["user"]["username"]: row for row in api_client.get(VOLUME_URL, {"period": "month"}).json()["leaderboard"]
    }

    assert (rows["r4"]["rank"], money(rows["r4"]["totalVolume"]), money(rows["r4"]["overallPnL"])) == (
        1,
        D(500),
        D(-300),
    )
    assert (month["r4"]["rank"], money(month["r4"]["totalVolume"])) == (2, D(250))


@BOARDS
@pytest.mark.parametrize("period", PERIODS)
def test_every_board_and_period_matches_the_independent_computation(field, api_client, url, period):
    ranks_recompute()

    body = api_client.get(url, {"period": period}).json()

    assert body["period"] == period
    assert api_rows(body) == expected_board(whole(url), period, NOW)


# --- only the users ranked in the period, and pagination ----------------------------------------------
def test_a_board_lists_only_the_users_it_ranks_in_the_period(clock, api_client, client_for):
    """Volume: a bet placed in the period; PnL: a bet won, lost or sold in it. A pending bet puts a user
    on the volume board only; a bet placed last month and settled today on today's PnL board only; a
    cancelled bet (a refund, no PnL) on no PnL board; no bet at all on neither."""
    pending = UserFactory(username="pending_only")
    settled = UserFactory(username="settled_today")
    refunded = UserFactory(username="refunded")
    idle = UserFactory(username="idle")
    bet(pending, amount="40", placed_at=at("2026-03-11 09:00:00"))
    bet(settled, amount="30", status=BetStatus.LOST, placed_at=at("2026-02-20 09:00:00"),
        resolved_at=at("2026-03-11 09:00:00"))  # fmt: skip
    bet(refunded, amount="20", status=BetStatus.CANCELLED, placed_at=at("2026-02-20 09:00:00"),
        resolved_at=at("2026-03-11 09:00:00"))  # fmt: skip
    ranks_recompute()

    def listed(url: str, period: str) -> list[tuple[int, str]]:
        body = api_client.get(url, {"period": period}).json()
        rows = [(row["rank"], row["user"]["username"]) for row in body["leaderboard"]]
        assert body["total"] == len(rows)
        return rows

    assert listed(VOLUME_URL, "day") == [(1, "pending_only")]
    assert listed(PNL_URL, "day") == [(1, "settled_today")]
    assert listed(VOLUME_URL, "all") == [(1, "pending_only"), (2, "settled_today"), (3, "refunded")]
    assert listed(PNL_URL, "all") == [(1, "settled_today")]
    me = client_for(pending).get(ME_URL, {"period": "day"}).json()
    assert me["pnl"] == {"rank": None, "value": 0} and me["volume"] == {"rank": 1, "value": 40}
    nobody = client_for(idle).get(ME_URL, {"period": "all"}).json()
    assert nobody["pnl"] == nobody["volume"] == {"rank": None, "value": 0}


@BOARDS
@pytest.mark.parametrize(
    ("limit", "offset"),
    [
        (3, 0),  # the first three
        (3, 3),  # the last two
        (3, 5),  # exactly past the end
        (2, 4),  # the last one
        (1, 2),  # one in the middle
        (50, 100),  # far past the end
    ],
)
def test_a_page_is_the_matching_slice_of_the_whole_board(field, api_client, url, limit, offset):
    ranks_recompute()
    board = expected_board(whole(url), "day", NOW)

    body = api_client.get(url, {"period": "day", "limit": limit, "offset": offset}).json()

    assert api_rows(body) == board[offset : offset + limit]
    assert (body["limit"], body["offset"], body["total"]) == (limit, offset, 5)


@BOARDS
@pytest.mark.parametrize("limit", [1, 2, 4])
def test_walking_the_pages_lists_every_user_once_in_board_order(field, api_client, url, limit):
    ranks_recompute()

    walked = []
    for offset in range(0, 12, limit):
        walked += api_rows(api_client.get(url, {"period": "day", "limit": limit, "offset": offset}).json())

    assert walked == expected_board(whole(url), "day", NOW)
    assert len({row["id"] for row in walked}) == 5


def test_limit_1000_is_accepted(field, api_client):
    ranks_recompute()

    body = api_client.get(PNL_URL, {"limit": 1000}).json()

    assert (body["limit"], len(body["leaderboard"])) == (1000, 5)


# --- validation and auth -------------------------------------------------------------------------------
@BOARDS
@pytest.mark.parametrize(
    "query",
    [
        {"period": "year"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "-1"},
        {"limit": "abc"},
        {"offset": "-1"},
        {"offset": "abc"},
    ],
)
def test_bad_query_parameters_are_a_validation_error(db, api_client, url, query):
    body = assert_error(api_client.get(url, query), 400, "VALIDATION_ERROR")

    assert body["details"]


@BOARDS
def test_boards_need_no_authentication_even_before_any_run(db, api_client, url):
    body = api_client.get(url).json()

    assert body == {"leaderboard": [], "total": 0, "limit": 100, "offset": 0, "period": "all", "updatedAt": None}


def test_boards_before_any_run_are_empty_for_every_period(field, api_client):
    """Users and bets exist, but nothing was ranked yet."""
    for url in (PNL_URL, VOLUME_URL):
        for period in PERIODS:
            body = api_client.get(url, {"period": period, "limit": 5, "offset": 2}).json()
            assert (body["leaderboard"], body["total"], body["updatedAt"], body["period"]) == ([], 0, None, period)


def test_my_standing_needs_authentication(db, api_client):
    assert_error(api_client.get(ME_URL), 401, "NOT_AUTHENTICATED")


def test_my_standing_rejects_an_unknown_period(field, client_for):
    assert_error(client_for(field["ranked"]["r1"]).get(ME_URL, {"period": "year"}), 400, "VALIDATION_ERROR")


# --- /leaderboard/me -----------------------------------------------------------------------------------
def test_my_standing_gives_both_ranks_values_the_total_and_the_run_time(field, client_for):
    run = ranks_recompute()

    body = client_for(field["ranked"]["r4"]).get(ME_URL).json()

    assert set(body) == {"pnl", "volume", "totalUsers", "updatedAt"}
    assert set(body["pnl"]) == set(body["volume"]) == {"rank", "value"}
    assert (body["pnl"]["rank"], money(body["pnl"]["value"])) == (5, D("-300.00"))
    assert (body["volume"]["rank"], money(body["volume"]["value"])) == (1, D("500.00"))
    assert isinstance(body["pnl"]["value"], int | float) and isinstance(body["volume"]["value"], int | float)
    assert body["totalUsers"] == 9
    assert parsed(body["updatedAt"]) == run.computed_at


def test_my_standing_for_a_period(field, client_for):
    ranks_recompute()

    body = client_for(field["ranked"]["r4"]).get(ME_URL, {"period": "day"}).json()

    assert body["pnl"]["rank"] == 4 and money(body["pnl"]["value"]) == D("-50.00")
    assert body["volume"]["rank"] == 2 and money(body["volume"]["value"]) == D("250.00")


def test_my_standing_without_bets_is_rank_null_and_value_0(field, client_for):
    ranks_recompute()

    body = client_for(field["idle"][0]).get(ME_URL, {"period": "day"}).json()

    assert body["pnl"] == {"rank": None, "value": 0} and body["volume"] == {"rank": None, "value": 0}
    assert body["totalUsers"] == 9


def test_my_standing_without_bets_in_the_period_only(clock, client_for):
    """Bets last week, none today: ranked on the all-time boards, on no board today."""
    old, fresh = UserFactory(username="old"), UserFactory(username="fresh")
    bet(old, amount="100", status=BetStatus.WON, placed_at=at("2026-03-02 10:00:00"))
    bet(fresh, amount="20", placed_at=at("2026-03-11 10:00:00"))
    ranks_recompute()

    today = client_for(old).get(ME_URL, {"period": "day"}).json()
    ever = client_for(old).get(ME_URL, {"period": "all"}).json()

    assert (today["pnl"], today["volume"]) == ({"rank": None, "value": 0}, {"rank": None, "value": 0})
    assert (ever["pnl"]["rank"], money(ever["pnl"]["value"])) == (1, D("100.00"))
    assert (ever["volume"]["rank"], money(ever["volume"]["value"])) == (1, D("100.00"))


def test_my_standing_before_any_run(db, auth_client):
    body = auth_client.get(ME_URL).json()

    assert body == {
        "pnl": {"rank": None, "value": 0},
        "volume": {"rank": None, "value": 0},
        "totalUsers": 0,
        "updatedAt": None,
    }


def test_my_standing_agrees_with_the_boards(field, client_for, api_client):
    ranks_recompute()
    for period in PERIODS:
        pnl = {row["user"]["id"]: row for row in api_client.get(PNL_URL, {"period": period}).json()["leaderboard"]}
        volume = {
            row["user"]["id"]: row for row in api_client.get(VOLUME_URL, {"period": period}).json()["leaderboard"]
        }
        for user in field["ranked"].values():
            mine = client_for(user).get(ME_URL, {"period": period}).json()
            row_p, row_v = pnl[str(user.pk)], volume[str(user.pk)]
            assert (mine["pnl"]["rank"], money(mine["pnl"]["value"])) == (row_p["rank"], money(row_p["overallPnL"]))
            assert (mine["volume"]["rank"], money(mine["volume"]["value"])) == (
                row_v["rank"],
                money(row_v["totalVolume"]),
            )
        idle = field["idle"][1]
        assert str(idle.pk) not in pnl and str(idle.pk) not in volume
        mine = client_for(idle).get(ME_URL, {"period": period}).json()
        assert mine["pnl"] == mine["volume"] == {"rank": None, "value": 0}


# --- the cache -----------------------------------------------------------------------------------------
@BOARDS
@pytest.mark.parametrize("period", PERIODS)
def test_after_a_run_the_first_page_is_served_without_sql(field, api_client, django_assert_num_queries, url, period):
    ranks_recompute()
    expected = expected_board(whole(url), period, NOW)

    with django_assert_num_queries(0):
        body = api_client.get(url, {"period": period}).json()

    assert api_rows(body) == expected


def test_the_first_page_asked_for_with_an_explicit_default_limit_is_served_without_sql(
    field, api_client, django_assert_num_queries
):
    ranks_recompute()

    with django_assert_num_queries(0):
        response = api_client.get(PNL_URL, {"period": "all", "limit": PREFILLED_LIMIT, "offset": 0})

    assert response.status_code == 200


@BOARDS
def test_any_page_within_the_prefilled_rows_is_sliced_from_the_cache_without_sql(
    field, api_client, django_assert_num_queries, url
):
    ranks_recompute()

    with django_assert_num_queries(0):
        bodies = [
            api_client.get(url, {"period": "day", "limit": limit, "offset": offset}).json()
            for limit, offset in [(3, 4), (1, 0), (7, 2)]
        ]

    expected = expected_board(whole(url), "day", NOW)
    assert [api_rows(body) for body in bodies] == [expected[4:7], expected[0:1], expected[2:9]]
    assert [len(body["leaderboard"]) for body in bodies] == [1, 1, 3]


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 1 row, the first 3 cached: the 5-user field then spans blocks and the uncached tail."""
    monkeypatch.setattr(board_cache, "BLOCK_ROWS", 1)
    monkeypatch.setattr(board_cache, "CACHED_BLOCKS", 3)


@BOARDS
def test_pages_across_several_blocks_are_assembled_from_one_read_then_served_from_the_cache(
    field, small_blocks, api_client, django_assert_num_queries, url
):
    ranks_recompute()
    pages = [(2, 1), (1, 2), (3, 0), (1, 0)]
    expected = expected_board(whole(url), "all", NOW)

    with CaptureQueriesContext(connection) as first:
        api_client.get(url, {"limit": 2, "offset": 1})
    assert len(first.captured_queries) == 1  # blocks 1-2 in one read
    bodies = [api_client.get(url, {"limit": limit, "offset": offset}).json() for limit, offset in pages]
    with django_assert_num_queries(0):
        again = [api_client.get(url, {"limit": limit, "offset": offset}).json() for limit, offset in pages]

    assert [api_rows(body) for body in bodies] == [expected[offset : offset + limit] for limit, offset in pages]
    assert again == bodies


def _block_keys() -> set[str]:
    return set(cache.keys("leaderboard:*:block:*"))


@BOARDS
def test_pages_beyond_the_cached_blocks_are_read_from_the_database_every_time(field, small_blocks, api_client, url):
    ranks_recompute()
    api_client.get(url, {"limit": 3, "offset": 0})  # fills every cached block
    cached_before = _block_keys()
    expected = expected_board(whole(url), "all", NOW)

    for _ in range(2):
        with CaptureQueriesContext(connection) as read:
            body = api_client.get(url, {"limit": 3, "offset": 2}).json()  # reaches block 4
        assert len(read.captured_queries) == 1
        assert api_rows(body) == expected[2:5]

    assert _block_keys() == cached_before


def test_the_cache_holds_a_bounded_number_of_pages_whatever_clients_ask(field, api_client, settings):
    settings.RATE_LIMIT_ENABLED = False
    ranks_recompute()

    for url in (PNL_URL, VOLUME_URL):
        for limit in (1, 2, 3, 7, 10, 20, 25, 50, 100, 1000):
            for offset in (0, 1, 2, 3, 5, 8, 13, 95, 101, 250, 999, 5000):
                assert api_client.get(url, {"limit": limit, "offset": offset}).status_code == 200

    boards, periods = 2, len(PERIODS)
    # Rows in blocks, and the rendered bodies of the block-aligned pages, + the latest run.
    assert len(cache.keys("leaderboard:*")) <= 2 * boards * periods * board_cache.CACHED_BLOCKS + 1


def _body_keys() -> set[str]:
    return set(cache.keys("leaderboard:*:body:*"))


@BOARDS
def test_the_pages_clients_page_by_are_kept_rendered_under_the_run(field, small_blocks, api_client, url):
    ranks_recompute()
    whole_pages = [{"limit": 1, "offset": offset} for offset in range(3)]  # blocks of 1 row, 3 cached

    bodies = [api_client.get(url, page).content for page in whole_pages]
    kept = _body_keys()
    api_client.get(url, {"limit": 2, "offset": 0})  # two blocks: sliced, not kept rendered
    api_client.get(url, {"limit": 1, "offset": 3})  # beyond the cached blocks
    again = [api_client.get(url, page).content for page in whole_pages]

    assert len(kept) == 3 and _body_keys() == kept
    assert again == bodies
    expected = expected_board(whole(url), "all", NOW)
    assert [api_rows(json.loads(body)) for body in bodies] == [expected[n : n + 1] for n in range(3)]


def test_a_kept_page_is_served_as_it_was_rendered_until_the_next_run(field, api_client, clock):
    ranks_recompute()
    first = api_client.get(PNL_URL)
    assert _body_keys()
    bet(field["idle"][0], amount="1000", status=BetStatus.WON, placed_at=at("2026-03-11 14:00:00"))

    assert api_client.get(PNL_URL).content == first.content
    clock.move_to(NOW + timedelta(minutes=15), tick=False)
    ranks_recompute()
    after = api_client.get(PNL_URL)

    assert after.status_code == 200 and after["Content-Type"] == first["Content-Type"] == "application/json"
    assert after.json()["leaderboard"][0]["user"]["username"] == field["idle"][0].username


def test_a_cold_cache_falls_back_to_the_database_and_refills_it(field, api_client, django_assert_num_queries):
    ranks_recompute()
    warm = api_client.get(PNL_URL).json()
    cache.delete_pattern("*")

    with CaptureQueriesContext(connection) as cold:
        body = api_client.get(PNL_URL).json()
    with django_assert_num_queries(0):
        again = api_client.get(PNL_URL).json()

    assert len(cold.captured_queries) >= 1
    assert body == warm == again
    assert api_rows(body) == expected_board("pnl", "all", NOW)


def test_a_cold_cache_still_serves_my_standing(field, client_for):
    ranks_recompute()
    cache.delete_pattern("*")

    body = client_for(field["ranked"]["r1"]).get(ME_URL).json()

    assert body["pnl"]["rank"] == 1 and body["totalUsers"] == 9


def test_a_new_run_replaces_the_cached_pages(field, api_client, clock):
    ranks_recompute()
    deep = {"period": "day", "limit": 2, "offset": 3}
    before_first, before_deep = api_client.get(PNL_URL).json(), api_client.get(PNL_URL, deep).json()
    newcomer = field["idle"][0]
    bet(newcomer, amount="1000", status=BetStatus.WON, placed_at=at("2026-03-11 14:00:00"))
    clock.move_to(NOW + timedelta(minutes=15), tick=False)
    # Until the next run, the boards stay as of the last one.
    assert api_client.get(PNL_URL).json() == before_first

    run = ranks_recompute()

    first = api_client.get(PNL_URL).json()
    assert first != before_first
    assert first["leaderboard"][0]["user"]["username"] == newcomer.username
    assert money(first["leaderboard"][0]["overallPnL"]) == D("1000.00")
    assert parsed(first["updatedAt"]) == run.computed_at == NOW + timedelta(minutes=15)
    assert api_rows(first) == expected_board("pnl", "all", NOW + timedelta(minutes=15))
    deep_now = api_client.get(PNL_URL, deep).json()
    assert deep_now != before_deep
    assert api_rows(deep_now) == expected_board("pnl", "day", NOW + timedelta(minutes=15))[3:5]


def test_a_new_run_changes_my_standing_and_total_users(field, client_for, clock):
    ranks_recompute()
    me = client_for(field["idle"][2])
    assert me.get(ME_URL).json()["pnl"]["rank"] is None
    bet(field["idle"][2], amount="10", status=BetStatus.WON, payout="5000", placed_at=at("2026-03-11 14:00:00"))
    UserFactory(username="late_joiner")
    clock.move_to(NOW + timedelta(minutes=1), tick=False)

    ranks_recompute()

    body = me.get(ME_URL).json()
    assert body["pnl"] == {"rank": 1, "value": 4990}
    assert body["totalUsers"] == 10


@BOARDS
def test_the_pages_of_a_board_add_up_to_its_total_after_someone_registers(field, api_client, clock, url):
    """A board is "as of `updatedAt`": walking its pages lists exactly `total` users, whether a
    page came from the cache or from the database, even when someone registered since the run."""
    ranks_recompute()
    clock.move_to(NOW + timedelta(minutes=5), tick=False)
    UserFactory(username="newcomer")

    first = api_client.get(url, {"period": "day"}).json()  # the prefilled page, from the cache
    walked = []
    for offset in range(0, 20, 3):
        walked += api_client.get(url, {"period": "day", "limit": 3, "offset": offset}).json()["leaderboard"]

    assert len(first["leaderboard"]) == first["total"]
    assert len(walked) == first["total"]
    assert [row["user"]["id"] for row in walked] == [row["user"]["id"] for row in first["leaderboard"]]


@BOARDS
def test_a_page_beyond_the_cached_blocks_is_one_query_by_place_not_an_offset_scan(field, small_blocks, api_client, url):
    """Any depth costs the same: the rows whose place is in (offset, offset + limit], from the index."""
    ranks_recompute()

    with CaptureQueriesContext(connection) as read:
        body = api_client.get(url, {"limit": 2, "offset": 3}).json()

    (sql,) = [query["sql"] for query in read.captured_queries]
    assert f'"{whole(url)}_position" > 3' in sql and f'"{whole(url)}_position" <= 5' in sql
    assert "OFFSET" not in sql.upper()
    assert api_rows(body) == expected_board(whole(url), "all", NOW)[3:5]
