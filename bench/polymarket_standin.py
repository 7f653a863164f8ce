"""A stand-in Polymarket server for benchmarks and manual checks of market ingestion and odds sync.

It serves Gamma (market metadata) and CLOB (prices) routes from one port, with generated markets in
Gamma's real row format (JSON arrays inside strings, tags, cursors), optional malformed rows that the
ingestion must skip, and misbehaviour that can be switched on at runtime (5xx, 429 + Retry-After,
slow answers, tokens without an order book). Standard library only.

Command line (serves until Ctrl-C; point both settings at the printed URL):

    python bench/polymarket_standin.py --port 8765 --markets 2000 --bad-fraction 0.05 --seed 1 \\
        [--fail-every N] [--throttle-every N] [--delay SECONDS] [--midpoint-missing-fraction F]

    POLYMARKET_GAMMA_URL=http://127.0.0.1:8765 POLYMARKET_CLOB_URL=http://127.0.0.1:8765 \\
        python manage.py ingest_markets

In-process (tests, benchmarks):

    state = StandinState(build_markets(2000, seed=1, bad_fraction=0.05))
    server, _thread = serve(port=0, state=state)
    base_url = "http://%s:%d" % server.server_address[:2]
    state.throttle_next(3, retry_after=2)   # the next 3 requests answer 429
    ...
    server.shutdown()
    server.server_close()

Routes:
    GET  /markets/keyset?closed=false&archived=false&limit=100&include_tag=true&after_cursor=...
         -> {"markets": [...], "next_cursor": "..."}; limit defaults to 20 and is clamped to 100; the
         last page has no next_cursor; a parameter named `cursor` is ignored (page 1, like the real
         API); order=volume24hr sorts (descending with ascending=false); repeated id= and
         condition_ids= filter; archived rows are served whatever `archived` says; tags only with
         include_tag=true.
    GET  /markets/{numeric id}        -> the Gamma row, or 404 {"error": "not found"}
    GET  /markets/{0x condition id}   -> the CLOB market (condition_id, tokens [{token_id, outcome, price, winner}])
    GET  /midpoint?token_id=...       -> {"mid": "0.1745"}, or 404 when the token has no order book
    POST /midpoints  [{"token_id": ...}, ...] -> {"<token_id>": "0.45", ...} (unknown tokens omitted)
    GET  /_stats                      -> request counts per route and answers per status (never misbehaves)

Midpoints drift by up to +/-0.01 on every read (clamped to [0.001, 0.999]) and the two tokens of a
market always sum to 1.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import math
import random
import re
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Row = dict[str, Any]

# Malformed rows cycle through these, in this order. The last two are quirks that must be accepted.
DEFECTS = (
    "three_outcomes",
    "undeployed",
    "prices_missing",
    "price_unparseable",
    "price_out_of_range",
    "prices_bad_sum",
    "archived",
    "outcomes_as_array",
    "string_volume_only",
)

PAGE_DEFAULT = 20
PAGE_MAX = 100
MID_SCALE = 10_000  # midpoints are kept in ten-thousandths
MID_MIN, MID_MAX, MID_STEP = 10, 9_990, 100
IMAGE_BASE = "https://polymarket-upload.s3.us-east-2.amazonaws.com"
_NOW = datetime(2026, 11, 22, tzinfo=UTC)
_FIRST_END = datetime(2026, 12, 5, 12, tzinfo=UTC)
_END_SPAN_DAYS = 390

_CATEGORY_TAGS = {
    "Politics": ("2", "politics"),
    "Crypto": ("21", "crypto"),
    "Sports": ("1", "sports"),
    "Tech": ("1401", "tech"),
    "Economy": ("100328", "economy"),
    "Culture": ("596", "pop-culture"),
    "Science": ("74", "science"),
    "World": ("101970", "world"),
}

_PEOPLE = ["Gavin Newsom", "JD Vance", "Josh Shapiro", "Gretchen Whitmer", "Ron DeSantis", "Wes Moore", "Andy Beshear"]
_BILLS = ["a federal stock trading ban", "a crypto market structure bill", "a national privacy law", "a budget deal"]
_COINS = [("Bitcoin", 60_000, 200_000, 5_000), ("Ethereum", 2_000, 9_000, 250), ("Solana", 80, 600, 10)]
_TEAMS = [
    ("Lakers", "Celtics"),
    ("Knicks", "Heat"),
    ("Warriors", "Nuggets"),
    ("Chiefs", "Bills"),
    ("Eagles", "Cowboys"),
    ("Yankees", "Dodgers"),
    ("Arsenal", "Liverpool"),
    ("Real Madrid", "Barcelona"),
]
_PRODUCTS = [
    ("Apple", "smart glasses"),
    ("OpenAI", "GPT-6"),
    ("Google", "Gemini 4"),
    ("Tesla", "an unsupervised robotaxi service in 10 cities"),
    ("Meta", "a consumer AR headset"),
    ("Nintendo", "a new 3D Mario game"),
]
_INDICATORS = [("CPI inflation", 1.8, 4.0), ("unemployment", 3.6, 5.4), ("core PCE inflation", 1.8, 3.6)]
_FILMS = ["Avengers: Secret Wars", "Shrek 5", "The Batman Part II", "Toy Story 5", "a new Pixar original"]
_MISSIONS = [("NASA", "Artemis III"), ("SpaceX", "a crewed Starship flight"), ("ESA", "a new Moon lander test")]
_COUNTRIES = ["Japan", "Germany", "Canada", "Spain", "Israel", "Brazil", "South Korea", "Italy"]


def _date_text(day: datetime) -> str:
    return f"{day:%B} {day.day}, {day.year}"


_Template = Callable[[random.Random, str], tuple[str, list[str], str]]

_TEMPLATES: dict[str, list[_Template]] = {
    "Politics": [
        lambda r, d: (
            f"Will {r.choice(_PEOPLE)} announce a 2028 presidential run by {d}?",
            ["Yes", "No"],
            "US Politics",
        ),
        lambda r, d: (f"Will the House pass {r.choice(_BILLS)} by {d}?", ["Yes", "No"], "Congress"),
    ],
    "Crypto": [
        lambda r, d: _coin_question(r, d),
        lambda r, d: (f"Will {r.choice(_COINS)[0]} hit a new all-time high by {d}?", ["Yes", "No"], "Crypto Prices"),
    ],
    "Sports": [
        lambda r, d: _match_question(r, d, totals=False),
        lambda r, d: _match_question(r, d, totals=True),
    ],
    "Tech": [
        lambda r, d: (
            "Will {} release {} by {}?".format(*r.choice(_PRODUCTS), d),
            ["Yes", "No"],
            "AI" if r.random() < 0.5 else "Big Tech",
        ),
    ],
    "Economy": [lambda r, d: _indicator_question(r, d)],
    "Culture": [
        lambda r, d: (
            f"Will {r.choice(_FILMS)} gross over ${r.randrange(400, 2000, 50)}M worldwide by {d}?",
            ["Yes", "No"],
            "Movies",
        ),
    ],
    "Science": [lambda r, d: ("Will {} launch {} by {}?".format(*r.choice(_MISSIONS), d), ["Yes", "No"], "Space")],
    "World": [lambda r, d: (f"Will {r.choice(_COUNTRIES)} hold a snap election by {d}?", ["Yes", "No"], "Geopolitics")],
}


def _coin_question(rng: random.Random, date: str) -> tuple[str, list[str], str]:
    coin, low, high, step = rng.choice(_COINS)
    return f"Will {coin} trade above ${rng.randrange(low, high, step):,} on {date}?", ["Yes", "No"], "Crypto Prices"


def _match_question(rng: random.Random, date: str, *, totals: bool) -> tuple[str, list[str], str]:
    home, away = rng.choice(_TEAMS)
    if totals:
        line = rng.randrange(190, 250) + 0.5
        return f"{home} vs. {away} on {date}: Over or Under {line} points?", ["Over", "Under"], "Games"
    return f"{home} vs. {away}: who wins on {date}?", [home, away], "Games"


def _indicator_question(rng: random.Random, date: str) -> tuple[str, list[str], str]:
    name, low, high = rng.choice(_INDICATORS)
    return f"Will US {name} be above {rng.uniform(low, high):.1f}% on {date}?", ["Yes", "No"], "Macro"


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _tag(label: str, tag_id: str) -> dict[str, str]:
    return {"id": tag_id, "label": label, "slug": _slugify(label)}


def _decode(value: Any) -> Any:
    """Decode one of Gamma's JSON-inside-a-string fields (a real list passes through)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _make_row(rng: random.Random, index: int, gamma_id: int, used_tokens: set[str], questions: set[str]) -> Row:
    category = list(_CATEGORY_TAGS)[index % len(_CATEGORY_TAGS)]
    for _attempt in range(20):  # avoid repeating a question (a repeat may remain once the variations run out)
        end = _FIRST_END + timedelta(days=rng.randrange(_END_SPAN_DAYS))
        question, outcomes, subtag = rng.choice(_TEMPLATES[category])(rng, _date_text(end))
        if question not in questions:
            break
    questions.add(question)
    created = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(seconds=rng.randrange(315 * 86_400))
    start = created + timedelta(minutes=rng.randrange(2, 45), milliseconds=rng.randrange(1000))
    updated = _NOW - timedelta(seconds=rng.randrange(60, 86_400), milliseconds=rng.randrange(1000))
    milli = rng.randrange(30, 971)  # first outcome's price in thousandths: 0.030 .. 0.970
    first, second = Decimal(milli) / 1000, Decimal(1000 - milli) / 1000
    half = Decimal(rng.choice((1, 5, 10))) / 1000
    bid, ask = first - half, first + half
    volume_24h = round(min(2_500_000 / (1 + index * 0.25) * rng.uniform(0.5, 1.5), 2_500_000), 6)
    volume = round(volume_24h * rng.uniform(5, 80), 6)
    liquidity = round(max(500.0, volume_24h * rng.uniform(0.05, 0.8)), 5)
    tokens = []
    while len(tokens) < 2:
        token = str(rng.randrange(10**75, 10**77))
        if token not in used_tokens:
            used_tokens.add(token)
            tokens.append(token)
    slug = _slugify(question)
    return {
        "id": str(gamma_id),
        "question": question,
        "conditionId": f"0x{rng.getrandbits(256):064x}",
        "slug": slug,
        "resolutionSource": "",
        "endDate": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "liquidity": str(liquidity),
        "startDate": _iso(start),
        "image": f"{IMAGE_BASE}/{slug}.png",
        "icon": f"{IMAGE_BASE}/{slug}.png",
        "description": (
            f'This market will resolve to "{outcomes[0]}" if the outcome named in the title happens by '
            f"{_date_text(end)}, 11:59 PM ET, according to a consensus of credible reporting. "
            f'Otherwise, this market will resolve to "{outcomes[1]}".'
        ),
        "outcomes": json.dumps(outcomes),
        "outcomePrices": json.dumps([str(first), str(second)]),
        "volume": str(volume),
        "active": True,
        "closed": False,
        "marketMakerAddress": "",
        "createdAt": _iso(created),
        "updatedAt": _iso(updated),
        "new": False,
        "featured": False,
        "archived": False,
        "restricted": True,
        "groupItemTitle": "",
        "groupItemThreshold": "0",
        "questionID": f"0x{rng.getrandbits(256):064x}",
        "enableOrderBook": True,
        "orderPriceMinTickSize": 0.001,
        "orderMinSize": 5,
        "volumeNum": volume,
        "liquidityNum": liquidity,
        "endDateIso": end.strftime("%Y-%m-%d"),
        "startDateIso": start.strftime("%Y-%m-%d"),
        "volume24hr": volume_24h,
        "clobTokenIds": json.dumps(tokens),
        "acceptingOrders": True,
        "negRisk": False,
        "tags": [
            _tag(category, _CATEGORY_TAGS[category][0]),
            _tag(subtag, str(102_000 + zlib.crc32(subtag.encode()) % 5_000)),
        ],
        "spread": float(ask - bid),
        "lastTradePrice": float(rng.choice((bid, first, ask))),
        "bestBid": float(bid),
        "bestAsk": float(ask),
        "umaResolutionStatuses": "[]",
    }


