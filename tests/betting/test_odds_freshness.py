"""Bets and cash-outs are priced only from fresh odds (SPEC §6 "odds used by a bet or cash-out")."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from betting.models import Bet, BetStatus
from markets.models import Market, MarketType
from markets.odds import OddsPair, price_cache_put_many
from tests.factories import MarketFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.betting import BETS, balance_of, payload, place, sell_url

pytestmark = pytest.mark.django_db


def age(market: Market, seconds: int) -> None:
    Market.objects.filter(pk=market.pk).update(odds_updated_at=timezone.now() - timedelta(seconds=seconds))


def test_stored_odds_older_than_the_limit_price_no_bet(auth_client, user):
    market = MarketFactory(this_odds=Decimal("0.40"), that_odds=Decimal("0.60"))
    age(market, 61)

    body = assert_error(auth_client.post(BETS, payload(market, amount="1000"), format="json"), 409, "ODDS_UNAVAILABLE")

    assert body["details"]["ageSeconds"] >= 61
    assert body["details"]["maxAgeSeconds"] == 60
    assert not Bet.objects.exists()
    assert balance_of(user) == Decimal("1000")


def test_fresh_stored_odds_price_the_bet(auth_client):
    market = MarketFactory(this_odds=Decimal("0.40"), that_odds=Decimal("0.60"))
    age(market, 30)

    response = auth_client.post(BETS, payload(market, amount="100"), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["bet"]["oddsAtBet"] == 0.4


def test_the_shared_price_cache_prices_the_bet_when_it_is_newer_than_the_stored_odds(auth_client):
    market = MarketFactory(this_odds=Decimal("0.40"), that_odds=Decimal("0.60"))
    age(market, 600)
    price_cache_put_many({market.id: OddsPair(Decimal("0.5000"), Decimal("0.5000"))}, fetched_at=timezone.now())

    response = auth_client.post(BETS, payload(market, amount="100"), format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["bet"]["oddsAtBet"], response.json()["bet"]["potentialPayout"]) == (0.5, 200.0)


def test_an_older_cached_price_never_beats_fresher_stored_odds(auth_client):
    market = MarketFactory(this_odds=Decimal("0.40"), that_odds=Decimal("0.60"))
    price_cache_put_many(
        {market.id: OddsPair(Decimal("0.5000"), Decimal("0.5000"))}, fetched_at=timezone.now() - timedelta(seconds=5)
    )

    assert auth_client.post(BETS, payload(market), format="json").json()["bet"]["oddsAtBet"] == 0.4


def test_market_without_an_odds_time_takes_no_bet(auth_client):
    market = MarketFactory(odds_updated_at=None)

    body = assert_error(auth_client.post(BETS, payload(market), format="json"), 409, "ODDS_UNAVAILABLE")

    assert body["details"]["ageSeconds"] is None


def test_a_cash_out_at_stale_odds_is_refused_and_the_bet_stays_open(auth_client, user):
    market = MarketFactory(this_odds=Decimal("0.40"), that_odds=Decimal("0.60"))
    bet = place(user, market, amount="1000")
    Market.objects.filter(pk=market.pk).update(this_odds=Decimal("0.50"), that_odds=Decimal("0.50"))
    age(market, 120)

    assert_error(auth_client.post(sell_url(bet), format="json"), 409, "ODDS_UNAVAILABLE")

    bet.refresh_from_db()
    assert bet.status == BetStatus.PENDING
    assert balance_of(user) == Decimal("0")
    assert_ledger_reconciles()


def test_staff_credits_markets_are_exempt_their_odds_are_ours(auth_client, user):
    market = MarketFactory(market_type=MarketType.CREDITS)
    age(market, 30 * 24 * 3600)

    assert auth_client.post(BETS, payload(market), format="json").status_code == 201


@override_settings(ODDS_MAX_AGE_SECONDS=0)
def test_a_limit_of_zero_turns_the_check_off(auth_client):
    market = MarketFactory()
    age(market, 30 * 24 * 3600)

    assert auth_client.post(BETS, payload(market), format="json").status_code == 201
