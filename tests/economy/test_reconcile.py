"""`manage.py reconcile_ledger`: every balance equals the sum of its ledger rows (SPEC §6)."""

import os
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path
from urllib.parse import quote
from uuid import uuid4

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F

from accounts.models import User
from economy.models import LedgerEntry, LedgerKind
from economy.services import ledger_post
from tests.factories import UserFactory

REPO = Path(__file__).resolve().parents[2]


def _reconcile() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reconcile_ledger", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _reconcile_failing() -> tuple[str, str, CommandError]:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("reconcile_ledger", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue(), caught.value


@pytest.mark.django_db
def test_reconcile_prints_ok_on_a_clean_ledger():
    users = UserFactory.create_batch(3)
    ledger_post(user_id=users[0].pk, amount=Decimal("-250.75"), kind=LedgerKind.BET_PLACED, reference_id=uuid4())
    ledger_post(user_id=users[1].pk, amount=Decimal("80"), kind=LedgerKind.BET_PAYOUT, reference_id=uuid4())
    out, err = _reconcile()
    assert "OK" in out
    assert "3 users" in out
    assert err == ""


@pytest.mark.django_db
def test_reconcile_is_ok_with_no_users():
    out, _ = _reconcile()
    assert "OK" in out


@pytest.mark.django_db
def test_reconcile_fails_naming_a_user_whose_balance_was_tampered_with():
    UserFactory(username="honest_abe")
    tampered = UserFactory(username="tampered_tim")
    User.objects.filter(pk=tampered.pk).update(credit_balance=F("credit_balance") + Decimal("5.50"))

    out, err, error = _reconcile_failing()

    assert "tampered_tim" in err
    assert str(tampered.pk) in err
    assert "honest_abe" not in err
    assert "1005.50" in err
    assert "1 of 2 users" in str(error)
    assert "OK" not in out


@pytest.mark.django_db
def test_reconcile_reports_a_tampered_ledger_row_too():
    user = UserFactory(username="ledger_edit")
    LedgerEntry.objects.filter(user=user).update(amount=Decimal("999"))
    _, err, _ = _reconcile_failing()
    assert "ledger_edit" in err


@pytest.mark.django_db
def test_reconcile_reports_a_user_with_no_ledger_rows_and_a_balance():
    ghost = User(username="ghost_money", email="ghost@example.com", credit_balance=Decimal("50"))
    ghost.set_unusable_password()
    ghost.save()
    assert not LedgerEntry.objects.filter(user=ghost).exists()

    _, err, error = _reconcile_failing()

    assert "ghost_money" in err
    assert "ledger=0" in err
    assert "1 of 1 users" in str(error)


@pytest.mark.django_db
def test_reconcile_accepts_a_user_with_no_ledger_rows_and_a_zero_balance():
    quiet = User(username="no_rows", email="no_rows@example.com")
    quiet.set_unusable_password()
    quiet.save()
    out, err = _reconcile()
    assert "OK" in out
    assert "no_rows" not in err


@pytest.mark.django_db
def test_reconcile_lists_every_mismatch():
    UserFactory(username="clean_carol")
    for name in ("bad_one", "bad_two"):
        bad = UserFactory(username=name)
        User.objects.filter(pk=bad.pk).update(credit_balance=Decimal("1"))
    _, err, error = _reconcile_failing()
    assert "bad_one" in err
    assert "bad_two" in err
    assert "clean_carol" not in err
    assert "2 of 3 users" in str(error)


def _database_url(database: dict) -> str:
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    return f"postgres://{credentials}@{database['HOST']}:{database['PORT'] or 5432}/{database['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_manage_py_reconcile_ledger_exits_non_zero_on_a_mismatch():
    """The real command line an operator runs, against this test's (committed) database."""
    UserFactory(username="clean_cli")
    tampered = UserFactory(username="tampered_cli")

    def run() -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "thisthat.settings.test",
            "DATABASE_URL": _database_url(connection.settings_dict),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        return subprocess.run(
            [sys.executable, "manage.py", "reconcile_ledger"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    clean = run()
    assert clean.returncode == 0, clean.stderr
    assert "OK" in clean.stdout

    User.objects.filter(pk=tampered.pk).update(credit_balance=Decimal("7"))
    broken = run()
    assert broken.returncode != 0
    assert "tampered_cli" in broken.stderr
    assert "clean_cli" not in broken.stderr
