import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from .rates import parse_rate

logger = logging.getLogger(__name__)


class ScopedRateLimit(BaseThrottle):
    """A fixed-window counter per (scope, user or IP) in the shared cache, so every web process
    enforces one limit. A view names its scope with `throttle_scope` (a string, or a dict by HTTP
    method); anything else counts against "default". `RATE_LIMIT_ENABLED=false` turns it off."""

    def allow_request(self, request, view) -> bool:
        if not settings.RATE_LIMIT_ENABLED:
            return True
        scope = getattr(view, "throttle_scope", None)
        if isinstance(scope, dict):
            scope = scope.get(request.method)
        scope = scope or "default"
        limit, period = parse_rate(settings.RATE_LIMITS[scope])
        who = (
            f"user:{request.user.pk}"
            if request.user and request.user.is_authenticated
            else f"ip:{self.get_ident(request)}"
        )
        now = time.time()
        key = f"ratelimit:{scope}:{who}:{int(now // period)}"
        self._wait = period - (now % period)
        try:
            cache.add(key, 0, timeout=period + 1)
            try:
                count = cache.incr(key)
            except ValueError:  # the window expired between add and incr
                cache.set(key, 1, timeout=period + 1)
                count = 1
            cache.touch(key, period + 1)  # the database cache's incr resets the expiry
        except Exception:
            logger.warning("rate limit cache unavailable; allowing request", exc_info=True)
            return True
        return count <= limit

    def wait(self) -> float:
        return self._wait
