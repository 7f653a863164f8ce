"""Boards never look broken on a fresh install or after trading (issue 13): a worker that starts
with no ranks computed computes them at once; bets and cash-outs ask for a recomputation after they
commit, debounced like settlements; staff are left off the public boards (LEADERBOARD_EXCLUDE_STAFF,
on by default)."""

from decimal import Decimal
from unittest import mock

import pytest
from celery.signals import worker_ready
from django.utils import timezone

from betting.models import BetStatus
from betting.services import bet_place, bet_sell
from leaderboard import cache as board_cache
from leaderboard.models import RankingRun
from leaderboard.services import ranks_recompute
from leaderboard.tasks import DEBOUNCE_SECONDS, recompute_ranks
from tests.factories import UserFactory
from tests.helpers.leaderboard import ME_URL, PNL_URL, USERS_ME, VOLUME_URL, bet, money, profile_ranks_of

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def enqueue():
    """`recompute_ranks.apply_async` replaced by a recorder (nothing runs)."""
    with mock.patch.object(recompute_ranks, "apply_async") as apply_async:
        yield apply_async


# --- start-up --------------------------------------------------------------------------------------
def test_a_starting_worker_computes_ranks_never_computed_before(api_client):
    player = UserFactory()
    bet(player, amount="40", placed_at=timezone.now())
    assert api_client.get(VOLUME_URL).json()["updatedAt"] is None

    worker_ready.send(sender=None)  # Celery is eager in tests: the enqueued run happens at once

    assert RankingRun.objects.count() == 1
    body = api_client.get(VOLUME_URL).json()
    assert body["updatedAt"] is not None
    assert body["total"] == 1
    assert [(row["user"]["id"], money(row["totalVolume"])) for row in body["leaderboard"]] == [
        (str(player.pk), D("40.00"))
    ]


def test_a_starting_worker_leaves_ranks_already_computed_to_the_schedule():
    UserFactory()
    ranks_recompute()

    worker_ready.send(sender=None)

    assert RankingRun.objects.count() == 1


# --- after bets and cash-outs ---------------------------------------------------------------------------
def test_a_bet_asks_for_a_recomputation_only_once_it_has_committed(enqueue, market, django_capture_on_commit_callbacks):
    user = UserFactory(balance=D("1000"))

    with django_capture_on_commit_callbacks() as callbacks:
        bet_place(user_id=user.pk, market_id=market.pk, side="this", amount=D("100"))
        enqueue.assert_not_called()

    for callback in callbacks:
        callback()
    enqueue.assert_called_once_with(countdown=DEBOUNCE_SECONDS)
    assert board_cache.recompute_requested()


def test_a_burst_of_bets_enqueues_one_delayed_run(enqueue, market, django_capture_on_commit_callbacks):
    users = [UserFactory(balance=D("1000")) for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        for user in users * 3:
            bet_place(user_id=user.pk, market_id=market.pk, side="that", amount=D("10"))

    enqueue.assert_called_once_with(countdown=DEBOUNCE_SECONDS)
    assert not RankingRun.objects.exists()


def test_a_cash_out_asks_for_a_recomputation(enqueue, market, django_capture_on_commit_callbacks):
    user = UserFactory(balance=D("1000"))
    placed = bet_place(user_id=user.pk, market_id=market.pk, side="this", amount=D("100"))
    enqueue.assert_not_called()  # the bet's own request never committed (the test's transaction)

    with django_capture_on_commit_callbacks(execute=True):
        bet_sell(user_id=user.pk, bet_id=placed.bet.pk)

    enqueue.assert_called_once_with(countdown=DEBOUNCE_SECONDS)


def test_after_a_bet_through_the_api_the_boards_and_my_standing_show_it(
    market, client_for, api_client, django_capture_on_commit_callbacks
):
    user = UserFactory(balance=D("1000"))
    client = client_for(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/bets", {"marketId": str(market.pk), "side": "this", "amount": 250}, format="json"
        )
    assert response.status_code == 201

    board = api_client.get(VOLUME_URL).json()
    assert board["updatedAt"] is not None
    assert [money(row["totalVolume"]) for row in board["leaderboard"]] == [D("250.00")]
    assert client.get(ME_URL).json()["volume"] == {"rank": 1, "value": 250}
    assert client.get(USERS_ME).json()["rankByVolume"] == 1


# --- staff are not players ---------------------------------------------------------------------------------
@pytest.fixture
def staff_and_player():
    now = timezone.now()
    staff = UserFactory(username="admin", is_staff=True)
    player = UserFactory(username="player")
    idle = UserFactory(username="idle")  # no bets: not listed
    bet(staff, amount="900", placed_at=now)
    bet(player, amount="100", status=BetStatus.WON, placed_at=now)  # on both boards
    return staff, player, idle


@pytest.mark.parametrize("url", [PNL_URL, VOLUME_URL])
def test_staff_are_left_off_the_public_boards(staff_and_player, api_client, url):
    staff, player, _ = staff_and_player
    ranks_recompute()

    body = api_client.get(url).json()

    assert [row["user"]["username"] for row in body["leaderboard"]] == ["player"]
    assert body["total"] == 1
    assert profile_ranks_of(staff) == (None, None)
    assert profile_ranks_of(player) == (1, 1)


def test_with_the_setting_off_staff_are_ranked_like_everyone(staff_and_player, api_client, settings):
    settings.LEADERBOARD_EXCLUDE_STAFF = False
    staff, _, _ = staff_and_player
    ranks_recompute()

    body = api_client.get(VOLUME_URL).json()

    assert [row["user"]["username"] for row in body["leaderboard"]] == ["admin", "player"]
    assert body["total"] == 2
    assert profile_ranks_of(staff)[1] == 1
