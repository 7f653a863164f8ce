"""Rate limits: fixed-window counters in the shared cache, so every web process enforces one limit.

When the cache cannot count, the scopes that guard credentials (FAIL_CLOSED_SCOPES: logins,
registration, sign in with X, password reset) refuse with 503 SERVICE_UNAVAILABLE and a Retry-After — an outage
must not open them to guessing — while every other scope lets the request through (logged), so a
cache outage does not take the product down with it.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from .cache import CACHE_ERRORS, cache_unavailable, counter_incr
from .http import client_address
from .rates import parse_rate

FAIL_CLOSED_SCOPES = frozenset({"register", "login", "x_login", "password_reset", "admin_login"})
# How long a client refused for a cache outage is told to wait: Redis restarts take seconds.
OUTAGE_RETRY_AFTER = 30


@dataclass(frozen=True)
class Hit:
    allowed: bool
    wait: float  # seconds until the window resets


def rate_limit_hit(scope: str, ident: str) -> Hit:
    """Count one request of `ident` (e.g. "ip:1.2.3.4") against `scope`'s limit in the current window.

    Raises ServiceUnavailable for a fail-closed scope when the cache cannot count; other scopes are
    allowed then.
    """
    limit, period = parse_rate(settings.RATE_LIMITS[scope])
    now = time.time()
    wait = period - (now % period)
    try:
        count = counter_incr(f"ratelimit:{scope}:{ident}:{int(now // period)}", ttl=period + 1)
    except CACHE_ERRORS as exc:
        if scope in FAIL_CLOSED_SCOPES:
            # Imported here: errors imports DRF's views, which import this module (DEFAULT_THROTTLE_CLASSES).
            from .errors import ServiceUnavailable

            cache_unavailable(f"rate limit {scope}: refused", exc)
            raise ServiceUnavailable(retry_after=OUTAGE_RETRY_AFTER) from exc
        cache_unavailable(f"rate limit {scope}: allowed", exc)
        return Hit(allowed=True, wait=0)
    return Hit(allowed=count <= limit, wait=wait)


def retry_after_seconds(wait: float) -> int:
    """Whole seconds, rounded up, so a client that waits that long is let in."""
    return max(1, math.ceil(wait))


class ScopedRateLimit(BaseThrottle):
    """Per (scope, user or client address). A view names its scope with `throttle_scope` (a string,
    or a dict by HTTP method); anything else counts against "default". `RATE_LIMIT_ENABLED=false`
    turns it off."""

    def allow_request(self, request, view) -> bool:
        if not settings.RATE_LIMIT_ENABLED:
            return True
        scope = getattr(view, "throttle_scope", None)
        if isinstance(scope, dict):
            scope = scope.get(request.method)
        scope = scope or "default"
        who = (
            f"user:{request.user.pk}"
            if request.user and request.user.is_authenticated
            else f"ip:{self.get_ident(request)}"
        )
        hit = rate_limit_hit(scope, who)
        self._wait = hit.wait
        return hit.allowed

    def get_ident(self, request) -> str:
        return client_address(request)

    def wait(self) -> float:
        return self._wait
