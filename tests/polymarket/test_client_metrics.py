"""Every Polymarket request is counted by endpoint and outcome (thisthat_polymarket_requests_total),
including the calls the breaker or the budget refused before anything went out."""

import pytest
import requests
import responses
from prometheus_client import REGISTRY

from polymarket.resilience import BudgetExhausted, CircuitOpen, UpstreamUnavailable
from tests.helpers.polymarket import CLOB


def counted(endpoint: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("thisthat_polymarket_requests_total", {"endpoint": endpoint, "outcome": outcome})
    return value or 0.0


def timed(endpoint: str) -> float:
    value = REGISTRY.get_sample_value("thisthat_polymarket_request_duration_seconds_count", {"endpoint": endpoint})
    return value or 0.0


@pytest.fixture
def before():
    def of(endpoint: str, outcome: str) -> float:
        return counted(endpoint, outcome) - of.start.get((endpoint, outcome), 0.0)

    of.start = {
        (endpoint, outcome): counted(endpoint, outcome)
        for endpoint in ("clob_midpoint", "clob_market")
        for outcome in ("ok", "server_error", "unreachable", "rejected", "circuit_open", "budget_exhausted")
    }
    return of


@responses.activate
def test_answers_and_failures_are_counted_per_attempt(make_client, before):
    client = make_client(attempts=3)
    timed_before = timed("clob_midpoint")
    responses.get(f"{CLOB}/midpoint", status=503)
    responses.get(f"{CLOB}/midpoint", body=requests.ConnectionError("refused"))
    responses.get(f"{CLOB}/midpoint", json={"mid": "0.5"})
    assert str(client.midpoint("t1")) == "0.5"
    assert before("clob_midpoint", "server_error") == 1
    assert before("clob_midpoint", "unreachable") == 1
    assert before("clob_midpoint", "ok") == 1
    assert timed("clob_midpoint") - timed_before == 3  # each attempt that went out is timed


@responses.activate
def test_rejections_and_refusals_are_counted(make_client, before):
    responses.get(f"{CLOB}/markets/0xabc", status=404)
    with pytest.raises(Exception, match="404"):
        make_client().clob_market("0xabc")
    assert before("clob_market", "rejected") == 1

    breaking = make_client(attempts=1)
    responses.get(f"{CLOB}/midpoint", status=500)
    for _ in range(5):  # the breaker's threshold
        with pytest.raises(UpstreamUnavailable):
            breaking.midpoint("t1")
    with pytest.raises(CircuitOpen):
        breaking.midpoint("t1")
    assert before("clob_midpoint", "circuit_open") == 1

    with pytest.raises(BudgetExhausted):
        limited = make_client(per_minute=0, rate_limit_wait=0)
        limited.breaker.record_success()
        limited.midpoint("t1")
    assert before("clob_midpoint", "budget_exhausted") == 1
