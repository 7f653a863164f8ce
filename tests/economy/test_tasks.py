"""The economy's periodic job: the hourly ledger audit."""

import logging
from decimal import Decimal

import pytest
from django.db.models import F

from accounts.models import User
from economy.tasks import reconcile_ledger
from tests.factories import UserFactory
from thisthat.locks import cache_lock

pytestmark = pytest.mark.django_db


def test_the_audit_logs_one_error_line_per_mismatch(caplog):
    UserFactory(username="honest")
    for name in ("skimmed", "padded"):
        tampered = UserFactory(username=name)
        User.objects.filter(pk=tampered.pk).update(credit_balance=F("credit_balance") + Decimal("3.5"))

    with caplog.at_level(logging.INFO, logger="economy.tasks"):
        assert reconcile_ledger.delay().get() == 2

    mismatches = [r for r in caplog.records if r.getMessage() == "ledger mismatch"]
    assert {r.username for r in mismatches} == {"skimmed", "padded"}
    assert all(r.levelno == logging.ERROR and r.difference == "3.50" for r in mismatches)


def test_a_clean_ledger_logs_no_error(caplog):
    UserFactory.create_batch(2)
    with caplog.at_level(logging.INFO, logger="economy.tasks"):
        assert reconcile_ledger() == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_audit_skips_while_another_run_holds_the_lock():
    with cache_lock("economy.tasks.reconcile_ledger", timeout=60):
        assert reconcile_ledger() is None
