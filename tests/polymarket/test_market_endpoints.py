"""The Polymarket-backed market endpoints: live odds, the market with them, and the staff ingest
trigger (SPEC §5 Markets)."""

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import requests
import responses
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from responses import matchers

from markets.models import MarketStatus, MarketType, Resolution
from markets.odds import OddsPair, price_cache_get, price_cache_put_many
from polymarket.connection import circuit_breaker, rate_limiter
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.markets import parse_timestamp

pytestmark = pytest.mark.django_db

MARKETS = "/api/v1/markets"
INGEST = f"{MARKETS}/ingest"
LIVE_FIELDS = {"marketId", "thisOdds", "thatOdds", "source", "fetchedAt", "stale"}


def midpoints_url() -> str:
    return f"{settings.POLYMARKET_CLOB_URL}/midpoints"


def live(client, market) -> dict:
    response = client.get(f"{MARKETS}/{market.id}/live")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body) == LIVE_FIELDS
    assert body["marketId"] == str(market.id)
    return body


def assert_stored(body: dict, market, *, stale: bool) -> None:
    assert body["source"] == "stored"
    assert body["stale"] is stale
    assert (body["thisOdds"], body["thatOdds"]) == (float(market.this_odds), float(market.that_odds))
    assert parse_timestamp(body["fetchedAt"]) == market.odds_updated_at


