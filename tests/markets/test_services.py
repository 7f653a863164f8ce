"""The only writers of markets (markets/services.py) and the rules the database enforces."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from markets.errors import MarketClosed, MarketNotFound
from markets.models import Market, MarketStatus, MarketType, Resolution
from markets.services import (
    INGEST_ODDS_FRESH_SECONDS,
    OddsUpdate,
    market_create_credits,
    market_odds_update_many,
    market_update_credits,
    markets_upsert_external,
)
from tests.factories import MarketFactory
from tests.helpers.markets import external_market
from thisthat.errors import ValidationFailed

pytestmark = pytest.mark.django_db

D = Decimal


def create_credits(**overrides) -> Market:
    return market_create_credits(
        **{"title": "Will staff run this?", "this_odds": D("0.6"), "that_odds": D("0.4"), **overrides}
    )


def upstream_id(n: int) -> str:
    return f"0x{n:064x}"


# --- market_create_credits -----------------------------------------------------------------------
def test_create_credits_market_stores_staff_odds_and_derived_fields():
    expires_at = timezone.now() + timedelta(days=10)

    market = create_credits(
        title="Will the office dog win?",
        this_odds=D("0.7"),
        that_odds=D("0.3"),
        category="Office Life",
        expires_at=expires_at,
    )

    market.refresh_from_db()
    assert market.market_type == MarketType.CREDITS
    assert market.polymarket_id is None
    assert market.status == MarketStatus.OPEN and market.resolution is None
    assert (market.this_odds, market.that_odds) == (D("0.7"), D("0.3"))
    assert (market.slug, market.category, market.category_slug) == (
        "will-the-office-dog-win",
        "Office Life",
        "office-life",
    )
    assert market.expires_at == expires_at
    assert market.odds_updated_at is not None


@pytest.mark.parametrize(
    ("this_odds", "that_odds", "stored"),
    [
        ("0.01", "0.99", ("0.01", "0.99")),
        ("0.99", "0.01", ("0.99", "0.01")),
        ("0.49", "0.49", ("0.5", "0.5")),
        ("0.51", "0.51", ("0.5", "0.5")),
        ("0.5", "0.5", ("0.5", "0.5")),
        ("0.60", "0.41", ("0.5941", "0.4059")),
    ],
)
def test_create_credits_accepts_odds_in_range_summing_to_one_within_tolerance(this_odds, that_odds, stored):
    """The market maker starts at THIS's share of the two odds, so what it stores adds up to exactly 1."""
    market = create_credits(this_odds=D(this_odds), that_odds=D(that_odds))

    assert (market.this_odds, market.that_odds) == (D(stored[0]), D(stored[1]))


@pytest.mark.parametrize(
    ("this_odds", "that_odds", "field"),
    [
        ("0", "1", "thisOdds"),
        ("0.0099", "0.9901", "thisOdds"),
        ("0.995", "0.005", "thisOdds"),
        ("0.5", "0.9999", "thatOdds"),
        ("-0.1", "1.1", "thisOdds"),
        ("0.5", "0.53", "thatOdds"),
        ("0.4", "0.4", "thatOdds"),
        ("0.9", "0.9", "thatOdds"),
    ],
)
def test_create_credits_refuses_odds_out_of_range_or_not_summing_to_one(this_odds, that_odds, field):
    with pytest.raises(ValidationFailed) as refused:
        create_credits(this_odds=D(this_odds), that_odds=D(that_odds))

    assert refused.value.code == "VALIDATION_ERROR"
    assert list(refused.value.details) == [field]
    assert not Market.objects.exists()


def test_create_credits_without_category_is_uncategorized():
    market = create_credits()

    assert (market.category, market.category_slug) == ("Uncategorized", "uncategorized")


# --- market_update_credits -----------------------------------------------------------------------
def test_update_credits_changes_editable_fields_and_restamps_odds_and_category_slug():
    market = MarketFactory(market_type=MarketType.CREDITS, odds_updated_at=timezone.now() - timedelta(days=1))
    before = Market.objects.get(pk=market.pk)

    market_update_credits(
        market_id=market.pk,
        changes={"title": "Renamed", "this_odds": D("0.2"), "that_odds": D("0.8"), "category": "Sci Fi"},
    )

    market.refresh_from_db()
    assert (market.title, market.this_odds, market.that_odds) == ("Renamed", D("0.2"), D("0.8"))
    assert market.category_slug == "sci-fi"
    assert market.odds_updated_at > before.odds_updated_at
    assert market.updated_at > before.updated_at


