"""Virtual wired devices: a keypad bus, a line of LED strips and an ID reader's SAM, each at the
far end of a port, answering the server as docs/protocols/serial.md says the hardware does.

``hall demo`` puts them on pseudo-terminals it makes with ``os.openpty`` (``PtyWire``): the
server opens the terminal's path (``/dev/pts/N``) as it opens a USB adapter, and the device speaks
on the other side. That needs nothing but Python on Linux or macOS, so the demo runs after a bare
``pip install``; socat is not needed (the tests use it to pull a wire out, which a demo never
does). ``hall simulate --serial KIND:PORT`` runs the same devices on a port that exists already:
one end of a socat pair, or a USB adapter wired to the server's.

Every frame is made and read by the server's own codecs (``devices.keypad_protocol``,
``devices.led_protocol``, ``devices.sam_protocol``), so a virtual device cannot drift from what
the server accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import tty
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

import serial_asyncio_fast

from devices import idcard_data, led_messages
from devices import keypad_protocol as keypad
from devices import led_protocol as led
from devices import sam_protocol as sam
from devices.residents import Resident, make_resident

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Decoder(Protocol):
    def feed(self, data: bytes) -> list[Any]: ...


class Writes(Protocol):
    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


class _FdWriter:
    """Writes to the pty's master; a device's frames are small, far below the terminal's buffer."""

    def __init__(self, fd: int, loop: asyncio.AbstractEventLoop) -> None:
        self._fd = fd
        self._loop = loop

    def write(self, data: bytes) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(self._fd, data)

    def close(self) -> None:
        self._loop.remove_reader(self._fd)


class PtyWire:
    """A pseudo-terminal: ``path`` for the server, the master side for a virtual device. The
    terminal side stays open here too, so the master never reads an end of file while the server
    closes and opens the port again."""

    def __init__(self) -> None:
        self.master, self._terminal = os.openpty()
        tty.setraw(self._terminal)  # bytes as they come: no echo, no line editing
        self.path = os.ttyname(self._terminal)

    async def streams(self) -> tuple[asyncio.StreamReader, Writes]:
        # A reader fed by the loop's watch on the descriptor, and plain writes: pipe transports
        # on a terminal work on asyncio's own loop but not on uvloop, which uvicorn runs on.
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        os.set_blocking(self.master, False)

        def readable() -> None:
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if data:
                reader.feed_data(data)
            else:
                loop.remove_reader(self.master)
                reader.feed_eof()

        loop.add_reader(self.master, readable)
        return reader, _FdWriter(self.master, loop)

    def close(self) -> None:
        for fd in (self.master, self._terminal):
            with contextlib.suppress(OSError):
                os.close(fd)


def port_opener(port: str) -> Callable[[], Any]:
    """Opens an existing port (``hall simulate --serial``) at 9600 8N1, as the buses run."""

    async def open_it() -> Stream:
        reader, writer = await serial_asyncio_fast.open_serial_connection(url=port, baudrate=9600)
        return reader, writer

    return open_it


async def serve(open_it: Callable[[], Any], decoder: Decoder, answer: Callable[[Any], bytes | None]) -> None:
    """Answer every frame the server sends, for as long as the task runs (the port opened again
    if it goes)."""
    while True:
        try:
            reader, writer = await open_it()
        except OSError:
            await asyncio.sleep(0.5)
            continue
        try:
            while data := await reader.read(512):
                for frame in decoder.feed(data):
                    reply = answer(frame)
                    if reply:
                        writer.write(reply)
        except OSError:
            pass
        finally:
            writer.close()
        await asyncio.sleep(0.5)


class KeypadBus:
    """Keypads at ``addresses``: each answers its poll with its oldest key not yet echoed, which
    it lets go when the server echoes it (docs/protocols/serial.md, the keypad bus)."""

    def __init__(self, addresses: list[int]) -> None:
        self.keys: dict[int, list[keypad.KeyPress]] = {a: [] for a in addresses}
        self.echoed = 0
        self.decoder = keypad.KeypadDecoder()

    def press(self, address: int, key: keypad.Key = keypad.Key.CALL) -> None:
        self.keys[address].append(keypad.KeyPress(address, key))

    def answer(self, frame: Any) -> bytes | None:
        if isinstance(frame, keypad.Poll) and frame.address in self.keys:
            waiting = self.keys[frame.address]
            return keypad.encode(waiting[0] if waiting else keypad.Idle(frame.address))
        if isinstance(frame, keypad.KeyPress) and frame.address in self.keys:
            waiting = self.keys[frame.address]
            if waiting and waiting[0] == frame:
                waiting.pop(0)
                self.echoed += 1
        return None


class Strips:
    """LED strips or window displays at ``addresses``: each acknowledges every command and
    answers a poll with its status (restarted until it was first given something to show)."""

    def __init__(self, addresses: list[int]) -> None:
        self.addresses = set(addresses)
        self.restarted = {a: True for a in addresses}
        self.shown: dict[int, str] = {}
        self.decoder = led.LedDecoder()

    def answer(self, frame: Any) -> bytes | None:
        if not isinstance(frame, led.LedFrame) or frame.from_device or frame.address not in self.addresses:
            return None
        message = frame.message
        if isinstance(message, led.Poll):
            flags = led.StatusFlag.RESTARTED if self.restarted[frame.address] else led.StatusFlag.NONE
            reply: led.Message = led.Status(flags, 80, 31, "DEMO-LED 1.0")
        else:
            self.restarted[frame.address] = False
            self.shown[frame.address] = message.summary()
            reply = led.Ack(led_messages.COMMANDS[type(message)])
        return led.encode(led.LedFrame(frame.address, frame.seq, reply))


def card_of(resident: Resident, today: date | None = None) -> idcard_data.IdCardData:
    """A made-up resident's card as the SAM reads it."""
    today = today or date.today()
    return idcard_data.IdCardData(
        name=resident.name,
        sex="1" if resident.sex == "男" else "2",
        nation="01",
        birth=resident.birth,
        address=resident.address,
        id_number=resident.id_number,
        issuer="星河区公安分局",
        valid_from=date(today.year - 3, 1, 1),
        valid_until=None,
    )


class SamReader:
    """An ID reader's SAM with a card laid on it (``card``) or not."""

    def __init__(self) -> None:
        self.card: idcard_data.IdCardData | None = None
        self.reads = 0
        self.decoder = sam.RequestDecoder()

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
            # No photo: the server keeps none (居民身份证法 §13), so the demo sends filler.
            return sam.encode_base_data(idcard_data.encode(self.card), b"\x00" * 1024)
        return sam.encode(sam.Reply(0, 0, sam.Sw3.COMMAND_ERROR))


async def clerks_press(bus: KeypadBus, rng: random.Random, every: float) -> None:
    """The clerks at the bus's keypads press call now and then (about every ``every`` seconds
    each): the same call as from their console, through the wire."""
    addresses = list(bus.keys)
    while True:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * every / max(len(addresses), 1))
        bus.press(rng.choice(addresses))


async def residents_swipe(reader: SamReader, rng: random.Random, every: float, stays: float = 3.0) -> None:
    """A resident lays a card on the reader now and then, and takes it away after a moment."""
    while True:
        await asyncio.sleep(rng.uniform(0.5, 1.5) * every)
        reader.card = card_of(make_resident(rng))
        await asyncio.sleep(stays)
        reader.card = None
