import contextlib

from django.core.cache import cache

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
