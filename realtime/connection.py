"""One client's outgoing side: frames in order, a bounded backlog, and a cut for slow clients.

Fan-out to thousands of sockets must not cost a task switch per socket per event. So a frame is
sent *eagerly*: the send coroutine is stepped at once, and when the socket is writable (nearly
always) it completes without ever suspending, as ``websockets.broadcast`` does. Only when a
socket's buffer is full does the unfinished send move to a task of its own, with later frames
queued behind it, up to ``limit`` frames; past that the client is cut (close code 4008) so it
cannot slow the others down, and it resumes from its last sequence number when it reconnects.
This is the eager start that Python 3.12 offers as ``asyncio.eager_task_factory``, done by hand
for one coroutine because hall supports Python 3.11.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

log = logging.getLogger(__name__)

SLOW_CONSUMER = 4008

Send = Callable[[str], Coroutine[Any, Any, None]]
Close = Callable[[int, str], Awaitable[None]]


class _Resume:
    """Awaitable that finishes a coroutine already stepped once (delegation like ``yield from``)."""

    def __init__(self, coro: Coroutine[Any, Any, None], yielded: Any) -> None:
        self._coro = coro
        self._yielded = yielded

    def __await__(self) -> Generator[Any, Any, None]:
        coro, yielded = self._coro, self._yielded
        while True:
            try:
                sent = yield yielded
            except BaseException as exc:  # cancellation and errors go on into the coroutine
                try:
                    yielded = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration:
                    return


class Outbox:
    # Which way frames leave: "asgi" through the server's send, "wire" to the transport.
    path = "asgi"

    def __init__(self, send: Send, close: Close, limit: int) -> None:
        self._send = send
        self._close = close
        self._limit = limit
        self._backlog: deque[str] = deque()
        self._drainer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.closed = False
        self.sent = 0

    @property
    def backlog(self) -> int:
        return len(self._backlog) + (1 if self._drainer is not None else 0)

    def offer(self, frame: str) -> bool:
        """Send or queue ``frame``; False if the client is gone or was just cut for being slow."""
        if self.closed:
            return False
        if self._drainer is not None:
            if len(self._backlog) >= self._limit:
                self.cut(SLOW_CONSUMER, "slow consumer: reconnect and resume from your last seq")
                return False
            self._backlog.append(frame)
            return True
        coro = self._send(frame)
        try:
            yielded = coro.send(None)
        except StopIteration:
            self.sent += 1
            return True
        except Exception:
            self.closed = True
            return False
        self._drainer = asyncio.create_task(self._drain(_Resume(coro, yielded)))
        return True

    async def _drain(self, first: _Resume) -> None:
        try:
            await first
            self.sent += 1
            while self._backlog and not self.closed:
                await self._send(self._backlog.popleft())
                self.sent += 1
        except Exception:
            self.closed = True
        finally:
            self._drainer = None

    def cut(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self._backlog.clear()
        if self._drainer is not None:
            self._drainer.cancel()
        self._closer = asyncio.create_task(self._close_quietly(code, reason))

    async def _close_quietly(self, code: int, reason: str) -> None:
        try:
            await self._close(code, reason)
        except Exception:
            log.debug("closing a websocket that is already gone", exc_info=True)

    async def wait_closed(self) -> None:
        for task in (self._drainer, self._closer):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
