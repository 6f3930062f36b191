"""Sending the notification outbox: each text message handed over once, also across restarts.

The outbox rows are written in the transaction of the case event that calls for them
(``hall.storage.case_tables.notifications``); the :class:`Sender` delivers them afterwards, through a
:class:`Gateway`. Exactly once is shared between the two sides:

* Before a message is handed to the gateway, its attempt is committed: ``attempts`` goes up and
  ``next_try_at`` moves past the backoff. A process killed during the hand-over leaves the row
  pending, so it is tried again once the backoff passes — it is never lost, and a message that kills
  its process cannot make it spin.
* The gateway gets the row's id on every attempt and delivers an id at most once: the log file
  remembers the ids it wrote, the SMS provider gets the id as its ``Idempotency-Key``. So a message
  handed over again after a crash between the hand-over and the commit of ``sent`` is not sent twice.

A gateway says what went wrong with its exception: :class:`GatewayError` when another attempt may get
through (the provider is down, busy or slow), :class:`GatewayRejected` when it would fail the same
way (the provider refuses this message). After ``max_attempts`` a message is given up as ``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel import jsontext
from hall.kernel.errors import HallError
from hall.storage.case_tables import notifications
from hall.storage.database import reading

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Backoff = Callable[[int], timedelta]


def utc_now() -> datetime:
    return datetime.now(UTC)


class GatewayError(HallError):
    """The message did not get through this time; another attempt may."""


class GatewayRejected(HallError):
    """The provider refuses the message; another attempt would be refused the same way."""


class Gateway(Protocol):
    async def send(self, message_id: str, phone: str, text: str) -> str:
        """Deliver one message and return the gateway's reference for it.

        The same ``message_id`` may come again after a crash: it must not reach the phone twice.
        """
        ...

    async def aclose(self) -> None:
        """Release what the gateway holds open; it is not used after."""
        ...


# -- a log file, the default ----------------------------------------------------------------------


class LogFileGateway:
    """Appends each message to a file as a JSON line ``{id, phone, text, at}``, for halls without an
    SMS provider yet and for trials: someone reads the file, or a script forwards it.

    An id already in the file is not written again: its earlier reference (``log:<line number>``) is
    returned. The file is the record of what was sent, and it is read again under an exclusive lock
    before each message, so a restarted process or another one on the same file knows every id too.
    """

    def __init__(self, path: Path, *, clock: Clock = utc_now) -> None:
        self.path = Path(path)
        self._clock = clock
        self._refs: dict[str, str] = {}
        self._lines = 0
        self._read_to = 0
        # Threads write the file; one at a time keeps the ids read and the lines counted consistent.
        self._lock = asyncio.Lock()

    async def send(self, message_id: str, phone: str, text: str) -> str:
        line = jsontext.dumps(
            {"id": message_id, "phone": phone, "text": text, "at": self._clock().isoformat()}, separators=(", ", ": ")
        )
        async with self._lock:
            # fsync takes milliseconds, on a busy disk far longer: keep it off the event loop.
            return await asyncio.to_thread(self._append, message_id, line)

    async def aclose(self) -> None:
        return None

    def _append(self, message_id: str, line: str) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        # Phone numbers and case numbers are personal data: the file is for its owner only.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._catch_up(fd)
            known = self._refs.get(message_id)
            if known is not None:
                return known
            data = (line + "\n").encode()
            while data:
                data = data[os.write(fd, data) :]
            # The line must be on disk before the caller commits "sent": else a power cut could
            # leave a message marked sent that no record shows, or lose the id that stops a repeat.
            os.fsync(fd)
            if created:
                # A new file's name is in its directory, which needs its own fsync to survive power loss.
                _fsync_directory(self.path.parent)
            self._lines += 1
            self._read_to = os.fstat(fd).st_size
            ref = f"log:{self._lines}"
            self._refs[message_id] = ref
            return ref
        finally:
            os.close(fd)  # also releases the lock

    def _catch_up(self, fd: int) -> None:
        """Learn the ids written since the last look, by this process before a restart or by another."""
        size = os.fstat(fd).st_size
        if size < self._read_to:
            # Rotated or cut by hand: what the file holds now is all there is to know.
            self._refs.clear()
            self._lines = 0
            self._read_to = 0
        if size == self._read_to:
            return
        chunk = os.pread(fd, size - self._read_to, self._read_to)
        complete = chunk.rfind(b"\n") + 1
        if complete < len(chunk):
            # A writer died within its line, before its fsync returned: that message was never
            # reported sent. Cut the torn line off, so the next line starts whole and it is sent again.
            os.ftruncate(fd, self._read_to + complete)
        for raw in chunk[:complete].splitlines():
            self._lines += 1
            try:
                message_id = json.loads(raw)["id"]
            except (ValueError, KeyError, TypeError):
                log.warning("%s line %d is not a message; skipped", self.path, self._lines)
                continue
            self._refs.setdefault(str(message_id), f"log:{self._lines}")
        self._read_to += complete


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- an SMS provider over HTTP --------------------------------------------------------------------

# Refusals of the request rather than of the message (a wrong token, a wrong address): every message
# would get them, so failing each one for good would lose them all until the setting is fixed.
_NOT_ABOUT_THE_MESSAGE = frozenset({401, 403, 404, 408, 429})


class HttpGateway:
    """POSTs ``{"id", "phone", "text"}`` as JSON to an SMS provider's (or an SMS relay's) endpoint.

    The message id goes along as ``Idempotency-Key``: the provider delivers a repeated key once.
    A 2xx answer is delivery; its reference is the answer's JSON ``ref`` or ``id``, else the key.
    5xx, 408, 429 and network errors are worth another attempt, and so are 401, 403 and 404 (the
    setting is wrong, not the message); any other 4xx is the provider refusing the message for good.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self._token = token
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def send(self, message_id: str, phone: str, text: str) -> str:
        headers = {"Idempotency-Key": message_id}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        try:
            answer = await self._client.post(
                self.url, json={"id": message_id, "phone": phone, "text": text}, headers=headers
            )
        except httpx.HTTPError as exc:
            raise GatewayError(f"{type(exc).__name__}: {exc}") from exc
        status = answer.status_code
        if 200 <= status < 300:
            return _reference(answer, message_id)
        detail = f"HTTP {status}: {answer.text[:200]}"
        if 400 <= status < 500 and status not in _NOT_ABOUT_THE_MESSAGE:
            raise GatewayRejected(detail)
        raise GatewayError(detail)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _reference(answer: httpx.Response, message_id: str) -> str:
    try:
        body: Any = answer.json()
    except ValueError:
        return message_id
    if isinstance(body, dict):
        for key in ("ref", "id"):
            if body.get(key) not in (None, ""):
                return str(body[key])
    return message_id


