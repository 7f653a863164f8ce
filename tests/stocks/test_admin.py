"""Staff and stocks in the admin: list a stock (symbol unique and upper-case, a curve within bounds),
edit it through the service (the symbol and curve fixed from the first trade), halt and resume trading,
and read holders and trades (read-only)."""

from decimal import Decimal

import pytest

from stocks.models import Stock
from tests.factories import StockFactory, UserFactory
from tests.helpers.stocks import bought

pytestmark = pytest.mark.django_db

D = Decimal
CHANGELIST = "/admin/stocks/stock/"
ADD = f"{CHANGELIST}add/"


def change_url(stock) -> str:
    return f"{CHANGELIST}{stock.pk}/change/"


def stock_form(**overrides) -> dict:
    form = {
        "symbol": "this",
        "name": "THIS Inc.",
        "description": "Backs THIS.",
        "image_url": "https://example.com/this.png",
        "curve": "linear",
        "base_price": "10",
        "slope": "0.01",
        "trading_enabled": "on",
    }
    return {**form, **overrides}


def test_staff_list_a_stock_whose_symbol_is_stored_upper_case(admin_browser):
    response = admin_browser.post(ADD, stock_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    stock = Stock.objects.get()
    assert (stock.symbol, stock.name, stock.base_price, stock.slope, stock.trading_enabled) == (
        "THIS",
        "THIS Inc.",
        D(10),
        D("0.01"),
        True,
    )
    assert (stock.supply, stock.reserve) == (0, 0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"symbol": "1AB"}, "upper-case letters and digits"),
        ({"symbol": "TOOLONGSYMBOL"}, "at most 10 characters"),
        ({"base_price": "0.50"}, "1 to 10,000 credits"),
        ({"slope": "0"}, "0.000001 to 100"),
    ],
)
def test_the_add_form_refuses_a_bad_symbol_or_curve(admin_browser, overrides, message):
    response = admin_browser.post(ADD, stock_form(**overrides))

    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors)
    assert not Stock.objects.exists()


def test_a_symbol_is_unique(admin_browser, stock):
    response = admin_browser.post(ADD, stock_form(symbol="This"))

    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors)
    assert Stock.objects.count() == 1


def test_the_curve_of_an_untraded_stock_can_change_and_of_a_traded_one_cannot(admin_browser, stock):
    response = admin_browser.post(change_url(stock), stock_form(symbol="THIS", slope="0.02"))
    assert response.status_code == 302
    stock.refresh_from_db()
    assert stock.slope == D("0.02")

    bought(UserFactory(), stock, "1")
    page = admin_browser.get(change_url(stock))
    assert 'name="slope"' not in page.content.decode() and 'name="name"' in page.content.decode()
    response = admin_browser.post(change_url(stock), stock_form(symbol="THIS", slope="0.5", name="Renamed"))

    assert response.status_code == 302
    stock.refresh_from_db()
    assert (stock.slope, stock.name) == (D("0.02"), "Renamed")


def test_staff_halt_and_resume_trading_with_actions(admin_browser, stock):
    other = StockFactory(symbol="THAT")

    admin_browser.post(CHANGELIST, {"action": "halt_trading", "_selected_action": [str(stock.pk), str(other.pk)]})

    assert not Stock.objects.filter(trading_enabled=True).exists()
    admin_browser.post(CHANGELIST, {"action": "resume_trading", "_selected_action": [str(stock.pk)]})
    assert list(Stock.objects.filter(trading_enabled=True).values_list("symbol", flat=True)) == ["THIS"]


def test_the_stock_page_links_its_holders_and_trades_which_are_read_only(admin_browser, stock):
    holder = UserFactory(username="holder")
    bought(holder, stock, "3")

    page = admin_browser.get(change_url(stock)).content.decode()
    holders = admin_browser.get(f"/admin/stocks/holding/?stock__id__exact={stock.pk}&held=yes")
    trades = admin_browser.get(f"/admin/stocks/stocktrade/?stock__id__exact={stock.pk}")

    assert "/admin/stocks/holding/" in page and "/admin/stocks/stocktrade/" in page
    assert holders.status_code == trades.status_code == 200
    assert "holder" in holders.content.decode() and "holder" in trades.content.decode()
    assert admin_browser.get("/admin/stocks/holding/add/").status_code == 403
    assert admin_browser.get("/admin/stocks/stocktrade/add/").status_code == 403
    assert admin_browser.post(f"{CHANGELIST}{stock.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_changelist_shows_price_and_holders(admin_browser, stock):
    bought(UserFactory(), stock, "50")

    page = admin_browser.get(CHANGELIST).content.decode()

    assert "10.5" in page and ">1<" in page
