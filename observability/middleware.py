import time

from thisthat.handlers import unknown_endpoint

from . import metrics

# Requests no URL pattern claimed (static files answered by WhiteNoise, the unknown-endpoint 404).
UNMATCHED = "<unmatched>"
# Any other method a client invents is one label, not one each.
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def route_of(request) -> str:
    """The URL pattern that served `request` (e.g. "api/v1/markets/<uuid:market_id>"): a label with
    no ids in it, whatever the path was."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.func is unknown_endpoint:
        return UNMATCHED
    return match.route or "/"


class PrometheusMiddleware:
    """Counts and times every request by route, method and status (first in MIDDLEWARE, so the time
    is the whole of Django's). Installed only with METRICS_ENABLED."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        metrics.http_requests_in_flight.inc()
        try:
            response = self.get_response(request)
        finally:
            metrics.http_requests_in_flight.dec()
        route, method = route_of(request), request.method if request.method in METHODS else "other"
        metrics.request_timer(route, method).observe(time.perf_counter() - started)
        metrics.request_counter(route, method, str(response.status_code)).inc()
        return response
