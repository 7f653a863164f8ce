"""Locks in the shared cache (Redis in production), so a periodic job never runs twice at once,
however many workers and beat processes there are."""

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar
from uuid import uuid4

from django.core.cache import cache
from redis.exceptions import LockError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def cache_lock(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this process holds the lock `name`, False when someone else does.

    The lock expires after `timeout` seconds, so a killed holder never blocks the job for good; it is
    released only by the holder that took it. On Redis this is redis-py's lock, whose release checks
    the owner and deletes in one atomic step; Django's database cache (embedded mode, one machine)
    gets the same contract from add/get/delete.
    """
    key = f"lock:{name}"
    if hasattr(cache, "lock"):  # django-redis
        lock = cache.lock(key, timeout=timeout)
        acquired = lock.acquire(blocking=False)
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(LockError):  # expired and taken over: not ours to release
                    lock.release()
        return
    token = uuid4().hex
    acquired = cache.add(key, token, timeout)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)


def single_instance(*, timeout: int) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Skip (log and return None) a call while another call of the same function is running."""

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
