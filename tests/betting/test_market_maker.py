"""Credits markets priced by the market maker, through the API: bets buy shares and move the odds,
quotes (POST /bets/quote) match fills, the price-impact cap and the tradable limits, cash-outs sold
back at the maker's price, the odds history, and Polymarket markets left as they were."""

from decimal import Decimal

import pytest
from django.test import override_settings

from betting.models import Bet, BetStatus
from economy.models import LedgerEntry, LedgerKind
from markets import maker
from markets.models import Market, MarketStatus, MarketType, OddsPoint
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_error, assert_ledger_reconciles
from tests.helpers.betting import (
    BETS,
    PORTFOLIO,
    QUOTE,
    QUOTE_KEYS,
    balance_of,
    history_of,
    ledger_rows,
    maker_of,
    money,
    odds,
    payload,
    sell_url,
)

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def credits_market(db) -> Market:
    """A staff market at 50/50 with liquidity 1,000."""
    return MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.5"), that_odds=D("0.5"))


def quote(client, market, **overrides):
    return client.post(QUOTE, payload(market, **overrides), format="json")


def bet(client, market, **overrides):
    return client.post(BETS, payload(market, **overrides), format="json")


# --- bets buy shares and move the odds ---------------------------------------------------------------
def test_a_bet_buys_shares_at_the_average_price_and_moves_the_odds(auth_client, user, credits_market):
    response = bet(auth_client, credits_market, side="this", amount="100")

    assert response.status_code == 201, response.json()
    placed = response.json()["bet"]
    # 1000·ln(1 + (e^0.1 - 1) / 0.5) = 190.9028... shares, rounded down; the average price is 100 / 190.90.
    assert money(placed["potentialPayout"]) == D("190.90")
    assert odds(placed["oddsAtBet"]) == D("0.5238")
    assert balance_of(user) == D("900")
    credits_market.refresh_from_db()
    assert (credits_market.maker_this_shares, credits_market.maker_that_shares) == (D("190.90"), D("0"))
    assert (credits_market.this_odds, credits_market.that_odds) == (D("0.5476"), D("0.4524"))  # 1/(1+e^-0.1909)
    assert history_of(credits_market) == [(D("0.5476"), D("0.4524"), "trade")]
    assert_ledger_reconciles()


def test_each_bet_moves_the_odds_from_where_the_last_one_left_them(client_for, credits_market):
    alice, bob = UserFactory(), UserFactory()

    first = bet(client_for(alice), credits_market, side="this", amount="100").json()["bet"]
    second = bet(client_for(bob), credits_market, side="this", amount="100").json()["bet"]

    expected = maker.buy(maker.buy(maker_of_start(), "this", D(100)).after, "this", D(100))
    assert money(first["potentialPayout"]) == D("190.90")
    assert money(second["potentialPayout"]) == expected.shares < D("190.90")  # dearer: THIS costs more now
    assert maker_of(credits_market) == expected.after
    credits_market.refresh_from_db()
    assert (credits_market.this_odds, credits_market.that_odds) == expected.after.odds()


def maker_of_start() -> maker.MakerState:
    return maker.maker_start(liquidity=D(1000), this_odds=D("0.5"))


def test_a_bet_on_that_makes_this_cheaper(auth_client, credits_market):
    bet(auth_client, credits_market, side="that", amount="250")

    credits_market.refresh_from_db()
    assert credits_market.this_odds < D("0.5") < credits_market.that_odds
    assert credits_market.this_odds + credits_market.that_odds == 1


def test_the_market_detail_shows_the_moved_odds_and_the_maker_state(api_client, auth_client, credits_market):
    bet(auth_client, credits_market, side="this", amount="100")

    body = api_client.get(f"/api/v1/markets/{credits_market.pk}").json()

    assert (odds(body["thisOdds"]), odds(body["thatOdds"])) == (D("0.5476"), D("0.4524"))
    assert body["maker"] == {"liquidity": 1000, "thisShares": 190.9, "thatShares": 0}


