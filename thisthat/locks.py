"""Locks in the shared cache (Redis in production), so a periodic job never runs twice at once,
however many workers and beat processes there are."""

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar
from uuid import uuid4

from django.core.cache import cache

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def cache_lock(name: str, *, timeout: int) -> Iterator[bool]:
    """Yield True when this process holds the lock `name`, False when someone else does.

    The lock expires after `timeout` seconds, so a killed holder never blocks the job for good;
    it is released only by the holder that took it.
    """
    key = f"lock:{name}"
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
