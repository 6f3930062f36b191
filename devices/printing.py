"""Queue tickets (排队小票) for the kiosk's thermal printer, as ESC/POS bytes and as plain text, and the
printer's answers to the real-time status requests.

Rendering is pure: python-escpos's ``Dummy`` printer collects the bytes and the caller sends them to
the device (serial, USB or ``socket://`` alike). The plain-text form carries the same lines, for the
log and for the browser-print fallback page.

Chinese text goes to the printer in its Chinese character mode, not through python-escpos's text path:
its code-page guessing knows single-byte code pages only and writes CJK text as GB18030 without ever
selecting that mode (python-escpos issue #678). ``FS &`` selects the mode and the text is encoded here.

Widths count printer columns of font A (12 × 24 dots): one per ASCII character, two per character sent
as a multi-byte code, which the printer draws full-width. 80 mm paper holds 48 columns, 58 mm holds 32.

Reference: Epson ESC/POS Command Reference, "FS &", "GS !", "GS ( k" (QR Code) and "DLE EOT"
(https://download4.epson.biz/sec_pubs/pos/reference_en/escpos/).
"""

from __future__ import annotations

import codecs
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfoNotFoundError

import qrcode
from escpos.constants import QR_ECLEVEL_M
from escpos.image import EscposImage
from escpos.printer import Dummy

from hall.kernel.zones import DEFAULT_ZONE, zone

__all__ = [
    "DEFAULT_NOTICE",
    "STATUS_REQUEST_PAPER",
    "STATUS_REQUEST_PRINTER",
    "PaperStatus",
    "TicketPrint",
    "parse_paper_status",
    "parse_printer_status",
    "ticket_escpos",
    "ticket_text",
]

# DLE EOT n, "transmit real-time status": n = 1 printer status, n = 4 roll paper sensor status.
STATUS_REQUEST_PRINTER = b"\x10\x04\x01"
STATUS_REQUEST_PAPER = b"\x10\x04\x04"

# Each notice is a (Chinese, English) pair.
DEFAULT_NOTICE = (("过号请重新取号", "missed? take a new ticket"),)

MIN_WIDTH = 16
# Long enough for any status-page link; keeps the QR code small enough for 58 mm paper.
MAX_URL_LENGTH = 256

# Ticket numbers as queueing.services.Service.number prints them: A023, AB0101, 23.
_NUMBER = re.compile(r"[A-Z]{0,2}[0-9]{1,6}")
_URL = re.compile(r"https?://[\x21-\x7e]+")

_CLEAN = {"Cc": " ", "Zs": " ", "Zl": " ", "Zp": " ", "Cf": "", "Cs": "", "Co": "", "Cn": ""}
_KANJI_MODE = b"\x1c&"  # FS &: select Chinese (Kanji) character mode
_DOTS_PER_COLUMN = 12  # font A
_QR_QUIET_ZONE = 4  # modules each side, ISO/IEC 18004
_NUMBER_SCALE = 4  # GS ! magnification of the ticket number, both ways


