"""The base data of a resident identity card (devices/idcard_data.py, docs/protocols/idcard.md):
256 bytes of UCS-2 in fixed fields, decoded and checked, encoded for test cards, never shown whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from devices.idcard_data import LAYOUT, NATIONS, SEXES, SIZE, IdCardData, decode, encode
from hall.kernel.errors import DomainError, Invalid
from hall.kernel.idnumbers import InvalidIdNumber


def _number(first17: str) -> str:
    """A GB 11643 number with its check digit (stdnum computes it from a number with a place for it)."""
    return first17 + ric.calc_check_digit(first17 + "0")


# The example number of GB 11643-1999 itself (born 31 December 1949 in Chaoyang, Beijing; its 17th
# digit 2 is even: a woman), so no real person's number is written down; the rest is invented.
NUMBER = "11010519491231002X"
CARD = IdCardData(
    name="王秀英",
    sex="2",
    nation="01",
    birth=date(1949, 12, 31),
    address="北京市朝阳区建国路88号3单元402室",
    id_number=NUMBER,
    issuer="北京市公安局朝阳分局",
    valid_from=date(2010, 1, 15),
    valid_until=None,  # 长期: issued after 46
)
# A younger resident, whose card runs twenty years; the check digit computed by stdnum.
YOUNGER = replace(
    CARD,
    id_number=_number("11010519900307124"),
    birth=date(1990, 3, 7),
    valid_from=date(2015, 6, 1),
    valid_until=date(2035, 6, 1),
)


def _field(text: bytes, name: str) -> bytes:
    at = 0
    for field, width in LAYOUT:
        if field == name:
            return text[at : at + width]
        at += width
    raise KeyError(name)


def test_the_layout_fills_256_bytes_as_the_sam_gives_them() -> None:
    assert sum(width for _, width in LAYOUT) == 220  # then 36 reserved
    text = encode(CARD)
    assert len(text) == SIZE
    assert _field(text, "name") == "王秀英".ljust(15).encode("utf-16-le")
    assert _field(text, "sex") == b"2\x00"
    assert _field(text, "birth") == "19491231".encode("utf-16-le")
    assert _field(text, "id_number") == NUMBER.encode("utf-16-le")
    assert text[220:] == " ".encode("utf-16-le") * 18


def test_a_card_decodes_to_its_fields_with_the_spaces_stripped() -> None:
    card = decode(encode(CARD))
    assert card == CARD
    assert (card.name, card.address, card.issuer) == (
        "王秀英",
        "北京市朝阳区建国路88号3单元402室",
        "北京市公安局朝阳分局",
    )
    assert (card.sex_word, card.nation_word) == ("女", "汉族")


def test_a_card_valid_for_life_says_so_in_its_end_date() -> None:
    text = encode(CARD)
    assert _field(text, "valid_until") == "长期".ljust(8).encode("utf-16-le")
    assert decode(text).valid_until is None
    dated = encode(YOUNGER)
    assert _field(dated, "valid_until") == "20350601".encode("utf-16-le")
    assert decode(dated) == YOUNGER


def test_the_tables_hold_every_code_of_their_standards() -> None:
    assert set(SEXES) == {"0", "1", "2", "9"}
    assert len(NATIONS) == 56 + 2
    assert (NATIONS["01"], NATIONS["02"], NATIONS["43"], NATIONS["56"]) == ("汉族", "蒙古族", "乌孜别克族", "基诺族")


def test_a_bad_check_digit_is_refused_by_the_projects_id_number_rule() -> None:
    wrong = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    text = encode(CARD).replace(NUMBER.encode("utf-16-le"), wrong.encode("utf-16-le"))
    with pytest.raises(InvalidIdNumber) as refused:
        decode(text)
    assert refused.value.code == "invalid_id_number"
    assert refused.value.message == "not a valid ID number: its check digit does not match"
    assert refused.value.text.said("zh_CN") == "不是有效的身份证号码：校验码不符"


@pytest.mark.parametrize(
    ("change", "field", "english"),
    [
        ({"birth": date(1949, 12, 30)}, "birth", "the card's birth date does not agree with its ID number"),
        ({"sex": "1"}, "sex", "the card's sex does not agree with its ID number"),
        ({"sex": "3"}, "sex", "the card's sex code 3 is not one of GB/T 2261.1"),
        ({"nation": "57"}, "nation", "the card's ethnicity code 57 is not one of GB 3304"),
        ({"name": "  "}, "name", "the card has no name"),
        ({"name": "王" * 16}, "name", "the card's name is longer than 15 characters"),
        ({"valid_until": date(2010, 1, 1)}, "valid_until", "the card's validity ends before it begins"),
    ],
)
def test_a_card_that_contradicts_itself_is_refused_in_words(
    change: dict[str, object], field: str, english: str
) -> None:
    with pytest.raises(Invalid) as refused:
        replace(CARD, **change)  # type: ignore[arg-type]
    assert (refused.value.code, refused.value.details["field"], refused.value.message) == ("invalid", field, english)
    assert refused.value.text.said("zh_CN") != english  # a Chinese reader reads Chinese


def test_malformed_base_data_is_refused_not_crashed_on() -> None:
    with pytest.raises(Invalid, match="has 255 bytes, not 256"):
        decode(encode(CARD)[:255])
    bad_date = encode(CARD).replace("19491231".encode("utf-16-le"), "1949-123".encode("utf-16-le"))
    with pytest.raises(Invalid) as refused:
        decode(bad_date)
    assert refused.value.text.said("zh_CN") == "身份证的出生日期不是 YYYYMMDD 格式的日期"
    lone_surrogate = b"\x00\xd8" + encode(CARD)[2:]
    with pytest.raises(Invalid, match="not UCS-2"):
        decode(lone_surrogate)


def test_the_card_is_never_shown_whole() -> None:
    for shown in (repr(CARD), str(CARD), f"{CARD}", repr([CARD])):
        assert NUMBER not in shown and "王秀英" not in shown and "建国路" not in shown and "19491231" not in shown
        assert "王**" in shown and "110***********" + NUMBER[-4:] in shown
    assert CARD.masked() == {"name": "王**", "id_number": "110***********" + NUMBER[-4:]}


def _read(text: bytes) -> IdCardData | str:
    """The card, or the code of its refusal: nothing else may come out of decoding."""
    try:
        return decode(text)
    except DomainError as refused:
        return refused.code


@given(st.one_of(st.binary(max_size=300), st.binary(min_size=SIZE, max_size=SIZE)))
def test_any_bytes_decode_to_a_sound_card_or_a_refusal_and_nothing_else(text: bytes) -> None:
    card = _read(text)
    assert card in ("invalid", "invalid_id_number") or (isinstance(card, IdCardData) and decode(encode(card)) == card)


@given(st.integers(0, SIZE - 1), st.integers(1, 255))
def test_a_card_with_one_byte_changed_decodes_or_is_refused(at: int, flip: int) -> None:
    text = bytearray(encode(CARD))
    text[at] ^= flip
    read = _read(bytes(text))
    assert isinstance(read, IdCardData) or read in ("invalid", "invalid_id_number")
