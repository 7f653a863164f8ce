"""The pure parts of `make loadtest`: reading wrk's result line, per-scenario numbers, the SPEC §9
levels, the exactly-once comparison and the markdown tables. No Django, no I/O (tests/bench)."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RESULT_PREFIX = "LOADTEST "

# SPEC §9: p95 latency per kind of endpoint, in milliseconds.
SPEC_P95_MS = {"auth": 200, "listing": 300, "bets": 500, "leaderboard": 200}


@dataclass(frozen=True)
class WrkResult:
    """One wrk run, as bench/wrk/scenario.lua's done() prints it (latencies in µs there, ms here)."""

    requests: int
    duration_s: float
    errors: dict[str, int]  # connect, read, write, timeout (socket errors) and status (non-2xx/3xx)
    statuses: dict[int, int]  # only when responses were tracked
    sent: int
    received: int
    exhausted_threads: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    @property
    def req_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def socket_errors(self) -> int:
        return sum(self.errors[kind] for kind in ("connect", "read", "write", "timeout"))

    @property
    def error_count(self) -> int:
        return self.errors["status"] + self.socket_errors

    @property
    def ok(self) -> int:
        return self.requests - self.errors["status"]

    @property
    def unanswered(self) -> int:
        """Tracked runs: requests sent whose response never came back (in flight when wrk stopped,
        or lost to a socket error). The server may have carried them out."""
        return max(self.sent - self.received, 0)

    def errors_text(self) -> str:
        """ "0", or the count with what it is made of: "12 (409: 10, timeout: 2)"."""
        if not self.error_count:
            return "0"
        parts = [f"{status}: {count}" for status, count in sorted(self.statuses.items()) if not 200 <= status < 400]
        if self.errors["status"] and not parts:
            parts.append(f"non-2xx: {self.errors['status']}")
        parts += [
            f"{kind}: {self.errors[kind]}" for kind in ("connect", "read", "write", "timeout") if self.errors[kind]
        ]
        return f"{self.error_count} ({', '.join(parts)})"


def parse_wrk_result(output: str) -> WrkResult:
    """The result of the last LOADTEST line in wrk's output; ValueError when there is none."""
    lines = [line for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise ValueError("wrk printed no LOADTEST result line")
    data = json.loads(lines[-1][len(RESULT_PREFIX) :])
    latency = data["latency_us"]
    return WrkResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        errors={kind: int(data["errors"][kind]) for kind in ("connect", "read", "write", "status", "timeout")},
        statuses={int(status): count for status, count in data["statuses"].items()},
        sent=data["sent"],
        received=data["received"],
        exhausted_threads=data["exhausted_threads"],
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
    )


@dataclass(frozen=True)
class Measured:
    name: str
    connections: int
    result: WrkResult
    level: str | None = None  # a key of SPEC_P95_MS, for the mixed workload
    bare_req_per_s: float | None = None  # the bare view measured just before, for the ratio
    load: str = ""  # the 1-minute load average before the run: how busy the machine was


def within_level(measured: Measured) -> bool | None:
    """Whether the p95 is inside the SPEC §9 level of its kind and nothing failed; None without a level."""
    if measured.level is None:
        return None
    return measured.result.p95_ms < SPEC_P95_MS[measured.level] and measured.result.error_count == 0


def _number(value: float) -> str:
    return f"{value:,.0f}"


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def scenario_table(rows: Sequence[Measured]) -> str:
    """The markdown table of the single-endpoint scenarios, each with its share of the bare view
    measured just before it (so a busy moment of the machine weighs on both)."""
    lines = [
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to bare | bare req/s beside | load avg |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        result = row.result
        bare = row.bare_req_per_s
        ratio = f"{result.req_per_s / bare:.0%}" if bare else "-"
        lines.append(
            f"| {row.name} | {_number(result.req_per_s)} | {_ms(result.p50_ms)} | {_ms(result.p95_ms)} "
            f"| {_ms(result.p99_ms)} | {result.errors_text()} | {ratio} | {_number(bare) if bare else '-'} "
            f"| {row.load or '-'} |"
        )
    return "\n".join(lines)


def mixed_table(rows: Sequence[Measured]) -> str:
    """The markdown table of the mixed workload: per endpoint, its p95 against its SPEC §9 level."""
    lines = [
        "| endpoint | connections | req/s | p50 ms | p95 ms | p99 ms | errors | SPEC §9 p95 level | within |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        result = row.result
        level = f"{row.level} < {SPEC_P95_MS[row.level]} ms" if row.level else "-"
        verdict = {None: "-", True: "yes", False: "**no**"}[within_level(row)]
        lines.append(
            f"| {row.name} | {row.connections} | {_number(result.req_per_s)} | {_ms(result.p50_ms)} "
            f"| {_ms(result.p95_ms)} | {_ms(result.p99_ms)} | {result.errors_text()} | {level} | {verdict} |"
        )
    total = sum(row.result.req_per_s for row in rows)
    connections = sum(row.connections for row in rows)
    lines.append(f"| **all** | {connections} | {_number(total)} | | | | | | |")
    return "\n".join(lines)


@dataclass(frozen=True)
class OnceCheck:
    """Clients' successes against the database after a run."""

    name: str
    told: int  # successes the clients were told about
    stored: int  # rows the database holds
    duplicates: int  # ids the clients were told about twice
    missing: int  # told about, but not in the database
    unseen: int  # in the database, but no client was told
    allowed_unseen: int  # requests that got no answer: the server may have carried them out

    @property
    def passed(self) -> bool:
        return not self.duplicates and not self.missing and 0 <= self.unseen <= self.allowed_unseen

    def describe(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (
            f"{verdict} {self.name}: clients told {self.told:,}, database holds {self.stored:,}; "
            f"duplicates {self.duplicates}, missing {self.missing}, "
            f"unseen {self.unseen} (requests without an answer: {self.allowed_unseen})"
        )


def exactly_once(name: str, *, told: Iterable[str], stored: set[str], allowed_unseen: int) -> OnceCheck:
    """Every id a client was told succeeded is stored exactly once, and nothing else is stored
    except what requests that never got an answer may have done."""
    told = list(told)
    distinct = set(told)
    return OnceCheck(
        name=name,
        told=len(told),
        stored=len(stored),
        duplicates=len(told) - len(distinct),
        missing=len(distinct - stored),
        unseen=len(stored - distinct),
        allowed_unseen=allowed_unseen,
    )


def counted_once(name: str, *, told: int, stored: int, allowed_unseen: int) -> OnceCheck:
    """The same check where responses carry no id (daily claims): only the counts can be compared."""
    return OnceCheck(
        name=name,
        told=told,
        stored=stored,
        duplicates=0,
        missing=max(told - stored, 0),
        unseen=stored - told,
        allowed_unseen=allowed_unseen,
    )
