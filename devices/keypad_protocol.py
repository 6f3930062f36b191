"""The RS-485 bus of counter keypads (呼叫器) and four-key raters (评价器), sans I/O.

A frame (docs/protocols/serial.md has it byte by byte)::

    FF | 68 | L | L | 68 | ADDR | FUNC | DATA … | CS | 16

This is the variable-length frame of IEC 60870-5-2 (FT 1.2), as DL/T 645 meters use it too,
with the wake-up byte ``FF`` before it: ``L`` counts ADDR, FUNC and DATA (so L ≥ 2) and is sent
twice; ``CS`` is the sum of the same bytes, ADDR through the last DATA byte, modulo 256; ``16``
ends the frame. 9600 baud, 8 data bits, no parity, 1 stop bit. The host polls each address, or a
device speaks unasked; either way the host acknowledges a key frame by sending it back unchanged.

The keys are named with the words of ``devices.kinds.KEYPAD_KEYS`` where they mean the same, so a
driver maps both to the same queue commands. The rater's four keys map to GB/T 39734-2020 levels
(``queueing.rating_records.Level``): a four-key pad has no 非常不满意, and its worst key, 不满意, is
already unsatisfied and opens a work order.

The frame has no stuffing: ``68`` may occur in DATA, so a decoder that rejects a frame looks for
the next start one byte further on, in bytes it kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

from devices.protocol import BadMessage
from devices.wire_log import BAD_CHECKSUM, BAD_LENGTH, MALFORMED, OVERSIZED, TRUNCATED, SlicedDecoder, shown
from queueing.rating_records import Level

WAKE: Final = 0xFF  # sent before a frame; a receiver skips it without counting it as noise
START: Final = 0x68
END: Final = 0x16
MAX_DATA: Final = 16
MAX_L: Final = 2 + MAX_DATA
BAUD: Final = 9600
POLL_INTERVAL: Final = 0.2  # per address: a key press shows within a fraction of a second
REPLY_TIMEOUT: Final = 0.1
MISSED_POLLS_OFFLINE: Final = 10


class Key(StrEnum):
    """A keypad's keys: the words of ``devices.kinds.KEYPAD_KEYS``, and two of the bus's own."""

    CALL = "call"  # 呼叫
    RECALL = "recall"  # 重呼
    START = "start"  # 开始办理
    FINISH = "finish"  # 办结
    NO_SHOW = "no_show"  # 过号
    PAUSE = "pause"  # 暂停
    RESUME = "resume"  # 恢复
    EVALUATE = "evaluate"  # 请评价: the rater asks the resident to rate
    TRANSFER = "transfer"  # 转移, to the counter named in DATA


class Function(IntEnum):
    CALL = 0x01
    RECALL = 0x02
    EVALUATE = 0x03
    PAUSE = 0x04
    RESUME = 0x05
    TRANSFER = 0x06
    START = 0x07
    FINISH = 0x08
    NO_SHOW = 0x09
    RATE = 0x10
    POLL = 0x20
    IDLE = 0x21
    DISPLAY = 0x30


_KEYS: Final = {Function[key.name]: key for key in Key}
_FUNCTIONS: Final = {key: function for function, key in _KEYS.items()}
# Rater keys, left to right as the pads print them.
RATER_LEVELS: Final = (Level.VERY_SATISFIED, Level.SATISFIED, Level.BASICALLY_SATISFIED, Level.DISSATISFIED)


def _need(ok: bool, reason: str, detail: str) -> None:
    if not ok:
        raise BadMessage(reason, detail)


def _address(address: int) -> None:
    _need(0x01 <= address <= 0xFE, "bad_address", f"address {address} is not 1 to 254")


@dataclass(frozen=True)
class KeyPress:
    address: int
    key: Key
    target: int | None = None  # the counter a transfer goes to

    def __post_init__(self) -> None:
        _address(self.address)
        if self.key is Key.TRANSFER:
            good = self.target is not None and 1 <= self.target <= 9999
            _need(good, "bad_target", "a transfer names a counter 1 to 9999")
        else:
            _need(self.target is None, "bad_target", f"{self.key} names no counter")

    def summary(self) -> str:
        to = f" to counter {self.target}" if self.target is not None else ""
        return f"{self.address:02x}: key {self.key}{to}"


@dataclass(frozen=True)
class Rating:
    address: int
    key: int  # 0 to 3, left to right

    def __post_init__(self) -> None:
        _address(self.address)
        _need(0 <= self.key < len(RATER_LEVELS), "bad_key", f"rater key {self.key} is not 0 to 3")

    @property
    def level(self) -> Level:
        return RATER_LEVELS[self.key]

    def summary(self) -> str:
        return f"{self.address:02x}: rate key {self.key} = {self.level.label} ({int(self.level)})"


@dataclass(frozen=True)
class Poll:
    """The host asks one address for its key presses; the device answers with one, or ``Idle``."""

    address: int

    def __post_init__(self) -> None:
        _address(self.address)

    def summary(self) -> str:
        return f"{self.address:02x}: poll"


@dataclass(frozen=True)
class Idle:
    address: int

    def __post_init__(self) -> None:
        _address(self.address)

    def summary(self) -> str:
        return f"{self.address:02x}: idle"


@dataclass(frozen=True)
class Display:
    """The host shows the ticket in service and how many wait on the keypad's own display."""

    address: int
    ticket: str
    waiting: int

    def __post_init__(self) -> None:
        _address(self.address)
        good = len(self.ticket) <= 8 and self.ticket.isascii() and (self.ticket.isalnum() or not self.ticket)
        _need(good, "bad_ticket", "ticket is not up to 8 letters or digits")
        _need(0 <= self.waiting <= 255, "bad_waiting", f"waiting {self.waiting} is not 0 to 255")

    def summary(self) -> str:
        return f"{self.address:02x}: display {self.ticket or '-'}, {self.waiting} waiting"


