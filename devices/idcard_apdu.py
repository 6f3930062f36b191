"""The hall's PC/SC card layout for ID card data, sans I/O: the APDUs a reader sends, the card's
answers, and a card applet in plain Python that answers them (for test cards and simulators).

A reader whose driver gives the ID card's base data over PC/SC, or a test card, presents one
application (docs/protocols/idcard.md)::

    SELECT       00 A4 04 0C 08 F0 48 41 4C 4C 49 44 01      → 90 00, or 6A 82 (no such application)
    READ BINARY  00 B0 P1 P2 Le                             → Le bytes of base data, 90 00

READ BINARY reads the 256 bytes of base data (``devices.idcard_data``) at offset P1 P2 (P1 below
0x80: the selected file, ISO/IEC 7816-4 §11.2.3) in chunks of at most 0xFF bytes; a read past the
end returns what there is with 62 82. Short APDUs only (ISO/IEC 7816-3 §12.1, cases 1 to 4). The AID
starts with F: a proprietary one, registered with nobody (ISO/IEC 7816-5 §5.2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from devices.idcard_data import SIZE
from devices.protocol import BadMessage

AID: Final = bytes.fromhex("F0 48 41 4C 4C 49 44 01")  # F0 "HALLID" 01
CLA: Final = 0x00
INS_SELECT: Final = 0xA4
INS_READ_BINARY: Final = 0xB0
SELECT_BY_NAME: Final = 0x04
NO_RESPONSE_DATA: Final = 0x0C  # P2 of SELECT: return no FCI
MAX_CHUNK: Final = 0xFF
CHUNK: Final = 0x80  # two reads for the 256 bytes


class Sw(IntEnum):
    OK = 0x9000
    END_OF_FILE = 0x6282  # fewer bytes than Le: the end was reached
    WRONG_LENGTH = 0x6700
    NOT_SELECTED = 0x6985  # conditions of use not satisfied: READ BINARY before SELECT
    NOT_FOUND = 0x6A82  # no application with this AID
    WRONG_OFFSET = 0x6B00  # P1 P2 beyond the end
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00


def _need(ok: bool, reason: str, detail: str) -> None:
    if not ok:
        raise BadMessage(reason, detail)


@dataclass(frozen=True)
class Apdu:
    """A command APDU. ``le`` None: no response data expected; 1 to 256 (0x00 on the wire is 256)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def __post_init__(self) -> None:
        _need(all(0 <= b <= 0xFF for b in (self.cla, self.ins, self.p1, self.p2)), "bad_apdu", "a header byte")
        _need(len(self.data) <= 255, "bad_apdu", "more than 255 data bytes needs an extended APDU")
        _need(self.le is None or 1 <= self.le <= 256, "bad_apdu", f"Le {self.le} is not 1 to 256")

    def to_bytes(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out

    @classmethod
    def parse(cls, apdu: bytes) -> Apdu:
        """A short command APDU, case 1 to 4; ``BadMessage`` for anything else."""
        _need(len(apdu) >= 4, "bad_apdu", f"{len(apdu)} bytes is shorter than a header")
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        lc = body[0]
        _need(lc > 0 and len(body) in (1 + lc, 2 + lc), "bad_apdu", f"Lc {lc} and {len(body) - 1} bytes after it")
        le = (body[-1] or 256) if len(body) == 2 + lc else None
        return cls(cla, ins, p1, p2, data=bytes(body[1 : 1 + lc]), le=le)


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    def __post_init__(self) -> None:
        _need(0 <= self.sw <= 0xFFFF, "bad_response", f"status word {self.sw:#x}")

    @property
    def ok(self) -> bool:
        return self.sw == Sw.OK

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, response: bytes) -> Response:
        _need(len(response) >= 2, "bad_response", "no status word")
        return cls(bytes(response[:-2]), int.from_bytes(response[-2:], "big"))


def select() -> Apdu:
    return Apdu(CLA, INS_SELECT, SELECT_BY_NAME, NO_RESPONSE_DATA, AID)


def read_binary(offset: int, length: int) -> Apdu:
    _need(0 <= offset <= 0x7FFF, "bad_offset", f"offset {offset} is not 0 to 7FFF")
    _need(1 <= length <= MAX_CHUNK, "bad_length", f"a chunk of {length} bytes is not 1 to {MAX_CHUNK}")
    return Apdu(CLA, INS_READ_BINARY, offset >> 8, offset & 0xFF, le=length)


def read_plan(chunk: int = CHUNK) -> list[Apdu]:
    """SELECT, then the READ BINARY commands that read the whole base data in ``chunk``s."""
    return [select(), *(read_binary(at, min(chunk, SIZE - at)) for at in range(0, SIZE, chunk))]


def base_data(responses: Sequence[Response]) -> bytes:
    """The 256 bytes of base data from the answers to ``read_plan``, in order, or ``BadMessage``
    naming the status word of the first that failed."""
    for response in responses:
        _need(response.ok, "card_refused", f"status word {response.sw:04X}")
    text = b"".join(r.data for r in responses[1:])  # the first answers SELECT, with no data
    _need(len(text) == SIZE, "bad_length", f"{len(text)} bytes of base data, not {SIZE}")
    return text


class CardApplet:
    """The card's side: a selected flag and 256 bytes, answering APDUs as bytes (pure; a
    simulated reader or a virtual card in pcscd calls ``respond`` with each command)."""

    def __init__(self, text: bytes) -> None:
        _need(len(text) == SIZE, "bad_length", f"base data of {len(text)} bytes, not {SIZE}")
        self._text = text
        self.selected = False

    def respond(self, command: bytes) -> bytes:
        return self._answer(command).to_bytes()

    def _answer(self, command: bytes) -> Response:
        try:
            apdu = Apdu.parse(command)
        except BadMessage:
            return Response(b"", Sw.WRONG_LENGTH)
        if apdu.cla != CLA:
            return Response(b"", Sw.CLA_NOT_SUPPORTED)
        if apdu.ins == INS_SELECT:
            self.selected = apdu.p1 == SELECT_BY_NAME and apdu.data == AID
            return Response(b"", Sw.OK if self.selected else Sw.NOT_FOUND)
        if apdu.ins != INS_READ_BINARY:
            return Response(b"", Sw.INS_NOT_SUPPORTED)
        if not self.selected:
            return Response(b"", Sw.NOT_SELECTED)
        if apdu.le is None or apdu.data:
            return Response(b"", Sw.WRONG_LENGTH)
        offset = apdu.p1 << 8 | apdu.p2
        if apdu.p1 & 0x80 or offset >= SIZE:  # P1 bit 8 would name a file by SFI: this card has one file
            return Response(b"", Sw.WRONG_OFFSET)
        wanted = apdu.le
        chunk = self._text[offset : offset + wanted]
        return Response(chunk, Sw.OK if len(chunk) == wanted else Sw.END_OF_FILE)
