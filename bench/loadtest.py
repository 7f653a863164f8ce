"""`make loadtest`: every API scenario under gunicorn, driven by wrk, beside a bare DRF view.

One run, on loopback: a freshly recreated PostgreSQL database (thisthat_load) and Redis db
(LOADTEST_REDIS_URL, default db 4, flushed), the Polymarket stand-in (bench/polymarket_standin.py)
in this process, the project under gunicorn with the production settings (DEBUG off; rate limits on,
every limit 1,000,000/min; LOG_LEVEL=INFO with the request log written to var/loadtest/app.log), and
the bare view (bench/bare_settings.py) under the same gunicorn configuration. Seeds through
bench/load_fixtures.py, measures each scenario with wrk (bench/wrk/scenario.lua), then the mixed
workload of 500 connections as concurrent wrk processes (one per endpoint, so each has its own
latency distribution), and finally checks the ledger and that every bet a client saw placed or sold
exists exactly once. Prints a markdown report (also var/loadtest/report.md); exit status 1 when a
check fails. Not part of `make test`.
"""

import argparse
import importlib.metadata
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import redis
from psycopg import sql

from bench.loadreport import SPEC_P95_MS, Measured, WrkResult, mixed_table, parse_wrk_result, scenario_table
from bench.polymarket_standin import StandinState, build_markets, serve

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / "var" / "loadtest"
LUA = ROOT / "bench" / "wrk" / "scenario.lua"
API = "/api/v1"
RATE_SCOPES = ("REGISTER", "LOGIN", "PASSWORD_RESET", "BETS", "DAILY_REWARD", "PURCHASES", "DEFAULT")
SEARCH_WORDS = ["", "will", "by", "win", "bitcoin", "election", "release", "above", "2027", "over", "the", "launch"]
SORTS = ["trending", "liquidity", "expires_soon", "newest"]
ODDS_MAX_AGE_SECONDS = 60  # SPEC: bets on Polymarket odds older than this are refused (the default)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _line(method: str, path: str, token: str = "-", body: dict | None = None) -> str:
    return "\t".join([method, path, token, json.dumps(body, separators=(",", ":")) if body is not None else "-"])


# --- the machine and the servers -------------------------------------------------------------------
def machine_report(database_url: str, redis_url: str, gunicorn: str, args: argparse.Namespace) -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    mem_kib = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    )
    with psycopg.connect(database_url) as conn:
        pg = {name: conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0]
              for name in ("server_version", "shared_buffers", "synchronous_commit", "max_connections")}  # fmt: skip
    redis_version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].split(" Copyright")[0]
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("Django", "djangorestframework", "gunicorn")
    )
    return [
        f"machine: {os.cpu_count()} CPUs ({model}), {mem_kib / 1024 / 1024:.1f} GiB, Linux {platform.release()}; "
        f"load average at start {Path('/proc/loadavg').read_text().split()[0]}",
        f"PostgreSQL {pg['server_version']} (shared_buffers {pg['shared_buffers']}, synchronous_commit "
        f"{pg['synchronous_commit']}, max_connections {pg['max_connections']}), Redis {redis_version}, "
        f"Python {platform.python_version()}, {versions}, {wrk}",
        f"server: {gunicorn}",
        f"load: wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s --timeout {args.timeout}s per "
        f"scenario; mixed workload {args.mixed_connections} connections for {args.mixed_duration}s, "
        f"think time {args.mixed_think_ms} ms",
    ]


