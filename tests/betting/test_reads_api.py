"""GET /bets/me, GET /bets/{id} and GET /economy/portfolio (SPEC §5): only the caller's bets,
newest first, filters, validated pagination, constant query counts, portfolio valuation."""

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from betting.models import Bet, BetStatus
from betting.services import bet_sell, market_resolve, market_settle
from markets.models import Resolution
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error
from tests.helpers.betting import BETS_ME, PORTFOLIO, bet_url, money, odds, place, set_odds

pytestmark = pytest.mark.django_db


def place_at(user, market, minutes_ago: int, **kwargs) -> Bet:
    """A bet whose placedAt is `minutes_ago` in the past, so ordering does not hang on clock ticks."""
    bet = place(user, market, **kwargs)
    Bet.objects.filter(pk=bet.pk).update(placed_at=timezone.now() - timedelta(minutes=minutes_ago))
    bet.refresh_from_db()
    return bet


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [bet["id"] for bet in response.json()["bets"]]


# --- /bets/me -------------------------------------------------------------------------------------
def test_my_bets_are_listed_newest_first_in_the_list_envelope(auth_client, user, market):
    oldest = place_at(user, market, 30, amount="10")
    newest = place_at(user, market, 1, amount="20")
    middle = place_at(user, market, 10, amount="30")

    response = auth_client.get(BETS_ME)

    body = response.json()
    assert set(body) == {"bets", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (3, 20, 0)
    assert ids(response) == [str(newest.pk), str(middle.pk), str(oldest.pk)]
    assert body["bets"][0]["market"]["id"] == str(market.pk)


def test_only_the_callers_bets_are_listed(auth_client, user, market):
    mine = place(user, market)
    place(UserFactory(), market)

    response = auth_client.get(BETS_ME)

    assert ids(response) == [str(mine.pk)]
    assert response.json()["total"] == 1


def test_a_user_without_bets_gets_an_empty_page(auth_client):
    body = auth_client.get(BETS_ME).json()

    assert body == {"bets": [], "total": 0, "limit": 20, "offset": 0}


def test_my_bets_can_be_filtered_by_status(auth_client, user, market):
    pending = place_at(user, market, 3)
    sold = place_at(user, market, 2)
    bet_sell(user_id=user.pk, bet_id=sold.pk)

    assert ids(auth_client.get(BETS_ME, {"status": "pending"})) == [str(pending.pk)]
    assert ids(auth_client.get(BETS_ME, {"status": "sold"})) == [str(sold.pk)]
    assert ids(auth_client.get(BETS_ME, {"status": "won"})) == []
    assert auth_client.get(BETS_ME, {"status": "sold"}).json()["total"] == 1


def test_my_bets_can_be_filtered_by_market(auth_client, user, market):
    other_market = MarketFactory()
    here = place_at(user, market, 2)
    place_at(user, other_market, 1)

    response = auth_client.get(BETS_ME, {"marketId": str(market.pk)})

    assert ids(response) == [str(here.pk)]
    assert response.json()["total"] == 1


def test_status_and_market_filters_combine(auth_client, user, market):
    other_market = MarketFactory()
    target = place_at(user, market, 3)
    place_at(user, other_market, 2)
    sold = place_at(user, market, 1)
    bet_sell(user_id=user.pk, bet_id=sold.pk)

    assert ids(auth_client.get(BETS_ME, {"status": "pending", "marketId": str(market.pk)})) == [str(target.pk)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"marketId": "not-a-uuid"}, "marketId"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "abc"}, "offset"),
    ],
)
def test_bad_filters_and_page_parameters_are_validation_errors(auth_client, params, field):
    error = assert_error(auth_client.get(BETS_ME, params), 400, "VALIDATION_ERROR")

    assert field in error["details"], error


