"""The hall's own serial protocol for LED strips and counter window displays (条屏, 窗口屏), sans I/O:
frames in, bytes out, and a decoder that takes bytes as they come and gives back frames.

A frame on the wire (docs/protocols/serial.md has it byte by byte, with worked examples)::

    7E | ADDR | LEN_HI LEN_LO | CMD | SEQ | PAYLOAD (LEN bytes) | CRC_LO CRC_HI

``7E`` starts every frame and appears nowhere else: every ``7E`` or ``7D`` after it is sent as
``7D`` followed by the byte XOR ``20`` (the byte stuffing of RFC 1662 §4.2, as PPP and HDLC do), so
a receiver that lost its place resynchronises at the next ``7E``. The CRC is CRC-16/MODBUS (poly
0x8005 reflected, init 0xFFFF, check value 0x4B37 for "123456789") over ADDR … PAYLOAD before
stuffing, sent low byte first as Modbus RTU sends it: vendors' serial firmware has it already.

The host sends commands (CMD below 0x80) and the device replies (CMD 0x80 and above) with the
SEQ of the command it answers; one decoder reads both, so a simulated device and the tests use the
same code as the host.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Final

from devices.protocol import BadMessage
from devices.wire_log import BAD_CHECKSUM, MALFORMED, OVERSIZED, TRUNCATED, WireLog, shown

SOF: Final = 0x7E
ESC: Final = 0x7D
_FLIP: Final = 0x20
BROADCAST: Final = 0xFF  # every device on the line acts; none replies
MAX_PAYLOAD: Final = 512
ALL_AREAS: Final = 0xFF
_HEAD: Final = 5  # ADDR, LEN (2), CMD, SEQ
# Serial settings and timing a host and a device agree on (docs/protocols/serial.md, "Timing").
BAUD: Final = 9600
POLL_INTERVAL: Final = 5.0
REPLY_TIMEOUT: Final = 0.3
MISSED_POLLS_OFFLINE: Final = 3


def crc16_modbus(data: bytes | bytearray) -> int:
    """CRC-16/MODBUS: poly 0x8005 reflected (0xA001), init 0xFFFF, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def _entry(index: int) -> int:
    crc = index
    for _ in range(8):
        crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


_TABLE: Final = tuple(_entry(i) for i in range(256))


class Command(IntEnum):
    SHOW_TEXT = 0x01
    SHOW_TICKET = 0x02
    BRIGHTNESS = 0x03
    CLEAR = 0x04
    TEST_PATTERN = 0x05
    POLL = 0x06
    ACK = 0x80
    NAK = 0x81
    STATUS = 0x86


class Encoding(IntEnum):
    GB2312 = 0x00
    GB18030 = 0x01
    UTF8 = 0x02

    @property
    def codec(self) -> str:
        return ("gb2312", "gb18030", "utf-8")[self]


class Colour(IntEnum):
    """Bit 0 red, bit 1 green, bit 2 blue: a one-colour strip shows any of them in its colour."""

    RED = 1
    GREEN = 2
    YELLOW = 3
    BLUE = 4
    MAGENTA = 5
    CYAN = 6
    WHITE = 7


class Mode(IntEnum):
    STATIC = 0
    SCROLL = 1  # right to left, as halls' strips run
    FLASH = 2


class Pattern(IntEnum):
    ALL_ON = 0
    STRIPES = 1
    COLOURS = 2  # each colour in turn over the whole panel
    ALL_OFF = 3


class NakReason(IntEnum):
    UNKNOWN_COMMAND = 1
    BAD_PAYLOAD = 2
    ENCODING = 3  # the text's encoding is not one the device has fonts for
    TOO_LONG = 4
    BUSY = 5
    FAULT = 6


class StatusFlag(IntFlag):
    NONE = 0
    PANEL_FAULT = 1
    OVERHEAT = 2
    RESTARTED = 4  # from power-on until the host sends more than polls: it shows its content again


def _need(ok: bool, reason: str, detail: str) -> None:
    if not ok:
        raise BadMessage(reason, detail)


