"""A small in-process rate limiter (fixed windows per key).

One limiter can serve several callers with limits of their own (`hit(key, limit)`): the
bot's channels share one per address and one per visitor, so a client's messages count
once whichever channel they arrive on (`shared_limiter`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

MAX_KEYS = 50_000


class RateLimiter:
    """At most `limit` hits per key in each window of `window` seconds."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Configure the limit; `clock` is injectable for tests."""
        self.limit, self.window, self.clock = limit, window, clock
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int | None = None) -> int | None:
        """Count a hit; return None if allowed, else the seconds to wait (>= 1).

        `limit` replaces the limiter's own for this caller.
        """
        limit = self.limit if limit is None else limit
        now = self.clock()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        if count >= limit:
            return max(1, math.ceil(start + self.window - now))
        if len(self._windows) >= MAX_KEYS and key not in self._windows:
            self._forget_expired(now)
        self._windows[key] = (start, count + 1)
        return None

    def _forget_expired(self, now: float) -> None:
        self._windows = {
            key: value for key, value in self._windows.items() if now - value[0] < self.window
        }


def shared_limiter(owner: object, scope: str, window: float) -> RateLimiter:
    """The one limiter of `owner` (e.g. an app's `ctx`) for `scope` and window length.

    Its own limit is unbounded: each caller passes its limit to `hit`.
    """
    limiters: dict[tuple[str, float], RateLimiter] = vars(owner).setdefault("rate_limiters", {})
    key = (scope, window)
    if key not in limiters:
        limiters[key] = RateLimiter(limit=2**62, window=window)
    return limiters[key]
