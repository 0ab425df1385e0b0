"""A per-destination rate limiter: calls are spaced at least 1/rate seconds apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Blocks in `acquire()` until the next call is allowed.

    Evenly spaced calls (no bursts) keep well inside a vendor's documented limit even
    when its window is shorter than a second. `None` or `inf` means no limit.
    """

    def __init__(
        self,
        per_second: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive")
        self._interval = 0.0 if per_second is None else 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next_at = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if self._interval == 0.0:
            return
        with self._lock:
            now = self._clock()
            start = max(now, self._next_at)
            self._next_at = start + self._interval
        if start > now:
            self._sleep(start - now)
