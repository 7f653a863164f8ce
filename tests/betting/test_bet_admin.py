"""The bets list fits a 1,400 px screen (issue 13): what matters first (when, who, which market,
side, amount, odds, payout, status), the market's title cut short with the whole of it on hover, the
side with what it means, numbers formatted and right-aligned, a short id last."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from tests.factories import MarketFactory, UserFactory
from tests.helpers.betting import place

pytestmark = pytest.mark.django_db

BETS_ADMIN = "/admin/betting/bet/"


def test_the_bet_list_shows_the_columns_that_matter_first(admin_browser):
    market = MarketFactory(title="Will the longest-running question in the catalogue " * 3, this_option="Rex")
    bet = place(UserFactory(username="gambler", balance=Decimal("5000")), market, "this", "2500")

    response = admin_browser.get(BETS_ADMIN)

    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers == [
        "placed (utc)",
        "user",
        "market",
        "side",
        "amount",
        "odds",
        "payout if it wins",
        "status",
        "id",
    ]
    page = response.content.decode()
    row = re.search(r"<tbody>.*?</tr>", page, re.S).group(0)
    assert f'<span title="{market.title}">' in row
    assert "…" in row
    assert "THIS (Rex)" in row
    assert '<td class="field-amount__number">2,500.00</td>' in row
    assert '<td class="field-odds_at_bet__number">0.65</td>' in row
    assert '<td class="field-potential_payout__number">3,846.15</td>' in row
    assert f'<td class="field-pk__id"><span title="{bet.pk}">{str(bet.pk)[:8]}</span></td>' in row


def test_the_list_stylesheet_right_aligns_the_number_columns(admin_browser):
    page = admin_browser.get(BETS_ADMIN).content.decode()

    assert re.search(r'<link rel="stylesheet" href="/static/thisthat/admin\.css">', page)
    css = Path(finders.find("thisthat/admin.css")).read_text()

    assert '#result_list td[class*="__number"]' in css
    assert "text-align: right" in css
