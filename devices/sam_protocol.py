"""The serial protocol of the security module (SAM) in second-generation ID card readers
(二代证阅读器), sans I/O: requests and replies as values, bytes in and out.

As the common SAM documentation gives it (docs/protocols/idcard.md has examples)::

    request  AA AA AA 96 69 | LEN_HI LEN_LO | CMD PARA | DATA … | XOR
    reply    AA AA AA 96 69 | LEN_HI LEN_LO | SW1 SW2 SW3 | DATA … | XOR

``LEN`` (big-endian) counts the bytes after it, from CMD or SW1 through XOR; ``XOR`` is the
exclusive or of every byte from LEN_HI through the last DATA byte. ``SW3`` says how it went (0x90
done, 0x9F card found; ``Sw3`` names the others). Read base data (30 01) answers with the text's
length (2 bytes), the photo's (2), 256 bytes of text (``devices.idcard_data``) and the photo.

The photo is dropped as soon as its frame's XOR is checked (居民身份证法 §13 binds whoever learns a
card's particulars while serving to keep them secret; hall keeps only what the service needs, and a
counter needs no photo): it never reaches a
frame, the console's log shows no more of any frame than its first 10 bytes, and the decoder
overwrites a frame's bytes in its buffer before it lets them go. Fingerprints, if a reader sends
them (30 10), go the same way.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from enum import IntEnum
from functools import reduce
from itertools import islice
from operator import xor
from typing import Final, TypeVar

from devices.idcard_data import SIZE, IdCardData, decode
from devices.protocol import BadMessage
from devices.wire_log import BAD_CHECKSUM, BAD_LENGTH, MALFORMED, OVERSIZED, TRUNCATED, SlicedDecoder, shown
from hall.kernel.errors import DomainError

PREAMBLE: Final = bytes.fromhex("AAAAAA9669")
# Base data with photo and two fingerprints is 2314; anything longer is not a SAM's.
MAX_LENGTH: Final = 0x0A00
MAX_REPLY_DATA: Final = 256  # a reply that is not base data carries no more (SAM id: 16)
BAUD: Final = 115200  # the SAM's own default; 9600 on some readers, set by their DIP switches
REPLY_TIMEOUT: Final = 1.0  # reading a card's base data takes the SAM up to about 0.8 s
_SHOWN: Final = 10  # preamble, LEN and CMD PARA or SW1 SW2 SW3: never the person
_HEAD: Final = len(PREAMBLE) + 2


class Command(IntEnum):
    """CMD and PARA as one number: 0x2001 is CMD 20, PARA 01."""

    RESET_SAM = 0x10FF
    SAM_STATUS = 0x11FF
    READ_SAM_ID = 0x12FF
    FIND_CARD = 0x2001  # 寻找证/卡
    SELECT_CARD = 0x2002  # 选取证/卡
    READ_BASE = 0x3001  # 读基本信息: text and photo
    READ_NEW_ADDRESS = 0x3003  # 读最新住址
    READ_BASE_FINGERPRINT = 0x3010  # text, photo and fingerprints; hall never asks for it


class Sw3(IntEnum):
    OK = 0x90  # 操作成功
    FOUND = 0x9F  # 寻找证/卡成功
    NO_CONTENT = 0x91  # 证/卡中此项无内容
    CHECKSUM_ERROR = 0x10  # 接收业务终端数据的校验和错
    LENGTH_ERROR = 0x11  # 接收业务终端数据的长度错
    COMMAND_ERROR = 0x21  # 接收业务终端的命令错误
    UNAUTHORISED = 0x23  # 越权操作
    UNKNOWN_ERROR = 0x24  # 无法识别的错误
    CARD_AUTH_FAILED = 0x31  # 证/卡认证机具失败
    READER_AUTH_FAILED = 0x32  # 机具认证证/卡失败
    VERIFY_FAILED = 0x33  # 信息验证错误
    UNKNOWN_CARD = 0x40  # 无法识别的卡类型
    READ_FAILED = 0x41  # 读证/卡操作失败
    RANDOM_FAILED = 0x47  # 取随机数失败
    SELF_TEST_FAILED = 0x60  # SAM 自检失败
    SAM_UNAUTHORISED = 0x66  # SAM 未经授权
    NO_CARD = 0x80  # 寻找证/卡失败
    SELECT_FAILED = 0x81  # 选取证/卡失败


def _status(sw1: int, sw2: int, sw3: int) -> str:
    name = Sw3(sw3).name.lower() if sw3 in Sw3._value2member_map_ else "unknown status"
    return f"{sw1:02x} {sw2:02x} {sw3:02x} {name}"


@dataclass(frozen=True)
class Request:
    command: Command
    data: bytes = b""

    def __post_init__(self) -> None:
        if len(self.data) > MAX_LENGTH - 3:
            raise BadMessage("bad_length", f"{len(self.data)} bytes of data is more than a frame holds")

    def summary(self) -> str:
        data = f", {len(self.data)} data bytes" if self.data else ""
        return f"request {self.command.name.lower()} ({self.command >> 8:02x} {self.command & 0xFF:02x}){data}"


@dataclass(frozen=True)
class Reply:
    """Any reply but base data. ``data`` is short (a SAM id, the zeros after a found card)."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if not all(0 <= sw <= 0xFF for sw in (self.sw1, self.sw2, self.sw3)):
            raise BadMessage("bad_status", "a status byte is not a byte")
        if len(self.data) > MAX_REPLY_DATA:
            raise BadMessage("unrecognised_data", f"{len(self.data)} bytes that are not base data")

    @property
    def ok(self) -> bool:
        return self.sw1 == self.sw2 == 0 and self.sw3 in (Sw3.OK, Sw3.FOUND)

    @property
    def status(self) -> Sw3 | None:
        return Sw3(self.sw3) if self.sw3 in Sw3._value2member_map_ else None

    def summary(self) -> str:
        data = f", {len(self.data)} data bytes" if self.data else ""
        return f"reply {_status(self.sw1, self.sw2, self.sw3)}{data}"


