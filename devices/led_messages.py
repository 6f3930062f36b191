"""The messages of the hall's display protocol (``devices.led_protocol``): what each command and
reply carries, as frozen values that check themselves, and their payload bytes both ways.

docs/protocols/serial.md, "Commands" and "Replies", has every payload byte by byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Final

from devices.protocol import BadMessage

MAX_PAYLOAD: Final = 512
ALL_AREAS: Final = 0xFF


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
COMMANDS: Final[dict[type[Message], Command]] = {
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


def payload_of(message: Message) -> bytes:
    """The payload bytes of ``message``."""
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


def message_of(command: int, payload: bytes) -> Message:
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
