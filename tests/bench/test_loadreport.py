"""The pure parts of `make loadtest` (bench/loadreport.py) and the bare view's shape."""

import json

import pytest

from bench.bare_urls import PAGE
from bench.loadreport import (
    Measured,
    counted_once,
    exactly_once,
    mixed_table,
    parse_wrk_result,
    scenario_table,
    within_level,
)
from markets.serializers import MarketOutput


def wrk_output(**overrides) -> str:
    data = {
        "requests": 5000,
        "duration_us": 10_000_000,
        "bytes": 123,
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
        "statuses": {},
        "sent": 5000,
        "received": 0,
        "exhausted_threads": 0,
        "latency_us": {"mean": "1500.0", "max": 90_000, "p50": 1200, "p90": 4000, "p95": 5500, "p99": 12_000},
    } | overrides
    return "Running 10s test @ http://127.0.0.1:1\n  2 threads and 32 connections\nLOADTEST " + json.dumps(data)


def test_parse_reads_counts_and_converts_latencies_to_milliseconds():
    result = parse_wrk_result(wrk_output(statuses={"201": 4990, "409": 10}))

    assert result.requests == 5000
    assert result.req_per_s == 500
    assert (result.p50_ms, result.p95_ms, result.p99_ms, result.max_ms) == (1.2, 5.5, 12.0, 90.0)
    assert result.statuses == {201: 4990, 409: 10}


def test_parse_takes_the_last_result_line():
    output = wrk_output(requests=1) + "\n" + wrk_output(requests=2)

    assert parse_wrk_result(output).requests == 2


def test_parse_refuses_output_without_a_result_line():
    with pytest.raises(ValueError, match="no LOADTEST"):
        parse_wrk_result("unable to connect to 127.0.0.1:1 Connection refused")


def test_errors_count_refusals_and_socket_errors_and_say_what_they_are():
    clean = parse_wrk_result(wrk_output(statuses={"201": 100}))
    failing = parse_wrk_result(
        wrk_output(
            statuses={"201": 90, "409": 8, "500": 2},
            errors={"connect": 0, "read": 1, "write": 0, "status": 10, "timeout": 3},
        )
    )

    assert clean.errors_text() == "0"
    assert failing.error_count == 14
    assert failing.errors_text() == "14 (409: 8, 500: 2, read: 1, timeout: 3)"


def test_errors_of_an_untracked_run_are_counted_without_statuses():
    result = parse_wrk_result(wrk_output(errors={"connect": 0, "read": 0, "write": 0, "status": 7, "timeout": 0}))

    assert result.errors_text() == "7 (non-2xx: 7)"
    assert result.ok == 4993


def test_unanswered_is_sent_minus_received_never_negative():
    assert parse_wrk_result(wrk_output(sent=120, received=100)).unanswered == 20
    assert parse_wrk_result(wrk_output(sent=100, received=101)).unanswered == 0


def test_exactly_once_passes_when_every_told_id_is_stored_and_the_rest_went_unanswered():
    check = exactly_once("bets", told=["a", "b"], stored={"a", "b", "c"}, allowed_unseen=1)

    assert check.passed
    assert (check.told, check.stored, check.unseen) == (2, 3, 1)
    assert check.describe().startswith("PASS bets:")


@pytest.mark.parametrize(
    ("told", "stored", "allowed_unseen", "failure"),
    [
        (["a", "a"], {"a"}, 0, "duplicates 1"),
        (["a", "b"], {"a"}, 0, "missing 1"),
        (["a"], {"a", "b", "c"}, 1, "unseen 2"),
    ],
)
def test_exactly_once_fails_on_duplicates_missing_rows_or_too_many_unseen(told, stored, allowed_unseen, failure):
    check = exactly_once("bets", told=told, stored=stored, allowed_unseen=allowed_unseen)

    assert not check.passed
    assert check.describe().startswith("FAIL")
    assert failure in check.describe()


def test_counted_once_compares_counts():
    assert counted_once("claims", told=10, stored=12, allowed_unseen=2).passed
    assert not counted_once("claims", told=10, stored=13, allowed_unseen=2).passed
    assert not counted_once("claims", told=10, stored=9, allowed_unseen=2).passed


def test_within_level_needs_the_p95_under_the_level_and_no_errors():
    fast = parse_wrk_result(wrk_output())  # p95 5.5 ms
    slow = parse_wrk_result(
        wrk_output(latency_us={"mean": "1", "max": 1, "p50": 1, "p90": 1, "p95": 300_000, "p99": 1})
    )
    failing = parse_wrk_result(wrk_output(errors={"connect": 0, "read": 0, "write": 0, "status": 1, "timeout": 0}))

    assert within_level(Measured("GET /markets", 100, fast, "listing")) is True
    assert within_level(Measured("GET /markets", 100, slow, "listing")) is False
    assert within_level(Measured("GET /markets", 100, failing, "listing")) is False
    assert within_level(Measured("GET /bets/me", 10, fast)) is None


def test_scenario_table_gives_each_scenario_its_share_of_the_bare_view_beside_it():
    result = parse_wrk_result(wrk_output())  # 500 req/s

    table = scenario_table(
        [Measured("GET /health", 32, result, bare_req_per_s=2000, load="1.5"), Measured("bare", 32, result)]
    )

    assert table.splitlines()[2] == "| GET /health | 500 | 1.2 | 5.5 | 12 | 0 | 25% | 2,000 | 1.5 |"
    assert table.splitlines()[3] == "| bare | 500 | 1.2 | 5.5 | 12 | 0 | - | - | - |"


def test_mixed_table_judges_each_endpoint_and_sums_the_load():
    fast = parse_wrk_result(wrk_output())
    slow = parse_wrk_result(
        wrk_output(latency_us={"mean": "1", "max": 1, "p50": 1, "p90": 1, "p95": 600_000, "p99": 1})
    )

    lines = mixed_table([Measured("POST /bets", 50, slow, "bets"), Measured("GET /bets/me", 10, fast)]).splitlines()

    assert lines[2].endswith("| bets < 500 ms | **no** |")
    assert lines[3].endswith("| - | - |")
    assert lines[4] == "| **all** | 60 | 1,000 | | | | | | |"


def test_the_bare_page_is_shaped_like_a_cached_market_page():
    assert len(PAGE["markets"]) == PAGE["limit"] == 20
    for market in PAGE["markets"]:
        assert set(market) == set(MarketOutput().fields)
