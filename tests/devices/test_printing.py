"""Queue tickets as ESC/POS bytes and plain text, and the printer's status replies: bytes in, bytes
and values out, no printer and no event loop."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printing import (
    DEFAULT_NOTICE,
    STATUS_REQUEST_PAPER,
    STATUS_REQUEST_PRINTER,
    PaperStatus,
    TicketPrint,
    parse_paper_status,
    parse_printer_status,
    ticket_escpos,
    ticket_text,
)

INIT = b"\x1b@"
KANJI_MODE = b"\x1c&"
FULL_CUT = b"\x1dV\x00"
FEED = b"\x1bd\x06"  # ESC d 6: print and feed six lines, past the cutter
QUAD_SIZE = b"\x1d!\x33"
DOUBLE_SIZE = b"\x1d!\x11"
NATIVE_QR = b"\x1d(k"
RASTER_IMAGE = b"\x1dv0"
URL = "https://hall.example/t/20261123-A023"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def cols(line: str) -> int:
    """Printer columns: ASCII one, anything sent as a multi-byte code two."""
    return sum(1 if ord(ch) < 0x80 else 2 for ch in line)


def native_qr_data(url: str) -> bytes:
    """GS ( k pL pH cn=49 fn=80 m=48 data: store the symbol data."""
    data = url.encode()
    return NATIVE_QR + (len(data) + 3).to_bytes(2, "little") + b"1P0" + data


def ticket(**changes: Any) -> TicketPrint:
    base = TicketPrint(
        hall_name="朝阳区政务服务中心",
        hall_name_en="Chaoyang Government Service Center",
        number="A023",
        service_name="社保卡申领",
        service_name_en="Social security card",
        ahead=3,
        estimate_minutes=12.4,
        # 10:05 in Beijing.
        issued_at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
        qr_url=URL,
    )
    return replace(base, **changes)


# The job


def test_starts_with_init_then_chinese_mode() -> None:
    out = ticket_escpos(ticket())
    assert out.startswith(INIT + KANJI_MODE)


def test_chinese_text_is_gb18030_in_chinese_mode() -> None:
    out = ticket_escpos(ticket())
    for text in ("朝阳区政务服务中心", "前面还有 3 人", "社保卡申领", "预计等候约 12 分钟", "过号请重新取号"):
        assert gb(text) in out, text
    assert out.index(KANJI_MODE) < out.index(gb("朝阳区"))
    assert b"Chaoyang Government Service Center" in out
    assert b"3 ahead" in out
    assert b"about 12 min" in out


def test_hall_name_double_and_number_quad_size() -> None:
    out = ticket_escpos(ticket())
    # GS ! sizes Chinese characters too; ESC ! would leave them small.
    assert out.index(DOUBLE_SIZE) < out.index(gb("朝阳区政务服务中心"))
    assert QUAD_SIZE + b"\x1bE\x01A023\n\x1d!\x00" in out


def test_native_qr_code_carries_the_url() -> None:
    out = ticket_escpos(ticket())
    assert native_qr_data(URL) in out
    assert NATIVE_QR + b"\x03\x001Q0" in out  # print the symbol
    assert RASTER_IMAGE not in out


def test_image_qr_code_for_printers_without_native_qr() -> None:
    out = ticket_escpos(ticket(), width=32, profile="ZJ-5870")
    assert NATIVE_QR not in out
    start = out.index(RASTER_IMAGE)
    width_bytes = int.from_bytes(out[start + 4 : start + 6], "little")
    height = int.from_bytes(out[start + 6 : start + 8], "little")
    assert width_bytes * 8 <= 384  # 58 mm printable width in dots
    assert width_bytes * 8 >= height  # square, padded to whole bytes
    assert gb("扫码查看排队进度") in out[start + 8 + width_bytes * height :]


def test_ends_with_cut() -> None:
    assert ticket_escpos(ticket()).endswith(FEED + FULL_CUT)
    assert ticket_escpos(ticket(), profile="TH230").endswith(FEED + FULL_CUT)


def test_no_cut_for_a_printer_without_a_cutter() -> None:
    # The profile of a tear-off 58 mm printer: the job ends by feeding the ticket out.
    out = ticket_escpos(ticket(), width=32, profile="ZJ-5870")
    assert out.endswith(FEED)
    assert b"\x1dV" not in out


def test_time_is_local_to_the_hall() -> None:
    assert gb("2026-11-23 10:05") in ticket_escpos(ticket())
    assert "2026-11-23 10:05" in ticket_text(ticket()).splitlines()
    berlin = ticket(timezone="Europe/Berlin")
    assert "2026-11-23 03:05" in ticket_text(berlin).splitlines()
    same_instant = ticket(issued_at=datetime(2026, 11, 23, 10, 5, tzinfo=timezone(timedelta(hours=8))))
    assert "2026-11-23 10:05" in ticket_text(same_instant).splitlines()


def test_no_open_counter() -> None:
    t = ticket(estimate_minutes=None)
    out = ticket_escpos(t)
    assert gb("当前暂无窗口办理此业务") in out
    assert b"no counter open for it" in out
    assert gb("预计等候") not in out
    assert "当前暂无窗口办理此业务 · no counter open for it" in ticket_text(t).splitlines()


@pytest.mark.parametrize("minutes", [0.0, 0.4, 0.99])
def test_a_wait_under_a_minute_is_said_so_never_as_0_or_1_minutes(minutes: float) -> None:
    lines = ticket_text(ticket(estimate_minutes=minutes)).splitlines()
    assert "预计等候不到 1 分钟 · under 1 min" in lines
    assert not any("约 0 分钟" in line or "约 1 分钟" in line for line in lines)


@pytest.mark.parametrize(("minutes", "shown"), [(1.0, 1), (1.5, 2), (12.4, 12), (12.5, 13), (95.0, 95)])
def test_estimate_rounds_to_whole_minutes(minutes: float, shown: int) -> None:
    assert f"预计等候约 {shown} 分钟 · about {shown} min" in ticket_text(ticket(estimate_minutes=minutes)).splitlines()


def test_priority_label_is_bold_after_the_number() -> None:
    t = ticket(priority_label="老年人优先", priority_label_en="Elderly priority")
    out = ticket_escpos(t)
    assert out.index(b"A023") < out.index(gb("老年人优先 · Elderly priority")) < out.index(gb("社保卡申领"))
    assert "老年人优先 · Elderly priority" in ticket_text(t).splitlines()
    assert "优先" not in ticket_text(ticket())


def test_notice_lines() -> None:
    assert "过号请重新取号 · missed? take a new ticket" in ticket_text(ticket()).splitlines()
    own = ticket(notice=(("请保管好小票", "keep this ticket"), ("请留意叫号", "listen for your number")))
    text = ticket_text(own).splitlines()
    assert text[-2:] == ["请保管好小票 · keep this ticket", "请留意叫号 · listen for your number"]
    assert "过号" not in ticket_text(own)
    assert "过号" not in ticket_text(ticket(notice=()))
    assert DEFAULT_NOTICE[0][0] == "过号请重新取号"


def test_text_lines_in_ticket_order() -> None:
    assert ticket_text(ticket()).splitlines() == [
        "朝阳区政务服务中心",
        "Chaoyang Government Service Center",
        "-" * 48,
        "A023",
        "社保卡申领 · Social security card",
        "-" * 48,
        "前面还有 3 人 · 3 ahead",
        "预计等候约 12 分钟 · about 12 min",
        "2026-11-23 10:05",
        URL,
        "扫码查看排队进度 · scan to follow your turn",
        "过号请重新取号 · missed? take a new ticket",
    ]


def test_width_changes_the_layout() -> None:
    t = ticket(service_name="社会保障卡申领及补换", service_name_en="Social security card: application and replacement")
    wide, narrow = ticket_escpos(t, width=48), ticket_escpos(t, width=32)
    assert b"-" * 48 + b"\n" in wide
    assert b"-" * 48 not in narrow and b"-" * 32 + b"\n" in narrow
    # Too long for one line: Chinese on one line, English on the next.
    assert "社会保障卡申领及补换" in ticket_text(t, width=32).splitlines()
    assert "前面还有 3 人 · 3 ahead" in ticket_text(t, width=32).splitlines()
    assert ticket_text(t, width=48) != ticket_text(t, width=32)
    for width in (32, 48):
        assert all(cols(line) <= width for line in ticket_text(t, width=width).splitlines())
    # The QR code takes about half the paper: smaller modules on 58 mm.
    assert b"1C\x07" in wide and b"1C\x05" in narrow


def test_long_hall_name_wraps_at_half_width_for_double_size() -> None:
    name = "北京市朝阳区人民政府政务服务中心第二分中心综合窗口服务大厅"
    t = ticket(hall_name=name, hall_name_en="Hall")
    for width in (32, 48):
        lines = ticket_text(t, width=width).splitlines()
        head = lines[: lines.index("Hall")]
        assert "".join(head) == name
        assert all(cols(line) <= width // 2 for line in head)


def test_long_words_are_cut_and_spaces_collapse() -> None:
    t = ticket(service_name_en="Pneumonoultramicroscopicsilicovolcanoconiosis   certificate  " * 2)
    lines = ticket_text(t, width=32).splitlines()
    assert "Pneumonoultramicroscopicsilicovo" in lines
    assert all(cols(line) <= 32 and line == line.strip() and "  " not in line for line in lines)


def test_names_cannot_inject_printer_commands() -> None:
    t = ticket(
        hall_name="大厅\x1b@\x1dV\x00\n",
        hall_name_en="\u2028Hall\u200b",
        service_name_en="card\r\n\x10\x04\x01",
    )
    out = ticket_escpos(t)
    assert out.count(INIT) == 1
    assert out.count(FULL_CUT) == 1
    assert b"\x10\x04" not in out
    assert b"\r" not in out
    lines = ticket_text(t).splitlines()
    assert lines[:2] == ["大厅 @ V", "Hall"]
    assert "社保卡申领 · card" in lines


def test_other_chinese_encodings() -> None:
    out = ticket_escpos(ticket(hall_name="朝阳区𠀀大厅"), encoding="GBK")
    assert "朝阳区".encode("gbk") + b"?" + "大厅".encode("gbk") in out
    assert gb("前面还有") in ticket_escpos(ticket(), encoding="GB2312")


@pytest.mark.parametrize("encoding", ["no-such-codec", "utf-16", "utf-32"])
def test_unusable_encoding(encoding: str) -> None:
    with pytest.raises(ValueError, match="encoding"):
        ticket_escpos(ticket(), encoding=encoding)


def test_width_and_profile_checked() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        ticket_escpos(ticket(), width=8)
    with pytest.raises(ValueError, match="at least 16"):
        ticket_text(ticket(), width=0)
    with pytest.raises(ValueError, match="profile"):
        ticket_escpos(ticket(), profile="no-such-printer")
    narrow = ticket(number="AB123456")
    assert b"\x1d!\x11\x1bE\x01AB123456\n" in ticket_escpos(narrow, width=16)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"number": "a023"}, "ticket number"),
        ({"number": ""}, "ticket number"),
        ({"number": "A0231234567"}, "ticket number"),
        ({"number": "A 23"}, "ticket number"),
        ({"ahead": -1}, "ahead"),
        ({"estimate_minutes": -1.0}, "estimate"),
        ({"estimate_minutes": float("nan")}, "estimate"),
        ({"estimate_minutes": float("inf")}, "estimate"),
        ({"issued_at": datetime(2026, 11, 23, 10, 5)}, "aware"),
        ({"timezone": "Asia/Nowhere"}, "time zone"),
        ({"timezone": ""}, "time zone"),
        ({"timezone": "../etc/passwd"}, "time zone"),
        ({"qr_url": ""}, "qr_url"),
        ({"qr_url": "ftp://hall.example/t/1"}, "qr_url"),
        ({"qr_url": "https://hall.example/t/1 2"}, "qr_url"),
        ({"qr_url": "https://hall.example/大厅"}, "qr_url"),
        ({"qr_url": "https://hall.example/" + "t" * 300}, "qr_url"),
    ],
)
def test_ticket_checks_itself(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ticket(**changes)


def test_longest_url_fits_58mm() -> None:
    url = "https://hall.example/" + "t" * (256 - len("https://hall.example/"))
    out = ticket_escpos(ticket(qr_url=url), width=32, profile="ZJ-5870")
    start = out.index(RASTER_IMAGE)
    assert int.from_bytes(out[start + 4 : start + 6], "little") * 8 <= 384
    assert native_qr_data(url) in ticket_escpos(ticket(qr_url=url), width=32)


# Status replies (Epson ESC/POS Command Reference, DLE EOT)


def test_status_requests() -> None:
    assert STATUS_REQUEST_PRINTER == b"\x10\x04\x01"
    assert STATUS_REQUEST_PAPER == b"\x10\x04\x04"


@pytest.mark.parametrize(
    ("byte", "status"),
    [
        (0x12, PaperStatus.OK),
        (0x1E, PaperStatus.NEAR_END),
        (0x72, PaperStatus.OUT),
        (0x7E, PaperStatus.OUT),  # out outranks near end
    ],
)
def test_paper_status(byte: int, status: PaperStatus) -> None:
    assert parse_paper_status(byte) is status


def test_paper_status_accepts_exactly_the_four_defined_replies() -> None:
    accepted = {}
    for byte in range(256):
        with contextlib.suppress(ValueError):
            accepted[byte] = parse_paper_status(byte)
    assert accepted == {0x12: PaperStatus.OK, 0x1E: PaperStatus.NEAR_END, 0x72: PaperStatus.OUT, 0x7E: PaperStatus.OUT}


@pytest.mark.parametrize(
    ("byte", "message"),
    [
        (0x00, "bits 0, 1, 4, 7"),
        (0xFF, "bits 0, 1, 4, 7"),
        (0x13, "bits 0, 1, 4, 7"),  # bit 0 on
        (0x10, "bits 0, 1, 4, 7"),  # bit 1 off
        (0x02, "bits 0, 1, 4, 7"),  # bit 4 off
        (0x92, "bits 0, 1, 4, 7"),  # bit 7 on
        (0x16, "near-end"),  # bit 2 without bit 3
        (0x1A, "near-end"),  # bit 3 without bit 2
        (0x32, "paper-end"),  # bit 5 without bit 6
        (0x52, "paper-end"),  # bit 6 without bit 5
        (-1, "0–255"),
        (256, "0–255"),
    ],
)
def test_paper_status_rejects(byte: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_paper_status(byte)


@pytest.mark.parametrize(
    ("byte", "online"),
    [
        (0x12, True),
        (0x16, True),  # drawer pin 3 high
        (0x72, True),  # bits 5-6 vary by model
        (0x1A, False),
        (0x7E, False),
    ],
)
def test_printer_status(byte: int, online: bool) -> None:
    assert parse_printer_status(byte) is online


def test_printer_status_accepts_exactly_the_fixed_bit_pattern() -> None:
    online = {byte: parse_printer_status(byte) for byte in range(256) if byte & 0x93 == 0x12}
    assert len(online) == 16
    assert sum(online.values()) == 8
    for byte in set(range(256)) - set(online):
        with pytest.raises(ValueError, match="DLE EOT 1"):
            parse_printer_status(byte)
    with pytest.raises(ValueError, match="0–255"):
        parse_printer_status(0x112)


@given(st.integers())
def test_paper_status_never_misreads(byte: int) -> None:
    try:
        status = parse_paper_status(byte)
    except ValueError:
        return
    assert 0 <= byte <= 255 and byte & 0x93 == 0x12
    assert (status is PaperStatus.OUT) == (byte & 0x60 == 0x60)
    assert (status is PaperStatus.NEAR_END) == (byte & 0x6C == 0x0C)


@given(st.integers(0, 255))
def test_status_bytes_parse_or_raise_value_error(byte: int) -> None:
    for parse in (parse_paper_status, parse_printer_status):
        try:
            parse(byte)
        except ValueError as exc:
            message = str(exc)
        else:
            continue
        # The error names the byte, for the device log.
        assert f"0x{byte:02X}" in message


names = st.text(max_size=300)


@given(
    hall=names,
    hall_en=names,
    service=names,
    service_en=names,
    ahead=st.integers(0, 10**6),
    minutes=st.none() | st.floats(0, 10**5),
    width=st.sampled_from([16, 32, 42, 48, 64]),
)
def test_any_names_print_within_the_width(
    hall: str, hall_en: str, service: str, service_en: str, ahead: int, minutes: float | None, width: int
) -> None:
    t = ticket(
        hall_name=hall,
        hall_name_en=hall_en,
        service_name=service,
        service_name_en=service_en,
        ahead=ahead,
        estimate_minutes=minutes,
        priority_label=service,
        notice=((hall, service_en),),
    )
    out = ticket_escpos(t, width=width)
    assert out.startswith(INIT + KANJI_MODE)
    assert out.endswith(FULL_CUT)
    assert native_qr_data(URL) in out
    assert out.count(INIT) == 1
    lines = ticket_text(t, width=width).splitlines()
    assert all(cols(line) <= width for line in lines)
    assert all(line and line == line.strip() for line in lines)
