"""Auth endpoints (SPEC §5): register, login, refresh, logout, me, password change and reset, and
how bearer tokens are accepted or refused."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import REFERRAL_ALPHABET, User
from accounts.tokens import token_pair_issue
from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus
from tests.accounts.contract import PROFILE_FIELDS
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
AUTH_ME = "/api/v1/auth/me"
USERS_ME = "/api/v1/users/me"
PASSWORD_CHANGE = "/api/v1/auth/password/change"
PASSWORD_RESET = "/api/v1/auth/password/reset"
PASSWORD_RESET_CONFIRM = "/api/v1/auth/password/reset/confirm"

STRONG_PASSWORD = "s3cure-Passw0rd!"
NEW_PASSWORD = "an0ther-Str0ng-secret"


pytestmark = pytest.mark.django_db


# --- helpers -----------------------------------------------------------------------------------
def register(client: APIClient, **overrides):
    body = {"username": "alice", "email": "alice@example.com", "password": STRONG_PASSWORD, **overrides}
    return client.post(REGISTER, body, format="json")


def login(client: APIClient, email: str, password: str = DEFAULT_PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def refresh(refresh_token: str):
    return APIClient().post(REFRESH, {"refreshToken": refresh_token}, format="json")


def ledger_kinds(user) -> list[str]:
    return list(LedgerEntry.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def reset_link_params(message) -> tuple[str, str]:
    uid = re.search(r"uid=([A-Za-z0-9_-]+)", message.body)
    token = re.search(r"token=([A-Za-z0-9-]+)", message.body)
    assert uid and token, message.body
    return uid.group(1), token.group(1)


@pytest.fixture
def request_reset(api_client, django_capture_on_commit_callbacks):
    """POST /auth/password/reset, running the on-commit email task the way production does."""

    def post(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return api_client.post(PASSWORD_RESET, {"email": email}, format="json")

    return post


# --- register ----------------------------------------------------------------------------------
def test_register_returns_user_and_token_pair(api_client):
    response = register(api_client)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"user", "accessToken", "refreshToken"}
    assert body["accessToken"] and body["refreshToken"]
    assert body["accessToken"] != body["refreshToken"]


def test_register_user_profile_has_exactly_the_spec_fields(api_client):
    user = register(api_client).json()["user"]

    assert set(user) == PROFILE_FIELDS
    assert "overallPnl" not in user and "rankByPnl" not in user
    assert user["username"] == "alice"
    assert user["creditBalance"] == 1000
    assert user["totalVolume"] == 0
    assert user["overallPnL"] == 0
    assert user["rankByPnL"] is None
    assert user["rankByVolume"] is None
    assert user["dailyStreak"] == 0
    assert user["isStaff"] is False
    assert user["lastDailyRewardAt"] is None
    assert len(user["referralCode"]) == 8
    assert set(user["referralCode"]) <= set(REFERRAL_ALPHABET)
    created_at = datetime.fromisoformat(user["createdAt"])
    assert created_at.utcoffset() == timedelta(0)
    assert str(User.objects.get(username="alice").pk) == user["id"]


def test_register_tokens_authenticate_the_new_user(api_client):
    body = register(api_client).json()

    me = bearer(body["accessToken"]).get(USERS_ME)

    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]
    assert refresh(body["refreshToken"]).status_code == 200


def test_register_lower_cases_the_email(api_client):
    response = register(api_client, email="  Alice.Smith@Example.COM ")

    assert response.status_code == 201, response.json()
    assert response.json()["user"]["email"] == "alice.smith@example.com"
    assert User.objects.get(username="alice").email == "alice.smith@example.com"


def test_register_grants_1000_credits_as_one_signup_bonus_row(api_client):
    register(api_client)

    user = User.objects.get(username="alice")
    assert user.credit_balance == Decimal("1000.00")
    entries = list(LedgerEntry.objects.filter(user=user))
    assert len(entries) == 1
    assert entries[0].kind == LedgerKind.SIGNUP_BONUS
    assert entries[0].amount == Decimal("1000.00")
    assert entries[0].balance_after == Decimal("1000.00")
    assert_ledger_reconciles()


@pytest.mark.parametrize("username", ["abc", "A" * 30, "user_01", "___", "MiXeD_Case_9"])
def test_register_accepts_usernames_of_3_to_30_letters_digits_underscores(api_client, username):
    response = register(api_client, username=username)

    assert response.status_code == 201, response.json()
    assert response.json()["user"]["username"] == username


@pytest.mark.parametrize(
    "username",
    ["ab", "A" * 31, "with space", "dash-name", "dot.name", "at@sign", "émile", "ab\u0661", "", "名前です"],
)
def test_register_refuses_usernames_outside_the_rules(api_client, username):
    response = register(api_client, username=username)

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "username" in body["details"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "password",
    [
        "short1!",  # too short
        "password123",  # too common
        "8423091755134",  # entirely numeric
        "alice@example.com",  # too similar to the email
    ],
)
def test_register_refuses_weak_passwords_with_django_validators(api_client, password):
    response = register(api_client, password=password)

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(body["details"]) == ["password"]
    assert body["details"]["password"] and all(isinstance(m, str) for m in body["details"]["password"])
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_register_reports_each_missing_field(api_client, missing):
    body = {"username": "alice", "email": "alice@example.com", "password": STRONG_PASSWORD}
    del body[missing]

    response = api_client.post(REGISTER, body, format="json")

    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(error["details"]) == [missing]


def test_register_with_empty_body_lists_every_required_field(api_client):
    error = assert_error(api_client.post(REGISTER, {}, format="json"), 400, "VALIDATION_ERROR")

    assert set(error["details"]) == {"username", "email", "password"}


def test_register_refuses_an_invalid_email(api_client):
    error = assert_error(register(api_client, email="not-an-email"), 400, "VALIDATION_ERROR")

    assert "email" in error["details"]


@pytest.mark.parametrize("raw", ['{"username": "alice", "email": ', "not json at all", "{'single': 'quotes'}"])
def test_register_refuses_malformed_json(api_client, raw):
    response = api_client.post(REGISTER, raw, content_type="application/json")

    assert_error(response, 400, "VALIDATION_ERROR")
    assert not User.objects.exists()


def test_register_refuses_a_non_json_body_with_the_error_envelope(api_client):
    response = api_client.post(
        REGISTER, "username=alice&email=alice%40example.com", content_type="application/x-www-form-urlencoded"
    )

    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not User.objects.exists()


@pytest.mark.parametrize("payload", [[], [{"username": "alice"}], "alice", 42, None])
def test_register_refuses_a_json_body_that_is_not_an_object(api_client, payload):
    response = api_client.post(REGISTER, json.dumps(payload), content_type="application/json")

    assert_error(response, 400, "VALIDATION_ERROR")
    assert not User.objects.exists()


def test_register_refuses_a_username_taken_in_another_case(api_client):
    UserFactory(username="alice", email="first@example.com")

    response = register(api_client, username="ALICE", email="second@example.com")

    body = assert_error(response, 409, "USERNAME_TAKEN")
    assert "username" in body["details"]
    assert User.objects.count() == 1


def test_register_refuses_an_email_taken_in_another_case(api_client):
    UserFactory(username="first", email="alice@example.com")

    response = register(api_client, username="second", email="ALICE@Example.com")

    body = assert_error(response, 409, "EMAIL_TAKEN")
    assert "email" in body["details"]
    assert User.objects.count() == 1


def test_register_with_unknown_referral_code_creates_no_account(api_client):
    response = register(api_client, referralCode="ZZZZZZZZ")

    body = assert_error(response, 400, "INVALID_REFERRAL_CODE")
    assert "referralCode" in body["details"]
    assert not User.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert register(api_client).status_code == 201  # the same details work without the code


def test_register_with_inactive_referrers_code_is_refused(api_client):
    referrer = UserFactory()
    User.objects.filter(pk=referrer.pk).update(is_active=False)

    assert_error(register(api_client, referralCode=referrer.referral_code), 400, "INVALID_REFERRAL_CODE")
    assert not User.objects.filter(username="alice").exists()


def test_register_with_empty_referral_code_is_a_plain_signup(api_client):
    response = register(api_client, referralCode="")

    assert response.status_code == 201, response.json()
    assert response.json()["user"]["creditBalance"] == 1000
    assert User.objects.get(username="alice").referred_by is None


def test_register_with_referral_code_pays_the_new_user_now_and_the_referrer_later(api_client):
    referrer = UserFactory()

    response = register(api_client, referralCode=referrer.referral_code)

    assert response.status_code == 201, response.json()
    assert response.json()["user"]["creditBalance"] == 1200
    new_user = User.objects.get(username="alice")
    referrer.refresh_from_db()
    assert new_user.referred_by_id == referrer.pk
    bonuses = LedgerEntry.objects.filter(user=new_user, kind=LedgerKind.REFERRAL_BONUS)
    assert [(b.amount, b.reference_id, b.balance_after) for b in bonuses] == [
        (Decimal("200.00"), referrer.pk, Decimal("1200.00"))
    ]
    # The referrer's bonus waits for the new user's first qualifying bet (tests/economy/test_referrals.py).
    assert referrer.credit_balance == Decimal("1000.00")
    assert not LedgerEntry.objects.filter(user=referrer, kind=LedgerKind.REFERRAL_BONUS).exists()
    assert Referral.objects.get(pk=new_user.pk).status == ReferralStatus.PENDING
    assert_ledger_reconciles()


def test_register_with_referral_code_of_a_referrer_at_the_balance_cap_still_creates_the_account(api_client, settings):
    # The cap refuses the referrer's bonus (SPEC §6), but the new user must not be locked out for it.
    referrer = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("100"))

    response = register(api_client, referralCode=referrer.referral_code)

    assert response.status_code == 201, response.json()
    assert response.json()["user"]["creditBalance"] == 1200
    referrer.refresh_from_db()
    assert referrer.credit_balance == settings.MAX_CREDIT_BALANCE - Decimal("100")
    assert_ledger_reconciles()


# --- login -------------------------------------------------------------------------------------
def test_login_returns_user_and_token_pair(api_client, user):
    response = login(api_client, user.email)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"user", "accessToken", "refreshToken"}
    assert set(body["user"]) == PROFILE_FIELDS
    assert body["user"]["id"] == str(user.pk)
    assert bearer(body["accessToken"]).get(USERS_ME).json()["id"] == str(user.pk)


def test_login_email_is_case_insensitive(api_client):
    user = UserFactory(email="bob@example.com")

    response = login(api_client, "  BOB@Example.Com ")

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["id"] == str(user.pk)


def test_login_records_last_login(api_client, user):
    assert user.last_login is None

    login(api_client, user.email)

    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    "email, password",
    [("user@example.com", "wrong-password"), ("nobody@example.com", DEFAULT_PASSWORD), ("user", DEFAULT_PASSWORD)],
)
def test_login_refuses_wrong_password_or_unknown_email(api_client, email, password):
    UserFactory(email="user@example.com")

    body = assert_error(login(api_client, email, password), 401, "INVALID_CREDENTIALS")

    assert "accessToken" not in body


@pytest.mark.parametrize("field", ["email", "password"])
def test_login_refuses_blank_fields(api_client, user, field):
    body = {"email": user.email, "password": DEFAULT_PASSWORD, field: ""}

    error = assert_error(api_client.post(LOGIN, body, format="json"), 400, "VALIDATION_ERROR")

    assert list(error["details"]) == [field]


def test_login_wrong_password_and_unknown_email_are_indistinguishable(api_client, user):
    wrong_password = login(api_client, user.email, "wrong-password").json()
    unknown_email = login(api_client, "nobody@example.com").json()

    assert wrong_password == unknown_email


def test_login_refuses_an_inactive_user(api_client, user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error(login(api_client, user.email), 401, "INVALID_CREDENTIALS")


@pytest.mark.parametrize("missing", ["email", "password"])
def test_login_reports_missing_fields(api_client, missing):
    body = {"email": "user@example.com", "password": DEFAULT_PASSWORD}
    del body[missing]

    error = assert_error(api_client.post(LOGIN, body, format="json"), 400, "VALIDATION_ERROR")
    assert list(error["details"]) == [missing]


# --- refresh -----------------------------------------------------------------------------------
def test_refresh_returns_a_new_working_pair(user):
    pair = token_pair_issue(user=user)

    response = refresh(pair.refresh_token)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"accessToken", "refreshToken"}
    assert body["refreshToken"] != pair.refresh_token
    assert bearer(body["accessToken"]).get(USERS_ME).json()["id"] == str(user.pk)
    assert refresh(body["refreshToken"]).status_code == 200


def test_refresh_refuses_an_access_token(user):
    pair = token_pair_issue(user=user)

    assert_error(refresh(pair.access_token), 401, "TOKEN_INVALID")


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "x" * 500])
def test_refresh_refuses_garbage(db, garbage):
    assert_error(refresh(garbage), 401, "TOKEN_INVALID")


def test_refresh_refuses_a_tampered_token(user):
    token = token_pair_issue(user=user).refresh_token
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"

    assert_error(refresh(tampered), 401, "TOKEN_INVALID")


def test_refresh_without_a_token_is_a_validation_error(api_client, db):
    error = assert_error(api_client.post(REFRESH, {}, format="json"), 400, "VALIDATION_ERROR")

    assert "refreshToken" in error["details"]


def test_refresh_refuses_a_token_of_a_deactivated_user(user):
    pair = token_pair_issue(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error(refresh(pair.refresh_token), 401, "TOKEN_INVALID")


def test_refresh_token_expires_after_7_days(user):
    pair = token_pair_issue(user=user)

    with time_machine.travel(timedelta(days=7, minutes=1)):
        assert_error(refresh(pair.refresh_token), 401, "TOKEN_INVALID")


def test_refresh_token_still_works_just_before_7_days(user):
    pair = token_pair_issue(user=user)

    with time_machine.travel(timedelta(days=6, hours=23)):
        assert refresh(pair.refresh_token).status_code == 200


# --- logout ------------------------------------------------------------------------------------
def test_logout_revokes_the_refresh_token(user):
    pair = token_pair_issue(user=user)

    response = bearer(pair.access_token).post(LOGOUT, {"refreshToken": pair.refresh_token}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json() == {"message": "Logged out successfully"}
    assert_error(refresh(pair.refresh_token), 401, "TOKEN_INVALID")


def test_logout_twice_with_the_same_token_is_refused(user):
    pair = token_pair_issue(user=user)
    client = bearer(pair.access_token)
    assert client.post(LOGOUT, {"refreshToken": pair.refresh_token}, format="json").status_code == 200

    assert_error(client.post(LOGOUT, {"refreshToken": pair.refresh_token}, format="json"), 401, "TOKEN_INVALID")


def test_logout_ends_the_session_of_the_refresh_token_whoever_sends_it(user):
    # Possession of the refresh token is the proof; a Bearer token is not read.
    other = UserFactory()
    others_pair = token_pair_issue(user=other)
    own_pair = token_pair_issue(user=user)

    response = bearer(own_pair.access_token).post(LOGOUT, {"refreshToken": others_pair.refresh_token}, format="json")

    assert response.status_code == 200, response.json()
    assert_error(refresh(others_pair.refresh_token), 401, "TOKEN_INVALID")
    assert refresh(own_pair.refresh_token).status_code == 200


def test_logout_needs_no_bearer_token(api_client, user):
    pair = token_pair_issue(user=user)

    response = api_client.post(LOGOUT, {"refreshToken": pair.refresh_token}, format="json")

    assert response.status_code == 200, response.json()
    assert_error(refresh(pair.refresh_token), 401, "TOKEN_INVALID")
    assert_error(bearer(pair.access_token).get(USERS_ME), 401, "TOKEN_INVALID")


def test_logout_ignores_an_expired_bearer_token(user):
    pair = token_pair_issue(user=user)

    with time_machine.travel(timedelta(minutes=20)):
        response = bearer(pair.access_token).post(LOGOUT, {"refreshToken": pair.refresh_token}, format="json")

    assert response.status_code == 200, response.json()


def test_logout_without_refresh_token_is_a_validation_error(api_client, db):
    error = assert_error(api_client.post(LOGOUT, {}, format="json"), 400, "VALIDATION_ERROR")

    assert "refreshToken" in error["details"]


def test_logout_with_garbage_or_an_access_token_is_refused(api_client, user):
    assert_error(api_client.post(LOGOUT, {"refreshToken": "garbage"}, format="json"), 401, "TOKEN_INVALID")
    access = token_pair_issue(user=user).access_token
    assert_error(api_client.post(LOGOUT, {"refreshToken": access}, format="json"), 401, "TOKEN_INVALID")


# --- /auth/me ----------------------------------------------------------------------------------
def test_auth_me_returns_the_same_profile_as_users_me(auth_client, user):
    response = auth_client.get(AUTH_ME)

    assert response.status_code == 200
    assert set(response.json()) == PROFILE_FIELDS
    assert response.json()["id"] == str(user.pk)
    assert response.json()["email"] == user.email
    assert response.json() == auth_client.get(USERS_ME).json()


def test_auth_me_requires_authentication(api_client, db):
    response = api_client.get(AUTH_ME)

    assert_error(response, 401, "NOT_AUTHENTICATED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_auth_me_is_read_only(auth_client):
    assert_error(auth_client.patch(AUTH_ME, {"username": "renamed"}, format="json"), 405, "METHOD_NOT_ALLOWED")


# --- password change ---------------------------------------------------------------------------
def change_password(client: APIClient, current: str = DEFAULT_PASSWORD, new: str = NEW_PASSWORD):
    return client.post(PASSWORD_CHANGE, {"currentPassword": current, "newPassword": new}, format="json")


def test_password_change_refuses_a_wrong_current_password(user):
    pair = token_pair_issue(user=user)

    response = change_password(bearer(pair.access_token), current="not-my-password")

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "currentPassword" in body["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert bearer(pair.access_token).get(USERS_ME).status_code == 200


@pytest.mark.parametrize("weak", ["short", "password123", "12345678901"])
def test_password_change_refuses_a_weak_new_password(user, weak):
    pair = token_pair_issue(user=user)

    response = change_password(bearer(pair.access_token), new=weak)

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "newPassword" in body["details"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert refresh(pair.refresh_token).status_code == 200


def test_password_change_requires_authentication(api_client, db):
    assert_error(change_password(api_client), 401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize("missing", ["currentPassword", "newPassword"])
def test_password_change_reports_missing_fields(auth_client, missing):
    body = {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW_PASSWORD}
    del body[missing]

    error = assert_error(auth_client.post(PASSWORD_CHANGE, body, format="json"), 400, "VALIDATION_ERROR")
    assert list(error["details"]) == [missing]


def test_password_change_returns_new_tokens_that_work(user):
    pair = token_pair_issue(user=user)

    response = change_password(bearer(pair.access_token))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert {"accessToken", "refreshToken"} <= set(body)
    assert bearer(body["accessToken"]).get(USERS_ME).status_code == 200
    assert refresh(body["refreshToken"]).status_code == 200


def test_password_change_revokes_every_earlier_access_and_refresh_token(api_client, user):
    earlier = [token_pair_issue(user=user) for _ in range(2)]  # two devices
    from_login = login(api_client, user.email).json()

    new_pair = change_password(bearer(earlier[0].access_token)).json()

    for access in [p.access_token for p in earlier] + [from_login["accessToken"]]:
        assert_error(bearer(access).get(USERS_ME), 401, "TOKEN_INVALID")
    for refresh_token in [p.refresh_token for p in earlier] + [from_login["refreshToken"]]:
        assert_error(refresh(refresh_token), 401, "TOKEN_INVALID")
    assert bearer(new_pair["accessToken"]).get(USERS_ME).status_code == 200


def test_password_change_then_login_needs_the_new_password(api_client, auth_client, user):
    assert change_password(auth_client).status_code == 200

    assert_error(login(api_client, user.email, DEFAULT_PASSWORD), 401, "INVALID_CREDENTIALS")
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200


def test_password_change_leaves_other_users_tokens_alone(auth_client):
    other_pair = token_pair_issue(user=UserFactory())

    assert change_password(auth_client).status_code == 200

    assert bearer(other_pair.access_token).get(USERS_ME).status_code == 200
    assert refresh(other_pair.refresh_token).status_code == 200


# --- password reset ----------------------------------------------------------------------------
def confirm_reset(client: APIClient, uid: str, token: str, new_password: str = NEW_PASSWORD):
    return client.post(PASSWORD_RESET_CONFIRM, {"uid": uid, "token": token, "newPassword": new_password}, format="json")


def test_password_reset_for_existing_email_is_accepted_and_sends_one_email(request_reset, user):
    response = request_reset(user.email)

    assert response.status_code == 202, response.json()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    uid, token = reset_link_params(mail.outbox[0])
    assert uid and token


def test_password_reset_email_lookup_ignores_case(request_reset, user):
    assert request_reset(user.email.upper()).status_code == 202

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]


def test_password_reset_for_unknown_email_looks_the_same_and_sends_nothing(request_reset, user):
    known = request_reset(user.email)
    mail.outbox.clear()

    unknown = request_reset("nobody@example.com")

    assert unknown.status_code == 202
    assert unknown.json() == known.json()
    assert mail.outbox == []


def test_password_reset_for_inactive_user_sends_nothing(request_reset, user):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert request_reset(user.email).status_code == 202
    assert mail.outbox == []


def test_password_reset_refuses_an_invalid_email(request_reset, db):
    error = assert_error(request_reset("not-an-email"), 400, "VALIDATION_ERROR")

    assert "email" in error["details"]
    assert mail.outbox == []


def test_password_reset_confirm_sets_the_new_password(api_client, request_reset, user):
    request_reset(user.email)
    uid, token = reset_link_params(mail.outbox[0])

    response = confirm_reset(api_client, uid, token)

    assert response.status_code == 200, response.json()
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert_error(login(api_client, user.email, DEFAULT_PASSWORD), 401, "INVALID_CREDENTIALS")


def test_password_reset_confirm_revokes_earlier_tokens(api_client, request_reset, user):
    pair = token_pair_issue(user=user)
    request_reset(user.email)
    uid, token = reset_link_params(mail.outbox[0])

    assert confirm_reset(api_client, uid, token).status_code == 200

    assert_error(bearer(pair.access_token).get(USERS_ME), 401, "TOKEN_INVALID")
    assert_error(refresh(pair.refresh_token), 401, "TOKEN_INVALID")


def test_password_reset_token_works_only_once(api_client, request_reset, user):
    request_reset(user.email)
    uid, token = reset_link_params(mail.outbox[0])
    assert confirm_reset(api_client, uid, token).status_code == 200

    response = confirm_reset(api_client, uid, token, new_password="yet-an0ther-Secret")

    assert_error(response, 400, "VALIDATION_ERROR")
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200


def test_password_reset_confirm_refuses_a_weak_password_and_keeps_the_token_usable(api_client, request_reset, user):
    request_reset(user.email)
    uid, token = reset_link_params(mail.outbox[0])

    error = assert_error(confirm_reset(api_client, uid, token, new_password="password"), 400, "VALIDATION_ERROR")

    assert "newPassword" in error["details"]
    assert confirm_reset(api_client, uid, token).status_code == 200


def test_password_reset_token_expires(api_client, request_reset, user, settings):
    request_reset(user.email)
    uid, token = reset_link_params(mail.outbox[0])

    with time_machine.travel(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)):
        assert_error(confirm_reset(api_client, uid, token), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "uid, token",
    [
        ("garbage", "garbage"),
        ("", "abc-def"),
        ("MTIz", "abc-def"),  # base64 of "123": not a UUID
        ("__VALID_UID__", "c0ffee-0123456789abcdef0123456789abcdef"),  # right user, forged token
        ("//", "abc-def"),
    ],
)
def test_password_reset_confirm_refuses_bad_uid_or_token(api_client, request_reset, user, uid, token):
    request_reset(user.email)
    valid_uid, _ = reset_link_params(mail.outbox[0])

    response = confirm_reset(api_client, valid_uid if uid == "__VALID_UID__" else uid, token)

    assert_error(response, 400, "VALIDATION_ERROR")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_reset_token_of_one_user_does_not_reset_another(api_client, request_reset, user):
    other = UserFactory()
    request_reset(user.email)
    _, token = reset_link_params(mail.outbox[0])
    mail.outbox.clear()
    request_reset(other.email)
    other_uid, _ = reset_link_params(mail.outbox[0])

    assert_error(confirm_reset(api_client, other_uid, token), 400, "VALIDATION_ERROR")
    other.refresh_from_db()
    assert other.check_password(DEFAULT_PASSWORD)


# --- bearer token edge cases -------------------------------------------------------------------
def test_no_authorization_header_is_not_authenticated(api_client, db):
    assert_error(api_client.get(USERS_ME), 401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer one two", "Token abc", "Basic dXNlcjpwYXNz"])
def test_malformed_authorization_header_is_not_authenticated(api_client, db, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)

    assert_error(api_client.get(USERS_ME), 401, "NOT_AUTHENTICATED")


def test_tampered_access_token_is_invalid(user):
    token = token_pair_issue(user=user).access_token
    header, payload, signature = token.split(".")
    forged_payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")

    assert_error(bearer(f"{header}.{forged_payload}.{signature}").get(USERS_ME), 401, "TOKEN_INVALID")
    assert_error(bearer(token + "x").get(USERS_ME), 401, "TOKEN_INVALID")


def test_garbage_bearer_token_is_invalid(db):
    assert_error(bearer("not-a-jwt").get(USERS_ME), 401, "TOKEN_INVALID")


def test_refresh_token_is_not_accepted_as_access_token(user):
    pair = token_pair_issue(user=user)

    assert_error(bearer(pair.refresh_token).get(USERS_ME), 401, "TOKEN_INVALID")


def test_access_token_expires_after_15_minutes(user):
    client = bearer(token_pair_issue(user=user).access_token)

    with time_machine.travel(timedelta(minutes=14)):
        assert client.get(USERS_ME).status_code == 200
    with time_machine.travel(timedelta(minutes=16)):
        assert_error(client.get(USERS_ME), 401, "TOKEN_INVALID")


def test_access_token_of_a_deactivated_user_is_invalid(user):
    client = bearer(token_pair_issue(user=user).access_token)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_error(client.get(USERS_ME), 401, "TOKEN_INVALID")


def test_access_token_of_a_deleted_user_is_invalid(db):
    # A user with no ledger rows can be deleted (rows are PROTECTed otherwise).
    doomed = User.objects.create(username="doomed", email="doomed@example.com", created_at=datetime.now(UTC))
    client = bearer(token_pair_issue(user=doomed).access_token)
    doomed.delete()

    assert_error(client.get(USERS_ME), 401, "TOKEN_INVALID")


def test_password_reset_answers_202_even_when_the_email_cannot_be_queued(
    api_client, user, monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    from accounts import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.send_password_reset_email, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api_client.post("/api/v1/auth/password/reset", {"email": user.email}, format="json")
    assert len(callbacks) == 1  # the queueing ran after commit, failed, and was contained
    assert response.status_code == 202
    assert "broker" not in response.content.decode()
    assert mailoutbox == []
