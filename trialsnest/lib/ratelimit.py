"""Rate limits shared by every process: Redis when REDIS_URL is set, else this process's memory.

Built on the `limits` package (moving windows). Limits are strings such as "20/minute".
"""

from __future__ import annotations

import threading
from functools import cache

# Imported here, not lazily by `limits` on the first hit: concurrent first requests could
# otherwise see a half-imported module.
import redis  # noqa: F401
from django.conf import settings
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_lock = threading.Lock()


@cache
def _limiter() -> MovingWindowRateLimiter:
    with _lock:
        uri = settings.REDIS_URL or "memory://"
        return MovingWindowRateLimiter(storage_from_string(uri))


def allow(limit: str, *keys: str) -> bool:
    """Count one hit against `limit` for `keys`; False once the limit is exceeded."""
    return bool(_limiter().hit(parse(limit), "trialsnest", *keys))


def reset() -> None:
    """Forget every count (tests)."""
    _limiter().storage.reset()
