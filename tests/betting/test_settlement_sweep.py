from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from betting.models import BetStatus
from betting.tasks import settle_unfinished_markets
from markets.models import Market, MarketStatus, Resolution
from tests.factories import MarketFactory, UserFactory
from tests.helpers.assertions import assert_ledger_reconciles
from tests.helpers.betting import place

pytestmark = pytest.mark.django_db


def resolved_without_settlement(*, minutes_ago: int) -> tuple[Market, object]:
    """A market whose resolution was recorded but whose settlement task never ran."""
    market = MarketFactory()
    bet = place(UserFactory(), market, side="this")
    Market.objects.filter(pk=market.pk).update(
        status=MarketStatus.RESOLVED,
        resolution=Resolution.THIS,
        resolved_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return market, bet


def test_the_sweep_settles_a_market_whose_settlement_never_finished():
    market, bet = resolved_without_settlement(minutes_ago=5)

    assert settle_unfinished_markets.delay().get() == 1

    bet.refresh_from_db()
    market.refresh_from_db()
    assert bet.status == BetStatus.WON
    assert market.settled_at is not None
    assert_ledger_reconciles()


def test_the_sweep_leaves_a_fresh_resolution_to_its_own_task():
    _, bet = resolved_without_settlement(minutes_ago=0)

    assert settle_unfinished_markets.delay().get() == 0

    bet.refresh_from_db()
    assert bet.status == BetStatus.PENDING


def test_a_settled_market_is_not_swept_again():
    market, _ = resolved_without_settlement(minutes_ago=5)
    settle_unfinished_markets.delay().get()

    assert settle_unfinished_markets.delay().get() == 0
    assert Market.objects.get(pk=market.pk).settled_at is not None


def test_the_sweep_runs_every_minute_in_beat():
    task = PeriodicTask.objects.get(task="betting.tasks.settle_unfinished_markets")

    assert (task.interval.every, task.interval.period, task.enabled) == (60, "seconds", True)
