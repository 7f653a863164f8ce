"""Hostile or broken upstream data costs one row, never a chunk, a page or a listing (issue 10)."""

import json
from decimal import Decimal

import pytest
import responses

from betting.models import BetStatus
from markets.models import Market
from polymarket.client import UnexpectedPayload
from polymarket.mapping import Skip, gamma_to_market
from polymarket.services import markets_ingest
from tests.factories import UserFactory
from tests.helpers.betting import place
from tests.helpers.markets import external_market
from tests.helpers.polymarket import CLOB, GAMMA, serve_pages
from tests.polymarket.payloads import gamma_open, gamma_rows

pytestmark = pytest.mark.django_db


# --- Mapping: dates, control characters, labels, tokens --------------------------------------------
@pytest.mark.parametrize(
    ("end_date", "reason"),
    [
        ("0001-01-01T00:00:00+01:00", "end_date_out_of_range"),
        ("9999-12-31T23:30:00-01:00", "end_date_out_of_range"),
        ("1999-12-31T23:59:59Z", "end_date_out_of_range"),
        ("2100-01-01T00:00:00Z", "end_date_out_of_range"),
        ("next tuesday", "bad_end_date"),
        (20270101, "bad_end_date"),
    ],
)
def test_end_dates_outside_a_sane_window_skip_the_row(end_date, reason):
    with pytest.raises(Skip) as skipped:
        gamma_to_market(gamma_open(endDate=end_date))
    assert skipped.value.reason == reason


def test_a_date_only_end_date_is_midnight_utc():
    assert gamma_to_market(gamma_open(endDate="2027-03-31")).expires_at.isoformat() == "2027-03-31T00:00:00+00:00"


def test_control_characters_are_removed_and_single_line_fields_stay_single_line():
    market = gamma_to_market(
        gamma_open(
            question="Will\x00 it\nrain\x07?\ud800",
            description="Line one\nLine\x00 two\x1b[31m",
            outcomes=json.dumps(["Ye\x00s", "N\x85o"]),
            tags=[{"label": "Wea\x00ther\r\n"}],
        )
    )

    assert market.title == "Will it rain?"
    assert market.description == "Line one\nLine two[31m"
    assert (market.this_option, market.that_option) == ("Yes", "No")
    assert market.category == "Weather"


@pytest.mark.parametrize("outcomes", [["Yes", "yes"], ["", "No"], [{"a": 1}, "No"], ["\x00", "No"]])
def test_outcome_labels_that_cannot_tell_the_sides_apart_skip_the_row(outcomes):
    with pytest.raises(Skip) as skipped:
        gamma_to_market(gamma_open(outcomes=json.dumps(outcomes)))
    assert skipped.value.reason == "bad_outcome_labels"


@pytest.mark.parametrize("tokens", [["12", "12"], ["12", "javascript:alert(1)"], ["12"], [True, "12"]])
def test_token_ids_that_are_not_two_distinct_numbers_are_dropped(tokens):
    market = gamma_to_market(gamma_open(clobTokenIds=json.dumps(tokens)))

    assert (market.this_token_id, market.that_token_id) == ("", "")


def test_a_market_not_accepting_orders_maps_as_closed():
    assert gamma_to_market(gamma_open(acceptingOrders=False)).closed is True


# --- Ingestion: one bad row costs one row ----------------------------------------------------------
@responses.activate
def test_hostile_rows_are_skipped_and_the_catalogue_stays_readable(client, api_client):
    rows = gamma_rows(4)
    rows[1]["endDate"] = "0001-01-01T00:00:00+01:00"
    rows[2]["endDate"] = "9999-12-31T23:30:00-01:00"
    rows[3]["question"] = "Nul\x00 in the question?"
    serve_pages(rows)

    summary = markets_ingest(client=client)

    assert summary.created == 2
    assert dict(summary.skipped) == {"end_date_out_of_range": 2}
    assert Market.objects.get(polymarket_id=rows[3]["conditionId"]).title == "Nul in the question?"
    for url in ("/api/v1/markets", "/api/v1/markets/categories", "/api/v1/markets/random"):
        assert api_client.get(url).status_code == 200


def test_a_chunk_the_database_refuses_is_retried_row_by_row():
    from polymarket.services import IngestSummary, _upsert

    good = [external_market(polymarket_id=f"0x{n:064x}", title=f"Fine {n}?") for n in range(3)]
    bad = external_market(polymarket_id="0x" + "f" * 64, title="Refused by PostgreSQL\x00")  # bypasses the mapping
    summary = IngestSummary()

    _upsert([good[0], bad, *good[1:]], summary)

    assert summary.created == 3
    assert dict(summary.skipped) == {"database_rejected": 1}
    assert set(Market.objects.values_list("title", flat=True)) == {"Fine 0?", "Fine 1?", "Fine 2?"}


