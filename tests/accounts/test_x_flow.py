"""Sign in with X end to end (issue 14): our API drives the stand-in X over loopback HTTP exactly as it
would drive X, and the tests follow the redirects the way a browser does."""

import socket
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User, XAccount
from economy.models import LedgerEntry, LedgerKind
from markets.models import MarketType
from scripts.x_standin import XUser
from tests.factories import DEFAULT_PASSWORD, MarketFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.concurrency import run_together
from tests.helpers.x import (
    CALLBACK,
    CLIENT_ID,
    EXCHANGE,
    LINK,
    LINK_CONFIRM,
    authorize_url_for,
    bearer,
    callback,
    exchange,
    frontend_landing,
    query_of,
    sign_in,
    start,
    visit_x,
)

pytestmark = pytest.mark.django_db

ALICE = XUser(
    id="1500000000000000001",
    username="alice",
    name="Alice A.",
    profile_image_url="https://pbs.twimg.com/profile_images/1/alice_normal.jpg",
)
USERS_ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
PASSWORD_ADD = "/api/v1/users/me/password"
STRONG_PASSWORD = "s3cure-Passw0rd!"


def ledger(user_id) -> list[tuple[str, Decimal]]:
    return list(LedgerEntry.objects.filter(user_id=user_id).order_by("id").values_list("kind", "amount"))


# --- the authorization request ----------------------------------------------------------------------
def test_start_redirects_to_x_with_pkce_s256_the_scopes_and_a_fresh_state(x_standin, settings):
    url = authorize_url_for(APIClient(), redirect="/markets")
    again = authorize_url_for(APIClient(), redirect="/markets")

    assert url.startswith(settings.X_AUTHORIZE_URL + "?")
    query = query_of(url)
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == settings.X_REDIRECT_URI
    assert query["scope"].split() == ["tweet.read", "users.read", "offline.access"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256, unpadded: never the verifier itself
    assert query_of(again)["state"] != query["state"]
    assert query_of(again)["code_challenge"] != query["code_challenge"]


# --- a new user ---------------------------------------------------------------------------------------
def test_first_sign_in_creates_an_account_with_the_signup_bonus_and_no_email(x_standin):
    x_standin.state.sign_in_as(ALICE)

    body = sign_in(redirect="/welcome")

    assert set(body) == {"user", "accessToken", "refreshToken", "created"}
    assert body["created"] is True
    user = body["user"]
    assert user["username"] == "alice"
    assert user["email"] is None
    assert user["hasPassword"] is False
    assert user["creditBalance"] == 1000
    assert user["xAccount"] == {"username": "alice", "name": "Alice A.", "avatarUrl": ALICE.profile_image_url}
    assert XAccount.objects.get(user_id=user["id"]).x_id == ALICE.id
    assert ledger(user["id"]) == [(LedgerKind.SIGNUP_BONUS, Decimal("1000.00"))]
    me = bearer(body["accessToken"]).get(USERS_ME)
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    assert_ledger_reconciles()


def test_callback_lands_on_the_redirect_path_with_a_one_time_code_and_never_tokens(x_standin):
    client = APIClient()
    landing = callback(client, visit_x(authorize_url_for(client, redirect="/markets/abc?tab=hot")))

    path, query = frontend_landing(landing)
    assert path == "/markets/abc"
    assert set(query) == {"tab", "code"} and query["tab"] == "hot"
    assert "no-store" in landing["Cache-Control"]
    body = exchange(client, query["code"]).json()
    assert body["accessToken"] not in landing["Location"] and body["refreshToken"] not in landing["Location"]


def test_replayed_callback_is_refused_and_the_bonus_is_paid_once(x_standin):
    client = APIClient()
    callback_url = visit_x(authorize_url_for(client, redirect="/home"))
    first = callback(client, callback_url)
    _, query = frontend_landing(first)

    replay = callback(client, callback_url)  # the same browser, so only the spent state refuses it

    assert frontend_landing(replay) == ("/", {"error": "X_STATE_INVALID"})
    assert User.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.SIGNUP_BONUS).count() == 1
    assert exchange(client, query["code"]).status_code == 200
    assert_ledger_reconciles()


