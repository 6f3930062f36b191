"""The drivers of the three wired protocols: each runs one session on an open port, until the port
fails, and is started again by its line (``devices.serial.Line``) after a reconnect.

- ``KeypadBus``: polls each keypad and rater address in turn, echoes every key frame at once (the
  bus's acknowledgement, due within 100 ms: long before a commit), and hands each new press, in
  order, to the gateway's path, the one an MQTT keypad's event takes.
- ``DisplayLine``: keeps each strip and window display showing its content (re-sent when it
  changes, after a reconnect, and when a poll finds the device restarted), polls it for presence,
  and carries the console's commands with their outcome.
- ``SamReader``: asks the reader's SAM for a card twice a second, reads it (find, select, read)
  and gives it to ``Gateway.accept_card``.

Every decision that needs no port is in ``devices.wired``; the decoders count what they drop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from devices import keypad_protocol as keypad
from devices import led_protocol as led
from devices import sam_protocol as sam
from devices import wired
from devices.idcard_data import IdCardData
from devices.protocol import DeviceEvent
from devices.wire_log import WireLog

log = logging.getLogger(__name__)
# The longest a closing keypad bus waits for its echoed presses to be acted on.
CLOSE_GRACE = 5.0

F = TypeVar("F")


@dataclass(frozen=True)
class Timing:
    """The protocols' times (docs/protocols/serial.md, idcard.md); tests shorten them."""

    keypad_reply: float = keypad.REPLY_TIMEOUT
    keypad_gap: float = 0.02  # between one answer and the next poll: the bus turns round
    display_reply: float = led.REPLY_TIMEOUT
    display_poll: float = led.POLL_INTERVAL
    sam_reply: float = sam.REPLY_TIMEOUT
    sam_find: float = 0.5


class Gatewayish(Protocol):
    """What a driver needs of the gateway (``devices.gateway.Gateway``)."""

    async def wired_event(self, device_id: str, event: DeviceEvent) -> Any: ...
    async def wired_presence(self, device_id: str, online: bool, firmware: str = "") -> None: ...
    def wired_telemetry(self, device_id: str, values: Mapping[str, Any]) -> None: ...
    def accept_card(self, reader: str, card: IdCardData) -> Any: ...


class _Decoder(Protocol[F]):
    log: WireLog

    def feed(self, data: bytes) -> list[F]: ...
    def gap(self) -> list[F]: ...


class Wire(Generic[F]):
    """An open port with its decoder: bytes out, frames in, a quiet line after ``timeout``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, decoder: _Decoder[F]) -> None:
        self._reader = reader
        self._writer = writer
        self._decoder = decoder
        self._frames: list[F] = []
        self.sent_bytes = 0

    async def send(self, data: bytes) -> None:
        self._writer.write(data)
        self.sent_bytes += len(data)
        await self._writer.drain()

    async def receive(self, quiet: float) -> F | None:
        """The next frame, or None when the line stays quiet for ``quiet`` seconds (what was cut
        short by the silence is counted as truncated)."""
        try:
            async with asyncio.timeout(quiet):
                while not self._frames:
                    data = await self._reader.read(256)
                    if not data:
                        raise ConnectionResetError("the port closed")
                    self._frames.extend(self._decoder.feed(data))
        except TimeoutError:
            self._frames.extend(self._decoder.gap())
            if not self._frames:
                return None
        return self._frames.pop(0)


Open = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Driver(Protocol):
    log: WireLog
    refused: Counter[str]

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None: ...
    async def lost(self) -> None: ...
    def state(self) -> dict[str, Any]: ...


async def _presence(gateway: Gatewayish, device: str, change: bool | None, firmware: str = "") -> None:
    if change is not None:
        await gateway.wired_presence(device, change, firmware)


class KeypadBus:
    """The host of one keypad bus: keypads and raters, each at its address."""

    def __init__(self, gateway: Gatewayish, devices: Mapping[int, str], timing: Timing) -> None:
        self._gateway = gateway
        self.devices = dict(devices)
        self._timing = timing
        self._decoder = keypad.KeypadDecoder()
        self.log = self._decoder.log
        self.poller = wired.BusPoller(tuple(sorted(self.devices)))
        self.refused: Counter[str] = Counter()
        # Each device's presses in order, one committed before its next; devices side by side, so
        # the presses of a row of counters share the writer's group commits.
        self._presses = {device: asyncio.Queue[DeviceEvent](maxsize=32) for device in self.devices.values()}
        self._acting: list[asyncio.Task[None]] = []
        self.answers: list[Any] = []  # the last few answers, for the console
        self.acted = 0

    def state(self) -> dict[str, Any]:
        online = {self.devices[a]: p.online for a, p in self.poller.presence.items()}
        return {"online": online, "acted": self.acted, "refused": dict(self.refused)}

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire: Wire[keypad.KeypadFrame] = Wire(reader, writer, self._decoder)
        if not self._acting:
            self._acting = [asyncio.create_task(self._act(device, q)) for device, q in self._presses.items()]
        while True:
            address = self.poller.next_address()
            await wire.send(keypad.encode(keypad.Poll(address)))
            answered = False
            while (frame := await wire.receive(self._timing.keypad_reply)) is not None:
                if isinstance(frame, keypad.Poll | keypad.Display):
                    continue  # the host's own frames, heard back on a bus that echoes
                await self._heard(wire, frame)
                if frame.address == address:
                    answered = True
                    break
            presence = self.poller.presence[address]
            change = presence.answered() if answered else presence.missed()
            await _presence(self._gateway, self.devices[address], change)
            await asyncio.sleep(self._timing.keypad_gap)

    async def _heard(self, wire: Wire[keypad.KeypadFrame], frame: keypad.KeypadFrame) -> None:
        device = self.devices.get(frame.address)
        if device is None:
            # Nobody registered this address: counted, not echoed, so whoever it is keeps trying.
            self.refused["unknown_address"] += 1
            return
        if isinstance(frame, keypad.Idle):
            return
        if isinstance(frame, keypad.KeyPress | keypad.Rating):
            presses = self._presses[device]
            if presses.full():
                # Presses wait to be committed faster than they can be: this one is not echoed,
                # so the keypad keeps it and sends it again at a later poll. Nothing is lost.
                self.refused["busy"] += 1
                return
            await wire.send(keypad.acknowledgement(frame))
            if self.poller.fresh(frame, time.monotonic()):
                presses.put_nowait(wired.event_for(frame, uuid.uuid4().hex[:16]))

    async def _act(self, device: str, presses: asyncio.Queue[DeviceEvent]) -> None:
        """A device's presses in the order they came, each committed (or refused) before the next."""
        while True:
            event = await presses.get()
            try:
                answer = await self._gateway.wired_event(device, event)
            except Exception:
                log.exception("a key press of %s was not handled", device)
                continue
            finally:
                presses.task_done()
            self.acted += 1
            if answer is not None and not answer.ok:
                self.refused[str(answer.body.get("code", "refused"))] += 1
            self.answers = [*self.answers[-7:], answer]

    async def lost(self) -> None:
        for address, presence in self.poller.presence.items():
            await _presence(self._gateway, self.devices[address], presence.lost())

    async def close(self) -> None:
        # Presses already echoed are the hall's to act on: the keypad lets an echoed press go and
        # never sends it again. The line's session has stopped; what is queued is acted on first
        # (the line moving to another process, the server stopping), within a bound.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_GRACE):
                for presses in self._presses.values():
                    await presses.join()
        for task in self._acting:
            task.cancel()
        for task in self._acting:
            with contextlib.suppress(asyncio.CancelledError):
                await task
