"""The wallboard's alarms bound to storage and fed: the writer's ``alarms`` domain, the watch that
raises alarms from the log's events, and the clock's look at the time-based ones.

The book a hall loads is its open alarms and those acknowledged in the last ``KEEP_DAYS``: every
key names a dated instance of its condition (``queueing.alarm_rules``), so a key older than that
cannot come back, and the table's rows stay history for reports.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hall.kernel.events import Command, Decision, Event
from hall.storage.alarm_tables import alarms
from hall.storage.database import reading
from hall.storage.tables import events as event_rows
from hall.storage.writer import Writer
from queueing.alarm_rules import CALLING_EVENTS, Back, Raise, back_online, called_for, due, settled, superseded
from queueing.alarms import COMMANDS, OPEN, Alarm, AlarmBook, alarm_id, decide
from queueing.state import QueueState

log = logging.getLogger(__name__)
KEEP_DAYS = 2
# How far back a catch-up looks for events that call for alarms: well inside the book's memory
# (KEEP_DAYS), so every alarm such an event raised is still in the book and is not raised again.
CATCH_UP = timedelta(days=1)
ACTOR = "system:alarms"


def _alarm(row: Any) -> Alarm:
    return Alarm(
        id=row.id,
        key=row.key,
        kind=row.kind,
        data=row.data,
        raised_at=row.raised_at,
        state=row.state,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        cleared_at=row.cleared_at,
    )


class AlarmsDomain:
    name = "alarms"
    commands = COMMANDS

    def decide(self, state: AlarmBook, command: Command, now: datetime) -> Decision[AlarmBook]:
        decision = decide(state, command, now)
        changed = tuple(a for i, a in decision.state.alarms.items() if state.alarms.get(i) is not a)
        return Decision(decision.state, decision.facts, decision.result, changed)

    async def load(self, conn: AsyncConnection, hall_id: int) -> AlarmBook:
        since = datetime.now(UTC) - timedelta(days=KEEP_DAYS)
        rows = await conn.execute(
            select(alarms).where(alarms.c.hall_id == hall_id, or_(alarms.c.state == OPEN, alarms.c.raised_at >= since))
        )
        return AlarmBook({row.id: _alarm(row) for row in rows})

    async def persist(self, conn: AsyncConnection, events: Sequence[Event], changed: Sequence[tuple[int, Any]]) -> None:
        for hall_id, alarm in changed:
            if not isinstance(alarm, Alarm):
                continue
            values = {
                "key": alarm.key,
                "kind": alarm.kind,
                "state": alarm.state,
                "data": dict(alarm.data),
                "raised_at": alarm.raised_at,
                "acknowledged_by": alarm.acknowledged_by,
                "acknowledged_at": alarm.acknowledged_at,
                "cleared_at": alarm.cleared_at,
            }
            where = and_(alarms.c.hall_id == hall_id, alarms.c.id == alarm.id)
            done = await conn.execute(update(alarms).where(where).values(**values))
            if done.rowcount == 0:
                await conn.execute(insert(alarms).values(hall_id=hall_id, id=alarm.id, **values))


def raise_command(hall_id: int, wanted: Raise) -> Command:
    """The housekeeping command that raises one alarm (not kept for repeats: its key is the guard)."""
    return Command(f"alarm:{uuid.uuid4().hex}", hall_id, "alarm.raise", ACTOR, wanted.as_args(), record=False)


async def submit_all(writer: Writer, hall_id: int, wanted: Sequence[Raise]) -> None:
    for item in wanted:
        outcome = await writer.submit(raise_command(hall_id, item))
        if not outcome.ok:
            log.error("alarm %s in hall %s refused: %s", item.key, hall_id, outcome.result)


async def clear_all(writer: Writer, hall_id: int, ended: Sequence[str]) -> None:
    """Clear the open alarms whose condition has ended (a housekeeping command each, like a raise:
    clearing twice changes nothing)."""
    for alarm in ended:
        command = Command(f"alarm:{uuid.uuid4().hex}", hall_id, "alarm.clear", ACTOR, {"alarm": alarm}, record=False)
        outcome = await writer.submit(command)
        if not outcome.ok:
            log.error("clearing alarm %s in hall %s refused: %s", alarm, hall_id, outcome.result)


# Counter states are read from the log of this last stretch: a counter is closed at the end of
# each day, so a state older than that has changed since.
_STATE_HORIZON = timedelta(days=1)
_COUNTER_STATES = ("counter.opened", "counter.paused", "counter.resumed", "counter.closed")


async def counter_since(conn: AsyncConnection, hall_id: int, now: datetime) -> dict[int, datetime]:
    """When each counter entered the state it is in, from the log: the start of a pause that goes
    on, and what the wallboard's time in state counts from."""
    last = (
        select(event_rows.c.data, event_rows.c.at)
        .where(
            event_rows.c.hall_id == hall_id,
            event_rows.c.type.in_(_COUNTER_STATES),
            event_rows.c.at >= now - _STATE_HORIZON,
        )
        .order_by(event_rows.c.seq)
    )
    since: dict[int, datetime] = {}
    for row in await conn.execute(last):
        counter = row.data.get("counter")
        if isinstance(counter, int):
            since[counter] = row.at
    return since


