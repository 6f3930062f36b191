"""Every event of the shared log, in order, in every process: the log follower.

Several server processes on one PostgreSQL each commit their own commands; each process's hub must
still hand its browsers every event of a hall, whoever committed it, in sequence order and with no
gap. The follower is the one door to a process's event stream. It delivers to its sinks (the hub,
the singleton work that reacts to events) a gapless run per hall after the position its sink has
reached:

* This process's own commits are offered by the writer right after they commit. When they follow
  on from what was delivered, they pass at once, with no database read: the single-process path
  stays as fast as before. When another process committed in between, they are held back and the
  hall is read from the log instead, so the other process's events come first.
* The writer sends ``pg_notify('hall_events', '<hall>:<seq>')`` inside each transaction that logged
  events. PostgreSQL delivers a notification only at commit, and never for a rolled-back
  transaction, so a notification names events that are readable. It is only a wake-up: the events
  are read from the ``events`` table, after the position reached. A notification lost (the listening
  connection dropped), repeated, or from another database schema on the same server costs at most
  a read that finds nothing.
* Every ``catch_up`` seconds the heads of all halls are read (one small query) and a hall whose
  head moved past the position is read, so a lost notification only delays its events.

The log itself is the order: a hall's events are numbered under a lock on its head row and
committed together with it, so any snapshot of the ``events`` table holds, per hall, a gapless
prefix of the sequence. Reading after the position therefore never skips an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hall.kernel.events import Event
from hall.storage.database import reading
from hall.storage.tables import events as events_table
from hall.storage.tables import hall_heads

log = logging.getLogger(__name__)

CHANNEL = "hall_events"
# One notification statement per transaction, whatever the number of halls it moved.
NOTIFY = text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:payloads AS text[])) AS p")

Sink = Callable[[Sequence[Event]], None]
Position = Callable[[int], int]


def notice_payloads(heads: Iterable[tuple[int, int]]) -> list[str]:
    """The notification payloads for halls whose head moved: ``<hall>:<last seq>``."""
    return [f"{hall_id}:{seq}" for hall_id, seq in heads]


async def notify(conn: AsyncConnection, heads: Iterable[tuple[int, int]]) -> None:
    """Inside a transaction that logged events: tell the other processes, at commit, that these
    halls' heads moved. PostgreSQL only; SQLite has one server process."""
    payloads = notice_payloads(heads)
    if payloads and conn.dialect.name != "sqlite":
        await conn.execute(NOTIFY, {"channel": CHANNEL, "payloads": payloads})