def _apply_defect(row: Row, kind: str, occurrence: int) -> None:
    if kind == "three_outcomes":
        row["outcomes"] = json.dumps(["Yes", "No", "Maybe"])
        row["outcomePrices"] = json.dumps(["0.5", "0.3", "0.2"])
        row["clobTokenIds"] = json.dumps([*_decode(row["clobTokenIds"]), str(10**76 + int(row["id"]))])
    elif kind == "undeployed":
        row.update(conditionId="", active=False, acceptingOrders=False, volume="0", volumeNum=0, volume24hr=0)
        row.pop("outcomePrices", None)
        row.pop("clobTokenIds", None)
    elif kind == "prices_missing":
        row.pop("outcomePrices", None)
    elif kind == "price_unparseable":
        row["outcomePrices"] = json.dumps(["abc", "0.5"])
    elif kind == "price_out_of_range":
        row["outcomePrices"] = json.dumps(["1.2", "-0.2"] if occurrence % 2 == 0 else ["-0.2", "1.2"])
    elif kind == "prices_bad_sum":
        row["outcomePrices"] = json.dumps(["0.7", "0.5"])
    elif kind == "archived":
        row["archived"] = True
    elif kind == "outcomes_as_array":
        row["outcomes"] = _decode(row["outcomes"])
    elif kind == "string_volume_only":
        row.pop("volumeNum", None)
        row.pop("liquidityNum", None)


