import json
from decimal import Decimal

import pytest
import responses
from django.core.management import call_command
from django.test import override_settings
from django_celery_beat.models import PeriodicTask

from markets.models import Market, MarketStatus, MarketType
from markets.odds import price_cache_get
from polymarket.services import odds_sync
from tests.factories import MarketFactory, UserFactory
from tests.helpers.betting import place
from tests.helpers.polymarket import CLOB, GAMMA

MIDPOINTS = f"{CLOB}/midpoints"
pytestmark = pytest.mark.django_db


def serve_midpoints(prices: dict[str, str]) -> None:
    """POST /midpoints answering with the asked tokens that have a price in `prices`."""

    def answer(request):
        asked = [item["token_id"] for item in json.loads(request.body)]
        return 200, {}, json.dumps({token: prices[token] for token in asked if token in prices})

    responses.add_callback(responses.POST, MIDPOINTS, callback=answer)


def asked_tokens() -> list[list[str]]:
    return [[item["token_id"] for item in json.loads(call.request.body)] for call in responses.calls]


@responses.activate
def test_odds_come_from_batched_midpoints_and_are_stamped(client):
    market = MarketFactory(this_token_id="a1", that_token_id="a2", odds_updated_at=None)
    serve_midpoints({"a1": "0.42", "a2": "0.58"})

    summary = odds_sync(client=client)

    market.refresh_from_db()
    assert (market.this_odds, market.that_odds) == (Decimal("0.4200"), Decimal("0.5800"))
    assert market.odds_updated_at is not None
    assert (summary.markets, summary.updated, summary.requests, summary.errors) == (1, 1, 1, [])


@responses.activate
@pytest.mark.parametrize(
    ("prices", "reason"),
    [
        ({"b2": "0.3"}, "missing_side"),
        ({"b1": "0.10", "b2": "0.10"}, "bad_sum"),
        ({"b1": "0.90", "b2": "0.90"}, "bad_sum"),
        ({"b1": "1.5", "b2": "-0.5"}, "out_of_range"),
        ({"b1": "NaN", "b2": "0.5"}, "missing_side"),
    ],
    ids=["one-side", "sum-0.2", "sum-1.8", "out-of-range", "nan"],
)
def test_prices_that_are_not_coherent_odds_are_skipped_and_counted(client, prices, reason):
    skipped = MarketFactory(this_token_id="b1", that_token_id="b2")
    fine = MarketFactory(this_token_id="c1", that_token_id="c2")
    serve_midpoints({**prices, "c1": "0.4", "c2": "0.6"})

    summary = odds_sync(client=client)

    skipped.refresh_from_db()
    fine.refresh_from_db()
    assert (skipped.this_odds, skipped.that_odds) == (Decimal("0.6500"), Decimal("0.3500"))
    assert price_cache_get(skipped.id) is None
    assert (fine.this_odds, fine.that_odds) == (Decimal("0.4000"), Decimal("0.6000"))
    assert (summary.updated, summary.without_price, dict(summary.skipped)) == (1, 1, {reason: 1})


@responses.activate
@pytest.mark.parametrize("prices", [{}, {"d1": "1.5", "d2": "-0.5"}])
def test_a_market_without_a_usable_price_keeps_its_odds(client, prices):
    market = MarketFactory(this_token_id="d1", that_token_id="d2")
    serve_midpoints(prices)

    summary = odds_sync(client=client)

    market.refresh_from_db()
    assert (market.this_odds, market.that_odds) == (Decimal("0.6500"), Decimal("0.3500"))
    assert (summary.updated, summary.without_price) == (0, 1)


@responses.activate
def test_markets_are_synced_in_batches_busiest_first_up_to_the_limit(client):
    for n in range(5):
        MarketFactory(this_token_id=f"t{n}", that_token_id=f"u{n}", volume_24h=Decimal(100 * n))
    serve_midpoints({})

    summary = odds_sync(client=client, max_markets=4, batch_size=2)

    assert summary.requests == 2
    assert asked_tokens() == [["t4", "u4", "t3", "u3"], ["t2", "u2", "t1", "u1"]]


