"""Django's Redis cache, degraded to misses while Redis is unreachable.

Reads answer "not cached" and writes are dropped (each logged once per outage by the breaker),
so sessions come from the database (`cached_db`) and nothing raises. A write dropped during an
outage would leave an older value in Redis once it is back (a session signed out meanwhile
would come back to life): the keys of dropped writes are remembered and deleted from Redis by
this process's first successful call after the outage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from trialsnest.lib.breaker import redis_breaker

FORGET_AT_MOST = 10_000


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._stale: set[str] = set()
        self._stale_lock = threading.Lock()

    def _guard(self, fallback: Any, call: Callable[[], Any], written: Iterable[Any] = ()) -> Any:
        if not redis_breaker.available():
            self._remember(written)
            return fallback
        try:
            if self._stale:
                self._forget_stale()
            return call()
        except (RedisError, OSError) as error:
            redis_breaker.failed(error)
            self._remember(written)
            return fallback

    def _remember(self, keys: Iterable[Any]) -> None:
        with self._stale_lock:
            for key in keys:
                if len(self._stale) < FORGET_AT_MOST:
                    self._stale.add(key)

    def _forget_stale(self) -> None:
        with self._stale_lock:
            keys, self._stale = list(self._stale), set()
        try:
            super().delete_many(keys)
        except (RedisError, OSError):
            self._remember(keys)
            raise

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard(
            default, lambda: super(ResilientRedisCache, self).get(key, default, version)
        )

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._guard({}, lambda: super(ResilientRedisCache, self).get_many(keys, version))

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._guard(False, lambda: super(ResilientRedisCache, self).has_key(key, version))

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._guard(
            None,
            lambda: super(ResilientRedisCache, self).set(
                key, value, version=version, timeout=timeout
            ),
            [key],
        )

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(
            False,
            lambda: super(ResilientRedisCache, self).add(
                key, value, version=version, timeout=timeout
            ),
            [key],
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(
            False,
            lambda: super(ResilientRedisCache, self).touch(key, version=version, timeout=timeout),
        )

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._guard(
            False, lambda: super(ResilientRedisCache, self).delete(key, version), [key]
        )

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._guard(
            list(data),
            lambda: super(ResilientRedisCache, self).set_many(
                data, version=version, timeout=timeout
            ),
            list(data),
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        keys = list(keys)
        self._guard(None, lambda: super(ResilientRedisCache, self).delete_many(keys, version), keys)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        def call() -> Any:
            return super(ResilientRedisCache, self).incr(key, delta, version)

        missing = object()
        result = self._guard(missing, call, [key])
        if result is missing:
            raise ValueError(f"Key {key!r} not found (the cache is unreachable)")
        return result

    def clear(self) -> None:
        self._guard(None, lambda: super(ResilientRedisCache, self).clear())
