import json
from decimal import Decimal

import pytest
import requests
import responses
from responses import matchers

from polymarket.client import UnexpectedPayload, UpstreamRejected
from polymarket.resilience import BudgetExhausted, CircuitOpen, RateLimiter, UpstreamUnavailable
from tests.helpers.polymarket import CLOB, GAMMA
from tests.polymarket.payloads import gamma_rows, load

KEYSET = f"{GAMMA}/markets/keyset"
TOKEN = "32338220190071351435772801779725302244575775216413325951443816017994629993401"


@responses.activate
def test_a_keyset_page_asks_for_open_tagged_markets_and_returns_the_cursor(client):
    rows = gamma_rows(2)
    responses.get(
        KEYSET,
        json={"markets": rows, "next_cursor": "abc"},
        match=[
            matchers.query_param_matcher(
                {
                    "closed": "false",
                    "archived": "false",
                    "include_tag": "true",
                    "limit": "100",
                    "order": "volume24hr",
                    "ascending": "false",
                }
            )
        ],
    )

    page = client.gamma_markets_page()

    assert page.markets == rows
    assert page.next_cursor == "abc"


@responses.activate
def test_the_cursor_goes_back_as_after_cursor_never_as_cursor(client):
    responses.get(
        KEYSET, json={"markets": []}, match=[matchers.query_param_matcher({"after_cursor": "abc"}, strict_match=False)]
    )

    page = client.gamma_markets_page(after_cursor="abc")

    assert "cursor=" not in responses.calls[0].request.url.replace("after_cursor=", "")
    assert page.next_cursor is None


@responses.activate
@pytest.mark.parametrize("cursor", ["", "LTE=", None])
def test_end_of_listing_cursors_mean_no_next_page(client, cursor):
    responses.get(KEYSET, json={"markets": [], "next_cursor": cursor})

    assert client.gamma_markets_page().next_cursor is None


@responses.activate
@pytest.mark.parametrize("body", [{"data": []}, {"markets": "nope"}, "text"])
def test_a_keyset_answer_without_a_markets_list_is_unexpected(client, body):
    responses.get(KEYSET, json=body)

    with pytest.raises(UnexpectedPayload):
        client.gamma_markets_page()


@responses.activate
def test_a_gamma_market_is_fetched_by_id_with_its_tags(client):
    responses.get(f"{GAMMA}/markets/559651", json=load("gamma_market_open_binary"))

    assert client.gamma_market("559651")["conditionId"].startswith("0xa467")
    assert "include_tag=true" in responses.calls[0].request.url


@responses.activate
def test_a_clob_market_is_fetched_by_condition_id(client):
    market = load("clob_market_open")
    responses.get(f"{CLOB}/markets/{market['condition_id']}", json=market)

    assert client.clob_market(market["condition_id"])["tokens"][0]["token_id"] == TOKEN


@responses.activate
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (load("clob_midpoint"), Decimal("0.1745")),
        ({"mid_price": 0.52}, Decimal("0.52")),
        ({"mid_price": "0.3"}, Decimal("0.3")),
        ({}, None),
        ({"mid": "n/a"}, None),
    ],
)
def test_a_midpoint_is_read_from_either_field_name_as_string_or_number(client, body, expected):
    responses.get(f"{CLOB}/midpoint", json=body, match=[matchers.query_param_matcher({"token_id": TOKEN})])

    assert client.midpoint(TOKEN) == expected


@responses.activate
def test_midpoints_are_fetched_in_one_batch_and_unusable_prices_left_out(client):
    responses.post(
        f"{CLOB}/midpoints",
        json={"t1": "0.45", "t2": 0.55, "t3": None, "t4": {"mid": "0.1"}},
        match=[
            matchers.json_params_matcher(
                [{"token_id": "t1"}, {"token_id": "t2"}, {"token_id": "t3"}, {"token_id": "t4"}]
            )
        ],
    )

    prices = client.midpoints(["t1", "t2", "t3", "t4"])

    assert prices == {"t1": Decimal("0.45"), "t2": Decimal("0.55"), "t4": Decimal("0.1")}
    assert len(responses.calls) == 1


