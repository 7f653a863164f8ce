"""The resolution poller against Polymarket at the HTTP boundary (`responses`), with the real database."""

import copy
import json
import logging
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from betting.models import Bet, BetStatus
from markets.models import Market, MarketStatus, MarketType, Resolution, ResolutionSource
from polymarket import tasks
from polymarket.resolution import resolutions_poll
from polymarket.services import last_successes
from tests.factories import MarketFactory, UserFactory
from tests.helpers.polymarket import CLOB, GAMMA
from tests.polymarket.payloads import load
from thisthat.locks import cache_lock

pytestmark = pytest.mark.django_db
ANY_GAMMA_MARKET = re.compile(rf"{re.escape(GAMMA)}/markets/\d+")
GAMMA_BATCH = f"{GAMMA}/markets/keyset"
POLYMARKET_SETTINGS = {"POLYMARKET_GAMMA_URL": GAMMA, "POLYMARKET_CLOB_URL": CLOB, "POLYMARKET_RETRY_ATTEMPTS": 1}


class GammaFilter:
    """Gamma's filtered listing (`/markets/keyset?condition_ids=..&closed=..`) over the rows served,
    as Gamma answers it: only the rows whose `closed` matches the filter (false when not given)."""

    def __init__(self):
        self.rows: dict[str, dict] = {}
        self.status = 200

    def __call__(self, request):
        if self.status != 200:
            return self.status, {}, json.dumps({"error": "unavailable"})
        query = parse_qs(urlsplit(request.url).query)
        wanted = set(query.get("condition_ids", []))
        closed = query.get("closed", ["false"])[0] == "true"
        rows = [row for key, row in self.rows.items() if key in wanted and (row.get("closed") is True) == closed]
        return 200, {}, json.dumps({"markets": rows})


gamma_listing = GammaFilter()


@pytest.fixture(autouse=True)
def _gamma_listing():
    """Gamma's filtered listing on the module-level `responses` mock that each test activates."""
    gamma_listing.__init__()
    responses.add_callback(responses.GET, GAMMA_BATCH, callback=gamma_listing)
    yield
    responses.reset()


def candidate(**fields) -> Market:
    """A Polymarket market the poller should ask about (closed upstream, not yet settled here)."""
    return MarketFactory(status=MarketStatus.CLOSED, **fields)


def gamma_payload(market: Market, *, prices: str = '["0", "1"]', **changes) -> dict:
    """The recorded resolved Gamma market, re-keyed to `market`, with `changes` applied."""
    row = copy.deepcopy(load("gamma_market_resolved"))
    row.update(
        id=market.polymarket_gamma_id,
        conditionId=market.polymarket_id,
        clobTokenIds=json.dumps([market.this_token_id, market.that_token_id]),
        outcomePrices=prices,
    )
    row.update(changes)
    return row


def clob_payload(market: Market, *, winner: str | None, **changes) -> dict:
    """The recorded resolved CLOB excerpt, re-keyed to `market`'s tokens, `winner` "this"/"that"/None."""
    row = copy.deepcopy(load("clob_market_resolved_excerpt"))
    row["condition_id"] = market.polymarket_id
    token_ids = (market.this_token_id, market.that_token_id)
    for token, side, token_id in zip(row["tokens"], ("this", "that"), token_ids, strict=True):
        token.update(token_id=token_id, winner=side == winner, price=1 if side == winner else 0)
    return {**row, **changes}


def serve(market: Market, *, gamma: dict | None = None, clob: dict | None = None, gamma_status=200, clob_status=200):
    """Gamma's row in the filtered listing (or, with a gamma_status other than 200, missing there and
    that status when asked alone), and CLOB's market."""
    if gamma_status == 200:
        gamma_listing.rows[market.polymarket_id] = gamma or {"conditionId": market.polymarket_id}
    responses.get(f"{GAMMA}/markets/{market.polymarket_gamma_id}", json=gamma or {}, status=gamma_status)
    responses.get(f"{CLOB}/markets/{market.polymarket_id}", json=clob or {}, status=clob_status)


