"""HTTP access to Polymarket's Gamma (market metadata) and CLOB (prices) APIs.

Speaks HTTP only: no models. Every call has connect/read timeouts, goes through the shared rate
limiter and circuit breaker, and is retried with exponential backoff and jitter on connection
errors, timeouts, 429 and 5xx (honouring Retry-After)."""

import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from . import metrics
from .resilience import BudgetExhausted, CircuitBreaker, CircuitOpen, RateLimiter, UpstreamUnavailable

logger = logging.getLogger(__name__)

GAMMA_FILTER_MAX = 100  # ids per filtered Gamma request
# Cursor values that mean "no more pages" (Gamma omits the key; CLOB-style APIs send "LTE=").
_END_CURSORS = {None, "", "LTE="}


class UpstreamRejected(Exception):
    """Polymarket answered with a 4xx other than 429 (e.g. 404 for an unknown token)."""

    def __init__(self, status: int, url: str):
        super().__init__(f"Polymarket answered {status} for {url}")
        self.status = status
        self.url = url


class UnexpectedPayload(Exception):
    """Polymarket answered 2xx with something that is not the JSON we expect."""

    def __init__(self, message: str, *, url: str | None = None):
        super().__init__(message)
        self.url = url


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 30.0  # a longer Retry-After gives up instead of blocking a worker


@dataclass(frozen=True)
class GammaPage:
    markets: list[dict[str, Any]]
    next_cursor: str | None


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _outcome(status: int) -> str:
    if status == 429:
        return "throttled"
    if status >= 500:
        return "server_error"
    return "rejected" if status >= 400 else "ok"


