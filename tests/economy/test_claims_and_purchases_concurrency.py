"""Daily claims and purchases under real concurrency: threads with their own PostgreSQL connections."""

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tokens import token_pair_issue
from economy.errors import DailyRewardClaimed
from economy.models import DailyReward, LedgerEntry, LedgerKind, Purchase
from economy.services import daily_reward_claim
from idempotency.models import IdempotencyKey
from tests.factories import CreditPackageFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


@pytest.fixture(autouse=True)
def _no_request_throttles(settings):
    """The request throttles would turn most of the racers away before they reach the race."""
    settings.RATE_LIMIT_ENABLED = False


def run_in_parallel(work: Callable[[int], object], count: int = THREADS) -> list:
    return run_together(work, count)


def bearer(user) -> str:
    return f"Bearer {token_pair_issue(user=user).access_token}"


def test_twenty_parallel_claims_by_one_user_pay_exactly_once():
    user = UserFactory()

    def attempt(_: int) -> str:
        try:
            daily_reward_claim(user_id=user.pk)
        except DailyRewardClaimed:
            return "claimed already"
        return "paid"

    assert Counter(run_in_parallel(attempt)) == {"paid": 1, "claimed already": THREADS - 1}
    assert DailyReward.objects.filter(user=user).count() == 1
    assert LedgerEntry.objects.filter(user=user, kind=LedgerKind.DAILY_REWARD).count() == 1
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("2000")
    assert_ledger_reconciles()


def test_twenty_parallel_claims_over_http_pay_exactly_once():
    user = UserFactory()
    auth = bearer(user)

    def attempt(_: int):
        response = APIClient().post("/api/v1/rewards/daily", HTTP_AUTHORIZATION=auth)
        return response.status_code, response.json()

    results = run_in_parallel(attempt)

    assert Counter(status for status, _ in results) == {201: 1, 409: THREADS - 1}, results
    assert {body["code"] for status, body in results if status == 409} == {"DAILY_REWARD_CLAIMED"}
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("2000")
    assert_ledger_reconciles()


def test_parallel_claims_by_different_users_all_pay():
    users = [UserFactory() for _ in range(8)]

    run_in_parallel(lambda i: daily_reward_claim(user_id=users[i].pk), count=len(users))

    assert DailyReward.objects.count() == 8
    assert set(User.objects.filter(pk__in=[u.pk for u in users]).values_list("credit_balance", flat=True)) == {
        Decimal("2000")
    }
    assert_ledger_reconciles()


def test_twenty_parallel_purchases_with_one_key_make_one_purchase_and_twenty_identical_answers():
    user = UserFactory()
    package = CreditPackageFactory(credits=Decimal("3000"), price_usd=Decimal("19.99"))
    auth = bearer(user)

    def attempt(_: int):
        response = APIClient().post(
            "/api/v1/purchases",
            {"packageId": package.pk},
            format="json",
            HTTP_AUTHORIZATION=auth,
            HTTP_IDEMPOTENCY_KEY="double-click-7f3a",
        )
        return response.status_code, response.content

    results = run_in_parallel(attempt)

    assert {status for status, _ in results} == {201}, results
    assert len({content for _, content in results}) == 1  # byte for byte the same body
    assert Purchase.objects.filter(user=user).count() == 1
    assert IdempotencyKey.objects.filter(user=user).count() == 1
    assert LedgerEntry.objects.filter(user=user, kind=LedgerKind.PURCHASE).count() == 1
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("4000")
    assert_ledger_reconciles()


def test_parallel_purchases_with_one_key_and_different_bodies_make_one_purchase_and_conflicts():
    user = UserFactory()
    packages = [CreditPackageFactory(), CreditPackageFactory()]
    auth = bearer(user)

    def attempt(i: int):
        response = APIClient().post(
            "/api/v1/purchases",
            {"packageId": packages[i % 2].pk},
            format="json",
            HTTP_AUTHORIZATION=auth,
            HTTP_IDEMPOTENCY_KEY="shared-key",
        )
        return response.status_code, response.json()

    results = run_in_parallel(attempt)

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: THREADS // 2, 409: THREADS // 2}, results
    assert {body["code"] for status, body in results if status == 409} == {"IDEMPOTENCY_CONFLICT"}
    assert Purchase.objects.filter(user=user).count() == 1
    assert_ledger_reconciles()


def test_parallel_purchases_without_keys_never_pass_the_purchase_limit(settings):
    settings.RATE_LIMIT_ENABLED = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": "1000/min"}
    user = UserFactory()
    package = CreditPackageFactory()
    auth = bearer(user)

    def attempt(_: int) -> int:
        return (
            APIClient()
            .post("/api/v1/purchases", {"packageId": package.pk}, format="json", HTTP_AUTHORIZATION=auth)
            .status_code
        )

    assert Counter(run_in_parallel(attempt)) == {201: 5, 429: THREADS - 5}
    assert Purchase.objects.filter(user=user).count() == 5
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("3500")
    assert_ledger_reconciles()


def test_parallel_purchases_near_the_cap_never_pass_it(settings):
    user = UserFactory(balance=settings.MAX_CREDIT_BALANCE - Decimal("1000"))
    package = CreditPackageFactory(credits=Decimal("500"))
    auth = bearer(user)

    def attempt(i: int) -> int:
        return (
            APIClient()
            .post("/api/v1/purchases", {"packageId": package.pk}, format="json", HTTP_AUTHORIZATION=auth)
            .status_code
        )

    assert Counter(run_in_parallel(attempt, count=8)) == {201: 2, 409: 6}
    assert User.objects.get(pk=user.pk).credit_balance == settings.MAX_CREDIT_BALANCE
    assert_ledger_reconciles()
