"""`python -m bench.metrics_cost`: what the Prometheus metrics cost (issue 17), as a paired A/B.

The load harness measures each scenario once, beside the bare view; on a shared machine two of its
runs differ by more than the 5 % to be checked. Here the project runs twice at once, against the
same database and Redis: on one port with METRICS_ENABLED (multiprocess files, the middleware, the
timed statements and cache calls), on the other without. Each scenario of the harness that can be
repeated (the reads and the bets) drives both at the same time, `--rounds` times `--duration`
seconds: the two share the machine's cores and whatever else runs on it at that moment, so each
round's ratio of their req/s is the ratio of what a request costs each, with the machine's swings
(10-20 % between two rounds on this shared 2-core VM) cancelled out. `--alternate` loads one side
at a time instead (on/off, off/on, ...). Prints, per scenario, the median req/s of each side, the
median of the rounds' on/off ratios, and the CPU time gunicorn's processes spent per request on
each side. Same data, seeding and knobs as `make loadtest` (LOADTEST_DATABASE_URL,
LOADTEST_REDIS_URL); about 10 minutes.
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

from bench import profile_share
from bench.loadtest import (
    RUN_DIR,
    Run,
    Scenario,
    build_scenarios,
    flush_redis,
    manage,
    recreate_database,
    server_env,
    start_gunicorn,
    stop,
)
from bench.polymarket_standin import StandinState, build_markets, serve

REPEATABLE = ("health", "cached", "uncached", "detail", "board", "users_me", "bets_me", "board_me", "bets")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of gunicorn's master `pid` and its workers so far."""
    total = 0
    for process in (pid, *map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split())):
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLOCK_TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True, help="first of three ports (on, off, stand-in)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--only", default=",".join(REPEATABLE))
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--board-users", type=int, default=20_000)
    parser.add_argument("--reuse", action="store_true", help="keep the data (and keys) of the previous run: no seeding")
    parser.add_argument(
        "--profile", action="store_true",
        help="sample the metrics-on server with py-spy during each scenario and report the share of its CPU "
        "samples spent in the metrics' own code (prometheus-client and observability)",
    )  # fmt: skip
    parser.add_argument(
        "--alternate", dest="together", action="store_false",
        help="load one side at a time (on/off, off/on, ...) instead of both at once",
    )  # fmt: skip
    args = parser.parse_args()
    harness = argparse.Namespace(
        workers=2, threads=4, worker_class="gthread", max_requests=0, timeout=10, wrk_threads=2,
        connections=args.connections, duration=args.duration, mixed_connections=500, mixed_think_ms=0,
    )  # fmt: skip
    database_url = os.environ.get("LOADTEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thisthat_load")
    redis_url = os.environ.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/4")
    ports = {"on": args.port, "off": args.port + 1, "standin": args.port + 2}
    for folder in ("requests", "ids", "wrk"):
        (RUN_DIR / folder).mkdir(parents=True, exist_ok=True)
    standin, _ = serve(port=ports["standin"], state=StandinState(build_markets(36, seed=1), seed=1))
    env = server_env(database_url, redis_url, f"http://127.0.0.1:{ports['standin']}")
    env.update(METRICS_DIR=str(RUN_DIR / "metrics-ab"), METRICS_TOKEN=secrets.token_urlsafe(32))
    keys_file, fixtures_file = RUN_DIR / "keys-ab.json", RUN_DIR / "fixtures-ab.json"
    if args.reuse:  # the seeded tokens were signed with the previous run's keys
        env.update(json.loads(keys_file.read_text()))
    else:
        recreate_database(database_url)
        flush_redis(redis_url)
        keys_file.write_text(json.dumps({name: env[name] for name in ("SECRET_KEY", "JWT_SIGNING_KEY")}))
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "collectstatic", "--noinput", "-v0")
        manage(env, "ingest_markets")
        manage(env, "sync_odds")
        subprocess.run(
            [sys.executable, "-m", "bench.load_fixtures", "seed", "--out", str(fixtures_file), "--users",
             str(args.users), "--board-users", str(args.board_users), "--credits-markets", "12",
             "--sell-bets-per-user", "1"],
            env={**env, "LOG_LEVEL": "WARNING"}, check=True,
        )  # fmt: skip
    fixtures = json.loads(fixtures_file.read_text())

    def fresh_odds() -> None:
        manage(env, "sync_odds")

    single, _ = build_scenarios(fixtures, harness, {"fresh_odds": fresh_odds, "sync_odds": fresh_odds})
    keys = args.only.split(",")
    chosen = [scenario for scenario in single if scenario.key in keys]
    servers = {
        "on": start_gunicorn({**env, "METRICS_ENABLED": "true"}, ports["on"], harness, RUN_DIR / "on.log", "/ready"),
        "off": start_gunicorn(
            {**env, "METRICS_ENABLED": "false"}, ports["off"], harness, RUN_DIR / "off.log", "/ready"
        ),
    }
    run = Run(harness, ports)
    rows = []
    try:
        for scenario in chosen:
            rates: dict[str, list[float]] = {"on": [], "off": []}
            cpu_us: dict[str, list[float]] = {"on": [], "off": []}
            samples = RUN_DIR / f"profile-{scenario.key}.txt"
            sampler = profile_share.recorder(servers["on"].pid, samples) if args.profile else None
            for round_ in range(args.rounds):
                if scenario.before:
                    scenario.before()
                order = ("on", "off") if round_ % 2 == 0 else ("off", "on")
                for batch in [order] if args.together else [(side,) for side in order]:
                    copies = {side: Scenario(f"{scenario.key}_{side}", scenario.name, scenario.lines, server=side)
                              for side in batch}  # fmt: skip
                    cpu_before = {side: cpu_seconds(servers[side].pid) for side in batch}
                    launched = {
                        side: run.launch(copies[side], connections=args.connections, duration=args.duration, threads=2)
                        for side in batch
                    }
                    for side in batch:
                        result = run.finish(copies[side], launched[side])
                        rates[side].append(result.req_per_s)
                        cpu_us[side].append((cpu_seconds(servers[side].pid) - cpu_before[side]) * 1e6 / result.requests)
            profiled = ""
            if sampler:
                profile_share.stop(sampler)
                fraction, count = profile_share.share(samples)
                profiled = f"{fraction:.1%} of {count:,} samples"
            # The median of the rounds' own ratios: each compares the two sides under the same moment's load.
            ratio = statistics.median(on / off for on, off in zip(rates["on"], rates["off"], strict=True))
            cpu_ratio = statistics.median(off / on for on, off in zip(cpu_us["on"], cpu_us["off"], strict=True))
            on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
            cpu_on, cpu_off = statistics.median(cpu_us["on"]), statistics.median(cpu_us["off"])
            rows.append(
                f"| {scenario.name} | {on:,.0f} | {off:,.0f} | {ratio:.1%} "
                f"| {cpu_on:,.0f} | {cpu_off:,.0f} | {cpu_ratio:.1%} |" + (f" {profiled} |" if sampler else "")
            )
            each = ", ".join(f"{side} {[round(rate) for rate in rates[side]]}" for side in ("on", "off"))
            print(
                f"  {scenario.name}: on {on:,.0f} req/s, off {off:,.0f} req/s, on/off {ratio:.1%} ({each}); "
                f"CPU per request on {cpu_on:,.0f} µs, off {cpu_off:,.0f} µs, off/on {cpu_ratio:.1%}"
                + (f"; metrics code: {profiled} of the on side" if sampler else ""),
                flush=True,
            )
    finally:
        for server in servers.values():
            stop(server)
        standin.shutdown()
    table = [
        "| scenario | req/s metrics on | req/s metrics off | on / off (median of rounds) "
        "| CPU µs/request on | CPU µs/request off | off / on CPU (median of rounds) |"
        + (" metrics code in the on side's CPU samples |" if args.profile else ""),
        "|---|---|---|---|---|---|---|" + ("---|" if args.profile else ""),
        *rows,
    ]
    (RUN_DIR / "metrics-cost.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
