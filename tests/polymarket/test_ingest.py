import json
from datetime import timedelta

import pytest
import requests
import responses
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from markets.models import Market, MarketStatus
from polymarket import tasks
from polymarket.services import markets_ingest
from tests.factories import MarketFactory
from tests.helpers.polymarket import CLOB, GAMMA, KEYSET, serve_pages
from tests.polymarket.payloads import gamma_open, gamma_rows, load

pytestmark = pytest.mark.django_db


@responses.activate
def test_ingestion_pages_through_the_keyset_listing_and_stores_every_binary_market(client):
    rows = gamma_rows(7)
    bad = [
        load("gamma_market_undeployed_no_prices"),
        gamma_open(conditionId="0x" + "b" * 64, outcomes=json.dumps(["A", "B", "C"])),
        gamma_open(conditionId="0x" + "c" * 64, archived=True),
    ]
    serve_pages(rows[:3] + bad[:1], rows[3:6] + bad[1:], rows[6:])

    summary = markets_ingest(client=client)

    assert (summary.pages, summary.fetched, summary.created) == (3, 10, 7)
    assert dict(summary.skipped) == {"not_deployed": 1, "not_binary": 1, "archived": 1}
    assert summary.errors == []
    assert [call.request.params.get("after_cursor") for call in responses.calls] == [None, "c1", "c2"]
    stored = Market.objects.get(polymarket_id=rows[0]["conditionId"])
    assert (stored.title, stored.market_type, stored.status) == ("Market number 0?", "polymarket", "open")
    assert (stored.this_token_id, stored.category, stored.category_slug) == ("00001", "world affairs", "world-affairs")


@responses.activate
def test_running_ingestion_twice_changes_nothing(client):
    serve_pages(gamma_rows(5))
    markets_ingest(client=client)
    before = {market.pk: (market.updated_at, market.odds_updated_at) for market in Market.objects.all()}

    again = markets_ingest(client=client)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    after = {market.pk: (market.updated_at, market.odds_updated_at) for market in Market.objects.all()}
    assert after == before


@responses.activate
def test_a_changed_upstream_market_is_updated_in_place(client):
    rows = gamma_rows(2)
    serve_pages(rows)
    markets_ingest(client=client)
    rows[1]["question"] = "Renamed?"
    rows[1]["volumeNum"] = 5.5

    summary = markets_ingest(client=client)

    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    renamed = Market.objects.get(polymarket_id=rows[1]["conditionId"])
    assert (renamed.title, str(renamed.volume)) == ("Renamed?", "5.50")
    assert Market.objects.count() == 2


@responses.activate
def test_a_market_closed_upstream_becomes_closed(client):
    rows = gamma_rows(1)
    serve_pages(rows)
    markets_ingest(client=client)
    rows[0]["closed"] = True

    markets_ingest(client=client)

    assert Market.objects.get().status == MarketStatus.CLOSED


@responses.activate
def test_settled_markets_are_never_touched_by_ingestion(client):
    rows = gamma_rows(1)
    settled = MarketFactory(
        polymarket_id=rows[0]["conditionId"], status=MarketStatus.RESOLVED, resolution="this", title="Ours"
    )
    serve_pages(rows)

    summary = markets_ingest(client=client)

    assert (summary.created, summary.updated, summary.settled) == (0, 0, 1)
    settled.refresh_from_db()
    assert (settled.title, settled.status) == ("Ours", MarketStatus.RESOLVED)


@responses.activate
def test_markets_that_vanish_from_the_listing_are_kept_but_no_longer_stamped_as_listed(client):
    serve_pages(gamma_rows(3))
    markets_ingest(client=client)
    Market.objects.update(listed_at=timezone.now() - timedelta(hours=1))
    responses.reset()
    serve_pages(gamma_rows(1))

    markets_ingest(client=client)

    assert Market.objects.count() == 3
    recently_listed = Market.objects.filter(listed_at__gte=timezone.now() - timedelta(minutes=1))
    assert list(recently_listed.values_list("polymarket_id", flat=True)) == [gamma_rows(1)[0]["conditionId"]]


@responses.activate
def test_only_the_busiest_markets_are_kept_and_a_sorted_listing_is_not_read_to_the_end(client):
    rows = gamma_rows(10)  # busiest first
    serve_pages(rows[:4], rows[4:8], rows[8:])

    summary = markets_ingest(client=client, max_markets=4)

    assert summary.pages == 1
    assert set(Market.objects.values_list("polymarket_id", flat=True)) == {row["conditionId"] for row in rows[:4]}