def serve_resolved(market: Market, *, winner: str = "that") -> None:
    prices = '["1", "0"]' if winner == "this" else '["0", "1"]'
    serve(market, gamma=gamma_payload(market, prices=prices), clob=clob_payload(market, winner=winner))


def asked_urls() -> list[str]:
    return [call.request.url.split("?")[0] for call in responses.calls]


def condition_ids_asked() -> set[str]:
    return {
        condition_id
        for call in responses.calls
        if call.request.url.startswith(GAMMA_BATCH)
        for condition_id in parse_qs(urlsplit(call.request.url).query).get("condition_ids", [])
    }


def pending_bet(market: Market) -> Bet:
    return Bet.objects.create(
        user=UserFactory(),
        market=market,
        side="this",
        amount=Decimal("100"),
        odds_at_bet=Decimal("0.5"),
        potential_payout=Decimal("200"),
        status=BetStatus.PENDING,
    )


@responses.activate
def test_a_market_resolved_on_both_apis_is_resolved_from_polymarket(client):
    market = candidate()
    serve_resolved(market, winner="that")

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution, market.resolution_source) == (
        MarketStatus.RESOLVED,
        Resolution.THAT,
        ResolutionSource.POLYMARKET,
    )
    assert market.resolved_at is not None and market.resolution_checked_at is not None
    assert (summary.checked, dict(summary.resolved), summary.errors) == (1, {"that": 1}, [])
    assert last_successes()["resolution_poll"] is not None


@responses.activate
def test_a_this_result_resolves_on_this(client):
    market = candidate()
    serve_resolved(market, winner="this")

    resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)


@responses.activate
def test_a_50_50_result_cancels_the_market_as_invalid(client):
    market = candidate()
    serve(
        market,
        gamma=gamma_payload(market, prices='["0.5", "0.5"]'),
        clob=clob_payload(market, winner=None, is_50_50_outcome=True),
    )

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.CANCELLED, Resolution.INVALID)
    assert dict(summary.resolved) == {"invalid": 1}


@responses.activate
def test_waiting_markets_stay_unsettled_and_are_stamped_as_checked(client):
    expired_open = MarketFactory(expires_at=timezone.now() - timedelta(hours=1))
    closed_proposed = candidate()
    serve(expired_open, gamma=gamma_payload(expired_open, closed=False, prices='["0.0005", "0.9995"]'))
    serve(closed_proposed, gamma=gamma_payload(closed_proposed, umaResolutionStatus="proposed"))

    summary = resolutions_poll(client=client)

    for market in (expired_open, closed_proposed):
        market.refresh_from_db()
        assert (market.status, market.resolution) == (MarketStatus.CLOSED, None)  # past its end date: closed
        assert market.resolution_checked_at is not None
    assert dict(summary.waiting) == {"not_closed": 1, "uma_not_resolved": 1}
    assert all(url.startswith(GAMMA) for url in asked_urls())  # CLOB is only asked once Gamma looks final
    assert last_successes()["resolution_poll"] is not None


@responses.activate
def test_apis_that_disagree_keep_the_market_waiting_with_a_warning(client, caplog):
    market = candidate()
    serve(market, gamma=gamma_payload(market, prices='["0", "1"]'), clob=clob_payload(market, winner="this"))

    with caplog.at_level(logging.INFO, logger="polymarket.resolution"):
        summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.CLOSED, None)
    assert dict(summary.waiting) == {"apis_disagree": 1}
    [warning] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert (warning.getMessage(), warning.market_id, warning.reason) == (
        "resolution: waiting",
        str(market.pk),
        "apis_disagree",
    )


@responses.activate
def test_a_clob_that_stopped_trading_without_a_winner_keeps_the_market_waiting(client):
    market = candidate()
    serve(market, gamma=gamma_payload(market), clob=clob_payload(market, winner=None, active=False, closed=False))

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert market.resolution is None
    assert dict(summary.waiting) == {"clob_not_closed": 1}


