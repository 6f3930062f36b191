"""What display devices show, published as retained messages and fed from the event log.

A hall's events only mark it changed; a short loop then renders each display device of the hall
from the queue state and the board's recent calls, and publishes a device's content only when it
differs from what it has. A burst of a thousand events becomes a handful of publishes, and a
display that reboots gets its retained content from the broker at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
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
from queueing.views import public_view

log = logging.getLogger(__name__)

DisplayDevices = Callable[[int], list[tuple[str, Device]]]
"""The active display devices of a hall, each with its hall code."""


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
        view = public_view(queue, datetime.now(UTC))
        return {
            "kind": kind.value,
            "calls": [c.as_json() for c in calls.calls],
            "waiting": {s["code"]: s["waiting"] for s in view["services"]},
            "seq": calls.seq,
        }
    assert device.counter is not None
    number = device.counter
    counter = queue.counters.get(number)
    current_id = queue.line(number).current
    current = queue.tickets.get(current_id) if current_id else None
    status = counter.status.value if counter else "closed"
    content: dict[str, Any] = {
        "kind": kind.value if kind else None,
        "counter": number,
        "status": status,
        "number": current.number if current else None,
        "serving": bool(current and current.state is TicketState.SERVING),
        "text": dict(zip(LOCALES, calls.counter(number).lines(), strict=True)),
    }
    if kind is Kind.CITIZEN_SCREEN:
        clerk = names.get(counter.clerk_id) if counter and counter.clerk_id else None
        content["clerk"] = clerk
        finished = [r for r in queue.rateable.values() if r.counter == number]
        latest_done = max(finished, key=lambda r: r.finished_at) if finished else None
        content["rate"] = {"number": latest_done.number} if latest_done and current is None else None
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
        self._dirty: set[int] = set()
        self._sent: dict[str, bytes] = {}
        self._wake = asyncio.Event()
        self._names: dict[int, dict[int, Any]] = {}
        self.calm = Calm()
        self.published = 0

    def on_events(self, events: Sequence[Event]) -> None:
        for event in events:
            current = self._boards.get(event.hall_id)
            if current is not None:
                self._boards[event.hall_id] = board.apply(current, event)
            if event.type.startswith("counter."):
                self._names.pop(event.hall_id, None)  # a new clerk may have opened it
            self._dirty.add(event.hall_id)
        self._wake.set()

    def touch(self, hall_id: int) -> None:
        self._dirty.add(hall_id)
        self._wake.set()

    async def _board(self, hall_id: int) -> board.DisplayState:
        known = self._boards.get(hall_id)
        if known is not None:
            return known
        async with reading(self._engine) as conn:
            rows = await conn.execute(
                select(events_table)
                .where(events_table.c.hall_id == hall_id)
                .order_by(events_table.c.seq.desc())
                .limit(500)
            )
            recent = [
                Event(r.hall_id, r.seq, r.type, r.data, r.actor, r.at, r.command_id) for r in reversed(rows.all())
            ]
        folded = board.fold(recent)
        self._boards[hall_id] = folded
        return folded

    async def _staff_names(self, hall_id: int) -> dict[int, Any]:
        if hall_id not in self._names:
            async with reading(self._engine) as conn:
                rows = await conn.execute(
                    select(staff.c.id, staff.c.display_name, staff.c.staff_no).where(staff.c.hall_id == hall_id)
                )
                self._names[hall_id] = {r.id: {"name": r.display_name, "staff_no": r.staff_no} for r in rows}
        return self._names[hall_id]

    async def refresh(self, hall_id: int) -> int:
        """Render and publish what changed on the hall's displays; returns how many were sent."""
        targets = [(code, d) for code, d in self._displays(hall_id) if d.status is Status.ACTIVE and d.kind]
        if not targets:
            return 0
        read = await self._writer.read_state(hall_id, "queue")
        if read is None:
            return 0
        queue: QueueState = read[1]
        calls = await self._board(hall_id)
        names = await self._staff_names(hall_id)
        sent = 0
        for code, device in targets:
            payload = encode(render(device, queue, calls, names))
            if self._sent.get(device.id) == payload:
                continue
            self._bus.show(topic(code, device.id, "display"), payload)
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
