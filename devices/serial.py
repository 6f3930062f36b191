"""Wired devices: one connection factory for every port, a line per port that stays open, and the
serial side of a running server, beside the MQTT bus, over the same registry and gateway.

**One factory.** ``open_port`` opens a serial path (``/dev/ttyUSB0``, a pseudo-terminal) or a
pyserial URL (``socket://host:port`` for an RS-485-to-Ethernet converter, ``rfc2217://``) as an
asyncio stream pair, so a simulated device on a pty or a TCP stand-in is what the server opens
exactly as it opens hardware. It goes through pyserial-asyncio-fast, the maintained fork of
pyserial-asyncio (the original has had no release since 2022; the fork, kept by Home Assistant's
maintainers for their Zigbee and Z-Wave radios, is a drop-in replacement with the same
``open_serial_connection``, fixes to its transport's write path and flow control, and type hints),
on pyserial 3.5, whose ``serial_for_url`` gives it the URLs.

**A line per port.** ``Line`` keeps its port open: a port that vanishes (USB unplugged) or a
converter whose TCP link drops is opened again with the bus's backoff (0.2 s doubling to 2.5 s,
with jitter), and the driver's session starts afresh, so displays get their content again. Its
devices are offline the moment the port goes; each is online again at its first answer.

**One process opens them.** Server processes sharing a database (a district on PostgreSQL) would
otherwise each open every port: two readers of one keypad bus or converter split its frames between
them, and both poll and echo. ``serve`` runs under the ``wired lines`` lease, so the lines are open in
one process, which any other takes over when it dies (``devices.service``). The others keep each
line's plan, its state ``elsewhere``, and the display content they render, so a process that takes
the lease over opens every line at once with what its displays should show; a technician's command
asked of them is handed to the holder (``devices.wired_relay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import serial
import serial_asyncio_fast
from serial.tools import list_ports

from devices import led_protocol as led
from devices.bus import reconnect_delay
from devices.commands import DeviceCommand
from devices.commands import Status as CommandStatus
from devices.gateway import Gateway
from devices.registry import Device
from devices.serial_cards import SamReader
from devices.serial_displays import DisplayLine
from devices.serial_drivers import Driver, KeypadBus, Timing
from devices.wired import DISPLAY_COMMANDS
from devices.wired_relay import WiredRelay
from devices.wires import Protocol, Wired, Wiring, protocol_of, wiring_of
from hall.kernel.events import Event

log = logging.getLogger(__name__)

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
Opener = Callable[[Wiring], Coroutine[Any, Any, Stream]]
# What a process asking the line's holder waits beyond the holder's own expiry of a command.
HAND_OVER_GRACE = 10.0
_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


async def open_port(wiring: Wiring) -> Stream:
    """The port of ``wiring`` as a stream pair, at its line settings (a ``socket://`` URL has
    none: the converter at the other end is set up on its own)."""
    reader, writer = await serial_asyncio_fast.open_serial_connection(
        url=wiring.port,
        baudrate=wiring.baud,
        parity=_PARITY[wiring.parity],
        bytesize=wiring.data_bits,
        stopbits=wiring.stop_bits,
    )
    return reader, writer


def ports() -> list[dict[str, str]]:
    """The serial ports attached to this machine, as a technician picks one."""
    return [
        {"port": p.device, "description": p.description or "", "hwid": p.hwid or ""}
        for p in sorted(list_ports.comports(), key=lambda p: p.device)
    ]


@dataclass
class LineState:
    state: str = "opening"  # opening, open, waiting (to open again), closed
    opens: int = 0
    last_error: str = ""
    since: float = field(default_factory=time.monotonic)


class Line:
    """One port, kept open, with the driver of the devices on it."""

    def __init__(
        self,
        wiring: Wiring,
        driver: Driver,
        *,
        opener: Opener = open_port,
        backoff: tuple[float, float] = (0.2, 2.5),
    ) -> None:
        self.wiring = wiring
        self.driver = driver
        self._opener = opener
        self._backoff = backoff
        self.status = LineState()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def port(self) -> str:
        return self.wiring.port

    def start(self, after: asyncio.Task[None] | None = None) -> None:
        """Open the port and keep it open; ``after``: the closing of the line it replaces, which
        must end first (its driver still acting on the presses it echoed, in their order)."""
        self._task = asyncio.create_task(self._run(after), name=f"serial-line:{self.port}")

    def _moved(self, state: str, error: str = "") -> None:
        self.status.state = state
        self.status.since = time.monotonic()
        if error:
            self.status.last_error = error

    async def _run(self, after: asyncio.Task[None] | None = None) -> None:
        if after is not None:
            await asyncio.wait([after])
        attempt = 0
        while True:
            try:
                reader, writer = await self._opener(self.wiring)
            except (OSError, ValueError) as exc:  # SerialException is an OSError
                self._moved("waiting", f"cannot open: {exc}")
                await asyncio.sleep(reconnect_delay(attempt, first=self._backoff[0], cap=self._backoff[1]))
                attempt += 1
                continue
            attempt = 0
            self.status.opens += 1
            self._moved("open")
            try:
                await self.driver.session(reader, writer)
            except (OSError, EOFError) as exc:
                self._moved("waiting", f"lost: {exc}")
                log.warning("serial line %s lost: %s", self.port, exc)
            finally:
                writer.close()
                if not self._closing:  # a server stopping leaves its devices' presence as it was
                    with contextlib.suppress(Exception):
                        await self.driver.lost()
            await asyncio.sleep(reconnect_delay(0, first=self._backoff[0], cap=self._backoff[1]))

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        close = getattr(self.driver, "close", None)
        if close is not None:
            await close()
        self._moved("closed")

    def as_json(self) -> dict[str, Any]:
        counters = self.driver.log.counters.as_dict()
        return {
            "port": self.port,
            "settings": self.wiring.as_json() | {"address": None},
            "state": self.status.state,
            "opens": self.status.opens,
            "last_error": self.status.last_error,
            "counters": counters,
            "good": counters["frames"],
            "bad": sum(v for k, v in counters.items() if k not in ("frames", "dropped_bytes")),
            "refused": dict(self.driver.refused),
            "recent": [
                {"raw": s.raw, "ok": s.ok, "reason": s.reason, "summary": s.summary, "times": s.times}
                for s in self.driver.log.recent
            ],
            **self.driver.state(),
        }


class SerialDevices:
    """The wired devices of a running server: their lines opened from the registry (and opened
    again when a technician changes a device's wiring), display content and console commands
    handed to the right line, and the lines' state for the device console."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        opener: Opener = open_port,
        timing: Timing | None = None,
        backoff: tuple[float, float] = (0.2, 2.5),
        expire_after: float = 60.0,
    ) -> None:
        self._gateway = gateway
        self._opener = opener
        self.timing = timing or Timing()
        self.backoff = backoff
        self.expire_after = expire_after
        self.lines: dict[str, Line] = {}
        self._plans: dict[str, tuple[Any, ...]] = {}
        self._content: dict[str, dict[str, Any]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        # Console commands queued on a line or sent and awaiting their reply, for the console's
        # list of commands in flight (as DeviceCommands keeps those on the bus).
        self._pending: dict[str, DeviceCommand] = {}
        # Whether the lines are open in this process: always when it is alone; with processes
        # sharing the devices, while it holds the lease (``serve``).
        self.here = True
        self._closed = False
        # Sharing: commands handed to the line's holder, and the outcomes awaited from it by id.
        self.relay: WiredRelay | None = None
        self._awaited: dict[str, asyncio.Future[Mapping[str, Any]]] = {}
        self._carrying: set[asyncio.Task[DeviceCommand]] = set()

    async def serve(self) -> None:
        """Open the lines here until cancelled (the lease is lost or the server stops), then close
        them and leave them to the process that holds the lease next. Meanwhile the commands other
        processes hand over are carried here."""
        try:
            self.here = True
            self._reopen()
            if self.relay is None:
                await asyncio.Event().wait()
            attempt = 0
            while self.relay is not None:
                # A listening connection lost on its own (killed, timed out idle) is listened on
                # again; the lines stay open, as the lease is still this process's.
                try:
                    await self.relay.listen(self._handed)
                except (OSError, ConnectionError) as exc:
                    log.warning("listening for wired commands failed: %s; again shortly", exc)
                except Exception:
                    log.exception("listening for wired commands failed; again shortly")
                await asyncio.sleep(reconnect_delay(attempt, first=self.backoff[0], cap=self.backoff[1]))
                attempt += 1
        finally:
            self.here = False
            self._reopen()
            if self._closing:
                # Not gather: a second cancellation (the server stopping now) must not cut the
                # lines' closing short; they finish on their own tasks.
                await asyncio.wait(list(self._closing))

    def _reopen(self) -> None:
        self._plans.clear()
        self.sync()

    def sync(self) -> None:
        """Lines as the registry now says: a port whose devices or settings changed is closed
        and opened again with them; a port nobody uses any more is closed."""
        if self._closed:
            return  # the server is stopping: a registry change heard now opens nothing
        by_port: dict[str, list[Wired]] = {}
        for _hall, device in self._gateway.known.wired():
            wiring = wiring_of(device)
            if wiring is not None and device.kind is not None:
                by_port.setdefault(wiring.port, []).append(Wired(device.id, device.kind, wiring))
        for port in list(self.lines):
            if port not in by_port:
                self._drop(port)
        for port, wired in by_port.items():
            plan = tuple(sorted((w.device, w.kind.value, tuple(w.wiring.as_json().items())) for w in wired))
            if self._plans.get(port) == plan:
                continue
            closing = self._drop(port)
            line = Line(wired[0].wiring, self._driver(wired), opener=self._opener, backoff=self.backoff)
            self.lines[port], self._plans[port] = line, plan
            for w in wired:
                if w.device in self._content and isinstance(line.driver, DisplayLine):
                    line.driver.show(w.device, self._content[w.device])
            if self.here:
                line.start(after=closing)
            else:
                line.status.state = "elsewhere"

    def _driver(self, wired: list[Wired]) -> Driver:
        protocol = protocol_of(wired[0].kind)
        by_address = {w.wiring.address: w.device for w in wired if w.wiring.address is not None}
        if protocol is Protocol.KEYPAD_BUS:
            return KeypadBus(self._gateway, by_address, self.timing)
        if protocol is Protocol.DISPLAY:
            codecs = {"gb18030": led.Encoding.GB18030, "gb2312": led.Encoding.GB2312, "utf-8": led.Encoding.UTF8}
            encodings = {w.device: codecs[w.wiring.encoding] for w in wired}
            return DisplayLine(self._gateway, by_address, self.timing, encodings)
        return SamReader(self._gateway, wired[0].device, self.timing)

    def _drop(self, port: str) -> asyncio.Task[None] | None:
        line = self.lines.pop(port, None)
        self._plans.pop(port, None)
        if line is None:
            return None
        task = asyncio.create_task(line.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    def line_of(self, device: str) -> Line | None:
        for line in self.lines.values():
            if device in getattr(line.driver, "devices", {}).values() or getattr(line.driver, "device", None) == device:
                return line
        return None

    def show(self, device: Device, content: dict[str, Any]) -> None:
        """``DisplayFeed``'s hand-off for a wired display: kept, and given to its line."""
        self._content[device.id] = content
        line = self.line_of(device.id)
        if line is not None and isinstance(line.driver, DisplayLine):
            line.driver.show(device.id, content)

    async def send(self, hall_id: int, hall: str, device: str, name: str, args: dict[str, Any],
                   command_id: str | None = None) -> DeviceCommand:  # fmt: skip
        """A console command to a wired display, through the lifecycle of ``devices.commands``:
        queued until its line carries it; expired if the line stays away ``expire_after``."""
        command = DeviceCommand(command_id or uuid.uuid4().hex, hall_id, hall, device, name, dict(args))
        line = self.line_of(device)
        if line is not None and not self.here:
            # The holder carries and records it; this process only waits for the outcome.
            return await self._hand_over(command)
        if line is None or not isinstance(line.driver, DisplayLine) or name not in DISPLAY_COMMANDS:
            command.status = CommandStatus.FAILED
            command.result = {"error": f"a wired device of this kind does not take {name!r}"}
        else:
            running = self._pending.get(command.id)
            if running is not None and running.device == device:
                # The same request again (a retried POST): the same command, carried once.
                await running.over.wait()
                return running
            self._pending[command.id] = command
            line.driver.command(command)
            try:
                async with asyncio.timeout(self.expire_after):
                    await command.over.wait()
            except TimeoutError:
                command.status = CommandStatus.EXPIRED
                command.result = {"error": "the device's line was away for too long"}
                command.over.set()
            finally:
                self._pending.pop(command.id, None)
        await self._gateway.record_command(command)
        return command

    async def _hand_over(self, command: DeviceCommand) -> DeviceCommand:
        """A command for a line open in another process: handed to it, and its outcome heard from
        the log (``on_events``). Nothing is recorded here: the holder records what it did."""
        if self.relay is None:
            command.status = CommandStatus.FAILED
            command.result = {"error": "the device's line is open in another server process"}
            command.over.set()
            return command
        outcome = self._awaited.get(command.id)
        ours = outcome is None
        if outcome is None:
            outcome = asyncio.get_running_loop().create_future()
            self._awaited[command.id] = outcome
        try:
            if ours:
                await self.relay.send(
                    {"id": command.id, "hall_id": command.hall_id, "hall": command.hall, "device": command.device,
                     "name": command.name, "args": dict(command.args)}
                )  # fmt: skip
            # else: the same request again (a retried POST) while the first is under way: the
            # same command, handed over once, and the same outcome for both.
            # The holder expires a command whose line stays away after ``expire_after``.
            async with asyncio.timeout(self.expire_after + HAND_OVER_GRACE):
                heard = await asyncio.shield(outcome)
            command.status = CommandStatus(str(heard.get("status")))
            command.attempts = int(heard.get("attempts") or 0)
            command.result = dict(heard.get("result") or {})
        except TimeoutError:
            command.status = CommandStatus.EXPIRED
            command.result = {"error": "no server process carried it: the line's holder did not answer"}
        finally:
            if ours and self._awaited.get(command.id) is outcome:
                del self._awaited[command.id]
        command.over.set()
        return command

    def _handed(self, data: dict[str, Any]) -> None:
        """A command another process handed over: carried on its line here, as if asked here."""
        try:
            hall_id, hall, device = int(data["hall_id"]), str(data["hall"]), str(data["device"])
            name, command_id, args = str(data["name"]), str(data["id"]), dict(data.get("args") or {})
        except (KeyError, TypeError, ValueError):
            log.warning("a wired command handed over without its parts: %r", data)
            return
        if not self.here:
            return
        task = asyncio.create_task(self.send(hall_id, hall, device, name, args, command_id))
        self._carrying.add(task)
        task.add_done_callback(self._carrying.discard)

    def on_events(self, events: Sequence[Event]) -> None:
        """The log's events: the outcome of a command handed to another process."""
        for event in events:
            if event.type == "device.command":
                waiting = self._awaited.get(str(event.data.get("id")))
                if waiting is not None and not waiting.done():
                    waiting.set_result(event.data)

    def in_flight(self, device: str | None = None) -> list[dict[str, Any]]:
        return [c.as_json() for c in self._pending.values() if device is None or c.device == device]

    def as_json(self) -> list[dict[str, Any]]:
        return [line.as_json() for line in self.lines.values()]

    async def close(self) -> None:
        self._closed = True
        self.here = False
        for port in list(self.lines):
            self._drop(port)
        while self._closing:
            await asyncio.gather(*list(self._closing), return_exceptions=True)
        for task in list(self._carrying):
            task.cancel()
