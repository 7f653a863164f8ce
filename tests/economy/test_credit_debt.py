"""Credit debt (economy.rules.funds_after, ledger_post, the audit): a clawback beyond the balance
leaves a debt that later credits pay off first; the balance never goes below 0; the ledger sums to
balance minus debt."""

from decimal import Decimal

import pytest

from economy.errors import InsufficientBalance
from economy.models import LedgerKind
from economy.rules import Funds, funds_after
from economy.services import ledger_audit, ledger_post
from tests.factories import UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import fresh

D = Decimal


@pytest.mark.parametrize(
    ("funds", "amount", "may_leave_debt", "after"),
    [
        (Funds(D("100")), D("-30"), False, Funds(D("70"), D("0"))),
        (Funds(D("100")), D("-100"), False, Funds(D("0"), D("0"))),
        (Funds(D("100")), D("-130"), False, None),  # a debit never overdraws
        (Funds(D("100")), D("-130"), True, Funds(D("0"), D("30"))),  # a clawback leaves the rest as debt
        (Funds(D("0"), D("30")), D("-10"), True, Funds(D("0"), D("40"))),
        (Funds(D("0"), D("30")), D("-10"), False, None),  # in debt: nothing to stake
        (Funds(D("0"), D("30")), D("20"), False, Funds(D("0"), D("10"))),  # credits pay the debt first
        (Funds(D("0"), D("30")), D("50"), False, Funds(D("20"), D("0"))),
    ],
)
def test_funds_after_a_posting(funds, amount, may_leave_debt, after):
    assert funds_after(funds, amount, may_leave_debt=may_leave_debt) == after


@pytest.mark.django_db
def test_only_a_reversal_may_take_more_than_the_balance(user):
    with pytest.raises(InsufficientBalance):
        ledger_post(user_id=user.pk, amount=D("-1001"), kind=LedgerKind.ADMIN_ADJUSTMENT)

    assert fresh(user).credit_balance == D("1000")


@pytest.mark.django_db
def test_the_audit_reconciles_balance_minus_debt_and_names_a_user_whose_debt_is_off(user):
    from accounts.models import User

    User.objects.filter(pk=user.pk).update(credit_balance=0, credit_debt=D("250"))  # debt without a ledger row
    UserFactory()

    audit = ledger_audit()

    assert [(m.username, m.balance, m.debt, m.ledger_total, m.difference) for m in audit.mismatches] == [
        (user.username, D("0"), D("250"), D("1000"), D("-1250"))
    ]
    User.objects.filter(pk=user.pk).update(credit_balance=D("1000"), credit_debt=0)
    assert_ledger_reconciles()
