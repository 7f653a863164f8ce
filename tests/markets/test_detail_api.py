"""Market reads other than the listing: categories, random, detail (SPEC §5 Markets). Live odds and
the ingest trigger are tested with the polymarket app that serves them."""

import uuid

import pytest
from django.utils import timezone

from markets.models import MarketStatus, MarketType, Resolution
from tests.factories import MarketFactory
from tests.helpers.assertions import assert_error
from tests.helpers.markets import MAKER_FIELDS, MARKET_FIELDS

pytestmark = pytest.mark.django_db

MARKETS = "/api/v1/markets"


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
    assert set(body["maker"]) == MAKER_FIELDS
    assert body["liquidity"] == body["maker"]["liquidity"] == 1000
    # b·ln(0.65 / 0.35) = 619.039208 shares of THIS put the maker's price at 0.65.
    assert (body["maker"]["thisShares"], body["maker"]["thatShares"]) == (619.039208, 0)


def test_a_polymarket_market_has_no_maker(api_client):
    market = MarketFactory()

    assert api_client.get(f"{MARKETS}/{market.id}").json()["maker"] is None


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
