"""Stopping background loops between their units of work, never inside one.

A loop cancelled while it awaits the database can leave a connection half made (aiosqlite opens
it on a thread); at shutdown the server first asks each loop to finish the unit in hand, then
cancels what is left, which is only ever waiting for its next piece of work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class Calm:
    def __init__(self) -> None:
        self.closing = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def settle(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a bound on shutdown
        """Ask the loop to stop and wait (bounded) until no unit of work is in hand."""
        self.closing = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()
