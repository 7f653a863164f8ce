from typing import Any

from thisthat.cache import CACHE_ERRORS
from thisthat.errors import ServiceUnavailable

from .connection import circuit_breaker, rate_limiter
from .services import last_successes


def _from_cache(read):
    """Breaker, budget and job times live in the cache: without it there is nothing true to show."""
    try:
        return read()
    except CACHE_ERRORS as exc:
        raise ServiceUnavailable(
            "Polymarket monitoring needs the cache, which is unreachable.", retry_after=30
        ) from exc


def external_api_status() -> dict[str, Any]:
    return _from_cache(
        lambda: {
            "polymarket": {
                "circuit_breaker": circuit_breaker().snapshot(),
                "rate_limit": rate_limiter().snapshot(),
                "last_success": last_successes(),
            }
        }
    )


def circuit_breaker_status() -> dict[str, Any]:
    return _from_cache(lambda: circuit_breaker().snapshot())


def rate_limit_status() -> dict[str, Any]:
    return _from_cache(lambda: rate_limiter().snapshot())
