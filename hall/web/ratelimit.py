"""Throttling: at most ``limit`` failures per key within ``window`` seconds, and the login policy
built from it (``LoginLimits``).

Pure: the caller passes ``now`` (monotonic seconds).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


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

    def clear_where(self, matches: Callable[[str], bool]) -> int:
        """Forgets every key ``matches`` picks (an admin's unlock); returns how many."""
        keys = [key for key in self._failures if matches(key)]
        for key in keys:
            del self._failures[key]
        return len(keys)


@dataclass(frozen=True)
class LoginPolicy:
    # Guessing at one account from one place: the tight limit.
    per_user_address: int = 5
    window: float = 300.0
    # One place trying many accounts.
    per_address: int = 20
    # One account tried from everywhere: slower and higher, so that a distributed guesser is held
    # back without a few wrong passwords from elsewhere locking the owner out.
    per_user: int = 100
    user_window: float = 3600.0
    # Where the owner logged in successfully within this long, the account-wide back-off does not
    # apply: a clerk at their own counter keeps working while their account is under attack.
    known_for: float = 30 * 86400.0


class LoginLimits:
    """Failed logins, limited per account *and* address, per address, and per account.

    Pure like ``Attempts``: the caller passes ``now`` (monotonic seconds). An admin may unlock an
    account, which forgets its failures from every address.
    """

    def __init__(self, policy: LoginPolicy, max_known: int = 100_000) -> None:
        self.policy = policy
        self._pair = Attempts(policy.per_user_address, policy.window)
        self._address = Attempts(policy.per_address, policy.window)
        self._user = Attempts(policy.per_user, policy.user_window)
        self._known: dict[tuple[str, str], float] = {}
        self._max_known = max_known

    def _keys(self, user: str, address: str, now: float) -> list[tuple[Attempts, str]]:
        user = user.lower()
        keys = [(self._pair, f"{user}\0{address}"), (self._address, address)]
        seen = self._known.get((user, address))
        if seen is None or seen <= now - self.policy.known_for:
            keys.append((self._user, user))
        return keys

    def retry_after(self, user: str, address: str, now: float) -> float:
        """Seconds until ``user`` may try again from ``address``; 0 when they may now."""
        return max(limit.retry_after(key, now) for limit, key in self._keys(user, address, now))

    def fail(self, user: str, address: str, now: float) -> None:
        user = user.lower()
        self._pair.fail(f"{user}\0{address}", now)
        self._address.fail(address, now)
        self._user.fail(user, now)

    def succeed(self, user: str, address: str, now: float) -> None:
        user = user.lower()
        self._pair.clear(f"{user}\0{address}")
        if (user, address) not in self._known and len(self._known) >= self._max_known:
            self._known.pop(next(iter(self._known)))
        self._known[(user, address)] = now

    def unlock(self, user: str) -> int:
        """Forgets ``user``'s failures from every address; returns how many keys were dropped."""
        user = user.lower()
        dropped = self._pair.clear_where(lambda key: key.partition("\0")[0] == user)
        return dropped + self._user.clear_where(lambda key: key == user)
