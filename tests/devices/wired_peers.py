"""Real wires for the serial tests: a pty pair made by socat or an RS-485-to-Ethernet converter on
TCP, and devices speaking each protocol at its far end (a keypad bus, a line of displays, an ID
reader's SAM).

Unplugging is killing socat: both ends vanish, as a USB adapter pulled out. Plugging in again is
starting socat on the same paths. Under CI=true a missing socat fails the test (tests/peers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serial_asyncio_fast

from devices import idcard_data
from devices import keypad_protocol as keypad
from devices import led_protocol as led
from devices import sam_protocol as sam
from tests.peers import require_binary
from tests.timing import MS


class PtyPair:
    """``host`` for the server, ``device`` for the device stand-in."""

    def __init__(self, where: Path, name: str = "line") -> None:
        self.socat = require_binary("/usr/bin/socat")
        self.host = str(where / f"{name}-host")
        self.device = str(where / f"{name}-dev")
        self._proc: subprocess.Popen[bytes] | None = None

    async def plug(self) -> None:
        for path in (self.host, self.device):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)  # left by a killed socat
        self._proc = subprocess.Popen(
            [self.socat, f"pty,raw,echo=0,link={self.host}", f"pty,raw,echo=0,link={self.device}"]
        )
        async with asyncio.timeout(5000 * MS):
            while not (os.path.exists(self.host) and os.path.exists(self.device)):
                await asyncio.sleep(0.01)

    def unplug(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def __del__(self) -> None:
        self.unplug()


class FarEnd:
    """A device process at the far end of a wire: opens it (again after an unplug) and answers
    each frame its decoder gives with what ``answer`` returns."""

    def __init__(self, path: str, decoder: Any, answer: Callable[[Any], bytes | None]) -> None:
        self.path = path
        self.decoder = decoder
        self.answer = answer
        self.heard: list[Any] = []
        self.opens = 0
        self.raw_out: list[bytes] = []  # bytes to send unasked (noise, bad frames), at the next frame
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                reader, writer = await serial_asyncio_fast.open_serial_connection(url=self.path, baudrate=9600)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            self.opens += 1
            try:
                while data := await reader.read(256):
                    for frame in self.decoder.feed(data):
                        self.heard.append(frame)
                        while self.raw_out:
                            writer.write(self.raw_out.pop(0))
                        reply = self.answer(frame)
                        if reply:
                            writer.write(reply)
            except OSError:
                pass
            finally:
                writer.close()
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class Converter:
    """An RS-485-to-Ethernet converter with devices behind it, counting the links open to it."""

    def __init__(self, decoder: Callable[[], Any], answer: Callable[[Any], bytes | None]) -> None:
        self._decoder = decoder
        self._answer = answer
        self.open = 0
        self.most_open = 0
        self.links = 0
        self.port = ""

    async def start(self) -> asyncio.Server:
        server = await asyncio.start_server(self.serve, "127.0.0.1", 0)
        self.port = f"socket://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return server

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.open += 1
        self.links += 1
        self.most_open = max(self.most_open, self.open)
        decoder = self._decoder()
        try:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(256):
                    for frame in decoder.feed(data):
                        if reply := self._answer(frame):
                            writer.write(reply)
        finally:
            self.open -= 1
            writer.close()


class Keypads:
    """Keypads and raters on one bus: each address answers its poll with its oldest unechoed key."""

    def __init__(self, addresses: list[int]) -> None:
        self.addresses = set(addresses)
        self.keys: dict[int, list[keypad.KeyPress | keypad.Rating]] = {a: [] for a in addresses}
        self.echoed: list[keypad.KeypadFrame] = []

    def press(self, frame: keypad.KeyPress | keypad.Rating) -> None:
        self.keys[frame.address].append(frame)

    def answer(self, frame: Any) -> bytes | None:
        if isinstance(frame, keypad.Poll) and frame.address in self.addresses:
            waiting = self.keys[frame.address]
            return keypad.encode(waiting[0] if waiting else keypad.Idle(frame.address))
        if isinstance(frame, keypad.KeyPress | keypad.Rating):
            self.echoed.append(frame)
            waiting = self.keys.get(frame.address, [])
            if waiting and waiting[0] == frame:
                waiting.pop(0)  # echoed: the device lets it go
        return None


class Displays:
    """Strips and window displays: ack every command, answer polls (restarted until a command came)."""

    def __init__(self, addresses: list[int], *, nak: bool = False) -> None:
        self.addresses = set(addresses)
        self.nak = nak
        self.restarted = True
        self.shown: dict[int, list[led.Message]] = {a: [] for a in addresses}

    def answer(self, frame: Any) -> bytes | None:
        if not isinstance(frame, led.LedFrame) or frame.from_device or frame.address not in self.addresses:
            return None
        message = frame.message
        if isinstance(message, led.Poll):
            flags = led.StatusFlag.RESTARTED if self.restarted else led.StatusFlag.NONE
            reply: led.Message = led.Status(flags, 80, 30, "SIM-1")
        else:
            self.restarted = False
            self.shown[frame.address].append(message)
            command = led.COMMANDS[type(message)]
            reply = led.Nak(command, led.NakReason.FAULT) if self.nak else led.Ack(command)
        return led.encode(led.LedFrame(frame.address, frame.seq, reply))


class Sam:
    """A reader's SAM with a card on it or not."""

    def __init__(self) -> None:
        self.card: idcard_data.IdCardData | None = None
        self.reads = 0

    def answer(self, frame: Any) -> bytes | None:
        if not isinstance(frame, sam.Request):
            return None
        if frame.command is sam.Command.FIND_CARD:
            found = self.card is not None
            return sam.encode(sam.Reply(0, 0, sam.Sw3.FOUND if found else sam.Sw3.NO_CARD, bytes(4) if found else b""))
        if frame.command is sam.Command.SELECT_CARD:
            return sam.encode(sam.Reply(0, 0, sam.Sw3.OK if self.card else sam.Sw3.SELECT_FAILED, bytes(8)))
        if frame.command is sam.Command.READ_BASE and self.card is not None:
            self.reads += 1
            return sam.encode_base_data(idcard_data.encode(self.card), b"\x77" * 1024)
        return sam.encode(sam.Reply(0, 0, sam.Sw3.COMMAND_ERROR))


async def until(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds * 1000 * MS):
        while not check():
            await asyncio.sleep(0.02)
    assert check(), what
