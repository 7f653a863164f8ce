"""What the service-level benchmarks (`bench.maker`, `bench.stocks`) share: Django set up for a bench
run, and threads — each with its own database connection — released together, each timing its own
operations."""

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thisthat.settings.local")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("JWT_SIGNING_KEY", "bench-" + "y" * 50)
    import django

    django.setup()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True)
class Timed:
    elapsed: float  # seconds, from the release of the threads to the last one's end
    latencies_ms: list[float]

    def percentiles(self) -> str:
        """`p50 | p95 | p99` in ms, as the tables of BENCHMARKS.md show them."""
        ms = self.latencies_ms
        return f"{statistics.median(ms):.1f} | {_percentile(ms, 0.95):.1f} | {_percentile(ms, 0.99):.1f}"


def run_together(*, threads: int, per_thread: int, operation: Callable[[int, int], object]) -> Timed:
    """`operation(thread, n)` for n in range(per_thread) in each of `threads` threads, started at once."""
    from django.db import connection

    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(thread: int) -> None:
        mine = []
        try:
            barrier.wait()
            for n in range(per_thread):
                started = time.perf_counter()
                operation(thread, n)
                mine.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return Timed(elapsed=time.perf_counter() - started, latencies_ms=latencies)
