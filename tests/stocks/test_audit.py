"""The ledger audit checks stocks too (`manage.py reconcile_ledger`, the hourly job): each stock's supply
is the sum of its holdings, its reserve the curve's integral at that supply, and its trades, the ledger
and its reserve plus the house's take agree. Tampering with any of them is caught and named."""

import logging
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from accounts.models import User
from economy.models import LedgerEntry, LedgerKind
from economy.services import ledger_audit
from economy.tasks import reconcile_ledger
from stocks.models import Holding, Stock
from tests.factories import StockFactory, UserFactory
from tests.helpers.stocks import bought, sold

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def traded(stock):
    """THIS after a few trades by two users, and a second stock nobody touched."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    bought(alice, stock, "12.5")
    bought(bob, stock, "20")
    sold(alice, stock, "2.25")
    StockFactory(symbol="THAT")
    return stock


def findings() -> list[tuple[str, str, str]]:
    return [(f.check, f.subject, f.message) for f in ledger_audit().findings]


def reconcile_failing() -> tuple[str, CommandError]:
    err = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("reconcile_ledger", stdout=StringIO(), stderr=err)
    return err.getvalue(), caught.value


def test_stocks_that_add_up_pass_the_audit(traded):
    out = StringIO()
    call_command("reconcile_ledger", stdout=out, stderr=StringIO())

    assert "OK" in out.getvalue()
    assert findings() == []


def test_a_tampered_holding_is_caught_and_named(traded):
    Holding.objects.filter(user__username="bob").update(shares=F("shares") + D("0.01"))

    assert findings() == [("stocks", "THIS", "supply 30.25 != the sum of its holdings 30.26")]
    err, error = reconcile_failing()
    assert "MISMATCH stocks=THIS supply 30.25 != the sum of its holdings 30.26" in err
    assert "1 audit findings" in str(error)


def test_a_tampered_reserve_is_caught(traded):
    Stock.objects.filter(symbol="THIS").update(reserve=F("reserve") - D("1"))

    assert [message for _, _, message in findings()] == [
        # 302.5 + 0.01·30.25²/2 = 307.0753125, rounded up
        "reserve 306.08 != the curve's integral at supply 30.25, 307.08",
        # 125.79 + 204.50 - 23.20; a cent of rounding is the house's
        "trades took in 307.09 != reserve 306.08 + house take 0.01",
    ]


def test_a_supply_moved_with_its_reserve_still_disagrees_with_the_holdings(traded):
    Stock.objects.filter(symbol="THIS").update(supply=D("40"), reserve=D("408.00"))  # 400 + 0.01·40²/2

    assert [message.split(" != ")[0] for _, _, message in findings()] == ["supply 40.00", "trades took in 307.09"]


def test_a_ledger_row_of_a_trade_changed_with_its_balance_is_caught(traded):
    """The users still reconcile (balance and ledger moved together); the stock's ledger check does not."""
    entry = LedgerEntry.objects.filter(kind=LedgerKind.STOCK_SELL).get()
    LedgerEntry.objects.filter(pk=entry.pk).update(amount=F("amount") + 5, balance_after=F("balance_after") + 5)
    User.objects.filter(pk=entry.user_id).update(credit_balance=F("credit_balance") + 5)

    audit = ledger_audit()

    assert audit.mismatches == []
    assert [(f.subject, f.message) for f in audit.findings] == [
        ("THIS", "its trades' ledger rows add up to -302.09, not -307.09")
    ]


def test_the_hourly_job_counts_and_logs_the_findings(traded, caplog):
    Holding.objects.filter(user__username="alice").update(shares=0, cost_basis=0)

    with caplog.at_level(logging.INFO):
        assert reconcile_ledger() == 1

    (record,) = [r for r in caplog.records if r.getMessage() == "audit finding"]
    assert (record.levelno, record.check, record.subject) == (logging.ERROR, "stocks", "THIS")