def recreate_database(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    if "load" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'load'")
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    if client.connection_pool.connection_kwargs.get("db", 0) == 0:
        raise SystemExit("refusing to flush Redis db 0: point LOADTEST_REDIS_URL at a database of its own")
    client.flushdb()


def server_env(database_url: str, redis_url: str, polymarket_url: str) -> dict[str, str]:
    """The production settings, with every rate limit on but high enough never to refuse."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thisthat.settings.production",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "load",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
        # Production refuses the console backend; no scenario sends mail.
        "EMAIL_URL": "smtp://127.0.0.1:1",
        "SECURE_SSL_REDIRECT": "false",  # as in docker/compose.yml: TLS ends at the proxy
        "LOG_LEVEL": "INFO",
        "RATE_LIMIT_ENABLED": "true",
        **{f"RATE_LIMIT_{scope}": "1000000/min" for scope in RATE_SCOPES},
        # Tokens are minted once at seeding and must outlive the run; verifying one costs the same.
        "JWT_ACCESS_MINUTES": "240",
        "POLYMARKET_GAMMA_URL": polymarket_url,
        "POLYMARKET_CLOB_URL": polymarket_url,
    }


def manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def gunicorn_args(args: argparse.Namespace) -> list[str]:
    """The Procfile's flags, with the worker settings from the command line."""
    return [
        "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", args.worker_class,
        "--timeout", "30", "--graceful-timeout", "20",
        *(["--max-requests", str(args.max_requests), "--max-requests-jitter", str(args.max_requests // 10)]
          if args.max_requests else []),
    ]  # fmt: skip


def start_gunicorn(env: dict[str, str], port: int, args: argparse.Namespace, log: Path, probe: str):
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "thisthat.wsgi", "--bind", f"127.0.0.1:{port}", *gunicorn_args(args)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as response:
                if response.status == 200:
                    return server
        except OSError:  # not listening yet, or still loading
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn on port {port} did not become ready; see {log}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# --- scenarios ----------------------------------------------------------------------------------------
@dataclass
class Scenario:
    key: str
    name: str
    lines: list[str]
    server: str = "app"  # or "bare"
    mode: str = "cycle"  # or "once"
    track: str = ""  # "bets", "sells" or "claims": responses are counted (and ids kept)
    before: Callable[[], None] | None = None
    level: str | None = None
    think_ms: int = 0
    connections: int = 0  # the mixed workload's share; single scenarios use --connections


@dataclass
class Run:
    args: argparse.Namespace
    ports: dict[str, int]
    measured: list[tuple[Scenario, WrkResult]] = field(default_factory=list)

    def launch(self, scenario: Scenario, *, connections: int, duration: int, threads: int) -> subprocess.Popen:
        requests = RUN_DIR / "requests" / f"{scenario.key}.tsv"
        requests.write_text("\n".join(scenario.lines) + "\n")
        env = {
            **os.environ,
            "LOADTEST_REQUESTS": str(requests),
            "LOADTEST_THREADS": str(threads),
            "LOADTEST_MODE": scenario.mode,
            "LOADTEST_THINK_MS": str(scenario.think_ms),
        }
        if scenario.track:
            env["LOADTEST_TRACK"] = str(RUN_DIR / "ids" / f"{scenario.track}-{scenario.key}")
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", f"{self.args.timeout}s",
                   "-s", str(LUA), f"http://127.0.0.1:{self.ports[scenario.server]}"]  # fmt: skip
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def finish(self, scenario: Scenario, process: subprocess.Popen) -> WrkResult:
        output, _ = process.communicate()
        (RUN_DIR / "wrk" / f"{scenario.key}.txt").write_text(output)
        if process.returncode:
            raise SystemExit(f"wrk failed for {scenario.name}:\n{output}")
        result = parse_wrk_result(output)
        self.measured.append((scenario, result))
        if result.exhausted_threads:
            print(f"  ! {scenario.name}: the pool of one-shot requests ran out; req/s is understated", flush=True)
        return result

    def single(self, scenario: Scenario, *, duration: int | None = None) -> Measured:
        if scenario.before:
            scenario.before()
        load = Path("/proc/loadavg").read_text().split()[0]
        process = self.launch(
            scenario,
            connections=self.args.connections,
            duration=duration or self.args.duration,
            threads=self.args.wrk_threads,
        )
        return Measured(scenario.name, self.args.connections, self.finish(scenario, process), load=load)

    def paired(self, scenario: Scenario, bare: Scenario) -> Measured:
        """The scenario, right after the bare view: a busy moment of the machine weighs on both."""
        beside = self.single(Scenario(f"bare_{scenario.key}", bare.name, bare.lines, server="bare"),
                             duration=self.args.bare_duration)  # fmt: skip
        measured = self.single(scenario)
        result = measured.result
        print(
            f"  {scenario.name}: {result.req_per_s:,.0f} req/s ({result.req_per_s / beside.result.req_per_s:.0%} of "
            f"the bare view's {beside.result.req_per_s:,.0f}), p50 {result.p50_ms:.1f} / p95 {result.p95_ms:.1f} / "
            f"p99 {result.p99_ms:.1f} ms, errors {result.errors_text()}, load average {measured.load}",
            flush=True,
        )
        return replace(measured, bare_req_per_s=beside.result.req_per_s)

    def mixed(self, scenarios: list[Scenario]) -> list[Measured]:
        processes = [
            (scenario, self.launch(scenario, connections=scenario.connections, duration=self.args.mixed_duration,
                                   threads=1))
            for scenario in scenarios
        ]  # fmt: skip
        rows = [Measured(s.name, s.connections, self.finish(s, process), s.level) for s, process in processes]
        for row in rows:
            print(f"  {row.name}: {row.result.req_per_s:,.0f} req/s, p95 {row.result.p95_ms:.0f} ms", flush=True)
        return rows


def build_scenarios(fixtures: dict, args: argparse.Namespace, hooks: dict[str, Callable[[], None]]):
    """The single-endpoint scenarios in the order they run, and the builders the mixed load reuses."""
    rng = random.Random(12)
    users = fixtures["users"]
    tokens = [user["token"] for user in users]

    def uncached() -> list[str]:
        seen: set[str] = set()
        while len(seen) < 20_000:
            query = {"q": rng.choice(SEARCH_WORDS), "sort": rng.choice(SORTS),
                     "offset": rng.randrange(len(fixtures["markets"])), "limit": rng.randint(1, 100)}  # fmt: skip
            seen.add(f"{API}/markets?{urlencode(query)}")
        return [_line("GET", path) for path in sorted(seen, key=lambda _: rng.random())]

    def deep_pages() -> list[str]:
        top = max(fixtures["board_total"] - 100, 101)
        return [
            _line("GET", f"{API}/leaderboard/volume?offset={rng.randrange(100, top)}&limit=100") for _ in range(5000)
        ]

    def per_user(path: str) -> list[str]:
        return [_line("GET", f"{API}{path}", token) for token in tokens]

    def bets(markets: list[str]) -> list[str]:
        return [
            _line("POST", f"{API}/bets", rng.choice(tokens),
                  {"marketId": rng.choice(markets), "side": rng.choice(["this", "that"]), "amount": 10})
            for _ in range(20_000)
        ]  # fmt: skip

    def claims(pool: list[str]) -> list[str]:
        return [_line("POST", f"{API}/rewards/daily", token) for token in pool]

    def sells(pool: list[dict]) -> list[str]:
        return [_line("POST", f"{API}/bets/{sale['id']}/sell", sale["token"], {}) for sale in pool]

    claim_pool, sale_pool = fixtures["claim_tokens"], fixtures["sale_bets"]
    claim_split, sale_split = len(claim_pool) * 3 // 4, len(sale_pool) * 3 // 4
    hot = fixtures["hot_market"]
    lines = {
        "cached": [_line("GET", f"{API}/markets")],
        "uncached": uncached(),
        "detail": [_line("GET", f"{API}/markets/{pk}") for pk in fixtures["markets"]],
        "live": [_line("GET", f"{API}/markets/{pk}/live") for pk in fixtures["markets"]],
        "board": [_line("GET", f"{API}/leaderboard/pnl")],
        "deep": deep_pages(),
        "users_me": per_user("/users/me"),
        "bets_me": per_user("/bets/me"),
        "portfolio": per_user("/economy/portfolio"),
        "board_me": per_user("/leaderboard/me"),
        "bets": bets(fixtures["tradable_markets"]),
    }
    sync, fresh = hooks["sync_odds"], hooks["fresh_odds"]
    single = [
        Scenario("health", "GET /health", [_line("GET", "/health")]),
        Scenario("cached", "GET /markets (cached page)", lines["cached"]),
        Scenario("uncached", "GET /markets (search, sort, offset: uncached)", lines["uncached"]),
        Scenario("detail", "GET /markets/{id}", lines["detail"]),
        Scenario("live", "GET /markets/{id}/live", lines["live"], before=sync),
        Scenario("board", "GET /leaderboard/pnl (first page)", lines["board"]),
        Scenario("deep", "GET /leaderboard/volume (random deep pages)", lines["deep"]),
        Scenario("users_me", "GET /users/me", lines["users_me"]),
        Scenario("bets_me", "GET /bets/me", lines["bets_me"]),
        Scenario("portfolio", "GET /economy/portfolio", lines["portfolio"]),
        Scenario("board_me", "GET /leaderboard/me", lines["board_me"]),
        Scenario("bets", f"POST /bets ({len(users)} users, {len(fixtures['tradable_markets'])} markets)",
                 lines["bets"], track="bets", before=fresh),
        Scenario("bets_hot", "POST /bets (one hot market)",
                 [_line("POST", f"{API}/bets", token, {"marketId": hot, "side": "this", "amount": 10})
                  for token in tokens], track="bets", before=fresh),
        Scenario("claims", "POST /rewards/daily (one claim per user)", claims(claim_pool[:claim_split]),
                 mode="once", track="claims"),
        Scenario("sells", "POST /bets/{id}/sell (each bet once)", sells(sale_pool[:sale_split]), mode="once",
                 track="sells", before=fresh),
    ]  # fmt: skip
    logins = [_line("POST", f"{API}/auth/login", "-", user) for user in fixtures["login_users"]]
    # Connections per endpoint out of 500 (PRD §12.3: mostly reads, a share of bets, claims and cash-outs):
    # market reads 70 %, leaderboards 10 %, bets 10 %, own bets and portfolio 5 %, claims 3 %, cash-outs 2 %.
    mixed_plan = [
        ("cached", "GET /markets (cached page)", 100, "listing", lines["cached"]),
        ("uncached", "GET /markets (search, sort, offset)", 50, "listing", lines["uncached"]),
        ("detail", "GET /markets/{id}", 120, "listing", lines["detail"]),
        ("live", "GET /markets/{id}/live", 75, "listing", lines["live"]),
        ("login", "POST /auth/login (1 s think time)", 5, "auth", logins),
        ("board", "GET /leaderboard/pnl (first page)", 25, "leaderboard", lines["board"]),
        ("deep", "GET /leaderboard/volume (deep pages)", 15, "leaderboard", lines["deep"]),
        ("board_me", "GET /leaderboard/me", 10, "leaderboard", lines["board_me"]),
        ("bets", "POST /bets", 50, "bets", lines["bets"]),
        ("bets_me", "GET /bets/me", 13, None, lines["bets_me"]),
        ("portfolio", "GET /economy/portfolio", 12, None, lines["portfolio"]),
        ("claims", "POST /rewards/daily", 15, None, claims(claim_pool[claim_split:])),
        ("sells", "POST /bets/{id}/sell", 10, "bets", sells(sale_pool[sale_split:])),
    ]
    mixed = [
        Scenario(f"mixed_{key}", name, request_lines, level=level,
                 mode="once" if key in ("claims", "sells") else "cycle",
                 track={"bets": "bets", "claims": "claims", "sells": "sells"}.get(key, ""),
                 think_ms=max(1000, args.mixed_think_ms) if key == "login" else args.mixed_think_ms,
                 connections=max(1, round(share * args.mixed_connections / 500)))
        for key, name, share, level, request_lines in mixed_plan
    ]  # fmt: skip
    return single, mixed


# --- the run ------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 4)))
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--max-requests", type=int, default=0,
                        help="gunicorn --max-requests (the Procfile has 5000; off by default so no worker "
                        "restarts in the middle of a measurement)")  # fmt: skip
    parser.add_argument("--connections", type=int, default=32, help="wrk -c per scenario")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t per scenario")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--timeout", type=int, default=10, help="wrk --timeout in seconds")
    parser.add_argument("--bare-duration", type=int, default=5, help="seconds of bare view before each scenario")
    parser.add_argument("--mixed-connections", type=int, default=500)
    parser.add_argument("--mixed-duration", type=int, default=30, help="seconds (odds must stay under 60 s old)")
    parser.add_argument("--mixed-think-ms", type=int, default=0,
                        help="each mixed connection waits this long before each request (a user's think time); "
                        "0 makes every connection a user who never pauses")  # fmt: skip
    parser.add_argument("--only", default="", help="comma-separated scenario keys (the bare view always runs)")
    parser.add_argument("--no-mixed", action="store_true")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--board-users", type=int, default=20_000)
    parser.add_argument("--markets", type=int, default=36, help="Polymarket markets served by the stand-in")
    parser.add_argument("--credits-markets", type=int, default=12)
    parser.add_argument("--sell-bets-per-user", type=int, default=30)
    parser.add_argument("--with-jobs", action="store_true",
                        help="also time settlement of 10,000 bets and rank recomputation at 100,000 users")  # fmt: skip
    parser.add_argument("--port", type=int, default=0, help="first of three ports (app, bare view, stand-in)")
    parser.add_argument(
        "--metrics",
        choices=("on", "off"),
        default="on",
        help="the project's Prometheus metrics (METRICS_ENABLED); on, /metrics is saved to "
        "var/loadtest/metrics.txt after the scenarios",
    )
    args = parser.parse_args()
    if max(args.duration, args.mixed_duration) >= ODDS_MAX_AGE_SECONDS:
        # Odds are refreshed before each betting scenario; a bet needs them younger than this.
        parser.error(f"--duration and --mixed-duration must stay under {ODDS_MAX_AGE_SECONDS} s")

    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk (Debian package)")
    database_url = os.environ.get("LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thisthat_load")
    redis_url = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/4")
    ports = {name: args.port + n if args.port else _free_port() for n, name in enumerate(("app", "bare", "standin"))}
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    for folder in ("requests", "ids", "wrk"):
        (RUN_DIR / folder).mkdir(parents=True)

    recreate_database(database_url)
    flush_redis(redis_url)
    standin, _ = serve(port=ports["standin"], state=StandinState(build_markets(args.markets, seed=1), seed=1))
    env = server_env(database_url, redis_url, f"http://127.0.0.1:{ports['standin']}")
    metrics_token = secrets.token_urlsafe(32)
    env.update(METRICS_ENABLED=str(args.metrics == "on").lower(), METRICS_DIR=str(RUN_DIR / "metrics"),
               METRICS_TOKEN=metrics_token)  # fmt: skip
    gunicorn = (f"gunicorn {' '.join(gunicorn_args(args))} (the same for the project and the bare view); "
                f"DJANGO_SETTINGS_MODULE=thisthat.settings.production, rate limits on at 1000000/min, LOG_LEVEL=INFO "
                f"to var/loadtest/app.log, metrics {args.metrics}")  # fmt: skip
    report = ["## Load test", "", *(f"- {line}" for line in machine_report(database_url, redis_url, gunicorn, args))]
    print("\n".join(report), flush=True)

    started = time.monotonic()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")  # as the production image does
    print(f"ingest: {manage(env, 'ingest_markets')}", flush=True)
    print(f"odds: {manage(env, 'sync_odds')}", flush=True)
    fixtures_file = RUN_DIR / "fixtures.json"
    subprocess.run(
        [sys.executable, "-m", "bench.load_fixtures", "seed", "--out", str(fixtures_file), "--users", str(args.users),
         "--board-users", str(args.board_users), "--credits-markets", str(args.credits_markets),
         "--sell-bets-per-user", str(args.sell_bets_per_user)],
        cwd=ROOT, env={**env, "LOG_LEVEL": "WARNING"}, check=True,  # the seed's services log every step
    )  # fmt: skip
    fixtures = json.loads(fixtures_file.read_text())

    def fresh_odds() -> None:
        # ODDS_MAX_AGE_SECONDS (default 60) refuses bets on Polymarket odds older than that.
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE markets_market SET odds_updated_at = now() WHERE status = 'open'")

    def sync_odds() -> None:
        manage(env, "sync_odds")  # fills the shared price cache that /live reads (10 s)

    single, mixed = build_scenarios(fixtures, args, {"fresh_odds": fresh_odds, "sync_odds": sync_odds})
    if args.only:
        keys = set(args.only.split(","))
        single = [scenario for scenario in single if scenario.key in keys]
    bare = Scenario("bare", "bare DRF view (20 market-shaped objects)", [_line("GET", "/markets")], server="bare")
    app = start_gunicorn(env, ports["app"], args, RUN_DIR / "app.log", "/ready")
    bare_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.bare_settings", "METRICS_ENABLED": "false"}
    bare_server = start_gunicorn(bare_env, ports["bare"], args, RUN_DIR / "bare.log", "/markets")
    run = Run(args, ports)
    mixed_rows: list[Measured] = []
    try:
        warm = Scenario("warmup", "warm-up", [*(s.lines[0] for s in single if s.mode == "cycle" and not s.track)])
        for scenario in (warm, Scenario("warmup_bare", "warm-up", bare.lines, server="bare")):
            if scenario.lines:
                run.launch(scenario, connections=8, duration=3, threads=1).communicate()
        print(f"\nseeded and warm in {time.monotonic() - started:.0f} s; scenarios:", flush=True)
        rows = [run.paired(scenario, bare) for scenario in single]
        if not args.no_mixed:
            fresh_odds()
            sync_odds()
            print(f"mixed workload: {args.mixed_connections} connections, {args.mixed_duration} s", flush=True)
            mixed_rows = run.mixed(mixed)
        if args.metrics == "on":  # what an operator's scrape saw after the load
            scrape = urllib.request.Request(
                f"http://127.0.0.1:{ports['app']}/metrics", headers={"Authorization": f"Bearer {metrics_token}"}
            )
            with urllib.request.urlopen(scrape, timeout=30) as response:
                (RUN_DIR / "metrics.txt").write_bytes(response.read())
    finally:
        stop(app)
        stop(bare_server)
        standin.shutdown()

    bare_runs = sorted(
        (measured for scenario, measured in run.measured if scenario.server == "bare"), key=lambda r: r.req_per_s
    )
    median = bare_runs[len(bare_runs) // 2]
    report += [
        "",
        f"Each ratio is to the bare view measured for {args.bare_duration} s just before the scenario. The bare "
        f"view across the run: {len(bare_runs)} runs, {bare_runs[0].req_per_s:,.0f} to {bare_runs[-1].req_per_s:,.0f} "
        f"req/s (the spread is the machine's noise); the first row is the median run.",
        "",
        scenario_table([Measured(f"{bare.name}, median run", args.connections, median), *rows]),
    ]
    if mixed_rows:
        levels = ", ".join(f"{kind} < {ms} ms" for kind, ms in SPEC_P95_MS.items())
        report += ["", f"Mixed workload (SPEC §9 p95: {levels}):", "", mixed_table(mixed_rows)]

    report += ["", "Checks after the run:", "", *checks(run, env, fixtures)]
    if args.with_jobs:
        report += ["", *jobs(env, database_url)]
    log_lines = sum(1 for _ in (RUN_DIR / "app.log").open())
    report += ["", f"Request log: {log_lines:,} lines in var/loadtest/app.log."]
    text = "\n".join(report)
    (RUN_DIR / "report.md").write_text(text + "\n")
    print("\n" + text, flush=True)
    if any(line.startswith("- FAIL") for line in report):
        raise SystemExit(1)


def checks(run: Run, env: dict[str, str], fixtures: dict) -> list[str]:
    """The ledger reconciles, and what the clients were told matches the database exactly once."""

    def unanswered(track: str) -> int:
        return sum(result.unanswered for scenario, result in run.measured if scenario.track == track)

    told = {
        "seeded_at": fixtures["seeded_at"],
        "claims_ok": sum(r.statuses.get(201, 0) for s, r in run.measured if s.track == "claims"),
        "bets_unanswered": unanswered("bets"),
        "sells_unanswered": unanswered("sells"),
        "claims_unanswered": unanswered("claims"),
    }
    told_file = RUN_DIR / "told.json"
    told_file.write_text(json.dumps(told))
    verified = subprocess.run(
        [sys.executable, "-m", "bench.load_fixtures", "verify", "--ids-dir", str(RUN_DIR / "ids"),
         "--told", str(told_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [f"- {line}" for line in verified.stdout.splitlines()]
    if verified.returncode and not any(line.startswith("- FAIL") for line in lines):
        lines.append(f"- FAIL verification crashed: {verified.stderr.strip()[-500:]}")
    reconciled = subprocess.run(
        [sys.executable, "manage.py", "reconcile_ledger"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    summary = (reconciled.stdout.strip().splitlines() or [""])[-1]
    lines.append(f"- {'PASS' if reconciled.returncode == 0 else 'FAIL'} manage.py reconcile_ledger: "
                 f"{summary} {reconciled.stderr.strip()[-300:]}".rstrip())  # fmt: skip
    return lines


def jobs(env: dict[str, str], database_url: str) -> list[str]:
    """Settlement of 10,000 bets and rank recomputation at 100,000 users, in a database of their own."""
    jobs_url = database_url + "_jobs"
    recreate_database(jobs_url)
    jobs_env = {**env, "DATABASE_URL": jobs_url, "CACHE_KEY_PREFIX": "loadjobs"}
    manage(jobs_env, "migrate", "--noinput", "-v0")
    lines = ["| job | wall time | detail |", "|---|---|---|"]
    for command in (["bench.settlement"], ["bench.leaderboard", "--sizes", "100000"]):
        done = subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=jobs_env, capture_output=True, text=True)
        lines += [line for line in done.stdout.splitlines() if line.startswith("|")]
        if done.returncode:
            lines.append(f"- FAIL {command[0]}: {done.stderr.strip()[-300:]}")
        print(lines[-1], flush=True)
    return lines


if __name__ == "__main__":
    main()
