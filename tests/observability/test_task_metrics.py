"""Celery tasks are counted and timed by task name and state; periodic jobs report their last
success, and the ledger audit the problems it found."""

import uuid
from decimal import Decimal

import pytest

from accounts.models import User
from betting.tasks import settle_market
from economy.tasks import reconcile_ledger
from markets.errors import MarketNotFound
from observability.signals import job_succeeded
from thisthat.locks import cache_lock


@pytest.mark.django_db
def test_task_runs_are_counted_and_timed_by_name(scrape):
    before = scrape()
    reconcile_ledger.apply()
    reconcile_ledger.apply()
    after = scrape()
    name = "economy.tasks.reconcile_ledger"
    runs = after.value("thisthat_celery_tasks_total", task=name, state="SUCCESS")
    assert runs - before.value("thisthat_celery_tasks_total", task=name, state="SUCCESS") == 2
    timed = after.value("thisthat_celery_task_duration_seconds_count", task=name)
    assert timed - before.value("thisthat_celery_task_duration_seconds_count", task=name) == 2


@pytest.mark.django_db
def test_failures_are_counted(scrape):
    name = "betting.tasks.settle_market"
    before = scrape()
    # As in a worker: the failure is recorded, not raised into the caller.
    result = settle_market.apply(args=[str(uuid.uuid4())], throw=False)
    assert isinstance(result.result, MarketNotFound)
    after = scrape()
    assert (
        after.value("thisthat_celery_tasks_total", task=name, state="FAILURE")
        - before.value("thisthat_celery_tasks_total", task=name, state="FAILURE")
        == 1
    )


@pytest.mark.django_db
def test_the_last_success_of_each_periodic_job_and_the_audit_result(scrape, user):
    assert scrape().labels_of("thisthat_job_last_success_timestamp_seconds") == []
    reconcile_ledger.apply()
    first = scrape()
    stamp = first.value("thisthat_job_last_success_timestamp_seconds", periodic_job="reconcile_ledger")
    assert stamp > 0
    assert first.value("thisthat_ledger_audit_mismatches") == 0
    assert first.value("thisthat_job_interval_seconds", periodic_job="reconcile_ledger") == 3600
    assert first.value("thisthat_job_interval_seconds", periodic_job="sync_odds") == 30

    User.objects.filter(pk=user.pk).update(credit_balance=user.credit_balance + Decimal("5"))  # off its ledger
    reconcile_ledger.apply()
    assert scrape().value("thisthat_ledger_audit_mismatches") == 1


@pytest.mark.django_db
def test_a_skipped_run_is_not_a_success(scrape):
    # Another run holds the job's lock: the task returns None without doing the work.
    with cache_lock("economy.tasks.reconcile_ledger", timeout=60) as acquired:
        assert acquired
        reconcile_ledger.apply()
    assert scrape().labels_of("thisthat_job_last_success_timestamp_seconds") == []


@pytest.mark.django_db
def test_job_success_is_kept_per_job(scrape):
    job_succeeded("sync_odds")
    jobs = {labels["periodic_job"] for labels in scrape().labels_of("thisthat_job_last_success_timestamp_seconds")}
    assert jobs == {"sync_odds"}
