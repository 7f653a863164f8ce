"""`make bench`: start gunicorn on loopback against PostgreSQL and Redis, drive it with concurrent
clients, and print throughput and latency percentiles per scenario.

Uses its own database (thisthat_bench, recreated on every run so numbers are comparable) and
Redis db 2, turns rate limits off, and stops the server when done. Polymarket is the stand-in server
of bench/polymarket_standin.py on loopback (2,000 markets, 5% of rows malformed). Every loop is
bounded by a request count.
"""

import argparse
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
from psycopg import sql

from bench.polymarket_standin import StandinState, build_markets, serve

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-Passw0rd-2026"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thisthat.settings.local",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(64),
        "RATE_LIMIT_ENABLED": "false",
        "CACHE_KEY_PREFIX": "bench",
        "LOG_LEVEL": "WARNING",
    }


def _recreate_database(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _start_server(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "thisthat.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--threads", str(threads)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return server
        except requests.RequestException:  # not listening yet, or still loading
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not become ready")


def _measure(name: str, clients: int, per_client: int, request: Callable[[requests.Session, int], requests.Response]):
    def client(index: int) -> list[float]:
        session = requests.Session()
        latencies = []
        for _ in range(per_client):
            started = time.perf_counter()
            response = request(session, index)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 300:
                raise SystemExit(f"{name}: HTTP {response.status_code} {response.text[:200]}")
        return latencies

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = sorted(x for xs in pool.map(client, range(clients)) for x in xs)
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"| {name} | {clients} | {len(latencies)} | {len(latencies) / wall:,.0f} "
        f"| {cuts[49]:.0f} | {cuts[94]:.0f} | {cuts[98]:.0f} |",
        flush=True,
    )


def _manage(env: dict[str, str], *command: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def _polymarket_jobs(env: dict[str, str], standin_url: str) -> None:
    """Ingestion and odds sync against the stand-in, timed by the jobs' own summaries."""
    job_env = {**env, "POLYMARKET_GAMMA_URL": standin_url, "POLYMARKET_CLOB_URL": standin_url}
    print("| job | summary | markets/s |")
    print("|---|---|---|")
    for label in ("ingest_markets (empty catalogue)", "ingest_markets (again: nothing changed)"):
        line = _manage(job_env, "ingest_markets")
        seconds = float(re.search(r"in ([0-9.]+)s", line).group(1))
        stored = sum(int(n) for n in re.findall(r"(\d+) (?:created|updated|unchanged)", line))
        print(f"| {label} | {line} | {stored / seconds:,.0f} |", flush=True)
    line = _manage(job_env, "sync_odds")
    seconds = float(re.search(r"in ([0-9.]+)s", line).group(1))
    synced = int(re.search(r"Synced odds of (\d+)", line).group(1))
    print(f"| sync_odds | {line} | {synced / seconds:,.0f} |", flush=True)


def _market_reads(api: str, clients: int) -> None:
    market_ids = [market["id"] for market in requests.get(f"{api}/markets?limit=100").json()["markets"]]
    words = ["will", "the", "2027", "price", "win", "rate", "by", "election"]
    _measure("GET /markets (cached page)", clients, 100, lambda s, i: s.get(f"{api}/markets"))
    _measure(
        "GET /markets (search, sort, offset: uncached)",
        clients,
        50,
        lambda s, i: s.get(
            f"{api}/markets",
            params={"q": words[i % len(words)], "sort": "newest", "offset": secrets.randbelow(500), "limit": 50},
        ),
    )
    _measure("GET /markets/{id}", clients, 100, lambda s, i: s.get(f"{api}/markets/{secrets.choice(market_ids)}"))
    _measure(
        "GET /markets/{id}/live", clients, 100, lambda s, i: s.get(f"{api}/markets/{secrets.choice(market_ids)}/live")
    )


def _bets(api: str, clients: int, users: list[tuple[str, str]]) -> None:
    """Each client bets 10 credits at a time on the busiest open market, then cashes one out."""
    market = requests.get(f"{api}/markets", params={"limit": 1}).json()["markets"][0]
    _measure(
        "POST /bets",
        clients,
        90,
        lambda s, i: s.post(
            f"{api}/bets",
            json={"marketId": market["id"], "side": "this", "amount": 10},
            headers={"Authorization": f"Bearer {users[i][1]}"},
        ),
    )
    _measure(
        "GET /bets/me",
        clients,
        50,
        lambda s, i: s.get(f"{api}/bets/me", headers={"Authorization": f"Bearer {users[i][1]}"}),
    )
    _measure(
        "GET /economy/portfolio",
        clients,
        20,
        lambda s, i: s.get(f"{api}/economy/portfolio", headers={"Authorization": f"Bearer {users[i][1]}"}),
    )


def _leaderboard_reads(api: str, clients: int, users: list[tuple[str, str]]) -> None:
    """Boards after the 100,000-user recomputation: the prefilled first pages, deeper pages, and /me."""
    _measure("GET /leaderboard/pnl (first page)", clients, 100, lambda s, i: s.get(f"{api}/leaderboard/pnl"))
    _measure(
        "GET /leaderboard/volume?period=week (deep pages)",
        clients,
        50,
        lambda s, i: s.get(
            f"{api}/leaderboard/volume", params={"period": "week", "offset": secrets.randbelow(90_000), "limit": 100}
        ),
    )
    _measure(
        "GET /leaderboard/me",
        clients,
        100,
        lambda s, i: s.get(f"{api}/leaderboard/me", headers={"Authorization": f"Bearer {users[i][1]}"}),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients per scenario")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thisthat_bench")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")
    port = _free_port()
    env = _server_env(database_url, redis_url)
    _recreate_database(database_url)
    standin, _ = serve(port=0, state=StandinState(build_markets(2000, seed=1, bad_fraction=0.05), seed=1))
    standin_url = f"http://127.0.0.1:{standin.server_address[1]}"
    server = _start_server(
        {**env, "POLYMARKET_GAMMA_URL": standin_url, "POLYMARKET_CLOB_URL": standin_url},
        port,
        args.workers,
        args.threads,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        _polymarket_jobs(env, standin_url)
        print()
        run = uuid.uuid4().hex[:6]
        users: list[tuple[str, str]] = []

        def register(session: requests.Session, index: int) -> requests.Response:
            name = f"b{run}_{index}_{len(users)}"
            response = session.post(
                f"{api}/auth/register", json={"username": name, "email": f"{name}@bench.test", "password": PASSWORD}
            )
            if response.status_code == 201:
                users.append((f"{name}@bench.test", response.json()["accessToken"]))
            return response

        # Warm-up, untimed: first requests load code and the common-password list in each worker.
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda i: register(requests.Session(), i), range(args.clients * 2)))

        print(
            f"gunicorn {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}; clients on the same machine"
        )
        print("| scenario | clients | requests | req/s | p50 ms | p95 ms | p99 ms |")
        print("|---|---|---|---|---|---|---|")
        _measure("POST /auth/register", args.clients, 10, register)
        _measure(
            "POST /auth/login",
            args.clients,
            10,
            lambda s, i: s.post(f"{api}/auth/login", json={"email": users[i][0], "password": PASSWORD}),
        )
        _measure(
            "GET /users/me",
            args.clients,
            100,
            lambda s, i: s.get(f"{api}/users/me", headers={"Authorization": f"Bearer {users[i][1]}"}),
        )
        _measure("GET /health", args.clients, 100, lambda s, i: s.get(f"http://127.0.0.1:{port}/health"))
        _market_reads(api, args.clients)
        _bets(api, args.clients, users)
        print()
        print("| settlement | wall time | result |")
        print("|---|---|---|")
        subprocess.run([sys.executable, "-m", "bench.settlement"], cwd=ROOT, env=env, check=True)
        subprocess.run([sys.executable, "-m", "bench.leaderboard"], cwd=ROOT, env=env, check=True)
        print()
        print("| scenario | clients | requests | req/s | p50 ms | p95 ms | p99 ms |")
        print("|---|---|---|---|---|---|---|")
        _leaderboard_reads(api, args.clients, users)
    finally:
        server.terminate()
        server.wait(timeout=30)
        standin.shutdown()


if __name__ == "__main__":
    main()