def test_update_credits_without_odds_keeps_the_odds_timestamp():
    market = MarketFactory(market_type=MarketType.CREDITS, odds_updated_at=timezone.now() - timedelta(days=1))

    market_update_credits(market_id=market.pk, changes={"description": "Clarified."})

    refreshed = Market.objects.get(pk=market.pk)
    assert refreshed.description == "Clarified."
    assert refreshed.odds_updated_at == market.odds_updated_at


@pytest.mark.parametrize(
    "changes",
    [
        {"status": MarketStatus.RESOLVED},
        {"volume": D("1")},
        {"polymarket_id": "0x1"},
        {"title": "ok", "resolution": "this"},
    ],
)
def test_update_credits_rejects_fields_staff_may_not_edit(changes):
    market = MarketFactory(market_type=MarketType.CREDITS)

    with pytest.raises(ValueError, match="not editable by staff"):
        market_update_credits(market_id=market.pk, changes=changes)

    refreshed = Market.objects.get(pk=market.pk)
    assert (refreshed.title, refreshed.status, refreshed.volume) == (market.title, market.status, market.volume)


def test_update_credits_refuses_a_polymarket_market():
    market = MarketFactory()

    with pytest.raises(MarketNotFound):
        market_update_credits(market_id=market.pk, changes={"title": "Hijacked"})

    assert Market.objects.get(pk=market.pk).title == market.title


@pytest.mark.parametrize("status", [MarketStatus.RESOLVED, MarketStatus.CANCELLED])
def test_update_credits_refuses_a_settled_market(status):
    market = MarketFactory(market_type=MarketType.CREDITS, status=status, resolution=Resolution.INVALID)

    with pytest.raises(MarketClosed):
        market_update_credits(market_id=market.pk, changes={"this_odds": Decimal("0.5"), "that_odds": Decimal("0.5")})

    assert Market.objects.get(pk=market.pk).this_odds == market.this_odds


def test_update_credits_validates_the_resulting_odds():
    market = MarketFactory(market_type=MarketType.CREDITS)

    with pytest.raises(ValidationFailed):
        market_update_credits(market_id=market.pk, changes={"this_odds": D("0.9")})  # 0.9 + 0.35

    assert Market.objects.get(pk=market.pk).this_odds == market.this_odds


# --- markets_upsert_external ---------------------------------------------------------------------
def test_upsert_creates_polymarket_markets_from_upstream():
    item = external_market(category="US Politics")

    result = markets_upsert_external(markets=[item])

    assert (result.created, result.updated, result.unchanged, result.settled) == (1, 0, 0, 0)
    market = Market.objects.get(polymarket_id=item.polymarket_id)
    assert market.market_type == MarketType.POLYMARKET
    assert market.status == MarketStatus.OPEN
    assert (market.title, market.slug, market.this_token_id) == (item.title, item.slug, item.this_token_id)
    assert (market.this_odds, market.that_odds) == (item.this_odds, item.that_odds)
    assert (market.volume, market.liquidity, market.volume_24h) == (item.volume, item.liquidity, item.volume_24h)
    assert (market.category, market.category_slug) == ("US Politics", "us-politics")
    assert market.expires_at == item.expires_at
    assert market.odds_updated_at is not None


def test_upsert_maps_a_closed_upstream_market_to_closed():
    markets_upsert_external(markets=[external_market(closed=True)])

    assert Market.objects.get().status == MarketStatus.CLOSED


def test_upsert_of_identical_data_is_unchanged_and_keeps_updated_at():
    item = external_market()
    markets_upsert_external(markets=[item])
    before = Market.objects.get()

    result = markets_upsert_external(markets=[item])

    assert (result.created, result.updated, result.unchanged, result.settled) == (0, 0, 1, 0)
    after = Market.objects.get()
    assert after.updated_at == before.updated_at
    assert after.odds_updated_at == before.odds_updated_at


def test_upsert_of_a_changed_title_updates_the_market():
    markets_upsert_external(markets=[external_market()])
    before = Market.objects.get()

    result = markets_upsert_external(markets=[external_market(title="A better question?", volume=D("999999.99"))])

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    after = Market.objects.get()
    assert (after.id, after.title, after.volume) == (before.id, "A better question?", D("999999.99"))
    assert after.updated_at > before.updated_at


