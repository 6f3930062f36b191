"""What display devices show, published as retained messages and fed from the event log.

A hall's events only mark it changed; a short loop then renders each display device of the hall
from the queue state and the board's recent calls, and publishes a device's content only when it
differs from what it has. A burst of a thousand events becomes a handful of publishes, and a
display that reboots gets its retained content from the broker at once.

What a counter's screens show comes from the queue state alone, and the calls on the LED strips
and queue displays from the hall's latest call events, however far back in the log they are:
after a restart every display shows what it showed before (a window of the latest events would
hold no call at all in a hall busy with other events, and the blank screen would be retained).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devices.bus import ServerBus
from devices.calm import Calm
from devices.protocol import encode, topic
from devices.registry import Device, Kind, Status
from displays import board
from displays.texts import LOCALES, led_lines
from hall.kernel.events import Event
from hall.storage.database import reading
from hall.storage.tables import events as events_table
from hall.storage.tables import staff
from hall.storage.writer import Writer
from queueing.state import QueueState
from queueing.tickets import TicketState

log = logging.getLogger(__name__)

DisplayDevices = Callable[[int], list[tuple[str, Device]]]
"""The active display devices of a hall, each with its hall code."""

_CALLS = ("ticket.called", "ticket.recalled")
# Call events read to rebuild the board: recalls of one ticket share its line, so more than the
# board's lines are read to fill them.
CALLS_READ = 4 * board.MAX_CALLS


def counter_view(queue: QueueState, number: int) -> board.CounterView:
    """A counter as its screens show it, from the queue state: its status and the ticket on it."""
    counter = queue.counters.get(number)
    current_id = queue.line(number).current
    current = queue.tickets.get(current_id) if current_id else None
    return board.CounterView(
        number,
        status=counter.status.value if counter else "closed",
        ticket=current.id if current else None,
        number=current.number if current else None,
        serving=bool(current and current.state is TicketState.SERVING),
    )


def render(device: Device, queue: QueueState, calls: board.DisplayState, names: dict[int, Any]) -> dict[str, Any]:
    """The content of one display device. Public screens carry no personal data: ticket numbers,
    counters and, on the counter's own screens, the clerk's name and staff number (which halls
    show on purpose, for accountability)."""
    kind = device.kind
    if kind is Kind.LED:
        latest = calls.calls[0] if calls.calls else None
        lines = list(led_lines(latest.number, latest.counter)) if latest else []
        return {"kind": kind.value, "lines": lines, "seq": calls.seq}
    if kind is Kind.QUEUE_DISPLAY:
        return {
            "kind": kind.value,
            "calls": [c.as_json() for c in calls.calls],
            "waiting": queue.waiting_counts(),
            "seq": calls.seq,
        }
    assert device.counter is not None
    number = device.counter
    view = counter_view(queue, number)
    content: dict[str, Any] = {
        "kind": kind.value if kind else None,
        "counter": number,
        "status": view.status,
        "number": view.number,
        "serving": view.serving,
        "text": dict(zip(LOCALES, view.lines(), strict=True)),
    }
    if kind is Kind.CITIZEN_SCREEN:
        counter = queue.counters.get(number)
        clerk = names.get(counter.clerk_id) if counter and counter.clerk_id else None
        content["clerk"] = clerk
        finished = [r for r in queue.rateable.values() if r.counter == number]
        latest_done = max(finished, key=lambda r: r.finished_at) if finished else None
        content["rate"] = {"number": latest_done.number} if latest_done and view.ticket is None else None
    return content


class DisplayFeed:
    def __init__(
        self,
        engine: AsyncEngine,
        writer: Writer,
        bus: ServerBus,
        displays: DisplayDevices,
        *,
        every: float = 0.1,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self._bus = bus
        self._displays = displays
        self._every = every
        self._boards: dict[int, board.DisplayState] = {}
        # Events of a hall whose board is being read, folded in once it is.
        self._early: dict[int, list[Event]] = {}
        self._dirty: set[int] = set()
        self._sent: dict[str, bytes] = {}
        self._wired_sent: set[str] = set()
        self._wake = asyncio.Event()
        self._names: dict[int, dict[int, Any]] = {}
        # Bumped when a hall's names may have changed: a read begun before is not kept.
        self._names_version: dict[int, int] = {}
        self.calm = Calm()
        self.published = 0
        # Where a wired display's content goes (its serial line's driver) instead of the bus.
        self.wired: Callable[[Device, dict[str, Any]], None] | None = None
        # Whether this process publishes the network displays' content. Among several processes
        # one does, under its lease (``lead``); a wired display is fed by the process its line is on.
        self.leading = True

    async def lead(self, hall_ids: Callable[[], Sequence[int]]) -> None:
        """Publish the network displays' content until cancelled (the lease is lost, the server
        stops). Taking over, it publishes every display again from the state as it is now: what a
        process that died left retained may be older, or the takeover may have missed a change."""
        self.leading = True
        self._sent = {k: v for k, v in self._sent.items() if k in self._wired_sent}
        for hall_id in hall_ids():
            self.touch(hall_id)
        try:
            await asyncio.Event().wait()
        finally:
            self.leading = False
            self._bus.forget_shown()

    def on_events(self, events: Sequence[Event]) -> None:
        for event in events:
            current = self._boards.get(event.hall_id)
            if current is not None:
                self._boards[event.hall_id] = board.apply(current, event)
            elif event.hall_id in self._early:
                self._early[event.hall_id].append(event)
            if event.type.startswith("counter."):
                # A new clerk may have opened it.
                self._names.pop(event.hall_id, None)
                self._names_version[event.hall_id] = self._names_version.get(event.hall_id, 0) + 1
            self._dirty.add(event.hall_id)
        self._wake.set()

    def touch(self, hall_id: int) -> None:
        self._dirty.add(hall_id)
        self._wake.set()

    async def _board(self, hall_id: int, head: int) -> board.DisplayState:
        """The hall's board as of ``head`` (the queue state's sequence): its latest calls, read
        by type from the whole log, then the events that arrived meanwhile."""
        known = self._boards.get(hall_id)
        if known is not None:
            self._early.pop(hall_id, None)
            return known
        self._early.setdefault(hall_id, [])
        try:
            async with reading(self._engine) as conn:
                rows = await conn.execute(
                    select(events_table)
                    .where(
                        events_table.c.hall_id == hall_id,
                        events_table.c.type.in_(_CALLS),
                        events_table.c.seq <= head,
                    )
                    .order_by(events_table.c.seq.desc())
                    .limit(CALLS_READ)
                )
                calls = [
                    Event(r.hall_id, r.seq, r.type, r.data, r.actor, r.at, r.command_id) for r in reversed(rows.all())
                ]
        finally:
            early = self._early.pop(hall_id, [])
        folded = board.fold(early, replace(board.fold(calls), seq=head))
        # Another refresh of the hall may have built it meanwhile: the first one stays.
        return self._boards.setdefault(hall_id, folded)

    async def _staff_names(self, hall_id: int) -> dict[int, Any]:
        known = self._names.get(hall_id)
        if known is not None:
            return known
        version = self._names_version.get(hall_id, 0)
        async with reading(self._engine) as conn:
            rows = await conn.execute(
                select(staff.c.id, staff.c.display_name, staff.c.staff_no).where(staff.c.hall_id == hall_id)
            )
            names = {r.id: {"name": r.display_name, "staff_no": r.staff_no} for r in rows}
        # A counter event during the read (the cache was cleared meanwhile) may mean names this
        # read missed: use them for this refresh, but keep nothing, so the next one reads again.
        if self._names_version.get(hall_id, 0) == version:
            self._names[hall_id] = names
        return names

    async def refresh(self, hall_id: int) -> int:
        """Render and publish what changed on the hall's displays; returns how many were sent."""
        targets = [
            (code, d)
            for code, d in self._displays(hall_id)
            if d.status is Status.ACTIVE and d.kind and (self.leading or d.wire is not None)
        ]
        if not targets:
            return 0
        if hall_id not in self._boards:
            # Events that arrive from now on, while the state and then the board are read, are
            # kept to fold in (``_board``): one committed between the two reads is past the head
            # the board is read up to, and would otherwise be in neither.
            self._early.setdefault(hall_id, [])
        read = await self._writer.read_state(hall_id, "queue")
        if read is None:
            self._early.pop(hall_id, None)
            return 0
        head, queue = int(read[0]), read[1]
        assert isinstance(queue, QueueState)
        calls = await self._board(hall_id, head)
        names = await self._staff_names(hall_id)
        sent = 0
        for code, device in targets:
            content = render(device, queue, calls, names)
            payload = encode(content)
            if self._sent.get(device.id) == payload:
                continue
            if device.wire is not None:
                if self.wired is None:
                    continue
                self.wired(device, content)
                self._wired_sent.add(device.id)
            else:
                self._bus.show(topic(code, device.id, "display"), payload)
                self._wired_sent.discard(device.id)
            self._sent[device.id] = payload
            sent += 1
        self.published += sent
        return sent

    async def run(self) -> None:
        while not self.calm.closing:
            await self._wake.wait()
            self._wake.clear()
            halls, self._dirty = self._dirty, set()
            with self.calm.working():
                for hall_id in halls:
                    if self.calm.closing:
                        break
                    try:
                        await self.refresh(hall_id)
                    except Exception:
                        log.exception("display refresh for hall %s failed", hall_id)
            await asyncio.sleep(self._every)
