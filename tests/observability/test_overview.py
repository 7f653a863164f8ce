"""The staff overview in the admin: today's and the last 30 days' numbers, with daily charts."""

from decimal import Decimal

import pytest
from django.test import Client

from observability.charts import bar_chart
from tests.factories import MarketFactory, UserFactory


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
    assert response.context["month"]["bets"] == 2
    assert response.context["open_markets"] == 1
    assert response.context["pending_settlements"] == 0
    assert len(response.context["days"]) == 30
    page = response.content.decode()
    assert page.count("<svg viewBox") == 4  # one chart per series
    assert "Credits wagered" in page
    assert "200.00" in page


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