@pytest.fixture
def clob():
    """Polymarket's CLOB, mocked; any request not registered fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


# --- /markets/{id}/live --------------------------------------------------------------------------
def serve_midpoints(clob, market, this: str, that: str) -> None:
    """CLOB's batch midpoints for both of the market's tokens, asked in one request."""
    clob.post(
        midpoints_url(),
        json={market.this_token_id: this, market.that_token_id: that},
        match=[matchers.json_params_matcher([{"token_id": market.this_token_id}, {"token_id": market.that_token_id}])],
    )


def test_live_odds_from_the_shared_price_cache(api_client, clob):
    market = MarketFactory()
    fetched_at = timezone.now() - timedelta(seconds=3)
    price_cache_put_many({market.id: OddsPair(Decimal("0.4100"), Decimal("0.5900"))}, fetched_at=fetched_at)

    body = live(api_client, market)

    assert (body["source"], body["stale"]) == ("cache", False)
    assert (body["thisOdds"], body["thatOdds"]) == (0.41, 0.59)
    assert parse_timestamp(body["fetchedAt"]) == fetched_at
    assert len(clob.calls) == 0


def test_live_odds_fetch_both_midpoints_in_one_request_then_serve_them_from_the_cache(api_client, clob):
    market = MarketFactory()
    serve_midpoints(clob, market, "0.1745", "0.8255")
    before = timezone.now()

    first = live(api_client, market)

    assert (first["source"], first["stale"]) == ("polymarket", False)
    assert (Decimal(str(first["thisOdds"])), Decimal(str(first["thatOdds"]))) == (Decimal("0.1745"), Decimal("0.8255"))
    assert before <= parse_timestamp(first["fetchedAt"]) <= timezone.now()
    assert len(clob.calls) == 1

    second = live(api_client, market)

    assert second["source"] == "cache"
    assert (second["thisOdds"], second["thatOdds"], second["fetchedAt"]) == (
        first["thisOdds"],
        first["thatOdds"],
        first["fetchedAt"],
    )
    assert len(clob.calls) == 1


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "json": {"error": "unavailable"}},
        {"body": requests.ConnectionError("connection refused")},
        {"body": requests.ReadTimeout("read timed out")},
        {"status": 404, "json": {"error": "No orderbook exists for the requested token id"}},
        {"status": 200, "json": {}},
        {"status": 200, "body": "<html>not json</html>"},
    ],
    ids=["503", "connection-error", "timeout", "404", "no-price", "not-json"],
)
def test_live_odds_fall_back_to_stale_stored_odds_when_the_clob_fails(api_client, clob, failure):
    market = MarketFactory(odds_updated_at=timezone.now() - timedelta(minutes=7))
    clob.post(midpoints_url(), **failure)

    body = live(api_client, market)

    assert_stored(body, market, stale=True)
    assert len(clob.calls) == 1


@pytest.mark.parametrize(
    ("this", "that"),
    [("0.10", "0.10"), ("0.90", "0.90"), ("1.20", "-0.20"), ("0.55", None)],
    ids=["sum-0.2", "sum-1.8", "out-of-range", "one-side-missing"],
)
def test_live_odds_that_do_not_add_up_are_refused_and_never_shared(api_client, clob, this, that):
    market = MarketFactory()
    answer = {market.this_token_id: this} | ({market.that_token_id: that} if that is not None else {})
    clob.post(midpoints_url(), json=answer)

    assert_stored(live(api_client, market), market, stale=True)
    assert price_cache_get(market.id) is None


def test_live_odds_use_their_own_breaker_not_the_jobs_one(api_client, clob):
    market = MarketFactory()
    serve_midpoints(clob, market, "0.1745", "0.8255")
    jobs_breaker = circuit_breaker()
    for _ in range(settings.POLYMARKET_BREAKER_FAILURES):
        jobs_breaker.record_failure()
    assert jobs_breaker.state() == "open"

    assert live(api_client, market)["source"] == "polymarket"


def test_live_odds_do_not_call_polymarket_while_their_breaker_is_open(api_client, clob):
    market = MarketFactory()
    serve_midpoints(clob, market, "0.1745", "0.8255")
    live_breaker = circuit_breaker(interactive=True)
    for _ in range(settings.POLYMARKET_BREAKER_FAILURES):
        live_breaker.record_failure()

    assert_stored(live(api_client, market), market, stale=True)
    assert len(clob.calls) == 0


@override_settings(POLYMARKET_LIVE_RATE_LIMIT_PER_MINUTE=3)
def test_anonymous_live_reads_spend_their_own_budget_never_the_jobs(api_client, clob):
    markets = MarketFactory.create_batch(5)
    for market in markets:
        serve_midpoints(clob, market, "0.5", "0.5")

    bodies = [live(api_client, market) for market in markets]

    assert [body["source"] for body in bodies] == ["polymarket"] * 3 + ["stored"] * 2
    assert len(clob.calls) == 3
    assert rate_limiter().snapshot()["used_this_minute"] == 0
    assert rate_limiter(interactive=True).snapshot()["used_this_minute"] == 3


def test_slow_live_answers_open_only_the_live_breaker(api_client, clob):
    markets = MarketFactory.create_batch(settings.POLYMARKET_BREAKER_FAILURES + 1)
    clob.post(midpoints_url(), body=requests.ReadTimeout("read timed out"))

    for market in markets:
        live(api_client, market)

    assert circuit_breaker(interactive=True).state() == "open"
    assert circuit_breaker().state() == "closed"
    assert len(clob.calls) == settings.POLYMARKET_BREAKER_FAILURES


def test_live_odds_are_503_when_polymarket_is_down_and_no_odds_are_stored(api_client, clob):
    market = MarketFactory(this_odds=None, that_odds=None, odds_updated_at=None)
    clob.post(midpoints_url(), status=503)

    assert_error(api_client.get(f"{MARKETS}/{market.id}/live"), 503, "UPSTREAM_UNAVAILABLE")
    assert len(clob.calls) == 1


@pytest.mark.parametrize(
    "market_kwargs",
    [
        {"market_type": MarketType.CREDITS},
        {"status": MarketStatus.RESOLVED, "resolution": Resolution.THAT},
        {"status": MarketStatus.CLOSED},
    ],
    ids=["credits", "resolved", "closed"],
)
def test_live_odds_of_staff_run_or_settled_markets_are_the_stored_odds_without_http(api_client, clob, market_kwargs):
    market = MarketFactory(**market_kwargs)
    clob.post(midpoints_url(), json={})

    assert_stored(live(api_client, market), market, stale=False)
    assert len(clob.calls) == 0


# --- /markets/{id}/full --------------------------------------------------------------------------
def test_full_is_the_market_and_its_live_odds(api_client, clob):
    market = MarketFactory()
    serve_midpoints(clob, market, "0.2500", "0.7500")

    response = api_client.get(f"{MARKETS}/{market.id}/full")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"market", "live"}
    assert body["market"] == api_client.get(f"{MARKETS}/{market.id}").json()
    assert set(body["live"]) == LIVE_FIELDS
    assert body["live"]["marketId"] == str(market.id)
    assert (body["live"]["source"], body["live"]["thisOdds"], body["live"]["thatOdds"]) == ("polymarket", 0.25, 0.75)
    assert body["market"]["thisOdds"] == 0.65, "the market object keeps the stored odds"


def test_full_is_503_when_live_odds_are_unavailable(api_client, clob):
    market = MarketFactory(this_odds=None, that_odds=None)
    clob.post(midpoints_url(), body=requests.ConnectionError("down"))

    assert_error(api_client.get(f"{MARKETS}/{market.id}/full"), 503, "UPSTREAM_UNAVAILABLE")


# --- POST /markets/ingest ------------------------------------------------------------------------
@pytest.fixture
def apply_async():
    with mock.patch("polymarket.tasks.ingest_markets.apply_async") as patched:
        yield patched


def test_ingest_needs_authentication(api_client, apply_async):
    assert_error(api_client.post(INGEST), 401, "NOT_AUTHENTICATED")
    apply_async.assert_not_called()


def test_ingest_is_staff_only(auth_client, apply_async, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert_error(auth_client.post(INGEST), 403, "PERMISSION_DENIED")
    apply_async.assert_not_called()


def test_staff_ingest_queues_one_run_after_commit(client_for, apply_async, django_capture_on_commit_callbacks):
    staff = client_for(UserFactory(is_staff=True))

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff.post(INGEST)
    apply_async.assert_not_called()

    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"taskId"}
    uuid.UUID(body["taskId"])
    for callback in callbacks:
        callback()
    apply_async.assert_called_once_with(task_id=body["taskId"])


def test_each_ingest_request_gets_its_own_task_id(client_for, apply_async, django_capture_on_commit_callbacks):
    staff = client_for(UserFactory(is_staff=True))

    with django_capture_on_commit_callbacks(execute=True):
        ids = {staff.post(INGEST).json()["taskId"] for _ in range(2)}

    assert len(ids) == 2
    assert {call.kwargs["task_id"] for call in apply_async.call_args_list} == ids


def test_a_broker_outage_when_queueing_an_ingestion_is_logged_not_a_server_error(
    client_for, apply_async, django_capture_on_commit_callbacks
):
    apply_async.side_effect = ConnectionError("broker unreachable")
    staff = client_for(UserFactory(is_staff=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(INGEST)

    assert response.status_code == 202
    apply_async.assert_called_once()


def test_get_on_ingest_is_405_for_staff(client_for, apply_async):
    body = assert_error(client_for(UserFactory(is_staff=True)).get(INGEST), 405, "METHOD_NOT_ALLOWED")
    assert "GET" in body["error"]
    apply_async.assert_not_called()


def test_get_on_ingest_checks_authentication_before_the_method(api_client, apply_async):
    """DRF checks permissions before the method: an anonymous GET learns nothing but 401."""
    assert_error(api_client.get(INGEST), 401, "NOT_AUTHENTICATED")
