"""A circuit breaker: after a failure, stop trying a dependency for a few seconds.

Redis is an accelerator (cache, rate limits, the broker), never something the web waits on. When
it stops answering, every request would otherwise pay a connection attempt (and a timeout when
the network, not the server, is gone). The breaker remembers the failure per process; callers ask
`available()` first and take their fallback at once while it is open.
"""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger(__name__)


class Breaker:
    def __init__(self, name: str, cool_off: float = 5.0) -> None:
        self.name = name
        self.cool_off = cool_off
        self._open_until = 0.0
        self._lock = threading.Lock()

    def available(self) -> bool:
        return time.monotonic() >= self._open_until

    def failed(self, error: BaseException) -> None:
        with self._lock:
            was_closed = self.available()
            self._open_until = time.monotonic() + self.cool_off
        if was_closed:  # one warning per outage window, not one per request
            logger.warning("%s unreachable (%s); using fallbacks", self.name, type(error).__name__)

    def reset(self) -> None:
        self._open_until = 0.0


redis_breaker = Breaker("Redis")
