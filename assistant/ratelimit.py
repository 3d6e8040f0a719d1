"""Per-client rate limit for the public ``POST /api/ask`` (a token bucket per client address).

Each client may send ``burst`` questions at once, then one every ``60 / per_minute`` seconds.
``per_minute = 0`` turns the limit off (for load tests on loopback). Behind a reverse proxy every
request comes from the proxy's address: have the proxy limit per client instead.

>>> limiter = RateLimiter(per_minute=60, burst=2, clock=iter([0.0, 0.0, 0.0, 1.0]).__next__)
>>> [limiter.retry_after("a") for _ in range(4)]
[0.0, 0.0, 1.0, 0.0]
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_CLIENTS = 100_000  # buckets kept; full ones are dropped first when there are more


class RateLimiter:
    def __init__(self, *, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, time of last update)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def retry_after(self, client: str) -> float:
        """0 if ``client`` may ask now (and the question is counted), else seconds until it may."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                self._prune()
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _prune(self) -> None:
        if len(self._buckets) > MAX_CLIENTS:
            for key in [k for k, (t, _) in self._buckets.items() if t >= self.burst - 1][: len(self._buckets) // 2]:
                del self._buckets[key]
