"""The economy's periodic jobs: the hourly ledger audit and the idempotency-key purge."""

import importlib
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from economy.models import IdempotencyKey
from economy.tasks import purge_idempotency_keys, reconcile_ledger
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


def test_the_purge_forgets_keys_older_than_the_ttl(user, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 48
    with time_machine.travel(timezone.now() - timedelta(hours=49)):
        IdempotencyKey.objects.create(user=user, key="old", scope="purchases", request_fingerprint="a")
    with time_machine.travel(timezone.now() - timedelta(hours=25)):
        IdempotencyKey.objects.create(user=user, key="day-old", scope="purchases", request_fingerprint="b")

    assert purge_idempotency_keys() == 1

    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"day-old"}


def test_both_jobs_are_scheduled_in_beat():
    audit = PeriodicTask.objects.get(task="economy.tasks.reconcile_ledger")
    assert audit.enabled and audit.crontab.hour == "*" and audit.crontab.minute.isdigit()
    purge = PeriodicTask.objects.get(task="economy.tasks.purge_idempotency_keys")
    assert purge.enabled and purge.crontab.hour.isdigit()


def test_the_schedule_migration_is_repeatable():
    add = importlib.import_module("economy.migrations.0004_economy_schedules").add_schedules
    add(apps, None)
    assert PeriodicTask.objects.filter(task="economy.tasks.reconcile_ledger").count() == 1