# --- quotes -----------------------------------------------------------------------------------------
def test_a_quote_is_what_the_bet_then_gets_when_nothing_moved(auth_client, user, credits_market):
    quoted = quote(auth_client, credits_market, side="that", amount="345.67")
    assert quoted.status_code == 200, quoted.json()
    body = quoted.json()
    assert set(body) == QUOTE_KEYS

    placed = bet(auth_client, credits_market, side="that", amount="345.67").json()["bet"]

    assert money(body["shares"]) == money(body["potentialPayout"]) == money(placed["potentialPayout"])
    assert odds(body["averageOdds"]) == odds(placed["oddsAtBet"])
    credits_market.refresh_from_db()
    assert odds(body["oddsAfter"]) == credits_market.that_odds
    assert odds(body["priceImpact"]) == credits_market.that_odds - D("0.5")


def test_a_quote_writes_nothing(auth_client, user, credits_market):
    before = Market.objects.get(pk=credits_market.pk)

    assert quote(auth_client, credits_market, amount="500").status_code == 200

    after = Market.objects.get(pk=credits_market.pk)
    assert (after.maker_this_shares, after.this_odds, after.updated_at) == (
        before.maker_this_shares,
        before.this_odds,
        before.updated_at,
    )
    assert not Bet.objects.exists()
    assert not LedgerEntry.objects.filter(kind=LedgerKind.BET_PLACED).exists()
    assert not OddsPoint.objects.exists()
    assert balance_of(user) == D("1000")


def test_a_quote_on_a_polymarket_market_is_its_mirrored_odds_with_no_impact(auth_client, market):
    body = quote(auth_client, market, side="this", amount="100").json()

    assert money(body["shares"]) == money(body["potentialPayout"]) == D("153.85")  # 100 / 0.65
    assert odds(body["averageOdds"]) == odds(body["oddsAfter"]) == D("0.65")
    assert body["priceImpact"] == 0


def test_a_quote_does_not_need_the_balance_but_a_bet_does(client_for, credits_market):
    broke = UserFactory(balance=D("5"))
    client = client_for(broke)

    assert quote(client, credits_market, amount="100").status_code == 200
    assert_error(bet(client, credits_market, amount="100"), 400, "INSUFFICIENT_BALANCE")


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"amount": "9.99"}, 400, "INVALID_BET_AMOUNT"),
        ({"amount": "1e3"}, 400, "VALIDATION_ERROR"),
        ({"side": "both"}, 400, "VALIDATION_ERROR"),
        ({"marketId": "00000000-0000-0000-0000-000000000000"}, 404, "MARKET_NOT_FOUND"),
    ],
)
def test_a_quote_refuses_what_a_bet_refuses(auth_client, credits_market, overrides, status, code):
    assert_error(quote(auth_client, credits_market, **overrides), status, code)


def test_a_quote_on_a_closed_market_is_market_closed(auth_client):
    closed = MarketFactory(market_type=MarketType.CREDITS, status=MarketStatus.CLOSED)

    assert_error(quote(auth_client, closed), 409, "MARKET_CLOSED")


def test_a_quote_needs_a_signed_in_user(api_client, credits_market):
    assert_error(quote(api_client, credits_market), 401, "NOT_AUTHENTICATED")


# --- expectedOdds is the average price --------------------------------------------------------------
def test_expected_odds_are_compared_with_the_average_price_on_a_credits_market(auth_client, user, credits_market):
    # 500 credits at 50/50 buy 1000·ln(1 + (e^0.5 - 1) / 0.5) = 831.78 shares: an average of 0.6011 a share,
    # too far from 0.5 ± 0.02.
    refused = bet(auth_client, credits_market, amount="500", expectedOdds="0.5", maxSlippage="0.02")
    body = assert_error(refused, 409, "ODDS_CHANGED")
    assert odds(body["details"]["currentOdds"]) == D("0.6011")
    assert not Bet.objects.exists() and balance_of(user) == D("1000")

    quoted = quote(auth_client, credits_market, amount="500").json()
    placed = bet(auth_client, credits_market, amount="500", expectedOdds=str(quoted["averageOdds"]), maxSlippage="0")

    assert placed.status_code == 201, placed.json()