async def check_due(writer: Writer, engine: AsyncEngine, hall_id: int) -> None:
    """The clock's look at one hall: raise the time-based alarms due now, and clear those whose
    condition has ended."""
    queue = await writer.read_state(hall_id, "queue")
    book = await writer.read_state(hall_id, "alarms")
    if queue is None or book is None or not isinstance(queue[1], QueueState) or not isinstance(book[1], AlarmBook):
        return
    now = writer.now()
    async with reading(engine) as conn:
        since = await counter_since(conn, hall_id, now)
    await submit_all(writer, hall_id, due(queue[1], book[1], since, now))
    await clear_all(writer, hall_id, settled(queue[1], book[1], since, now))


class AlarmWatch:
    """Raises the alarms events call for, and clears a device's offline alarms when it is back,
    after their commit: a listener on the log that hands the work to its own task, so the writer's
    listeners never wait on the writer. One task, in the log's order: an offline alarm is raised
    before the device's return is looked for."""

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._queue: asyncio.Queue[tuple[int, Raise | Back]] = asyncio.Queue()

    def offer(self, logged: Sequence[Event]) -> None:
        by_hall: dict[int, list[Event]] = {}
        for event in logged:
            by_hall.setdefault(event.hall_id, []).append(event)
        for hall_id, found in by_hall.items():
            for wanted in called_for(found):
                self._queue.put_nowait((hall_id, wanted))

    async def catch_up(self, engine: AsyncEngine, now: datetime) -> int:
        """Does what the last day's events asked of the alarms and was not done: the alarms of
        events committed just before a process died (it had not raised them yet), and of those
        the watch's queue still held, and the clearing of a device's offline alarm when it came
        back meanwhile (an offline alarm whose device came back later in the day is not raised at
        all). Run when the queue clock starts, so after every restart and on the survivor that
        takes the clock over. Returns how many alarms it asked to raise."""
        async with reading(engine) as conn:
            rows = await conn.execute(
                select(event_rows)
                .where(event_rows.c.type.in_((*CALLING_EVENTS, "device.online")), event_rows.c.at >= now - CATCH_UP)
                .order_by(event_rows.c.hall_id, event_rows.c.seq)
            )
            by_hall: dict[int, list[Event]] = {}
            for r in rows:
                by_hall.setdefault(r.hall_id, []).append(
                    Event(r.hall_id, int(r.seq), r.type, r.data, r.actor, r.at, r.command_id)
                )
        asked = 0
        for hall_id, found in by_hall.items():
            items = called_for(found)
            skip = superseded(items)
            book = await self._writer.read_state(hall_id, "alarms")
            held = book[1].alarms if book is not None and isinstance(book[1], AlarmBook) else {}
            missing = [
                item
                for i, item in enumerate(items)
                if isinstance(item, Raise) and i not in skip and alarm_id(item.key) not in held
            ]
            await submit_all(self._writer, hall_id, missing)
            asked += len(missing)
            for item in items:
                if isinstance(item, Back):
                    book = await self._writer.read_state(hall_id, "alarms")
                    if book is not None and isinstance(book[1], AlarmBook):
                        await clear_all(self._writer, hall_id, back_online(book[1], item))
        return asked

    async def run(self) -> None:
        while True:
            hall_id, wanted = await self._queue.get()
            try:
                if isinstance(wanted, Back):
                    book = await self._writer.read_state(hall_id, "alarms")
                    if book is not None and isinstance(book[1], AlarmBook):
                        await clear_all(self._writer, hall_id, back_online(book[1], wanted))
                else:
                    await submit_all(self._writer, hall_id, [wanted])
            except Exception:
                log.exception("alarm work %s in hall %s failed", wanted, hall_id)