KeypadFrame = KeyPress | Rating | Poll | Idle | Display


def _function_and_data(frame: KeypadFrame) -> tuple[int, bytes]:
    match frame:
        case KeyPress(key=Key.TRANSFER, target=int(target)):
            return Function.TRANSFER, target.to_bytes(2, "big")
        case KeyPress():
            return _FUNCTIONS[frame.key], b""
        case Rating():
            return Function.RATE, bytes([frame.key])
        case Poll():
            return Function.POLL, b""
        case Idle():
            return Function.IDLE, b""
        case Display():
            return Function.DISPLAY, bytes([frame.waiting]) + frame.ticket.encode()
    raise AssertionError(frame)


def encode(frame: KeypadFrame) -> bytes:
    """The frame as it goes on the bus, wake-up byte first. The host's acknowledgement of a key
    frame is these same bytes."""
    function, data = _function_and_data(frame)
    body = bytes([frame.address, function]) + data
    size = len(body)
    return bytes([WAKE, START, size, size, START]) + body + bytes([sum(body) & 0xFF, END])


def _frame(address: int, function: int, data: bytes) -> KeypadFrame:
    try:
        kind = Function(function)
    except ValueError:
        raise BadMessage("unknown_function", f"function {function:#04x}") from None
    if kind is Function.TRANSFER:
        _need(len(data) == 2, "bad_data", "a transfer carries its counter in 2 bytes")
        return KeyPress(address, Key.TRANSFER, int.from_bytes(data, "big"))
    if kind is Function.DISPLAY:
        _need(len(data) >= 1, "bad_data", "a display carries the number waiting")
        try:
            return Display(address, data[1:].decode("ascii"), data[0])
        except UnicodeDecodeError:
            raise BadMessage("bad_ticket", "ticket is not ASCII") from None
    if kind is Function.RATE:
        _need(len(data) == 1, "bad_data", "a rating carries its key in 1 byte")
        return Rating(address, data[0])
    _need(not data, "bad_data", f"{kind.name.lower()} carries no data")
    if kind is Function.POLL:
        return Poll(address)
    if kind is Function.IDLE:
        return Idle(address)
    return KeyPress(address, _KEYS[kind])


def acknowledgement(frame: KeyPress | Rating) -> bytes:
    """What the host sends back for a key frame: the frame itself. A device that hears no echo
    within ``REPLY_TIMEOUT`` sends the key again at the next poll (or at once, unpolled)."""
    return encode(frame)


class KeypadDecoder(SlicedDecoder[KeypadFrame]):
    """Frames from the bus, whichever way they go, however the reads cut them.

    Bytes before a start are dropped and counted (``FF`` wake-up bytes are skipped uncounted); a
    frame whose length bytes differ, exceed ``MAX_L`` or do not lead to the end byte, or whose
    sum is wrong, is counted and the search goes on one byte after its start. The decoder keeps at
    most one frame's bytes and one read's worth more. Nothing raises."""

    _SLICE = 64

    def gap(self) -> list[KeypadFrame]:
        """The line went quiet with a frame incomplete (the caller's reply timeout): it was cut
        short, and is counted so; the bytes after its start are searched again at once."""
        frames: list[KeypadFrame] = []
        while self._buf and self._buf[0] == START:
            self._reject(self._buf, TRUNCATED, f"{len(self._buf)} bytes, then the line went quiet")
            self._scan(frames)
        self._skip(len(self._buf))
        return frames

    def _scan(self, frames: list[KeypadFrame]) -> None:
        buf = self._buf
        while True:
            start = buf.find(START)
            self._skip(len(buf) if start < 0 else start)
            if len(buf) < 4:
                return
            size, again = buf[1], buf[2]
            if buf[3] != START:  # a 68 in the noise, not a header
                self._skip(1)
                continue
            if size != again or size < 2:
                self._reject(buf[:4], BAD_LENGTH, f"length bytes {size:02x} {again:02x}")
                continue
            if size > MAX_L:
                self._reject(buf[:4], OVERSIZED, f"length {size}, at most {MAX_L}")
                continue
            total = 4 + size + 2
            if len(buf) < total:
                return
            raw = bytes(buf[:total])
            if raw[-1] != END:
                self._reject(raw, BAD_LENGTH, f"byte {total - 1} is {raw[-1]:02x}, not the end byte 16")
                continue
            body = raw[4:-2]
            if sum(body) & 0xFF != raw[-2]:
                self._reject(raw, BAD_CHECKSUM, f"sum {raw[-2]:02x}, computed {sum(body) & 0xFF:02x}")
                continue
            try:
                frame = _frame(body[0], body[1], body[2:])
            except BadMessage as exc:
                self._reject(raw, MALFORMED, str(exc))
                continue
            self.log.decoded(shown(raw), frame.summary())
            del buf[:total]
            frames.append(frame)

    def _reject(self, raw: bytes | bytearray, reason: str, detail: str) -> None:
        self.log.rejected(shown(raw), reason, detail)
        del self._buf[:1]  # its start byte, counted with the frame; the rest is searched again

    def _skip(self, count: int) -> None:
        self.log.dropped(count - self._buf.count(WAKE, 0, count))
        del self._buf[:count]