def test_exchange_code_works_once(x_standin):
    client = APIClient()
    _, query = frontend_landing(callback(client, visit_x(authorize_url_for(client))))
    assert exchange(client, query["code"]).status_code == 200

    assert_error(exchange(APIClient(), query["code"]), 400, "X_CODE_INVALID")


def test_exchange_code_expires_after_60_seconds(x_standin):
    client = APIClient()
    _, query = frontend_landing(callback(client, visit_x(authorize_url_for(client))))

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        response = exchange(client, query["code"])

    assert_error(response, 400, "X_CODE_INVALID")


@pytest.mark.parametrize("code", ["nope", "x" * 40, "a/b" * 10])
def test_exchange_refuses_unknown_codes(x_standin, code):
    assert_error(exchange(APIClient(), code), 400, "X_CODE_INVALID")


def test_exchange_needs_a_code(x_standin):
    body = assert_error(APIClient().post(EXCHANGE, {}, format="json"), 400, "VALIDATION_ERROR")
    assert "code" in body["details"]


# --- a returning user ---------------------------------------------------------------------------------
def test_returning_user_gets_the_same_account_and_x_profile_changes_are_picked_up(x_standin):
    x_standin.state.sign_in_as(ALICE)
    first = sign_in()
    x_standin.state.sign_in_as(
        XUser(id=ALICE.id, username="alice_new", name="Alice B.", profile_image_url="https://pbs.twimg.com/p/2.jpg")
    )

    second = sign_in()

    assert second["created"] is False
    assert second["user"]["id"] == first["user"]["id"]
    assert second["user"]["username"] == "alice"  # ours, chosen once; the X handle is shown beside it
    assert second["user"]["xAccount"] == {
        "username": "alice_new",
        "name": "Alice B.",
        "avatarUrl": "https://pbs.twimg.com/p/2.jpg",
    }
    assert ledger(first["user"]["id"]) == [(LedgerKind.SIGNUP_BONUS, Decimal("1000.00"))]
    public = APIClient().get(f"/api/v1/users/{first['user']['id']}").json()
    assert public["xAccount"]["username"] == "alice_new"
    assert public["xAccount"]["avatarUrl"] == "https://pbs.twimg.com/p/2.jpg"


def test_two_x_accounts_without_email_are_two_users(x_standin):
    x_standin.state.sign_in_as(ALICE)
    alice = sign_in()
    x_standin.state.sign_in_as(XUser(id="42", username="bob"))

    bob = sign_in()

    assert bob["created"] is True and bob["user"]["id"] != alice["user"]["id"]
    assert User.objects.filter(email__isnull=True).count() == 2


def test_deactivated_account_is_refused_at_the_callback(x_standin):
    x_standin.state.sign_in_as(ALICE)
    user_id = sign_in()["user"]["id"]
    User.objects.filter(pk=user_id).update(is_active=False)
    client = APIClient()

    landing = callback(client, visit_x(authorize_url_for(client, redirect="/home")))

    assert frontend_landing(landing) == ("/home", {"error": "ACCOUNT_DISABLED"})


def test_account_deactivated_between_callback_and_exchange_gets_no_tokens(x_standin):
    client = APIClient()
    _, query = frontend_landing(callback(client, visit_x(authorize_url_for(client))))
    User.objects.update(is_active=False)

    assert_error(exchange(client, query["code"]), 403, "ACCOUNT_DISABLED")


# --- usernames from X handles -------------------------------------------------------------------------
def test_a_taken_handle_gets_a_numbered_username(x_standin):
    UserFactory(username="Alice")
    x_standin.state.sign_in_as(ALICE)

    assert sign_in()["user"]["username"] == "alice_2"


def test_a_handle_shorter_than_our_minimum_is_padded(x_standin):
    x_standin.state.sign_in_as(XUser(id="7", username="ab"))

    assert sign_in()["user"]["username"] == "ab_x"


