"""Market reads other than the listing, live odds, and the staff ingest trigger (SPEC §5 Markets)."""

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
import requests
import responses
from django.conf import settings
from django.utils import timezone
from responses import matchers

from markets.models import MarketStatus, MarketType, Resolution
from polymarket.connection import circuit_breaker
from polymarket.prices import prices_cache_many
from tests.conftest import assert_error
from tests.factories import MarketFactory, UserFactory
from tests.markets.builders import MARKET_FIELDS, parse_timestamp

pytestmark = pytest.mark.django_db

MARKETS = "/api/v1/markets"
INGEST = f"{MARKETS}/ingest"
LIVE_FIELDS = {"marketId", "thisOdds", "thatOdds", "source", "fetchedAt", "stale"}


def midpoint_url() -> str:
    return f"{settings.POLYMARKET_CLOB_URL}/midpoint"


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


# --- /markets/categories -------------------------------------------------------------------------
def test_categories_count_open_markets_only_busiest_first(api_client):
    MarketFactory.create_batch(3, category="US Politics")
    MarketFactory.create_batch(2, category="Sports")
    MarketFactory.create_batch(5, category="Sports", status=MarketStatus.CLOSED)
    MarketFactory(category="Crypto", status=MarketStatus.RESOLVED, resolution=Resolution.THIS)

    response = api_client.get(f"{MARKETS}/categories")

    assert response.status_code == 200
    assert response.json() == {
        "categories": [
            {"name": "US Politics", "slug": "us-politics", "openMarkets": 3},
            {"name": "Sports", "slug": "sports", "openMarkets": 2},
        ]
    }


def test_categories_are_empty_without_open_markets(api_client):
    MarketFactory(status=MarketStatus.CLOSED)

    assert api_client.get(f"{MARKETS}/categories").json() == {"categories": []}


# --- /markets/random -----------------------------------------------------------------------------
@pytest.fixture
def twelve_open_markets():
    MarketFactory.create_batch(4, status=MarketStatus.CLOSED)
    return {str(market.id) for market in MarketFactory.create_batch(12)}


@pytest.mark.parametrize(("params", "expected_count"), [({}, 10), ({"count": 3}, 3), ({"count": 50}, 12)])
def test_random_returns_distinct_open_markets(api_client, twelve_open_markets, params, expected_count):
    response = api_client.get(f"{MARKETS}/random", params)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"markets"}
    ids = [market["id"] for market in body["markets"]]
    assert len(ids) == len(set(ids)) == expected_count
    assert set(ids) <= twelve_open_markets
    assert all(set(market) == MARKET_FIELDS for market in body["markets"])


@pytest.mark.parametrize("count", ["0", "-1", "51", "abc", "2.5"])
def test_random_rejects_an_invalid_count(api_client, count):
    body = assert_error(api_client.get(f"{MARKETS}/random", {"count": count}), 400, "VALIDATION_ERROR")
    assert list(body["details"]) == ["count"]


# --- /markets/{id} -------------------------------------------------------------------------------
def test_market_detail_is_the_market_object(api_client):
    market = MarketFactory(title="Detail me", market_type=MarketType.CREDITS)

    response = api_client.get(f"{MARKETS}/{market.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == MARKET_FIELDS
    assert (body["id"], body["title"], body["marketType"]) == (str(market.id), "Detail me", "credits")
    assert (body["thisOdds"], body["thatOdds"]) == (0.65, 0.35)


def test_market_detail_shows_settled_markets(api_client):
    market = MarketFactory(status=MarketStatus.CANCELLED, resolution=Resolution.INVALID, resolved_at=timezone.now())

    body = api_client.get(f"{MARKETS}/{market.id}").json()

    assert (body["status"], body["resolution"]) == ("cancelled", "invalid")


@pytest.mark.parametrize("suffix", ["", "/live", "/full"])
@pytest.mark.parametrize(
    "market_id", [str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000", "nope", "123", "x" * 300]
)
def test_unknown_or_malformed_market_id_is_market_not_found(api_client, market_id, suffix):
    MarketFactory()

    assert_error(api_client.get(f"{MARKETS}/{market_id}{suffix}"), 404, "MARKET_NOT_FOUND")


# --- /markets/{id}/live --------------------------------------------------------------------------
def test_live_odds_from_the_shared_price_cache(api_client, clob):
    market = MarketFactory()
    fetched_at = timezone.now() - timedelta(seconds=3)
    prices_cache_many({market.id: (Decimal("0.4100"), Decimal("0.5900"))}, fetched_at=fetched_at)

    body = live(api_client, market)

    assert (body["source"], body["stale"]) == ("cache", False)
    assert (body["thisOdds"], body["thatOdds"]) == (0.41, 0.59)
    assert parse_timestamp(body["fetchedAt"]) == fetched_at
    assert len(clob.calls) == 0


def test_live_odds_fetch_one_clob_midpoint_then_serve_it_from_the_cache(api_client, clob):
    market = MarketFactory()
    clob.get(
        midpoint_url(), json={"mid": "0.1745"}, match=[matchers.query_param_matcher({"token_id": market.this_token_id})]
    )
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
        {"status": 200, "json": {"mid": None}},
        {"status": 200, "body": "<html>not json</html>"},
    ],
    ids=["503", "connection-error", "timeout", "404", "no-price", "not-json"],
)
def test_live_odds_fall_back_to_stale_stored_odds_when_the_clob_fails(api_client, clob, failure):
    market = MarketFactory(odds_updated_at=timezone.now() - timedelta(minutes=7))
    clob.get(midpoint_url(), **failure)

    body = live(api_client, market)

    assert_stored(body, market, stale=True)
    assert len(clob.calls) == 1


def test_live_odds_do_not_call_polymarket_while_the_breaker_is_open(api_client, clob):
    market = MarketFactory()
    clob.get(midpoint_url(), json={"mid": "0.1745"})
    breaker = circuit_breaker()
    for _ in range(settings.POLYMARKET_BREAKER_FAILURES):
        breaker.record_failure()
    assert breaker.state() == "open"

    body = live(api_client, market)

    assert_stored(body, market, stale=True)
    assert len(clob.calls) == 0


def test_live_odds_are_503_when_polymarket_is_down_and_no_odds_are_stored(api_client, clob):
    market = MarketFactory(this_odds=None, that_odds=None, odds_updated_at=None)
    clob.get(midpoint_url(), status=503)

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
    clob.get(midpoint_url(), json={"mid": "0.1745"})

    assert_stored(live(api_client, market), market, stale=False)
    assert len(clob.calls) == 0


# --- /markets/{id}/full --------------------------------------------------------------------------
def test_full_is_the_market_and_its_live_odds(api_client, clob):
    market = MarketFactory()
    clob.get(midpoint_url(), json={"mid": "0.2500"})

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
    clob.get(midpoint_url(), body=requests.ConnectionError("down"))

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