@responses.activate
def test_a_market_clob_does_not_have_is_decided_by_gamma_alone(client):
    market = candidate()
    serve(market, gamma=gamma_payload(market, prices='["1", "0"]'), clob_status=404)

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)
    assert (summary.errors, summary.failed_requests) == ([], 0)


@responses.activate
def test_any_other_clob_failure_skips_the_market_this_run(make_client):
    client = make_client(attempts=1)
    market = candidate()
    serve(market, gamma=gamma_payload(market), clob_status=500)

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.CLOSED, None)
    assert market.resolution_checked_at is not None  # it was asked: the round-robin moves on
    assert len(summary.errors) == 1 and "clob" in summary.errors[0]
    assert last_successes()["resolution_poll"] is None


@responses.activate
def test_a_gamma_503_for_one_market_does_not_stop_the_next(make_client):
    client = make_client(attempts=1)
    now = timezone.now()
    failing = candidate(expires_at=now - timedelta(days=2))
    resolved = candidate(expires_at=now - timedelta(days=1))
    serve(failing, gamma_status=503)
    serve_resolved(resolved)

    summary = resolutions_poll(client=client)

    resolved.refresh_from_db()
    failing.refresh_from_db()
    assert resolved.status == MarketStatus.RESOLVED
    assert (failing.status, failing.resolution_checked_at is not None) == (MarketStatus.CLOSED, True)
    assert len(summary.errors) == 1 and str(failing.pk) in summary.errors[0]
    assert (summary.checked, summary.stopped_early) == (2, False)
    assert last_successes()["resolution_poll"] is not None


@responses.activate
def test_an_open_breaker_ends_the_run_without_asking_anyone(client):
    markets = [candidate() for _ in range(3)]
    for _ in range(client.breaker.failure_threshold):
        client.breaker.record_failure()

    summary = resolutions_poll(client=client)

    assert len(responses.calls) == 0
    assert summary.stopped_early and summary.checked == 0
    assert (summary.requests, summary.failed_requests) == (1, 1)
    assert not Market.objects.filter(pk__in=[m.pk for m in markets], resolution_checked_at__isnull=False).exists()
    assert last_successes()["resolution_poll"] is None


@responses.activate
def test_a_breaker_that_opens_during_the_run_ends_it(make_client):
    client = make_client(attempts=1)
    for _ in range(client.breaker.failure_threshold + 2):
        candidate()
    responses.get(ANY_GAMMA_MARKET, status=503)  # none is in the filtered listing: each is asked alone

    summary = resolutions_poll(client=client)

    alone = [url for url in asked_urls() if ANY_GAMMA_MARKET.fullmatch(url)]
    assert len(alone) == client.breaker.failure_threshold
    assert client.breaker.state() == "open"
    assert summary.stopped_early
    assert summary.checked == client.breaker.failure_threshold


@responses.activate
def test_markets_take_turns_least_recently_checked_first(client):
    first, second = candidate(), candidate()
    for market in (first, second):
        serve(market, gamma=gamma_payload(market, closed=False))

    asked = []
    for _ in range(3):
        responses.calls.reset()
        resolutions_poll(client=client, limit=1)
        [condition_id] = condition_ids_asked()
        asked.append(condition_id)

    assert len(set(asked[:2])) == 2
    assert asked[2] == asked[0]


