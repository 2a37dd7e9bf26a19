"""Sign-in failure limits per username and per IP address (in process memory)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 15 * 60
MAX_PER_USERNAME = 5
MAX_PER_IP = 20


class LoginLimiter:
    """Counts failed sign-ins in a sliding window; blocks once a limit is reached."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> int:
        failures, oldest = self._failures.get(key, deque()), self._clock() - WINDOW_SECONDS
        while failures and failures[0] < oldest:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return len(failures)

    def blocked(self, username: str, ip: str) -> bool:
        """True if either limit is reached."""
        return (
            self._recent(f"user:{username}") >= MAX_PER_USERNAME
            or self._recent(f"ip:{ip}") >= MAX_PER_IP
        )

    def failed(self, username: str, ip: str) -> None:
        """Count a failed sign-in."""
        now = self._clock()
        for key in (f"user:{username}", f"ip:{ip}"):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        """Forget the username's failures after a successful sign-in."""
        self._failures.pop(f"user:{username}", None)
