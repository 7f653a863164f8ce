"""The credit ledger: the one door through which every balance change passes (SPEC §6)."""

from decimal import Decimal
from uuid import uuid4

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from economy.errors import BalanceLimit, DuplicateLedgerPosting, InsufficientBalance
from economy.models import ONCE_PER_REFERENCE, ONCE_PER_USER_AND_REFERENCE, LedgerEntry, LedgerKind
from economy.services import ledger_post
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles

pytestmark = pytest.mark.django_db


def _balance(user) -> Decimal:
    return User.objects.values_list("credit_balance", flat=True).get(pk=user.pk)


def _entries(user) -> int:
    return LedgerEntry.objects.filter(user=user).count()


# --- the signup bonus ----------------------------------------------------------------------------
def test_a_new_user_starts_with_the_signup_bonus_on_the_ledger(user):
    [entry] = LedgerEntry.objects.filter(user=user)
    assert entry.kind == LedgerKind.SIGNUP_BONUS
    assert entry.amount == settings.SIGNUP_BONUS == Decimal("1000")
    assert entry.balance_after == _balance(user) == Decimal("1000")


def test_a_user_can_have_only_one_signup_bonus(user):
    with pytest.raises(DuplicateLedgerPosting):
        ledger_post(user_id=user.pk, amount=Decimal("1000"), kind=LedgerKind.SIGNUP_BONUS)
    assert _balance(user) == Decimal("1000")
    assert LedgerEntry.objects.filter(user=user, kind=LedgerKind.SIGNUP_BONUS).count() == 1


def test_the_database_refuses_a_second_signup_bonus_row(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            user=user, amount=Decimal("1000"), kind=LedgerKind.SIGNUP_BONUS, balance_after=Decimal("2000")
        )


# --- credits and debits --------------------------------------------------------------------------
def test_a_credit_raises_the_balance_and_records_balance_after_reference_and_description(user):
    reference = uuid4()
    entry = ledger_post(
        user_id=user.pk,
        amount=Decimal("250.50"),
        kind=LedgerKind.PURCHASE,
        reference_id=reference,
        description="Starter pack",
    )
    entry.refresh_from_db()
    assert entry.user_id == user.pk
    assert entry.amount == Decimal("250.50")
    assert entry.kind == LedgerKind.PURCHASE
    assert entry.reference_id == reference
    assert entry.description == "Starter pack"
    assert entry.balance_after == Decimal("1250.50")
    assert entry.created_by_id is None
    assert _balance(user) == Decimal("1250.50")
    assert_ledger_reconciles()


def test_a_debit_lowers_the_balance_and_records_a_negative_amount(user):
    reference = uuid4()
    entry = ledger_post(
        user_id=user.pk,
        amount=Decimal("-100.25"),
        kind=LedgerKind.BET_PLACED,
        reference_id=reference,
        description="Bet",
    )
    entry.refresh_from_db()
    assert entry.amount == Decimal("-100.25")
    assert entry.balance_after == Decimal("899.75")
    assert entry.reference_id == reference
    assert _balance(user) == Decimal("899.75")
    assert_ledger_reconciles()


def test_successive_postings_chain_balance_after(user):
    amounts = [Decimal("-300"), Decimal("45.55"), Decimal("-0.01"), Decimal("120")]
    entries = [
        ledger_post(user_id=user.pk, amount=amount, kind=LedgerKind.ADMIN_ADJUSTMENT, description=f"step {i}")
        for i, amount in enumerate(amounts)
    ]
    assert [e.balance_after for e in entries] == [
        Decimal("700"),
        Decimal("745.55"),
        Decimal("745.54"),
        Decimal("865.54"),
    ]
    assert _balance(user) == Decimal("865.54")
    assert_ledger_reconciles()