@responses.activate
def test_markets_with_pending_bets_are_synced_before_busier_ones(client):
    MarketFactory(this_token_id="busy1", that_token_id="busy2", volume_24h=Decimal("900000"))
    with_bet = MarketFactory(this_token_id="bet1", that_token_id="bet2", volume_24h=Decimal("1"))
    place(UserFactory(), with_bet)
    serve_midpoints({})

    odds_sync(client=client, max_markets=1)

    assert asked_tokens() == [["bet1", "bet2"]]


@responses.activate
def test_only_open_polymarket_markets_with_tokens_are_synced(client):
    MarketFactory(this_token_id="open1", that_token_id="open2")
    MarketFactory(this_token_id="closed1", status=MarketStatus.CLOSED)
    MarketFactory(this_token_id="resolved1", status=MarketStatus.RESOLVED, resolution="that")
    MarketFactory(market_type=MarketType.CREDITS)
    MarketFactory(this_token_id="", that_token_id="")
    serve_midpoints({})

    odds_sync(client=client)

    assert asked_tokens() == [["open1", "open2"]]


@responses.activate
def test_a_market_resolved_while_prices_were_fetched_keeps_its_odds(client):
    market = MarketFactory(this_token_id="e1", that_token_id="e2")

    def answer(request):
        Market.objects.filter(pk=market.pk).update(status=MarketStatus.RESOLVED, resolution="this")
        return 200, {}, json.dumps({"e1": "0.99", "e2": "0.01"})

    responses.add_callback(responses.POST, MIDPOINTS, callback=answer)

    summary = odds_sync(client=client)

    market.refresh_from_db()
    assert market.this_odds == Decimal("0.6500")
    assert summary.updated == 0


@responses.activate
def test_synced_odds_feed_the_live_endpoint_through_the_shared_cache(client, api_client):
    market = MarketFactory(this_token_id="f1", that_token_id="f2")
    serve_midpoints({"f1": "0.2", "f2": "0.8"})
    odds_sync(client=client)

    body = api_client.get(f"/api/v1/markets/{market.pk}/live").json()

    assert (body["source"], body["thisOdds"], body["thatOdds"], body["stale"]) == ("cache", 0.2, 0.8, False)
    assert len(responses.calls) == 1


@responses.activate
def test_an_open_breaker_stops_the_run_and_a_failed_batch_is_reported(make_client):
    client = make_client(attempts=1)
    for n in range(6):
        MarketFactory(this_token_id=f"g{n}", that_token_id=f"h{n}")
    responses.post(MIDPOINTS, status=503)

    summary = odds_sync(client=client, batch_size=1)

    assert summary.updated == 0
    assert len(responses.calls) == 5  # the fifth failure opened the breaker: no sixth request
    assert len(summary.errors) == 5
    assert client.breaker.state() == "open"


@responses.activate
@override_settings(POLYMARKET_GAMMA_URL=GAMMA, POLYMARKET_CLOB_URL=CLOB)
def test_the_command_prints_a_summary_line(capsys):
    MarketFactory(this_token_id="k1", that_token_id="k2")
    serve_midpoints({"k1": "0.5", "k2": "0.5"})

    call_command("sync_odds")

    assert "Synced odds of 1 of 1 markets in 1 requests (0 without a price)" in capsys.readouterr().out


def test_the_jobs_are_scheduled_in_beat_and_editable_there():
    schedules = {task.task: task for task in PeriodicTask.objects.filter(task__startswith="polymarket.")}

    ingest, sync = schedules["polymarket.tasks.ingest_markets"], schedules["polymarket.tasks.sync_odds"]
    assert (ingest.interval.every, ingest.interval.period, ingest.enabled) == (5, "minutes", True)
    assert (sync.interval.every, sync.interval.period, sync.enabled) == (30, "seconds", True)