def test_a_fifteen_character_handle_taken_ten_times_still_fits_30_characters(x_standin):
    handle = "abcdefghijklmno"
    for name in [handle, *(f"{handle}_{n}" for n in range(2, 10))]:
        UserFactory(username=name)
    x_standin.state.sign_in_as(XUser(id="8", username=handle))

    username = sign_in()["user"]["username"]

    assert username.startswith(f"{handle}_") and len(username) == len(handle) + 7  # _ and 6 hex digits


# --- referrals ----------------------------------------------------------------------------------------
def first_bet(body: dict) -> None:
    """The referred X user's first qualifying bet, over the API: the referrer's bonus is due then."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    market = MarketFactory(market_type=MarketType.CREDITS)
    bet = {"marketId": str(market.pk), "side": "this", "amount": "100"}
    assert client.post("/api/v1/bets", bet, format="json").status_code == 201


def test_referral_code_through_x_follows_registrations_rules(x_standin, django_capture_on_commit_callbacks):
    referrer = UserFactory()

    body = sign_in(referralCode=referrer.referral_code.lower())

    assert ledger(body["user"]["id"]) == [
        (LedgerKind.SIGNUP_BONUS, Decimal("1000.00")),
        (LedgerKind.REFERRAL_BONUS, Decimal("200.00")),
    ]
    assert User.objects.get(pk=body["user"]["id"]).referred_by_id == referrer.pk
    referrer.refresh_from_db()
    assert referrer.credit_balance == Decimal("1000.00")  # due on the referred user's first bet

    with django_capture_on_commit_callbacks(execute=True):
        first_bet(body)

    referrer.refresh_from_db()
    assert referrer.credit_balance == Decimal("1200.00")
    assert_ledger_reconciles()


def test_unknown_referral_code_is_refused_before_x_is_asked(x_standin):
    landing = start(APIClient(), redirect="/join", referralCode="NOPE1234")

    assert frontend_landing(landing) == ("/join", {"error": "INVALID_REFERRAL_CODE"})
    assert x_standin.state.stats_snapshot().get("authorize", 0) == 0


def test_referral_code_is_ignored_for_a_returning_user(x_standin):
    first = sign_in()
    referrer = UserFactory()

    second = sign_in(referralCode=referrer.referral_code)

    assert second["created"] is False
    assert ledger(first["user"]["id"]) == [(LedgerKind.SIGNUP_BONUS, Decimal("1000.00"))]
    referrer.refresh_from_db()
    assert referrer.credit_balance == Decimal("1000.00")


def test_referrer_limit_applies_to_x_sign_ups(x_standin, settings, django_capture_on_commit_callbacks):
    settings.REFERRAL_MAX_BONUSES = 1
    referrer = UserFactory()
    first = sign_in(referralCode=referrer.referral_code)
    x_standin.state.sign_in_as(XUser(id="99", username="second"))
    second = sign_in(referralCode=referrer.referral_code)

    with django_capture_on_commit_callbacks(execute=True):
        first_bet(first)
        first_bet(second)

    referrer.refresh_from_db()
    assert referrer.credit_balance == Decimal("1200.00")
    assert_ledger_reconciles()


# --- forged, reused, expired and refused flows ---------------------------------------------------------
def test_state_reused_with_a_fresh_code_is_refused(x_standin):
    client = APIClient()
    authorize_url = authorize_url_for(client)
    frontend_landing(callback(client, visit_x(authorize_url)))

    second_visit = visit_x(authorize_url)  # X issues a new code for the same state
    landing = callback(client, second_visit)

    assert frontend_landing(landing) == ("/", {"error": "X_STATE_INVALID"})
    assert User.objects.count() == 1


@pytest.mark.parametrize("state", [None, "", "forged-state-that-we-never-issued", "../../etc", "x" * 500])
def test_unknown_state_is_refused(x_standin, state):
    params = {"code": "whatever"} | ({} if state is None else {"state": state})

    landing = APIClient().get(CALLBACK, params)

    assert frontend_landing(landing) == ("/", {"error": "X_STATE_INVALID"})
    assert x_standin.state.stats_snapshot().get("token", 0) == 0


def test_state_expires_after_10_minutes(x_standin):
    client = APIClient()
    callback_url = visit_x(authorize_url_for(client))

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        landing = callback(client, callback_url)

    assert frontend_landing(landing) == ("/", {"error": "X_STATE_INVALID"})


def test_denied_consent_lands_on_the_redirect_path_with_an_error(x_standin):
    x_standin.state.deny_next()
    client = APIClient()
    callback_url = visit_x(authorize_url_for(client, redirect="/markets"))
    assert query_of(callback_url)["error"] == "access_denied"

    landing = callback(client, callback_url)

    assert frontend_landing(landing) == ("/markets", {"error": "X_ACCESS_DENIED"})
    assert User.objects.count() == 0
    # The state was spent by the refusal.
    assert frontend_landing(callback(client, callback_url)) == ("/", {"error": "X_STATE_INVALID"})


def test_code_from_another_flow_fails_the_pkce_check(x_standin):
    """Authorization code injection: an attacker's code pasted into a victim's callback. The victim's
    verifier does not match the challenge the code was issued for, so X refuses the exchange."""
    client = APIClient()
    attacker_code = query_of(visit_x(authorize_url_for(client)))["code"]
    victim_callback = visit_x(authorize_url_for(client))
    forged = victim_callback.replace(query_of(victim_callback)["code"], attacker_code)

    landing = callback(client, forged)

    assert frontend_landing(landing) == ("/", {"error": "X_EXCHANGE_FAILED"})
    assert User.objects.count() == 0


def test_a_callback_from_another_browser_is_refused(x_standin):
    """Login CSRF: an attacker signs in with their own X account, stops before our callback, and gets
    a victim's browser to open that callback URL. The victim must not end up in the attacker's account."""
    attacker = APIClient()
    callback_url = visit_x(authorize_url_for(attacker))

    landing = callback(APIClient(), callback_url)

    assert frontend_landing(landing) == ("/", {"error": "X_STATE_INVALID"})
    assert User.objects.count() == 0
    assert x_standin.state.stats_snapshot().get("token", 0) == 0


def test_the_browser_cookie_is_http_only_lax_and_scoped_to_the_x_urls(x_standin):
    response = start(APIClient())

    cookie = response.cookies["thisthat_x_browser"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/api/v1/auth/x" and int(cookie["max-age"]) == 600


def test_two_tabs_of_one_browser_can_each_sign_in(x_standin):
    browser = APIClient()
    first_tab = visit_x(authorize_url_for(browser, redirect="/one"))
    second_tab = visit_x(authorize_url_for(browser, redirect="/two"))

    assert frontend_landing(callback(browser, second_tab))[0] == "/two"
    path, query = frontend_landing(callback(browser, first_tab))

    assert path == "/one" and "code" in query


def test_callback_without_a_code_fails_the_exchange(x_standin):
    client = APIClient()
    state = query_of(authorize_url_for(client, redirect="/a"))["state"]

    landing = client.get(CALLBACK, {"state": state})

    assert frontend_landing(landing) == ("/a", {"error": "X_EXCHANGE_FAILED"})


# --- X slow, down or broken -----------------------------------------------------------------------------
@pytest.mark.parametrize("route", ["token", "users_me"])
def test_slow_x_times_out_into_a_clear_error(x_standin, settings, route):
    settings.X_READ_TIMEOUT = 0.2
    x_standin.state.hold(route)
    client = APIClient()
    callback_url = visit_x(authorize_url_for(client, redirect="/home"))

    landing = callback(client, callback_url)

    assert frontend_landing(landing) == ("/home", {"error": "X_UNAVAILABLE"})
    assert User.objects.count() == 0


@pytest.mark.parametrize(("route", "status"), [("token", 503), ("token", 429), ("users_me", 500), ("users_me", 429)])
def test_x_failing_is_x_unavailable(x_standin, route, status):
    x_standin.state.fail_next(route, status)
    client = APIClient()

    landing = callback(client, visit_x(authorize_url_for(client)))

    assert frontend_landing(landing) == ("/", {"error": "X_UNAVAILABLE"})


def test_x_unreachable_is_x_unavailable_and_the_api_keeps_answering(x_standin, settings):
    client = APIClient()
    callback_url = visit_x(authorize_url_for(client))
    with socket.socket() as bound_not_listening:  # connections to it are refused
        bound_not_listening.bind(("127.0.0.1", 0))
        settings.X_TOKEN_URL = f"http://127.0.0.1:{bound_not_listening.getsockname()[1]}/2/oauth2/token"

        landing = callback(client, callback_url)

    assert frontend_landing(landing) == ("/", {"error": "X_UNAVAILABLE"})
    assert APIClient().get("/api/v1/markets").status_code == 200


def test_wrong_client_secret_fails_the_exchange(x_standin, settings):
    client = APIClient()
    callback_url = visit_x(authorize_url_for(client))
    settings.X_CLIENT_SECRET = "not-the-secret"

    assert frontend_landing(callback(client, callback_url)) == ("/", {"error": "X_EXCHANGE_FAILED"})


def test_a_public_client_without_a_secret_works(x_standin, settings):
    settings.X_CLIENT_SECRET = ""
    x_standin.state.client_secret = ""

    assert sign_in()["created"] is True


# --- where the browser may be sent ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/path\r\nLocation: https://evil.example",
        "/\t/evil.example",
        "http:/evil.example",
        "/" + "a" * 600,
    ],
)
def test_redirects_off_the_frontend_are_refused(x_standin, redirect):
    landing = start(APIClient(), redirect=redirect)

    assert frontend_landing(landing) == ("/", {"error": "INVALID_REDIRECT"})
    assert x_standin.state.stats_snapshot().get("authorize", 0) == 0


def test_link_refuses_redirects_off_the_frontend(x_standin, auth_client):
    body = assert_error(
        auth_client.post(LINK, {"redirect": "https://evil.example"}, format="json"), 400, "INVALID_REDIRECT"
    )
    assert body["details"] == {}


# --- linking and unlinking -------------------------------------------------------------------------------
def link_landing(client: APIClient, redirect: str = "/settings"):
    """POST /auth/x/link, then the browser's trip through X and back to our callback."""
    response = client.post(LINK, {"redirect": redirect}, format="json")
    assert response.status_code == 200, response.json()
    return callback(APIClient(), visit_x(response.json()["authorizeUrl"]))


