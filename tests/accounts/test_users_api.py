"""Profiles (SPEC §5): GET/PATCH /users/me and GET /users/{id}."""

import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from leaderboard.models import Period, Standing
from tests.accounts.contract import PROFILE_FIELDS
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers.assertions import assert_error

USERS_ME = "/api/v1/users/me"

PUBLIC_FIELDS = {"id", "username", "totalVolume", "overallPnL", "rankByPnL", "rankByVolume", "createdAt", "xAccount"}

pytestmark = pytest.mark.django_db


def all_time_standing(user, *, pnl_rank: int | None, volume_rank: int | None) -> None:
    """The user's row on the latest all-time standings, which profiles read their ranks from."""
    Standing.objects.create(
        period=Period.ALL, user=user, pnl=0, volume=10, pnl_rank=pnl_rank, volume_rank=volume_rank,
        pnl_position=pnl_rank, volume_position=volume_rank, computed_at=timezone.now(),
    )  # fmt: skip


def user_url(user_id) -> str:
    return f"/api/v1/users/{user_id}"


# --- GET /users/me -----------------------------------------------------------------------------
def test_get_me_returns_the_full_profile(auth_client, user):
    response = auth_client.get(USERS_ME)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PROFILE_FIELDS
    assert body["id"] == str(user.pk)
    assert body["username"] == user.username
    assert body["email"] == user.email
    assert body["creditBalance"] == 1000
    assert body["referralCode"] == user.referral_code
    assert body["isStaff"] is False
    assert datetime.fromisoformat(body["createdAt"]).utcoffset() == timedelta(0)


def test_get_me_shows_ranks_and_pnl_under_their_spec_names(auth_client, user):
    User.objects.filter(pk=user.pk).update(overall_pnl="-12.50", total_volume="40")
    all_time_standing(user, pnl_rank=3, volume_rank=7)

    body = auth_client.get(USERS_ME).json()

    assert body["rankByPnL"] == 3
    assert body["rankByVolume"] == 7
    assert body["overallPnL"] == -12.5
    assert body["totalVolume"] == 40


def test_every_profile_shows_the_all_time_ranks_of_the_standings(api_client, auth_client, user):
    """Read with the user row wherever a profile is served: own, public, after a sign-in or an edit."""
    all_time_standing(user, pnl_rank=None, volume_rank=4)  # on the volume board only: no bet settled yet
    ranks = {"rankByPnL": None, "rankByVolume": 4}
    login = api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    profiles = [
        auth_client.get(USERS_ME).json(),
        auth_client.get("/api/v1/auth/me").json(),
        auth_client.patch(USERS_ME, {"username": "renamed"}, format="json").json()["user"],
        api_client.get(user_url(user.pk)).json(),
        login.json()["user"],
    ]

    assert [{name: body[name] for name in ranks} for body in profiles] == [ranks] * len(profiles)
    other = UserFactory()
    assert api_client.get(user_url(other.pk)).json()["rankByPnL"] is None  # unranked


def test_get_me_requires_authentication(api_client):
    assert_error(api_client.get(USERS_ME), 401, "NOT_AUTHENTICATED")


# --- PATCH /users/me ---------------------------------------------------------------------------
def test_patch_me_renames_the_user(auth_client, user):
    response = auth_client.patch(USERS_ME, {"username": "new_name"}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"user"}
    assert set(body["user"]) == PROFILE_FIELDS
    assert body["user"]["username"] == "new_name"
    user.refresh_from_db()
    assert user.username == "new_name"
    assert auth_client.get(USERS_ME).json()["username"] == "new_name"


def test_patch_me_refuses_another_users_name_in_a_different_case(auth_client, user):
    UserFactory(username="Taken_Name")

    response = auth_client.patch(USERS_ME, {"username": "taken_NAME"}, format="json")

    body = assert_error(response, 409, "USERNAME_TAKEN")
    assert "username" in body["details"]
    user.refresh_from_db()
    assert user.username != "taken_NAME"


def test_patch_me_allows_own_name_in_a_different_case(client_for):
    user = UserFactory(username="casey")
    client = client_for(user)

    response = client.patch(USERS_ME, {"username": "CASEY"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["username"] == "CASEY"
    user.refresh_from_db()
    assert user.username == "CASEY"


@pytest.mark.parametrize("username", ["ab", "x" * 31, "has space", "semi;colon", "ünïcode", "", None])
def test_patch_me_refuses_an_invalid_username(auth_client, user, username):
    response = auth_client.patch(USERS_ME, {"username": username}, format="json")

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "username" in body["details"]
    user.refresh_from_db()
    assert user.username != username


def test_patch_me_with_empty_body_changes_nothing(auth_client, user):
    response = auth_client.patch(USERS_ME, {}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["username"] == user.username


def test_patch_me_cannot_change_email_or_balance(auth_client, user):
    response = auth_client.patch(
        USERS_ME, {"email": "hijack@example.com", "creditBalance": 999999, "isStaff": True}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email != "hijack@example.com"
    assert user.credit_balance == 1000
    assert user.is_staff is False


def test_patch_me_requires_authentication(api_client):
    assert_error(api_client.patch(USERS_ME, {"username": "whoever"}, format="json"), 401, "NOT_AUTHENTICATED")


# --- GET /users/{id} ---------------------------------------------------------------------------
def test_get_other_user_shows_public_fields_only(auth_client):
    other = UserFactory()

    response = auth_client.get(user_url(other.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert "creditBalance" not in body and "creditDebt" not in body and "email" not in body
    assert body["id"] == str(other.pk)
    assert body["username"] == other.username


def test_get_own_profile_by_id_includes_credit_balance(auth_client, user):
    response = auth_client.get(user_url(user.pk))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PUBLIC_FIELDS | {"creditBalance", "creditDebt"}
    assert body["creditBalance"] == 1000
    assert "email" not in body


def test_get_user_works_anonymously_and_hides_the_balance(api_client, user):
    response = api_client.get(user_url(user.pk))

    assert response.status_code == 200
    assert set(response.json()) == PUBLIC_FIELDS


@pytest.mark.parametrize("user_id", [uuid.uuid4(), "not-a-uuid", "12345", "00000000-0000-0000-0000-00000000000g"])
def test_get_unknown_or_malformed_user_id_is_user_not_found(api_client, db, user_id):
    assert_error(api_client.get(user_url(user_id)), 404, "USER_NOT_FOUND")


def test_get_inactive_user_is_user_not_found(api_client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error(api_client.get(user_url(user.pk)), 404, "USER_NOT_FOUND")


def test_get_user_by_id_is_read_only(auth_client, user):
    response = auth_client.patch(user_url(user.pk), {"username": "renamed"}, format="json")

    assert_error(response, 405, "METHOD_NOT_ALLOWED")
