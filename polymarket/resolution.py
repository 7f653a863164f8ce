"""Resolution polling (SPEC §6 and §7): decide from Gamma and CLOB whether a Polymarket market has
resolved, and settle it through `betting.services` when — and only when — both APIs say so.

The rule (`resolution_outcome`) is a pure function; `resolutions_poll` is the 60-second job."""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from betting.services import market_resolve
from markets import selectors as market_selectors
from markets import services as market_services
from markets.models import Market, MarketStatus, Resolution, ResolutionSource
from thisthat.errors import DomainError
from thisthat.jobs import JobSummary

from .client import GAMMA_FILTER_MAX, PolymarketClient, UnexpectedPayload, UpstreamRejected
from .connection import polymarket_client
from .mapping import decimal_or_none, json_list
from .resilience import BudgetExhausted, CircuitOpen, UpstreamUnavailable
from .services import job_succeeded

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
T = TypeVar("T")
ONE, ZERO, HALF = Decimal(1), Decimal(0), Decimal("0.5")
SIDES = (Resolution.THIS, Resolution.THAT)  # outcome index 0 is our THIS option, index 1 our THAT
# Refused before any request went out: the next market would be refused the same way.
NOT_SENT = (CircuitOpen, BudgetExhausted)
UPSTREAM_FAILURES = (UpstreamUnavailable, UpstreamRejected, UnexpectedPayload)


# --- The rule ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    """Either an `outcome` ("this" | "that" | "invalid") to settle with, or a reason to `wait`."""

    outcome: str | None = None
    wait: str | None = None
    detail: str = ""

    @classmethod
    def settle(cls, outcome: str) -> "Verdict":
        return cls(outcome=outcome)

    @classmethod
    def waiting(cls, reason: str, detail: str = "") -> "Verdict":
        return cls(wait=reason, detail=detail)

    @property
    def is_final(self) -> bool:
        return self.outcome is not None


def _is_disputed(gamma: dict[str, Any]) -> bool:
    # The singular status is the current one; the plural list is a history that lags behind, so
    # only its latest entry counts, and only when the singular is missing.
    status = gamma.get("umaResolutionStatus")
    if status is None:
        statuses = json_list(gamma.get("umaResolutionStatuses")) or [None]
        status = statuses[-1]
    return status == "disputed"


def gamma_outcome(gamma: dict[str, Any]) -> Verdict:
    """What Gamma alone says. `active` stays true after close and the plural `umaResolutionStatuses`
    can lag behind (["proposed"] on a resolved market), so neither is read for the outcome."""
    if _is_disputed(gamma):
        return Verdict.waiting("disputed")
    if gamma.get("closed") is not True:
        return Verdict.waiting("not_closed")
    if gamma.get("umaResolutionStatus") != "resolved":
        return Verdict.waiting("uma_not_resolved", f"umaResolutionStatus={gamma.get('umaResolutionStatus')!r}")
    raw_prices = json_list(gamma.get("outcomePrices")) or []
    prices = [decimal_or_none(price) for price in raw_prices]
    if len(prices) != 2 or None in prices:
        return Verdict.waiting("prices_not_final", f"outcomePrices={gamma.get('outcomePrices')!r}")
    if prices == [HALF, HALF]:  # a 50/50 result: every stake is refunded
        return Verdict.settle(Resolution.INVALID)
    if sorted(prices) != [ZERO, ONE]:  # e.g. 0.9995/0.0005 is still trading, not a result
        return Verdict.waiting("prices_not_final", f"outcomePrices={gamma.get('outcomePrices')!r}")
    return Verdict.settle(SIDES[prices.index(ONE)])


def clob_outcome(clob: dict[str, Any], *, this_token_id: str, that_token_id: str) -> Verdict:
    """What CLOB alone says; the winning token is mapped to our side by its id, never its position."""
    if clob.get("closed") is not True:  # `active: false, closed: false` has stopped trading, not resolved
        return Verdict.waiting("clob_not_closed")
    if clob.get("is_50_50_outcome") is True:
        return Verdict.settle(Resolution.INVALID)
    tokens = clob.get("tokens") if isinstance(clob.get("tokens"), list) else []
    winners = [token for token in tokens if isinstance(token, dict) and token.get("winner") is True]
    if len(winners) != 1:
        return Verdict.waiting("clob_no_single_winner", f"{len(winners)} winning tokens")
    winner = str(winners[0].get("token_id") or "")
    sides = {this_token_id: Resolution.THIS, that_token_id: Resolution.THAT}
    if not winner or winner not in sides:
        return Verdict.waiting("unmapped_winner", f"winning token {winner!r} is neither of ours")
    return Verdict.settle(sides[winner])