def link(client: APIClient):
    path, query = frontend_landing(link_landing(client))
    assert path == "/settings" and set(query) == {"linkCode"}, query
    return client.post(LINK_CONFIRM, {"code": query["linkCode"]}, format="json")


def test_linking_x_to_an_email_account_then_signing_in_with_x(x_standin, user, auth_client):
    x_standin.state.sign_in_as(ALICE)

    response = link(auth_client)

    assert response.status_code == 200, response.json()
    assert response.json()["user"]["xAccount"]["username"] == "alice"
    assert auth_client.get(USERS_ME).json()["xAccount"]["username"] == "alice"
    body = sign_in()
    assert body["created"] is False and body["user"]["id"] == str(user.pk)
    assert ledger(user.pk) == [(LedgerKind.SIGNUP_BONUS, Decimal("1000.00"))]


def test_a_link_code_works_once_and_only_for_the_user_who_started_the_link(x_standin, user, auth_client, client_for):
    """An attacker's link flow finished in a victim's browser: the victim's app confirms with the
    victim's token, which must link nothing."""
    _, query = frontend_landing(link_landing(auth_client))
    victim = client_for(UserFactory())

    assert_error(victim.post(LINK_CONFIRM, {"code": query["linkCode"]}, format="json"), 400, "X_CODE_INVALID")
    assert_error(auth_client.post(LINK_CONFIRM, {"code": query["linkCode"]}, format="json"), 400, "X_CODE_INVALID")
    assert not XAccount.objects.exists()


