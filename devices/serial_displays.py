"""The driver of a line of LED strips and counter window displays (the hall's display protocol,
docs/protocols/serial.md).

Each display is kept showing what ``devices.feeds`` renders for it: what it has acknowledged is
remembered, and what differs is sent again, so content goes out when it changes, after every
reconnect (nothing is taken as shown on a new session) and when a poll finds the device restarted
(its ``restarted`` flag: it lost its content with its power). A command from the console is carried
between those, with the lifecycle of ``devices.commands``: queued, sent, then succeeded (ack),
failed (nak) or timed out (no reply after the retries, each with the same SEQ).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from devices import led_protocol as led
from devices import wired
from devices.commands import DeviceCommand, Status
from devices.serial_drivers import Gatewayish, Timing, Wire, _presence
from devices.wired import Presence

TRIES = 3  # the first and two more with the same SEQ


class DisplayLine:
    def __init__(
        self,
        gateway: Gatewayish,
        devices: Mapping[int, str],
        timing: Timing,
        encodings: Mapping[str, led.Encoding] | None = None,
    ) -> None:
        self._gateway = gateway
        # The text encoding each device declares (its wiring); GB18030 when it declares none.
        self._encodings = dict(encodings or {})
        self.devices = dict(devices)
        self._by_device = {device: address for address, device in self.devices.items()}
        self._timing = timing
        self._decoder = led.LedDecoder()
        self.log = self._decoder.log
        self.refused: Counter[str] = Counter()
        self.presence = {a: Presence(led.MISSED_POLLS_OFFLINE) for a in self.devices}
        self._wanted: dict[str, list[led.Message]] = {}
        self._shown: dict[str, list[led.Message]] = {}
        self._commands: asyncio.Queue[DeviceCommand] = asyncio.Queue()
        self._wake = asyncio.Event()
        self._seq = 0
        self._polled: dict[int, float] = {}
        self.sent_content = 0

    def state(self) -> dict[str, Any]:
        online = {self.devices[a]: p.online for a, p in self.presence.items()}
        return {"online": online, "sent_content": self.sent_content, "refused": dict(self.refused)}

    def show(self, device: str, content: Mapping[str, Any]) -> None:
        self._wanted[device] = wired.show(content, self._encodings.get(device, led.Encoding.GB18030))
        self._wake.set()

    def command(self, command: DeviceCommand) -> None:
        self._commands.put_nowait(command)
        self._wake.set()

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        wire: Wire[led.LedFrame] = Wire(reader, writer, self._decoder)
        self._shown.clear()  # a new session: whatever the displays show, it is sent again
        self._polled.clear()
        while True:
            self._wake.clear()
            while not self._commands.empty():
                await self._carry(wire, self._commands.get_nowait())
            for device, messages in list(self._wanted.items()):
                if self._shown.get(device) != messages and device in self._by_device:
                    await self._show(wire, device, messages)
            await self._poll_due(wire)
            if self._commands.empty() and all(self._shown.get(d) == m for d, m in self._wanted.items()):
                await self._sleep()

    async def _sleep(self) -> None:
        due = min((at + self._timing.display_poll for at in self._polled.values()), default=time.monotonic())
        try:
            async with asyncio.timeout(max(0.0, due - time.monotonic())):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _exchange(self, wire: Wire[led.LedFrame], address: int, message: led.Message) -> led.LedFrame | None:
        """One command and its reply, sent up to ``TRIES`` times with the same SEQ; a reply of
        another SEQ or address (late, or someone else's) is passed over."""
        self._seq = (self._seq + 1) & 0xFF
        frame = led.encode(led.LedFrame(address, self._seq, message))
        for _ in range(TRIES):
            await wire.send(frame)
            while (reply := await wire.receive(self._timing.display_reply)) is not None:
                if reply.from_device and reply.address == address and reply.seq == self._seq:
                    await self._heard(address)
                    return reply
                if reply.from_device:
                    self.refused["stray_reply"] += 1
        await self._missed(address)
        return None

    async def _heard(self, address: int) -> None:
        await _presence(self._gateway, self.devices[address], self.presence[address].answered())

    async def _missed(self, address: int) -> None:
        await _presence(self._gateway, self.devices[address], self.presence[address].missed())

    async def _show(self, wire: Wire[led.LedFrame], device: str, messages: list[led.Message]) -> None:
        address = self._by_device[device]
        for message in messages:
            reply = await self._exchange(wire, address, message)
            if reply is None or not isinstance(reply.message, led.Ack):
                if reply is not None:
                    self.refused["nak"] += 1
                return  # tried again at the next round, or after the next poll
        self._shown[device] = messages
        self.sent_content += 1

    async def _poll_due(self, wire: Wire[led.LedFrame]) -> None:
        now = time.monotonic()
        for address, device in self.devices.items():
            if now - self._polled.get(address, -1e9) < self._timing.display_poll:
                continue
            self._polled[address] = now
            reply = await self._exchange(wire, address, led.Poll())
            if reply is not None and isinstance(reply.message, led.Status):
                status = reply.message
                self._gateway.wired_telemetry(
                    device, {"brightness": status.brightness, "temperature": status.temperature}
                )
                if led.StatusFlag.RESTARTED in status.flags:
                    self._shown.pop(device, None)  # it lost what it showed with its power
                if status.firmware:
                    await self._gateway.wired_presence(device, True, status.firmware)

    async def _carry(self, wire: Wire[led.LedFrame], command: DeviceCommand) -> None:
        address = self._by_device.get(command.device)
        if command.over.is_set() or address is None:
            return
        try:
            message = wired.display_command(command.name, command.args)
        except ValueError as exc:
            _end(command, Status.FAILED, {"error": str(exc)})
            return
        command.status = Status.SENT
        command.sent_at = datetime.now(UTC)
        command.attempts += 1
        reply = await self._exchange(wire, address, message)
        if reply is None:
            _end(command, Status.TIMED_OUT, {"error": f"no reply after {TRIES} tries"})
        elif isinstance(reply.message, led.Nak):
            _end(command, Status.FAILED, {"error": reply.message.summary()})
        else:
            _end(command, Status.SUCCEEDED, {"reply": reply.message.summary()})

    async def lost(self) -> None:
        for address, presence in self.presence.items():
            await _presence(self._gateway, self.devices[address], presence.lost())

    async def close(self) -> None:
        while not self._commands.empty():
            _end(self._commands.get_nowait(), Status.EXPIRED, {"error": "the line was closed"})


def _end(command: DeviceCommand, status: Status, result: dict[str, Any]) -> None:
    command.status = status
    command.result = result
    command.over.set()
