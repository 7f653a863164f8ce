import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from polymarket.mapping import Skip, gamma_to_market
from tests.polymarket.payloads import gamma_open, load


def test_the_recorded_open_market_maps_field_by_field():
    market = gamma_to_market(load("gamma_market_open_binary"))

    assert market.polymarket_id == "0xa467b14d51f01b957109d9cbb1d6c124fab2a089d52ed8f471d23c2812e743b7"
    assert market.polymarket_gamma_id == "559651"
    assert market.title == "Xi Jinping out before 2027?"
    assert market.slug == "xi-jinping-out-before-2027"
    assert market.description.startswith("This market will resolve to")
    assert market.image_url.startswith("https://polymarket-upload.s3")
    assert (market.this_option, market.that_option) == ("Yes", "No")
    assert (market.this_odds, market.that_odds) == (Decimal("0.0455"), Decimal("0.9545"))
    assert market.this_token_id.startswith("3233822019")
    assert market.that_token_id.startswith("2565931067")
    assert market.volume == Decimal("12071015.22")
    assert market.liquidity == Decimal("237253.02")
    assert market.volume_24h == Decimal("14542.23")
    assert market.category == "world affairs"
    assert market.expires_at == datetime(2026, 12, 31, tzinfo=UTC)
    assert market.closed is False


def test_the_recorded_resolved_market_maps_as_closed():
    market = gamma_to_market(load("gamma_market_resolved"))

    assert market.closed is True
    assert {market.this_odds, market.that_odds} == {Decimal("0"), Decimal("1")}


def test_outcome_labels_other_than_yes_and_no_are_kept():
    market = gamma_to_market(gamma_open(outcomes=json.dumps(["Lakers", "Celtics"])))

    assert (market.this_option, market.that_option) == ("Lakers", "Celtics")


def test_outcomes_and_prices_given_as_real_arrays_are_accepted():
    market = gamma_to_market(gamma_open(outcomes=["Yes", "No"], outcomePrices=["0.3", "0.7"]))

    assert (market.this_odds, market.that_odds) == (Decimal("0.3000"), Decimal("0.7000"))


def test_volume_and_liquidity_fall_back_to_the_string_fields():
    market = gamma_to_market(gamma_open(volumeNum=None, liquidityNum=None, volume="1234.5", liquidity="99"))

    assert (market.volume, market.liquidity) == (Decimal("1234.50"), Decimal("99.00"))


def test_missing_optional_fields_get_defaults():
    market = gamma_to_market(
        gamma_open(tags=None, endDate=None, clobTokenIds=None, image=None, volume24hr=None, volume24hrClob=None)
    )

    assert market.category == "Uncategorized"
    assert market.expires_at is None
    assert (market.this_token_id, market.that_token_id) == ("", "")
    assert market.image_url == ""
    assert market.volume_24h == Decimal("0")


def test_prices_are_rounded_half_up_to_four_places():
    market = gamma_to_market(gamma_open(outcomePrices=json.dumps(["0.00005", "0.99995"])))

    assert (market.this_odds, market.that_odds) == (Decimal("0.0001"), Decimal("1.0000"))


def test_the_recorded_undeployed_market_is_skipped():
    with pytest.raises(Skip) as skipped:
        gamma_to_market(load("gamma_market_undeployed_no_prices"))
    assert skipped.value.reason == "not_deployed"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"outcomes": json.dumps(["A", "B", "C"]), "outcomePrices": json.dumps(["0.2", "0.3", "0.5"])}, "not_binary"),
        ({"outcomes": json.dumps(["Yes"])}, "not_binary"),
        ({"outcomes": "not json"}, "not_binary"),
        ({"conditionId": ""}, "not_deployed"),
        ({"conditionId": None}, "not_deployed"),
        ({"conditionId": "0x1234"}, "invalid_condition_id"),
        ({"outcomePrices": None}, "missing_prices"),
        ({"outcomePrices": ""}, "missing_prices"),
        ({"outcomePrices": json.dumps(["abc", "0.5"])}, "unparseable_prices"),
        ({"outcomePrices": json.dumps(["0.5"])}, "unparseable_prices"),
        ({"outcomePrices": json.dumps(["NaN", "0.5"])}, "unparseable_prices"),
        ({"outcomePrices": json.dumps(["1.2", "-0.2"])}, "price_out_of_range"),
        ({"outcomePrices": json.dumps(["0.7", "0.5"])}, "prices_do_not_sum_to_one"),
        ({"archived": True}, "archived"),
        ({"question": "  "}, "missing_title"),
    ],
)
def test_rows_that_cannot_be_binary_markets_are_skipped_with_a_reason(changes, reason):
    with pytest.raises(Skip) as skipped:
        gamma_to_market(gamma_open(**changes))
    assert skipped.value.reason == reason


@pytest.mark.parametrize("row", [None, "a string", ["a", "list"], 42])
def test_a_row_that_is_not_an_object_is_skipped_as_malformed(row):
    with pytest.raises(Skip) as skipped:
        gamma_to_market(row)
    assert skipped.value.reason == "malformed"


def test_prices_within_the_tolerance_of_one_are_accepted():
    market = gamma_to_market(gamma_open(outcomePrices=json.dumps(["0.505", "0.51"])))

    assert market.this_odds + market.that_odds == Decimal("1.0150")
