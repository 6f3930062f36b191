"""The hall's PC/SC layout for ID card data (devices/idcard_apdu.py, docs/protocols/idcard.md): the
reader's APDUs and a card applet answering them, sharing one module, as a reader and a test card do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.idcard_apdu import (
    AID,
    Apdu,
    CardApplet,
    Response,
    Sw,
    base_data,
    read_binary,
    read_plan,
    select,
)
from devices.idcard_data import decode
from devices.idcard_data import encode as card_text
from devices.protocol import BadMessage
from tests.devices.test_idcard_data import CARD

TEXT = card_text(CARD)


def test_the_reader_selects_the_application_then_reads_the_256_bytes_in_two_chunks() -> None:
    assert [apdu.to_bytes().hex(" ") for apdu in read_plan()] == [
        "00 a4 04 0c 08 f0 48 41 4c 4c 49 44 01",
        "00 b0 00 00 80",
        "00 b0 00 80 80",
    ]
    card = CardApplet(TEXT)
    answers = [Response.parse(card.respond(apdu.to_bytes())) for apdu in read_plan()]
    assert [a.sw for a in answers] == [Sw.OK] * 3
    assert decode(base_data(answers)) == CARD


@pytest.mark.parametrize("chunk", [1, 7, 0x80, 0xF0, 0xFF])
def test_any_chunk_size_up_to_ff_reads_the_same_bytes(chunk: int) -> None:
    card = CardApplet(TEXT)
    assert base_data([Response.parse(card.respond(a.to_bytes())) for a in read_plan(chunk)]) == TEXT


def test_the_card_answers_what_it_cannot_do_with_its_status_word() -> None:
    card = CardApplet(TEXT)
    assert card.respond(read_binary(0, 30).to_bytes()) == bytes.fromhex("69 85")  # nothing selected yet
    assert card.respond(bytes.fromhex("00 a4 04 0c 07 f0 00 00 00 00 00 01")) == bytes.fromhex("6a 82")
    assert card.respond(select().to_bytes()) == bytes.fromhex("90 00")
    assert card.respond(read_binary(0x00F0, 0x20).to_bytes()) == TEXT[0xF0:] + bytes.fromhex("62 82")
    assert card.respond(read_binary(0x0100, 1).to_bytes()) == bytes.fromhex("6b 00")
    assert card.respond(bytes.fromhex("00 b0 00 00")) == bytes.fromhex("67 00")  # no Le
    assert card.respond(bytes.fromhex("80 b0 00 00 10")) == bytes.fromhex("6e 00")
    assert card.respond(bytes.fromhex("00 d6 00 00 01 00")) == bytes.fromhex("6d 00")  # no writing
    assert card.respond(b"\x00") == bytes.fromhex("67 00")


def test_a_refusal_or_a_short_read_stops_the_reader_with_its_reason() -> None:
    with pytest.raises(BadMessage, match="card_refused: status word 6A82"):
        base_data([Response(b"", Sw.NOT_FOUND)])
    with pytest.raises(BadMessage, match="bad_length"):
        base_data([Response(b"", Sw.OK), Response(TEXT[:128], Sw.OK)])
    with pytest.raises(BadMessage, match="bad_length"):
        read_binary(0, 0x100)
    with pytest.raises(BadMessage, match="bad_response"):
        Response.parse(b"\x90")


@pytest.mark.parametrize(
    ("wire", "apdu"),
    [
        ("00 b0 00 00", Apdu(0, 0xB0, 0, 0)),
        ("00 b0 00 00 00", Apdu(0, 0xB0, 0, 0, le=256)),
        (f"00 a4 04 0c 08 {AID.hex(' ')}", Apdu(0, 0xA4, 4, 0x0C, AID)),
        (f"00 a4 04 00 08 {AID.hex(' ')} 00", Apdu(0, 0xA4, 4, 0, AID, 256)),
    ],
)
def test_the_four_cases_of_a_short_apdu_read_back(wire: str, apdu: Apdu) -> None:
    assert Apdu.parse(bytes.fromhex(wire)) == apdu
    assert apdu.to_bytes() == bytes.fromhex(wire)


@given(st.binary(max_size=300))
def test_the_card_answers_any_bytes_with_a_status_word_and_never_raises(command: bytes) -> None:
    card = CardApplet(TEXT)
    card.respond(select().to_bytes())
    answer = Response.parse(card.respond(command))
    assert answer.sw in set(Sw)
    assert len(answer.data) <= 256
