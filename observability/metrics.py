"""The metrics every process records as it works (prometheus-client; multiprocess mode when
thisthat.multiproc chose a folder). Gauges read from the database and the cache at scrape time are in
`collectors.py`; Polymarket's requests are counted by polymarket (`polymarket/metrics.py`)."""

import functools

from prometheus_client import Counter, Gauge, Histogram

# Seconds; the alert on p95 > 1 s needs a bucket edge at 1.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CALL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
TASK_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)

# route: the URL pattern (e.g. "api/v1/markets/<uuid:market_id>"), never the path with its ids.
http_requests = Counter(
    "thisthat_http_requests", "HTTP requests answered, by route, method and status.", ["route", "method", "status"]
)
http_request_duration = Histogram(
    "thisthat_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
http_requests_in_flight = Gauge(
    "thisthat_http_requests_in_flight", "HTTP requests being answered now.", multiprocess_mode="livesum"
)

db_query_duration = Histogram(
    "thisthat_db_query_duration_seconds",
    "Database statements, by connection alias and statement kind.",
    ["alias", "statement"],
    buckets=CALL_BUCKETS,
)
cache_call_duration = Histogram(
    "thisthat_cache_call_duration_seconds",
    "Calls to the shared cache (Redis), by method.",
    ["call"],
    buckets=CALL_BUCKETS,
)
cache_call_errors = Counter("thisthat_cache_call_errors", "Cache calls that raised, by method.", ["call"])

celery_tasks = Counter(
    "thisthat_celery_tasks",
    "Celery task runs finished, by task and state (SUCCESS, FAILURE, RETRY).",
    ["task", "state"],
)
celery_task_duration = Histogram(
    "thisthat_celery_task_duration_seconds", "Celery task run time, by task.", ["task"], buckets=TASK_BUCKETS
)
beat_tasks_sent = Counter("thisthat_beat_tasks_sent", "Periodic tasks sent by beat, by task.", ["task"])


# The hot paths (every request, statement and cache call) reuse each labelled child: `labels()` takes
# a lock and builds a key each time, a third of what recording costs.
@functools.cache
def request_counter(route: str, method: str, status: str) -> Counter:
    return http_requests.labels(route, method, status)


@functools.cache
def request_timer(route: str, method: str) -> Histogram:
    return http_request_duration.labels(route, method)


@functools.cache
def statement_timer(alias: str, statement: str) -> Histogram:
    return db_query_duration.labels(alias, statement)


@functools.cache
def cache_timer(call: str) -> Histogram:
    return cache_call_duration.labels(call)