def _price(value: Any) -> Decimal | None:
    """A price given as a decimal string or a number; None when absent or unparseable."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() else None


class PolymarketClient:
    def __init__(
        self,
        *,
        gamma_url: str,
        clob_url: str,
        breaker: CircuitBreaker,
        limiter: RateLimiter,
        timeout: tuple[float, float] = (3.05, 10.0),
        retry: RetryPolicy = RetryPolicy(),
        rate_limit_wait: float = 60.0,
        max_response_bytes: int = 8 * 1024 * 1024,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ):
        self.gamma_url = gamma_url.rstrip("/")
        self.clob_url = clob_url.rstrip("/")
        self.breaker = breaker
        self.limiter = limiter
        self.timeout = timeout
        self.retry = retry
        self.rate_limit_wait = rate_limit_wait
        self.max_response_bytes = max_response_bytes
        self.session = session or self._pooled_session()
        self.sleep = sleep
        self.jitter = jitter

    @staticmethod
    def _pooled_session() -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)  # we retry ourselves
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"Accept": "application/json", "User-Agent": "thisthat-backend/1.0"})
        return session

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry.backoff_max, self.retry.backoff_base * 2**attempt)
        return ceiling / 2 + self.jitter() * ceiling / 2  # "equal jitter": never zero, never in lockstep

    def _request(self, endpoint: str, method: str, url: str, *, params: Any = None, body: Any = None) -> Any:
        """`endpoint` names the call in the metrics (polymarket/metrics.py)."""
        failure: UpstreamUnavailable | None = None
        for attempt in range(self.retry.attempts):
            try:
                self.breaker.before_call()
            except CircuitOpen:
                metrics.requests_total.labels(endpoint, "circuit_open").inc()
                raise
            try:
                self.limiter.acquire(max_wait=self.rate_limit_wait)
            except BudgetExhausted:
                self.breaker.release_probe()  # nothing went out: a half-open probe must stay available
                metrics.requests_total.labels(endpoint, "budget_exhausted").inc()
                raise
            delay = self._backoff(attempt)
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method, url, params=params, json=body, timeout=self.timeout, stream=True
                )
                content = self._read_body(response, url) if response.status_code < 400 else b""
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                self.breaker.record_failure()
                self._count(endpoint, "unreachable", started)
                failure = UpstreamUnavailable(f"{type(exc).__name__}: {exc}", url=url)
                failure.__cause__ = exc
            except UnexpectedPayload:
                self.breaker.record_success()  # Polymarket answered; the answer is what is wrong
                self._count(endpoint, "bad_payload", started)
                raise
            else:
                response.close()
                status = response.status_code
                self._count(endpoint, _outcome(status), started)
                if status == 429 or status >= 500:
                    self.breaker.record_failure()
                    failure = UpstreamUnavailable(f"HTTP {status}", url=url, status=status)
                    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
                    if retry_after is not None:
                        if retry_after > self.retry.retry_after_max:
                            raise UpstreamUnavailable(
                                f"{url}: HTTP {status}, Retry-After {retry_after:.0f}s is too long",
                                url=url,
                                status=status,
                            )
                        delay = retry_after
                else:
                    self.breaker.record_success()
                    if status >= 400:
                        raise UpstreamRejected(status, url)
                    try:
                        return json.loads(content)
                    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
                        raise UnexpectedPayload(f"{url}: answer is not JSON", url=url) from exc
            logger.warning("polymarket request failed", extra={"attempt": attempt + 1, "error": failure})
            if attempt + 1 < self.retry.attempts:
                self.sleep(delay)
        problem = failure or "no attempt made"
        raise UpstreamUnavailable(
            f"{url}: {problem} after {self.retry.attempts} attempts",
            url=url,
            status=failure.status if failure else None,
        ) from failure

    @staticmethod
    def _count(endpoint: str, outcome: str, started: float) -> None:
        metrics.requests_total.labels(endpoint, outcome).inc()
        metrics.request_duration.labels(endpoint).observe(time.perf_counter() - started)

    def _read_body(self, response: requests.Response, url: str) -> bytes:
        """The body, read up to `max_response_bytes`: a larger answer is refused, never buffered whole."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_response_bytes:
            response.close()
            raise UnexpectedPayload(f"{url}: answer of {declared} bytes is over the limit", url=url)
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > self.max_response_bytes:
                response.close()
                raise UnexpectedPayload(f"{url}: answer is over {self.max_response_bytes} bytes", url=url)
            chunks.append(chunk)
        return b"".join(chunks)

    # --- Gamma ---------------------------------------------------------------------------------
    def gamma_markets_page(self, *, after_cursor: str | None = None, limit: int = 100) -> GammaPage:
        """One page of open, unarchived markets with their tags, busiest first (keyset pagination:
        the cursor goes back as `after_cursor`; the last page has no `next_cursor`)."""
        params = {
            "closed": "false",
            "archived": "false",
            "include_tag": "true",
            "limit": limit,
            "order": "volume24hr",
            "ascending": "false",
        }
        if after_cursor:
            params["after_cursor"] = after_cursor
        url = f"{self.gamma_url}/markets/keyset"
        payload = self._request("gamma_markets_page", "GET", url, params=params)
        if isinstance(payload, list):  # an older listing shape: one page, no cursor
            return GammaPage(markets=payload, next_cursor=None)
        if not isinstance(payload, dict) or not isinstance(payload.get("markets"), list):
            raise UnexpectedPayload("Gamma keyset answer has no markets list", url=url)
        cursor = payload.get("next_cursor")
        return GammaPage(markets=payload["markets"], next_cursor=None if cursor in _END_CURSORS else str(cursor))

    def gamma_markets_by_condition(self, condition_ids: Iterable[str], *, closed: bool) -> list[dict[str, Any]]:
        """The open (or closed) markets among up to 100 conditionIds, in one request. Gamma filters
        on `closed` (false when not given), so a caller that needs both asks twice."""
        params: list[tuple[str, Any]] = [("condition_ids", condition_id) for condition_id in condition_ids]
        if len(params) > GAMMA_FILTER_MAX:
            raise ValueError(f"Gamma filters take at most {GAMMA_FILTER_MAX} ids")
        params += [("closed", str(closed).lower()), ("limit", GAMMA_FILTER_MAX)]
        url = f"{self.gamma_url}/markets/keyset"
        payload = self._request("gamma_markets_by_condition", "GET", url, params=params)
        markets = payload.get("markets") if isinstance(payload, dict) else payload
        if not isinstance(markets, list):
            raise UnexpectedPayload("Gamma keyset answer has no markets list", url=url)
        return [row for row in markets if isinstance(row, dict)]

    def gamma_market(self, gamma_id: str) -> dict[str, Any]:
        url = f"{self.gamma_url}/markets/{gamma_id}"
        payload = self._request("gamma_market", "GET", url, params={"include_tag": "true"})
        if not isinstance(payload, dict):
            raise UnexpectedPayload("Gamma market answer is not an object", url=url)
        return payload

    # --- CLOB ----------------------------------------------------------------------------------
    def clob_market(self, condition_id: str) -> dict[str, Any]:
        url = f"{self.clob_url}/markets/{condition_id}"
        payload = self._request("clob_market", "GET", url)
        if not isinstance(payload, dict):
            raise UnexpectedPayload("CLOB market answer is not an object", url=url)
        return payload

    def midpoint(self, token_id: str) -> Decimal | None:
        """The token's midpoint price, or None when the answer carries none."""
        url = f"{self.clob_url}/midpoint"
        payload = self._request("clob_midpoint", "GET", url, params={"token_id": token_id})
        if not isinstance(payload, dict):
            raise UnexpectedPayload("CLOB midpoint answer is not an object", url=url)
        return _price(payload.get("mid", payload.get("mid_price")))

    def midpoints(self, token_ids: Iterable[str]) -> dict[str, Decimal]:
        """Midpoints for many tokens in one request; tokens without a usable price are left out."""
        body = [{"token_id": token_id} for token_id in token_ids]
        url = f"{self.clob_url}/midpoints"
        payload = self._request("clob_midpoints", "POST", url, body=body)
        if not isinstance(payload, dict):
            raise UnexpectedPayload("CLOB midpoints answer is not an object", url=url)
        prices = {}
        for token_id, value in payload.items():
            price = _price(value.get("mid", value.get("mid_price")) if isinstance(value, dict) else value)
            if price is not None:
                prices[str(token_id)] = price
        return prices