@responses.activate
def test_an_unsorted_listing_is_read_to_the_end_and_the_busiest_are_picked(client):
    rows = list(reversed(gamma_rows(10)))  # quietest first: upstream ignored our order
    serve_pages(rows[:4], rows[4:8], rows[8:])

    summary = markets_ingest(client=client, max_markets=3)

    assert summary.pages == 3
    busiest = {row["conditionId"] for row in gamma_rows(3)}
    assert set(Market.objects.values_list("polymarket_id", flat=True)) == busiest


@responses.activate
def test_a_page_that_keeps_failing_ends_paging_but_keeps_what_was_read(client):
    rows = gamma_rows(4)
    responses.get(KEYSET, json={"markets": rows[:2], "next_cursor": "c1"})
    responses.get(KEYSET, body=requests.ReadTimeout("read timed out"))

    summary = markets_ingest(client=client)

    assert summary.pages == 1
    assert summary.created == 2
    assert len(summary.errors) == 1 and "page 2" in summary.errors[0]
    assert Market.objects.count() == 2


@responses.activate
def test_a_repeated_cursor_stops_paging(client):
    rows = gamma_rows(2)
    responses.get(KEYSET, json={"markets": rows[:1], "next_cursor": "same"})
    responses.get(KEYSET, json={"markets": rows[1:], "next_cursor": "same"})

    summary = markets_ingest(client=client)

    assert summary.pages == 2
    assert summary.created == 2
    assert "cursor repeated" in summary.errors[0]


@responses.activate
def test_paging_stops_at_the_page_cap(client):
    serve_pages(gamma_rows(1), gamma_rows(1, start=1), gamma_rows(1, start=2))

    summary = markets_ingest(client=client, max_pages=2)

    assert summary.pages == 2
    assert summary.created == 2
    assert "POLYMARKET_INGEST_MAX_PAGES" in summary.errors[0]


@responses.activate
def test_a_market_listed_twice_is_stored_once(client):
    rows = gamma_rows(2)
    serve_pages(rows, [rows[0]])

    summary = markets_ingest(client=client)

    assert summary.created == 2
    assert summary.skipped["duplicate"] == 1


@responses.activate
def test_ingestion_writes_in_bulk_whatever_the_number_of_markets(client, django_assert_max_num_queries):
    serve_pages(gamma_rows(300))

    with django_assert_max_num_queries(6):
        summary = markets_ingest(client=client)

    assert summary.created == 300


@responses.activate
def test_ingestion_makes_new_markets_visible_in_a_cached_listing(
    client, api_client, django_capture_on_commit_callbacks
):
    assert api_client.get("/api/v1/markets").json()["total"] == 0  # now cached
    serve_pages(gamma_rows(2))

    with django_capture_on_commit_callbacks(execute=True):
        markets_ingest(client=client)

    assert api_client.get("/api/v1/markets").json()["total"] == 2


@responses.activate
@override_settings(POLYMARKET_GAMMA_URL=GAMMA, POLYMARKET_CLOB_URL=CLOB)
def test_the_command_prints_progress_and_a_summary_line(capsys):
    serve_pages(gamma_rows(2), [load("gamma_market_undeployed_no_prices")])

    call_command("ingest_markets")

    out = capsys.readouterr().out
    assert "page 1: 2 rows" in out
    assert "Ingested 2 pages (3 rows)" in out
    assert '2 created, 0 updated, 0 unchanged, 1 skipped {"not_deployed": 1}' in out


@responses.activate
@override_settings(POLYMARKET_GAMMA_URL=GAMMA, POLYMARKET_CLOB_URL=CLOB, POLYMARKET_RETRY_ATTEMPTS=1)
def test_the_command_fails_when_polymarket_cannot_be_read():
    responses.get(KEYSET, status=503)

    with pytest.raises(CommandError, match="could not be read"):
        call_command("ingest_markets")


@pytest.mark.parametrize("option", ["--max-markets=0", "--max-pages=-1"])
def test_the_command_refuses_nonsense_limits(option):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("ingest_markets", option)


@responses.activate
@override_settings(POLYMARKET_GAMMA_URL=GAMMA, POLYMARKET_CLOB_URL=CLOB)
def test_the_task_returns_the_summary_and_skips_while_another_run_holds_the_lock():
    serve_pages(gamma_rows(1))

    assert tasks.ingest_markets.delay().get()["created"] == 1
    from thisthat.locks import cache_lock

    with cache_lock("polymarket.tasks.ingest_markets", timeout=60):
        assert tasks.ingest_markets.delay().get() is None
    assert len(responses.calls) == 1
