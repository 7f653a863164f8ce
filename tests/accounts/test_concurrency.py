"""Races on registration and refresh-token rotation, with real threads and real transactions."""

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_pair_issue
from economy.models import LedgerEntry, LedgerKind, Referral, ReferralStatus
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.concurrency import run_together

REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
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


def test_parallel_refreshes_with_one_token_succeed_exactly_once():
    user = UserFactory()
    refresh_token = token_pair_issue(user=user).refresh_token

    results = run_in_parallel(
        [lambda client: client.post(REFRESH, {"refreshToken": refresh_token}, format="json")] * THREADS
    )

    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 1, 401: THREADS - 1}, results
    assert {body["code"] for status, body in results if status == 401} == {"TOKEN_INVALID"}
    (new_pair,) = [body for status, body in results if status == 200]
    follow_up = APIClient().post(REFRESH, {"refreshToken": new_pair["refreshToken"]}, format="json")
    assert follow_up.status_code == 200
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
