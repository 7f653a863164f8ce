"""Polymarket-backed reads and odds-priced bets with Redis down (issue 10 "Degraded modes")."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from markets.models import Market
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db


@responses.activate
def test_live_odds_without_the_cache_are_the_stored_odds_marked_stale(take_cache_down, api_client):
    market = MarketFactory()
    take_cache_down()

    response = api_client.get(f"/api/v1/markets/{market.pk}/live")

    assert response.status_code == 200, response.content
    assert (response.json()["source"], response.json()["stale"]) == ("stored", True)
    assert len(responses.calls) == 0  # the live budget lives in the cache: no budget, no call


def test_a_bet_without_the_cache_is_priced_from_fresh_stored_odds(take_cache_down, client_for):
    market = MarketFactory()
    client = client_for(UserFactory())
    take_cache_down()

    response = client.post("/api/v1/bets", {"marketId": str(market.pk), "side": "this", "amount": "100"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["bet"]["oddsAtBet"] == 0.65


def test_a_bet_without_the_cache_on_stale_stored_odds_is_refused(take_cache_down, client_for):
    market = MarketFactory()
    Market.objects.filter(pk=market.pk).update(odds_updated_at=timezone.now() - timedelta(minutes=5))
    client = client_for(UserFactory())
    take_cache_down()

    body = {"marketId": str(market.pk), "side": "this", "amount": "100"}
    assert_error(client.post("/api/v1/bets", body, format="json"), 409, "ODDS_UNAVAILABLE")


@pytest.mark.parametrize(
    "url", ["external-apis", "polymarket-rate-limit", "polymarket-circuit-breaker"], ids=lambda url: url
)
def test_staff_monitoring_without_the_cache_says_so(take_cache_down, client_for, url):
    staff = client_for(UserFactory(is_staff=True))
    take_cache_down()

    response = staff.get(f"/api/v1/monitoring/{url}")

    body = assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == str(body["details"]["retryAfter"])
