"""Locks in the shared cache (Redis in production), so a periodic job never runs twice at once,
however many workers and beat processes there are."""

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar
from uuid import uuid4

from django.core.cache import cache
from django.db import connections
from redis.exceptions import LockError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


class _LockLost(Exception):
    pass


@contextmanager
def cache_lock(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this process holds the lock `name`, False when someone else does.

    `timeout` is a lease, not a limit on the run: while the holder runs, a heartbeat thread renews
    it every timeout / 3 seconds, so however long the job takes the lock stays its own; a killed
    holder stops renewing, and its lock expires within `timeout`. The lock is released only by the
    holder that took it. On Redis this is redis-py's lock (owner-checked release and renewal, each
    one atomic step); Django's database cache (embedded mode, one machine) gets the same contract
    from add/get/touch/delete.
    """
    key = f"lock:{name}"
    if hasattr(cache, "lock"):  # django-redis
        # Not thread-local: the heartbeat thread renews with the token this thread acquired.
        lock = cache.lock(key, timeout=timeout, thread_local=False)
        acquired = lock.acquire(blocking=False)
        renew, release = lock.reacquire, lock.release
    else:
        token = uuid4().hex
        acquired = cache.add(key, token, timeout)

        def renew() -> None:
            if cache.get(key) != token:
                raise _LockLost
            cache.touch(key, timeout)

        def release() -> None:
            if cache.get(key) == token:
                cache.delete(key)

    if not acquired:
        yield False
        return
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_renew_until, args=(stop, renew, timeout / 3, name), name=f"lock-heartbeat:{name}", daemon=True
    )
    heartbeat.start()
    try:
        yield True
    finally:
        stop.set()
        heartbeat.join()
        with contextlib.suppress(LockError):  # expired and taken over: not ours to release
            release()


def _renew_until(stop: threading.Event, renew: Callable[[], object], interval: float, name: str) -> None:
    try:
        while not stop.wait(interval):
            try:
                renew()
            except (LockError, _LockLost):
                logger.error("job lock lost while running: another run may start", extra={"lock": name})
                return
            except Exception:  # a blip (Redis, or SQLite busy in embedded mode): the lease outlasts two misses
                logger.warning("job lock renewal failed; retrying", extra={"lock": name}, exc_info=True)
    finally:
        connections.close_all()  # the database cache opened this thread's own connection


def single_instance(*, timeout: int) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Skip (log and return None) a call while another call of the same function is running.
    `timeout` is the lock's lease (see cache_lock): how soon a crashed run's lock frees up."""

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R | None:
            with cache_lock(name, timeout=timeout) as acquired:
                if not acquired:
                    logger.info("job skipped: already running", extra={"job": name})
                    return None
                return func(*args, **kwargs)

        return run

    return decorate
