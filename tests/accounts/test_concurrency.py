"""Races on registration, refresh-token rotation and logout, with real threads and real transactions."""

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from accounts.models import AuthSession, SessionEndReason, SessionRefreshToken, User
from accounts.tokens import token_pair_issue
from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.concurrency import run_together

REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
USERS_ME = "/api/v1/users/me"
STRONG_PASSWORD = "s3cure-Passw0rd!"
THREADS = 8

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    settings.RATE_LIMIT_ENABLED = False


def run_in_parallel(requests: list[Callable[[APIClient], object]]) -> list:
    """Send each request from its own thread and client, all at once; return (status, body) pairs in order."""

    def send(i: int) -> tuple[int, object]:
        response = requests[i](APIClient())
        return response.status_code, response.json()

    return run_together(send, len(requests))


def register_call(username: str, email: str, **extra) -> Callable[[APIClient], object]:
    body = {"username": username, "email": email, "password": STRONG_PASSWORD, **extra}
    return lambda client: client.post(REGISTER, body, format="json")


def test_parallel_registrations_with_one_username_create_exactly_one_account():
    names = ["racer", "RACER", "Racer", "rAcEr", "racER", "RACer", "raceR", "RaCeR"]
    results = run_in_parallel([register_call(name, f"racer{n}@example.com") for n, name in enumerate(names)])

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: THREADS - 1}, results
    assert {body["code"] for status, body in results if status == 409} == {"USERNAME_TAKEN"}
    assert User.objects.filter(username__iexact="racer").count() == 1
    winner = User.objects.get(username__iexact="racer")
    assert LedgerEntry.objects.filter(kind=LedgerKind.SIGNUP_BONUS).count() == 1
    assert winner.credit_balance == Decimal("1000.00")
    assert_ledger_reconciles()


def test_parallel_registrations_with_one_email_create_exactly_one_account():
    emails = ["same@example.com", "SAME@example.com", "Same@Example.com", "same@EXAMPLE.COM"] * 2
    results = run_in_parallel([register_call(f"racer_{n}", email) for n, email in enumerate(emails)])

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: THREADS - 1}, results
    assert {body["code"] for status, body in results if status == 409} == {"EMAIL_TAKEN"}
    assert User.objects.count() == 1
    assert User.objects.get().email == "same@example.com"
    assert LedgerEntry.objects.count() == 1
    assert_ledger_reconciles()


def test_parallel_refreshes_with_one_token_all_get_the_same_successor_pair():
    user = UserFactory()
    refresh_token = token_pair_issue(user=user).refresh_token

    results = run_in_parallel(
        [lambda client: client.post(REFRESH, {"refreshToken": refresh_token}, format="json")] * THREADS
    )

    assert [status for status, _ in results] == [200] * THREADS, results
    pairs = {(body["accessToken"], body["refreshToken"]) for _, body in results}
    assert len(pairs) == 1, "two different successor pairs were handed out"
    ((access, successor),) = pairs
    assert successor != refresh_token
    assert SessionRefreshToken.objects.count() == 2  # one rotation, however many presenters
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.get(USERS_ME).status_code == 200
    assert APIClient().post(REFRESH, {"refreshToken": successor}, format="json").status_code == 200
    assert_ledger_reconciles()


def test_parallel_reuse_after_the_window_ends_the_family_once_and_hands_out_nothing():
    user = UserFactory()
    stolen = token_pair_issue(user=user).refresh_token
    current = APIClient().post(REFRESH, {"refreshToken": stolen}, format="json").json()

    with time_machine.travel(timedelta(seconds=31)):
        results = run_in_parallel(
            [lambda client: client.post(REFRESH, {"refreshToken": stolen}, format="json")] * THREADS
        )
        follow_up = APIClient().post(REFRESH, {"refreshToken": current["refreshToken"]}, format="json")

    assert [status for status, _ in results] == [401] * THREADS, results
    reasons = Counter(body["details"]["reason"] for _, body in results)
    assert reasons == {"refresh_token_reused": 1, "session_ended": THREADS - 1}
    assert AuthSession.objects.get().end_reason == SessionEndReason.REFRESH_TOKEN_REUSED
    assert follow_up.status_code == 401
    assert_ledger_reconciles()


def test_a_refresh_racing_a_logout_leaves_no_working_token():
    user = UserFactory()
    pair = token_pair_issue(user=user)
    body = {"refreshToken": pair.refresh_token}

    results = run_in_parallel(
        [lambda client: client.post(LOGOUT, body, format="json")]
        + [lambda client: client.post(REFRESH, body, format="json")] * (THREADS - 1)
    )

    assert results[0][0] == 200, results
    handed_out = [answer for status, answer in results[1:] if status == 200]
    for answer in handed_out:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {answer['accessToken']}")
        assert client.get(USERS_ME).status_code == 401
        assert APIClient().post(REFRESH, {"refreshToken": answer["refreshToken"]}, format="json").status_code == 401
    assert AuthSession.objects.get().end_reason == SessionEndReason.LOGOUT
    assert_ledger_reconciles()


def test_parallel_signups_with_one_referral_code_pay_each_new_user_and_leave_the_referrer_pending():
    referrer = UserFactory()

    results = run_in_parallel(
        [register_call(f"friend_{n}", f"friend_{n}@example.com", referralCode=referrer.referral_code) for n in range(8)]
    )

    assert [status for status, _ in results] == [201] * THREADS, results
    referrer.refresh_from_db()
    assert referrer.referrals.count() == THREADS
    # The referrer is paid on each friend's first qualifying bet (tests/economy/test_referral_concurrency.py).
    assert not LedgerEntry.objects.filter(user=referrer, kind=LedgerKind.REFERRAL_BONUS).exists()
    assert referrer.credit_balance == Decimal("1000.00")
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFERRAL_BONUS).exclude(user=referrer).count() == THREADS
    assert Referral.objects.filter(referrer=referrer, status=ReferralStatus.PENDING).count() == THREADS
    assert_ledger_reconciles()