def test_linking_an_x_account_that_belongs_to_someone_else_is_refused(x_standin, auth_client):
    x_standin.state.sign_in_as(ALICE)
    other = sign_in()

    landing = link_landing(auth_client)

    assert frontend_landing(landing) == ("/settings", {"error": "X_ACCOUNT_TAKEN"})
    assert str(XAccount.objects.get(x_id=ALICE.id).user_id) == other["user"]["id"]
    assert auth_client.get(USERS_ME).json()["xAccount"] is None


def test_an_account_with_x_linked_cannot_start_another_link(x_standin, auth_client):
    link(auth_client)

    assert_error(auth_client.post(LINK, {}, format="json"), 409, "X_ALREADY_LINKED")


def test_two_link_flows_at_once_link_one_x_account(x_standin, user, auth_client):
    x_standin.state.sign_in_as(ALICE)
    first = auth_client.post(LINK, {}, format="json").json()["authorizeUrl"]
    second = auth_client.post(LINK, {}, format="json").json()["authorizeUrl"]
    _, query = frontend_landing(callback(APIClient(), visit_x(first)))
    x_standin.state.sign_in_as(XUser(id="77", username="other_x"))
    _, late = frontend_landing(callback(APIClient(), visit_x(second)))
    assert auth_client.post(LINK_CONFIRM, {"code": query["linkCode"]}, format="json").status_code == 200

    response = auth_client.post(LINK_CONFIRM, {"code": late["linkCode"]}, format="json")

    assert_error(response, 409, "X_ALREADY_LINKED")
    assert XAccount.objects.get(user=user).x_id == ALICE.id


