"""Gauges read at scrape time from the database, the cache and the broker: the PRD's business
numbers, the task queue, the periodic jobs, Polymarket's breaker and budget, database connections.
The database and broker parts are cached (a minute, 15 s), so a scrape costs a few cache reads; a
part that cannot be read is left out and reported by `thisthat_collector_up{part}` = 0."""

import logging
from collections.abc import Iterator
from typing import Any

from amqp.exceptions import ChannelError
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from polymarket.connection import circuit_breaker, rate_limiter
from thisthat.beat import SCHEDULE, Job
from thisthat.cache import cached

from . import selectors
from .signals import JOB_SUCCESS_KEY, JOBS, LEDGER_AUDIT_KEY

logger = logging.getLogger(__name__)

BUSINESS_KEY, BUSINESS_SECONDS = "observability:business", 60
BACKLOG_KEY, BACKLOG_SECONDS = "observability:backlog", 15
BREAKER_STATES = ("closed", "half_open", "open")


def _gauge(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


def job_interval_seconds(job: Job) -> int:
    """How often beat runs `job`: its interval, or an hour / a day for its crontab."""
    if job.every is not None:
        count, unit = job.every
        return count * (60 if unit == "minutes" else 1)
    hour = job.cron[1]
    return 3600 if hour == "*" else 86400


def queue_lengths() -> dict[str, int]:
    """Messages waiting in each queue the workers consume (Redis lists, or the filesystem broker's files)."""
    from thisthat.celery import app

    lengths = {}
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        for name in app.amqp.queues:
            try:
                lengths[name] = channel.queue_declare(queue=name, passive=True).message_count
            except ChannelError:  # not declared yet: no worker has started, nothing was sent
                lengths[name] = 0
    return lengths


def database_connections() -> dict[str, int] | None:
    """PostgreSQL's connections to this database (all, active) and its max_connections; None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active'), current_setting('max_connections')::int "
            "FROM pg_stat_activity WHERE datname = current_database()"
        )
        total, active, maximum = cursor.fetchone()
    return {"total": total, "active": active, "max": maximum}


def _backlog() -> dict[str, Any]:
    return {"queues": queue_lengths(), "database": database_connections()}


class StateCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = _gauge("thisthat_collector_up", "1 when the part of the scrape could be read, else 0.", ["part"])
        for part, families in (
            ("business", self._business),
            ("backlog", self._backlog),
            ("jobs", self._jobs),
            ("polymarket", self._polymarket),
        ):
            try:
                collected = list(families())
            except Exception:  # a part that cannot be read must not hide the others
                logger.warning("metrics part could not be read", extra={"part": part}, exc_info=True)
                up.add_metric([part], 0)
                continue
            up.add_metric([part], 1)
            yield from collected
        yield up

    def _business(self) -> Iterator[Metric]:
        numbers: selectors.Business = cached(
            BUSINESS_KEY, lambda: selectors.business(now=timezone.now()), timeout=BUSINESS_SECONDS
        )
        yield GaugeMetricFamily("thisthat_users", "Accounts.", value=numbers.users)
        active = _gauge("thisthat_active_users", "Users with any activity in the window (1d: DAU).", ["window"])
        bets = _gauge("thisthat_bets_placed", "Bets placed in the window.", ["window"])
        wagered = _gauge("thisthat_credits_wagered", "Credits staked on bets placed in the window.", ["window"])
        average = _gauge("thisthat_average_bet_credits", "Average stake of the bets placed in the window.", ["window"])
        for window in selectors.WINDOWS:
            active.add_metric([window], numbers.active_users[window])
            totals = numbers.bets[window]
            bets.add_metric([window], totals.bets)
            wagered.add_metric([window], float(totals.wagered))
            average.add_metric([window], float(totals.average))
        yield from (active, bets, wagered, average)
        yield GaugeMetricFamily(
            "thisthat_credits_in_circulation", "Sum of all balances.", value=float(numbers.credits_in_circulation)
        )
        yield GaugeMetricFamily("thisthat_credit_debt", "Sum of all credit debts.", value=float(numbers.credit_debt))
        yield GaugeMetricFamily("thisthat_markets_open", "Markets taking bets.", value=numbers.open_markets)
        yield GaugeMetricFamily(
            "thisthat_settlements_late",
            "Resolved or cancelled markets still unsettled 5 minutes after their resolution.",
            value=numbers.late_settlements,
        )
        ranked = _gauge(
            "thisthat_leaderboard_ranked_users", "Users a leaderboard lists, by period and board.", ["period", "board"]
        )
        for (period, board), count in sorted(numbers.ranked_users.items()):
            ranked.add_metric([period, board], count)
        at_rank = _gauge(
            "thisthat_leaderboard_value_at_rank",
            "All-time PnL or volume (credits) of the user at a rank: the board's distribution.",
            ["board", "rank"],
        )
        for (board, rank), value in sorted(numbers.rank_values.items()):
            at_rank.add_metric([board, str(rank)], float(value))
        yield from (ranked, at_rank)
        if numbers.ranks_computed_at is not None:
            yield GaugeMetricFamily(
                "thisthat_leaderboard_computed_timestamp_seconds",
                "When ranks were last recomputed (Unix time).",
                value=numbers.ranks_computed_at.timestamp(),
            )

    def _backlog(self) -> Iterator[Metric]:
        backlog = cached(BACKLOG_KEY, _backlog, timeout=BACKLOG_SECONDS)
        queues = _gauge("thisthat_celery_queue_length", "Tasks waiting in the broker, by queue.", ["queue"])
        for name, length in backlog["queues"].items():
            queues.add_metric([name], length)
        yield queues
        database = backlog["database"]
        if database is not None:
            used = _gauge("thisthat_db_connections", "PostgreSQL connections to this database.", ["state"])
            used.add_metric(["total"], database["total"])
            used.add_metric(["active"], database["active"])
            yield used
            yield GaugeMetricFamily(
                "thisthat_db_connections_max", "PostgreSQL's max_connections.", value=database["max"]
            )

    def _jobs(self) -> Iterator[Metric]:
        names = sorted(set(JOBS.values()))
        keys = {JOB_SUCCESS_KEY.format(job=name): name for name in names}
        found = cache.get_many([*keys, LEDGER_AUDIT_KEY])
        last = _gauge(
            "thisthat_job_last_success_timestamp_seconds",
            "When each periodic job last finished successfully (Unix time); absent until it has.",
            # Not `job`: Prometheus gives every scraped series its own `job` (the scrape's), and would
            # rename ours to `exported_job`.
            ["periodic_job"],
        )
        for key, name in keys.items():
            if key in found:
                last.add_metric([name], found[key])
        interval = _gauge("thisthat_job_interval_seconds", "How often beat runs each periodic job.", ["periodic_job"])
        for job in SCHEDULE:
            interval.add_metric([JOBS[job.task]], job_interval_seconds(job))
        yield from (last, interval)
        audit = found.get(LEDGER_AUDIT_KEY)
        if audit is not None:
            yield GaugeMetricFamily(
                "thisthat_ledger_audit_mismatches",
                "Problems the last ledger audit found (balances off their ledger, stock checks).",
                value=audit,
            )

    def _polymarket(self) -> Iterator[Metric]:
        state = _gauge(
            "thisthat_polymarket_circuit_breaker_state",
            "1 for the breaker's current state (closed, half_open, open), by breaker (jobs, live).",
            ["breaker", "state"],
        )
        remaining = _gauge(
            "thisthat_polymarket_rate_limit_remaining", "Requests left this minute, by budget.", ["breaker"]
        )
        limit = _gauge("thisthat_polymarket_rate_limit", "Requests allowed per minute, by budget.", ["breaker"])
        for name, interactive in (("jobs", False), ("live", True)):
            current = circuit_breaker(interactive=interactive).state()
            for candidate in BREAKER_STATES:
                state.add_metric([name, candidate], 1 if candidate == current else 0)
            budget = rate_limiter(interactive=interactive).snapshot()
            remaining.add_metric([name], budget["remaining_this_minute"])
            limit.add_metric([name], budget["limit_per_minute"])
        yield from (state, remaining, limit)
