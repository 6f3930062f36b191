"""The server's end of the device bus: every message from a device comes in here.

Each message is checked before anything happens: its topic, the hall, the device (registered,
in that hall), then its payload by channel. A message that fails a check is counted against its
device with the reason, logged (at most once a minute per device and reason), and changes
nothing. What passes becomes a command through the one writer path, like a browser's
(devices/device_events.py).

Events run concurrently up to a bound, so group commit batches a burst of button presses; each
is answered on the device's ``reply`` topic once committed, which is the device's end-to-end
acknowledgement. Every event whose id can be read is answered, refused ones too, with a code:
a device that heard nothing would resend it for half a minute and then report a failure. An
event refused for what the hall is doing (a closed counter, nothing waiting, a sold-out
service) is no fault of the device: it is counted per device and code, and not logged as a
warning, since a hall refuses such presses all day (devices/gateway_stats.py).

Telemetry and heartbeats only touch memory, flushed to the registry's measurement columns now
and then (devices/known_devices.py); presence changes and paper changes are events.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from devices import kinds
from devices.bus import BusBusy, Incoming, ServerBus
from devices.calm import Calm
from devices.commands import DeviceCommand, DeviceCommands
from devices.device_events import Answer, DeviceEvents, TicketPrinter
from devices.gateway_stats import GatewayStats
from devices.held_cards import HeldCards
from devices.idcard_data import IdCardData
from devices.known_devices import KnownDevices, Seen
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
    reply_message,
    topic,
)
from devices.registry import Kind, Status
from hall.kernel.errors import HallError
from hall.kernel.events import Command, Event
from hall.storage.writer import Writer, utc_now

log = logging.getLogger(__name__)

_REGISTRY_EVENTS = frozenset(
    {"device.pending", "device.registered", "device.bound", "device.rekeyed", "device.retired", "device.wired"}
)

WiredSend = Callable[[int, str, str, str, dict[str, Any], str | None], Awaitable[DeviceCommand]]


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
        ``devices.gateway_names.subscriptions``)."""
        self.shared = shared
        self._writer = writer
        self._bus = bus
        self.commands = DeviceCommands(bus, self.record_command)
        self.silence_limit = silence_limit
        self._slots = asyncio.Semaphore(event_concurrency)
        self._clock = clock
        self.known = KnownDevices(engine)
        self.cards = HeldCards(self.known, clock)
        self.stats = GatewayStats()
        self.calm = Calm()
        self.events = DeviceEvents(
            writer, self.commands, self.cards, self.stats, self.calm, printer=printer, clock=clock
        )
        self._refreshing: set[str] = set()
        # Told when a device of a hall changed, so its display content is (re)published.
        self.on_change: Callable[[int], None] | None = None
        # Commands to wired devices go to their line (devices.serial.SerialDevices.send).
        self.wired_send: WiredSend | None = None
        self._announced: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- setup and bookkeeping ---------------------------------------------------------------

    def on_events(self, events: Sequence[Event]) -> None:
        """Writer listener: registry changes made anywhere (the technician's console) are reread."""
        for event in events:
            if event.type in _REGISTRY_EVENTS or event.type in ("device.online", "device.offline", "device.paper"):
                device_id = str(event.data.get("device"))
                self.known.stale.add(device_id)
                if device_id not in self._refreshing:
                    self._refreshing.add(device_id)
                    self._spawn(self._reread(device_id, event.hall_id))

    async def _reread(self, device_id: str, hall_id: int) -> None:
        try:
            # A change committed while this read was under way (registered, then wired at once)
            # marks the device stale again, and no second reread starts beside this one: read
            # again until nothing came in meanwhile. A wired device never sends a message that
            # would make the gateway read it later.
            await self.known.refresh(device_id)
            while device_id in self.known.stale:
                await self.known.refresh(device_id)
        finally:
            self._refreshing.discard(device_id)
        if self.on_change is not None:
            self.on_change(hall_id)

    def accept_card(self, reader: str, card: IdCardData) -> kinds.Card:
        """A card read by a wired reader (a SAM module on a serial line, a PC/SC reader): held for the
        reader's counter or kiosk exactly as an MQTT reader's ``card`` event is. The reader must be a
        registered, active ID reader; a card whose number fails GB 11643 never gets here
        (``IdCardData`` refuses it)."""
        seen = self.known.get(reader)
        if seen is None or seen.device.kind is not Kind.ID_READER or seen.device.status is not Status.ACTIVE:
            self.stats.reject(reader, "not_registered", "a card from a reader that is not an active ID reader")
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
        self.cards.hold(held)
        self.stats.events_done += 1
        return held

    def report_voice(self, hall_id: int, device_id: str, voice: str) -> bool:
        """A queue display's sound, reported by the display page it shows (``?device=<id>``): kept
        as its ``voice`` telemetry, the field a display on the bus reports in ``tele``. False for
        anything but an active queue display of the hall."""
        seen = self.known.get(device_id)
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
            self.stats.reject("?", exc.reason, exc.detail)
            return
        self.stats.received[address.channel] += 1
        hall_id = await self.known.hall_id(address.hall)
        if hall_id is None:
            self.stats.reject(address.device, "unknown_hall", address.hall)
            return
        seen = await self.known.current(address.device)
        if seen is None:
            await self._unknown(hall_id, address.device, address.channel, message.payload)
            return
        if seen.hall_id != hall_id:
            self.stats.reject(address.device, "wrong_hall", f"registered in another hall, spoke in {address.hall}")
            return
        if seen.device.status is not Status.ACTIVE:
            self.stats.reject(address.device, "not_registered", seen.device.status.value)
            return
        if address.channel == "state" and message.retain and not message.payload:
            return  # a cleared retained state: nothing said
        try:
            body = parse(address.channel, message.payload)
        except BadMessage as exc:
            self.stats.reject(address.device, exc.reason, exc.detail)
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
                self.stats.reject(seen.device.id, "unknown_ack", body.id)
            elif taken == "late":
                self.stats.late_acks += 1

    async def _unknown(self, hall_id: int, device_id: str, channel: str, payload: bytes) -> None:
        self.stats.reject(device_id, "unknown_device", "not registered: waits for a technician")
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

    async def _presence(self, seen: Seen, online: bool, firmware: str) -> None:
        if seen.device.online == online and (not firmware or firmware == seen.device.firmware):
            return
        args = {"device": seen.device.id, "online": online, "firmware": firmware}
        outcome = await self._submit(seen.hall_id, "device.presence", args, _once("presence"), record=False)
        if outcome is not None and outcome.ok:
            await self.known.refresh(seen.device.id)

    async def _telemetry(self, seen: Seen, body: Telemetry) -> None:
        seen.telemetry.update(body.values)
        if not seen.device.online:
            # Telemetry is a heartbeat: a device heard from is online, Will or not.
            await self._presence(seen, True, "")
        paper = body.values.get("paper")
        if isinstance(paper, str) and paper != seen.device.paper:
            args = {"device": seen.device.id, "paper": paper}
            outcome = await self._submit(seen.hall_id, "device.paper", args, _once("paper"), record=False)
            if outcome is not None and outcome.ok:
                await self.known.refresh(seen.device.id)

    async def _event(self, seen: Seen, event: DeviceEvent) -> None:
        """An MQTT device's event: acted on, then answered on its ``reply`` topic."""
        try:
            answer = await self.events.act(seen, event)
        finally:
            self._slots.release()
        if answer is not None:
            self._reply(topic(seen.hall, seen.device.id, "reply"), reply_message(event.id, answer.ok, answer.body))

    async def wired_event(self, device_id: str, event: DeviceEvent) -> Answer | None:
        """A wired device's key or rating, decoded by its driver: the same path as an MQTT event
        (the same checks, the same queue command, the same refusals counted). None when the writer
        could not take it (busy or stopping)."""
        seen = await self.known.current(device_id)
        if seen is None or seen.device.status is not Status.ACTIVE:
            self.stats.reject(device_id, "not_registered", "a wired device that is not registered")
            return Answer(False, {"code": "not_registered", "message": "not a registered device"})
        seen.last_seen = self._clock()
        seen.dirty = True
        return await self.events.act(seen, event)

    async def wired_presence(self, device_id: str, online: bool, firmware: str = "") -> None:
        """A wired device answered its poll again, or stopped answering: as an MQTT ``state``."""
        seen = self.known.get(device_id)
        if seen is None or seen.device.status is not Status.ACTIVE:
            return
        if online:
            seen.last_seen = self._clock()
            seen.dirty = True
        await self._presence(seen, online, firmware)

    def wired_telemetry(self, device_id: str, values: Mapping[str, Any]) -> None:
        seen = self.known.get(device_id)
        if seen is not None:
            seen.telemetry.update(values)
            seen.last_seen = self._clock()
            seen.dirty = True

    def _reply(self, to: str, payload: bytes) -> None:
        try:
            self._bus.publish(to, payload, qos=1)
        except BusBusy:
            # The event is handled all the same; the device, hearing nothing, resends it and gets
            # this answer again from the command's stored result.
            self.stats.replies_dropped += 1

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

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
        seen = self.known.get(device_id)
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
        silent = self.known.silent_since(limit)
        if not silent:
            return
        elsewhere = await self.known.heard_elsewhere(silent)
        for seen in silent:
            there = elsewhere.get(seen.device.id)
            if there is not None and there >= limit:
                if seen.last_seen is None or there > seen.last_seen:
                    seen.last_seen = there
                continue
            await self._presence(seen, False, "")

    async def flush(self) -> None:
        """What was heard, and the rejections counted, to the registry's rows (``KnownDevices.flush``)."""
        await self.known.flush(self.stats.rejected)

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
        (``DeviceEvents.close``)."""
        await self.drain()
        await self.events.close()


def _small(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if isinstance(v, str | int | float | bool | None) and len(str(v)) < 300}


def _once(what: str) -> str:
    return f"{what}:{uuid.uuid4().hex}"