@responses.activate
def test_only_candidates_are_polled(client):
    now = timezone.now()
    closed = candidate()
    expired = MarketFactory(expires_at=now - timedelta(minutes=1))
    with_pending_bet = MarketFactory()
    pending_bet(with_pending_bet)
    quiet_open = MarketFactory()
    gone_from_listing = MarketFactory(listed_at=now - timedelta(hours=1))
    MarketFactory(listed_at=now - timedelta(minutes=5))
    sold_only = MarketFactory()
    Bet.objects.filter(pk=pending_bet(sold_only).pk).update(
        status=BetStatus.SOLD, actual_payout=Decimal("50"), resolved_at=now
    )
    MarketFactory(status=MarketStatus.RESOLVED, resolution=Resolution.THIS, expires_at=now - timedelta(days=1))
    MarketFactory(status=MarketStatus.CANCELLED, resolution=Resolution.INVALID, expires_at=now - timedelta(days=1))
    MarketFactory(market_type=MarketType.CREDITS, status=MarketStatus.CLOSED)
    for market in (closed, expired, with_pending_bet, gone_from_listing):
        serve(market, gamma=gamma_payload(market, closed=False))

    summary = resolutions_poll(client=client)

    asked = {m.polymarket_id for m in (closed, expired, with_pending_bet, gone_from_listing)}
    assert condition_ids_asked() == asked
    assert summary.candidates == 4
    quiet_open.refresh_from_db()
    assert quiet_open.resolution_checked_at is None


@responses.activate
def test_already_resolved_markets_are_not_polled(client):
    market = candidate()
    serve_resolved(market)
    resolutions_poll(client=client)
    calls = len(responses.calls)

    summary = resolutions_poll(client=client)

    assert len(responses.calls) == calls
    assert summary.candidates == 0
    assert last_successes()["resolution_poll"] is not None


@responses.activate
def test_a_market_resolved_otherwise_meanwhile_is_reported_and_the_next_goes_on(client):
    now = timezone.now()
    raced, next_one = candidate(expires_at=now - timedelta(days=2)), candidate(expires_at=now - timedelta(days=1))

    def gamma_answer(request):
        Market.objects.filter(pk=raced.pk).update(status=MarketStatus.RESOLVED, resolution=Resolution.THIS)
        return 200, {}, json.dumps(gamma_payload(raced, prices='["0", "1"]'))

    responses.add_callback(responses.GET, f"{GAMMA}/markets/{raced.polymarket_gamma_id}", callback=gamma_answer)
    responses.get(f"{CLOB}/markets/{raced.polymarket_id}", json=clob_payload(raced, winner="that"))
    serve_resolved(next_one)

    summary = resolutions_poll(client=client)

    raced.refresh_from_db()
    next_one.refresh_from_db()
    assert (raced.status, raced.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)
    assert next_one.status == MarketStatus.RESOLVED
    assert len(summary.errors) == 1 and str(raced.pk) in summary.errors[0]


@responses.activate
@override_settings(**POLYMARKET_SETTINGS)
def test_the_command_prints_progress_and_a_summary_line(capsys):
    market = candidate(title="Kraken IPO in 2025?")
    serve_resolved(market)

    call_command("poll_resolutions")

    out = capsys.readouterr().out
    assert f"[1/1] {market.pk} 'Kraken IPO in 2025?': resolved as that" in out
    assert "Checked 1 of 1 candidate markets in 2 requests" in out
    assert '1 resolved {"that": 1}, 0 waiting {}, 0 errors' in out


@responses.activate
@override_settings(**POLYMARKET_SETTINGS)
def test_the_command_limit_is_honoured(capsys):
    for _ in range(3):
        market = candidate()
        serve(market, gamma=gamma_payload(market, closed=False))

    call_command("poll_resolutions", "--limit=2")

    assert len(condition_ids_asked()) == 2
    assert "Checked 2 of 2 candidate markets" in capsys.readouterr().out


@pytest.mark.parametrize("option", ["--limit=0", "--limit=-3"])
def test_the_command_refuses_a_limit_below_one(option):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("poll_resolutions", option)


@responses.activate
@override_settings(**POLYMARKET_SETTINGS)
def test_the_command_fails_when_every_polymarket_call_failed():
    candidate()
    candidate()
    gamma_listing.status = 503

    with pytest.raises(CommandError, match="Polymarket could not be read"):
        call_command("poll_resolutions")


def test_the_poller_is_scheduled_every_60_seconds_in_beat():
    task = PeriodicTask.objects.get(task="polymarket.tasks.poll_resolutions")

    assert (task.name, task.interval.every, task.interval.period, task.enabled) == (
        "Poll Polymarket resolutions",
        60,
        "seconds",
        True,
    )