@responses.activate
def test_a_429_is_retried_after_the_time_retry_after_asks_for(client, clock):
    responses.get(f"{CLOB}/midpoint", status=429, headers={"Retry-After": "3"}, json={"error": "slow down"})
    responses.get(f"{CLOB}/midpoint", json={"mid": "0.4"})

    assert client.midpoint(TOKEN) == Decimal("0.4")
    assert clock.sleeps == [3.0]


@responses.activate
def test_a_retry_after_longer_than_we_wait_gives_up_at_once(client, clock):
    responses.get(f"{CLOB}/midpoint", status=429, headers={"Retry-After": "3600"})

    with pytest.raises(UpstreamUnavailable):
        client.midpoint(TOKEN)
    assert clock.sleeps == []
    assert len(responses.calls) == 1


@responses.activate
def test_timeouts_are_retried_with_exponential_backoff_then_reported(client, clock):
    responses.get(f"{CLOB}/midpoint", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(UpstreamUnavailable, match="ReadTimeout"):
        client.midpoint(TOKEN)
    assert len(responses.calls) == 4
    # Equal jitter at 0.5: three quarters of 0.5 s, 1 s, 2 s.
    assert clock.sleeps == [0.375, 0.75, 1.5]


@responses.activate
def test_backoff_jitter_spreads_retries_between_half_and_all_of_the_ceiling(make_client, clock):
    client = make_client(attempts=2)
    client.jitter = lambda: 0.0
    responses.get(f"{CLOB}/midpoint", body=requests.ConnectionError("reset by peer"))
    with pytest.raises(UpstreamUnavailable):
        client.midpoint(TOKEN)
    client.jitter = lambda: 1.0
    with pytest.raises(UpstreamUnavailable):
        client.midpoint(TOKEN)

    assert clock.sleeps == [0.25, 0.5]


@responses.activate
def test_a_connection_error_followed_by_success_returns_the_answer_and_resets_failures(client):
    responses.get(f"{CLOB}/midpoint", body=requests.ConnectionError("reset by peer"))
    responses.get(f"{CLOB}/midpoint", json={"mid": "0.25"})

    assert client.midpoint(TOKEN) == Decimal("0.25")
    assert client.breaker.snapshot()["consecutive_failures"] == 0


@responses.activate
def test_a_4xx_is_not_retried_and_does_not_count_against_the_breaker(client):
    responses.get(f"{CLOB}/midpoint", status=404, json={"error": "No orderbook exists for the requested token id"})

    with pytest.raises(UpstreamRejected) as rejected:
        client.midpoint(TOKEN)
    assert rejected.value.status == 404
    assert len(responses.calls) == 1
    assert client.breaker.state() == "closed"


@responses.activate
def test_an_answer_that_is_not_json_is_unexpected(client):
    responses.get(f"{CLOB}/midpoint", body="<html>oops</html>")

    with pytest.raises(UnexpectedPayload):
        client.midpoint(TOKEN)


@responses.activate
def test_a_burst_of_5xx_opens_the_breaker_and_later_calls_do_not_reach_the_network(client):
    responses.get(f"{CLOB}/midpoint", status=503)

    with pytest.raises(UpstreamUnavailable):
        client.midpoint(TOKEN)  # 4 attempts, 4 failures
    with pytest.raises(CircuitOpen):
        client.midpoint(TOKEN)  # the 5th failure opens it; the retry is refused
    with pytest.raises(CircuitOpen):
        client.midpoint(TOKEN)

    assert len(responses.calls) == 5
    assert client.breaker.state() == "open"


@responses.activate
def test_the_breaker_half_opens_after_the_reset_time_and_a_good_probe_closes_it(client, clock):
    responses.get(f"{CLOB}/midpoint", status=502)
    with pytest.raises(UpstreamUnavailable):
        client.midpoint(TOKEN)
    with pytest.raises(CircuitOpen):
        client.midpoint(TOKEN)
    clock.now += 61
    assert client.breaker.state() == "half_open"
    responses.replace(responses.GET, f"{CLOB}/midpoint", json={"mid": "0.6"})

    assert client.midpoint(TOKEN) == Decimal("0.6")
    assert client.breaker.state() == "closed"
    assert client.breaker.snapshot()["consecutive_failures"] == 0


@responses.activate
def test_a_failed_probe_opens_the_breaker_again_for_a_full_reset_time(client, clock):
    responses.get(f"{CLOB}/midpoint", status=500)
    with pytest.raises(UpstreamUnavailable):
        client.midpoint(TOKEN)
    with pytest.raises(CircuitOpen):
        client.midpoint(TOKEN)
    clock.now += 61
    calls_before = len(responses.calls)

    with pytest.raises(CircuitOpen):
        client.midpoint(TOKEN)  # the probe fails, its retry meets an open breaker

    assert len(responses.calls) == calls_before + 1
    assert client.breaker.state() == "open"
    clock.now += 59
    assert client.breaker.state() == "open"
    clock.now += 2
    assert client.breaker.state() == "half_open"


def test_in_half_open_only_one_probe_is_let_through_at_a_time(client, clock):
    for _ in range(5):
        client.breaker.record_failure()
    clock.now += 61

    client.breaker.before_call()
    with pytest.raises(CircuitOpen):
        client.breaker.before_call()


def test_breaker_state_is_shared_by_every_instance_with_the_same_name(make_client):
    first, second = make_client(), make_client()
    for _ in range(5):
        first.breaker.record_failure()

    assert second.breaker.state() == "open"


@responses.activate
def test_the_shared_rate_limit_refuses_a_call_that_cannot_wait(make_client):
    client = make_client(per_minute=1, rate_limit_wait=0)
    responses.get(f"{CLOB}/midpoint", json={"mid": "0.5"})
    client.midpoint(TOKEN)

    with pytest.raises(BudgetExhausted):
        client.midpoint(TOKEN)
    assert len(responses.calls) == 1


def test_the_rate_limiter_waits_for_the_next_minute_when_allowed(clock):
    clock.now = 1_800_000_030.0  # half way through a minute
    limiter = RateLimiter(name="pm-test", per_minute=2, clock=clock.time, sleep=clock.sleep)
    limiter.acquire(max_wait=0)
    limiter.acquire(max_wait=0)

    limiter.acquire(max_wait=60)

    assert clock.sleeps == [30.0]
    assert limiter.snapshot()["used_this_minute"] == 1


def test_the_rate_limit_budget_is_shared_by_every_limiter_with_the_same_name(clock):
    first = RateLimiter(name="pm-test", per_minute=2, clock=clock.time, sleep=clock.sleep)
    second = RateLimiter(name="pm-test", per_minute=2, clock=clock.time, sleep=clock.sleep)
    first.acquire(max_wait=0)
    second.acquire(max_wait=0)

    with pytest.raises(BudgetExhausted):
        first.acquire(max_wait=0)
    assert json.loads(json.dumps(second.snapshot()))["remaining_this_minute"] == 0


@responses.activate
def test_a_probe_refused_by_our_rate_limit_leaves_the_probe_slot_for_the_next_call(make_client, clock):
    client = make_client(per_minute=1, rate_limit_wait=0)
    for _ in range(5):
        client.breaker.record_failure()
    clock.now += 61
    client.limiter.acquire(max_wait=0)  # this minute's budget is gone
    responses.get(f"{CLOB}/midpoint", json={"mid": "0.5"})

    with pytest.raises(BudgetExhausted):
        client.midpoint(TOKEN)
    clock.now += 60  # a new minute: budget again, and the probe must still be available

    assert client.midpoint(TOKEN) == Decimal("0.5")
    assert client.breaker.state() == "closed"
