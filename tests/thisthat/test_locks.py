import contextlib
import threading
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections

from thisthat.locks import cache_lock, single_instance


def test_a_held_lock_is_refused_to_a_second_holder():
    with cache_lock("job", timeout=60) as first, cache_lock("job", timeout=60) as second:
        assert first is True
        assert second is False
    with cache_lock("job", timeout=60) as again:
        assert again is True


def test_the_lock_is_not_released_by_someone_who_did_not_take_it():
    with cache_lock("job", timeout=60):
        with cache_lock("job", timeout=60):
            pass
        assert cache.has_key("lock:job")
    assert not cache.has_key("lock:job")


def test_single_instance_skips_a_run_while_one_is_in_progress():
    calls = []

    @single_instance(timeout=60)
    def job(value):
        calls.append(value)
        if value == "outer":
            assert job("inner") is None
        return value

    assert job("outer") == "outer"
    assert calls == ["outer"]
    assert job("later") == "later"


def test_the_lock_is_released_when_the_job_fails():
    @single_instance(timeout=60)
    def failing():
        raise RuntimeError("boom")

    for _ in range(2):
        with contextlib.suppress(RuntimeError):
            failing()
    assert not cache.has_key(f"lock:{failing.__module__}.{failing.__qualname__}")


def test_a_holder_whose_lock_expired_does_not_release_the_next_holders_lock():
    late = cache_lock("job", timeout=60)
    assert late.__enter__() is True
    cache.delete("lock:job")  # the late holder's lock expired
    current = cache_lock("job", timeout=60)
    assert current.__enter__() is True

    late.__exit__(None, None, None)

    assert cache.has_key("lock:job")
    with cache_lock("job", timeout=60) as third:
        assert third is False
    current.__exit__(None, None, None)
    assert not cache.has_key("lock:job")


def _holds_past_its_timeout(name: str, timeout: int) -> None:
    """A job holds `name` in another thread until told to stop; for 2.5 x the lock's timeout every
    other attempt to take it is refused, and once the job ends the lock is free again."""
    started, finish = threading.Event(), threading.Event()
    outcome = []

    @single_instance(timeout=timeout)
    def long_job():
        started.set()
        finish.wait()
        outcome.append("done")

    def in_worker() -> None:
        try:
            long_job()
        finally:
            connections.close_all()  # the database cache opened this thread's connection

    worker = threading.Thread(target=in_worker)
    worker.start()
    try:
        assert started.wait(10)
        until = time.monotonic() + 2.5 * timeout
        pace = threading.Event()  # never set: only paces the polling
        while time.monotonic() < until:
            with cache_lock(name, timeout=timeout) as other:
                assert other is False
            pace.wait(0.1)
    finally:
        finish.set()
        worker.join()
    assert outcome == ["done"]
    with cache_lock(name, timeout=timeout) as after:
        assert after is True


def test_a_run_longer_than_the_lock_timeout_keeps_the_lock():
    _holds_past_its_timeout("tests.thisthat.test_locks._holds_past_its_timeout.<locals>.long_job", timeout=2)


@pytest.mark.django_db(transaction=True)
def test_on_the_database_cache_a_long_run_keeps_the_lock_too(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_entries"}
    }
    call_command("createcachetable")  # embedded mode's table (make migrate creates it)

    _holds_past_its_timeout("tests.thisthat.test_locks._holds_past_its_timeout.<locals>.long_job", timeout=2)
