"""Sign-in sessions (issue 19): token families, the refresh grace window, reuse detection, logout
with and without a Bearer token, logout everywhere, the session list, and the revocation list in
Redis that stops access tokens of an ended sign-in — including while Redis is down or has lost it."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import AuthSession, SessionEndReason, SessionRefreshToken
from accounts.tokens import token_pair_issue
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers.assertions import assert_error

REFRESH = "/api/v1/auth/refresh"
LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout/all"
SESSIONS = "/api/v1/auth/sessions"
USERS_ME = "/api/v1/users/me"
PASSWORD_CHANGE = "/api/v1/auth/password/change"
NEW_PASSWORD = "an0ther-Str0ng-secret"
SESSION_FIELDS = {"id", "createdAt", "lastUsedAt", "userAgent", "ipAddress", "current"}

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh(refresh_token: str):
    return APIClient().post(REFRESH, {"refreshToken": refresh_token}, format="json")


def logout(refresh_token: str, client: APIClient | None = None):
    return (client or APIClient()).post(LOGOUT, {"refreshToken": refresh_token}, format="json")


def login_from(user, *, agent: str, address: str) -> dict:
    client = APIClient(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    response = client.post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def assert_signed_out(access_token: str, refresh_token: str) -> None:
    body = assert_error(bearer(access_token).get(USERS_ME), 401, "TOKEN_INVALID")
    assert body["details"] == {"reason": "session_ended"}
    body = assert_error(refresh(refresh_token), 401, "TOKEN_INVALID")
    assert body["details"] == {"reason": "session_ended"}


def assert_signed_in(access_token: str, refresh_token: str) -> None:
    assert bearer(access_token).get(USERS_ME).status_code == 200
    assert refresh(refresh_token).status_code == 200


def expire_use_marks() -> None:
    """What Redis does to the once-a-minute "last used" marks 60 real seconds after they are set."""
    cache.delete_pattern("family-used:*")


def assert_retry_later(response) -> None:
    body = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert int(response.headers["Retry-After"]) == body["details"]["retryAfter"] > 0


# --- families and the grace window -----------------------------------------------------------------
def test_a_token_presented_again_within_the_grace_window_gets_the_same_pair(user):
    # The clock stands still but for the shift: 29 s after the rotation, however slow the machine.
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = token_pair_issue(user=user)
        successor = refresh(first.refresh_token).json()
        clock.shift(timedelta(seconds=29))
        again = refresh(first.refresh_token)

    assert again.status_code == 200, again.json()
    assert again.json() == successor
    assert SessionRefreshToken.objects.count() == 2
    assert_signed_in(successor["accessToken"], successor["refreshToken"])


def test_rotation_keeps_the_family(user):
    first = token_pair_issue(user=user)
    second = refresh(first.refresh_token).json()
    third = refresh(second["refreshToken"]).json()

    assert AuthSession.objects.count() == 1
    assert set(SessionRefreshToken.objects.values_list("session_id", flat=True)) == {AuthSession.objects.get().pk}
    families = {RefreshToken(token)["fid"] for token in (first.refresh_token, second["refreshToken"])}
    assert families == {str(AuthSession.objects.get().pk)}
    assert bearer(third["accessToken"]).get(USERS_ME).status_code == 200


def test_each_token_of_a_quick_chain_replays_its_own_successor(user):
    # Tabs refreshing on every switch: t0 -> t1 -> t2 within seconds, then a tab still holding t0.
    t0 = token_pair_issue(user=user).refresh_token
    t1 = refresh(t0).json()
    t2 = refresh(t1["refreshToken"]).json()

    with time_machine.travel(timedelta(seconds=10)):
        assert refresh(t0).json() == t1
        assert refresh(t1["refreshToken"]).json() == t2
    assert SessionRefreshToken.objects.count() == 3


def test_reuse_after_the_window_revokes_the_whole_family(user):
    original = token_pair_issue(user=user)
    legitimate = refresh(original.refresh_token).json()
    other_device = token_pair_issue(user=user)

    with time_machine.travel(timedelta(seconds=31)):
        body = assert_error(refresh(original.refresh_token), 401, "TOKEN_INVALID")
        assert body["details"] == {"reason": "refresh_token_reused"}
        assert "revoked" in body["error"]

        # The legitimate holder's tokens die with it: the next refresh and every access token.
        assert_signed_out(legitimate["accessToken"], legitimate["refreshToken"])
        assert_error(bearer(original.access_token).get(USERS_ME), 401, "TOKEN_INVALID")
        assert_signed_in(other_device.access_token, other_device.refresh_token)
    ended = AuthSession.objects.get(pk=RefreshToken(original.refresh_token)["fid"])
    assert ended.end_reason == SessionEndReason.REFRESH_TOKEN_REUSED


def test_the_grace_window_is_a_setting(user, settings):
    settings.JWT_REFRESH_GRACE_SECONDS = 5
    first = token_pair_issue(user=user)
    refresh(first.refresh_token)

    with time_machine.travel(timedelta(seconds=6)):
        body = assert_error(refresh(first.refresh_token), 401, "TOKEN_INVALID")

    assert body["details"]["reason"] == "refresh_token_reused"


def test_tokens_without_a_family_are_refused(user):
    # Issued the way simplejwt alone would (as before sign-in families): no `fid` claim.
    legacy = RefreshToken.for_user(user)

    assert_error(refresh(str(legacy)), 401, "TOKEN_INVALID")
    assert_error(bearer(str(legacy.access_token)).get(USERS_ME), 401, "TOKEN_INVALID")


# --- logout --------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_bearer", [True, False])
def test_logout_ends_every_token_of_that_family_only(user, with_bearer):
    first = token_pair_issue(user=user)
    latest = refresh(first.refresh_token).json()
    other_device = token_pair_issue(user=user)
    client = bearer(latest["accessToken"]) if with_bearer else APIClient()

    response = logout(latest["refreshToken"], client)

    assert response.status_code == 200, response.json()
    assert response.json() == {"message": "Logged out successfully"}
    assert_signed_out(latest["accessToken"], latest["refreshToken"])
    assert_error(bearer(first.access_token).get(USERS_ME), 401, "TOKEN_INVALID")
    assert_signed_in(other_device.access_token, other_device.refresh_token)
    assert AuthSession.objects.filter(end_reason=SessionEndReason.LOGOUT).count() == 1


def test_logout_with_an_already_rotated_token_still_ends_the_family(user):
    first = token_pair_issue(user=user)
    latest = refresh(first.refresh_token).json()

    with time_machine.travel(timedelta(minutes=5)):
        assert logout(first.refresh_token).status_code == 200
        assert_signed_out(latest["accessToken"], latest["refreshToken"])


def test_logout_all_ends_every_sign_in_of_the_caller(user):
    phone = login_from(user, agent="Phone", address="10.0.0.1")
    laptop = login_from(user, agent="Laptop", address="10.0.0.2")
    someone_else = token_pair_issue(user=UserFactory())

    response = bearer(phone["accessToken"]).post(LOGOUT_ALL)

    assert response.status_code == 200, response.json()
    assert response.json() == {"message": "Logged out of every session"}
    for pair in (phone, laptop):
        assert_signed_out(pair["accessToken"], pair["refreshToken"])
    assert_signed_in(someone_else.access_token, someone_else.refresh_token)
    assert set(AuthSession.objects.filter(user=user).values_list("end_reason", flat=True)) == {
        SessionEndReason.LOGOUT_ALL
    }


def test_logout_all_needs_a_bearer_token(api_client, db):
    assert_error(api_client.post(LOGOUT_ALL), 401, "NOT_AUTHENTICATED")


# --- the session list ------------------------------------------------------------------------------
def test_sessions_lists_each_sign_in_with_where_it_came_from(user):
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        laptop = login_from(user, agent="Mozilla/5.0 (Laptop)", address="10.0.0.2")
    phone = login_from(user, agent="Mozilla/5.0 (Phone)", address="10.0.0.1")
    token_pair_issue(user=UserFactory())  # someone else's

    response = bearer(phone["accessToken"]).get(SESSIONS)

    assert response.status_code == 200, response.json()
    sessions = response.json()["sessions"]
    assert [set(s) for s in sessions] == [SESSION_FIELDS] * 2
    assert [(s["userAgent"], s["ipAddress"], s["current"]) for s in sessions] == [
        ("Mozilla/5.0 (Phone)", "10.0.0.1", True),
        ("Mozilla/5.0 (Laptop)", "10.0.0.2", False),
    ]
    assert sessions[1]["id"] == RefreshToken(laptop["refreshToken"])["fid"]
    created = datetime.fromisoformat(sessions[1]["createdAt"])
    assert timedelta(hours=2) <= timezone.now() - created < timedelta(hours=2, minutes=1)

    with time_machine.travel(timedelta(minutes=1)):  # the laptop is back: now the most recently used
        laptop_now = refresh(laptop["refreshToken"]).json()
        from_laptop = bearer(laptop_now["accessToken"]).get(SESSIONS).json()["sessions"]
    assert [(s["userAgent"], s["current"]) for s in from_laptop] == [
        ("Mozilla/5.0 (Laptop)", True),
        ("Mozilla/5.0 (Phone)", False),
    ]


def test_sessions_leaves_out_ended_and_expired_sign_ins(user):
    with time_machine.travel(timezone.now() - timedelta(days=8)):
        token_pair_issue(user=user)
    ended = token_pair_issue(user=user)
    logout(ended.refresh_token)
    current = token_pair_issue(user=user)

    sessions = bearer(current.access_token).get(SESSIONS).json()["sessions"]

    assert [s["current"] for s in sessions] == [True]


def test_sessions_needs_a_bearer_token(api_client, db):
    assert_error(api_client.get(SESSIONS), 401, "NOT_AUTHENTICATED")


def test_deleting_a_session_ends_its_tokens_and_nothing_else(user):
    phone = login_from(user, agent="Phone", address="10.0.0.1")
    laptop = login_from(user, agent="Laptop", address="10.0.0.2")
    laptop_id = RefreshToken(laptop["refreshToken"])["fid"]

    response = bearer(phone["accessToken"]).delete(f"{SESSIONS}/{laptop_id}")

    assert response.status_code == 204
    assert_signed_out(laptop["accessToken"], laptop["refreshToken"])
    remaining = bearer(phone["accessToken"]).get(SESSIONS).json()["sessions"]
    assert [s["userAgent"] for s in remaining] == ["Phone"]
    assert AuthSession.objects.get(pk=laptop_id).end_reason == SessionEndReason.REVOKED


def test_deleting_the_current_session_signs_the_caller_out(user):
    pair = token_pair_issue(user=user)
    client = bearer(pair.access_token)
    own_id = client.get(SESSIONS).json()["sessions"][0]["id"]

    assert client.delete(f"{SESSIONS}/{own_id}").status_code == 204

    assert_signed_out(pair.access_token, pair.refresh_token)


def test_someone_elses_session_is_not_found_and_keeps_working(auth_client):
    others = token_pair_issue(user=UserFactory())
    others_id = RefreshToken(others.refresh_token)["fid"]

    assert_error(auth_client.delete(f"{SESSIONS}/{others_id}"), 404, "SESSION_NOT_FOUND")

    assert_signed_in(others.access_token, others.refresh_token)


@pytest.mark.parametrize("session_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_session_is_not_found(auth_client, session_id):
    assert_error(auth_client.delete(f"{SESSIONS}/{session_id}"), 404, "SESSION_NOT_FOUND")


def test_an_ended_session_cannot_be_deleted_again(user):
    other = token_pair_issue(user=user)
    other_id = RefreshToken(other.refresh_token)["fid"]
    client = bearer(token_pair_issue(user=user).access_token)
    assert client.delete(f"{SESSIONS}/{other_id}").status_code == 204

    assert_error(client.delete(f"{SESSIONS}/{other_id}"), 404, "SESSION_NOT_FOUND")


def test_last_used_is_recorded_at_most_once_a_minute_per_family(user):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        pair = token_pair_issue(user=user)
    session = AuthSession.objects.get()
    client = bearer(pair.access_token)

    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert client.get(USERS_ME).status_code == 200  # the sign-in wrote it a moment ago: no write
    session.refresh_from_db()
    assert session.last_used_at == start.replace(microsecond=0)

    expire_use_marks()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        assert client.get(USERS_ME).status_code == 200
    session.refresh_from_db()
    assert session.last_used_at == start + timedelta(minutes=2)

    with time_machine.travel(start + timedelta(minutes=2, seconds=30), tick=False):
        assert client.get(USERS_ME).status_code == 200  # within the minute: no write
    session.refresh_from_db()
    assert session.last_used_at == start + timedelta(minutes=2)

    expire_use_marks()
    with time_machine.travel(start + timedelta(minutes=3, seconds=5), tick=False):
        assert client.get(USERS_ME).status_code == 200
    session.refresh_from_db()
    assert session.last_used_at == start + timedelta(minutes=3, seconds=5)


def test_a_refresh_records_the_use(user):
    pair = token_pair_issue(user=user)
    later = timezone.now() + timedelta(minutes=20)

    with time_machine.travel(later, tick=False):
        refresh(pair.refresh_token)

    assert AuthSession.objects.get().last_used_at == later.replace(microsecond=0)


# --- password changes end every session ----------------------------------------------------------
def test_a_password_change_ends_every_session_and_starts_a_new_one(user):
    phone = login_from(user, agent="Phone", address="10.0.0.1")
    laptop = login_from(user, agent="Laptop", address="10.0.0.2")
    client = APIClient(HTTP_USER_AGENT="Laptop", REMOTE_ADDR="10.0.0.2")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {laptop['accessToken']}")

    response = client.post(
        PASSWORD_CHANGE, {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.json()
    new_pair = response.json()
    for pair in (phone, laptop):
        assert_signed_out(pair["accessToken"], pair["refreshToken"])
    sessions = bearer(new_pair["accessToken"]).get(SESSIONS).json()["sessions"]
    assert [(s["userAgent"], s["ipAddress"], s["current"]) for s in sessions] == [("Laptop", "10.0.0.2", True)]
    ended = AuthSession.objects.filter(user=user, ended_at__isnull=False)
    assert set(ended.values_list("end_reason", flat=True)) == {SessionEndReason.PASSWORD_CHANGED}


# --- the revocation list: no query when Redis answers, the database when it cannot ----------------
def test_checking_an_access_token_costs_no_database_query(user, django_assert_num_queries):
    client = bearer(token_pair_issue(user=user).access_token)
    assert client.get(USERS_ME).status_code == 200  # first use this minute: recorded
    assert client.get("/api/v1/markets").status_code == 200  # the page is cached from now on

    with django_assert_num_queries(0):  # the user row is not loaded for a page that does not need it
        assert client.get("/api/v1/markets").status_code == 200


def test_a_revocation_list_lost_with_redis_data_is_rebuilt_from_the_database(user, django_assert_num_queries):
    ended = token_pair_issue(user=user)
    live = bearer(token_pair_issue(user=user).access_token)
    assert logout(ended.refresh_token).status_code == 200

    cache.delete_pattern("*")  # a Redis restart that lost its data

    body = assert_error(bearer(ended.access_token).get(USERS_ME), 401, "TOKEN_INVALID")
    assert body["details"] == {"reason": "session_ended"}
    assert live.get(USERS_ME).status_code == 200  # the list is complete again after the rebuild
    with django_assert_num_queries(1):  # the user row with the profile's X account and ranks: no rebuild
        assert live.get(USERS_ME).status_code == 200
    assert_error(bearer(ended.access_token).get(USERS_ME), 401, "TOKEN_INVALID")


def test_with_redis_down_live_sessions_go_on_and_ended_ones_are_refused_with_503(user, take_cache_down):
    ended = token_pair_issue(user=user)
    live = token_pair_issue(user=user)
    assert logout(ended.refresh_token).status_code == 200
    take_cache_down()

    assert bearer(live.access_token).get(USERS_ME).status_code == 200
    assert refresh(live.refresh_token).status_code == 200
    assert_retry_later(bearer(ended.access_token).get(USERS_ME))
    assert_retry_later(bearer(ended.access_token).get("/api/v1/markets"))  # public reads too, with that token
    assert_error(refresh(ended.refresh_token), 401, "TOKEN_INVALID")


def test_with_redis_down_nothing_is_ended_and_a_retry_works_once_it_is_back(user, settings, take_cache_down):
    redis = settings.CACHES
    first = token_pair_issue(user=user)
    latest = refresh(first.refresh_token).json()
    take_cache_down()

    with time_machine.travel(timedelta(seconds=31)):
        assert_retry_later(refresh(first.refresh_token))  # a reuse it cannot record
        assert_retry_later(logout(latest["refreshToken"]))
        assert_retry_later(bearer(latest["accessToken"]).post(LOGOUT_ALL))
        assert AuthSession.objects.filter(ended_at__isnull=False).count() == 0

        settings.CACHES = redis
        assert logout(latest["refreshToken"]).status_code == 200
        assert_signed_out(latest["accessToken"], latest["refreshToken"])


def test_embedded_mode_keeps_the_revocation_list_in_the_database_cache(user, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}
    }
    call_command("createcachetable")
    ended = token_pair_issue(user=user)
    live = token_pair_issue(user=user)

    assert logout(ended.refresh_token).status_code == 200

    assert_error(bearer(ended.access_token).get(USERS_ME), 401, "TOKEN_INVALID")
    assert bearer(live.access_token).get(USERS_ME).status_code == 200
