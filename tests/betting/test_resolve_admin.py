"""The resolve confirmation page as staff read it (issue 13), in the style of Django's delete
confirmation: credits formatted like the rest of the admin, correct plurals, what THIS and THAT mean
on each market, and a market already resolved shown as such, never offered for confirmation."""

import re
from decimal import Decimal

import pytest

from markets.models import Market, Resolution, ResolutionSource
from tests.factories import MarketFactory, UserFactory
from tests.helpers.betting import place

pytestmark = pytest.mark.django_db

D = Decimal
MARKETS_ADMIN = "/admin/markets/market/"


def confirmation(client, name: str, markets: list[Market]):
    response = client.post(
        MARKETS_ADMIN, {"action": name, "_selected_action": [str(m.pk) for m in markets], "index": 0}
    )
    assert response.status_code == 200
    assert response.templates[0].name == "admin/markets/market/resolve_confirmation.html"
    return response


def text(response) -> str:
    """The page's words as a reader sees them: tags and extra spaces removed."""
    words = " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())
    return re.sub(r" ([?:.,])", r"\1", words)


def confirmed_ids(response) -> list[str]:
    return re.findall(r'name="_selected_action" value="([^"]+)"', response.content.decode())


@pytest.fixture
def dog_race():
    """THIS = Rex, THAT = The field; one big THAT bet (5,000 at 0.35 pays 14,285.71) and one THIS bet."""
    market = MarketFactory(title="Will Rex win the race?", this_option="Rex", that_option="The field")
    place(UserFactory(balance=D("10000")), market, "that", "5000")
    place(UserFactory(balance=D("1000")), market, "this", "100")
    return market


def test_credits_have_thousands_separators_and_two_decimals(admin_browser, dog_race):
    page = text(confirmation(admin_browser, "resolve_that", [dog_race]))

    assert "Credits to pay: 14,285.71" in page
    assert "14285.71" not in page and "14285.710000" not in page


def test_the_meaning_of_this_and_that_is_shown_for_each_market(admin_browser, dog_race):
    page = text(confirmation(admin_browser, "resolve_that", [dog_race]))

    assert "THIS (Rex) THAT (The field)" in page
    assert "THAT (The field)" in page.split("Winner", 1)[1]


def test_counts_read_in_the_singular_and_the_plural(admin_browser, dog_race):
    page = text(confirmation(admin_browser, "resolve_that", [dog_race]))

    assert "Resolve 1 market as THAT?" in page
    assert "2 bets 1 bet 14,285.71" in page  # pending, paid, credits in the market's row
    assert "Pending bets: 2" in page
    assert "Winning bets paid: 1" in page
    assert (
        'value="Yes, resolve 1 market as THAT"'
        in confirmation(admin_browser, "resolve_that", [dog_race]).content.decode()
    )


def test_invalid_says_every_stake_is_refunded(admin_browser, dog_race):
    page = text(confirmation(admin_browser, "resolve_invalid", [dog_race]))

    assert "Every pending bet is cancelled and its stake refunded." in page
    assert "INVALID: stakes refunded" in page
    assert "Bets refunded: 2" in page
    assert "Credits to pay: 5,100.00" in page


def test_a_resolved_market_is_shown_as_resolved_with_no_confirm_button(admin_browser, dog_race, staff):
    Market.objects.filter(pk=dog_race.pk).update(
        status="resolved", resolution=Resolution.THIS, resolution_source=ResolutionSource.ADMIN
    )

    response = confirmation(admin_browser, "resolve_this", [dog_race])

    page = text(response)
    assert "Already resolved: left as it is" in page
    assert "Will Rex win the race?: resolved as THIS (Rex)" in page
    assert "There is nothing to resolve." in page
    assert 'name="confirm"' not in response.content.decode()
    assert 'type="submit"' not in response.content.decode().split('id="content"', 1)[1]
    assert confirmed_ids(response) == []


def test_with_a_mix_only_the_unresolved_markets_are_offered(admin_browser, dog_race):
    done = MarketFactory(title="Done already", status="cancelled", resolution=Resolution.INVALID)

    response = confirmation(admin_browser, "resolve_this", [dog_race, done])

    page = text(response)
    assert "Resolve 1 market as THIS?" in page
    assert "Done already: resolved as INVALID (every stake refunded)" in page
    assert confirmed_ids(response) == [str(dog_race.pk)]
    assert 'name="confirm" value="yes"' in response.content.decode()


def test_the_page_follows_the_admins_delete_confirmation(admin_browser, dog_race):
    response = confirmation(admin_browser, "resolve_this", [dog_race])

    content = response.content.decode()
    assert "delete-confirmation" in content  # Django's styling of confirmation pages
    assert 'class="button cancel-link">No, take me back</a>' in content
    assert "admin/js/cancel.js" in content
    assert "Home" in text(response) and "Resolve as THIS?" in text(response)
