"""A value outside a choice field's choices is a 400 VALIDATION_ERROR whose message in `details`
names every allowed value (issue 13), for query filters and request bodies alike."""

import pytest

from economy.models import LedgerKind
from tests.factories import MarketFactory
from tests.helpers.assertions import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "field", "allowed"),
    [
        ("/api/v1/markets?status=yes", "status", ["open", "closed", "resolved", "cancelled", "all"]),
        ("/api/v1/markets?type=yes", "type", ["polymarket", "credits"]),
        ("/api/v1/markets?sort=yes", "sort", ["trending", "liquidity", "expires_soon", "newest"]),
        ("/api/v1/markets/category/sports?status=yes", "status", ["open", "closed", "resolved", "cancelled", "all"]),
        ("/api/v1/leaderboard/pnl?period=yes", "period", ["all", "month", "week", "day"]),
        ("/api/v1/leaderboard/volume?period=yes", "period", ["all", "month", "week", "day"]),
    ],
)
def test_a_public_filter_names_its_allowed_values(api_client, url, field, allowed):
    body = assert_error(api_client.get(url), 400, "VALIDATION_ERROR")

    expected = '"yes" is not a valid choice; allowed: ' + ", ".join(f'"{value}"' for value in allowed) + "."
    assert body["details"] == {field: [expected]}
    assert body["error"] == expected


@pytest.mark.parametrize(
    ("url", "field", "allowed"),
    [
        ("/api/v1/bets/me?status=yes", "status", ["pending", "won", "lost", "cancelled", "sold"]),
        ("/api/v1/leaderboard/me?period=yes", "period", ["all", "month", "week", "day"]),
    ],
)
def test_a_filter_of_the_callers_own_lists_names_its_allowed_values(auth_client, url, field, allowed):
    body = assert_error(auth_client.get(url), 400, "VALIDATION_ERROR")

    [message] = body["details"][field]
    assert message == '"yes" is not a valid choice; allowed: ' + ", ".join(f'"{value}"' for value in allowed) + "."


def test_the_transaction_type_filter_names_every_ledger_kind(auth_client):
    body = assert_error(auth_client.get("/api/v1/transactions/me?type=yes"), 400, "VALIDATION_ERROR")

    [message] = body["details"]["type"]
    assert message.startswith('"yes" is not a valid choice; allowed: ')
    for kind in LedgerKind.values:
        assert f'"{kind}"' in message


def test_a_bet_on_an_unknown_side_names_this_and_that(auth_client):
    market = MarketFactory()

    response = auth_client.post(
        "/api/v1/bets", {"marketId": str(market.pk), "side": "yes", "amount": 10}, format="json"
    )

    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["details"] == {"side": ['"yes" is not a valid choice; allowed: "this", "that".']}