def test_linking_needs_a_signed_in_user(x_standin):
    assert_error(APIClient().post(LINK, {}, format="json"), 401, "NOT_AUTHENTICATED")


def test_unlinking_leaves_an_email_account_signing_in_with_its_password(x_standin, user, auth_client):
    assert link(auth_client).status_code == 200

    response = auth_client.delete(LINK)

    assert response.status_code == 200
    assert response.json()["user"]["xAccount"] is None
    assert not XAccount.objects.exists()
    login = APIClient().post(LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert login.status_code == 200
    # The X account is free again: signing in with it now makes a new account.
    assert sign_in()["created"] is True


def test_an_x_only_account_cannot_unlink_its_only_way_in(x_standin):
    body = sign_in()

    response = bearer(body["accessToken"]).delete(LINK)

    assert_error(response, 409, "LAST_SIGN_IN_METHOD")
    assert XAccount.objects.count() == 1


def test_unlinking_without_a_linked_account_is_404(auth_client):
    assert_error(auth_client.delete(LINK), 404, "X_NOT_LINKED")


# --- an X account adds an email and password --------------------------------------------------------------
def test_x_only_account_adds_email_and_password_then_logs_in_either_way(x_standin):
    x_standin.state.sign_in_as(ALICE)
    body = sign_in()
    client = bearer(body["accessToken"])

    response = client.post(PASSWORD_ADD, {"email": "Alice@Example.com", "password": STRONG_PASSWORD}, format="json")

    assert response.status_code == 200, response.json()
    added = response.json()
    assert added["user"]["email"] == "alice@example.com" and added["user"]["hasPassword"] is True
    assert_error(client.get(USERS_ME), 401, "TOKEN_INVALID")  # the password changed: earlier tokens end
    assert bearer(added["accessToken"]).get(USERS_ME).status_code == 200
    login = APIClient().post(LOGIN, {"email": "alice@example.com", "password": STRONG_PASSWORD}, format="json")
    assert login.status_code == 200 and login.json()["user"]["id"] == body["user"]["id"]
    assert sign_in()["user"]["id"] == body["user"]["id"]
    assert bearer(login.json()["accessToken"]).delete(LINK).status_code == 200


def test_adding_a_password_needs_an_email_when_the_account_has_none(x_standin):
    client = bearer(sign_in()["accessToken"])

    body = assert_error(
        client.post(PASSWORD_ADD, {"password": STRONG_PASSWORD}, format="json"), 400, "VALIDATION_ERROR"
    )

    assert "email" in body["details"]


def test_adding_a_password_with_a_taken_email_is_refused_case_insensitively(x_standin):
    UserFactory(email="taken@example.com")
    client = bearer(sign_in()["accessToken"])

    response = client.post(PASSWORD_ADD, {"email": "TAKEN@example.com", "password": STRONG_PASSWORD}, format="json")

    assert_error(response, 409, "EMAIL_TAKEN")


def test_adding_a_password_checks_the_password_rules(x_standin):
    client = bearer(sign_in()["accessToken"])

    response = client.post(PASSWORD_ADD, {"email": "a@example.com", "password": "password"}, format="json")

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "password" in body["details"]


def test_an_account_with_a_password_cannot_add_another(auth_client):
    response = auth_client.post(PASSWORD_ADD, {"password": STRONG_PASSWORD}, format="json")

    assert_error(response, 409, "PASSWORD_ALREADY_SET")


# --- not configured, rate limits, cache down -----------------------------------------------------------------
def test_without_a_client_id_every_x_endpoint_is_503_but_unlinking(settings, auth_client):
    settings.X_CLIENT_ID = ""

    assert_error(APIClient().get("/api/v1/auth/x"), 503, "X_NOT_CONFIGURED")
    assert_error(APIClient().get(CALLBACK, {"state": "s" * 40, "code": "c"}), 503, "X_NOT_CONFIGURED")
    assert_error(exchange(APIClient(), "c" * 40), 503, "X_NOT_CONFIGURED")
    assert_error(auth_client.post(LINK, {}, format="json"), 503, "X_NOT_CONFIGURED")
    assert_error(auth_client.post(LINK_CONFIRM, {"code": "c" * 40}, format="json"), 503, "X_NOT_CONFIGURED")
    # Removing X from an account needs no X: it still answers (nothing is linked here).
    assert_error(auth_client.delete(LINK), 404, "X_NOT_LINKED")


def test_x_sign_in_is_rate_limited_per_address_like_login(x_standin, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "x_login": "2/hour"}
    client = APIClient(REMOTE_ADDR="10.9.0.1")
    authorize_url_for(client)
    authorize_url_for(client)

    path, query = frontend_landing(start(client, redirect="/here"))

    assert path == "/here" and query["error"] == "RATE_LIMIT_EXCEEDED"
    assert 0 < int(query["retryAfter"]) <= 3600
    assert_error(exchange(client, "c" * 40), 429, "RATE_LIMIT_EXCEEDED")
    assert start(APIClient(REMOTE_ADDR="10.9.0.2")).status_code == 302


def test_with_the_cache_down_x_sign_in_fails_closed(x_standin, take_cache_down):
    take_cache_down()

    _path, query = frontend_landing(start(APIClient()))

    assert query == {"error": "SERVICE_UNAVAILABLE", "retryAfter": "30"}
    assert_error(exchange(APIClient(), "c" * 40), 503, "SERVICE_UNAVAILABLE")


# --- races -----------------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_at_once_make_one_account_and_one_bonus(x_standin):
    browsers = [APIClient() for _ in range(4)]
    callbacks = [visit_x(authorize_url_for(browser)) for browser in browsers]

    results = run_together(lambda i: frontend_landing(callback(browsers[i], callbacks[i]))[1], 4)

    assert all("code" in query for query in results), results
    bodies = [exchange(APIClient(), query["code"]).json() for query in results]
    assert {body["user"]["id"] for body in bodies} == {bodies[0]["user"]["id"]}
    assert sorted(body["created"] for body in bodies) == [False, False, False, True]
    assert User.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.SIGNUP_BONUS).count() == 1
    assert_ledger_reconciles()
