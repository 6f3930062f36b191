"""The hex dumps of docs/protocols/serial.md and idcard.md are what the codecs do: every dump is
decoded here, to exactly one frame, shown on the console as the dump's ``=`` line says; and the
docs show every command and reply. Docs and code cannot drift apart."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devices import keypad_protocol, led_protocol, sam_protocol
from devices.idcard_apdu import CardApplet
from devices.idcard_data import encode as card_text
from tests.devices.test_idcard_data import CARD

DOCS = Path(__file__).resolve().parents[2] / "docs" / "protocols"
BLOCK = re.compile(r"^```(frame [a-z-]+|apdu)\n(.*?)^```", re.MULTILINE | re.DOTALL)
DECODERS: dict[str, Callable[[], Any]] = {
    "led": led_protocol.LedDecoder,
    "keypad": keypad_protocol.KeypadDecoder,
    "sam-request": sam_protocol.RequestDecoder,
    "sam-reply": sam_protocol.ReplyDecoder,
}


def _bytes(line: str) -> bytes:
    """A dump line's bytes: the hex before two spaces, ``× n`` repeating them."""
    dump = line.split("  ")[0].strip()
    dump, _, times = dump.partition("×")
    tokens = dump.split()
    assert all(re.fullmatch(r"[0-9A-F]{2}", token) for token in tokens), f"not hex bytes: {line!r}"
    return bytes.fromhex(" ".join(tokens)) * int(times or 1)


def _blocks(name: str) -> list[tuple[str, str]]:
    return [(kind, body) for kind, body in BLOCK.findall((DOCS / name).read_text(encoding="utf-8"))]


FRAMES = [
    (name, kind.split()[1], body)
    for name in ("serial.md", "idcard.md")
    for kind, body in _blocks(name)
    if kind != "apdu"
]
SESSIONS = [body for kind, body in _blocks("idcard.md") if kind == "apdu"]


@pytest.mark.parametrize(("doc", "codec", "body"), FRAMES, ids=[f"{d}:{c}:{i}" for i, (d, c, _) in enumerate(FRAMES)])
def test_every_dump_decodes_to_one_frame_shown_as_the_docs_say(doc: str, codec: str, body: str) -> None:
    lines = body.strip().splitlines()
    said = [line.removeprefix("= ") for line in lines if line.startswith("= ")]
    wire = b"".join(_bytes(line) for line in lines if not line.startswith("= "))
    decoder = DECODERS[codec]()
    frames = decoder.feed(wire)
    assert len(frames) == 1, decoder.log.recent
    assert decoder.log.counters.frames == 1
    assert sum(decoder.log.counters.as_dict().values()) == 1  # nothing rejected, nothing dropped
    assert said == [decoder.log.recent[-1].summary]
    if not isinstance(frames[0], sam_protocol.BaseData):  # the photo is gone: it cannot be sent again
        encode = {"led": led_protocol.encode, "keypad": keypad_protocol.encode}.get(codec, sam_protocol.encode)
        assert encode(frames[0]) == wire


@pytest.mark.parametrize("body", SESSIONS, ids=[f"idcard.md:apdu:{i}" for i in range(len(SESSIONS))])
def test_every_apdu_session_is_what_the_card_answers(body: str) -> None:
    card = CardApplet(card_text(CARD))
    command, answer = b"", b""
    for line in [*body.strip().splitlines(), "> "]:  # the last ">" checks the last answer
        if line.startswith(">"):
            if command:
                assert card.respond(command) == answer, line
            command, answer = _bytes(line[2:]), b""
        else:
            answer += _bytes(line[2:])


def test_the_docs_show_every_command_and_reply() -> None:
    shown: dict[str, set[str]] = {codec: set() for codec in DECODERS}
    for _, codec, body in FRAMES:
        shown[codec].add(body.strip().splitlines()[-1])
    led = " ".join(shown["led"])
    assert all(word in led for word in ("show ticket", "show text", "brightness", "clear", "test pattern", "poll"))
    assert all(word in led for word in ("ack", "nak", "status"))
    keypad = " ".join(shown["keypad"])
    assert all(word in keypad for word in ("poll", "idle", "key call", "transfer", "rate", "display"))
    requests = " ".join(shown["sam-request"])
    assert all(word in requests for word in ("find_card", "select_card", "read_base"))
    assert any("base data" in line for line in shown["sam-reply"])
    assert len(SESSIONS) >= 2
