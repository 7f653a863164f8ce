"""Polymarket jobs: market ingestion and odds sync. They fetch through the client, map with the
pure functions of `mapping`, and write only through `markets.services`."""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from markets import selectors as market_selectors
from markets import services as market_services
from markets.odds import IncoherentOdds, odds_checked, price_cache_put_many
from markets.services import ExternalMarket, OddsUpdate, UpsertResult
from thisthat.jobs import JobSummary

from .client import PolymarketClient, UnexpectedPayload, UpstreamRejected
from .connection import polymarket_client
from .mapping import Skip, gamma_to_market
from .resilience import UpstreamUnavailable

logger = logging.getLogger(__name__)

UPSERT_CHUNK = 500
Progress = Callable[[str], None]


def _last_success_key(job: str) -> str:
    return f"polymarket:last-success:{job}"


def job_succeeded(job: str) -> None:
    cache.set(_last_success_key(job), timezone.now().isoformat(), timeout=None)


def last_successes() -> dict[str, str | None]:
    jobs = ("ingestion", "odds_sync", "resolution_poll")
    found = cache.get_many([_last_success_key(job) for job in jobs])
    return {job: found.get(_last_success_key(job)) for job in jobs}


@dataclass
class IngestSummary(JobSummary):
    pages: int = 0
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    settled: int = 0
    identity_conflicts: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def _map_rows(rows: list, summary: IngestSummary, seen: dict[str, ExternalMarket]) -> None:
    for row in rows:
        try:
            market = gamma_to_market(row)
        except Skip as skip:
            summary.skipped[skip.reason] += 1
            continue
        if market.polymarket_id in seen:
            summary.skipped["duplicate"] += 1
            continue
        seen[market.polymarket_id] = market


def _add(summary: IngestSummary, result: UpsertResult) -> None:
    summary.created += result.created
    summary.updated += result.updated
    summary.unchanged += result.unchanged
    summary.settled += result.settled
    summary.identity_conflicts += result.identity_conflicts


def _upsert(markets: list[ExternalMarket], summary: IngestSummary) -> None:
    """Upsert in chunks; a chunk the database refuses is retried market by market, so one bad row
    costs that row (skipped as `database_rejected`), never its chunk."""
    for start in range(0, len(markets), UPSERT_CHUNK):
        chunk = markets[start : start + UPSERT_CHUNK]
        try:
            _add(summary, market_services.markets_upsert_external(markets=chunk))
            continue
        except DatabaseError:
            logger.warning("ingestion chunk refused; retrying it market by market", extra={"size": len(chunk)})
        for market in chunk:
            try:
                _add(summary, market_services.markets_upsert_external(markets=[market]))
            except DatabaseError as exc:
                summary.skipped["database_rejected"] += 1
                logger.warning(
                    "ingestion: market refused by the database",
                    extra={"polymarket_id": market.polymarket_id, "error": exc},
                )