@dataclass(frozen=True)
class BaseData:
    """The answer to read base data, without its photo: the card's 256 bytes of text, and how
    long the photo (and fingerprints) were that were dropped."""

    text: bytes = field(repr=False)
    photo_length: int
    fingerprint_length: int = 0

    def __post_init__(self) -> None:
        if len(self.text) != SIZE:
            raise BadMessage("bad_text", f"base text of {len(self.text)} bytes, not {SIZE}")

    def card(self) -> IdCardData:
        """The card's fields, checked; ``Invalid`` or ``InvalidIdNumber`` when they are not sound."""
        return decode(self.text)

    def summary(self) -> str:
        try:
            who = ", ".join(self.card().masked().values())
        except DomainError as exc:
            who = f"card refused ({exc.code})"
        dropped = f"photo {self.photo_length} bytes dropped"
        if self.fingerprint_length:
            dropped += f", fingerprints {self.fingerprint_length} bytes dropped"
        return f"reply base data: {who}; {dropped}"


def _frame(body: bytes) -> bytes:
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([reduce(xor, length + body, 0)])


def encode(frame: Request | Reply) -> bytes:
    if isinstance(frame, Request):
        return _frame(frame.command.to_bytes(2, "big") + frame.data)
    return _frame(bytes([frame.sw1, frame.sw2, frame.sw3]) + frame.data)


def encode_base_data(text: bytes, photo: bytes, fingerprints: bytes | None = None) -> bytes:
    """A reader's answer to read base data (or, with ``fingerprints``, to 30 10), for simulated
    readers: the photo is given here and never held by a frame."""
    lengths = len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big")
    if fingerprints is not None:
        lengths += len(fingerprints).to_bytes(2, "big")
    return _frame(bytes([0, 0, Sw3.OK]) + lengths + text + photo + (fingerprints or b""))


def _number(buf: bytearray, at: int) -> int:
    return int.from_bytes(buf[at : at + 2], "big")


F = TypeVar("F", Request, Reply | BaseData)