@responses.activate
@override_settings(**POLYMARKET_SETTINGS)
def test_the_task_returns_the_summary_and_skips_while_another_run_holds_the_lock():
    market = candidate()
    serve_resolved(market)

    with cache_lock("polymarket.tasks.poll_resolutions", timeout=60):
        assert tasks.poll_resolutions.delay().get() is None
    assert len(responses.calls) == 0

    result = tasks.poll_resolutions.delay().get()

    assert (result["checked"], result["resolved"], result["errors"]) == (1, {"that": 1}, [])


@responses.activate
def test_a_market_stored_without_tokens_maps_the_clob_winner_with_gammas_tokens(client):
    market = candidate()
    tokens = (market.this_token_id, market.that_token_id)
    serve_resolved(market, winner="this")
    Market.objects.filter(pk=market.pk).update(this_token_id="", that_token_id="")

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)
    assert dict(summary.resolved) == {"this": 1}
    assert all(tokens)


@responses.activate
def test_without_tokens_anywhere_gamma_alone_decides(client):
    market = candidate()
    gamma = gamma_payload(market, prices='["1", "0"]')
    del gamma["clobTokenIds"]
    responses.get(f"{GAMMA}/markets/{market.polymarket_gamma_id}", json=gamma)
    Market.objects.filter(pk=market.pk).update(this_token_id="", that_token_id="")

    resolutions_poll(client=client)

    market.refresh_from_db()
    assert market.resolution == Resolution.THIS
    assert not any(url.startswith(CLOB) for url in asked_urls())


# --- Closed means closed ---------------------------------------------------------------------------
@responses.activate
@pytest.mark.parametrize(
    "upstream",
    [
        {"closed": True, "umaResolutionStatus": None, "prices": '["1", "0"]'},  # closed, oracle pending
        {"closed": False, "acceptingOrders": False, "prices": '["0.5", "0.5"]'},
    ],
    ids=["closed-not-final", "not-accepting-orders"],
)
def test_a_market_upstream_stopped_trading_is_closed_to_bets_before_its_result(client, api_client, upstream):
    market = MarketFactory()
    pending_bet(market)
    serve(market, gamma=gamma_payload(market, **upstream))

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.CLOSED, None)
    assert summary.closed == 1
    bettor = UserFactory()
    api_client.force_authenticate(bettor)
    body = {"marketId": str(market.pk), "side": "this", "amount": "1000"}
    response = api_client.post("/api/v1/bets", body, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "MARKET_CLOSED")


@responses.activate
def test_an_open_market_still_trading_upstream_stays_open(client):
    market = MarketFactory()
    pending_bet(market)
    serve(market, gamma=gamma_payload(market, closed=False, acceptingOrders=True, prices='["0.6", "0.4"]'))

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert market.status == MarketStatus.OPEN
    assert (summary.closed, dict(summary.waiting)) == (0, {"not_closed": 1})


@responses.activate
def test_every_market_with_pending_bets_is_checked_in_one_run_with_batched_gamma_requests(client):
    markets = MarketFactory.create_batch(230)
    for market in markets:
        pending_bet(market)
        serve(market, gamma=gamma_payload(market, closed=False, prices='["0.6", "0.4"]'))
    serve(markets[0], gamma=gamma_payload(markets[0], closed=True, umaResolutionStatus="proposed"))

    summary = resolutions_poll(client=client)

    assert summary.checked == 230
    batch_requests = [url for url in asked_urls() if url == GAMMA_BATCH]
    assert len(batch_requests) == len(asked_urls()) == 6  # 3 chunks of at most 100, closed and open each
    assert Market.objects.filter(resolution_checked_at__isnull=True).count() == 0
    assert Market.objects.get(pk=markets[0].pk).status == MarketStatus.CLOSED