@pytest.mark.parametrize("status", [MarketStatus.RESOLVED, MarketStatus.CANCELLED])
def test_upsert_leaves_settled_markets_untouched(status):
    resolution = Resolution.THIS if status == MarketStatus.RESOLVED else Resolution.INVALID
    market = MarketFactory(status=status, resolution=resolution, resolved_at=timezone.now())
    before = Market.objects.get(pk=market.pk)

    result = markets_upsert_external(
        markets=[external_market(polymarket_id=market.polymarket_id, title="Changed upstream", closed=False)]
    )

    assert (result.created, result.updated, result.unchanged, result.settled) == (0, 0, 0, 1)
    after = Market.objects.get(pk=market.pk)
    assert (after.title, after.status, after.resolution) == (before.title, status, resolution)
    assert (after.this_odds, after.updated_at) == (before.this_odds, before.updated_at)


def test_upsert_keeps_odds_the_odds_sync_refreshed_recently():
    market = MarketFactory(this_odds=D("0.3000"), that_odds=D("0.7000"), odds_updated_at=timezone.now())

    markets_upsert_external(
        markets=[external_market(polymarket_id=market.polymarket_id, this_odds=D("0.9"), that_odds=D("0.1"))]
    )

    assert Market.objects.get(pk=market.pk).this_odds == D("0.3000")


def test_upsert_replaces_stale_odds():
    stale_at = timezone.now() - timedelta(seconds=INGEST_ODDS_FRESH_SECONDS + 60)
    market = MarketFactory(this_odds=D("0.3000"), that_odds=D("0.7000"), odds_updated_at=stale_at)

    markets_upsert_external(
        markets=[external_market(polymarket_id=market.polymarket_id, this_odds=D("0.9000"), that_odds=D("0.1000"))]
    )

    after = Market.objects.get(pk=market.pk)
    assert (after.this_odds, after.that_odds) == (D("0.9000"), D("0.1000"))
    assert after.odds_updated_at > stale_at


def test_upsert_counts_each_kind_in_one_batch():
    existing = MarketFactory(polymarket_id=upstream_id(1), title="Same")
    settled = MarketFactory(polymarket_id=upstream_id(2), status=MarketStatus.RESOLVED, resolution=Resolution.THAT)
    batch = [
        external_market(polymarket_id=existing.polymarket_id, title="Renamed"),
        external_market(polymarket_id=settled.polymarket_id),
        external_market(polymarket_id=upstream_id(3)),
        external_market(polymarket_id=upstream_id(4)),
    ]

    result = markets_upsert_external(markets=batch)

    assert (result.created, result.updated, result.unchanged, result.settled) == (2, 1, 0, 1)
    assert Market.objects.filter(market_type=MarketType.POLYMARKET).count() == 4


def test_upsert_costs_the_same_queries_for_one_or_many_markets(django_assert_max_num_queries):
    with django_assert_max_num_queries(10) as one:
        markets_upsert_external(markets=[external_market(polymarket_id=upstream_id(1))])
    with django_assert_max_num_queries(10) as many:
        markets_upsert_external(markets=[external_market(polymarket_id=upstream_id(n)) for n in range(2, 32)])

    assert len(one.captured_queries) == len(many.captured_queries)
    assert Market.objects.count() == 31


# --- market_odds_update_many ---------------------------------------------------------------------
def test_odds_update_stores_odds_on_open_markets_and_stamps_them():
    long_ago = timezone.now() - timedelta(days=1)
    first, second = MarketFactory(odds_updated_at=long_ago), MarketFactory(odds_updated_at=long_ago)

    updated = market_odds_update_many(
        updates=[OddsUpdate(first.id, D("0.1000"), D("0.9000")), OddsUpdate(second.id, D("0.2500"), D("0.7500"))]
    )

    assert updated == 2
    for market, odds in [(first, (D("0.1"), D("0.9"))), (second, (D("0.25"), D("0.75")))]:
        after = Market.objects.get(pk=market.pk)
        assert (after.this_odds, after.that_odds) == odds
        assert after.odds_updated_at > long_ago
        assert (after.title, after.volume) == (market.title, market.volume)


