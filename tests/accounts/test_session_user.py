"""Authentication loads no user row: the token's sign-in is checked in Redis, and every saved change
of a password or of the active state ends the user's sign-ins, however it is made, so old tokens
are refused at once without a query."""

import pytest
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import SessionUser, user_row
from accounts.errors import AccountDisabled, InvalidCredentials
from accounts.models import AuthSession, SessionEndReason, User, XAccount
from accounts.services import users_set_active
from accounts.tokens import token_pair_issue
from leaderboard.models import Period, Standing
from tests.factories import UserFactory
from tests.helpers.assertions import assert_error

USERS_ME = "/api/v1/users/me"
MARKETS = "/api/v1/markets"
NEW_PASSWORD = "An0ther-l0ng-passphrase"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_refused_without_a_query(client: APIClient, django_assert_num_queries) -> None:
    with django_assert_num_queries(0):
        body = assert_error(client.get(MARKETS), 401, "TOKEN_INVALID")
    assert body["details"] == {"reason": "session_ended"}


def test_an_authenticated_cached_read_costs_no_query(user, django_assert_num_queries):
    client = bearer(token_pair_issue(user=user).access_token)
    assert client.get(MARKETS).status_code == 200  # caches the page, records the session's use

    with django_assert_num_queries(0):
        assert client.get(MARKETS).status_code == 200


def test_the_profile_costs_one_query(user, django_assert_num_queries):
    client = bearer(token_pair_issue(user=user).access_token)
    assert client.get(USERS_ME).status_code == 200

    with django_assert_num_queries(1):  # the user row with its ranks, and the answer "no X account"
        response = client.get(USERS_ME)

    assert response.json()["id"] == str(user.pk)
    assert response.json()["xAccount"] is None


def test_the_profile_of_a_ranked_user_with_an_x_account_shows_both(user, django_assert_num_queries):
    XAccount.objects.create(
        user=user, x_id="1379212874", username="alice_x", name="Alice", avatar_url="https://pbs.twimg.com/p/1.jpg"
    )
    Standing.objects.create(
        period=Period.ALL, user=user, pnl=5, volume=10, pnl_rank=2, volume_rank=1, pnl_position=2, volume_position=1,
        computed_at=timezone.now(),
    )  # fmt: skip
    client = bearer(token_pair_issue(user=user).access_token)
    assert client.get(USERS_ME).status_code == 200

    with django_assert_num_queries(2):  # the user row with its ranks, then its X account on first use
        body = client.get(USERS_ME).json()

    assert body["xAccount"] == {"username": "alice_x", "name": "Alice", "avatarUrl": "https://pbs.twimg.com/p/1.jpg"}
    assert (body["rankByPnL"], body["rankByVolume"]) == (2, 1)


def test_user_row_is_the_model_instance_behind_the_session_user_loaded_once(user, django_assert_num_queries):
    token = token_pair_issue(user=user).access_token
    session_user = SessionUser(AccessToken(token), user.pk)

    with django_assert_num_queries(1):
        row = user_row(session_user)
        assert user_row(session_user) is row
    assert type(row) is User and row.pk == user.pk and row.username == user.username
    profile = user_row(user)  # a plain row (the admin's session sign-in) is read again, with its ranks
    assert profile.pk == user.pk and (profile.rank_by_pnl, profile.rank_by_volume) == (None, None)


def test_a_password_saved_outside_the_api_refuses_earlier_tokens_at_once(user, django_assert_num_queries):
    client = bearer(token_pair_issue(user=user).access_token)
    assert client.get(MARKETS).status_code == 200

    form = AdminPasswordChangeForm(User.objects.get(pk=user.pk), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert form.is_valid(), form.errors
    form.save()  # what the admin's password page and `manage.py changepassword` do

    assert_refused_without_a_query(client, django_assert_num_queries)
    assert set(AuthSession.objects.filter(user=user).values_list("end_reason", flat=True)) == {
        SessionEndReason.PASSWORD_CHANGED
    }


def test_a_deactivation_saved_outside_the_api_refuses_earlier_tokens_at_once(user, django_assert_num_queries):
    client = bearer(token_pair_issue(user=user).access_token)
    stored = User.objects.get(pk=user.pk)
    stored.is_active = False
    stored.save()

    assert_refused_without_a_query(client, django_assert_num_queries)
    assert AuthSession.objects.get(user=user).end_reason == SessionEndReason.DEACTIVATED


def test_other_changes_to_a_user_keep_their_sign_ins(user):
    client = bearer(token_pair_issue(user=user).access_token)
    stored = User.objects.get(pk=user.pk)
    stored.username = "renamed"
    stored.save()
    reactivated = UserFactory()
    User.objects.filter(pk=reactivated.pk).update(is_active=False)
    inactive = User.objects.get(pk=reactivated.pk)
    inactive.is_active = True
    inactive.save()

    assert client.get(USERS_ME).json()["username"] == "renamed"
    assert not AuthSession.objects.filter(ended_at__isnull=False).exists()


def test_a_token_whose_password_changed_by_a_raw_update_is_refused_when_the_row_is_read(user):
    client = bearer(token_pair_issue(user=user).access_token)
    User.objects.filter(pk=user.pk).update(password="argon2$changed-behind-our-back")  # no save, no signal

    assert_error(client.get(USERS_ME), 401, "TOKEN_INVALID")


def test_a_sign_in_checked_before_a_deactivation_committed_gets_no_session(user):
    checked = User.objects.get(pk=user.pk)  # what the login verified, a moment before staff acted
    users_set_active(user_ids=[user.pk], active=False)

    with pytest.raises(AccountDisabled):
        token_pair_issue(user=checked)

    assert not AuthSession.objects.filter(user=user, ended_at__isnull=True).exists()


def test_a_sign_in_checked_against_a_password_changed_since_gets_no_session(user):
    checked = User.objects.get(pk=user.pk)  # the login verified the old password
    form = AdminPasswordChangeForm(User.objects.get(pk=user.pk), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert form.is_valid(), form.errors
    form.save()

    with pytest.raises(InvalidCredentials):
        token_pair_issue(user=checked)

    assert not AuthSession.objects.filter(user=user, ended_at__isnull=True).exists()