def test_my_bets_are_paginated(auth_client, user, market):
    bets = [place_at(user, market, minutes, amount="10") for minutes in range(5, 0, -1)]  # oldest first
    newest_first = [str(bet.pk) for bet in reversed(bets)]

    first = auth_client.get(BETS_ME, {"limit": 2})
    second = auth_client.get(BETS_ME, {"limit": 2, "offset": 2})
    last = auth_client.get(BETS_ME, {"limit": 2, "offset": 4})
    beyond = auth_client.get(BETS_ME, {"limit": 2, "offset": 10})

    assert ids(first) == newest_first[:2]
    assert ids(second) == newest_first[2:4]
    assert ids(last) == newest_first[4:]
    assert ids(beyond) == []
    assert [r.json()["total"] for r in (first, second, last, beyond)] == [5, 5, 5, 5]
    assert (second.json()["limit"], second.json()["offset"]) == (2, 2)


def test_the_largest_page_is_100(auth_client):
    assert auth_client.get(BETS_ME, {"limit": 100}).status_code == 200


def test_listing_my_bets_costs_the_same_queries_for_1_or_20_bets(auth_client, user):
    rich = UserFactory(balance=Decimal("5000"))

    place(user, MarketFactory(), amount="10")
    with CaptureQueriesContext(connection) as one:
        assert len(ids(auth_client.get(BETS_ME))) == 1

    for _ in range(19):
        place(user, MarketFactory(), amount="10")  # each on its own market: no N+1 on market
    place(rich, MarketFactory())
    with CaptureQueriesContext(connection) as twenty:
        assert len(ids(auth_client.get(BETS_ME))) == 20

    assert len(twenty) == len(one), [q["sql"] for q in twenty.captured_queries]


def test_my_bets_need_a_token(api_client):
    assert_error(api_client.get(BETS_ME), 401, "NOT_AUTHENTICATED")


# --- /bets/{id} -----------------------------------------------------------------------------------
def test_the_owner_reads_one_bet(auth_client, user, market):
    bet = place(user, market, side="that", amount="50")

    response = auth_client.get(bet_url(bet))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(bet.pk)
    assert body["side"] == "that"
    assert money(body["amount"]) == Decimal("50")
    assert odds(body["oddsAtBet"]) == Decimal("0.35")
    assert money(body["potentialPayout"]) == Decimal("142.86")
    assert body["status"] == "pending"
    assert body["market"]["title"] == market.title


def test_someone_elses_bet_is_bet_not_found(auth_client, market):
    theirs = place(UserFactory(), market)

    assert_error(auth_client.get(bet_url(theirs)), 404, "BET_NOT_FOUND")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", str(uuid4())])
def test_a_malformed_or_unknown_bet_id_is_bet_not_found(auth_client, bad_id):
    assert_error(auth_client.get(bet_url(bad_id)), 404, "BET_NOT_FOUND")


def test_a_settled_bet_shows_its_payout_and_resolution_time(auth_client, user, market):
    bet = place(user, market, amount="100")
    market_resolve(market_id=market.pk, outcome=Resolution.THIS, source="admin")
    market_settle(market_id=market.pk)

    body = auth_client.get(bet_url(bet)).json()

    assert body["status"] == "won"
    assert money(body["actualPayout"]) == Decimal("153.85")
    assert body["resolvedAt"] is not None
    assert body["market"]["status"] == "resolved"


def test_reading_a_bet_needs_a_token(api_client, user, market):
    bet = place(user, market)

    assert_error(api_client.get(bet_url(bet)), 401, "NOT_AUTHENTICATED")


