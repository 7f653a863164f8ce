"""The staff overview in the admin: today's and the last 30 days' numbers, with daily charts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from activity.models import Activity, ActivityKind
from observability.charts import bar_chart
from observability.selectors import overview
from tests.factories import MarketFactory, UserFactory
from tests.helpers.leaderboard import bet


def place(client, market, amount: str) -> None:
    response = client.post(
        "/api/v1/bets", {"marketId": str(market.pk), "side": "this", "amount": amount}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.fixture
def staff_browser(staff) -> Client:
    browser = Client()
    browser.force_login(staff)
    return browser


@pytest.mark.django_db
def test_the_overview_shows_today_and_the_month_with_charts(staff_browser, client_for):
    market = MarketFactory()
    bettor = UserFactory()
    place(client_for(bettor), market, "120")
    place(client_for(bettor), market, "80")

    response = staff_browser.get("/admin/overview/")

    assert response.status_code == 200
    assert response.context["today"].bets == 2
    assert response.context["today"].wagered == Decimal("200")
    assert response.context["today"].average_bet == Decimal("100.00")
    assert response.context["month"].bets == 2
    assert response.context["open_markets"] == 1
    assert response.context["pending_settlements"] == 0
    assert len(response.context["days"]) == 30
    page = response.content.decode()
    assert page.count("<svg viewBox") == 4  # one chart per series
    assert "Credits wagered" in page
    assert "200.00" in page


@pytest.mark.django_db
def test_the_window_adds_up_its_days_and_counts_each_active_user_once():
    now = timezone.now()
    bettor = UserFactory()  # signed up today
    for days_ago, amount in ((0, "30"), (10, "50"), (29, "20"), (30, "999")):  # the last one is outside
        bet(bettor, amount=amount, placed_at=now - timedelta(days=days_ago))
        Activity.objects.create(kind=ActivityKind.LOGIN, user=bettor, created_at=now - timedelta(days=days_ago))

    found = overview(now=now, days=30)

    assert len(found.days) == 30 and found.today.day == now.date()
    assert (found.today.bets, found.today.wagered) == (1, Decimal("30"))
    assert (found.window.bets, found.window.wagered, found.window.average_bet) == (3, Decimal("100"), Decimal("33.33"))
    assert found.window.signups == 1
    assert found.window.active_users == 1  # active on three of the days: one user
    assert sum(day.active_users for day in found.days) == 3


@pytest.mark.django_db
def test_the_admin_home_links_to_the_overview(staff_browser):
    assert 'href="/admin/overview/"' in staff_browser.get("/admin/").content.decode()


@pytest.mark.django_db
def test_only_staff_see_the_overview(client_for, user):
    anonymous = Client().get("/admin/overview/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/admin/login/")
    member = Client()
    member.force_login(user)
    assert member.get("/admin/overview/").status_code == 302


def test_bars_scale_to_the_largest_value():
    chart = bar_chart("Bets", ["d1", "d2", "d3"], [0, 5, 10], width=300, height=100)
    assert [bar.height for bar in chart.bars] == [0.0, 50.0, 100.0]
    assert [bar.y for bar in chart.bars] == [100.0, 50.0, 0.0]
    assert chart.bars[1].label == "d2: 5"
    assert chart.peak == "10"
    assert all(bar.height == 0 for bar in bar_chart("none", ["a", "b"], [0, 0]).bars)