# --- the price-impact cap and the tradable limits --------------------------------------------------------
@override_settings(MAX_PRICE_IMPACT=D("0.05"))
def test_a_bet_moving_the_odds_more_than_the_cap_is_refused_with_the_most_that_may_be_bet(
    auth_client, user, credits_market
):
    refused = bet(auth_client, credits_market, amount="200")  # would move THIS from 0.5 to 0.5906

    body = assert_error(refused, 409, "PRICE_IMPACT_TOO_LARGE")
    assert body["details"]["maxPriceImpact"] == 0.05
    assert odds(body["details"]["priceImpact"]) == D("0.0906")
    assert money(body["details"]["maxAmount"]) == D("105.36")  # 1000·ln(0.5 / 0.45)
    assert not Bet.objects.exists() and balance_of(user) == D("1000")
    assert maker_of(credits_market) == maker_of_start()
    assert_error(quote(auth_client, credits_market, amount="200"), 409, "PRICE_IMPACT_TOO_LARGE")

    assert bet(auth_client, credits_market, amount="105.36").status_code == 201
    credits_market.refresh_from_db()
    assert credits_market.this_odds == D("0.5500")


def test_the_default_cap_is_20_points(auth_client, credits_market):
    body = assert_error(bet(auth_client, credits_market, amount="600"), 409, "PRICE_IMPACT_TOO_LARGE")

    assert body["details"]["maxPriceImpact"] == 0.2
    assert money(body["details"]["maxAmount"]) == D("510.82")  # to 0.70: 1000·ln(0.5 / 0.3)


@override_settings(MAX_PRICE_IMPACT=D("1"))
def test_a_bet_taking_the_odds_past_099_is_refused(auth_client, user):
    high = MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.98"), that_odds=D("0.02"))

    body = assert_error(bet(auth_client, high, side="this", amount="1000"), 409, "ODDS_LIMIT_REACHED")

    assert odds(body["details"]["oddsAfter"]) > D("0.99")
    assert money(body["details"]["maxAmount"]) == D("693.14")  # 1000·ln(0.02 / 0.01) = 693.147
    assert not Bet.objects.exists() and balance_of(user) == D("1000")


# --- cash-outs sell the shares back to the maker -------------------------------------------------------
def test_a_cash_out_sells_the_shares_back_at_the_maker_price(auth_client, user, credits_market):
    placed = bet(auth_client, credits_market, side="this", amount="100").json()["bet"]

    sold = auth_client.post(sell_url(placed["id"]), {}, format="json")

    assert sold.status_code == 200, sold.json()
    assert money(sold.json()["creditsReceived"]) == D("99.99")  # never more than the stake
    assert balance_of(user) == D("999.99")
    assert maker_of(credits_market) == maker_of_start()  # the shares went back
    credits_market.refresh_from_db()
    assert (credits_market.this_odds, credits_market.that_odds) == (D("0.5"), D("0.5"))
    assert [point[2] for point in history_of(credits_market)] == ["trade", "trade"]
    sale = ledger_rows(kind=LedgerKind.BET_SALE).get()
    assert (sale.amount, sale.settlement_round) == (D("99.99"), 0)
    assert_ledger_reconciles()


def test_a_cash_out_after_others_bet_the_same_way_returns_more(client_for, credits_market):
    alice, bob = UserFactory(), UserFactory()
    placed = bet(client_for(alice), credits_market, side="this", amount="100").json()["bet"]
    bet(client_for(bob), credits_market, side="this", amount="300")

    sold = client_for(alice).post(sell_url(placed["id"]), {}, format="json").json()

    state = maker_of(credits_market)
    assert money(sold["creditsReceived"]) > D("100")
    assert state.this_shares == Bet.objects.get(user=bob).potential_payout  # only bob's shares are out


