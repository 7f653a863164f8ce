"""The process's Polymarket clients, built from settings. The jobs share one circuit breaker and one
request budget; reads a user triggers (`/live`) have their own small ones, so anonymous traffic can
neither spend the jobs' budget nor open the breaker that freezes every process's odds."""

import functools

from django.conf import settings

from .client import PolymarketClient, RetryPolicy
from .resilience import CircuitBreaker, RateLimiter

_JOBS = "polymarket"
_LIVE = "polymarket-live"


def circuit_breaker(*, interactive: bool = False) -> CircuitBreaker:
    return CircuitBreaker(
        name=_LIVE if interactive else _JOBS,
        failure_threshold=settings.POLYMARKET_BREAKER_FAILURES,
        reset_timeout=settings.POLYMARKET_BREAKER_RESET_SECONDS,
    )


def rate_limiter(*, interactive: bool = False) -> RateLimiter:
    if interactive:
        return RateLimiter(name=_LIVE, per_minute=settings.POLYMARKET_LIVE_RATE_LIMIT_PER_MINUTE)
    return RateLimiter(name=_JOBS, per_minute=settings.POLYMARKET_RATE_LIMIT_PER_MINUTE)


@functools.cache
def _client(gamma_url: str, clob_url: str, interactive: bool, settings_key: tuple) -> PolymarketClient:
    if interactive:  # a user is waiting: one quick try, never queue for the rate limit
        timeout, retry, rate_limit_wait = (1.0, settings.POLYMARKET_LIVE_TIMEOUT), RetryPolicy(attempts=1), 0.0
    else:
        timeout = (settings.POLYMARKET_CONNECT_TIMEOUT, settings.POLYMARKET_READ_TIMEOUT)
        retry, rate_limit_wait = RetryPolicy(attempts=settings.POLYMARKET_RETRY_ATTEMPTS), 60.0
    return PolymarketClient(
        gamma_url=gamma_url,
        clob_url=clob_url,
        breaker=circuit_breaker(interactive=interactive),
        limiter=rate_limiter(interactive=interactive),
        timeout=timeout,
        retry=retry,
        rate_limit_wait=rate_limit_wait,
        max_response_bytes=settings.POLYMARKET_MAX_RESPONSE_BYTES,
    )


def polymarket_client(*, interactive: bool = False) -> PolymarketClient:
    """One pooled client per process and configuration (settings may change in tests)."""
    settings_key = tuple(
        getattr(settings, name)
        for name in (
            "POLYMARKET_BREAKER_FAILURES",
            "POLYMARKET_BREAKER_RESET_SECONDS",
            "POLYMARKET_RATE_LIMIT_PER_MINUTE",
            "POLYMARKET_LIVE_RATE_LIMIT_PER_MINUTE",
            "POLYMARKET_LIVE_TIMEOUT",
            "POLYMARKET_CONNECT_TIMEOUT",
            "POLYMARKET_READ_TIMEOUT",
            "POLYMARKET_RETRY_ATTEMPTS",
            "POLYMARKET_MAX_RESPONSE_BYTES",
        )
    )
    return _client(settings.POLYMARKET_GAMMA_URL, settings.POLYMARKET_CLOB_URL, interactive, settings_key)
