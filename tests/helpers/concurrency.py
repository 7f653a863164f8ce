"""Real threads for race tests (`@pytest.mark.django_db(transaction=True)`)."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def run_together(work: Callable[[int], T], count: int) -> list[T]:
    """Run `work(i)` for i in 0..count-1, each in its own thread with its own database connection,
    all released at once by a barrier; return the results in order. A worker's exception is raised
    here once every thread has finished."""
    barrier = threading.Barrier(count)

    def worker(i: int) -> T:
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(worker, i) for i in range(count)]
    return [future.result() for future in futures]