class _Decoder(SlicedDecoder[F]):
    """Frames from a byte stream, however the reads cut it; nothing raises.

    Bytes before a preamble are dropped and counted; a LEN below the least a frame holds or above
    ``MAX_LENGTH`` is rejected at once, a bad XOR or content when the frame is whole, and the search
    goes on one byte after the rejected preamble, in the bytes kept (the frame may have been cut
    short by the next one). Every byte let go is overwritten first: a photo leaves no copy here."""

    _LEAST: int  # LEN of the shortest frame
    _SLICE = 256

    def gap(self) -> list[F]:
        """The line went quiet with a frame incomplete (the caller's reply timeout): that frame was
        cut short, and is counted so; the bytes after its start are searched again at once, rather
        than waiting for as many more bytes as its LEN announced."""
        frames: list[F] = []
        while self._buf.startswith(PREAMBLE):
            self._reject(len(self._buf), TRUNCATED, f"{len(self._buf)} bytes, then the line went quiet")
            self._scan(frames)
        self._let_go(len(self._buf), counted=True)
        return frames

    def _scan(self, frames: list[F]) -> None:
        buf = self._buf
        while True:
            at = buf.find(PREAMBLE)
            if at < 0:  # keep what may be the start of a preamble
                self._let_go(max(0, len(buf) - len(PREAMBLE) + 1), counted=True)
                return
            self._let_go(at, counted=True)
            if len(buf) < _HEAD:
                return
            length = _number(buf, len(PREAMBLE))
            if length > MAX_LENGTH:
                self._reject(_HEAD, OVERSIZED, f"LEN {length}, at most {MAX_LENGTH}")
                continue
            if length < self._LEAST:
                self._reject(_HEAD, BAD_LENGTH, f"LEN {length}, at least {self._LEAST}")
                continue
            total = _HEAD + length
            if len(buf) < total:
                return
            computed = reduce(xor, islice(buf, len(PREAMBLE), total - 1), 0)
            if computed != buf[total - 1]:
                self._reject(total, BAD_CHECKSUM, f"XOR {buf[total - 1]:02x}, computed {computed:02x}")
                continue
            try:
                frame = self._parse(buf, total)
            except BadMessage as exc:
                self._reject(total, MALFORMED, str(exc))
                continue
            self.log.decoded(self._shown(total), frame.summary())
            self._let_go(total, counted=False)
            frames.append(frame)

    @abstractmethod
    def _parse(self, buf: bytearray, total: int) -> F:
        """The frame of the ``total`` bytes at the start of ``buf``, whose XOR is right (a request or a
        reply, by the side this decoder reads); ``BadMessage`` when its content is not sound."""

    def _shown(self, total: int) -> str:
        return shown(self._buf[: min(total, _SHOWN)]) + (f" … (+{total - _SHOWN} bytes)" if total > _SHOWN else "")

    def _reject(self, total: int, reason: str, detail: str) -> None:
        self.log.rejected(self._shown(total), reason, detail)
        self._let_go(1, counted=False)

    def _let_go(self, count: int, *, counted: bool) -> None:
        if counted:
            self.log.dropped(count)
        self._buf[:count] = bytes(count)
        del self._buf[:count]


class RequestDecoder(_Decoder[Request]):
    """What a reader hears: the host's requests (for simulated readers and tests)."""

    _LEAST = 3  # CMD PARA XOR

    def _parse(self, buf: bytearray, total: int) -> Request:
        code = _number(buf, _HEAD)
        if code not in Command._value2member_map_:
            raise BadMessage("unknown_command", f"command {code >> 8:02x} {code & 0xFF:02x}")
        return Request(Command(code), bytes(buf[_HEAD + 2 : total - 1]))


class ReplyDecoder(_Decoder[Reply | BaseData]):
    """What the host hears: the reader's replies, base data without its photo."""

    _LEAST = 4  # SW1 SW2 SW3 XOR

    def _parse(self, buf: bytearray, total: int) -> Reply | BaseData:
        sw1, sw2, sw3 = buf[_HEAD : _HEAD + 3]
        data, size = _HEAD + 3, total - 1 - (_HEAD + 3)  # where the data starts, and its length
        if (sw1, sw2, sw3) == (0, 0, Sw3.OK) and size >= 4 and _number(buf, data) == SIZE:
            photo = _number(buf, data + 2)
            if 4 + SIZE + photo == size:
                return BaseData(bytes(buf[data + 4 : data + 4 + SIZE]), photo)
            fingerprints = _number(buf, data + 4) if size >= 6 else -1
            if 6 + SIZE + photo + fingerprints == size:
                return BaseData(bytes(buf[data + 6 : data + 6 + SIZE]), photo, fingerprints)
        if size > MAX_REPLY_DATA:  # checked before the data is copied out of the buffer
            raise BadMessage("unrecognised_data", f"{size} bytes that are not base data")
        return Reply(sw1, sw2, sw3, bytes(buf[data : total - 1]))
