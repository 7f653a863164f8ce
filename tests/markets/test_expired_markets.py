"""A market past its expiry takes no bets, so no read shows it as open (issue 13), whatever its
stored status says (nothing writes the moment a staff market expires): not the listings and their
status filters, not the categories' open counts, random markets, a market's page or a bet's market;
and a cached listing page is dropped when a market on it expires."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from markets.models import MarketStatus, MarketType
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db

LIST = "/api/v1/markets"


@pytest.fixture
def expired():
    return MarketFactory(
        title="expired", market_type=MarketType.CREDITS, category="Office", expires_at=timezone.now() - timedelta(1)
    )


@pytest.fixture
def running():
    return MarketFactory(
        title="running", market_type=MarketType.CREDITS, category="Office", expires_at=timezone.now() + timedelta(1)
    )


def listed(api_client, url: str = LIST, **params) -> dict[str, str]:
    response = api_client.get(url, params)
    assert response.status_code == 200, response.json()
    return {market["title"]: market["status"] for market in response.json()["markets"]}


def test_the_default_listing_leaves_an_expired_market_out(api_client, expired, running):
    assert listed(api_client) == {"running": "open"}
    assert api_client.get(LIST).json()["total"] == 1


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", {"running": "open"}),
        ("closed", {"expired": "closed", "stopped": "closed"}),
        ("all", {"running": "open", "expired": "closed", "stopped": "closed"}),
    ],
)
def test_status_filters_treat_an_expired_market_as_closed(api_client, expired, running, status, expected):
    MarketFactory(title="stopped", status=MarketStatus.CLOSED)

    assert listed(api_client, status=status) == expected


def test_the_category_listing_leaves_an_expired_market_out(api_client, expired, running):
    assert listed(api_client, "/api/v1/markets/category/office") == {"running": "open"}


def test_categories_count_only_markets_still_open(api_client, expired, running):
    body = api_client.get("/api/v1/markets/categories").json()

    assert body["categories"] == [{"name": "Office", "slug": "office", "openMarkets": 1}]


def test_random_markets_are_never_expired_ones(api_client, expired, running):
    body = api_client.get("/api/v1/markets/random", {"count": 10}).json()

    assert [market["title"] for market in body["markets"]] == ["running"]


def test_an_expired_markets_page_says_closed(api_client, expired):
    assert api_client.get(f"{LIST}/{expired.pk}").json()["status"] == "closed"


def test_a_bet_on_an_expired_market_is_market_closed_with_status_closed(client_for, expired):
    client = client_for(UserFactory(balance=Decimal("100")))

    response = client.post("/api/v1/bets", {"marketId": str(expired.pk), "side": "this", "amount": 10}, format="json")

    body = assert_error(response, 409, "MARKET_CLOSED")
    assert body["details"]["status"] == "closed"
    assert body["details"]["expiresAt"]


def test_a_cached_page_lasts_no_longer_than_its_first_market_to_expire(api_client):
    MarketFactory(title="soon", expires_at=timezone.now() + timedelta(seconds=20))
    MarketFactory(title="later", expires_at=timezone.now() + timedelta(days=3))

    assert listed(api_client) == {"soon": "open", "later": "open"}

    [key] = cache.keys("markets:list:*")
    assert 0 < cache.ttl(key) <= 20


def test_a_cached_page_of_markets_without_an_expiry_lasts_the_usual_minute(api_client):
    MarketFactory(title="open ended", expires_at=None)

    assert listed(api_client) == {"open ended": "open"}

    [key] = cache.keys("markets:list:*")
    assert 20 < cache.ttl(key) <= 60