@pytest.mark.parametrize(
    ("status", "resolution"),
    [
        (MarketStatus.CLOSED, None),
        (MarketStatus.RESOLVED, Resolution.THIS),
        (MarketStatus.CANCELLED, Resolution.INVALID),
    ],
)
def test_odds_update_skips_markets_that_are_not_open(status, resolution):
    long_ago = timezone.now() - timedelta(days=1)
    market = MarketFactory(status=status, resolution=resolution, odds_updated_at=long_ago)
    open_market = MarketFactory()

    updated = market_odds_update_many(
        updates=[OddsUpdate(market.id, D("0.1"), D("0.9")), OddsUpdate(open_market.id, D("0.1"), D("0.9"))]
    )

    assert updated == 1
    after = Market.objects.get(pk=market.pk)
    assert (after.this_odds, after.that_odds, after.odds_updated_at) == (D("0.65"), D("0.35"), long_ago)
    assert Market.objects.get(pk=open_market.pk).this_odds == D("0.1")


def test_odds_update_of_nothing_is_zero():
    assert market_odds_update_many(updates=[]) == 0


# --- database constraints ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes",
    [
        {"this_odds": D("1.0001")},
        {"that_odds": D("1.5")},
        {"this_odds": D("-0.0001")},
        {"status": MarketStatus.OPEN, "resolution": Resolution.THIS},
        {"market_type": MarketType.POLYMARKET, "polymarket_id": None},
    ],
)
def test_database_check_constraints_refuse_impossible_markets(changes):
    market = MarketFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Market.objects.filter(pk=market.pk).update(**changes)

    assert Market.objects.get(pk=market.pk).this_odds == D("0.65")


# --- the market maker of credits markets ----------------------------------------------------------
def test_a_new_credits_market_starts_its_maker_at_the_staff_odds_and_records_them():
    from markets.models import OddsPoint

    market = create_credits(this_odds=D("0.6"), that_odds=D("0.4"), maker_liquidity=D("500"))

    assert (market.maker_liquidity, market.liquidity) == (D("500"), D("500"))
    assert (market.maker_this_shares, market.maker_that_shares) == (D("202.732554"), D("0"))  # 500·ln(1.5)
    assert list(OddsPoint.objects.values_list("this_odds", "that_odds", "source")) == [(D("0.6"), D("0.4"), "staff")]


def test_a_new_credits_market_gets_the_default_liquidity(settings):
    settings.MARKET_MAKER_DEFAULT_LIQUIDITY = D("2500")

    assert create_credits().maker_liquidity == D("2500")


@pytest.mark.parametrize("liquidity", [D("99.99"), D("1000000.01")])
def test_a_credits_market_liquidity_outside_100_to_a_million_is_refused(liquidity):
    with pytest.raises(ValidationFailed) as refused:
        create_credits(maker_liquidity=liquidity)

    assert list(refused.value.details) == ["makerLiquidity"]
    assert not Market.objects.exists()


def test_new_odds_before_the_first_bet_start_the_maker_again():
    market = create_credits(this_odds=D("0.6"), that_odds=D("0.4"))

    market_update_credits(market_id=market.pk, changes={"this_odds": D("0.5"), "that_odds": D("0.5")})

    market.refresh_from_db()
    assert (market.maker_this_shares, market.maker_that_shares, market.this_odds) == (0, 0, D("0.5"))
    assert market.odds_points.count() == 2


def test_the_odds_and_liquidity_of_a_market_with_bets_are_its_makers():
    from tests.factories import UserFactory
    from tests.helpers.betting import place

    market = create_credits()
    place(UserFactory(), market, "this", "50")
    before = Market.objects.get(pk=market.pk)

    for changes, field in (
        ({"this_odds": D("0.3"), "that_odds": D("0.7")}, "thisOdds"),
        ({"maker_liquidity": D("5000")}, "makerLiquidity"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            market_update_credits(market_id=market.pk, changes=changes)
        assert list(refused.value.details) == [field]
    market_update_credits(market_id=market.pk, changes={"title": "Still editable", "this_odds": before.this_odds})

    after = Market.objects.get(pk=market.pk)
    assert (after.title, after.maker_this_shares, after.this_odds) == (
        "Still editable",
        before.maker_this_shares,
        before.this_odds,
    )
