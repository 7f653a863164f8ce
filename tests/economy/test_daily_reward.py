"""Daily rewards (SPEC §5, §6): once per UTC day, a streak ladder, a missed day restarts it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from economy.errors import BalanceLimit, DailyRewardClaimed
from economy.models import DailyReward, LedgerEntry, LedgerKind
from economy.services import daily_reward_claim
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles

pytestmark = pytest.mark.django_db

DAILY = "/api/v1/rewards/daily"
HISTORY = "/api/v1/rewards/history"
DAY_ONE = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(DAY_ONE, tick=False)


def at(time_machine, moment: datetime) -> None:
    time_machine.move_to(moment, tick=False)


def claim(client_for, user):
    """POST /rewards/daily with a token issued now (tests travel further than a token lives)."""
    return client_for(user).post(DAILY)


def status(client_for, user) -> dict:
    response = client_for(user).get(DAILY)
    assert response.status_code == 200, response.json()
    return response.json()


def balance(user) -> Decimal:
    return User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)


# --- GET /rewards/daily ----------------------------------------------------------------------------
def test_a_new_user_can_claim_1000_now(client_for, user):
    body = status(client_for, user)
    assert body == {
        "canClaim": True,
        "nextClaimAvailable": "2026-03-10T09:30:00Z",
        "streak": 0,
        "nextAmount": 1000,
    }


def test_after_claiming_the_next_claim_is_at_the_next_utc_midnight_and_pays_day_two(client_for, user):
    claim(client_for, user)
    assert status(client_for, user) == {
        "canClaim": False,
        "nextClaimAvailable": "2026-03-11T00:00:00Z",
        "streak": 1,
        "nextAmount": 1500,
    }


def test_the_status_shows_a_broken_streak_as_zero(client_for, user, time_machine):
    for day in range(3):
        at(time_machine, DAY_ONE + timedelta(days=day))
        claim(client_for, user)
    at(time_machine, DAY_ONE + timedelta(days=4))
    body = status(client_for, user)
    assert body["canClaim"] is True
    assert body["streak"] == 0
    assert body["nextAmount"] == 1000


def test_the_profile_streak_follows_the_claims_and_drops_to_zero_after_a_missed_day(client_for, user, time_machine):
    for day in range(3):
        at(time_machine, DAY_ONE + timedelta(days=day))
        claim(client_for, user)
    assert client_for(user).get("/api/v1/users/me").json()["dailyStreak"] == 3
    at(time_machine, DAY_ONE.replace(hour=23) + timedelta(days=3))  # late the day after the last claim
    assert client_for(user).get("/api/v1/users/me").json()["dailyStreak"] == 3

    at(time_machine, DAY_ONE + timedelta(days=4))
    profile = client_for(user).get("/api/v1/users/me").json()

    assert profile["dailyStreak"] == 0
    assert profile["dailyStreak"] == status(client_for, user)["streak"]


def test_the_status_needs_authentication(api_client):
    assert_error(api_client.get(DAILY), 401, "NOT_AUTHENTICATED")
    assert_error(api_client.post(DAILY), 401, "NOT_AUTHENTICATED")


# --- POST /rewards/daily ---------------------------------------------------------------------------
def test_a_claim_pays_1000_on_the_ledger_and_returns_the_spec_shape(client_for, user):
    response = claim(client_for, user)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"reward", "newBalance", "nextClaimAvailable", "streak"}
    assert set(body["reward"]) == {"id", "creditsAwarded", "streakDay", "claimedAt"}
    assert body["reward"]["creditsAwarded"] == 1000
    assert body["reward"]["streakDay"] == 1
    assert body["reward"]["claimedAt"] == "2026-03-10T09:30:00Z"
    assert body["newBalance"] == 2000
    assert body["nextClaimAvailable"] == "2026-03-11T00:00:00Z"
    assert body["streak"] == 1
    reward = DailyReward.objects.get(pk=body["reward"]["id"])
    entry = LedgerEntry.objects.get(kind=LedgerKind.DAILY_REWARD)
    assert (entry.user_id, entry.amount, entry.reference_id) == (user.pk, Decimal("1000"), reward.pk)
    assert entry.balance_after == balance(user) == Decimal("2000")
    user.refresh_from_db()
    assert user.daily_streak == 1
    assert user.last_daily_reward_at == DAY_ONE
    assert_ledger_reconciles()


def test_a_second_claim_the_same_utc_day_is_daily_reward_claimed_with_the_next_time(client_for, user, time_machine):
    claim(client_for, user)
    at(time_machine, datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))

    body = assert_error(claim(client_for, user), 409, "DAILY_REWARD_CLAIMED")

    assert body["details"] == {"nextClaimAvailable": "2026-03-11T00:00:00Z"}
    assert balance(user) == Decimal("2000")
    assert DailyReward.objects.count() == 1


def test_the_utc_midnight_boundary_opens_the_next_claim(client_for, user, time_machine):
    at(time_machine, datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC))
    assert claim(client_for, user).status_code == 201
    at(time_machine, datetime(2026, 3, 11, 0, 0, 0, tzinfo=UTC))

    response = claim(client_for, user)

    assert response.status_code == 201, response.json()
    assert response.json()["reward"]["streakDay"] == 2
    assert response.json()["reward"]["creditsAwarded"] == 1500


def test_consecutive_days_climb_the_ladder_to_the_10000_cap(client_for, user, time_machine):
    paid = []
    for day in range(21):
        at(time_machine, DAY_ONE + timedelta(days=day, hours=day % 5))
        response = claim(client_for, user)
        assert response.status_code == 201, response.json()
        paid.append(response.json()["reward"]["creditsAwarded"])

    assert paid[:4] == [1000, 1500, 2000, 2500]
    assert paid[17] == 9500
    assert paid[18:] == [10000, 10000, 10000]
    user.refresh_from_db()
    assert user.daily_streak == 21
    assert user.credit_balance == Decimal("1000") + sum(Decimal(p) for p in paid)
    assert_ledger_reconciles()


def test_a_missed_day_restarts_the_streak_at_day_one(client_for, user, time_machine):
    for day in range(3):
        at(time_machine, DAY_ONE + timedelta(days=day))
        claim(client_for, user)
    at(time_machine, DAY_ONE + timedelta(days=4))  # day 3 missed

    response = claim(client_for, user)

    assert response.json()["reward"]["streakDay"] == 1
    assert response.json()["reward"]["creditsAwarded"] == 1000
    assert response.json()["streak"] == 1
    at(time_machine, DAY_ONE + timedelta(days=5))
    assert claim(client_for, user).json()["reward"]["streakDay"] == 2


def test_the_ladder_numbers_come_from_settings(client_for, user, settings, time_machine):
    settings.DAILY_REWARD_BASE = Decimal("100")
    settings.DAILY_REWARD_STEP = Decimal("50")
    settings.DAILY_REWARD_MAX = Decimal("175")
    amounts = []
    for day in range(3):
        at(time_machine, DAY_ONE + timedelta(days=day))
        amounts.append(claim(client_for, user).json()["reward"]["creditsAwarded"])
    assert amounts == [100, 150, 175]


def test_a_claim_that_would_pass_the_balance_cap_is_balance_limit_and_records_nothing(client_for, settings):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("999.99"))

    assert_error(claim(client_for, user), 409, "BALANCE_LIMIT")

    assert balance(user) == settings.MAX_CREDIT_BALANCE - Decimal("999.99")
    assert not DailyReward.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerKind.DAILY_REWARD).exists()
    user.refresh_from_db()
    assert user.daily_streak == 0 and user.last_daily_reward_at is None
    assert_ledger_reconciles()


def test_a_claim_landing_exactly_on_the_cap_is_paid(client_for, settings):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("1000"))
    assert claim(client_for, user).status_code == 201
    assert balance(user) == settings.MAX_CREDIT_BALANCE


def test_the_claim_is_throttled_by_the_daily_reward_scope(client_for, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "daily_reward": "2/min"}
    client = client_for(user)
    assert client.post(DAILY).status_code == 201
    assert client.post(DAILY).status_code == 409
    response = client.post(DAILY)
    assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert response["Retry-After"]
    assert client.get(DAILY).status_code == 200  # reading the status is not the claim's scope


# --- services and constraints --------------------------------------------------------------------
def test_the_service_refuses_a_second_claim_the_same_day(user):
    daily_reward_claim(user_id=user.pk)
    with pytest.raises(DailyRewardClaimed) as caught:
        daily_reward_claim(user_id=user.pk)
    assert caught.value.details["nextClaimAvailable"] == "2026-03-11T00:00:00Z"


def test_the_service_rolls_everything_back_at_the_balance_cap(settings):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE)
    with pytest.raises(BalanceLimit):
        daily_reward_claim(user_id=user.pk)
    assert not DailyReward.objects.exists()


def test_the_database_allows_one_reward_per_user_per_utc_day(user):
    DailyReward.objects.create(user=user, streak_day=1, credits_awarded=Decimal("1000"), claimed_on=DAY_ONE.date())
    with pytest.raises(IntegrityError), transaction.atomic():
        DailyReward.objects.create(user=user, streak_day=2, credits_awarded=Decimal("1500"), claimed_on=DAY_ONE.date())


def test_a_duplicate_day_row_is_daily_reward_claimed_not_a_500(user):
    # The user's streak fields say "not claimed today" but a row for today exists: the constraint decides.
    DailyReward.objects.create(user=user, streak_day=1, credits_awarded=Decimal("1000"), claimed_on=DAY_ONE.date())
    with pytest.raises(DailyRewardClaimed):
        daily_reward_claim(user_id=user.pk)
    assert balance(user) == Decimal("1000")


# --- GET /rewards/history --------------------------------------------------------------------------
def test_history_lists_claims_newest_first_with_pagination(client_for, user, time_machine):
    for day in range(3):
        at(time_machine, DAY_ONE + timedelta(days=day))
        claim(client_for, user)
    UserFactory()  # someone else's claims never show
    client = client_for(user)

    body = client.get(HISTORY).json()
    assert body["total"] == 3 and body["limit"] == 20 and body["offset"] == 0
    assert [r["streakDay"] for r in body["rewards"]] == [3, 2, 1]
    assert set(body["rewards"][0]) == {"id", "creditsAwarded", "streakDay", "claimedAt"}

    page = client.get(HISTORY, {"limit": 1, "offset": 1}).json()
    assert page["total"] == 3
    assert [r["streakDay"] for r in page["rewards"]] == [2]


@pytest.mark.parametrize("query", [{"limit": "-1"}, {"limit": "0"}, {"limit": "101"}, {"limit": "x"}, {"offset": "-3"}])
def test_history_validates_limit_and_offset(auth_client, query):
    body = assert_error(auth_client.get(HISTORY, query), 400, "VALIDATION_ERROR")
    assert set(body["details"]) == set(query)
