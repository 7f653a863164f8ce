"""GET /bets/me and GET /economy/portfolio cost a fixed number of queries however many bets the page
or the portfolio holds (issue 12): the bets with their markets in one query, never one per bet."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from betting.models import BetStatus
from tests.helpers.leaderboard import bet

pytestmark = pytest.mark.django_db

BETS_ME = "/api/v1/bets/me"
PORTFOLIO = "/api/v1/economy/portfolio"


def _queries(client, url: str) -> list[str]:
    """The endpoint's own queries: those of authentication (the caller's row, at most) left out."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    queries = [query["sql"] for query in captured.captured_queries]
    own = [sql for sql in queries if 'FROM "accounts_user"' not in sql]
    assert len(queries) - len(own) <= 1, queries
    return own


@pytest.mark.parametrize("bets", [1, 30])
def test_my_bets_page_is_a_count_and_one_query_for_the_bets_with_their_markets(auth_client, user, bets):
    for n in range(bets):  # each on a market of its own
        bet(user, amount="10", placed_at=timezone.now(), status=BetStatus.LOST if n % 2 else BetStatus.PENDING)

    queries = _queries(auth_client, BETS_ME)

    assert len(queries) == 2, queries
    page, count = sorted(queries, key=lambda sql: "COUNT(" in sql)
    assert "COUNT(" in count and 'JOIN "markets_market"' in page


@pytest.mark.parametrize("bets", [1, 30])
def test_the_portfolio_is_one_query_for_the_pending_bets_and_one_for_the_holdings(auth_client, user, bets):
    for _ in range(bets):  # each on a market of its own
        bet(user, amount="10", placed_at=timezone.now())

    queries = _queries(auth_client, PORTFOLIO)

    assert len(queries) == 2, queries
