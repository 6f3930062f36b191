"""Failed-login throttling: at most ``limit`` failures per key within ``window`` seconds.

Pure: the caller passes ``now`` (monotonic seconds). Keys are the username tried and the client
address, so neither guessing many passwords for one account nor many accounts from one place works.
"""

from __future__ import annotations

from collections import deque


class Attempts:
    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self._limit = limit
        self._window = window
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def blocked(self, key: str, now: float) -> bool:
        return len(self._recent(key, now)) >= self._limit

    def retry_after(self, key: str, now: float) -> float:
        times = self._recent(key, now)
        if len(times) < self._limit:
            return 0.0
        return max(0.0, times[0] + self._window - now)

    def fail(self, key: str, now: float) -> None:
        if key not in self._failures and len(self._failures) >= self._max_keys:
            # Bounded memory under a flood of made-up usernames: forget the oldest key.
            self._failures.pop(next(iter(self._failures)))
        times = self._failures.setdefault(key, deque())
        times.append(now)
        while len(times) > self._limit:
            times.popleft()

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