def _area(area: int, allow_all: bool = False) -> None:
    _need(0 <= area <= 15 or (allow_all and area == ALL_AREAS), "bad_area", f"area {area} is not 0 to 15")


@dataclass(frozen=True)
class ShowText:
    text: str
    area: int = 0
    encoding: Encoding = Encoding.GB18030
    colour: Colour = Colour.RED
    mode: Mode = Mode.STATIC

    def __post_init__(self) -> None:
        _area(self.area)
        _need(bool(self.text) and "\x00" not in self.text, "bad_text", "text is empty or holds NUL")
        try:
            size = len(self.text.encode(Encoding(self.encoding).codec))
        except UnicodeEncodeError:
            raise BadMessage("bad_text", f"text cannot be written in {self.encoding.name}") from None
        _need(size <= MAX_PAYLOAD - 4, "bad_text", f"text of {size} bytes is longer than {MAX_PAYLOAD - 4}")

    def summary(self) -> str:
        how = f"area {self.area}, {self.encoding.name}, {self.colour.name.lower()}, {self.mode.name.lower()}"
        return f"show text {self.text!r} ({how})"


@dataclass(frozen=True)
class ShowTicket:
    """A call: the device draws "A023 → 5号窗口" in its own font and layout."""

    ticket: str
    counter: int
    area: int = 0
    colour: Colour = Colour.RED

    def __post_init__(self) -> None:
        _area(self.area)
        good = 1 <= len(self.ticket) <= 8 and self.ticket.isascii() and self.ticket.isalnum()
        _need(good and self.ticket == self.ticket.upper(), "bad_ticket", "ticket is not 1 to 8 letters or digits")
        _need(1 <= self.counter <= 9999, "bad_counter", f"counter {self.counter} is not 1 to 9999")

    def summary(self) -> str:
        return f"show ticket {self.ticket} → counter {self.counter} (area {self.area}, {self.colour.name.lower()})"


@dataclass(frozen=True)
class Brightness:
    percent: int

    def __post_init__(self) -> None:
        _need(0 <= self.percent <= 100, "bad_brightness", f"brightness {self.percent} is not 0 to 100")

    def summary(self) -> str:
        return f"brightness {self.percent}%"


@dataclass(frozen=True)
class Clear:
    area: int = ALL_AREAS

    def __post_init__(self) -> None:
        _area(self.area, allow_all=True)

    def summary(self) -> str:
        return "clear all areas" if self.area == ALL_AREAS else f"clear area {self.area}"


@dataclass(frozen=True)
class ShowPattern:
    pattern: Pattern = Pattern.ALL_ON

    def summary(self) -> str:
        return f"test pattern {self.pattern.name.lower()}"


@dataclass(frozen=True)
class Poll:
    def summary(self) -> str:
        return "poll"


@dataclass(frozen=True)
class Ack:
    command: int  # the command acknowledged

    def __post_init__(self) -> None:
        _need(0 <= self.command <= 0x7F, "bad_command", f"{self.command:#x} is no command a device answers")

    def summary(self) -> str:
        return f"ack {_name(self.command)}"


@dataclass(frozen=True)
class Nak:
    command: int  # the command refused, also one the device does not know
    reason: NakReason

    def __post_init__(self) -> None:
        _need(0 <= self.command <= 0x7F, "bad_command", f"{self.command:#x} is no command a device answers")

    def summary(self) -> str:
        return f"nak {_name(self.command)}: {self.reason.name.lower()}"


@dataclass(frozen=True)
class Status:
    """A device's answer to a poll; a device that gives none is not there."""

    flags: StatusFlag = StatusFlag.NONE
    brightness: int = 100
    temperature: int = 25  # °C, signed byte
    firmware: str = ""

    def __post_init__(self) -> None:
        _need(0 <= self.brightness <= 100, "bad_brightness", f"brightness {self.brightness} is not 0 to 100")
        _need(-128 <= self.temperature <= 127, "bad_temperature", f"temperature {self.temperature} is out of range")
        good = len(self.firmware) <= 16 and self.firmware.isascii() and self.firmware.isprintable()
        _need(good, "bad_firmware", "firmware is not up to 16 printable ASCII characters")

    def summary(self) -> str:
        flags = ",".join(f.name.lower() for f in StatusFlag if f and f in self.flags and f.name) or "ok"
        return f"status {flags}, brightness {self.brightness}%, {self.temperature} °C, firmware {self.firmware!r}"