# -- the sender -----------------------------------------------------------------------------------


def default_backoff(attempt: int) -> timedelta:
    """30 s after the first attempt, doubling up to an hour: eight attempts span about two hours.

    The wait also guards an attempt in progress from a second sender (several servers on one
    PostgreSQL), so it must be longer than a gateway takes to answer.
    """
    return timedelta(seconds=min(30 * 2 ** (attempt - 1), 3600))


@dataclass(frozen=True)
class _Due:
    id: str
    phone: str
    text: str
    attempts: int


class Sender:
    """Delivers the outbox's due messages through a gateway, one at a time, in the order they fell due."""

    def __init__(
        self,
        engine: AsyncEngine,
        gateway: Gateway,
        *,
        clock: Clock = utc_now,
        batch: int = 50,
        max_attempts: int = 8,
        backoff: Backoff = default_backoff,
    ) -> None:
        if batch < 1 or max_attempts < 1:
            raise ValueError("batch and max_attempts must be at least 1")
        self.engine = engine
        self.gateway = gateway
        self._clock = clock
        self._batch = batch
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New messages may be due: look now rather than at the end of the interval."""
        self._wake.set()

    async def run_once(self) -> int:
        """Hand every message due now (up to ``batch``) to the gateway; returns how many were sent."""
        sent, _ = await self._round()
        return sent

    async def run(self, interval: float = 30.0) -> None:
        """Send until cancelled, looking every ``interval`` seconds, when woken, and when a retry is due.

        A cancel that comes while a message is with the gateway lets that message finish first, so the
        task ends between messages (after at most one gateway timeout).
        """
        while True:
            self._wake.clear()
            try:
                _, taken = await self._round()
                if taken >= self._batch:
                    continue  # more may be due already
                pause = await self._pause(interval)
            except Exception:
                # A database that is away for a while must not stop the notifications for good.
                log.exception("sending notifications failed; trying again in %s s", interval)
                pause = interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)

    async def _round(self) -> tuple[int, int]:
        due = await self._due()
        sent = 0
        for message in due:
            sent += await self._deliver_whole(message)
        return sent, len(due)

    async def _due(self) -> list[_Due]:
        t = notifications.c
        async with reading(self.engine) as conn:
            rows = await conn.execute(
                select(t.id, t.phone, t.text, t.attempts)
                .where(t.status == "pending", t.next_try_at <= self._clock())
                .order_by(t.next_try_at, t.id)
                .limit(self._batch)
            )
            return [_Due(row.id, row.phone, row.text, row.attempts) for row in rows]

    async def _pause(self, interval: float) -> float:
        """Seconds until the next retry falls due, if that comes before the interval is over."""
        t = notifications.c
        async with reading(self.engine) as conn:
            found = await conn.execute(select(func.min(t.next_try_at)).where(t.status == "pending"))
            earliest: datetime | None = found.scalar()
        if earliest is None:
            return interval
        # A floor, so a clock that disagrees with the database's rows can never make the loop spin.
        return min(interval, max(0.01, (earliest - self._clock()).total_seconds()))

    async def _deliver_whole(self, message: _Due) -> bool:
        delivery = asyncio.ensure_future(self._deliver(message))
        try:
            return await asyncio.shield(delivery)
        except asyncio.CancelledError:
            # Stop between messages: a message the gateway took is recorded as sent before the task
            # ends, rather than left pending to be handed over again, as another attempt, later.
            await asyncio.wait([delivery])
            if not delivery.cancelled() and delivery.exception() is not None:
                log.error("notification %s: %s", message.id, delivery.exception())
            raise

    async def _deliver(self, message: _Due) -> bool:
        t = notifications.c
        now = self._clock()
        attempt = message.attempts + 1
        async with self.engine.begin() as conn:
            # Compare-and-set on the attempts seen: of two senders that read the row, one claims it.
            claimed = await conn.execute(
                update(notifications)
                .where(
                    t.id == message.id,
                    t.status == "pending",
                    t.attempts == message.attempts,
                    t.next_try_at <= now,
                )
                .values(attempts=attempt, next_try_at=now + self._backoff(attempt))
            )
        if claimed.rowcount != 1:
            return False
        try:
            ref = await self.gateway.send(message.id, message.phone, message.text)
        except GatewayRejected as exc:
            await self._failed(message.id, attempt, str(exc), final=True)
            return False
        except GatewayError as exc:
            await self._failed(message.id, attempt, str(exc), final=attempt >= self._max_attempts)
            return False
        except Exception as exc:
            # A gateway's own bug: count it like an outage, so the message is given up in the end.
            log.exception("gateway failed on notification %s", message.id)
            await self._failed(message.id, attempt, f"{type(exc).__name__}: {exc}", final=attempt >= self._max_attempts)
            return False
        async with self.engine.begin() as conn:
            # Delivery is the fact, whatever a second sender recorded meanwhile; only the first
            # delivery's time and reference are kept.
            await conn.execute(
                update(notifications)
                .where(t.id == message.id, t.status != "sent")
                .values(status="sent", sent_at=self._clock(), gateway_ref=ref[:100], last_error="")
            )
        return True

    async def _failed(self, message_id: str, attempt: int, error: str, *, final: bool) -> None:
        t = notifications.c
        values: dict[str, Any] = {"last_error": error[:500] or "failed"}
        if final:
            values["status"] = "failed"
            log.warning("notification %s given up after %d attempts: %s", message_id, attempt, error)
        async with self.engine.begin() as conn:
            # Only the sender that holds this attempt records its outcome.
            await conn.execute(
                update(notifications)
                .where(t.id == message_id, t.status == "pending", t.attempts == attempt)
                .values(**values)
            )