def test_the_whole_balance_can_be_spent(user):
    entry = ledger_post(user_id=user.pk, amount=Decimal("-1000"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())
    assert entry.balance_after == Decimal("0")
    assert _balance(user) == Decimal("0")


def test_admin_adjustment_records_the_staff_member(user):
    staff = UserFactory(is_staff=True)
    entry = ledger_post(
        user_id=user.pk,
        amount=Decimal("-5"),
        kind=LedgerKind.ADMIN_ADJUSTMENT,
        description="Support correction",
        created_by_id=staff.pk,
    )
    entry.refresh_from_db()
    assert entry.created_by_id == staff.pk


def test_a_debit_beyond_the_balance_raises_insufficient_balance_and_writes_nothing(user):
    before = _entries(user)
    with pytest.raises(InsufficientBalance) as caught:
        ledger_post(user_id=user.pk, amount=Decimal("-1000.01"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())
    assert caught.value.code == "INSUFFICIENT_BALANCE"
    assert caught.value.status == 400
    assert _balance(user) == Decimal("1000")
    assert _entries(user) == before
    assert not LedgerEntry.objects.filter(kind=LedgerKind.BET_PLACED).exists()
    assert_ledger_reconciles()


def test_a_debit_from_an_empty_balance_is_refused(user):
    ledger_post(user_id=user.pk, amount=Decimal("-1000"), kind=LedgerKind.ADMIN_ADJUSTMENT)
    with pytest.raises(InsufficientBalance):
        ledger_post(user_id=user.pk, amount=Decimal("-0.01"), kind=LedgerKind.ADMIN_ADJUSTMENT)
    assert _balance(user) == Decimal("0")


def test_a_refused_debit_inside_a_caller_transaction_leaves_earlier_work_alone(user):
    with transaction.atomic():
        ledger_post(user_id=user.pk, amount=Decimal("-600"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())
        with pytest.raises(InsufficientBalance):
            ledger_post(user_id=user.pk, amount=Decimal("-600"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())
    assert _balance(user) == Decimal("400")
    assert LedgerEntry.objects.filter(user=user, kind=LedgerKind.BET_PLACED).count() == 1
    assert_ledger_reconciles()


def test_posting_for_an_unknown_user_fails_and_writes_nothing(db):
    before = LedgerEntry.objects.count()
    with pytest.raises(User.DoesNotExist):
        ledger_post(user_id=uuid4(), amount=Decimal("10"), kind=LedgerKind.ADMIN_ADJUSTMENT)
    assert LedgerEntry.objects.count() == before


# --- the balance cap -----------------------------------------------------------------------------
def test_enforce_cap_refuses_a_credit_over_the_maximum_balance(user):
    over = settings.MAX_CREDIT_BALANCE - Decimal("1000") + Decimal("0.01")
    before = _entries(user)
    with pytest.raises(BalanceLimit) as caught:
        ledger_post(user_id=user.pk, amount=over, kind=LedgerKind.PURCHASE, reference_id=uuid4(), enforce_cap=True)
    assert caught.value.code == "BALANCE_LIMIT"
    assert caught.value.status == 409
    assert _balance(user) == Decimal("1000")
    assert _entries(user) == before


def test_enforce_cap_allows_a_credit_up_to_exactly_the_maximum_balance(user):
    exact = settings.MAX_CREDIT_BALANCE - Decimal("1000")
    entry = ledger_post(
        user_id=user.pk, amount=exact, kind=LedgerKind.DAILY_REWARD, reference_id=uuid4(), enforce_cap=True
    )
    assert entry.balance_after == settings.MAX_CREDIT_BALANCE
    assert _balance(user) == settings.MAX_CREDIT_BALANCE


def test_a_payout_without_enforce_cap_is_paid_over_the_maximum_balance(user):
    ledger_post(
        user_id=user.pk,
        amount=settings.MAX_CREDIT_BALANCE - Decimal("1000"),
        kind=LedgerKind.ADMIN_ADJUSTMENT,
    )
    entry = ledger_post(user_id=user.pk, amount=Decimal("5000"), kind=LedgerKind.BET_PAYOUT, reference_id=uuid4())
    assert entry.balance_after == settings.MAX_CREDIT_BALANCE + Decimal("5000")
    assert _balance(user) == settings.MAX_CREDIT_BALANCE + Decimal("5000")
    assert_ledger_reconciles()


def test_a_debit_with_enforce_cap_is_allowed_when_the_balance_is_over_the_cap(user):
    ledger_post(user_id=user.pk, amount=settings.MAX_CREDIT_BALANCE, kind=LedgerKind.BET_PAYOUT, reference_id=uuid4())
    entry = ledger_post(
        user_id=user.pk, amount=Decimal("-10"), kind=LedgerKind.BET_PLACED, reference_id=uuid4(), enforce_cap=True
    )
    assert entry.balance_after == settings.MAX_CREDIT_BALANCE + Decimal("990")


# --- amount validation ---------------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["0", "0.00", "-0", "1.005", "-0.001", "10.123", "0.001"])
def test_a_zero_amount_or_one_with_more_than_two_decimals_raises_value_error(user, amount):
    before = _entries(user)
    with pytest.raises(ValueError):
        ledger_post(user_id=user.pk, amount=Decimal(amount), kind=LedgerKind.ADMIN_ADJUSTMENT)
    assert _balance(user) == Decimal("1000")
    assert _entries(user) == before


@pytest.mark.parametrize("amount", ["0.01", "-0.01", "12.3", "7", "1.500"])
def test_amounts_of_whole_cents_are_accepted(user, amount):
    entry = ledger_post(user_id=user.pk, amount=Decimal(amount), kind=LedgerKind.ADMIN_ADJUSTMENT)
    assert entry.balance_after == Decimal("1000") + Decimal(amount)


# --- database guards -----------------------------------------------------------------------------
def test_the_database_refuses_a_negative_balance_even_bypassing_the_service(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(credit_balance=-1)
    assert _balance(user) == Decimal("1000")


def test_the_database_refuses_a_ledger_row_with_a_negative_balance_after(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            user=user, amount=Decimal("-2000"), kind=LedgerKind.ADMIN_ADJUSTMENT, balance_after=Decimal("-1000")
        )


def test_the_database_refuses_a_zero_ledger_row(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            user=user, amount=Decimal("0"), kind=LedgerKind.ADMIN_ADJUSTMENT, balance_after=Decimal("1000")
        )


# --- once per reference --------------------------------------------------------------------------
def test_a_second_payout_for_the_same_reference_is_refused_and_leaves_the_balance(user):
    bet_id = uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
    assert _balance(user) == Decimal("1153.85")
    with pytest.raises(DuplicateLedgerPosting) as caught:
        ledger_post(user_id=user.pk, amount=Decimal("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
    assert caught.value.status == 409
    assert caught.value.details["referenceId"] == bet_id
    assert _balance(user) == Decimal("1153.85")
    assert LedgerEntry.objects.filter(kind=LedgerKind.BET_PAYOUT, reference_id=bet_id).count() == 1
    assert_ledger_reconciles()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (LedgerKind.BET_PAYOUT, LedgerKind.BET_SALE),
        (LedgerKind.BET_SALE, LedgerKind.BET_REFUND),
        (LedgerKind.BET_REFUND, LedgerKind.BET_PAYOUT),
    ],
)
def test_a_bet_returns_credits_once_whichever_way(user, first, second):
    bet_id = uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("50"), kind=first, reference_id=bet_id)

    with pytest.raises(DuplicateLedgerPosting):
        ledger_post(user_id=user.pk, amount=Decimal("50"), kind=second, reference_id=bet_id)

    assert _balance(user) == Decimal("1050")
    assert_ledger_reconciles()


def test_a_duplicate_posting_inside_a_caller_transaction_keeps_the_callers_earlier_work(user):
    bet_id = uuid4()
    with transaction.atomic():
        ledger_post(user_id=user.pk, amount=Decimal("50"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
        with pytest.raises(DuplicateLedgerPosting):
            ledger_post(user_id=user.pk, amount=Decimal("50"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
        ledger_post(user_id=user.pk, amount=Decimal("-10"), kind=LedgerKind.ADMIN_ADJUSTMENT)
    assert _balance(user) == Decimal("1040")
    assert_ledger_reconciles()


def test_the_same_reference_is_refused_for_another_user_too(user):
    bet_id = uuid4()
    other = UserFactory()
    ledger_post(user_id=user.pk, amount=Decimal("20"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
    with pytest.raises(DuplicateLedgerPosting):
        ledger_post(user_id=other.pk, amount=Decimal("20"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
    assert _balance(other) == Decimal("1000")


@pytest.mark.parametrize("kind", ONCE_PER_REFERENCE)
def test_every_once_per_reference_kind_is_posted_once(user, kind):
    reference = uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("-1"), kind=kind, reference_id=reference)
    with pytest.raises(DuplicateLedgerPosting):
        ledger_post(user_id=user.pk, amount=Decimal("-1"), kind=kind, reference_id=reference)
    assert _balance(user) == Decimal("999")


def test_one_reference_may_carry_different_kinds(user):
    bet_id = uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("-100"), kind=LedgerKind.BET_PLACED, reference_id=bet_id)
    ledger_post(user_id=user.pk, amount=Decimal("153.85"), kind=LedgerKind.BET_PAYOUT, reference_id=bet_id)
    assert _balance(user) == Decimal("1053.85")
    assert LedgerEntry.objects.filter(reference_id=bet_id).count() == 2


def test_kinds_that_are_not_once_per_reference_may_repeat_a_reference(user):
    reference = uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("200"), kind=LedgerKind.ADMIN_ADJUSTMENT, reference_id=reference)
    ledger_post(user_id=user.pk, amount=Decimal("200"), kind=LedgerKind.ADMIN_ADJUSTMENT, reference_id=reference)
    assert _balance(user) == Decimal("1400")


@pytest.mark.parametrize("kind", ONCE_PER_USER_AND_REFERENCE)
def test_once_per_user_and_reference_kinds_repeat_a_reference_only_for_another_user(user, kind):
    """One referral bonus per referral and user (the referrer's references the new user, the new
    user's the referrer); one clawback per posting taken back."""
    other, reference = UserFactory(), uuid4()
    ledger_post(user_id=user.pk, amount=Decimal("200"), kind=kind, reference_id=reference)
    ledger_post(user_id=other.pk, amount=Decimal("200"), kind=kind, reference_id=reference)
    with pytest.raises(DuplicateLedgerPosting):
        ledger_post(user_id=user.pk, amount=Decimal("200"), kind=kind, reference_id=reference)
    with pytest.raises(ValueError, match="needs the reference"):
        ledger_post(user_id=user.pk, amount=Decimal("200"), kind=kind)
    assert _balance(user) == Decimal("1200")


# --- volume --------------------------------------------------------------------------------------
def test_the_volume_argument_increments_total_volume(user):
    ledger_post(
        user_id=user.pk, amount=Decimal("-100"), kind=LedgerKind.BET_PLACED, reference_id=uuid4(), volume=Decimal("100")
    )
    ledger_post(
        user_id=user.pk,
        amount=Decimal("-25.5"),
        kind=LedgerKind.BET_PLACED,
        reference_id=uuid4(),
        volume=Decimal("25.5"),
    )
    user.refresh_from_db()
    assert user.total_volume == Decimal("125.50")
    assert user.credit_balance == Decimal("874.50")


def test_postings_without_volume_leave_total_volume_alone(user):
    ledger_post(user_id=user.pk, amount=Decimal("300"), kind=LedgerKind.BET_PAYOUT, reference_id=uuid4())
    user.refresh_from_db()
    assert user.total_volume == Decimal("0")


def test_a_refused_posting_does_not_count_volume(user):
    with pytest.raises(InsufficientBalance):
        ledger_post(
            user_id=user.pk,
            amount=Decimal("-5000"),
            kind=LedgerKind.BET_PLACED,
            reference_id=uuid4(),
            volume=Decimal("5000"),
        )
    user.refresh_from_db()
    assert user.total_volume == Decimal("0")
