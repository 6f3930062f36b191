"""Every refusal a device can meet, spoken to as devices: each is answered on ``reply`` with a code
for programs (the one docs/protocols/mqtt.md lists), and counted without a warning per press."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from devices.protocol import encode
from hall.storage.queue_tables import queue_services
from tests.devicehall import FakeDevice, device_hall, fake_device
from tests.memory_broker import MemoryBroker

pytestmark = pytest.mark.asyncio

VALID_ID = "11010519491231002X"
MQTT_DOC = Path(__file__).resolve().parents[2] / "docs" / "protocols" / "mqtt.md"

# What each kind of refusal is told, in the order the hall below meets them.
EXPECTED = {
    "unknown service": "not_found",
    "outside the service's hours": "closed",
    "sold out": "sold_out",
    "a priority class that does not exist": "invalid",
    "an ID number with a wrong check digit": "bad_id_number",
    "a card that holds a live ticket already": "live_ticket_held",
    "an event this kind does not send": "bad_event",
    "an event without the schema version": "bad_version",
    "an event whose data is not an object": "bad_field",
    "a key at a closed counter": "counter_closed",
    "a key naming another counter": "wrong_counter",
    "a ticket key with no ticket called": "no_current_ticket",
    "resume at an open counter": "bad_transition",
    "call with nobody waiting": "nothing_waiting",
    "call while a ticket is still on the counter": "counter_busy",
    "start twice": "bad_transition",
    "call at a paused counter": "counter_paused",
    "a rating with nothing to rate": "nothing_to_rate",
    "a rating out of range": "bad_field",
}


def documented_codes() -> set[str]:
    """The codes docs/protocols/mqtt.md's table of refusals names."""
    text = MQTT_DOC.read_text(encoding="utf-8")
    section = text.split("### Refusals", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE))


async def refused(device: FakeDevice, kind: str, data: dict[str, Any] | None = None) -> str:
    reply = await device.reply(await device.event(kind, data))
    assert reply["ok"] is False, reply
    assert set(reply["error"]) <= {"code", "message", "field"}
    assert reply["error"]["message"]
    return str(reply["error"]["code"])


async def raw_refusal(device: FakeDevice, body: dict[str, Any], *, version: bool = True) -> str:
    payload = encode(body) if version else encode(body).replace(b'"v":1,', b"")
    await device.send("evt", payload)
    reply = await device.reply(str(body["id"]))
    assert reply["ok"] is False, reply
    return str(reply["error"]["code"])


async def ok(device: FakeDevice, kind: str, data: dict[str, Any] | None = None) -> None:
    reply = await device.reply(await device.event(kind, data))
    assert reply["ok"] is True, reply


async def close_civil_and_cap_disab(engine: AsyncEngine) -> None:
    # Before the server starts: its display feeds load the hall's state at once.
    async with engine.begin() as conn:
        await conn.execute(update(queue_services).where(queue_services.c.code == "civil").values(week={}))
        await conn.execute(update(queue_services).where(queue_services.c.code == "disab").values(daily_cap=1))


async def test_every_refusal_is_answered_with_its_code(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broker = MemoryBroker()
    told: dict[str, str] = {}
    caplog.set_level(logging.INFO, logger="devices")
    async with device_hall(tmp_path, broker.connector(), before_start=close_civil_and_cap_disab) as hall:
        await hall.register("xh-kiosk-1", "kiosk")
        await hall.register("xh-c1-keypad", "keypad", counter=1)
        await hall.register("xh-c1-rating", "rating_pad", counter=1)
        async with (
            fake_device(broker.connector(), "xh", "xh-kiosk-1") as kiosk,
            fake_device(broker.connector(), "xh", "xh-c1-keypad") as keypad,
            fake_device(broker.connector(), "xh", "xh-c1-rating") as pad,
        ):
            told["unknown service"] = await refused(kiosk, "press", {"service": "nope"})
            told["outside the service's hours"] = await refused(kiosk, "press", {"service": "civil"})
            await ok(kiosk, "press", {"service": "disab"})
            told["sold out"] = await refused(kiosk, "press", {"service": "disab"})
            card = {"name": "王秀英", "id_number": VALID_ID}
            await ok(kiosk, "press", {"service": "hukou", "card": card})  # one live ticket per card
            told["a card that holds a live ticket already"] = await refused(
                kiosk, "press", {"service": "hukou", "card": card}
            )
            told["a priority class that does not exist"] = await refused(
                kiosk, "press", {"service": "soc", "priority": "vip"}
            )
            told["an ID number with a wrong check digit"] = await refused(
                kiosk, "press", {"service": "soc", "card": {"name": "张三", "id_number": "110105194912310021"}}
            )
            told["an event this kind does not send"] = await refused(kiosk, "call")
            told["an event without the schema version"] = await raw_refusal(
                kiosk, {"id": "no-version-1", "type": "press", "data": {}}, version=False
            )
            told["an event whose data is not an object"] = await raw_refusal(
                kiosk, {"v": 1, "id": "bad-data-01", "type": "press", "data": [1]}
            )

            told["a key at a closed counter"] = await refused(keypad, "call")
            await hall.open_counter(1)
            told["a key naming another counter"] = await refused(keypad, "call", {"counter": 2})
            told["a ticket key with no ticket called"] = await refused(keypad, "finish")
            told["resume at an open counter"] = await refused(keypad, "resume")
            await ok(kiosk, "press", {"service": "soc"})
            await ok(keypad, "call")
            told["call while a ticket is still on the counter"] = await refused(keypad, "call")
            await ok(keypad, "start")
            told["start twice"] = await refused(keypad, "start")
            await ok(keypad, "finish")
            told["call with nobody waiting"] = await refused(keypad, "call")
            told["a rating out of range"] = await refused(pad, "rate", {"level": 9})
            await ok(pad, "rate", {"level": 5})
            told["a rating with nothing to rate"] = await refused(pad, "rate", {"level": 4})
            await ok(keypad, "pause")
            told["call at a paused counter"] = await refused(keypad, "call")
        await hall.settle()
        stats = hall.devices.gateway.stats

    assert told == EXPECTED
    assert set(told.values()) <= documented_codes()
    # A hall refuses presses all day: counted per device and code, not a warning each time.
    assert stats.refused["xh-c1-keypad"]["counter_closed"] == 1
    assert stats.refused["xh-kiosk-1"]["sold_out"] == 1
    assert stats.refused["xh-c1-rating"]["nothing_to_rate"] == 1
    assert stats.refused["xh-kiosk-1"]["bad_id_number"] == 1  # a bad card is no fault of the kiosk
    assert stats.rejected["xh-kiosk-1"]["bad_event"] == 1  # an event it should never send is
    assert "counter_closed" not in stats.rejected["xh-c1-keypad"]
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [m for m in warned if any(code in m for code in ("counter_closed", "sold_out", "nothing_"))]