@dataclass(frozen=True)
class TicketPrint:
    """What a printed ticket says. Names are free text and are cleaned and wrapped when rendered;
    the rest is checked here.

    ``issued_at`` must be aware; it is printed in the hall's local time, ``timezone``.
    ``estimate_minutes`` is None when no open counter serves the service. ``qr_url`` links to the
    ticket's public status page. ``notice`` holds (Chinese, English) pairs printed last.
    """

    hall_name: str
    hall_name_en: str
    number: str
    service_name: str
    service_name_en: str
    ahead: int
    estimate_minutes: float | None
    issued_at: datetime
    qr_url: str
    timezone: str = DEFAULT_ZONE
    priority_label: str | None = None
    priority_label_en: str | None = None
    notice: tuple[tuple[str, str], ...] = DEFAULT_NOTICE

    def __post_init__(self) -> None:
        if not _NUMBER.fullmatch(self.number):
            raise ValueError(f"ticket number must be up to two capital letters and 1–6 digits: {self.number!r}")
        if self.ahead < 0:
            raise ValueError(f"people ahead must not be negative: {self.ahead}")
        if self.estimate_minutes is not None and not (
            math.isfinite(self.estimate_minutes) and self.estimate_minutes >= 0
        ):
            raise ValueError(f"estimate must be a finite number of minutes ≥ 0 or None: {self.estimate_minutes!r}")
        if self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be an aware datetime")
        try:
            zone(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not a known time zone: {self.timezone!r}") from None
        if len(self.qr_url) > MAX_URL_LENGTH or not _URL.fullmatch(self.qr_url):
            raise ValueError(
                f"qr_url must be an http(s) URL of printable ASCII, at most {MAX_URL_LENGTH} characters: "
                f"{self.qr_url[:80]!r}"
            )


@dataclass(frozen=True)
class _Text:
    text: str
    scale: int = 1
    bold: bool = False


@dataclass(frozen=True)
class _Qr:
    url: str


def ticket_escpos(
    ticket: TicketPrint, *, width: int = 48, encoding: str = "GB18030", profile: str | None = None
) -> bytes:
    """The ticket as one ESC/POS job: initialise, Chinese mode, centred lines, QR code, feed and cut
    (a profile without a cutter, such as a tear-off 58 mm printer's, gets the feed only).

    ``width`` is in columns (48 for 80 mm paper, 32 for 58 mm). ``encoding`` is the printer's
    Chinese character set: GB18030, or GBK for printers without GB18030's four-byte codes (what GBK
    cannot encode prints as ``?``). ``profile`` names a python-escpos printer profile; the QR code is
    the printer's own (``GS ( k``) when the profile supports it, else a raster image (``GS v 0``).
    Raises ValueError for a width, encoding or profile it cannot use.
    """
    _check_width(width)
    _check_encoding(encoding)
    try:
        printer = Dummy(profile=profile)
    except LookupError:
        raise ValueError(f"unknown python-escpos printer profile: {profile!r}") from None
    printer.hw("INIT")
    # Chinese models start in this mode, Japanese ones do not; selecting it costs nothing. The job
    # leaves it on: it is the printer's default state on the Chinese models halls buy.
    printer._raw(_KANJI_MODE)
    printer.set(align="center")
    scale, bold = 1, False
    for item in _layout(ticket, width):
        if isinstance(item, _Qr):
            _print_qr(printer, item.url, width)
            continue
        if item.scale != scale:
            # GS ! sizes Chinese and ASCII characters alike; ESC ! (python-escpos's double_width and
            # double_height) leaves Chinese characters at normal size.
            printer.set(custom_size=True, width=item.scale, height=item.scale)
            scale = item.scale
        if item.bold != bold:
            printer.set(bold=item.bold)
            bold = item.bold
        printer._raw(item.text.encode(encoding, errors="replace") + b"\n")
    if scale != 1:
        printer.set(custom_size=True, width=1, height=1)
    if bold:
        printer.set(bold=False)
    printer.cut()
    return bytes(printer.output)


def ticket_text(ticket: TicketPrint, *, width: int = 48) -> str:
    """The ticket's lines as plain text, broken where the printed ticket of this width breaks them;
    the QR code appears as its URL. No line is wider than ``width`` columns."""
    _check_width(width)
    lines: list[str] = []
    for item in _layout(ticket, width):
        if isinstance(item, _Qr):
            lines.extend(_wrap(item.url, width))
        else:
            lines.append(item.text)
    return "\n".join(lines)


def _layout(ticket: TicketPrint, width: int) -> list[_Text | _Qr]:
    """Every line of the ticket, each fitting ``width`` columns at its own scale."""
    items: list[_Text | _Qr] = []

    def lines(pieces: list[str], *, scale: int = 1, bold: bool = False) -> None:
        items.extend(_Text(piece, scale, bold) for piece in pieces)

    rule = _Text("-" * width)
    lines(list(_wrapped(ticket.hall_name, width // 2)), scale=2, bold=True)
    lines(list(_wrapped(ticket.hall_name_en, width)))
    items.append(rule)
    scale = max(1, min(_NUMBER_SCALE, width // len(ticket.number)))
    items.append(_Text(ticket.number, scale, bold=True))
    if ticket.priority_label or ticket.priority_label_en:
        lines(_pair(ticket.priority_label or "", ticket.priority_label_en or "", width), bold=True)
    lines(_pair(ticket.service_name, ticket.service_name_en, width))
    items.append(rule)
    lines(_pair(f"前面还有 {ticket.ahead} 人", f"{ticket.ahead} ahead", width))
    if ticket.estimate_minutes is None:
        lines(_pair("当前暂无窗口办理此业务", "no counter open for it", width), bold=True)
    elif ticket.estimate_minutes < 1:
        # Never "about 0 minutes", nor a minute promised as if it were a round figure.
        lines(_pair("预计等候不到 1 分钟", "under 1 min", width))
    else:
        minutes = max(1, math.floor(ticket.estimate_minutes + 0.5))
        lines(_pair(f"预计等候约 {minutes} 分钟", f"about {minutes} min", width))
    local = ticket.issued_at.astimezone(zone(ticket.timezone))
    lines([local.strftime("%Y-%m-%d %H:%M")])
    items.append(_Qr(ticket.qr_url))
    lines(_pair("扫码查看排队进度", "scan to follow your turn", width))
    for zh, en in ticket.notice:
        lines(_pair(zh, en, width))
    return items


def _print_qr(printer: Dummy, url: str, width: int) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=_QR_QUIET_ZONE)
    code.add_data(url)
    # The symbol's version alone; make() would build every candidate matrix (≈3 ms), and a printer
    # drawing the QR code itself needs only the size.
    version = _qr_version(url)
    modules = version * 4 + 17 + 2 * _QR_QUIET_ZONE
    # About half the paper's width, large enough for any phone; a long URL may take the whole width
    # rather than shrink below 3 dots (0.375 mm) a module.
    dots = width * _DOTS_PER_COLUMN
    size = max(1, min(8, dots // 2 // modules), min(3, dots // modules))
    if printer.profile.supports("qrCode"):
        # Not every printer leaves a quiet zone around the symbol: blank lines above and below do.
        printer._raw(b"\n")
        printer.qr(url, native=True, size=size, ec=QR_ECLEVEL_M)
        printer._raw(b"\n")
        return
    # Raster image, sent here rather than through python-escpos's image(): that prints a notice on
    # stdout for profiles of unknown paper width, and ESC a (centre) positions the image anyway.
    code.box_size = size
    code.make(fit=False)
    image = EscposImage(code.make_image().get_image())
    header = b"\x1dv0\x00" + _low_high(int(image.width_bytes)) + _low_high(int(image.height))
    printer._raw(header + bytes(image.to_raster_format()))


@functools.lru_cache(maxsize=64)
def _version_for(length: int, mode: int) -> int:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    sample = {qrcode.util.MODE_NUMBER: b"1", qrcode.util.MODE_ALPHA_NUM: b"A"}.get(mode, b"a")
    code.add_data(qrcode.util.QRData(sample * length, mode=mode))
    return int(code.best_fit())


def _qr_version(url: str) -> int:
    """The smallest version holding ``url``: it depends only on the data's length and its encoding
    mode, so ticket addresses of one hall (all the same length) share one computation."""
    data = qrcode.util.QRData(url.encode())
    return _version_for(len(data), data.mode)


def _low_high(n: int) -> bytes:
    return n.to_bytes(2, "little")


def _check_width(width: int) -> None:
    if width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH} columns: {width}")


def _check_encoding(encoding: str) -> None:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown text encoding: {encoding!r}") from None
    # Commands and ticket numbers are ASCII and must stay single bytes (rules out UTF-16 and such).
    if "-A0 \n".encode(encoding) != b"-A0 \n":
        raise ValueError(f"encoding must keep ASCII as single bytes: {encoding!r}")


def _cols(text: str) -> int:
    """Printer columns: one per ASCII character, two per multi-byte (full-width) character."""
    return sum(1 if ord(ch) < 0x80 else 2 for ch in text)


def _clean(text: str) -> str:
    """Free text made safe to print, so no name can inject a printer command or break a line: control
    characters and separators become single spaces; format, surrogate, private-use and unassigned
    characters go."""
    chars = (_CLEAN.get(unicodedata.category(ch), ch) for ch in text)
    return " ".join("".join(chars).split())


def _pair(zh: str, en: str, cols: int) -> list[str]:
    """Chinese and English on one line, ``中文 · English``, or the Chinese lines then the English."""
    return list(_paired(zh, en, cols))


# A kiosk prints the same hall and service names all day: their line breaks are worked out once.
@functools.lru_cache(maxsize=1024)
def _paired(zh: str, en: str, cols: int) -> tuple[str, ...]:
    zh, en = _clean(zh), _clean(en)
    if zh and en and _cols(both := f"{zh} · {en}") <= cols:
        return (both,)
    return (*_wrap(zh, cols), *_wrap(en, cols))


@functools.lru_cache(maxsize=256)
def _wrapped(text: str, cols: int) -> tuple[str, ...]:
    return tuple(_wrap(_clean(text), cols))


def _wrap(text: str, cols: int) -> list[str]:
    """Greedy line breaking to ``cols`` columns: Latin words break at spaces, Chinese text after any
    character, and a word longer than a line is cut. Spaces at the breaks are dropped."""
    lines: list[str] = []
    line = ""
    for unit in _units(text):
        if unit == " ":
            if line and not line.endswith(" "):
                line += " "
            continue
        if _cols(line + unit) <= cols:
            line += unit
            continue
        if line.strip():
            lines.append(line.rstrip())
        while _cols(unit) > cols:
            cut = 1
            while _cols(unit[: cut + 1]) <= cols:
                cut += 1
            lines.append(unit[:cut])
            unit = unit[cut:]
        line = unit
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _units(text: str) -> list[str]:
    """A space, a Latin word, or one full-width character: the units a line may break between."""
    units: list[str] = []
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if ch == " " or wide or not units or units[-1] == " " or _is_wide(units[-1]):
            units.append(ch)
        else:
            units[-1] += ch
    return units


def _is_wide(unit: str) -> bool:
    return unicodedata.east_asian_width(unit[0]) in ("W", "F")


class PaperStatus(StrEnum):
    """The roll paper sensors' reading."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"


# Every DLE EOT status byte has bits 0, 1, 4 and 7 fixed at 0, 1, 1, 0: how a status byte is told
# apart from other data the printer sends (ESC/POS Command Reference, "DLE EOT").
_FIXED_MASK = 0b1001_0011
_FIXED_BITS = 0b0001_0010
_OFFLINE = 0b0000_1000
_NEAR_END = 0b0000_1100
_PAPER_END = 0b0110_0000


def parse_paper_status(byte: int) -> PaperStatus:
    """The reply to ``DLE EOT 4`` (``STATUS_REQUEST_PAPER``), roll paper sensor status.

    Epson ESC/POS Command Reference, "DLE EOT — Transmit real-time status", n = 4: bits 2 and 3 are
    the near-end sensor (both off: paper adequate, both on: near end), bits 5 and 6 the paper-end
    sensor (both off: paper present, both on: no paper), bits 0, 1, 4, 7 fixed at 0, 1, 1, 0. Paper
    out outranks near end. Raises ValueError for a byte outside 0–255, a fixed bit out of place, or a
    sensor pair with one bit on and one off, which the reference does not define: such a byte is
    not this reply, and guessing would misreport the paper.
    """
    _check_status_byte(byte, "DLE EOT 4")
    for mask, sensor in ((_NEAR_END, "near-end (bits 2–3)"), (_PAPER_END, "paper-end (bits 5–6)")):
        if byte & mask not in (0, mask):
            raise ValueError(f"0x{byte:02X} is not a roll paper status: its {sensor} sensor bits disagree")
    if byte & _PAPER_END:
        return PaperStatus.OUT
    if byte & _NEAR_END:
        return PaperStatus.NEAR_END
    return PaperStatus.OK


def parse_printer_status(byte: int) -> bool:
    """Whether the printer is online, from the reply to ``DLE EOT 1`` (``STATUS_REQUEST_PRINTER``).

    Epson ESC/POS Command Reference, "DLE EOT — Transmit real-time status", n = 1: bit 3 on means
    offline; bits 0, 1, 4, 7 fixed at 0, 1, 1, 0; bit 2 (drawer connector) and bits 5–6 vary by
    model and are ignored. Raises ValueError for a byte outside 0–255 or with a fixed bit out of place.
    """
    _check_status_byte(byte, "DLE EOT 1")
    return not byte & _OFFLINE


def _check_status_byte(byte: int, request: str) -> None:
    if not 0 <= byte <= 0xFF:
        raise ValueError(f"a status byte is 0–255, got {byte}")
    if byte & _FIXED_MASK != _FIXED_BITS:
        raise ValueError(
            f"0x{byte:02X} is not a reply to {request}: bits 0, 1, 4, 7 must read 0, 1, 1, 0, got "
            f"{byte & 1}, {byte >> 1 & 1}, {byte >> 4 & 1}, {byte >> 7 & 1}"
        )
