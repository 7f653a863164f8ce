"""Staff views of markets (SPEC §8): filters and search, credits markets created and edited through
the services with staff-set odds, Polymarket markets read-only, nothing deleted."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import Client

from markets.models import Market, MarketStatus, MarketType
from tests.factories import MarketFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/markets/market/"
ADD = f"{CHANGELIST}add/"


def change_url(market: Market) -> str:
    return f"{CHANGELIST}{market.pk}/change/"


def listed(response) -> set[str]:
    assert response.status_code == 200
    return {market.title for market in response.context["cl"].result_list}


def credits_form(**overrides) -> dict:
    """The add/change form as a browser posts it (expires_at is a split date/time widget)."""
    return {
        "title": "Will the office dog win the race?",
        "description": "Staff decide.",
        "this_option": "Rex",
        "that_option": "The field",
        "this_odds": "0.7000",
        "that_odds": "0.3000",
        "maker_liquidity": "1000",
        "category": "",
        "new_category": "Office Life",
        "expires_at_0": "2040-01-15",
        "expires_at_1": "12:30:00",
        "image_url": "https://example.com/dog.png",
        **overrides,
    }


@pytest.fixture
def admin_browser() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def catalogue():
    MarketFactory(title="Open polymarket politics", category="Politics")
    MarketFactory(title="Closed polymarket sports", category="Sports", status=MarketStatus.CLOSED)
    MarketFactory(title="Open credits sports", category="Sports", market_type=MarketType.CREDITS)


# --- changelist ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Open polymarket politics", "Closed polymarket sports", "Open credits sports"}),
        ({"status": "open"}, {"Open polymarket politics", "Open credits sports"}),
        ({"status": "closed"}, {"Closed polymarket sports"}),
        ({"market_type__exact": "credits"}, {"Open credits sports"}),
        ({"market_type__exact": "polymarket"}, {"Open polymarket politics", "Closed polymarket sports"}),
        ({"category": "Sports"}, {"Closed polymarket sports", "Open credits sports"}),
        ({"q": "POLYMARKET"}, {"Open polymarket politics", "Closed polymarket sports"}),
        ({"q": "credits"}, {"Open credits sports"}),
        ({"q": "no such market"}, set()),
    ],
)
def test_changelist_filters_and_searches(admin_browser, catalogue, params, expected):
    assert listed(admin_browser.get(CHANGELIST, params)) == expected


def test_changelist_searches_by_condition_id(admin_browser, catalogue):
    market = MarketFactory(title="Findable by condition id")

    assert listed(admin_browser.get(CHANGELIST, {"q": market.polymarket_id})) == {"Findable by condition id"}


# --- credits markets -----------------------------------------------------------------------------
def test_add_form_offers_exactly_the_staff_editable_fields(admin_browser):
    form = admin_browser.get(ADD).context["adminform"].form

    assert list(form.fields) == [
        "title",
        "description",
        "this_option",
        "that_option",
        "this_odds",
        "that_odds",
        "maker_liquidity",
        "category",
        "expires_at",
        "image_url",
        "new_category",
    ]


def test_add_form_creates_a_credits_market_with_the_staff_odds(
    admin_browser, api_client, django_capture_on_commit_callbacks
):
    assert api_client.get("/api/v1/markets").json()["total"] == 0  # a cached, empty first page

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(ADD, credits_form())

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else None
    market = Market.objects.get()
    assert market.market_type == MarketType.CREDITS
    assert market.polymarket_id is None
    assert market.status == MarketStatus.OPEN
    assert (market.title, market.this_option, market.that_option) == (
        "Will the office dog win the race?",
        "Rex",
        "The field",
    )
    assert (market.this_odds, market.that_odds) == (Decimal("0.7"), Decimal("0.3"))
    assert (market.category, market.category_slug) == ("Office Life", "office-life")
    assert market.slug == "will-the-office-dog-win-the-race"
    assert market.expires_at == datetime(2040, 1, 15, 12, 30, tzinfo=UTC)
    assert market.image_url == "https://example.com/dog.png"
    assert market.odds_updated_at is not None
    listing = api_client.get("/api/v1/markets").json()
    assert [item["title"] for item in listing["markets"]] == [market.title], "created through the service"


@pytest.mark.parametrize(
    ("this_odds", "that_odds", "message"),
    [
        ("0.6000", "0.6000", "add up to 1"),
        ("0.9950", "0.0050", "between"),
        ("0.7000", "", "Set both"),
    ],
)
def test_add_form_refuses_odds_staff_may_not_set(admin_browser, this_odds, that_odds, message):
    response = admin_browser.post(ADD, credits_form(this_odds=this_odds, that_odds=that_odds))

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert message in errors
    assert not Market.objects.exists()


def test_change_form_edits_a_credits_market_through_the_service(admin_browser):
    market = MarketFactory(market_type=MarketType.CREDITS, category="Politics")

    response = admin_browser.post(
        change_url(market), credits_form(title="Edited", this_odds="0.2000", that_odds="0.8000", new_category="Sci Fi")
    )

    assert response.status_code == 302
    market.refresh_from_db()
    assert (market.title, market.this_odds, market.that_odds) == ("Edited", Decimal("0.2"), Decimal("0.8"))
    assert market.category_slug == "sci-fi"
    assert market.market_type == MarketType.CREDITS


def test_change_form_refuses_credits_odds_that_do_not_add_up(admin_browser):
    market = MarketFactory(market_type=MarketType.CREDITS)

    response = admin_browser.post(change_url(market), credits_form(this_odds="0.9000", that_odds="0.9000"))

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    market.refresh_from_db()
    assert (market.this_odds, market.that_odds) == (Decimal("0.65"), Decimal("0.35"))


# --- Polymarket markets are read-only ------------------------------------------------------------
def test_polymarket_change_page_shows_every_field_read_only(admin_browser):
    market = MarketFactory(title="Mirrored from Polymarket")

    response = admin_browser.get(change_url(market))

    assert response.status_code == 200
    assert list(response.context["adminform"].form.fields) == []
    readonly = set(response.context["adminform"].readonly_fields)
    assert {"title", "this_odds", "that_odds", "status", "polymarket_id", "market_type"} <= readonly
    assert 'name="title"' not in response.content.decode()
    assert "Mirrored from Polymarket" in response.content.decode()


def test_posting_to_a_polymarket_change_page_cannot_change_it(admin_browser):
    market = MarketFactory(title="Mirrored from Polymarket")

    response = admin_browser.post(change_url(market), credits_form(title="Hijacked", this_odds="0.5000"))

    assert response.status_code in (200, 302, 403)
    market.refresh_from_db()
    assert (market.title, market.this_odds, market.market_type) == (
        "Mirrored from Polymarket",
        Decimal("0.65"),
        MarketType.POLYMARKET,
    )


# --- no deletes, staff only ----------------------------------------------------------------------
@pytest.mark.parametrize("market_type", [MarketType.POLYMARKET, MarketType.CREDITS])
def test_delete_is_not_offered(admin_browser, market_type):
    market = MarketFactory(market_type=market_type)

    assert admin_browser.get(f"{CHANGELIST}{market.pk}/delete/").status_code == 403
    assert admin_browser.post(f"{CHANGELIST}{market.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Market.objects.filter(pk=market.pk).exists()


def test_bulk_delete_action_is_not_offered(admin_browser):
    MarketFactory()

    action_form = admin_browser.get(CHANGELIST).context["action_form"]

    actions = dict(action_form.fields["action"].choices) if action_form is not None else {}
    assert "delete_selected" not in actions


@pytest.mark.parametrize("url", [CHANGELIST, ADD])
def test_non_staff_users_are_sent_to_the_login_page(url):
    client = Client()
    client.force_login(UserFactory())

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert not Market.objects.exists()


# --- the market maker ----------------------------------------------------------------------------
def test_the_add_form_offers_the_default_liquidity_and_says_what_the_house_can_lose(admin_browser):
    form = admin_browser.get(ADD).context["adminform"].form

    assert form["maker_liquidity"].value() == Decimal("1000")
    assert "683.10" in form.fields["maker_liquidity"].help_text


def test_creating_a_credits_market_starts_its_maker_and_shows_the_worst_case_loss(admin_browser):
    response = admin_browser.post(ADD, credits_form(maker_liquidity="2000"), follow=True)

    market = Market.objects.get()
    assert (market.maker_liquidity, market.liquidity) == (Decimal("2000"), Decimal("2000"))
    assert market.maker_state().odds() == (Decimal("0.7"), Decimal("0.3"))
    assert "can lose at most 2,387.85 credits" in response.content.decode()  # 2000·ln(0.99 / 0.3), rounded up
    page = admin_browser.get(change_url(market)).content.decode()
    assert "2,387.85 credits" in page


def test_the_odds_and_liquidity_of_a_traded_credits_market_are_read_only(admin_browser):
    from tests.helpers.betting import place

    market = MarketFactory(market_type=MarketType.CREDITS)
    place(UserFactory(), market, "this", "100")
    before = Market.objects.get(pk=market.pk)

    form = admin_browser.get(change_url(market)).context["adminform"].form
    response = admin_browser.post(
        change_url(market), credits_form(title="Renamed", this_odds="0.2000", that_odds="0.8000", maker_liquidity="5")
    )

    assert not {"this_odds", "that_odds", "maker_liquidity"} & set(form.fields)
    assert response.status_code == 302
    after = Market.objects.get(pk=market.pk)
    assert after.title == "Renamed"
    assert (after.this_odds, after.maker_this_shares, after.maker_liquidity) == (
        before.this_odds,
        before.maker_this_shares,
        before.maker_liquidity,
    )


def test_a_trade_while_staff_edit_a_credits_market_does_not_block_a_title_change(admin_browser):
    from tests.helpers.betting import place

    market = MarketFactory(market_type=MarketType.CREDITS)
    shown = admin_browser.get(change_url(market)).context["adminform"].form.initial
    place(UserFactory(), market, "this", "100")  # the first bet lands while the form is open
    body = credits_form(
        title="Renamed meanwhile",
        this_odds=str(shown["this_odds"]),
        that_odds=str(shown["that_odds"]),
        maker_liquidity=str(shown["maker_liquidity"]),
    )

    response = admin_browser.post(change_url(market), body)

    assert response.status_code == 302
    assert Market.objects.get(pk=market.pk).title == "Renamed meanwhile"


@pytest.mark.parametrize("liquidity", ["99", "1000001"])
def test_the_liquidity_must_lie_between_100_and_a_million(admin_browser, liquidity):
    response = admin_browser.post(ADD, credits_form(maker_liquidity=liquidity))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["maker_liquidity"]
    assert not Market.objects.exists()


# --- the staff market form explains itself and refuses what would mislead (issue 13) -------------------
def test_add_form_explains_the_odds_rule_and_the_time_zone(admin_browser):
    page = admin_browser.get(ADD).content.decode()

    assert "THIS + THAT must add up to 1 (± 0.02)" in page
    assert "between 0.01 and 0.99" in page
    assert "Times are UTC" in page
    assert "Expires at (UTC)" in page


@pytest.mark.parametrize("expires", [("2020-01-15", "12:30:00"), ("2000-01-01", "00:00:00")])
def test_add_form_refuses_an_expiry_in_the_past(admin_browser, expires):
    response = admin_browser.post(ADD, credits_form(expires_at_0=expires[0], expires_at_1=expires[1]))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expires_at"] == [
        "The expiry must be in the future (times are UTC)."
    ]
    assert not Market.objects.exists()


def test_add_form_takes_a_market_without_an_expiry(admin_browser):
    response = admin_browser.post(ADD, credits_form(expires_at_0="", expires_at_1=""))

    assert response.status_code == 302
    assert Market.objects.get().expires_at is None


def test_change_form_keeps_a_past_expiry_it_does_not_change_but_refuses_a_new_one_in_the_past(admin_browser):
    market = MarketFactory(market_type=MarketType.CREDITS, expires_at=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    unchanged = credits_form(title="Renamed", expires_at_0="2025-06-01", expires_at_1="12:00:00")

    assert admin_browser.post(change_url(market), unchanged).status_code == 302
    market.refresh_from_db()
    assert market.title == "Renamed"

    response = admin_browser.post(change_url(market), credits_form(expires_at_0="2025-07-01"))
    assert response.status_code == 200
    assert "expires_at" in response.context["adminform"].form.errors


def test_the_category_is_chosen_from_the_existing_ones(admin_browser):
    MarketFactory(category="Sports")
    MarketFactory(category="sports")  # the same slug: listed once
    MarketFactory(category="Politics")

    form = admin_browser.get(ADD).context["adminform"].form

    assert list(form.fields["category"].choices) == [("", "---------"), ("Politics", "Politics"), ("Sports", "Sports")]
    response = admin_browser.post(ADD, credits_form(category="Politics", new_category=""))
    assert response.status_code == 302
    assert Market.objects.get(title="Will the office dog win the race?").category == "Politics"


def test_a_new_category_spelled_like_an_existing_one_joins_it(admin_browser):
    MarketFactory(category="Office Life")

    response = admin_browser.post(ADD, credits_form(category="", new_category="  office life "))

    assert response.status_code == 302
    created = Market.objects.get(title="Will the office dog win the race?")
    assert (created.category, created.category_slug) == ("Office Life", "office-life")


@pytest.mark.parametrize(
    ("category", "new_category", "field"),
    [("", "", "category"), ("Politics", "Sci Fi", "new_category")],
    ids=["neither", "both"],
)
def test_the_category_comes_from_the_list_or_the_new_field_exactly_once(admin_browser, category, new_category, field):
    MarketFactory(category="Politics")

    response = admin_browser.post(ADD, credits_form(category=category, new_category=new_category))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Market.objects.count() == 1


def test_a_category_not_in_the_list_is_refused(admin_browser):
    response = admin_browser.post(ADD, credits_form(category="Typo Category", new_category=""))

    assert response.status_code == 200
    assert "category" in response.context["adminform"].form.errors
    assert not Market.objects.exists()


# --- the list fits a 1,400 px screen, and says closed for expired markets --------------------------------
def test_changelist_columns_put_expiry_in_view_with_short_titles_and_formatted_numbers(admin_browser):
    MarketFactory(
        title="A very long question " * 10,
        volume=Decimal("1234567.89"),
        this_odds=Decimal("0.6345"),
        that_odds=Decimal("0.3655"),
        expires_at=datetime(2040, 1, 15, 12, 30, tzinfo=UTC),
    )

    response = admin_browser.get(CHANGELIST)

    page = response.content.decode()
    headers = [str(header["text"]).lower() for header in response.context["result_headers"]]
    assert headers[1:] == ["title", "status", "type", "category", "this", "that", "volume", "expires (utc)"]
    assert "2040-01-15 12:30" in page
    assert "1,234,568" in page
    assert "0.6345" in page and "0.3655" in page
    hover, shown = re.search(r'class="field-title__text"><a [^>]*><span title="([^"]*)">([^<]*)</span>', page).groups()
    assert hover == "A very long question " * 10  # the whole title on hover
    assert shown.endswith("…") and len(shown) == 70  # shown cut short


def test_an_expired_market_is_listed_as_closed_and_filtered_with_the_closed_ones(admin_browser):
    expired = MarketFactory(
        title="Expired", market_type=MarketType.CREDITS, expires_at=datetime(2025, 6, 1, tzinfo=UTC)
    )
    MarketFactory(title="Running", market_type=MarketType.CREDITS, expires_at=datetime(2040, 6, 1, tzinfo=UTC))

    assert listed(admin_browser.get(CHANGELIST, {"status": "open"})) == {"Running"}
    assert listed(admin_browser.get(CHANGELIST, {"status": "closed"})) == {"Expired"}
    assert "Closed (expired)" in admin_browser.get(CHANGELIST).content.decode()
    assert expired.status == MarketStatus.OPEN  # what is stored is left alone