Message = ShowText | ShowTicket | Brightness | Clear | ShowPattern | Poll | Ack | Nak | Status
_COMMANDS: Final[dict[type[Message], Command]] = {
    ShowText: Command.SHOW_TEXT,
    ShowTicket: Command.SHOW_TICKET,
    Brightness: Command.BRIGHTNESS,
    Clear: Command.CLEAR,
    ShowPattern: Command.TEST_PATTERN,
    Poll: Command.POLL,
    Ack: Command.ACK,
    Nak: Command.NAK,
    Status: Command.STATUS,
}


def _name(command: int) -> str:
    return Command(command).name.lower() if command in Command._value2member_map_ else f"{command:#04x}"


@dataclass(frozen=True)
class LedFrame:
    address: int
    seq: int
    message: Message

    def __post_init__(self) -> None:
        _need(0 <= self.seq <= 0xFF, "bad_seq", f"sequence {self.seq} is not one byte")
        _need(0x01 <= self.address <= 0xFF, "bad_address", f"address {self.address} is not 1 to 255")
        if self.address == BROADCAST:
            _need(not self.answered, "bad_address", "a reply or a poll names one device, not all")

    @property
    def from_device(self) -> bool:
        return _COMMANDS[type(self.message)] >= 0x80

    @property
    def answered(self) -> bool:
        """A reply, or a poll: each names one device (a broadcast poll would make every device talk at once)."""
        return self.from_device or isinstance(self.message, Poll)

    def summary(self) -> str:
        whom = "all" if self.address == BROADCAST else f"{self.address:02x}"
        return f"{'from' if self.from_device else 'to'} {whom} seq {self.seq}: {self.message.summary()}"


def _payload(message: Message) -> bytes:
    match message:
        case ShowText():
            head = bytes([message.area, message.encoding, message.colour, message.mode])
            return head + message.text.encode(Encoding(message.encoding).codec)
        case ShowTicket():
            return bytes([message.area, message.colour]) + message.counter.to_bytes(2, "big") + message.ticket.encode()
        case Brightness():
            return bytes([message.percent])
        case Clear():
            return bytes([message.area])
        case ShowPattern():
            return bytes([message.pattern])
        case Poll():
            return b""
        case Ack():
            return bytes([message.command])
        case Nak():
            return bytes([message.command, message.reason])
        case Status():
            return bytes([message.flags, message.brightness, message.temperature & 0xFF]) + message.firmware.encode()


def _fixed(payload: bytes, size: int) -> bytes:
    _need(len(payload) == size, "bad_payload", f"payload of {len(payload)} bytes, not {size}")
    return payload


def _message(command: int, payload: bytes) -> Message:
    """The message a command byte and its payload carry, or ``BadMessage``."""
    try:
        match command:
            case Command.SHOW_TEXT:
                _need(len(payload) > 4, "bad_payload", "show text without text")
                encoding = Encoding(payload[1])
                text = payload[4:].decode(encoding.codec)
                return ShowText(text, payload[0], encoding, Colour(payload[2]), Mode(payload[3]))
            case Command.SHOW_TICKET:
                _need(len(payload) > 4, "bad_payload", "show ticket without a ticket")
                ticket = payload[4:].decode("ascii")
                return ShowTicket(ticket, int.from_bytes(payload[2:4], "big"), payload[0], Colour(payload[1]))
            case Command.BRIGHTNESS:
                return Brightness(_fixed(payload, 1)[0])
            case Command.CLEAR:
                return Clear(_fixed(payload, 1)[0])
            case Command.TEST_PATTERN:
                return ShowPattern(Pattern(_fixed(payload, 1)[0]))
            case Command.POLL:
                _fixed(payload, 0)
                return Poll()
            case Command.ACK:
                return Ack(_fixed(payload, 1)[0])
            case Command.NAK:
                payload = _fixed(payload, 2)
                return Nak(payload[0], NakReason(payload[1]))
            case Command.STATUS:
                _need(len(payload) >= 3, "bad_payload", "status shorter than 3 bytes")
                temperature = payload[2] - 256 if payload[2] > 127 else payload[2]
                return Status(StatusFlag(payload[0] & 0x07), payload[1], temperature, payload[3:].decode("ascii"))
    except BadMessage:
        raise
    except ValueError as exc:  # an enum value or a text the frame cannot hold
        raise BadMessage("bad_payload", str(exc)) from None
    raise BadMessage("unknown_command", f"command {command:#04x}")