def in_our_order(verdict: Verdict, gamma: dict[str, Any], *, this_token_id: str, that_token_id: str) -> Verdict:
    """Gamma's outcome is by position in Gamma's outcome list; map it to our THIS/THAT by token id,
    so a market whose outcomes upstream now lists the other way round still settles the right side."""
    if verdict.outcome not in SIDES:
        return verdict
    gamma_tokens = [str(token) for token in json_list(gamma.get("clobTokenIds")) or []]
    if len(gamma_tokens) != 2 or not (this_token_id and that_token_id):
        return verdict  # nothing to map by: Gamma's order is the order we stored
    winner = gamma_tokens[SIDES.index(verdict.outcome)]
    sides = {this_token_id: Resolution.THIS, that_token_id: Resolution.THAT}
    if winner not in sides:
        return Verdict.waiting("unmapped_winner", f"Gamma's winning token {winner!r} is neither of ours")
    return Verdict.settle(sides[winner])


def resolution_outcome(
    *, gamma: dict[str, Any], clob: dict[str, Any] | None, this_token_id: str, that_token_id: str
) -> Verdict:
    """Settle only when Gamma is final and CLOB — when it has the market (`clob` not None) — is
    final too and names the same outcome; anything else is a reason to wait."""
    from_gamma = in_our_order(gamma_outcome(gamma), gamma, this_token_id=this_token_id, that_token_id=that_token_id)
    if not from_gamma.is_final or clob is None:
        return from_gamma
    from_clob = clob_outcome(clob, this_token_id=this_token_id, that_token_id=that_token_id)
    if not from_clob.is_final:
        return from_clob
    if from_clob.outcome != from_gamma.outcome:
        return Verdict.waiting("apis_disagree", f"gamma={from_gamma.outcome} clob={from_clob.outcome}")
    return from_gamma


# --- The job ---------------------------------------------------------------------------------------
def closed_upstream(gamma: dict[str, Any]) -> bool:
    """Gamma says no more trading: closed, or not accepting orders (the result may still be pending)."""
    return gamma.get("closed") is True or gamma.get("acceptingOrders") is False


@dataclass
class ResolutionPollSummary(JobSummary):
    candidates: int = 0
    checked: int = 0  # markets Polymarket was actually asked about
    requests: int = 0
    failed_requests: int = 0
    closed: int = 0  # open markets closed to bets because upstream stopped trading or they expired
    resolved: Counter = field(default_factory=Counter)  # by outcome
    waiting: Counter = field(default_factory=Counter)  # by reason
    errors: list[str] = field(default_factory=list)
    stopped_early: bool = False
    rechecked: int = 0  # settled markets whose final result upstream was compared with ours
    result_conflicts: int = 0  # of them, newly flagged because upstream's result differs

    @property
    def decided(self) -> int:
        """Markets checked without error (resolved, or seen to be still waiting)."""
        return sum(self.resolved.values()) + sum(self.waiting.values())


class _Failed(Exception):
    """One Polymarket call failed; `sent` says whether a request went out."""

    def __init__(self, what: str, problem: Exception):
        super().__init__(f"{what}: {problem}")
        self.what = what
        self.problem = problem
        self.sent = not isinstance(problem, NOT_SENT)


def _call(summary: ResolutionPollSummary, what: str, fetch: Callable[[], T]) -> T:
    """One counted Polymarket call; its failure becomes _Failed."""
    summary.requests += 1
    try:
        return fetch()
    except UPSTREAM_FAILURES as exc:
        summary.failed_requests += 1
        raise _Failed(what, exc) from exc


def _clob_market_or_none(client: PolymarketClient, condition_id: str) -> dict | None:
    try:
        return client.clob_market(condition_id)
    except UpstreamRejected as exc:
        if exc.status == 404:  # CLOB does not have this market: Gamma decides alone
            return None
        raise