class Follower:
    """Delivers every hall's events to ``sinks`` in sequence order, after ``position(hall)``.

    ``position`` is the first sink's own record of what it has seen (the hub's head), so the
    follower and the hub can never disagree about where a hall stands.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        position: Position,
        *,
        catch_up: float = 1.0,
        read_max: int = 1000,
    ) -> None:
        self._engine = engine
        self._position = position
        self._catch_up = catch_up
        self._read_max = read_max
        self._sinks: list[Sink] = []
        # Halls that have events in the log past the position: the pump reads them.
        self._behind: set[int] = set()
        self._wake = asyncio.Event()
        self._listening: AsyncConnection | None = None
        self.read_rounds = 0
        self.from_log = 0
        self.notifications = 0

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    # -- the two inputs ---------------------------------------------------------------------------

    def offer(self, events: Sequence[Event]) -> None:
        """This process's writer committed ``events`` (ordered per hall): deliver them now when they
        follow on, else let the pump read the hall from the log, where they are too."""
        runs: dict[int, list[Event]] = {}
        for event in events:
            runs.setdefault(event.hall_id, []).append(event)
        for hall_id, run in runs.items():
            self._deliver_run(hall_id, run)

    def _on_notification(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        self.notifications += 1
        hall_text, _, seq_text = payload.partition(":")
        try:
            hall_id, seq = int(hall_text), int(seq_text)
        except ValueError:
            log.warning("unreadable notification on %s: %r", CHANNEL, payload)
            return
        if seq > self._position(hall_id):
            self._mark(hall_id)

    # -- delivery ---------------------------------------------------------------------------------

    def _deliver_run(self, hall_id: int, run: Sequence[Event]) -> None:
        """Deliver the part of ``run`` that follows on from the position; on a gap, stop and read
        the hall from the log (which holds everything up to the run's end)."""
        at = self._position(hall_id)
        fresh: list[Event] = []
        for event in run:
            if event.seq <= at:
                continue  # delivered already (read from the log, or offered before)
            if event.seq != at + 1:
                self._mark(hall_id)
                break
            fresh.append(event)
            at = event.seq
        if fresh:
            for sink in self._sinks:
                try:
                    sink(fresh)
                except Exception:
                    log.exception("event sink %r failed", sink)

    def _mark(self, hall_id: int) -> None:
        self._behind.add(hall_id)
        self._wake.set()

    async def _read(self, hall_id: int) -> bool:
        """Deliver the hall's logged events after the position; True if more may be waiting."""
        after = self._position(hall_id)
        async with reading(self._engine) as conn:
            rows = await conn.execute(
                select(events_table)
                .where(events_table.c.hall_id == hall_id, events_table.c.seq > after)
                .order_by(events_table.c.seq)
                .limit(self._read_max)
            )
            found = [Event(r.hall_id, int(r.seq), r.type, r.data, r.actor, r.at, r.command_id) for r in rows]
        self.read_rounds += 1
        self.from_log += len(found)
        self._deliver_run(hall_id, found)
        return len(found) >= self._read_max

    async def catch_up(self) -> None:
        """Read every hall whose head is past the position (the periodic safety net)."""
        async with reading(self._engine) as conn:
            rows = await conn.execute(select(hall_heads.c.hall_id, hall_heads.c.last_seq))
            for row in rows:
                if int(row.last_seq) > self._position(row.hall_id):
                    self._behind.add(row.hall_id)
        await self.drain()

    async def drain(self) -> None:
        """Read the halls marked behind until none is."""
        while self._behind:
            hall_id = min(self._behind)
            self._behind.discard(hall_id)
            if await self._read(hall_id):
                self._behind.add(hall_id)

    # -- the loop ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Listen for notifications and read what they announce, with a catch-up every
        ``catch_up`` seconds, until cancelled. Database trouble is logged and retried."""
        try:
            while True:
                try:
                    await self._ensure_listening()
                    await self.catch_up()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self._catch_up):
                            while True:
                                await self._wake.wait()
                                self._wake.clear()
                                await self.drain()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("following the event log failed; trying again in %s s", self._catch_up)
                    await self._stop_listening()
                    await asyncio.sleep(self._catch_up)
        finally:
            await self._stop_listening()

    async def _ensure_listening(self) -> None:
        if self._engine.dialect.name == "sqlite":
            return
        if self._listening is not None:
            raw = await self._listening.get_raw_connection()
            if not raw.driver_connection.is_closed():  # type: ignore[union-attr]
                return
            log.warning("the connection listening on %s was lost; listening again", CHANNEL)
            await self._stop_listening()
        conn = await self._engine.connect()
        try:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.add_listener(CHANNEL, self._on_notification)  # type: ignore[union-attr]
        except Exception:
            await conn.close()
            raise
        self._listening = conn

    async def _stop_listening(self) -> None:
        conn, self._listening = self._listening, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            raw = await conn.get_raw_connection()
            await raw.driver_connection.remove_listener(CHANNEL, self._on_notification)  # type: ignore[union-attr]
        with contextlib.suppress(Exception):
            # Never back to the pool: a connection that LISTENed would keep receiving.
            await conn.invalidate()
        with contextlib.suppress(Exception):
            await conn.close()
