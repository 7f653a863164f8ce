"""A market's page is kept rendered under the catalogue version, like the listing: a Polymarket
market's is served from the cache until a service writes to markets, a credits market's (its odds
move with every trade, which leaves the version alone) is always read anew."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from markets.models import MarketType
from markets.services import OddsUpdate, market_odds_update_many
from tests.factories import MarketFactory, UserFactory
from tests.helpers.betting import place

pytestmark = pytest.mark.django_db


def detail(api_client, market):
    response = api_client.get(f"/api/v1/markets/{market.pk}")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_polymarket_market_page_is_served_from_the_cache(api_client, django_assert_num_queries):
    market = MarketFactory()
    first = detail(api_client, market)

    with django_assert_num_queries(0):
        assert detail(api_client, market) == first


def test_a_cached_market_page_changes_when_a_service_writes_odds(api_client, django_capture_on_commit_callbacks):
    market = MarketFactory(this_odds=Decimal("0.4000"), that_odds=Decimal("0.6000"))
    assert detail(api_client, market)["thisOdds"] == 0.4

    with django_capture_on_commit_callbacks(execute=True):
        market_odds_update_many(
            updates=[OddsUpdate(market_id=market.pk, this_odds=Decimal("0.2000"), that_odds=Decimal("0.8000"))]
        )

    assert detail(api_client, market)["thisOdds"] == 0.2


def test_a_credits_market_page_shows_every_trade_at_once(api_client):
    market = MarketFactory(market_type=MarketType.CREDITS)
    before = detail(api_client, market)["thisOdds"]

    place(UserFactory(), market, "this", "200")

    assert detail(api_client, market)["thisOdds"] > before


def test_every_spelling_of_a_market_id_shares_one_cached_page(api_client, django_assert_num_queries):
    market = MarketFactory()
    spellings = [str(market.pk), str(market.pk).upper(), market.pk.hex, f"{{{market.pk}}}", f"urn:uuid:{market.pk}"]

    first = api_client.get(f"/api/v1/markets/{spellings[0]}")
    with django_assert_num_queries(0):
        others = [api_client.get(f"/api/v1/markets/{spelling}") for spelling in spellings[1:]]

    assert first.status_code == 200 and all(other.content == first.content for other in others)
    assert len(cache.keys("markets:detail:*")) == 1


def test_a_malformed_market_id_is_not_found_and_caches_nothing(api_client):
    response = api_client.get("/api/v1/markets/not-a-uuid")

    assert response.status_code == 404 and response.json()["code"] == "MARKET_NOT_FOUND"
    assert cache.keys("markets:detail:*") == []