def _gamma_rows(
    *, client: PolymarketClient, markets: list[Market], summary: ResolutionPollSummary
) -> tuple[dict[str, dict], set[str]]:
    """Gamma's rows for the markets, 100 conditionIds per request: the closed ones first, then the
    open ones among the rest. Returns the rows by conditionId and the conditionIds whose batch
    failed (not asked this run). A refusal before sending or an open breaker ends the asking."""
    rows: dict[str, dict] = {}
    unasked: set[str] = set()
    ids = [market.polymarket_id for market in markets]
    for start in range(0, len(ids), GAMMA_FILTER_MAX):
        chunk = ids[start : start + GAMMA_FILTER_MAX]
        try:
            for closed in (True, False):
                wanted = [condition_id for condition_id in chunk if condition_id not in rows]
                if not wanted:
                    break
                answer = _call(
                    summary,
                    f"gamma batch of {len(wanted)}",
                    lambda wanted=wanted, closed=closed: client.gamma_markets_by_condition(wanted, closed=closed),
                )
                rows |= {row.get("conditionId"): row for row in answer if row.get("conditionId") in wanted}
        except _Failed as failure:
            summary.errors.append(str(failure))
            logger.warning("resolution: gamma batch failed", extra={"call": failure.what, "error": failure.problem})
            unasked |= {condition_id for condition_id in chunk if condition_id not in rows}
            if not failure.sent or client.breaker.state() != "closed":
                summary.stopped_early = True
                unasked |= set(ids[start + GAMMA_FILTER_MAX :])
                break
    return rows, unasked


def _verdict_for(
    *, client: PolymarketClient, market: Market, gamma: dict[str, Any], summary: ResolutionPollSummary
) -> Verdict:
    from_gamma = gamma_outcome(gamma)
    if not from_gamma.is_final:  # CLOB cannot make a market final that Gamma does not show as final
        return from_gamma
    tokens = [market.this_token_id, market.that_token_id]
    if not all(tokens):  # ingested before Gamma listed its tokens: take them from today's answer
        tokens = [str(token) for token in json_list(gamma.get("clobTokenIds")) or []]
    if len(tokens) != 2 or not all(tokens):  # no way to map a CLOB winner to a side: Gamma decides alone
        return from_gamma
    clob = _call(summary, "clob", lambda: _clob_market_or_none(client, market.polymarket_id))
    return resolution_outcome(gamma=gamma, clob=clob, this_token_id=tokens[0], that_token_id=tokens[1])


def _log_wait(market: Market, verdict: Verdict) -> None:
    level = logging.WARNING if verdict.wait == "apis_disagree" else logging.INFO
    logger.log(
        level,
        "resolution: waiting",
        extra={"market_id": str(market.pk), "reason": verdict.wait, "detail": verdict.detail},
    )


def _check_market(
    *, client: PolymarketClient, market: Market, gamma: dict[str, Any] | None, summary: ResolutionPollSummary
) -> str:
    """Decide about one market from its Gamma row (asked alone when the batch had none) and act on
    the verdict; returns a progress line. Raises _Failed."""
    if gamma is None:
        if not market.polymarket_gamma_id:
            summary.waiting["no_gamma_id"] += 1
            logger.warning("resolution: market has no Gamma id", extra={"market_id": str(market.pk)})
            return "waiting: no_gamma_id"
        gamma = _call(summary, "gamma", lambda: client.gamma_market(market.polymarket_gamma_id))
    verdict = _verdict_for(client=client, market=market, gamma=gamma, summary=summary)
    if not verdict.is_final:
        summary.waiting[verdict.wait] += 1
        _log_wait(market, verdict)
        return f"waiting: {verdict.wait}" + (f" ({verdict.detail})" if verdict.detail else "")
    market_resolve(market_id=market.pk, outcome=verdict.outcome, source=ResolutionSource.POLYMARKET)
    summary.resolved[verdict.outcome] += 1
    logger.info("resolution: resolved", extra={"market_id": str(market.pk), "outcome": verdict.outcome})
    return f"resolved as {verdict.outcome}"


def _close_stopped_markets(
    *, markets: list[Market], rows: dict[str, dict], now: datetime, summary: ResolutionPollSummary
) -> None:
    """Close to bets every open market that upstream stopped trading or whose end date passed."""
    stopped = [
        market.pk
        for market in markets
        if market.status == MarketStatus.OPEN
        and (
            (market.expires_at is not None and market.expires_at <= now)
            or closed_upstream(rows.get(market.polymarket_id) or {})
        )
    ]
    if stopped:
        summary.closed = market_services.markets_close(market_ids=stopped)
        logger.info("resolution: markets closed to bets", extra={"closed": summary.closed})


