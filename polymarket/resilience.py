"""The circuit breaker and the rate limiter for Polymarket, with their state in the shared cache
(Redis in production) so every web and worker process sees the same state."""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.cache import cache


class UpstreamUnavailable(Exception):
    """Polymarket could not be reached (or answered with errors) within our retry budget. `url` and
    `status` (the last HTTP status, if any) end up in the log line of whoever reports it."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class CircuitOpen(UpstreamUnavailable):
    """The breaker is open: calls are refused without touching the network."""


class BudgetExhausted(UpstreamUnavailable):
    """Our own shared request budget for Polymarket is used up."""


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


class CircuitBreaker:
    """closed → open after `failure_threshold` consecutive failures → half-open after
    `reset_timeout` seconds, when one probe call decides between closed and open again."""

    def __init__(
        self,
        *,
        name: str,
        failure_threshold: int,
        reset_timeout: float,
        clock: Callable[[], float] = time.time,
    ):
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self.clock = clock
        self._failures_key = f"{name}:breaker:failures"
        self._opened_key = f"{name}:breaker:opened-at"
        self._probe_key = f"{name}:breaker:probe"

    def state(self) -> str:
        opened_at = cache.get(self._opened_key)
        if opened_at is None:
            return "closed"
        return "open" if self.clock() - opened_at < self.reset_timeout else "half_open"

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go out now (in half-open, only one probe at a time)."""
        state = self.state()
        if state == "open":
            raise CircuitOpen("Polymarket circuit breaker is open")
        if state == "half_open" and not cache.add(self._probe_key, 1, timeout=max(int(self.reset_timeout), 1)):
            raise CircuitOpen("Polymarket circuit breaker is half-open and a probe is in flight")

    def release_probe(self) -> None:
        """Give the half-open probe slot back when the call it was taken for never went out."""
        cache.delete(self._probe_key)

    def record_success(self) -> None:
        cache.delete_many([self._failures_key, self._opened_key, self._probe_key])

    def record_failure(self) -> None:
        if self.state() == "half_open":  # the probe failed: open again for another reset_timeout
            cache.set(self._opened_key, self.clock(), timeout=None)
            cache.delete(self._probe_key)
            return
        cache.add(self._failures_key, 0, timeout=None)
        failures = cache.incr(self._failures_key)
        if failures >= self.failure_threshold:
            cache.add(self._opened_key, self.clock(), timeout=None)

    def snapshot(self) -> dict[str, Any]:
        opened_at = cache.get(self._opened_key)
        return {
            "state": self.state(),
            "consecutive_failures": cache.get(self._failures_key, 0),
            "failure_threshold": self.failure_threshold,
            "reset_timeout_seconds": self.reset_timeout,
            "opened_at": _iso(opened_at),
            "half_open_at": _iso(None if opened_at is None else opened_at + self.reset_timeout),
        }


class RateLimiter:
    """At most `per_minute` requests per clock minute across all processes (a counter per window)."""

    def __init__(
        self,
        *,
        name: str,
        per_minute: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.name = name
        self.per_minute = per_minute
        self.clock = clock
        self.sleep = sleep

    def _key(self, window: int) -> str:
        return f"{self.name}:rate:{window}"

    def acquire(self, *, max_wait: float) -> None:
        """Take one request slot, waiting up to `max_wait` seconds for the next window; else BudgetExhausted."""
        waited = 0.0
        while True:
            now = self.clock()
            window = int(now // 60)
            key = self._key(window)
            cache.add(key, 0, timeout=120)
            if cache.incr(key) <= self.per_minute:
                return
            delay = (window + 1) * 60 - now
            if waited + delay > max_wait:
                raise BudgetExhausted(f"Polymarket request budget of {self.per_minute}/min is used up")
            self.sleep(delay)
            waited += delay

    def snapshot(self) -> dict[str, Any]:
        now = self.clock()
        window = int(now // 60)
        used = min(cache.get(self._key(window), 0), self.per_minute)
        return {
            "limit_per_minute": self.per_minute,
            "used_this_minute": used,
            "remaining_this_minute": self.per_minute - used,
            "window_resets_at": _iso((window + 1) * 60),
        }
