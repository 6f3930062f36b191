"""A device's event acted on: the one path of MQTT and wired devices from a key, a rating or a
card to the hall command it asks for, through the writer, and the answer the device is told.

A card read is held for its reader's counter or kiosk; a ticket issued at a kiosk is rendered and
sent to the kiosk's printer; a resend of an event already done gets the first answer again, so a
device that resends hears what its first press did. Apart from the gateway, which checks each
message and replies on the bus: this is what happens once an event has passed the checks.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from devices import kinds
from devices.calm import Calm
from devices.commands import DeviceCommands
from devices.gateway_names import event_command_id, print_command_id
from devices.gateway_stats import GatewayStats
from devices.held_cards import HeldCards
from devices.known_devices import Seen
from devices.protocol import BadMessage, DeviceEvent, Refused, refusal
from devices.registry import Device, Kind
from hall.kernel.errors import HallError
from hall.kernel.events import Command
from hall.storage.writer import Writer

# The gateway's log, as for its tallies (devices/gateway_stats.py).
log = logging.getLogger("devices.gateway")

# The longest a kiosk's reply waits for the broker to take its ticket's print: the print normally
# goes out in milliseconds; a broker that is away must not hold the resident's answer for long.
PRINT_HANDOVER = 2.0

TicketPrinter = Callable[[int, str, Mapping[str, Any]], Awaitable[bytes | None]]
"""Renders a ticket (hall id, ticket id, the people ahead and estimate its issue answered) as
ESC/POS bytes, or None when it cannot."""


@dataclass(frozen=True)
class Answer:
    """What the hall made of a device's event: done (with what a device may be told) or refused
    (with a code and a message)."""

    ok: bool
    body: dict[str, Any]


class DeviceEvents:
    def __init__(
        self,
        writer: Writer,
        commands: DeviceCommands,
        cards: HeldCards,
        stats: GatewayStats,
        calm: Calm,
        *,
        printer: TicketPrinter | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._writer = writer
        self._commands = commands
        self._cards = cards
        self._stats = stats
        self._calm = calm
        self._printer = printer
        self._clock = clock
        # Print commands wait for the kiosk's ack; kept apart so draining events does not wait on them.
        self._printing: set[asyncio.Task[None]] = set()

    async def act(self, seen: Seen, event: DeviceEvent) -> Answer | None:
        """What an event from a device asks for, done: the one path of MQTT and wired devices."""
        device = seen.device
        try:
            queue = None
            if device.kind in (Kind.KEYPAD, Kind.RATING_PAD, Kind.CITIZEN_SCREEN):
                read = await self._writer.read_state(seen.hall_id, "queue")
                if read is None:
                    raise BadMessage("unknown_hall", "the hall is gone")
                queue = read[1]
            if device.kind is Kind.ID_READER:
                self._cards.hold(kinds.read_card(device, event, self._clock()))
                self._stats.events_done += 1
                return Answer(True, {"read": True})
            wanted = kinds.command_for(device, queue, event)
            if wanted is None:
                self._stats.events_done += 1
                return Answer(True, {})
            command = Command(
                event_command_id(device.id, event.id), seen.hall_id, wanted.name, _actor(device), wanted.args
            )
            outcome = await self._writer.submit(command)
            if outcome.ok:
                body = kinds.public_result(wanted.name, outcome.result)
                self._stats.events_done += 1
                # A repeated press (the device resent it) prints again under the same command id,
                # which a kiosk carries out once: so the ticket is printed even when the process
                # that issued it died before printing, and never twice.
                if wanted.name == "ticket.issue" and body.get("ticket"):
                    known = {"ahead": body.get("ahead") or 0, "estimate_minutes": body.get("estimate_minutes")}
                    handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    printing = asyncio.create_task(self._print(seen, str(body["ticket"]), known, handed))
                    self._printing.add(printing)
                    printing.add_done_callback(self._printing.discard)
                    # The reply waits (briefly) until the broker has the print: a process that dies
                    # after replying has handed the print over, and one that dies before leaves
                    # the press unanswered, so the kiosk resends it and a survivor prints.
                    await asyncio.wait([handed], timeout=PRINT_HANDOVER)
                return Answer(True, body)
            told = refusal(outcome.result)
            self._stats.refuse(device.id, told["code"], str(told.get("message", "")))
            self._stats.events_failed += 1
            return Answer(False, told)
        except Refused as exc:
            first = await self._first_answer(seen, event)
            if first is not None:
                return first
            self._stats.refuse(device.id, exc.reason, exc.detail)
            self._stats.events_failed += 1
            return Answer(False, {"code": exc.reason, "message": exc.detail})
        except BadMessage as exc:
            self._stats.reject(device.id, exc.reason, exc.detail)
            self._stats.events_failed += 1
            return Answer(False, {"code": exc.reason, "message": exc.detail})
        except HallError as exc:
            # The writer is busy or stopping: no answer, so the device resends the event later.
            log.warning("event %s of %s not handled: %s", event.id, device.id, exc)
            self._stats.events_failed += 1
            return None

    async def _first_answer(self, seen: Seen, event: DeviceEvent) -> Answer | None:
        """The answer to an event done before, for a resend the state now refuses: the call it
        made keeps the counter busy, the rating it gave leaves nothing to rate. A server may have
        died after committing the event and before replying, and the resend reached another."""
        name = kinds.command_name(seen.device, event)
        if name is None:
            return None
        key = Command(event_command_id(seen.device.id, event.id), seen.hall_id, name, _actor(seen.device), {})
        first = await self._writer.recorded(key)
        if first is None:
            return None
        self._stats.events_done += 1
        if first.ok:
            return Answer(True, kinds.public_result(name, first.result))
        return Answer(False, refusal(first.result))

    async def _print(
        self, seen: Seen, ticket: str, known: Mapping[str, Any], handed: asyncio.Future[None] | None = None
    ) -> None:
        """Render the ticket and send it to the kiosk's printer; ``handed`` is done once the broker
        has the print command, or once there is none to send."""

        def told() -> None:
            if handed is not None and not handed.done():
                handed.set_result(None)

        try:
            if self._printer is None or self._calm.closing:
                return
            with self._calm.working():
                data = await self._printer(seen.hall_id, ticket, known)
            if data is None:
                return
            args = {"ticket": ticket, "escpos": base64.b64encode(data).decode()}
            command_id = print_command_id(seen.device.id, ticket)
            await self._commands.send(
                seen.hall_id, seen.hall, seen.device.id, "print", args, command_id=command_id, on_sent=told
            )
        finally:
            told()

    async def close(self) -> None:
        """Prints still waiting for an ack are dropped (their outcome stays unrecorded, as for a
        server killed at that moment)."""
        for task in list(self._printing):
            task.cancel()
        await asyncio.gather(*list(self._printing), return_exceptions=True)


def _actor(device: Device) -> str:
    return f"device:{device.id}"
