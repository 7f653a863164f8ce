"""Polymarket's requests as Prometheus counts them (README "Operations"): every attempt the client
makes, by endpoint and outcome, and its time. The breaker's state and the budget left are read from
the shared cache at scrape time (observability)."""

from prometheus_client import Counter, Histogram

# Outcomes: ok, rejected (4xx), throttled (429), server_error (5xx), unreachable (connection error or
# timeout), bad_payload (2xx that is not what we expect); refused before sending: circuit_open,
# budget_exhausted.
requests_total = Counter(
    "thisthat_polymarket_requests", "Polymarket requests attempted, by endpoint and outcome.", ["endpoint", "outcome"]
)
request_duration = Histogram(
    "thisthat_polymarket_request_duration_seconds",
    "Time of Polymarket requests that went out, by endpoint.",
    ["endpoint"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
