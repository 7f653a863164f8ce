"""A market's page is kept rendered under the catalogue version, like the listing: a Polymarket
market's is served from the cache until a service writes to markets, a credits market's (its odds
move with every trade, which leaves the version alone) is always read anew."""

from decimal import Decimal

import pytest

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
