"""The ledger under real concurrency: threads with their own PostgreSQL connections."""

import itertools
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from uuid import uuid4

import pytest

from accounts.models import User
from economy.errors import DuplicateLedgerPosting, InsufficientBalance
from economy.models import LedgerEntry, LedgerKind
from economy.services import ledger_post
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def _run_in_parallel(work: Callable[[int], str], count: int = THREADS) -> Counter:
    """Run `work(i)` in `count` threads released together; count the outcomes they report."""
    return Counter(run_together(work, count))


def test_parallel_debits_never_overdraw_the_balance():
    user = UserFactory()
    assert user.credit_balance == Decimal("1000")

    def debit(i: int) -> str:
        try:
            ledger_post(
                user_id=user.pk,
                amount=Decimal("-100"),
                kind=LedgerKind.BET_PLACED,
                reference_id=uuid4(),
                volume=Decimal("100"),
            )
        except InsufficientBalance:
            return "refused"
        return "ok"

    outcomes = _run_in_parallel(debit)

    assert outcomes == Counter({"ok": 10, "refused": 10}), outcomes
    user.refresh_from_db()
    assert user.credit_balance == Decimal("0")
    assert user.total_volume == Decimal("1000")
    debits = LedgerEntry.objects.filter(user=user, kind=LedgerKind.BET_PLACED)
    assert debits.count() == 10
    balances_after = sorted(debits.values_list("balance_after", flat=True))
    assert balances_after == [Decimal(100 * n) for n in range(10)]
    assert all(balance >= 0 for balance in balances_after)
    assert_ledger_reconciles()


def test_parallel_postings_of_one_payout_pay_it_exactly_once():
    user = UserFactory()
    bet_id = uuid4()

    def payout(i: int) -> str:
        try:
            ledger_post(user_id=user.pk, amount=Decimal("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
        except DuplicateLedgerPosting:
            return "duplicate"
        return "paid"

    outcomes = _run_in_parallel(payout)

    assert outcomes == Counter({"paid": 1, "duplicate": THREADS - 1}), outcomes
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("1153.85")
    assert LedgerEntry.objects.filter(kind=LedgerKind.BET_PAYOUT, reference_id=bet_id).count() == 1
    assert_ledger_reconciles()


def test_parallel_postings_of_one_payout_across_users_pay_it_exactly_once():
    users = [UserFactory() for _ in range(4)]
    bet_id = uuid4()

    def payout(i: int) -> str:
        try:
            ledger_post(
                user_id=users[i % len(users)].pk,
                amount=Decimal("50"),
                kind=LedgerKind.BET_PAYOUT,
                reference_id=bet_id,
            )
        except DuplicateLedgerPosting:
            return "duplicate"
        return "paid"

    outcomes = _run_in_parallel(payout)

    assert outcomes == Counter({"paid": 1, "duplicate": THREADS - 1}), outcomes
    balances = sorted(User.objects.filter(pk__in=[u.pk for u in users]).values_list("credit_balance", flat=True))
    assert balances == [Decimal("1000")] * 3 + [Decimal("1050")]
    assert_ledger_reconciles()


def test_parallel_credits_and_debits_all_land_and_reconcile():
    user = UserFactory()

    def move(i: int) -> str:
        amount = Decimal("25") if i % 2 else Decimal("-40")
        ledger_post(user_id=user.pk, amount=amount, kind=LedgerKind.ADMIN_ADJUSTMENT)
        return "ok"

    outcomes = _run_in_parallel(move)

    assert outcomes == Counter({"ok": THREADS})
    user.refresh_from_db()
    assert user.credit_balance == Decimal("1000") + 10 * Decimal("25") - 10 * Decimal("40")
    rows = list(LedgerEntry.objects.filter(user=user).order_by("id").values_list("amount", "balance_after"))
    assert len(rows) == THREADS + 1
    for (_, previous), (amount, balance_after) in itertools.pairwise(rows):
        assert balance_after == previous + amount  # each posting saw the one before it
    assert_ledger_reconciles()