# --- portfolio ------------------------------------------------------------------------------------
def test_the_portfolio_values_pending_bets_at_the_current_odds(auth_client, user):
    first_market, second_market = MarketFactory(), MarketFactory()
    up = place_at(user, first_market, 2, side="this", amount="100")  # payout 153.85
    down = place_at(user, second_market, 1, side="that", amount="50")  # payout 142.86
    set_odds(first_market, "0.80", "0.20")
    set_odds(second_market, "0.75", "0.25")

    response = auth_client.get(PORTFOLIO)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"creditBalance", "positions", "holdings", "totals"}
    assert body["holdings"] == []
    assert money(body["creditBalance"]) == Decimal("850")
    positions = {position["bet"]["id"]: position for position in body["positions"]}
    assert list(positions) == [str(down.pk), str(up.pk)]  # newest first
    assert set(positions[str(up.pk)]) == {"bet", "currentOdds", "currentValue", "unrealizedPnL"}
    assert odds(positions[str(up.pk)]["currentOdds"]) == Decimal("0.80")
    assert money(positions[str(up.pk)]["currentValue"]) == Decimal("123.08")  # 153.85 x 0.80
    assert money(positions[str(up.pk)]["unrealizedPnL"]) == Decimal("23.08")
    assert odds(positions[str(down.pk)]["currentOdds"]) == Decimal("0.25")  # the THAT side's odds
    assert money(positions[str(down.pk)]["currentValue"]) == Decimal("35.72")  # 142.86 x 0.25 = 35.715
    assert money(positions[str(down.pk)]["unrealizedPnL"]) == Decimal("-14.28")
    assert set(body["totals"]) == {"invested", "currentValue", "unrealizedPnL"}
    assert money(body["totals"]["invested"]) == Decimal("150")
    assert money(body["totals"]["currentValue"]) == Decimal("158.80")
    assert money(body["totals"]["unrealizedPnL"]) == Decimal("8.80")


def test_the_portfolio_holds_pending_bets_only(auth_client, user, market):
    pending = place(user, market, amount="100")
    sold = place(user, market, amount="20")
    bet_sell(user_id=user.pk, bet_id=sold.pk)
    settled_market = MarketFactory()
    place(user, settled_market, amount="30")
    market_resolve(market_id=settled_market.pk, outcome=Resolution.THAT, source="admin")
    market_settle(market_id=settled_market.pk)
    place(UserFactory(), market)  # someone else's

    body = auth_client.get(PORTFOLIO).json()

    assert [position["bet"]["id"] for position in body["positions"]] == [str(pending.pk)]
    assert money(body["totals"]["invested"]) == Decimal("100")
    assert money(body["creditBalance"]) == Decimal(1000 - 100 - 20 - 30) + Decimal("20.00")  # sale at 0.65


def test_an_empty_portfolio_has_zero_totals(auth_client):
    body = auth_client.get(PORTFOLIO).json()

    assert body["positions"] == []
    assert money(body["creditBalance"]) == Decimal("1000")
    assert {key: money(value) for key, value in body["totals"].items()} == {
        "invested": 0,
        "currentValue": 0,
        "unrealizedPnL": 0,
    }


def test_a_position_without_odds_is_listed_but_not_valued(auth_client, user, market):
    place(user, market, amount="100")
    set_odds(market, None, None)

    body = auth_client.get(PORTFOLIO).json()

    (position,) = body["positions"]
    assert (position["currentOdds"], position["currentValue"], position["unrealizedPnL"]) == (None, None, None)
    assert money(body["totals"]["invested"]) == Decimal("100")
    assert money(body["totals"]["currentValue"]) == 0


def test_the_portfolio_costs_the_same_queries_for_1_or_20_positions(auth_client, user):
    place(user, MarketFactory(), amount="10")
    with CaptureQueriesContext(connection) as one:
        assert len(auth_client.get(PORTFOLIO).json()["positions"]) == 1

    for _ in range(19):
        place(user, MarketFactory(), amount="10")
    with CaptureQueriesContext(connection) as twenty:
        assert len(auth_client.get(PORTFOLIO).json()["positions"]) == 20

    assert len(twenty) == len(one), [q["sql"] for q in twenty.captured_queries]


def test_the_portfolio_needs_a_token(api_client):
    assert_error(api_client.get(PORTFOLIO), 401, "NOT_AUTHENTICATED")


def test_settled_bets_keep_their_status_in_my_bets(auth_client, user, market):
    bet = place(user, market)
    Bet.objects.filter(pk=bet.pk).update(status=BetStatus.LOST, actual_payout=0, resolved_at=timezone.now())

    assert ids(auth_client.get(BETS_ME, {"status": "lost"})) == [str(bet.pk)]
