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
from typing import Final

from devices.led_messages import (
    ALL_AREAS,
    COMMANDS,
    MAX_PAYLOAD,
    Ack,
    Brightness,
    Clear,
    Colour,
    Command,
    Encoding,
    Message,
    Mode,
    Nak,
    NakReason,
    Pattern,
    Poll,
    ShowPattern,
    ShowText,
    ShowTicket,
    Status,
    StatusFlag,
    message_of,
    payload_of,
)
from devices.protocol import BadMessage
from devices.wire_log import BAD_CHECKSUM, MALFORMED, OVERSIZED, TRUNCATED, WireLog, shown

__all__ = [
    "ALL_AREAS",
    "BAUD",
    "BROADCAST",
    "ESC",
    "MAX_PAYLOAD",
    "MISSED_POLLS_OFFLINE",
    "POLL_INTERVAL",
    "REPLY_TIMEOUT",
    "SOF",
    "Ack",
    "Brightness",
    "Clear",
    "Colour",
    "Command",
    "Encoding",
    "LedDecoder",
    "LedFrame",
    "Message",
    "Mode",
    "Nak",
    "NakReason",
    "Pattern",
    "Poll",
    "ShowPattern",
    "ShowText",
    "ShowTicket",
    "Status",
    "StatusFlag",
    "crc16_modbus",
    "encode",
]

SOF: Final = 0x7E
ESC: Final = 0x7D
_FLIP: Final = 0x20
BROADCAST: Final = 0xFF  # every device on the line acts; none replies
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


@dataclass(frozen=True)
class LedFrame:
    address: int
    seq: int
    message: Message

    def __post_init__(self) -> None:
        if not 0 <= self.seq <= 0xFF:
            raise BadMessage("bad_seq", f"sequence {self.seq} is not one byte")
        if not 0x01 <= self.address <= 0xFF:
            raise BadMessage("bad_address", f"address {self.address} is not 1 to 255")
        if self.address == BROADCAST and self.answered:
            raise BadMessage("bad_address", "a reply or a poll names one device, not all")

    @property
    def from_device(self) -> bool:
        return COMMANDS[type(self.message)] >= 0x80

    @property
    def answered(self) -> bool:
        """A reply, or a poll: each names one device (a broadcast poll would make every device talk at once)."""
        return self.from_device or isinstance(self.message, Poll)

    def summary(self) -> str:
        whom = "all" if self.address == BROADCAST else f"{self.address:02x}"
        return f"{'from' if self.from_device else 'to'} {whom} seq {self.seq}: {self.message.summary()}"


def encode(frame: LedFrame) -> bytes:
    """The frame as it goes on the wire: start byte, then the stuffed body and its CRC."""
    data = payload_of(frame.message)
    body = bytes([frame.address]) + len(data).to_bytes(2, "big")
    body += bytes([COMMANDS[type(frame.message)], frame.seq]) + data
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
            frame = LedFrame(body[0], body[4], message_of(body[3], bytes(body[_HEAD:-2])))
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
