"""The LED strip and window display protocol (devices/led_protocol.py, docs/protocols/serial.md):
worked frames byte for byte, what the decoder does with bad input, and properties over any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.led_protocol import (
    BROADCAST,
    MAX_PAYLOAD,
    SOF,
    Ack,
    Brightness,
    Clear,
    Colour,
    Command,
    Encoding,
    LedDecoder,
    LedFrame,
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
    crc16_modbus,
    encode,
)
from devices.protocol import BadMessage
from tests.devices.wire import chunked

# Each frame as a vendor's device must send or accept it.
WORKED = [
    ("7e 01 00 08 02 05 00 01 00 05 41 30 32 33 28 16", LedFrame(1, 5, ShowTicket("A023", 5))),
    (
        "7e 02 00 13 01 01 01 01 02 01 c7 eb 41 30 32 33 b5 bd 35 ba c5 b4 b0 bf da f0 cb",
        LedFrame(2, 1, ShowText("请A023到5号窗口", area=1, colour=Colour.GREEN, mode=Mode.SCROLL)),
    ),
    ("7e 02 00 06 01 02 00 02 01 00 48 69 4a e2", LedFrame(2, 2, ShowText("Hi", encoding=Encoding.UTF8))),
    ("7e ff 00 01 03 03 3c e5 09", LedFrame(BROADCAST, 3, Brightness(60))),
    ("7e 01 00 01 04 04 ff 03 77", LedFrame(1, 4, Clear())),
    ("7e 01 00 01 05 06 01 d2 57", LedFrame(1, 6, ShowPattern(Pattern.STRIPES))),
    ("7e 01 00 00 06 07 5b a2", LedFrame(1, 7, Poll())),
    (
        "7e 01 00 0a 86 07 04 3c 1f 4c 45 44 2d 32 2e 31 8f a6",
        LedFrame(1, 7, Status(StatusFlag.RESTARTED, 60, 31, "LED-2.1")),
    ),
    ("7e 01 00 01 80 05 02 83 4f", LedFrame(1, 5, Ack(Command.SHOW_TICKET))),
    ("7e 02 00 02 81 02 01 03 89 6d", LedFrame(2, 2, Nak(Command.SHOW_TEXT, NakReason.ENCODING))),
    # Address 7E and sequence 7D are stuffed: 7D 5E and 7D 5D.
    ("7e 7d 5e 00 01 03 7d 5d 64 db 42", LedFrame(0x7E, 0x7D, Brightness(100))),
]
GOOD = LedFrame(1, 5, ShowTicket("A023", 5))
GOOD_BYTES = encode(GOOD)


def test_the_crc_is_crc16_modbus_with_its_check_value() -> None:
    assert crc16_modbus(b"123456789") == 0x4B37
    assert crc16_modbus(b"") == 0xFFFF


@pytest.mark.parametrize(("wire", "frame"), WORKED, ids=[f.message.summary() for _, f in WORKED])
def test_every_command_and_reply_has_its_exact_bytes_both_ways(wire: str, frame: LedFrame) -> None:
    assert encode(frame) == bytes.fromhex(wire)
    decoder = LedDecoder()
    assert decoder.feed(bytes.fromhex(wire)) == [frame]
    assert decoder.log.counters.frames == 1
    assert decoder.log.recent[-1].raw == wire and decoder.log.recent[-1].ok


def test_the_start_byte_never_appears_inside_a_frame() -> None:
    frame = LedFrame(0x7E, 0x7E, Status(StatusFlag.NONE, 100, 0x7E, "~}~"))
    wire = encode(frame)
    assert wire[0] == SOF and SOF not in wire[1:]
    assert LedDecoder().feed(wire) == [frame]


def test_a_frame_arriving_one_byte_at_a_time_decodes_once() -> None:
    decoder = LedDecoder()
    found = [f for byte in GOOD_BYTES for f in decoder.feed(bytes([byte]))]
    assert found == [GOOD] and decoder.pending == 0


def test_garbage_truncation_bad_crc_and_bad_content_are_counted_and_the_next_frame_decodes() -> None:
    bad_crc = bytearray(GOOD_BYTES)
    bad_crc[-1] ^= 0xFF
    unknown = bytes.fromhex("01 00 00 42 01")
    unknown_command = bytes([SOF]) + unknown + crc16_modbus(unknown).to_bytes(2, "little")
    oversized = bytes([SOF, 1, 0x02, 0x01, 0x01, 0x00])  # 513 bytes of payload announced
    stream = b"\x00\xff\x13" + GOOD_BYTES[:6] + bytes(bad_crc) + unknown_command + oversized + b"rest" + GOOD_BYTES
    decoder = LedDecoder()
    assert decoder.feed(stream) == [GOOD]
    counters = decoder.log.counters
    assert (counters.truncated, counters.bad_checksum, counters.malformed, counters.oversized) == (1, 1, 1, 1)
    assert counters.dropped_bytes == 3 + 2 + 4  # the noise before, and the rest of the oversized frame
    reasons = [seen.reason.split(":")[0] for seen in decoder.log.recent]
    assert reasons == ["truncated", "bad_checksum", "malformed", "oversized", ""]
    assert "unknown_command" in decoder.log.recent[2].reason


def test_a_frame_cut_short_is_given_up_when_the_line_goes_quiet() -> None:
    decoder = LedDecoder()
    assert decoder.feed(GOOD_BYTES[:9]) == []
    assert decoder.gap() == [] and decoder.pending == 0
    assert decoder.log.counters.truncated == 1
    assert decoder.log.recent[-1].reason == "truncated: 8 bytes, then the line went quiet"
    assert decoder.feed(GOOD_BYTES[9:] + GOOD_BYTES) == [GOOD]


def test_the_decoder_holds_at_most_one_frame_and_a_bounded_log() -> None:
    decoder = LedDecoder(recent=4)
    endless = bytes([SOF, 1, 0x02, 0x00, 0x01, 0x00]) + b"\x7d\x5e" * 5000
    decoder.feed(endless)
    assert decoder.pending <= 2 * (5 + MAX_PAYLOAD + 2) + 1
    for _ in range(10):
        decoder.feed(b"\x7e\x7e\x01\x7e")
    assert len(decoder.log.recent) == 4


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: ShowText("", area=0), "bad_text"),
        (lambda: ShowText("𠀀", encoding=Encoding.GB2312), "bad_text"),
        (lambda: ShowText("x" * MAX_PAYLOAD), "bad_text"),
        (lambda: ShowTicket("a023", 5), "bad_ticket"),
        (lambda: ShowTicket("A023", 0), "bad_counter"),
        (lambda: Brightness(101), "bad_brightness"),
        (lambda: Clear(16), "bad_area"),
        (lambda: Ack(0x80), "bad_command"),
        (lambda: LedFrame(0, 1, Poll()), "bad_address"),
        (lambda: LedFrame(BROADCAST, 1, Poll()), "bad_address"),
        (lambda: LedFrame(BROADCAST, 1, Ack(1)), "bad_address"),
    ],
)
def test_a_frame_checks_itself_when_made(build: object, reason: str) -> None:
    with pytest.raises(BadMessage) as refused:
        build()  # type: ignore[operator]
    assert refused.value.reason == reason


_TEXT = st.text(alphabet="请到号窗口暂停服务ABC0123 ", min_size=1, max_size=40)
MESSAGES = st.one_of(
    st.builds(
        ShowText,
        _TEXT,
        st.integers(0, 15),
        st.sampled_from(Encoding),
        st.sampled_from(Colour),
        st.sampled_from(Mode),
    ),
    st.builds(ShowTicket, st.from_regex(r"[A-Z][0-9]{3}", fullmatch=True), st.integers(1, 9999)),
    st.builds(Brightness, st.integers(0, 100)),
    st.builds(Clear, st.integers(0, 15)),
    st.builds(ShowPattern, st.sampled_from(Pattern)),
    st.builds(Ack, st.sampled_from([c for c in Command if c < 0x80])),
    st.builds(Nak, st.integers(0, 0x7F), st.sampled_from(NakReason)),
    st.builds(
        Status,
        st.sampled_from(list(StatusFlag)),
        st.integers(0, 100),
        st.integers(-128, 127),
        st.text(alphabet="0123456789.~}v", max_size=16),
    ),
)
FRAMES = st.builds(LedFrame, st.integers(1, 0xFE), st.integers(0, 255), MESSAGES)
# Noise that cannot itself hold a start byte: anything else, escapes included.
NOISE = st.binary(max_size=40).map(lambda b: b.replace(b"\x7e", b""))


@given(st.binary(max_size=2000), st.lists(st.integers(1, 50), min_size=1))
def test_any_bytes_in_any_reads_never_raise_and_stay_bounded(data: bytes, sizes: list[int]) -> None:
    decoder = LedDecoder()
    for piece in chunked(data, sizes):
        decoder.feed(piece)
        assert decoder.pending <= 2 * (5 + MAX_PAYLOAD + 2) + 1
    decoder.gap()
    assert decoder.pending == 0


@given(st.lists(st.tuples(NOISE, FRAMES)), NOISE, st.lists(st.integers(1, 30), min_size=1))
def test_every_frame_in_noise_is_found_once_and_in_order(
    pieces: list[tuple[bytes, LedFrame]], tail: bytes, sizes: list[int]
) -> None:
    stream = b"".join(noise + encode(frame) for noise, frame in pieces) + tail
    decoder = LedDecoder()
    found = [frame for piece in chunked(stream, sizes) for frame in decoder.feed(piece)]
    assert found == [frame for _, frame in pieces]


def test_the_same_good_frame_again_is_counted_not_logged_again() -> None:
    decoder = LedDecoder(recent=4)
    decoder.feed(b"\x00")  # noise: dropped bytes, no entry
    for _ in range(10):
        decoder.feed(GOOD_BYTES)
    (seen,) = decoder.log.recent
    assert (seen.ok, seen.times, decoder.log.counters.frames) == (True, 10, 10)