@responses.activate
def test_a_market_missing_from_the_filtered_listing_is_asked_alone(client):
    market = candidate()
    responses.get(f"{GAMMA}/markets/{market.polymarket_gamma_id}", json=gamma_payload(market, prices='["1", "0"]'))
    responses.get(f"{CLOB}/markets/{market.polymarket_id}", json=clob_payload(market, winner="this"))

    resolutions_poll(client=client)

    market.refresh_from_db()
    assert market.resolution == Resolution.THIS


@responses.activate
def test_a_resolved_market_whose_outcomes_upstream_reversed_settles_our_side(client):
    market = candidate()
    reversed_row = gamma_payload(
        market,
        outcomes='["No", "Yes"]',
        prices='["1", "0"]',  # upstream's first outcome, now our THAT, won
        clobTokenIds=json.dumps([market.that_token_id, market.this_token_id]),
    )
    serve(market, gamma=reversed_row, clob=clob_payload(market, winner="that"))

    resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THAT)


# --- results that change upstream after we settled --------------------------------------------------
def settled_market(outcome: str = Resolution.THIS, **fields) -> Market:
    """A Polymarket market we resolved (and settled) an hour ago."""
    resolved_at = timezone.now() - timedelta(hours=1)
    status = MarketStatus.CANCELLED if outcome == Resolution.INVALID else MarketStatus.RESOLVED
    return MarketFactory(status=status, resolution=outcome, resolved_at=resolved_at, settled_at=resolved_at, **fields)


@responses.activate
def test_a_settled_market_whose_upstream_result_now_differs_is_flagged_never_unresolved(client):
    market = settled_market(Resolution.THIS)
    bet = pending_bet(market)
    Bet.objects.filter(pk=bet.pk).update(status=BetStatus.WON, actual_payout=Decimal("200"), resolved_at=timezone.now())
    serve_resolved(market, winner="that")  # upstream corrected its result

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.status, market.resolution) == (MarketStatus.RESOLVED, Resolution.THIS)  # ours stands
    assert (market.upstream_result_conflict, summary.rechecked, summary.result_conflicts) == ("that", 1, 1)
    assert market.upstream_result_conflict_at is not None
    assert Bet.objects.get(pk=bet.pk).status == BetStatus.WON
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    listed = staff.get("/admin/markets/market/", {"result_conflict": "yes"})
    assert [row.pk for row in listed.context["cl"].result_list] == [market.pk]


@responses.activate
def test_a_settled_market_upstream_agrees_with_is_not_flagged_and_an_old_flag_is_cleared(client):
    market = settled_market(Resolution.THAT, upstream_result_conflict=Resolution.THIS)
    serve_resolved(market, winner="that")

    summary = resolutions_poll(client=client)

    market.refresh_from_db()
    assert (market.upstream_result_conflict, summary.rechecked, summary.result_conflicts) == (None, 1, 0)


@responses.activate
def test_results_are_rechecked_at_most_hourly_and_only_for_recently_settled_markets(client):
    checked_recently = settled_market(resolution_checked_at=timezone.now() - timedelta(minutes=10))
    long_ago = settled_market()
    Market.objects.filter(pk=long_ago.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    credits = MarketFactory(market_type=MarketType.CREDITS, status=MarketStatus.RESOLVED, resolution="this")
    Market.objects.filter(pk=credits.pk).update(resolved_at=timezone.now())

    summary = resolutions_poll(client=client)

    assert summary.rechecked == 0
    assert not condition_ids_asked() & {checked_recently.polymarket_id, long_ago.polymarket_id}


@responses.activate
def test_re_resolving_to_the_upstream_result_clears_the_flag(client, django_capture_on_commit_callbacks):
    from betting.services import market_unresolve

    market = settled_market(Resolution.THIS, upstream_result_conflict=Resolution.THAT)
    staff = UserFactory(is_staff=True)

    with django_capture_on_commit_callbacks(execute=True):
        market_unresolve(market_id=market.pk, reason="upstream corrected", staff_id=staff.pk, outcome=Resolution.THAT)

    market.refresh_from_db()
    assert (market.resolution, market.upstream_result_conflict) == (Resolution.THAT, None)