# --- Frozen identity -------------------------------------------------------------------------------
def _reversed(row: dict) -> dict:
    outcomes, prices, tokens = (json.loads(row[key]) for key in ("outcomes", "outcomePrices", "clobTokenIds"))
    return {
        **row,
        "outcomes": json.dumps(outcomes[::-1]),
        "outcomePrices": json.dumps(prices[::-1]),
        "clobTokenIds": json.dumps(tokens[::-1]),
    }


@responses.activate
def test_a_traded_market_keeps_its_sides_when_upstream_reverses_them(client):
    row = gamma_open(outcomes=json.dumps(["Over", "Under"]), outcomePrices=json.dumps(["0.3", "0.7"]))
    serve_pages([row])
    markets_ingest(client=client)
    market = Market.objects.get()
    bettor = UserFactory()
    bets = [place(bettor, market, side="this"), place(bettor, market, side="this")]
    Market.objects.filter(pk=market.pk).update(odds_updated_at=None)  # let ingestion refresh the odds
    responses.reset()
    serve_pages([{**_reversed(row), "outcomePrices": json.dumps(["0.6", "0.4"])}])  # Under 0.6, Over 0.4

    summary = markets_ingest(client=client)

    market.refresh_from_db()
    assert (market.this_option, market.that_option) == ("Over", "Under")
    assert (market.this_token_id, market.that_token_id) == tuple(json.loads(row["clobTokenIds"]))
    assert (market.this_odds, market.that_odds) == (Decimal("0.4000"), Decimal("0.6000"))
    assert market.upstream_identity_conflict["thisOption"] == "Under"
    assert market.upstream_identity_conflict_at is not None
    assert summary.identity_conflicts == 1
    assert all(bet.status == BetStatus.PENDING for bet in bets)


@responses.activate
def test_an_untraded_market_follows_upstream(client):
    row = gamma_open(outcomes=json.dumps(["Over", "Under"]))
    serve_pages([row])
    markets_ingest(client=client)
    responses.reset()
    serve_pages([_reversed(row)])

    markets_ingest(client=client)

    market = Market.objects.get()
    assert (market.this_option, market.that_option) == ("Under", "Over")
    assert market.upstream_identity_conflict is None


@responses.activate
def test_a_traded_market_with_foreign_outcomes_keeps_its_odds(client):
    row = gamma_open()
    serve_pages([row])
    markets_ingest(client=client)
    market = Market.objects.get()
    place(UserFactory(), market)
    Market.objects.filter(pk=market.pk).update(odds_updated_at=None)
    responses.reset()
    serve_pages(
        [{**row, "outcomes": '["Red", "Blue"]', "clobTokenIds": '["7", "8"]', "outcomePrices": '["0.9", "0.1"]'}]
    )

    markets_ingest(client=client)

    market.refresh_from_db()
    assert (market.this_option, market.this_odds) == ("Yes", Decimal(json.loads(row["outcomePrices"])[0]))
    assert market.upstream_identity_conflict == {
        "thisOption": "Red",
        "thatOption": "Blue",
        "thisTokenId": "7",
        "thatTokenId": "8",
    }


def test_the_database_refuses_odds_that_do_not_add_up():
    from django.db import IntegrityError

    market = external_market()
    from markets.services import markets_upsert_external

    markets_upsert_external(markets=[market])
    with pytest.raises(IntegrityError):
        Market.objects.update(this_odds=Decimal("0.1"), that_odds=Decimal("0.1"))


# --- Response bodies -------------------------------------------------------------------------------
@responses.activate
def test_an_oversized_answer_is_refused_without_being_kept(make_client):
    client = make_client()
    client.max_response_bytes = 1000
    responses.post(f"{CLOB}/midpoints", body="{" + " " * 5000 + "}")

    with pytest.raises(UnexpectedPayload, match="over"):
        client.midpoints(["1", "2"])
    assert len(responses.calls) == 1
    assert client.breaker.state() == "closed"


@responses.activate
def test_absurdly_nested_json_is_an_unexpected_payload(client):
    responses.get(f"{GAMMA}/markets/keyset", body="[" * 100_000 + "]" * 100_000)

    with pytest.raises(UnexpectedPayload):
        client.gamma_markets_page()


@responses.activate
def test_markets_by_condition_asks_gamma_with_repeated_filters(client):
    responses.get(f"{GAMMA}/markets/keyset", json={"markets": [{"conditionId": "0x1"}, "junk"]})

    rows = client.gamma_markets_by_condition(["0x1", "0x2"], closed=True)

    assert rows == [{"conditionId": "0x1"}]
    query = responses.calls[0].request.url.split("?", 1)[1]
    assert query == "condition_ids=0x1&condition_ids=0x2&closed=true&limit=100"
