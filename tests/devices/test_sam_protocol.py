"""The ID reader's SAM protocol (devices/sam_protocol.py, docs/protocols/idcard.md): the requests and
replies readers really exchange, base data without its photo, bad input counted, any input survived."""

from __future__ import annotations

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.idcard_data import encode as card_text
from devices.protocol import BadMessage
from devices.sam_protocol import (
    MAX_LENGTH,
    MAX_REPLY_DATA,
    PREAMBLE,
    BaseData,
    Command,
    Reply,
    ReplyDecoder,
    Request,
    RequestDecoder,
    Sw3,
    encode,
    encode_base_data,
)
from tests.devices.test_idcard_data import CARD
from tests.devices.wire import chunked

# As readers' documentation and drivers write them.
REQUESTS = [
    ("aa aa aa 96 69 00 03 20 01 22", Command.FIND_CARD),
    ("aa aa aa 96 69 00 03 20 02 21", Command.SELECT_CARD),
    ("aa aa aa 96 69 00 03 30 01 32", Command.READ_BASE),
    ("aa aa aa 96 69 00 03 11 ff ed", Command.SAM_STATUS),
    ("aa aa aa 96 69 00 03 12 ff ee", Command.READ_SAM_ID),
]
REPLIES = [
    ("aa aa aa 96 69 00 08 00 00 9f 00 00 00 00 97", Reply(0, 0, Sw3.FOUND, bytes(4))),
    ("aa aa aa 96 69 00 0c 00 00 90 00 00 00 00 00 00 00 00 9c", Reply(0, 0, Sw3.OK, bytes(8))),
    ("aa aa aa 96 69 00 04 00 00 90 94", Reply(0, 0, Sw3.OK)),
    ("aa aa aa 96 69 00 04 00 00 80 84", Reply(0, 0, Sw3.NO_CARD)),
    ("aa aa aa 96 69 00 04 00 00 81 85", Reply(0, 0, Sw3.SELECT_FAILED)),
    ("aa aa aa 96 69 00 04 00 00 41 45", Reply(0, 0, Sw3.READ_FAILED)),
]
TEXT = card_text(CARD)
# A photo is 1024 bytes of wlt-compressed image; these stand in for one.
PHOTO = bytes(range(256)) * 4
READ = encode_base_data(TEXT, PHOTO)


@pytest.mark.parametrize(("wire", "command"), REQUESTS, ids=[c.name for _, c in REQUESTS])
def test_every_request_has_its_exact_bytes_both_ways(wire: str, command: Command) -> None:
    assert encode(Request(command)) == bytes.fromhex(wire)
    assert RequestDecoder().feed(bytes.fromhex(wire)) == [Request(command)]


@pytest.mark.parametrize(("wire", "reply"), REPLIES, ids=[f"{r.sw3:02x}" for _, r in REPLIES])
def test_every_reply_has_its_exact_bytes_both_ways(wire: str, reply: Reply) -> None:
    assert encode(reply) == bytes.fromhex(wire)
    assert ReplyDecoder().feed(bytes.fromhex(wire)) == [reply]
    assert reply.ok == (reply.sw3 in (0x90, 0x9F))


def test_read_base_data_is_1295_bytes_whose_text_is_kept_and_photo_dropped() -> None:
    assert len(READ) == 1295
    assert READ[:14] == bytes.fromhex("aa aa aa 96 69 05 08 00 00 90 01 00 04 00")
    decoder = ReplyDecoder()
    [frame] = decoder.feed(READ)
    assert frame == BaseData(TEXT, 1024)
    assert frame.card() == CARD
    assert {f.name for f in fields(frame)} == {"text", "photo_length", "fingerprint_length"}
    assert "王" not in repr(frame) and TEXT.hex() not in repr(frame)
    seen = decoder.log.recent[-1]
    assert seen.raw == "aa aa aa 96 69 05 08 00 00 90 … (+1285 bytes)"
    assert seen.summary == "reply base data: 王**, 110***********" + CARD.id_number[-4:] + "; photo 1024 bytes dropped"
    assert decoder.pending == 0


def test_fingerprints_sent_unasked_are_dropped_like_the_photo() -> None:
    [frame] = ReplyDecoder().feed(encode_base_data(TEXT, PHOTO, bytes(1024)))
    assert frame == BaseData(TEXT, 1024, 1024)
    assert "fingerprints 1024 bytes dropped" in frame.summary()


def test_base_data_one_byte_at_a_time_decodes_once() -> None:
    decoder = ReplyDecoder()
    assert [f for byte in READ for f in decoder.feed(bytes([byte]))] == [BaseData(TEXT, 1024)]


def test_a_card_that_is_not_sound_still_decodes_as_a_frame_and_says_so() -> None:
    wrong = CARD.id_number[:-1] + "0"  # the check digit is X
    bad = TEXT.replace(CARD.id_number.encode("utf-16-le"), wrong.encode("utf-16-le"))
    [frame] = ReplyDecoder().feed(encode_base_data(bad, PHOTO))
    assert isinstance(frame, BaseData)
    assert "card refused (invalid_id_number)" in frame.summary()