def markets_ingest(
    *,
    client: PolymarketClient | None = None,
    max_markets: int | None = None,
    page_size: int | None = None,
    max_pages: int | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Page through Gamma's open markets (keyset) and upsert the `max_markets` most traded in the
    last 24 h. A bad row is skipped by reason; a failed page ends the paging but keeps what was read."""
    client = client or polymarket_client()
    max_markets = max_markets or settings.POLYMARKET_INGEST_MAX_MARKETS
    page_size = page_size or settings.POLYMARKET_INGEST_PAGE_SIZE
    max_pages = max_pages or settings.POLYMARKET_INGEST_MAX_PAGES
    summary = IngestSummary()
    seen: dict[str, ExternalMarket] = {}
    cursor, cursors_used = None, set()
    # We ask for the busiest first; while the answer really is in that order, we can stop as soon
    # as we hold max_markets. If it is not, we read every page and pick the busiest ourselves.
    busiest_first, floor = True, None
    while summary.pages < max_pages:
        try:
            page = client.gamma_markets_page(after_cursor=cursor, limit=page_size)
        except (UpstreamUnavailable, UpstreamRejected, UnexpectedPayload) as exc:
            summary.errors.append(f"page {summary.pages + 1}: {exc}")
            logger.warning("ingestion stopped paging", extra={"page": summary.pages + 1, "error": exc})
            break
        summary.pages += 1
        summary.fetched += len(page.markets)
        before = len(seen)
        _map_rows(page.markets, summary, seen)
        for market in list(seen.values())[before:]:
            if floor is not None and market.volume_24h > floor:
                busiest_first = False
            floor = market.volume_24h if floor is None else min(floor, market.volume_24h)
        if progress:
            progress(f"page {summary.pages}: {len(page.markets)} rows, {len(seen)} usable markets so far")
        if page.next_cursor is None or (busiest_first and len(seen) >= max_markets):
            break
        if page.next_cursor in cursors_used:
            summary.errors.append(f"page {summary.pages}: cursor repeated, paging stopped")
            break
        cursors_used.add(page.next_cursor)
        cursor = page.next_cursor
    else:
        summary.errors.append(f"stopped after {max_pages} pages (POLYMARKET_INGEST_MAX_PAGES)")
    chosen = sorted(seen.values(), key=lambda market: market.volume_24h, reverse=True)[:max_markets]
    _upsert(chosen, summary)
    if summary.pages and not any(error.startswith("upsert") for error in summary.errors):
        job_succeeded("ingestion")
    return summary.finished(logger, "ingestion finished")


def markets_import(*, rows: list) -> IngestSummary:
    """Upsert Gamma-format rows given at hand (e.g. a demo catalogue) through the same mapping and
    upsert as ingestion."""
    summary = IngestSummary()
    seen: dict[str, ExternalMarket] = {}
    summary.fetched = len(rows)
    _map_rows(rows, summary, seen)
    _upsert(list(seen.values()), summary)
    return summary


@dataclass
class OddsSyncSummary(JobSummary):
    markets: int = 0
    updated: int = 0
    without_price: int = 0  # skipped: by reason in `skipped`
    skipped: Counter = field(default_factory=Counter)
    requests: int = 0
    errors: list[str] = field(default_factory=list)


def odds_sync(
    *,
    client: PolymarketClient | None = None,
    max_markets: int | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> OddsSyncSummary:
    """Refresh open markets' odds from CLOB midpoints in batches, busiest first, and refresh the
    shared price cache. A failed batch is reported and the rest go on; an open breaker stops the run."""
    client = client or polymarket_client()
    max_markets = max_markets or settings.POLYMARKET_ODDS_SYNC_MAX_MARKETS
    batch_size = batch_size or settings.POLYMARKET_ODDS_BATCH_SIZE
    summary = OddsSyncSummary()
    markets = market_selectors.markets_for_odds_sync(limit=max_markets)
    summary.markets = len(markets)
    for start in range(0, len(markets), batch_size):
        batch = markets[start : start + batch_size]
        tokens = [token for market in batch for token in (market.this_token_id, market.that_token_id) if token]
        summary.requests += 1
        try:
            prices = client.midpoints(tokens)
        except UpstreamUnavailable as exc:
            summary.errors.append(f"batch {start // batch_size + 1}: {exc}")
            if client.breaker.state() != "closed":
                break
            continue
        except (UpstreamRejected, UnexpectedPayload) as exc:
            summary.errors.append(f"batch {start // batch_size + 1}: {exc}")
            continue
        fresh = {}
        for market in batch:
            try:
                fresh[market.id] = odds_checked(prices.get(market.this_token_id), prices.get(market.that_token_id))
            except IncoherentOdds as exc:  # one market's bad prices cost that market, this run
                summary.without_price += 1
                summary.skipped[exc.reason] += 1
        updates = [OddsUpdate(market_id, *pair) for market_id, pair in fresh.items()]
        summary.updated += market_services.market_odds_update_many(updates=updates)
        price_cache_put_many(fresh, fetched_at=timezone.now())
        if progress:
            progress(f"batch {start // batch_size + 1}: {len(fresh)} of {len(batch)} markets priced")
    if summary.requests and len(summary.errors) < summary.requests:
        job_succeeded("odds_sync")
    return summary.finished(logger, "odds sync finished")