@override_settings(MAX_PRICE_IMPACT=D("1"))
def test_a_cash_out_taking_the_odds_under_001_is_refused(client_for):
    market = MarketFactory(market_type=MarketType.CREDITS, this_odds=D("0.03"), that_odds=D("0.97"))
    alice, bob = UserFactory(), UserFactory(balance=D("5000"))
    held = bet(client_for(alice), market, side="this", amount="50").json()["bet"]
    push = maker.cost_to_reach(maker_of(market), "that", D("0.989"))
    assert bet(client_for(bob), market, side="that", amount=str(push)).status_code == 201

    refused = client_for(alice).post(sell_url(held["id"]), {}, format="json")

    assert_error(refused, 409, "ODDS_LIMIT_REACHED")
    assert Bet.objects.get(pk=held["id"]).status == BetStatus.PENDING
    assert_ledger_reconciles()


def test_the_portfolio_values_a_credits_position_at_what_a_cash_out_would_pay(auth_client, credits_market):
    bet(auth_client, credits_market, side="this", amount="100")

    position = auth_client.get(PORTFOLIO).json()["positions"][0]

    assert money(position["currentValue"]) == D("99.99")
    assert money(position["unrealizedPnL"]) == D("-0.01")
    assert odds(position["currentOdds"]) == D("0.5476")


# --- Polymarket markets keep their mirrored odds ----------------------------------------------------------
def test_bets_on_a_polymarket_market_leave_its_odds_and_history_alone(client_for, market):
    for amount in ("100", "5000"):
        assert bet(client_for(UserFactory(balance=D("6000"))), market, amount=amount).status_code == 201

    market.refresh_from_db()
    assert (market.this_odds, market.that_odds) == (D("0.65"), D("0.35"))
    assert market.maker_liquidity is None
    assert list(Bet.objects.values_list("potential_payout", flat=True).order_by("amount")) == [
        D("153.85"),
        D("7692.31"),
    ]
    assert not OddsPoint.objects.exists()


# --- the odds history ---------------------------------------------------------------------------------
def test_the_odds_history_lists_the_starting_odds_and_every_trade_oldest_first(api_client, client_for):
    from markets.services import market_create_credits

    market = market_create_credits(title="Will it rain?", this_odds=D("0.4"), that_odds=D("0.6"))
    alice = client_for(UserFactory())
    first = bet(alice, market, side="this", amount="100").json()["bet"]
    bet(alice, market, side="that", amount="50")
    alice.post(sell_url(first["id"]), {}, format="json")

    body = api_client.get(f"/api/v1/markets/{market.pk}/history").json()

    assert (body["marketId"], body["total"], body["limit"], body["offset"]) == (str(market.pk), 4, 500, 0)
    assert [point["source"] for point in body["history"]] == ["staff", "trade", "trade", "trade"]
    assert (body["history"][0]["thisOdds"], body["history"][0]["thatOdds"]) == (0.4, 0.6)
    market.refresh_from_db()
    last = body["history"][-1]
    assert (odds(last["thisOdds"]), odds(last["thatOdds"])) == (market.this_odds, market.that_odds)
    assert all(point["recordedAt"].endswith(("Z", "+00:00")) for point in body["history"])
    page = api_client.get(f"/api/v1/markets/{market.pk}/history", {"limit": 2, "offset": 2}).json()
    assert [point["recordedAt"] for point in page["history"]] == [p["recordedAt"] for p in body["history"][2:]]


def test_the_odds_history_of_an_unknown_market_is_market_not_found(api_client):
    assert_error(api_client.get("/api/v1/markets/not-a-uuid/history"), 404, "MARKET_NOT_FOUND")