def test_bad_frames_are_counted_and_the_next_good_frame_decodes() -> None:
    found = bytes.fromhex(REPLIES[0][0])
    bad_xor = bytearray(found)
    bad_xor[-1] ^= 1
    too_short = PREAMBLE + bytes.fromhex("00 03 00 00 90")
    oversized = PREAMBLE + (MAX_LENGTH + 1).to_bytes(2, "big")
    long_reply = PREAMBLE + _with_xor((3 + 300 + 1).to_bytes(2, "big") + bytes([0, 0, 0x90]) + bytes(300))
    stream = b"\x00\x01" + bytes(bad_xor) + too_short + oversized + long_reply + found
    decoder = ReplyDecoder()
    assert decoder.feed(stream) == [Reply(0, 0, Sw3.FOUND, bytes(4))]
    counters = decoder.log.counters
    assert (counters.bad_checksum, counters.bad_length, counters.oversized, counters.malformed) == (1, 1, 1, 1)
    reasons = [seen.reason.split(":")[0] for seen in decoder.log.recent]
    assert reasons == ["bad_checksum", "bad_length", "oversized", "malformed", ""]
    # The log shows no more than the head of any frame: never a name, a number or a photo.
    assert all(len(seen.raw.split(" … ")[0].split()) <= 10 for seen in decoder.log.recent)


def test_a_frame_cut_short_is_given_up_when_the_line_goes_quiet() -> None:
    found = bytes.fromhex(REPLIES[0][0])
    decoder = ReplyDecoder()
    # The reader was unplugged mid-frame, then answers the next find card.
    assert decoder.feed(READ[:600] + found) == []  # LEN said 1288: the decoder waits for them
    assert decoder.gap() == [Reply(0, 0, Sw3.FOUND, bytes(4))]
    assert decoder.log.counters.truncated == 1 and decoder.pending == 0
    assert decoder.log.recent[0].raw == "aa aa aa 96 69 05 08 00 00 90 … (+605 bytes)"
    assert decoder.gap() == []


def _with_xor(body: bytes) -> bytes:
    check = 0
    for byte in body:
        check ^= byte
    return body + bytes([check])


def test_a_request_the_reader_does_not_know_is_malformed() -> None:
    decoder = RequestDecoder()
    assert decoder.feed(PREAMBLE + _with_xor(bytes.fromhex("00 03 40 01"))) == []
    assert "unknown_command" in decoder.log.recent[-1].reason


def test_frames_check_themselves_when_made() -> None:
    with pytest.raises(BadMessage, match="bad_text"):
        BaseData(TEXT[:10], 1024)
    with pytest.raises(BadMessage, match="unrecognised_data"):
        Reply(0, 0, 0x90, bytes(MAX_REPLY_DATA + 1))


SW3 = st.one_of(st.sampled_from(Sw3), st.integers(0, 255))
REPLY_FRAMES = st.one_of(
    st.builds(lambda sw3, data: (encode(Reply(0, 0, sw3, data)), Reply(0, 0, sw3, data)), SW3, st.binary(max_size=32)),
    st.builds(lambda photo: (encode_base_data(TEXT, photo), BaseData(TEXT, len(photo))), st.binary(max_size=1024)),
)
REQUEST_FRAMES = st.builds(
    lambda command, data: (encode(Request(command, data)), Request(command, data)),
    st.sampled_from(Command),
    st.binary(max_size=16),
)
# Noise that cannot hold the preamble: no AA at all.
NOISE = st.binary(max_size=40).map(lambda b: b.replace(b"\xaa", b""))


@given(st.binary(max_size=3000), st.lists(st.integers(1, 300), min_size=1))
def test_any_bytes_in_any_reads_never_raise_and_stay_bounded(data: bytes, sizes: list[int]) -> None:
    decoders: list[ReplyDecoder | RequestDecoder] = [ReplyDecoder(), RequestDecoder()]
    for decoder in decoders:
        for piece in chunked(data, sizes):
            decoder.feed(piece)
            assert decoder.pending <= 7 + MAX_LENGTH + 256
        decoder.gap()
        assert decoder.pending == 0


@given(st.lists(st.tuples(NOISE, REPLY_FRAMES), max_size=6), NOISE, st.lists(st.integers(1, 200), min_size=1))
def test_every_reply_in_noise_is_found_once_and_in_order(
    pieces: list[tuple[bytes, tuple[bytes, Reply | BaseData]]], tail: bytes, sizes: list[int]
) -> None:
    stream = b"".join(noise + wire for noise, (wire, _) in pieces) + tail
    decoder = ReplyDecoder()
    found = [frame for piece in chunked(stream, sizes) for frame in decoder.feed(piece)]
    assert found == [frame for _, (_, frame) in pieces]


@given(st.lists(st.tuples(NOISE, REQUEST_FRAMES)), NOISE, st.lists(st.integers(1, 30), min_size=1))
def test_every_request_in_noise_is_found_once_and_in_order(
    pieces: list[tuple[bytes, tuple[bytes, Request]]], tail: bytes, sizes: list[int]
) -> None:
    stream = b"".join(noise + wire for noise, (wire, _) in pieces) + tail
    decoder = RequestDecoder()
    found = [frame for piece in chunked(stream, sizes) for frame in decoder.feed(piece)]
    assert found == [frame for _, (_, frame) in pieces]