def build_markets(count: int, *, seed: int = 0, bad_fraction: float = 0.0) -> list[Row]:
    """Generate `count` open Gamma rows; round(count * bad_fraction) of them carry a defect from DEFECTS.

    Deterministic for a given seed. Rows come in roughly descending volume24hr order (with noise), spread
    over eight categories (first tag). Defective rows are chosen at random and take the defects in turn.
    """
    rng = random.Random(seed)
    used_tokens: set[str] = set()
    questions: set[str] = set()
    rows: list[Row] = []
    gamma_id = 700_000 + rng.randrange(50_000)
    for index in range(count):
        gamma_id += rng.randrange(1, 40)
        rows.append(_make_row(rng, index, gamma_id, used_tokens, questions))
    bad = round(count * min(max(bad_fraction, 0.0), 1.0))
    picked = sorted(random.Random(seed * 7919 + 17).sample(range(count), bad))
    for position, index in enumerate(picked):
        _apply_defect(rows[index], DEFECTS[position % len(DEFECTS)], position // len(DEFECTS))
    return rows


def skip_reason(row: Row) -> str | None:
    """Why SPEC section 7 says to skip this row, or None when it is a valid binary market."""
    if row.get("archived"):
        return "archived"
    outcomes = _decode(row.get("outcomes"))
    if not isinstance(outcomes, list) or len(outcomes) != 2:
        return "not_binary"
    if not row.get("conditionId"):
        return "no_condition_id"
    prices = _decode(row.get("outcomePrices"))
    if not isinstance(prices, list) or len(prices) != 2:
        return "missing_prices"
    try:
        values = [float(price) for price in prices]
    except (TypeError, ValueError):
        return "unparseable_price"
    if not all(math.isfinite(value) for value in values):
        return "unparseable_price"
    if not all(0 <= value <= 1 for value in values):
        return "price_out_of_range"
    if abs(sum(values) - 1) > 0.02:
        return "prices_bad_sum"
    return None


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset={offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    name, _, value = text.partition("=")
    return int(value) if name == "offset" and value.isdecimal() else None


def _format_mid(ten_thousandths: int) -> str:
    return str((Decimal(ten_thousandths) / MID_SCALE).normalize())


def _first(query: dict[str, list[str]], name: str, default: str = "") -> str:
    values = query.get(name)
    return values[0] if values else default


class StandinState:
    """The served markets, per-route request counters and the misbehaviour knobs.

    Knobs (safe to change while serving): fail_next(), throttle_next(), delay_seconds (sleep before
    answering), fail_every / throttle_every (every Nth request answers 503 / 429), drop_last_cursor
    (True, the real behaviour: the last page has no next_cursor; False: it carries one that leads to an
    empty page without a cursor) and midpoint_missing_fraction (that share of tokens, a fixed subset
    chosen by token id, has no order book: absent from /midpoints, 404 on /midpoint).
    The market list is indexed once, at construction.
    """

    def __init__(self, markets: list[Row], *, seed: int = 0) -> None:
        self.markets = markets
        self.delay_seconds = 0.0
        self.drop_last_cursor = True
        self.midpoint_missing_fraction = 0.0
        self.fail_every = 0
        self.throttle_every = 0
        self.retry_after = 1
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._served = 0
        self._fail_left = 0
        self._fail_status = 503
        self._throttle_left = 0
        self._throttle_retry_after = 1
        self._by_id: dict[str, Row] = {str(row.get("id")): row for row in markets}
        self._by_condition: dict[str, Row] = {row["conditionId"]: row for row in markets if row.get("conditionId")}
        self._tokens: dict[str, tuple[str, int]] = {}
        self._mids: dict[str, int] = {}
        self._orders: dict[tuple[str, bool], list[Row]] = {}
        self._winners: dict[str, int | None] = {}  # resolved markets: the winning outcome (None: 50/50)
        for condition_id, row in self._by_condition.items():
            tokens = _decode(row.get("clobTokenIds"))
            if not isinstance(tokens, list) or len(tokens) != 2:
                continue
            for position, token in enumerate(tokens):
                self._tokens[str(token)] = (condition_id, position)
            self._mids[condition_id] = self._initial_mid(row)

    @staticmethod
    def _initial_mid(row: Row) -> int:
        prices = _decode(row.get("outcomePrices"))
        try:
            first = float(prices[0])
        except (TypeError, ValueError, IndexError, KeyError):
            return MID_SCALE // 2
        if not math.isfinite(first) or not 0 < first < 1:
            return MID_SCALE // 2
        return min(max(round(first * MID_SCALE), MID_MIN), MID_MAX)

    # -- knobs -------------------------------------------------------------------------------------
    def fail_next(self, n: int, status: int = 503) -> None:
        """The next n requests (control routes excepted) answer `status`."""
        with self._lock:
            self._fail_left, self._fail_status = n, status

    def throttle_next(self, n: int, retry_after: int = 1) -> None:
        """The next n requests answer 429 with a Retry-After header."""
        with self._lock:
            self._throttle_left, self._throttle_retry_after = n, retry_after

    def resolve(self, condition_id: str, winner: int | None) -> None:
        """Resolve a market on both APIs the way Polymarket shows it: Gamma closed with UMA status
        "resolved" and one-hot prices, CLOB closed with one winning token (winner 0 or 1), or a
        50/50 result (winner None: prices 0.5/0.5 and is_50_50_outcome)."""
        with self._lock:
            row = self._by_condition[condition_id]
            prices = ["0.5", "0.5"] if winner is None else ["1" if i == winner else "0" for i in (0, 1)]
            row.update(closed=True, umaResolutionStatus="resolved", outcomePrices=json.dumps(prices))
            self._winners[condition_id] = winner

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
                "total": sum(self.requests.values()),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self.requests.clear()
            self.statuses.clear()

    def _count(self, route: str) -> None:
        with self._lock:
            self.requests[route] += 1

    def _count_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def _forced_answer(self) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            self._served += 1
            if self._fail_left > 0:
                self._fail_left -= 1
                return self._fail_status, {}
            if self._throttle_left > 0:
                self._throttle_left -= 1
                return 429, {"Retry-After": str(self._throttle_retry_after)}
            if self.fail_every > 0 and self._served % self.fail_every == 0:
                return 503, {}
            if self.throttle_every > 0 and self._served % self.throttle_every == 0:
                return 429, {"Retry-After": str(self.retry_after)}
        return None

    # -- Gamma -------------------------------------------------------------------------------------
    def _ordered(self, order: str, ascending: bool) -> list[Row]:
        if order != "volume24hr":
            return self.markets
        key = (order, ascending)
        with self._lock:
            if key not in self._orders:
                self._orders[key] = sorted(
                    self.markets, key=lambda row: float(row.get("volume24hr") or 0), reverse=not ascending
                )
            return self._orders[key]

    def keyset_page(self, query: dict[str, list[str]]) -> tuple[int, Row]:
        try:
            limit = int(_first(query, "limit", str(PAGE_DEFAULT)))
        except ValueError:
            return 400, {"error": "invalid limit"}
        limit = min(max(limit, 1), PAGE_MAX)
        offset = 0
        if cursor := _first(query, "after_cursor"):
            decoded = _decode_cursor(cursor)
            if decoded is None:
                return 400, {"error": "invalid cursor"}
            offset = decoded
        closed = _first(query, "closed", "false").lower() == "true"
        ids = set(query.get("id", []))
        condition_ids = set(query.get("condition_ids", []))
        rows = [
            row
            for row in self._ordered(_first(query, "order"), _first(query, "ascending", "true").lower() != "false")
            if bool(row.get("closed")) == closed
            and (not ids or str(row.get("id")) in ids)
            and (not condition_ids or row.get("conditionId") in condition_ids)
        ]
        include_tag = _first(query, "include_tag").lower() == "true"
        page: Row = {"markets": [self._public(row, include_tag) for row in rows[offset : offset + limit]]}
        following = offset + limit
        if following < len(rows) or (not self.drop_last_cursor and offset < len(rows)):
            page["next_cursor"] = _encode_cursor(following)
        return 200, page

    def gamma_market(self, gamma_id: str, query: dict[str, list[str]]) -> tuple[int, Row]:
        row = self._by_id.get(gamma_id)
        if row is None:
            return 404, {"error": "not found"}
        return 200, self._public(row, _first(query, "include_tag").lower() == "true")

    @staticmethod
    def _public(row: Row, include_tag: bool) -> Row:
        return row if include_tag else {key: value for key, value in row.items() if key != "tags"}

    # -- CLOB --------------------------------------------------------------------------------------
    def clob_market(self, condition_id: str) -> tuple[int, Row]:
        row = self._by_condition.get(condition_id)
        if row is None:
            return 404, {"error": "market not found"}
        outcomes = _decode(row.get("outcomes"))
        tokens = _decode(row.get("clobTokenIds"))
        outcomes = outcomes if isinstance(outcomes, list) else []
        tokens = tokens if isinstance(tokens, list) else []
        with self._lock:
            mid = self._mids.get(condition_id)
            resolved, winner = condition_id in self._winners, self._winners.get(condition_id)
        if resolved:
            prices = [0.5, 0.5] if winner is None else [1.0 if i == winner else 0.0 for i in (0, 1)]
        elif mid is not None:
            prices = [mid / MID_SCALE, (MID_SCALE - mid) / MID_SCALE]
        else:
            raw = _decode(row.get("outcomePrices"))
            prices = [_as_float(value) for value in raw] if isinstance(raw, list) else []
        tags = row.get("tags") or []
        return 200, {
            "enable_order_book": bool(row.get("enableOrderBook", True)),
            "active": bool(row.get("active")),
            "closed": bool(row.get("closed")),
            "archived": bool(row.get("archived")),
            "accepting_orders": bool(row.get("acceptingOrders")),
            "minimum_order_size": row.get("orderMinSize", 5),
            "minimum_tick_size": row.get("orderPriceMinTickSize", 0.001),
            "condition_id": condition_id,
            "question_id": row.get("questionID", ""),
            "question": row.get("question", ""),
            "description": row.get("description", ""),
            "market_slug": row.get("slug", ""),
            "end_date_iso": row.get("endDate"),
            "game_start_time": None,
            "seconds_delay": 0,
            "fpmm": "",
            "maker_base_fee": 1000,
            "taker_base_fee": 1000,
            "notifications_enabled": True,
            "neg_risk": bool(row.get("negRisk")),
            "neg_risk_market_id": "",
            "neg_risk_request_id": "",
            "icon": row.get("icon", ""),
            "image": row.get("image", ""),
            "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
            "is_50_50_outcome": resolved and winner is None,
            "tokens": [
                {
                    "token_id": str(token),
                    "outcome": str(outcomes[i]) if i < len(outcomes) else "",
                    "price": prices[i] if i < len(prices) else 0,
                    "winner": resolved and winner == i,
                }
                for i, token in enumerate(tokens)
            ],
            "tags": [tag.get("label") for tag in tags if isinstance(tag, dict)],
        }

    def _has_book(self, token_id: str) -> bool:
        fraction = self.midpoint_missing_fraction
        return fraction <= 0 or zlib.crc32(token_id.encode()) % 10_000 >= fraction * 10_000

    def _drift(self, condition_id: str) -> int:
        mid = self._mids[condition_id] + self._rng.randint(-MID_STEP, MID_STEP)
        self._mids[condition_id] = mid = min(max(mid, MID_MIN), MID_MAX)
        return mid

    def midpoints(self, token_ids: list[str]) -> dict[str, str]:
        """Current midpoints of the known tokens that have a book; each market drifts once per call."""
        answer: dict[str, str] = {}
        drifted: dict[str, int] = {}
        with self._lock:
            for token_id in token_ids:
                ref = self._tokens.get(token_id)
                if ref is None or not self._has_book(token_id):
                    continue
                condition_id, position = ref
                if condition_id not in drifted:
                    drifted[condition_id] = self._drift(condition_id)
                mid = drifted[condition_id]
                answer[token_id] = _format_mid(mid if position == 0 else MID_SCALE - mid)
        return answer


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


_GAMMA_ID = re.compile(r"/markets/(\d+)")
_CONDITION_ID = re.compile(r"/markets/(0x[0-9a-fA-F]+)")


def _route(method: str, path: str) -> str:
    if method == "GET":
        if path == "/markets/keyset":
            return "GET /markets/keyset"
        if _GAMMA_ID.fullmatch(path):
            return "GET /markets/{id}"
        if _CONDITION_ID.fullmatch(path):
            return "GET /markets/{condition_id}"
        if path in ("/midpoint", "/_stats"):
            return f"GET {path}"
    if method == "POST" and path == "/midpoints":
        return "POST /midpoints"
    return f"{method} (unknown)"


class _Handler(BaseHTTPRequestHandler):
    server: StandinServer
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: no line per request."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        route = _route(method, path)
        state._count(route)
        if route == "GET /_stats":
            self._send(200, state.stats())
            return
        if state.delay_seconds > 0:
            time.sleep(state.delay_seconds)
        forced = state._forced_answer()
        if forced is not None:
            status, headers = forced
            message = "Too Many Requests" if status == 429 else "Service Unavailable"
            self._send(status, {"error": message}, headers)
            return
        status, payload = self._answer(route, path, query, body)
        self._send(status, payload)

    def _answer(self, route: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, Any]:
        state = self.server.state
        if route == "GET /markets/keyset":
            return state.keyset_page(query)
        if route == "GET /markets/{id}":
            return state.gamma_market(path.rsplit("/", 1)[1], query)
        if route == "GET /markets/{condition_id}":
            return state.clob_market(path.rsplit("/", 1)[1])
        if route == "GET /midpoint":
            token_id = _first(query, "token_id")
            if not token_id:
                return 400, {"error": "Invalid payload"}
            mids = state.midpoints([token_id])
            if token_id not in mids:
                return 404, {"error": "No orderbook exists for the requested token id"}
            return 200, {"mid": mids[token_id]}
        if route == "POST /midpoints":
            try:
                items = json.loads(body or b"null")
                token_ids = [str(item["token_id"]) for item in items]
            except (ValueError, TypeError, KeyError):
                return 400, {"error": "Invalid payload"}
            return 200, state.midpoints(token_ids)
        return 404, {"error": "not found"}

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.server.state._count_status(status)
        data = json.dumps(payload, separators=(",", ":")).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (read timeout)
            self.close_connection = True


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: StandinState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


def serve(
    *, port: int = 0, state: StandinState, host: str = "127.0.0.1"
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start serving in a daemon thread (port 0 picks a free port). Stop with server.shutdown()."""
    server = StandinServer((host, port), state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.name = "polymarket-standin"
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--markets", type=int, default=2000, help="how many Gamma rows to generate")
    parser.add_argument("--bad-fraction", type=float, default=0.0, help="share of rows with a defect")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fail-every", type=int, default=0, help="every Nth request answers 503")
    parser.add_argument("--throttle-every", type=int, default=0, help="every Nth request answers 429")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds on 429")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to sleep before each answer")
    parser.add_argument("--midpoint-missing-fraction", type=float, default=0.0)
    args = parser.parse_args(argv)

    markets = build_markets(args.markets, seed=args.seed, bad_fraction=args.bad_fraction)
    state = StandinState(markets, seed=args.seed)
    state.fail_every, state.throttle_every, state.retry_after = args.fail_every, args.throttle_every, args.retry_after
    state.delay_seconds = args.delay
    state.midpoint_missing_fraction = args.midpoint_missing_fraction
    server, thread = serve(port=args.port, state=state, host=args.host)
    host, port = server.server_address[:2]
    base_url = f"http://{host}:{port}"
    skipped = Counter(reason for row in markets if (reason := skip_reason(row)) is not None)
    print(f"Polymarket stand-in: {len(markets)} markets, {sum(skipped.values())} to be skipped {dict(skipped)}")
    print(f"POLYMARKET_GAMMA_URL={base_url}")
    print(f"POLYMARKET_CLOB_URL={base_url}", flush=True)
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