# Settled markets asked about again per run, at most (one Gamma request per 100).
RESULT_RECHECK_BATCH = 100


def _upstream_result(market: Market, gamma: dict[str, Any] | None) -> str | None:
    """Upstream's final result for a settled market in our THIS/THAT, or None when it has none (or
    no row): only a final result can differ from ours."""
    if gamma is None:
        return None
    verdict = in_our_order(
        gamma_outcome(gamma), gamma, this_token_id=market.this_token_id, that_token_id=market.that_token_id
    )
    return verdict.outcome


def _recheck_results(*, client: PolymarketClient, now: datetime, summary: ResolutionPollSummary) -> None:
    """Ask Gamma again about markets we settled recently and flag those whose final result upstream
    now differs from ours for staff review (the admin's "upstream result differs" filter). The poller
    never unresolves or re-resolves a market itself: a correction is staff's decision."""
    markets = market_selectors.markets_for_result_recheck(
        limit=RESULT_RECHECK_BATCH, now=now, days=settings.POLYMARKET_RESULT_RECHECK_DAYS
    )
    if not markets:
        return
    rows, unasked = _gamma_rows(client=client, markets=markets, summary=summary)
    asked = [market for market in markets if market.polymarket_id not in unasked]
    results = {market.pk: _upstream_result(market, rows.get(market.polymarket_id)) for market in asked}
    summary.result_conflicts = market_services.markets_record_upstream_results(results=results)
    summary.rechecked = len(asked)
    if asked:
        market_services.market_mark_checked(market_ids=[market.pk for market in asked])


def resolutions_poll(
    *,
    client: PolymarketClient | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ResolutionPollSummary:
    """Check the candidate markets asked about least recently (Gamma in batches of 100): close to bets
    those upstream stopped trading, and settle those that resolved; then compare the results of
    recently settled markets with upstream's and flag those that differ. One market's failure never
    stops the others; an open breaker or a spent request budget ends the run."""
    client = client or polymarket_client()
    limit = limit or settings.POLYMARKET_RESOLUTION_BATCH
    now = now or timezone.now()
    summary = ResolutionPollSummary()
    markets = market_selectors.markets_for_resolution_poll(limit=limit, now=now)
    summary.candidates = len(markets)
    rows, unasked = _gamma_rows(client=client, markets=markets, summary=summary)
    _close_stopped_markets(markets=markets, rows=rows, now=now, summary=summary)
    askable = [market for market in markets if market.polymarket_id not in unasked]
    checked: list[UUID] = []
    for position, market in enumerate(askable, start=1):
        try:
            line = _check_market(client=client, market=market, gamma=rows.get(market.polymarket_id), summary=summary)
            checked.append(market.pk)
        except _Failed as failure:
            if failure.sent:
                checked.append(market.pk)
            summary.errors.append(f"market {market.pk}: {failure}")
            logger.warning(
                "resolution: check failed",
                extra={"market_id": str(market.pk), "call": failure.what, "error": failure.problem},
            )
            line = f"failed: {failure}"
            if not failure.sent or client.breaker.state() != "closed":
                summary.stopped_early = True
        except (DomainError, DatabaseError) as exc:  # e.g. staff resolved it otherwise meanwhile
            checked.append(market.pk)
            summary.errors.append(f"market {market.pk}: resolving failed: {exc}")
            logger.exception("resolution: settling failed", extra={"market_id": str(market.pk)})
            line = f"failed to resolve: {exc}"
        if progress:
            progress(f"[{position}/{len(askable)}] {market.pk} {market.title[:60]!r}: {line}")
        if summary.stopped_early and position < len(askable):
            break
    if summary.stopped_early:
        summary.errors.append(f"stopped after {len(checked)} of {len(markets)} markets: Polymarket refuses calls")
    if checked:
        market_services.market_mark_checked(market_ids=checked)
    summary.checked = len(checked)
    if not summary.stopped_early:
        _recheck_results(client=client, now=now, summary=summary)
        if progress and summary.rechecked:
            progress(f"rechecked {summary.rechecked} settled markets: {summary.result_conflicts} newly flagged")
    if summary.decided or not markets:
        job_succeeded("resolution_poll")
    return summary.finished(logger, "resolution poll finished")
