"""GET /api/v1/markets and /markets/category/{slug} (SPEC §4 lists, §5 Markets): filters, sorts,
pagination, validation, the market object, query counts and the listing cache."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from markets.models import Market, MarketStatus, MarketType, Resolution
from markets.services import OddsUpdate, market_create_credits, market_odds_update_many, markets_upsert_external
from tests.factories import MarketFactory
from tests.helpers.assertions import assert_error
from tests.helpers.markets import MARKET_FIELDS, external_market, parse_timestamp

pytestmark = pytest.mark.django_db

LIST = "/api/v1/markets"


def titles(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [market["title"] for market in response.json()["markets"]]


def settled(status: str, **kwargs) -> Market:
    resolution = Resolution.INVALID if status == MarketStatus.CANCELLED else Resolution.THIS
    return MarketFactory(status=status, resolution=resolution, resolved_at=timezone.now(), **kwargs)


# --- defaults ------------------------------------------------------------------------------------
def test_default_listing_is_open_markets_by_volume_descending(api_client):
    MarketFactory(title="middle", volume=Decimal("200"))
    MarketFactory(title="top", volume=Decimal("300"))
    MarketFactory(title="bottom", volume=Decimal("100"))
    MarketFactory(title="closed but busiest", volume=Decimal("999"), status=MarketStatus.CLOSED)
    settled(MarketStatus.RESOLVED, title="resolved", volume=Decimal("998"))

    assert titles(api_client.get(LIST)) == ["top", "middle", "bottom"]


def test_listing_needs_no_auth_and_works_with_a_valid_token(api_client, auth_client):
    MarketFactory(title="visible")

    assert titles(api_client.get(LIST)) == ["visible"]
    assert titles(auth_client.get(LIST)) == ["visible"]


def test_listing_with_a_garbage_bearer_token_is_401_token_invalid(api_client):
    """Public reads still authenticate a token that is sent; a bad one is refused, not ignored."""
    MarketFactory()
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api_client.get(LIST)

    assert_error(response, 401, "TOKEN_INVALID")
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- filters -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", {"open"}),
        ("closed", {"closed"}),
        ("resolved", {"resolved"}),
        ("cancelled", {"cancelled"}),
        ("all", {"open", "closed", "resolved", "cancelled"}),
        ("", {"open"}),
    ],
)
def test_status_filter(api_client, status, expected):
    MarketFactory(title="open")
    MarketFactory(title="closed", status=MarketStatus.CLOSED)
    settled(MarketStatus.RESOLVED, title="resolved")
    settled(MarketStatus.CANCELLED, title="cancelled")

    response = api_client.get(LIST, {"status": status})

    assert set(titles(response)) == expected
    assert {market["status"] for market in response.json()["markets"]} == expected
    assert response.json()["total"] == len(expected)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("sports", {"football", "tennis"}),
        ("Sports", {"football", "tennis"}),
        ("SPORTS", {"football", "tennis"}),
        ("us-politics", {"senate"}),
        ("US Politics", {"senate"}),
        ("us politics", {"senate"}),
        ("  Sports  ", {"football", "tennis"}),
        ("weather", set()),
    ],
)
def test_category_filter_matches_slug_or_name_case_insensitively(api_client, category, expected):
    MarketFactory(title="football", category="Sports")
    MarketFactory(title="tennis", category="Sports")
    MarketFactory(title="senate", category="US Politics")
    MarketFactory(title="closed match", category="Sports", status=MarketStatus.CLOSED)

    assert set(titles(api_client.get(LIST, {"category": category}))) == expected


@pytest.mark.parametrize(("market_type", "expected"), [("polymarket", {"mirrored"}), ("credits", {"staff run"})])
def test_type_filter(api_client, market_type, expected):
    MarketFactory(title="mirrored")
    MarketFactory(title="staff run", market_type=MarketType.CREDITS)

    response = api_client.get(LIST, {"type": market_type})

    assert set(titles(response)) == expected
    assert {market["marketType"] for market in response.json()["markets"]} == {market_type}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("bitcoin", {"Will Bitcoin hit 100k?", "Bitcoin ETF approved in 2026?"}),
        ("BITCOIN", {"Will Bitcoin hit 100k?", "Bitcoin ETF approved in 2026?"}),
        ("coin hit", {"Will Bitcoin hit 100k?"}),
        ("  paris  ", {"Will it rain in Paris?"}),
        ("5%", {"Up 5% by Friday?"}),
        ("%", {"Up 5% by Friday?"}),  # a LIKE wildcard in q is searched for literally
        ("_", set()),
        ("ethereum", set()),
    ],
)
def test_q_is_a_case_insensitive_substring_of_the_title(api_client, q, expected):
    for title in [
        "Will Bitcoin hit 100k?",
        "Bitcoin ETF approved in 2026?",
        "Will it rain in Paris?",
        "Up 5% by Friday?",
    ]:
        MarketFactory(title=title, description="bitcoin appears only in this description")

    assert set(titles(api_client.get(LIST, {"q": q}))) == expected


def test_filters_combine(api_client):
    MarketFactory(title="Bitcoin credits sports", market_type=MarketType.CREDITS, category="Sports")
    MarketFactory(title="Bitcoin polymarket sports", category="Sports")
    MarketFactory(title="Bitcoin credits crypto", market_type=MarketType.CREDITS, category="Crypto")
    MarketFactory(title="Ether credits sports", market_type=MarketType.CREDITS, category="Sports")
    MarketFactory(
        title="Bitcoin credits sports closed",
        market_type=MarketType.CREDITS,
        category="Sports",
        status=MarketStatus.CLOSED,
    )

    query = {"type": "credits", "category": "sports", "q": "bitcoin"}
    assert titles(api_client.get(LIST, query)) == ["Bitcoin credits sports"]
    assert set(titles(api_client.get(LIST, {**query, "status": "all"}))) == {
        "Bitcoin credits sports",
        "Bitcoin credits sports closed",
    }


# --- sorts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, ["A", "B", "C"]),
        ("trending", ["A", "B", "C"]),
        ("liquidity", ["B", "C", "A"]),
        ("expires_soon", ["B", "A", "C"]),  # no end date sorts last
        ("newest", ["A", "C", "B"]),
    ],
)
def test_sorts(api_client, sort, expected):
    now = timezone.now()
    MarketFactory(
        title="A",
        volume=Decimal("300"),
        liquidity=Decimal("10"),
        expires_at=now + timedelta(days=3),
        created_at=now - timedelta(days=1),
    )
    MarketFactory(
        title="B",
        volume=Decimal("200"),
        liquidity=Decimal("30"),
        expires_at=now + timedelta(days=1),
        created_at=now - timedelta(days=3),
    )
    MarketFactory(
        title="C",
        volume=Decimal("100"),
        liquidity=Decimal("20"),
        expires_at=None,
        created_at=now - timedelta(days=2),
    )

    assert titles(api_client.get(LIST, {} if sort is None else {"sort": sort})) == expected


# --- pagination ----------------------------------------------------------------------------------
@pytest.fixture
def five_markets():
    return [MarketFactory(title=f"m{volume}", volume=Decimal(volume)) for volume in (500, 400, 300, 200, 100)]


@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [
        (2, 0, ["m500", "m400"]),
        (2, 2, ["m300", "m200"]),
        (2, 4, ["m100"]),
        (100, 0, ["m500", "m400", "m300", "m200", "m100"]),
        (3, 10, []),
    ],
)
def test_limit_and_offset_page_through_the_list_with_the_total(api_client, five_markets, limit, offset, expected):
    response = api_client.get(LIST, {"limit": limit, "offset": offset})

    assert titles(response) == expected
    body = response.json()
    assert set(body) == {"markets", "total", "limit", "offset"}
    assert (body["total"], body["limit"], body["offset"]) == (5, limit, offset)


def test_default_page_is_limit_20_offset_0(api_client):
    MarketFactory.create_batch(21)

    body = api_client.get(LIST).json()

    assert (len(body["markets"]), body["total"], body["limit"], body["offset"]) == (20, 21, 20, 0)


def test_empty_listing_has_total_zero(api_client):
    assert api_client.get(LIST).json() == {"markets": [], "total": 0, "limit": 20, "offset": 0}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("limit", "-1"),
        ("limit", "0"),
        ("limit", "abc"),
        ("limit", "1.5"),
        ("limit", "101"),
        ("offset", "-1"),
        ("offset", "abc"),
        ("sort", "popular"),
        ("sort", "TRENDING"),
        ("status", "pending"),
        ("type", "sports"),
    ],
)
def test_invalid_query_parameters_are_400_validation_error(api_client, param, value):
    body = assert_error(api_client.get(LIST, {param: value}), 400, "VALIDATION_ERROR")

    assert list(body["details"]) == [param]
    assert all(isinstance(message, str) for message in body["details"][param])


# --- the market object ---------------------------------------------------------------------------
def test_market_object_has_exactly_the_spec_fields_with_numbers_for_odds_and_credits(api_client):
    market = MarketFactory(
        this_odds=Decimal("0.6543"),
        that_odds=Decimal("0.3457"),
        liquidity=Decimal("1234.56"),
        volume=Decimal("98765.43"),
        image_url="https://example.com/image.png",
    )

    (body,) = api_client.get(LIST).json()["markets"]

    assert set(body) == MARKET_FIELDS
    assert body["id"] == str(market.id)
    assert body["polymarketId"] == market.polymarket_id
    assert (body["slug"], body["title"], body["description"]) == (market.slug, market.title, market.description)
    assert (body["thisOption"], body["thatOption"]) == ("Yes", "No")
    assert (body["category"], body["marketType"], body["status"]) == ("Politics", "polymarket", "open")
    assert body["imageUrl"] == "https://example.com/image.png"
    assert body["resolution"] is None and body["resolvedAt"] is None
    for name, expected in [
        ("thisOdds", Decimal("0.6543")),
        ("thatOdds", Decimal("0.3457")),
        ("liquidity", Decimal("1234.56")),
        ("volume", Decimal("98765.43")),
    ]:
        assert type(body[name]) in (int, float), (name, body[name])
        assert Decimal(str(body[name])) == expected
    assert parse_timestamp(body["expiresAt"]) == market.expires_at
    assert parse_timestamp(body["oddsUpdatedAt"]) == market.odds_updated_at
    assert parse_timestamp(body["createdAt"]) == market.created_at


def test_credits_and_settled_markets_render_their_nullable_fields(api_client):
    MarketFactory(title="credits", market_type=MarketType.CREDITS, expires_at=None)
    resolved = settled(MarketStatus.RESOLVED, title="resolved")

    bodies = {market["title"]: market for market in api_client.get(LIST, {"status": "all"}).json()["markets"]}

    assert bodies["credits"]["polymarketId"] is None
    assert bodies["credits"]["marketType"] == "credits"
    assert bodies["credits"]["expiresAt"] is None
    assert bodies["resolved"]["resolution"] == "this"
    assert parse_timestamp(bodies["resolved"]["resolvedAt"]) == resolved.resolved_at


# --- query count and the listing cache -----------------------------------------------------------
def test_a_page_costs_the_same_few_queries_whatever_its_size_and_none_when_cached(
    api_client, django_assert_max_num_queries, django_assert_num_queries
):
    MarketFactory.create_batch(100)

    with django_assert_max_num_queries(2) as one:
        assert len(titles(api_client.get(LIST, {"limit": 1}))) == 1
    with django_assert_max_num_queries(2) as hundred:
        first = api_client.get(LIST, {"limit": 100})
    assert len(titles(first)) == 100
    assert len(one.captured_queries) == len(hundred.captured_queries)

    with django_assert_num_queries(0):
        again = api_client.get(LIST, {"limit": 100})
    assert again.json() == first.json()


def test_a_cached_page_ignores_rows_written_behind_the_services_back(api_client):
    MarketFactory(title="first", volume=Decimal("100"))
    assert titles(api_client.get(LIST)) == ["first"]

    MarketFactory(title="written with the ORM", volume=Decimal("200"))

    assert titles(api_client.get(LIST)) == ["first"]


def _create_credits(existing: Market) -> None:
    market_create_credits(title="new credits market", this_odds=Decimal("0.5"), that_odds=Decimal("0.5"))


def _upsert_external(existing: Market) -> None:
    markets_upsert_external(markets=[external_market(title="new upstream market")])


def _update_odds(existing: Market) -> None:
    market_odds_update_many(
        updates=[OddsUpdate(market_id=existing.id, this_odds=Decimal("0.2000"), that_odds=Decimal("0.8000"))]
    )


@pytest.mark.parametrize(
    ("service_write", "new_title"),
    [(_create_credits, "new credits market"), (_upsert_external, "new upstream market"), (_update_odds, None)],
)
def test_a_service_write_invalidates_cached_pages_on_commit(
    api_client, django_capture_on_commit_callbacks, service_write, new_title
):
    existing = MarketFactory(title="first", volume=Decimal("100"))
    assert titles(api_client.get(LIST)) == ["first"]
    MarketFactory(title="written with the ORM", volume=Decimal("200"))

    with django_capture_on_commit_callbacks() as callbacks:
        service_write(existing)
    assert titles(api_client.get(LIST)) == ["first"], "the page must stay cached until the write commits"
    for callback in callbacks:
        callback()

    markets = {market["title"]: market for market in api_client.get(LIST).json()["markets"]}
    assert {"first", "written with the ORM"} <= set(markets)
    if new_title is None:
        assert (markets["first"]["thisOdds"], markets["first"]["thatOdds"]) == (0.2, 0.8)
    else:
        assert new_title in markets


def test_an_odds_update_of_a_settled_market_does_not_invalidate(api_client, django_capture_on_commit_callbacks):
    closed = MarketFactory(status=MarketStatus.CLOSED)
    MarketFactory(title="first")
    assert titles(api_client.get(LIST)) == ["first"]
    MarketFactory(title="written with the ORM")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        market_odds_update_many(updates=[OddsUpdate(closed.id, Decimal("0.1"), Decimal("0.9"))])

    assert callbacks == []
    assert titles(api_client.get(LIST)) == ["first"]


# --- /markets/category/{slug} --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("slug", "params"),
    [
        ("sports", {}),
        ("Sports", {}),
        ("us-politics", {}),
        ("sports", {"status": "all", "sort": "newest"}),
        ("sports", {"limit": 1, "offset": 1}),
        ("weather", {}),
    ],
)
def test_category_route_equals_the_filtered_list(api_client, slug, params):
    now = timezone.now()
    MarketFactory(title="football", category="Sports", volume=Decimal("10"), created_at=now - timedelta(days=2))
    MarketFactory(title="tennis", category="Sports", volume=Decimal("20"), created_at=now - timedelta(days=1))
    MarketFactory(title="old match", category="Sports", status=MarketStatus.CLOSED, created_at=now)
    MarketFactory(title="senate", category="US Politics")

    by_route = api_client.get(f"{LIST}/category/{slug}", params)
    by_filter = api_client.get(LIST, {**params, "category": slug})

    assert by_route.status_code == by_filter.status_code == 200
    assert by_route.json() == by_filter.json()


def test_category_route_path_wins_over_a_category_query_parameter(api_client):
    MarketFactory(title="football", category="Sports")
    MarketFactory(title="senate", category="Politics")

    assert titles(api_client.get(f"{LIST}/category/sports", {"category": "politics"})) == ["football"]


def test_category_route_validates_its_query_parameters(api_client):
    assert_error(api_client.get(f"{LIST}/category/sports", {"limit": "101"}), 400, "VALIDATION_ERROR")
