"""The keypad (呼叫器) and rater (评价器) bus (devices/keypad_protocol.py, docs/protocols/serial.md):
worked frames byte for byte, the rater's levels, bad input counted, and properties over any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.keypad_protocol import (
    MAX_L,
    RATER_LEVELS,
    Display,
    Idle,
    Key,
    KeypadDecoder,
    KeypadFrame,
    KeyPress,
    Poll,
    Rating,
    acknowledgement,
    encode,
)
from devices.kinds import KEYPAD_KEYS, KEYPAD_SIGNALS
from devices.protocol import BadMessage
from queueing.rating_records import Level
from tests.devices.wire import chunked

WORKED: list[tuple[str, KeypadFrame]] = [
    ("ff 68 02 02 68 01 01 02 16", KeyPress(1, Key.CALL)),
    ("ff 68 02 02 68 01 02 03 16", KeyPress(1, Key.RECALL)),
    ("ff 68 02 02 68 01 03 04 16", KeyPress(1, Key.EVALUATE)),
    ("ff 68 02 02 68 01 04 05 16", KeyPress(1, Key.PAUSE)),
    ("ff 68 02 02 68 01 05 06 16", KeyPress(1, Key.RESUME)),
    ("ff 68 04 04 68 03 06 00 0c 15 16", KeyPress(3, Key.TRANSFER, 12)),
    ("ff 68 02 02 68 01 07 08 16", KeyPress(1, Key.START)),
    ("ff 68 02 02 68 01 08 09 16", KeyPress(1, Key.FINISH)),
    ("ff 68 02 02 68 01 09 0a 16", KeyPress(1, Key.NO_SHOW)),
    ("ff 68 03 03 68 11 10 00 21 16", Rating(0x11, 0)),
    ("ff 68 03 03 68 11 10 03 24 16", Rating(0x11, 3)),
    ("ff 68 02 02 68 01 20 21 16", Poll(1)),
    ("ff 68 02 02 68 01 21 22 16", Idle(1)),
    ("ff 68 07 07 68 01 30 07 41 30 32 33 0e 16", Display(1, "A023", 7)),
    # Address 68 looks like a start byte; the length bytes and the second 68 tell them apart.
    ("ff 68 02 02 68 68 01 69 16", KeyPress(0x68, Key.CALL)),
]
CALL = KeyPress(1, Key.CALL)
CALL_BYTES = encode(CALL)


@pytest.mark.parametrize(("wire", "frame"), WORKED, ids=[f.summary() for _, f in WORKED])
def test_every_frame_has_its_exact_bytes_both_ways(wire: str, frame: KeypadFrame) -> None:
    assert encode(frame) == bytes.fromhex(wire)
    decoder = KeypadDecoder()
    assert decoder.feed(bytes.fromhex(wire)) == [frame]
    # Without the wake-up byte too, and with more of them: they are not noise.
    assert decoder.feed(bytes.fromhex(wire)[1:]) == [frame]
    assert decoder.feed(b"\xff\xff" + bytes.fromhex(wire)) == [frame]
    assert decoder.log.counters.dropped_bytes == 0


def test_the_keys_use_the_words_of_the_keypad_events() -> None:
    # Every key of the bus is an event an MQTT keypad sends too: the same words, the same commands.
    assert set(KEYPAD_KEYS) | KEYPAD_SIGNALS == {key.value for key in Key}


def test_the_four_rater_keys_are_the_four_best_levels_of_gb_t_39734() -> None:
    assert [Rating(1, key).level for key in range(4)] == [
        Level.VERY_SATISFIED,
        Level.SATISFIED,
        Level.BASICALLY_SATISFIED,
        Level.DISSATISFIED,
    ]
    assert [level.label for level in RATER_LEVELS] == ["非常满意", "满意", "基本满意", "不满意"]
    assert Rating(1, 3).level.unsatisfied  # the worst key opens a work order


def test_the_host_acknowledges_a_key_by_sending_it_back() -> None:
    assert acknowledgement(CALL) == CALL_BYTES
    assert KeypadDecoder().feed(acknowledgement(Rating(2, 1))) == [Rating(2, 1)]


def test_several_addresses_share_the_bus_polled_or_unasked() -> None:
    polls = b"".join(encode(Poll(address)) for address in (1, 2, 3))
    answers = encode(Idle(1)) + encode(KeyPress(2, Key.CALL)) + encode(Rating(3, 0))
    unasked = encode(KeyPress(4, Key.FINISH))
    found = KeypadDecoder().feed(polls + answers + unasked)
    assert [type(f).__name__ for f in found] == ["Poll"] * 3 + ["Idle", "KeyPress", "Rating", "KeyPress"]
    assert [f.address for f in found] == [1, 2, 3, 1, 2, 3, 4]


def test_a_frame_arriving_one_byte_at_a_time_decodes_once() -> None:
    decoder = KeypadDecoder()
    assert [f for byte in CALL_BYTES for f in decoder.feed(bytes([byte]))] == [CALL]
    assert decoder.pending == 0


def test_bad_frames_are_counted_with_their_reason_and_the_next_frame_decodes() -> None:
    truncated = bytes.fromhex("ff 68 04 04 68 03 06")
    bad_sum = bytes.fromhex("ff 68 02 02 68 01 01 03 16")
    lengths_differ = bytes.fromhex("68 02 03 68 01 01 02 16")
    oversized = bytes([0x68, MAX_L + 1, MAX_L + 1, 0x68])
    unknown = bytes.fromhex("68 02 02 68 01 7f 80 16")
    stream = b"noise" + truncated + CALL_BYTES + bad_sum + lengths_differ + oversized + unknown + CALL_BYTES
    decoder = KeypadDecoder()
    assert decoder.feed(stream) == [CALL, CALL]
    counters = decoder.log.counters
    assert (counters.bad_length, counters.bad_checksum, counters.oversized, counters.malformed) == (2, 1, 1, 1)
    reasons = [seen.reason.split(":")[0] for seen in decoder.log.recent]
    assert reasons == ["bad_length", "", "bad_checksum", "bad_length", "oversized", "malformed", ""]
    assert "unknown_function" in decoder.log.recent[5].reason
    assert decoder.log.recent[1].summary == "01: key call"


def test_a_frame_cut_short_is_given_up_when_the_line_goes_quiet() -> None:
    decoder = KeypadDecoder()
    # A transfer cut after its counter's first byte, then a call: the decoder waits for the rest.
    assert decoder.feed(bytes.fromhex("ff 68 04 04 68 03 06 00") + CALL_BYTES[:5]) == []
    assert decoder.gap() == []
    assert decoder.log.counters.truncated == 2  # the transfer, and the call's head
    assert decoder.feed(CALL_BYTES) == [CALL]


def test_one_huge_read_of_noise_leaves_little_behind() -> None:
    decoder = KeypadDecoder(recent=3)
    decoder.feed(b"\x68\x12\x12\x68" * 20000)
    assert decoder.pending <= 4 + MAX_L + 2 + 64
    assert len(decoder.log.recent) == 3


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: KeyPress(0, Key.CALL), "bad_address"),
        (lambda: KeyPress(0xFF, Key.CALL), "bad_address"),
        (lambda: KeyPress(1, Key.TRANSFER), "bad_target"),
        (lambda: KeyPress(1, Key.CALL, 3), "bad_target"),
        (lambda: Rating(1, 4), "bad_key"),
        (lambda: Display(1, "A0234567890", 1), "bad_ticket"),
        (lambda: Display(1, "A023", 256), "bad_waiting"),
    ],
)
def test_a_frame_checks_itself_when_made(build: object, reason: str) -> None:
    with pytest.raises(BadMessage) as refused:
        build()  # type: ignore[operator]
    assert refused.value.reason == reason


ADDRESSES = st.integers(1, 0xFE)
FRAMES = st.one_of(
    st.builds(KeyPress, ADDRESSES, st.sampled_from([k for k in Key if k is not Key.TRANSFER])),
    st.builds(KeyPress, ADDRESSES, st.just(Key.TRANSFER), st.integers(1, 9999)),
    st.builds(Rating, ADDRESSES, st.integers(0, 3)),
    st.builds(Poll, ADDRESSES),
    st.builds(Idle, ADDRESSES),
    st.builds(Display, ADDRESSES, st.from_regex(r"[A-Z0-9]{0,8}", fullmatch=True), st.integers(0, 255)),
)
# Noise that cannot hold a start byte (68); the wake-up byte and end byte may come in it.
NOISE = st.binary(max_size=30).map(lambda b: b.replace(b"\x68", b""))


@given(st.binary(max_size=2000), st.lists(st.integers(1, 50), min_size=1))
def test_any_bytes_in_any_reads_never_raise_and_stay_bounded(data: bytes, sizes: list[int]) -> None:
    decoder = KeypadDecoder()
    for piece in chunked(data, sizes):
        decoder.feed(piece)
        assert decoder.pending <= 4 + MAX_L + 2 + 64
    decoder.gap()
    assert decoder.pending == 0


@given(st.lists(st.tuples(NOISE, FRAMES)), NOISE, st.lists(st.integers(1, 30), min_size=1))
def test_every_frame_in_noise_is_found_once_and_in_order(
    pieces: list[tuple[bytes, KeypadFrame]], tail: bytes, sizes: list[int]
) -> None:
    stream = b"".join(noise + encode(frame) for noise, frame in pieces) + tail
    decoder = KeypadDecoder()
    found = [frame for piece in chunked(stream, sizes) for frame in decoder.feed(piece)]
    assert found == [frame for _, frame in pieces]
