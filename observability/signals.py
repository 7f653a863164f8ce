"""The hooks that record what every process does: database statements (each new connection gets a
timing wrapper), and Celery tasks (runs, failures, retries, durations; beat's sends; the last
success of each periodic job, kept in the shared cache so any process can report it)."""

import time
from collections.abc import Callable
from typing import Any

from celery import signals as celery_signals
from django.conf import settings
from django.core.cache import cache
from django.db.backends.signals import connection_created

from thisthat.beat import SCHEDULE
from thisthat.cache import cache_or

from . import metrics

JOB_SUCCESS_KEY = "observability:job-success:{job}"
LEDGER_AUDIT_KEY = "observability:ledger-audit-problems"
LEDGER_AUDIT_TASK = "economy.tasks.reconcile_ledger"
# Periodic jobs by task name; the label is the task's own name (e.g. sync_odds).
JOBS = {job.task: job.task.rsplit(".", 1)[-1] for job in SCHEDULE}

_started: dict[str, float] = {}


def _statement(sql: str) -> str:
    keyword = sql.lstrip()[:6].lower()
    return keyword if keyword in {"select", "insert", "update", "delete"} else "other"


def _timed_statement(execute: Callable, sql: str, params: Any, many: bool, context: dict) -> Any:
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        metrics.statement_timer(context["connection"].alias, _statement(sql)).observe(time.perf_counter() - started)


def _on_connection_created(sender, connection, **_) -> None:
    # First in the list: a caller's `with connection.execute_wrapper(...)` pops the last one.
    if _timed_statement not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _timed_statement)


def _on_task_prerun(task_id: str, **_) -> None:
    _started[task_id] = time.perf_counter()


def _on_task_postrun(task_id: str, task, retval: Any = None, state: str | None = None, **_) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        metrics.celery_task_duration.labels(task.name).observe(time.perf_counter() - started)
    metrics.celery_tasks.labels(task.name, state or "UNKNOWN").inc()
    # A periodic job that returned None was skipped (another run held its lock): not a success.
    if state == "SUCCESS" and retval is not None and task.name in JOBS:
        job_succeeded(JOBS[task.name], result=retval if task.name == LEDGER_AUDIT_TASK else None)


def job_succeeded(job: str, *, result: Any = None) -> None:
    """Remember when `job` last succeeded (and, for the ledger audit, how many problems it found)."""
    now = time.time()
    values = {JOB_SUCCESS_KEY.format(job=job): now}
    if job == JOBS[LEDGER_AUDIT_TASK]:
        values[LEDGER_AUDIT_KEY] = int(result or 0)  # the problems it found
    cache_or(lambda: cache.set_many(values, timeout=None), fallback=lambda: None, what="record a job's success")


def _on_beat_init(**_) -> None:
    # Only beat counts what it publishes (the web and the worker publish tasks too).
    celery_signals.before_task_publish.connect(_on_beat_publish, weak=False)
    _export(settings.METRICS_BEAT_PORT)


def _on_worker_ready(**_) -> None:
    _export(settings.METRICS_WORKER_PORT)


def _export(port: int | None) -> None:
    if port:
        from .exporter import serve

        serve(host=settings.METRICS_EXPORTER_HOST, port=port)


def _on_beat_publish(sender: str | None = None, **_) -> None:
    metrics.beat_tasks_sent.labels(sender or "unknown").inc()


def connect() -> None:
    connection_created.connect(_on_connection_created, weak=False)
    celery_signals.task_prerun.connect(_on_task_prerun, weak=False)
    celery_signals.task_postrun.connect(_on_task_postrun, weak=False)
    celery_signals.beat_init.connect(_on_beat_init, weak=False)
    celery_signals.worker_ready.connect(_on_worker_ready, weak=False)
