"""Every writer of markets takes the same locks: the fair per-market advisory lock, then the row."""

from decimal import Decimal

import pytest
from django.db import connection, transaction

from markets.locks import market_lock, markets_lock
from markets.models import MarketType
from markets.services import (
    OddsUpdate,
    market_odds_update_many,
    market_update_credits,
    markets_close,
    markets_upsert_external,
)
from tests.factories import MarketFactory
from tests.helpers.markets import external_market

pytestmark = pytest.mark.django_db


def advisory_locks_held() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND classid = 7301"
        )
        return cursor.fetchone()[0]


def test_the_locks_helpers_take_one_advisory_lock_per_market():
    markets = MarketFactory.create_batch(3)
    with transaction.atomic():
        market_lock(market_id=markets[0].pk, exclusive=False)
        assert advisory_locks_held() == 1
        assert [m.pk for m in markets_lock(market_ids=[m.pk for m in markets])] == sorted(m.pk for m in markets)
        assert advisory_locks_held() == 4  # the shared one, and three exclusive ones


@pytest.mark.parametrize(
    "write",
    [
        lambda market: markets_upsert_external(
            markets=[external_market(polymarket_id=market.polymarket_id, title="Renamed?")]
        ),
        lambda market: markets_close(market_ids=[market.pk]),
        lambda market: market_odds_update_many(updates=[OddsUpdate(market.pk, Decimal("0.5"), Decimal("0.5"))]),
    ],
    ids=["ingestion", "closing", "odds-sync"],
)
def test_polymarket_market_writers_take_the_advisory_lock(write):
    market = MarketFactory()
    with transaction.atomic():
        write(market)
        assert advisory_locks_held() == 1


def test_staff_edits_take_the_advisory_lock():
    market = MarketFactory(market_type=MarketType.CREDITS)
    with transaction.atomic():
        market_update_credits(market_id=market.pk, changes={"title": "Edited"})
        assert advisory_locks_held() == 1
