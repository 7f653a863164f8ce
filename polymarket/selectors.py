from typing import Any

from .connection import circuit_breaker, rate_limiter
from .services import last_successes


def external_api_status() -> dict[str, Any]:
    return {
        "polymarket": {
            "circuit_breaker": circuit_breaker().snapshot(),
            "rate_limit": rate_limiter().snapshot(),
            "last_success": last_successes(),
        }
    }
