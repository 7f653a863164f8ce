"""The PRD's business numbers in /metrics match the database, and are computed at most once a
minute however often Prometheus scrapes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from betting.models import Bet
from leaderboard.services import ranks_recompute
from markets.models import MarketStatus, Resolution
from tests.factories import MarketFactory, UserFactory


def place(client, market, amount: str) -> None:
    response = client.post(
        "/api/v1/bets", {"marketId": str(market.pk), "side": "this", "amount": amount}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_business_gauges_match_the_database(scrape, client_for):
    market = MarketFactory()
    MarketFactory(status=MarketStatus.CLOSED)
    late = MarketFactory(status=MarketStatus.RESOLVED, resolution=Resolution.THIS)
    late.resolved_at = timezone.now() - timedelta(minutes=6)
    late.save(update_fields=["resolved_at"])
    MarketFactory(status=MarketStatus.RESOLVED, resolution=Resolution.THIS, resolved_at=timezone.now())
    bettors = [UserFactory() for _ in range(3)]
    UserFactory()  # signed up, never bet
    place(client_for(bettors[0]), market, "100")
    place(client_for(bettors[0]), market, "50")
    place(client_for(bettors[1]), market, "30.50")
    oldest = Bet.objects.order_by("placed_at").first()  # the 100 credits
    Bet.objects.filter(pk=oldest.pk).update(placed_at=timezone.now() - timedelta(days=3))
    run = ranks_recompute()

    numbers = scrape()

    assert numbers.value("thisthat_users") == User.objects.count() == 4
    assert numbers.value("thisthat_bets_placed", window="1d") == 2
    assert numbers.value("thisthat_bets_placed", window="7d") == 3
    assert numbers.value("thisthat_credits_wagered", window="1d") == 80.50
    assert numbers.value("thisthat_credits_wagered", window="30d") == 180.50
    assert numbers.value("thisthat_average_bet_credits", window="30d") == float(Decimal("60.17"))
    assert numbers.value("thisthat_active_users", window="1d") == 2  # the bettors (factory sign-ups have no client)
    balances = User.objects.aggregate(total=Sum("credit_balance"))["total"]
    assert numbers.value("thisthat_credits_in_circulation") == float(balances)
    assert numbers.value("thisthat_credit_debt") == 0
    assert numbers.value("thisthat_markets_open") == 1
    assert numbers.value("thisthat_settlements_late") == 1
    assert numbers.value("thisthat_leaderboard_ranked_users", period="all", board="volume") == 2  # both bettors
    for period, boards in run.ranked.items():
        for board, count in boards.items():
            assert numbers.value("thisthat_leaderboard_ranked_users", period=period, board=board) == count
    top_volume = max(user.total_volume for user in User.objects.all())
    assert numbers.value("thisthat_leaderboard_value_at_rank", board="volume", rank="1") == float(top_volume)
    assert numbers.value("thisthat_collector_up", part="business") == 1


@pytest.mark.django_db
def test_a_scrape_reads_the_database_once_a_minute_at_most(scrape, django_assert_num_queries):
    UserFactory()
    scrape()  # computes and caches
    UserFactory()
    with django_assert_num_queries(0):
        numbers = scrape()
    assert numbers.value("thisthat_users") == 1  # still the cached minute


@pytest.mark.django_db
def test_queue_length_and_database_connections(scrape):
    numbers = scrape()
    assert numbers.value("thisthat_celery_queue_length", queue="celery") >= 0
    assert ("thisthat_celery_queue_length", (("queue", "celery"),)) in numbers
    assert numbers.value("thisthat_db_connections", state="total") >= 1
    assert numbers.value("thisthat_db_connections_max") >= numbers.value("thisthat_db_connections", state="total")
    assert numbers.value("thisthat_collector_up", part="backlog") == 1