def encode(frame: LedFrame) -> bytes:
    """The frame as it goes on the wire: start byte, then the stuffed body and its CRC."""
    payload = _payload(frame.message)
    body = bytes([frame.address]) + len(payload).to_bytes(2, "big")
    body += bytes([_COMMANDS[type(frame.message)], frame.seq]) + payload
    body += crc16_modbus(body).to_bytes(2, "little")
    # ESC first, so the escapes added for SOF are not escaped again.
    return bytes([SOF]) + body.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e")


class LedDecoder:
    """Frames from a byte stream in either direction, however it is cut into reads.

    Bytes before a start byte are dropped and counted; a start byte inside a frame ends it as
    truncated and begins the next; a length over ``MAX_PAYLOAD`` ends it as oversized at once, so
    the decoder holds at most one frame's bytes. Nothing raises: every rejection is counted in
    ``counters`` and shown in ``recent``."""

    def __init__(self, recent: int = 16) -> None:
        self.log = WireLog(recent)
        self._raw = bytearray()  # as it came, for the console
        self._body = bytearray()  # unstuffed
        self._open = False
        self._escaped = False

    @property
    def pending(self) -> int:
        """Bytes held of a frame not yet complete; never more than a whole stuffed frame."""
        return len(self._raw)

    def feed(self, data: bytes) -> list[LedFrame]:
        frames: list[LedFrame] = []
        for byte in data:
            if byte == SOF:
                if len(self._raw) > 1:
                    self._reject(TRUNCATED, f"{len(self._body)} bytes, then a new start")
                self._close()
                self._open = True
                self._raw.append(SOF)
                continue
            if not self._open:
                self.log.dropped(1)
                continue
            self._raw.append(byte)
            if self._escaped:
                self._escaped = False
                byte ^= _FLIP
            elif byte == ESC:
                self._escaped = True
                continue
            self._body.append(byte)
            frame = self._advance()
            if frame is not None:
                frames.append(frame)
        return frames

    def gap(self) -> list[LedFrame]:
        """The line went quiet with a frame incomplete (the caller's reply timeout): it was cut
        short, and is counted so. (No frame can hide inside it: the next starts at the next 7E.)"""
        if len(self._raw) > 1:
            self._reject(TRUNCATED, f"{len(self._body)} bytes, then the line went quiet")
        self._close()
        return []

    def _advance(self) -> LedFrame | None:
        body = self._body
        if len(body) < 3:
            return None
        length = int.from_bytes(body[1:3], "big")
        if length > MAX_PAYLOAD:
            self._reject(OVERSIZED, f"length {length}, at most {MAX_PAYLOAD}")
            return None
        if len(body) < _HEAD + length + 2:
            return None
        expected, got = crc16_modbus(body[:-2]), int.from_bytes(body[-2:], "little")
        if got != expected:
            self._reject(BAD_CHECKSUM, f"CRC {got:04x}, computed {expected:04x}")
            return None
        try:
            frame = LedFrame(body[0], body[4], _message(body[3], bytes(body[_HEAD:-2])))
        except BadMessage as exc:
            self._reject(MALFORMED, str(exc))
            return None
        self.log.decoded(shown(self._raw), frame.summary())
        self._close()
        return frame

    def _reject(self, reason: str, detail: str) -> None:
        self.log.rejected(shown(self._raw), reason, detail)
        self._close()

    def _close(self) -> None:
        self._raw.clear()
        self._body.clear()
        self._open = self._escaped = False
