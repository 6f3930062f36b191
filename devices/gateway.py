"""The server's end of the device bus: every message from a device comes in here.

Each message is checked before anything happens: its topic, the hall, the device (registered,
in that hall), then its payload by channel. A message that fails a check is counted against its
device with the reason, logged (at most once a minute per device and reason), and changes
nothing. What passes becomes a command through the one writer path, like a browser's.

Events run concurrently up to a bound, so group commit batches a burst of button presses; each
is answered on the device's ``reply`` topic once committed, which is the device's end-to-end
acknowledgement. Every event whose id can be read is answered, refused ones too, with a code:
a device that heard nothing would resend it for half a minute and then report a failure. An
event refused for what the hall is doing (a closed counter, nothing waiting, a sold-out
service) is no fault of the device: it is counted per device and code, and not logged as a
warning, since a hall refuses such presses all day.

Telemetry and heartbeats only touch memory, flushed to the registry's measurement columns now
and then; presence changes and paper changes are events.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from devices import kinds
from devices.bus import BusBusy, Incoming, ServerBus
from devices.calm import Calm
from devices.commands import DeviceCommand, DeviceCommands
from devices.idcard_data import IdCardData
from devices.protocol import (
    VOICE_STATES,
    Ack,
    BadMessage,
    DeviceEvent,
    Refused,
    State,
    Telemetry,
    event_id_of,
    parse,
    parse_topic,
    refusal,
    reply_message,
    topic,
)
from devices.registry import Device, Kind, Status
from devices.store import device_from_row
from hall.kernel.errors import HallError
from hall.kernel.events import Command, Event
from hall.storage.database import reading
from hall.storage.device_tables import devices
from hall.storage.tables import halls
from hall.storage.writer import Writer, utc_now

log = logging.getLogger(__name__)

SUBSCRIPTIONS = ("hall/+/dev/+/state", "hall/+/dev/+/tele", "hall/+/dev/+/evt", "hall/+/dev/+/ack")
# The MQTT 5 share group of a district's server processes (MQTT 5 §4.8.2): the broker hands each
# message of a shared filter to one member of the group.
SHARE_GROUP = "hall"


def subscriptions(shared: bool) -> tuple[str, ...]:
    """What the server subscribes to. Alone, every device topic. Among several processes, what a
    device says (state, telemetry, events) through the share group, so each message is acted on by
    one process; acks plainly, so the process that sent the command, and only it, takes its ack
    (the others hear it and let it be)."""
    if not shared:
        return SUBSCRIPTIONS
    said = tuple(f"$share/{SHARE_GROUP}/{item}" for item in SUBSCRIPTIONS if not item.endswith("/ack"))
    return (*said, "hall/+/dev/+/ack")


_REGISTRY_EVENTS = frozenset(
    {"device.pending", "device.registered", "device.bound", "device.rekeyed", "device.retired", "device.wired"}
)
CARD_KEPT = timedelta(minutes=2)
# The longest a kiosk's reply waits for the broker to take its ticket's print: the print normally
# goes out in milliseconds; a broker that is away must not hold the resident's answer for long.
PRINT_HANDOVER = 2.0

WiredSend = Callable[[int, str, str, str, dict[str, Any], str | None], Awaitable[DeviceCommand]]
TicketPrinter = Callable[[int, str, Mapping[str, Any]], Awaitable[bytes | None]]
"""Renders a ticket (hall id, ticket id, the people ahead and estimate its issue answered) as
ESC/POS bytes, or None when it cannot."""


@dataclass
class _Seen:
    """What the gateway knows of one device between flushes."""

    device: Device
    hall_id: int
    hall: str
    last_seen: datetime | None = None
    telemetry: dict[str, Any] = field(default_factory=dict)
    dirty: bool = False


@dataclass(frozen=True)
class Answer:
    """What the hall made of a device's event: done (with what a device may be told) or refused
    (with a code and a message)."""

    ok: bool
    body: dict[str, Any]


@dataclass
class GatewayStats:
    received: Counter[str] = field(default_factory=Counter)
    rejected: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # Well-formed events refused for what the hall is doing, by device and code.
    refused: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    events_done: int = 0
    events_failed: int = 0
    late_acks: int = 0
    replies_dropped: int = 0

    def reject_total(self) -> int:
        return sum(sum(c.values()) for c in self.rejected.values())


class Gateway:
    def __init__(
        self,
        engine: AsyncEngine,
        writer: Writer,
        bus: ServerBus,
        *,
        silence_limit: float = 90.0,
        event_concurrency: int = 512,
        printer: TicketPrinter | None = None,
        clock: Callable[[], datetime] = utc_now,
        shared: bool = False,
    ) -> None:
        """``shared``: this process is one of several taking the devices' messages (see
        ``subscriptions``)."""
        self._engine = engine
        self.shared = shared
        self._writer = writer
        self._bus = bus
        self.commands = DeviceCommands(bus, self.record_command)
        self.silence_limit = silence_limit
        self._slots = asyncio.Semaphore(event_concurrency)
        self._printer = printer
        self._clock = clock
        self._halls: dict[str, int] = {}
        self._codes: dict[int, str] = {}
        self._known: dict[str, _Seen] = {}
        self._stale: set[str] = set()
        self._refreshing: set[str] = set()
        # Told when a device of a hall changed, so its display content is (re)published.
        self.on_change: Callable[[int], None] | None = None
        # Commands to wired devices go to their line (devices.serial.SerialDevices.send).
        self.wired_send: WiredSend | None = None
        self._announced: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Print commands wait for the kiosk's ack; kept apart so draining events does not wait on them.
        self._printing: set[asyncio.Task[None]] = set()
        self._cards: dict[str, kinds.Card] = {}  # by reader
        self._last_logged: dict[tuple[str, str], float] = {}
        self.stats = GatewayStats()
        self.calm = Calm()

    # -- setup and bookkeeping ---------------------------------------------------------------

    async def load(self) -> None:
        async with reading(self._engine) as conn:
            for row in await conn.execute(select(halls.c.id, halls.c.code)):
                self._halls[row.code] = row.id
                self._codes[row.id] = row.code
            for row in await conn.execute(select(devices)):
                self._known[row.id] = _Seen(device_from_row(row), row.hall_id, self._codes.get(row.hall_id, ""))

    def on_events(self, events: Sequence[Event]) -> None:
        """Writer listener: registry changes made anywhere (the technician's console) are reread."""
        for event in events:
            if event.type in _REGISTRY_EVENTS or event.type in ("device.online", "device.offline", "device.paper"):
                device_id = str(event.data.get("device"))
                self._stale.add(device_id)
                if device_id not in self._refreshing:
                    self._refreshing.add(device_id)
                    self._spawn(self._reread(device_id, event.hall_id))

    async def _reread(self, device_id: str, hall_id: int) -> None:
        try:
            # A change committed while this read was under way (registered, then wired at once)
            # marks the device stale again, and no second reread starts beside this one: read
            # again until nothing came in meanwhile. A wired device never sends a message that
            # would make the gateway read it later.
            await self._refresh(device_id)
            while device_id in self._stale:
                await self._refresh(device_id)
        finally:
            self._refreshing.discard(device_id)
        if self.on_change is not None:
            self.on_change(hall_id)

    async def _refresh(self, device_id: str) -> _Seen | None:
        self._stale.discard(device_id)
        async with reading(self._engine) as conn:
            row = (await conn.execute(select(devices).where(devices.c.id == device_id))).one_or_none()
            if row is not None and row.hall_id not in self._codes:
                hall_row = (await conn.execute(select(halls.c.code).where(halls.c.id == row.hall_id))).one()
                self._halls[hall_row.code] = row.hall_id
                self._codes[row.hall_id] = hall_row.code
        if row is None:
            self._known.pop(device_id, None)
            return None
        old = self._known.get(device_id)
        seen = _Seen(device_from_row(row), row.hall_id, self._codes[row.hall_id])
        if old is not None:
            seen.last_seen, seen.telemetry, seen.dirty = old.last_seen, old.telemetry, old.dirty
        self._known[device_id] = seen
        return seen

    async def _hall_id(self, code: str) -> int | None:
        if code in self._halls:
            return self._halls[code]
        async with reading(self._engine) as conn:
            row = (await conn.execute(select(halls.c.id).where(halls.c.code == code))).one_or_none()
        if row is not None:
            self._halls[code] = row.id
            self._codes[row.id] = code
            return int(row.id)
        return None

    def reject(self, who: str, reason: str, detail: str) -> None:
        self.stats.rejected[who][reason] += 1
        key = (who, reason)
        now = time.monotonic()
        if now - self._last_logged.get(key, -1e9) >= 60:
            self._last_logged[key] = now
            log.warning("device %s: %s (%s)", who, reason, detail)

    def refuse(self, who: str, code: str, detail: str) -> None:
        self.stats.refused[who][code] += 1
        log.debug("device %s: refused %s (%s)", who, code, detail)

    def hall_ids(self) -> list[int]:
        return sorted(self._codes)

    def displays(self, hall_id: int) -> list[tuple[str, Device]]:
        return [
            (seen.hall, seen.device)
            for seen in self._known.values()
            if seen.hall_id == hall_id and seen.device.kind is not None and seen.device.kind.shows
        ]

    def device(self, device_id: str) -> Device | None:
        seen = self._known.get(device_id)
        return seen.device if seen else None

    def telemetry(self, device_id: str) -> dict[str, Any]:
        seen = self._known.get(device_id)
        if seen is None:
            return {}
        return {"last_seen": seen.last_seen.isoformat() if seen.last_seen else None, **seen.telemetry}

    def accept_card(self, reader: str, card: IdCardData) -> kinds.Card:
        """A card read by a wired reader (a SAM module on a serial line, a PC/SC reader): held for the
        reader's counter or kiosk exactly as an MQTT reader's ``card`` event is. The reader must be a
        registered, active ID reader; a card whose number fails GB 11643 never gets here
        (``IdCardData`` refuses it)."""
        seen = self._known.get(reader)
        if seen is None or seen.device.kind is not Kind.ID_READER or seen.device.status is not Status.ACTIVE:
            self.reject(reader, "not_registered", "a card from a reader that is not an active ID reader")
            raise Refused("not_registered", "not an active ID reader")
        now = self._clock()
        seen.last_seen = now
        seen.dirty = True
        extra = {
            "sex": card.sex_word,
            "nation": card.nation_word,
            "birth": card.birth.isoformat(),
            "address": card.address,
            "issuer": card.issuer,
        }
        held = kinds.Card(reader, seen.device.counter, card.name, card.id_number, now, extra)
        self._cards[reader] = held
        self.stats.events_done += 1
        return held

    def card_of(self, reader: str) -> kinds.Card | None:
        card = self._cards.get(reader)
        if card is None or self._clock() - card.read_at > CARD_KEPT:
            self._cards.pop(reader, None)
            return None
        return card

    def take_card_of(self, reader: str) -> kinds.Card | None:
        card = self.card_of(reader)
        self._cards.pop(reader, None)
        return card

    def _reader_at(self, hall_id: int, counter: int) -> str | None:
        for seen in self._known.values():
            device = seen.device
            at_counter = seen.hall_id == hall_id and device.kind is Kind.ID_READER and device.counter == counter
            if at_counter and device.id in self._cards:
                return device.id
        return None

    def card_at(self, hall_id: int, counter: int) -> kinds.Card | None:
        """The card read lately at the counter's reader (a counter may have more than one)."""
        reader = self._reader_at(hall_id, counter)
        return self.card_of(reader) if reader else None

    def take_card(self, hall_id: int, counter: int) -> kinds.Card | None:
        reader = self._reader_at(hall_id, counter)
        return self.take_card_of(reader) if reader else None

    def kiosk_reader(self, hall_id: int, reader: str) -> Device | None:
        """An active ID reader of the hall that stands beside a kiosk (bound to no counter)."""
        seen = self._known.get(reader)
        if seen is None or seen.hall_id != hall_id:
            return None
        device = seen.device
        if device.kind is not Kind.ID_READER or device.counter is not None or device.status is not Status.ACTIVE:
            return None
        return device

    def report_voice(self, hall_id: int, device_id: str, voice: str) -> bool:
        """A queue display's sound, reported by the display page it shows (``?device=<id>``): kept
        as its ``voice`` telemetry, the field a display on the bus reports in ``tele``. False for
        anything but an active queue display of the hall."""
        seen = self._known.get(device_id)
        if seen is None or seen.hall_id != hall_id:
            return False
        if seen.device.kind is not Kind.QUEUE_DISPLAY or seen.device.status is not Status.ACTIVE:
            return False
        if voice not in VOICE_STATES:
            raise ValueError(f"voice must be one of {', '.join(VOICE_STATES)}: {voice!r}")
        seen.telemetry["voice"] = voice
        seen.last_seen = self._clock()
        seen.dirty = True
        return True

    # -- the message path --------------------------------------------------------------------

    async def handle(self, message: Incoming) -> None:
        self.stats.received["all"] += 1
        try:
            address = parse_topic(message.topic)
        except BadMessage as exc:
            self.reject("?", exc.reason, exc.detail)
            return
        self.stats.received[address.channel] += 1
        hall_id = await self._hall_id(address.hall)
        if hall_id is None:
            self.reject(address.device, "unknown_hall", address.hall)
            return
        seen = self._known.get(address.device)
        if seen is None or address.device in self._stale:
            seen = await self._refresh(address.device)
        if seen is None:
            await self._unknown(hall_id, address.device, address.channel, message.payload)
            return
        if seen.hall_id != hall_id:
            self.reject(address.device, "wrong_hall", f"registered in another hall, spoke in {address.hall}")
            return
        if seen.device.status is not Status.ACTIVE:
            self.reject(address.device, "not_registered", seen.device.status.value)
            return
        if address.channel == "state" and message.retain and not message.payload:
            return  # a cleared retained state: nothing said
        try:
            body = parse(address.channel, message.payload)
        except BadMessage as exc:
            self.reject(address.device, exc.reason, exc.detail)
            event_id = event_id_of(message.payload) if address.channel == "evt" else None
            if event_id is not None:
                error = {"code": exc.reason, "message": exc.detail}
                self._reply(topic(seen.hall, seen.device.id, "reply"), reply_message(event_id, False, error))
                self.stats.events_failed += 1
            return
        now = self._clock()
        seen.last_seen = now
        seen.dirty = True
        if isinstance(body, State):
            await self._presence(seen, body.status == "online", body.firmware or "")
        elif isinstance(body, Telemetry):
            await self._telemetry(seen, body)
        elif isinstance(body, DeviceEvent):
            await self._slots.acquire()
            task = asyncio.create_task(self._event(seen, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(body, Ack):
            taken = self.commands.acknowledge(seen.device.id, body)
            if taken == "unknown" and not self.shared:
                # Among several processes every one hears every ack: one for no command of this
                # process was most likely sent by another.
                self.reject(seen.device.id, "unknown_ack", body.id)
            elif taken == "late":
                self.stats.late_acks += 1

    async def _unknown(self, hall_id: int, device_id: str, channel: str, payload: bytes) -> None:
        self.reject(device_id, "unknown_device", "not registered: waits for a technician")
        if device_id in self._announced:
            return
        self._announced.add(device_id)
        claimed: dict[str, Any] = {}
        if channel == "state":
            try:
                body = parse("state", payload)
                assert isinstance(body, State)
                claimed = {"kind": body.kind, "firmware": body.firmware or ""}
            except BadMessage:
                pass
        await self._submit(hall_id, "device.seen_unknown", {"device": device_id, **claimed}, f"announce:{device_id}")

    async def _submit(
        self, hall_id: int, name: str, args: dict[str, Any], command_id: str, *, record: bool = True
    ) -> Any:
        try:
            return await self._writer.submit(Command(command_id, hall_id, name, "system:devices", args, record=record))
        except HallError:
            log.exception("%s for hall %s failed", name, hall_id)
            return None

    async def _presence(self, seen: _Seen, online: bool, firmware: str) -> None:
        if seen.device.online == online and (not firmware or firmware == seen.device.firmware):
            return
        args = {"device": seen.device.id, "online": online, "firmware": firmware}
        outcome = await self._submit(seen.hall_id, "device.presence", args, _once("presence"), record=False)
        if outcome is not None and outcome.ok:
            await self._refresh(seen.device.id)

    async def _telemetry(self, seen: _Seen, body: Telemetry) -> None:
        seen.telemetry.update(body.values)
        if not seen.device.online:
            # Telemetry is a heartbeat: a device heard from is online, Will or not.
            await self._presence(seen, True, "")
        paper = body.values.get("paper")
        if isinstance(paper, str) and paper != seen.device.paper:
            args = {"device": seen.device.id, "paper": paper}
            outcome = await self._submit(seen.hall_id, "device.paper", args, _once("paper"), record=False)
            if outcome is not None and outcome.ok:
                await self._refresh(seen.device.id)

    async def _event(self, seen: _Seen, event: DeviceEvent) -> None:
        """An MQTT device's event: acted on, then answered on its ``reply`` topic."""
        try:
            answer = await self.act(seen, event)
        finally:
            self._slots.release()
        if answer is not None:
            self._reply(topic(seen.hall, seen.device.id, "reply"), reply_message(event.id, answer.ok, answer.body))

    async def wired_event(self, device_id: str, event: DeviceEvent) -> Answer | None:
        """A wired device's key or rating, decoded by its driver: the same path as an MQTT event
        (the same checks, the same queue command, the same refusals counted). None when the writer
        could not take it (busy or stopping)."""
        seen = self._known.get(device_id)
        if seen is None or device_id in self._stale:
            seen = await self._refresh(device_id)
        if seen is None or seen.device.status is not Status.ACTIVE:
            self.reject(device_id, "not_registered", "a wired device that is not registered")
            return Answer(False, {"code": "not_registered", "message": "not a registered device"})
        seen.last_seen = self._clock()
        seen.dirty = True
        return await self.act(seen, event)

    async def act(self, seen: _Seen, event: DeviceEvent) -> Answer | None:
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
                card = kinds.read_card(device, event, self._clock())
                self._cards[device.id] = card
                self.stats.events_done += 1
                return Answer(True, {"read": True})
            wanted = kinds.command_for(device, queue, event)
            if wanted is None:
                self.stats.events_done += 1
                return Answer(True, {})
            command = Command(
                event_command_id(device.id, event.id), seen.hall_id, wanted.name, _actor(device), wanted.args
            )
            outcome = await self._writer.submit(command)
            if outcome.ok:
                body = kinds.public_result(wanted.name, outcome.result)
                self.stats.events_done += 1
                # A repeated press (the device resent it) prints again under the same command id,
                # which a kiosk carries out once: so the ticket is printed even when the process
                # that issued it died before printing, and never twice.
                if wanted.name == "ticket.issue" and body.get("ticket"):
                    known = {"ahead": body.get("ahead") or 0, "estimate_minutes": body.get("estimate_minutes")}
                    handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    self._spawn(self._print(seen, str(body["ticket"]), known, handed), self._printing)
                    # The reply waits (briefly) until the broker has the print: a process that dies
                    # after replying has handed the print over, and one that dies before leaves
                    # the press unanswered, so the kiosk resends it and a survivor prints.
                    await asyncio.wait([handed], timeout=PRINT_HANDOVER)
                return Answer(True, body)
            told = refusal(outcome.result)
            self.refuse(device.id, told["code"], str(told.get("message", "")))
            self.stats.events_failed += 1
            return Answer(False, told)
        except Refused as exc:
            first = await self._first_answer(seen, event)
            if first is not None:
                return first
            self.refuse(device.id, exc.reason, exc.detail)
            self.stats.events_failed += 1
            return Answer(False, {"code": exc.reason, "message": exc.detail})
        except BadMessage as exc:
            self.reject(device.id, exc.reason, exc.detail)
            self.stats.events_failed += 1
            return Answer(False, {"code": exc.reason, "message": exc.detail})
        except HallError as exc:
            # The writer is busy or stopping: no answer, so the device resends the event later.
            log.warning("event %s of %s not handled: %s", event.id, device.id, exc)
            self.stats.events_failed += 1
            return None

    async def _first_answer(self, seen: _Seen, event: DeviceEvent) -> Answer | None:
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
        self.stats.events_done += 1
        if first.ok:
            return Answer(True, kinds.public_result(name, first.result))
        return Answer(False, refusal(first.result))

    async def wired_presence(self, device_id: str, online: bool, firmware: str = "") -> None:
        """A wired device answered its poll again, or stopped answering: as an MQTT ``state``."""
        seen = self._known.get(device_id)
        if seen is None or seen.device.status is not Status.ACTIVE:
            return
        if online:
            seen.last_seen = self._clock()
            seen.dirty = True
        await self._presence(seen, online, firmware)

    def wired_telemetry(self, device_id: str, values: Mapping[str, Any]) -> None:
        seen = self._known.get(device_id)
        if seen is not None:
            seen.telemetry.update(values)
            seen.last_seen = self._clock()
            seen.dirty = True

    def wired(self) -> list[tuple[int, Device]]:
        """The active wired devices with their hall, for the serial side to open their lines."""
        return [
            (seen.hall_id, seen.device)
            for seen in self._known.values()
            if seen.device.status is Status.ACTIVE and seen.device.wire is not None
        ]

    def _reply(self, to: str, payload: bytes) -> None:
        try:
            self._bus.publish(to, payload, qos=1)
        except BusBusy:
            # The event is handled all the same; the device, hearing nothing, resends it and gets
            # this answer again from the command's stored result.
            self.stats.replies_dropped += 1

    def _spawn(self, work: Awaitable[None], into: set[asyncio.Task[None]] | None = None) -> None:
        async def run() -> None:
            await work

        held = self._tasks if into is None else into
        task = asyncio.create_task(run())
        held.add(task)
        task.add_done_callback(held.discard)

    async def _print(
        self, seen: _Seen, ticket: str, known: Mapping[str, Any], handed: asyncio.Future[None] | None = None
    ) -> None:
        """Render the ticket and send it to the kiosk's printer; ``handed`` is done once the broker
        has the print command, or once there is none to send."""

        def told() -> None:
            if handed is not None and not handed.done():
                handed.set_result(None)

        try:
            if self._printer is None or self.calm.closing:
                return
            with self.calm.working():
                data = await self._printer(seen.hall_id, ticket, known)
            if data is None:
                return
            args = {"ticket": ticket, "escpos": base64.b64encode(data).decode()}
            command_id = print_command_id(seen.device.id, ticket)
            await self.commands.send(
                seen.hall_id, seen.hall, seen.device.id, "print", args, command_id=command_id, on_sent=told
            )
        finally:
            told()

    async def record_command(self, command: DeviceCommand) -> None:
        if command.status.value not in ("succeeded", "failed", "timed_out", "expired"):
            return
        args = {
            "device": command.device,
            "id": command.id,
            "name": command.name,
            "status": command.status.value,
            "attempts": command.attempts,
            "sent_at": command.sent_at.isoformat() if command.sent_at else None,
            "result": _small(command.result),
        }
        # Not kept among command ids: the outcome's own row (device_commands, keyed by the
        # command's id) already refuses a second record.
        await self._submit(command.hall_id, "device.command_done", args, f"devcmd:{command.id}", record=False)

    async def send(
        self, device_id: str, name: str, args: dict[str, Any], *, command_id: str | None = None
    ) -> DeviceCommand:
        seen = self._known.get(device_id)
        if seen is None or seen.device.status is not Status.ACTIVE:
            raise BadMessage("unknown_device", f"no registered device {device_id!r}")
        if seen.device.wire is not None and self.wired_send is not None:
            return await self.wired_send(seen.hall_id, seen.hall, device_id, name, args, command_id)
        return await self.commands.send(seen.hall_id, seen.hall, device_id, name, args, command_id=command_id)

    # -- time --------------------------------------------------------------------------------

    async def sweep(self) -> None:
        """A device silent for longer than the limit is offline, Will or not.

        Heard by this process or by another: among several processes each hears only its share of
        a device's heartbeats, and writes when it last heard each device to the registry's row
        (``flush``). So a device that looks silent from here is looked up there before it is
        called offline."""
        limit = self._clock() - timedelta(seconds=self.silence_limit)
        silent = []
        for seen in list(self._known.values()):
            if seen.device.online and seen.device.status is Status.ACTIVE:
                heard = seen.last_seen or seen.device.last_connect
                if heard is None or heard < limit:
                    silent.append(seen)
        if not silent:
            return
        async with reading(self._engine) as conn:
            rows = await conn.execute(
                select(devices.c.id, devices.c.last_seen).where(devices.c.id.in_([s.device.id for s in silent]))
            )
            elsewhere = {row.id: row.last_seen for row in rows if row.last_seen is not None}
        for seen in silent:
            there = elsewhere.get(seen.device.id)
            if there is not None and there >= limit:
                if seen.last_seen is None or there > seen.last_seen:
                    seen.last_seen = there
                continue
            await self._presence(seen, False, "")

    async def flush(self) -> None:
        """Write last-seen times, telemetry and rejection counts to the registry's rows. A
        last-seen time only moves forward: another process may have heard the device later."""
        rows = []
        for seen in self._known.values():
            if seen.dirty:
                seen.dirty = False
                rejected = dict(self.stats.rejected.get(seen.device.id, {}))
                rows.append(
                    {"d": seen.device.id, "seen": seen.last_seen, "tele": dict(seen.telemetry), "rej": rejected}
                )
        if not rows:
            return
        later = case(
            (devices.c.last_seen.is_(None), bindparam("seen")),
            (devices.c.last_seen < bindparam("seen"), bindparam("seen")),
            else_=devices.c.last_seen,
        )
        statement = (
            update(devices)
            .where(devices.c.id == bindparam("d"))
            .values(last_seen=later, telemetry=bindparam("tele"), rejected=bindparam("rej"))
        )
        async with self._engine.begin() as conn:
            await conn.execute(statement, rows)

    async def run_housekeeping(self, every: float = 5.0, *, sweep: bool = True) -> None:
        """Every ``every`` seconds: what was heard to the registry, then (``sweep``) the silent
        devices offline. Among several processes every one flushes, and the sweep runs in one of
        them, under its lease (``run_sweeps``)."""
        while not self.calm.closing:
            await asyncio.sleep(every)
            if self.calm.closing:
                return
            with self.calm.working():
                try:
                    if sweep:
                        await self.sweep()
                    await self.flush()
                except Exception:
                    log.exception("device housekeeping failed")

    async def run_sweeps(self, every: float = 5.0) -> None:
        """The presence timeouts alone, for the one process that holds their lease."""
        while not self.calm.closing:
            await asyncio.sleep(every)
            if self.calm.closing:
                return
            with self.calm.working():
                try:
                    await self.sweep()
                except Exception:
                    log.exception("device presence sweep failed")

    async def drain(self) -> None:
        """Wait for the events in hand (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: the events in hand are finished; prints still waiting for an ack are dropped
        (their outcome stays unrecorded, as for a server killed at that moment)."""
        await self.drain()
        for task in list(self._printing):
            task.cancel()
        await asyncio.gather(*list(self._printing), return_exceptions=True)


def _small(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if isinstance(v, str | int | float | bool | None) and len(str(v)) < 300}


def event_command_id(device_id: str, event_id: str) -> str:
    """The id of the command a device's event becomes: the same for every resend of the event,
    whichever server process takes it, so the writer acts on it once."""
    return f"dev:{device_id}:{event_id}"


def print_command_id(device_id: str, ticket: str) -> str:
    """The id of the command that prints a ticket at a kiosk: one per ticket and kiosk, whichever
    process sends it and however often, so the kiosk prints it once (docs/protocols/mqtt.md: a
    device carries out a command id once)."""
    return "print-" + hashlib.sha256(f"{device_id}:{ticket}".encode()).hexdigest()[:32]


def _actor(device: Device) -> str:
    return f"device:{device.id}"


def _once(what: str) -> str:
    return f"{what}:{uuid.uuid4().hex}"
