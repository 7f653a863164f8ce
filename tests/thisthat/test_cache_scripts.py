"""Lua scripts run by digest; one Redis has not seen yet (restarted, flushed) is loaded and run."""

import uuid

from thisthat.cache import counter_incr, lua_script, redis_client, redis_key, script_run


def test_a_script_redis_does_not_know_yet_is_loaded_then_run_by_its_digest():
    script = lua_script(f"-- {uuid.uuid4()}\nreturn ARGV[1]")  # a text no Redis has seen

    assert script_run(script, keys=[], args=["first"], client=redis_client()) == b"first"
    assert script_run(script, keys=[], args=["again"], client=redis_client()) == b"again"


def test_a_counter_counts_in_its_window_and_expires_with_it():
    assert [counter_incr("test:counter", ttl=30) for _ in range(3)] == [1, 2, 3]
    assert 0 < redis_client().ttl(redis_key("test:counter")) <= 30
