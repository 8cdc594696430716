"""The cache and the rate limiter with their Redis stopped: misses and local counts, no errors,
and nothing stale left behind once Redis is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings

from tests.ops.stack import RedisServer
from trialsnest.lib import ratelimit
from trialsnest.lib.breaker import redis_breaker
from trialsnest.lib.cache import ResilientRedisCache

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    redis_breaker.reset()
    yield server
    server.stop()
    redis_breaker.reset()


def _cache(server: RedisServer) -> ResilientRedisCache:
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return ResilientRedisCache(server.url, {"OPTIONS": options})


def test_a_stopped_redis_is_a_miss_and_a_dropped_write_never_comes_back(
    redis_server: RedisServer,
):
    cache = _cache(redis_server)
    cache.set("session:signed-out", "signed in", timeout=None)
    cache.set("kept", "yes", timeout=None)
    assert cache.get("session:signed-out") == "signed in"

    redis_server.stop()
    cache.delete("session:signed-out")  # e.g. signing out while Redis is down: dropped
    cache.set("written-during-outage", "new")
    assert cache.get("kept", "missing") == "missing"
    assert cache.get_many(["kept"]) == {}
    assert cache.add("other", 1) is False
    with pytest.raises(ValueError, match="unreachable"):
        cache.incr("counter")

    redis_server.start()
    redis_breaker.reset()  # as after the breaker's cool-off
    assert cache.get("kept") is None or cache.get("kept") == "yes"
    assert cache.get("session:signed-out") is None  # the stale value was deleted on recovery
    assert cache.get("written-during-outage") is None


def test_rate_limits_count_in_this_process_while_redis_is_down(redis_server: RedisServer):
    with override_settings(REDIS_URL=redis_server.url):
        ratelimit._shared.cache_clear()
        try:
            redis_server.stop()
            answers = [ratelimit.allow("3/minute", "fallback-test") for _ in range(5)]
            assert answers == [True, True, True, False, False]
        finally:
            ratelimit._shared.cache_clear()
            ratelimit._local.cache_clear()
