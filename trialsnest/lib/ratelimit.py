"""Rate limits shared by every process: Redis when REDIS_URL is set, else this process's memory.

Built on the `limits` package (moving windows). Limits are strings such as "20/minute".

With Redis unreachable, counting falls back to this process's memory rather than failing open:
the public interest form and the intake API are the endpoints an abuser would flood while the
limiter is blind, and a per-process window still bounds each client (to the limit times the
number of web processes) without refusing anyone the limit would have let through.
"""

from __future__ import annotations

import threading
from functools import cache

# Imported here, not lazily by `limits` on the first hit: concurrent first requests could
# otherwise see a half-imported module.
import redis
from django.conf import settings
from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from trialsnest.lib.breaker import redis_breaker

_lock = threading.Lock()


@cache
def _shared() -> MovingWindowRateLimiter | None:
    if not settings.REDIS_URL:
        return None
    with _lock:
        timeout = settings.REDIS_TIMEOUT_SECONDS
        storage = storage_from_string(
            settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        return MovingWindowRateLimiter(storage)


@cache
def _local() -> MovingWindowRateLimiter:
    with _lock:
        return MovingWindowRateLimiter(storage_from_string("memory://"))


def allow(limit: str, *keys: str) -> bool:
    """Count one hit against `limit` for `keys`; False once the limit is exceeded."""
    item = parse(limit)
    shared = _shared()
    if shared is not None and redis_breaker.available():
        try:
            return bool(shared.hit(item, "trialsnest", *keys))
        except (redis.RedisError, OSError, StorageError) as error:
            redis_breaker.failed(error)
    return bool(_local().hit(item, "trialsnest", *keys))


def reset() -> None:
    """Forget every count (tests)."""
    shared = _shared()
    if shared is not None:
        shared.storage.reset()
    _local().storage.reset()
