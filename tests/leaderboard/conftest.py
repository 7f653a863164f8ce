"""Fixtures of the leaderboard tests (their helpers and oracle are in tests/helpers/leaderboard.py)."""

import pytest

from markets.models import Market, MarketType
from tests.factories import MarketFactory


@pytest.fixture
def market(db) -> Market:
    # Staff-run: its odds never go stale however far the tests travel in time.
    return MarketFactory(market_type=MarketType.CREDITS)
