"""Wired devices set up and watched through the API, and a card read by a SAM reader on a wire
reaching the clerk's intake form the way a real reader's does: serial → decoder → accept_card →
``/api/v1/halls/{hall}/counters/{n}/card``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from devices import keypad_protocol as keypad
from devices import led_protocol as led
from devices import sam_protocol as sam
from devices.idcard_data import IdCardData
from hall.runtime import Runtime
from hall.web.app import create_app
from tests.devices.test_serial import FAST
from tests.devices.wired_peers import Displays, FarEnd, Keypads, PtyPair, Sam
from tests.memory_broker import MemoryBroker
from tests.site import Site, make_site
from tests.timing import MS

DEVICES = "/api/v1/halls/1/devices"
CARD = IdCardData(
    name="李四",
    sex="2",
    nation="01",
    birth=date(1949, 12, 31),
    address="北京市西城区某街1号",
    id_number="11010519491231002X",
    issuer="北京市公安局西城分局",
    valid_from=date(2020, 1, 1),
    valid_until=None,
)


@pytest.fixture
def wired_site(tmp_path: Path) -> Iterator[tuple[Site, Runtime]]:
    config, ids, users = make_site(tmp_path)
    runtime = Runtime.build(config, connect=MemoryBroker().connector())
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        assert runtime.devices is not None
        runtime.devices.serial.timing = FAST
        runtime.devices.serial.backoff = (0.02, 0.1)
        yield Site(client, ids, users), runtime


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + 10_000 * MS
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_a_card_on_a_wired_reader_reaches_the_counters_intake_form_masked(
    tmp_path: Path, wired_site: tuple[Site, Runtime]
) -> None:
    site, runtime = wired_site
    portal = site.client.portal
    assert portal is not None and runtime.devices is not None
    pty = PtyPair(tmp_path)
    reader = Sam()
    far = FarEnd(pty.device, sam.RequestDecoder(), reader.answer)

    async def plug_in() -> None:
        await pty.plug()
        far.start()

    portal.call(plug_in)
    try:
        token = site.login("technician")
        assert site.post(DEVICES, token, {"device": "xh-c2-idr", "kind": "id_reader", "counter": 2}).status_code == 201
        assert site.post(DEVICES, token, {"device": "xh-c2-pad", "kind": "keypad", "counter": 2}).status_code == 201
        wire = f"{DEVICES}/xh-c2-idr/wire"
        # Settings are checked: a path that is no port, a SAM given an address, a keypad without one.
        refused = site.post(wire, token, {"wire": {"port": "/etc/passwd"}})
        assert (refused.status_code, refused.json()["field"]) == (422, "port")
        assert site.post(wire, token, {"wire": {"port": pty.host, "address": 3}}).json()["field"] == "address"
        assert site.post(f"{DEVICES}/xh-c2-pad/wire", token, {"wire": {"port": "/dev/ttyS9"}}).status_code == 422
        assert site.post(wire, token, {"wire": {"port": pty.host, "baud": 115200}}).status_code == 200
        # A keypad bus cannot share the reader's line.
        clash = site.post(f"{DEVICES}/xh-c2-pad/wire", token, {"wire": {"port": pty.host, "address": 1}})
        assert (clash.status_code, clash.json()["field"]) == (422, "port")
        listed = site.client.get(DEVICES).json()["devices"]
        assert next(d for d in listed if d["id"] == "xh-c2-idr")["wire"]["port"] == pty.host

        gateway = runtime.devices.gateway
        _until(lambda: (d := gateway.known.device("xh-c2-idr")) is not None and d.online, "the reader online")

        token = site.login("clerk")
        assert site.post("/api/v1/halls/1/counters/2/open", token).status_code == 200
        card = "/api/v1/halls/1/counters/2/card"
        assert site.client.get(card).status_code == 404
        reader.card = CARD  # a resident lays the card on the reader
        _until(lambda: site.client.get(card).status_code == 200, "the card at the counter")
        masked = site.client.get(card).json()
        assert (masked["name"], masked["id_number"], masked["masked"]) == ("李四", "110***********002X", True)
        assert reader.reads == 1  # left on the reader, it is read once

        site.login("technician")
        lines = site.client.get("/api/v1/halls/1/serial").json()
        assert isinstance(lines["ports"], list)
        (line,) = lines["lines"]
        assert line["state"] == "open" and line["good"] > 0 and line["cards"] == 1
        summaries = [seen["summary"] for seen in line["recent"]]
        assert any("base data" in said and "110***********002X" in said for said in summaries)
        assert all("李四" not in seen["raw"] and "photo" not in seen["raw"] for seen in line["recent"])
    finally:

        async def unplug() -> None:
            await far.stop()
            pty.unplug()
            await asyncio.sleep(0)

        portal.call(unplug)


def test_a_hall_without_a_broker_calls_a_ticket_from_its_wired_keypad(tmp_path: Path) -> None:
    """No HALL_MQTT_URL: the server still runs its wired lines, so a serial-only hall's keypad calls."""
    config, ids, users = make_site(tmp_path)
    assert not config.mqtt_url
    runtime = Runtime.build(config)
    pty, strip_pty = PtyPair(tmp_path), PtyPair(tmp_path, "strip")
    pads, strip = Keypads([1]), Displays([1])
    far = FarEnd(pty.device, keypad.KeypadDecoder(), pads.answer)
    strip_far = FarEnd(strip_pty.device, led.LedDecoder(), strip.answer)
    with TestClient(create_app(runtime=runtime), follow_redirects=False) as client:
        site = Site(client, ids, users)
        portal = client.portal
        assert portal is not None and runtime.devices is not None and not runtime.devices.broker
        runtime.devices.serial.timing = FAST

        async def plug_in() -> None:
            for wire, end in ((pty, far), (strip_pty, strip_far)):
                await wire.plug()
                end.start()

        portal.call(plug_in)
        try:
            token = site.login("technician")
            assert site.post(DEVICES, token, {"device": "xh-led-1", "kind": "led"}).status_code == 201
            assert site.post(
                f"{DEVICES}/xh-led-1/wire", token, {"wire": {"port": strip_pty.host, "address": 1}}
            ).is_success
            assert site.post(DEVICES, token, {"device": "xh-c1-pad", "kind": "keypad", "counter": 1}).status_code == 201
            assert site.post(DEVICES, token, {"device": "xh-kiosk-1", "kind": "kiosk"}).status_code == 201
            wired = site.post(f"{DEVICES}/xh-c1-pad/wire", token, {"wire": {"port": pty.host, "address": 1}})
            assert wired.status_code == 200, wired.text
            assert site.client.get(DEVICES).json()["bus"] is None  # no bus, and no pretending there is one
            # A network device cannot be reached without the bus; the wired one can.
            assert site.post(f"{DEVICES}/xh-kiosk-1/commands", token, {"name": "ping"}).json()["error"] == "no_bus"
            gateway = runtime.devices.gateway
            _until(lambda: (d := gateway.known.device("xh-c1-pad")) is not None and d.online, "the keypad online")

            token = site.login("clerk")
            assert site.post("/api/v1/halls/1/counters/1/open", token).status_code == 200
            issued = site.post("/api/v1/halls/1/tickets", token, {"service": "soc"})
            assert issued.status_code in (200, 201), issued.text
            pads.press(keypad.KeyPress(1, keypad.Key.CALL))
            _until(lambda: bool(pads.echoed), "the press echoed")

            def called() -> bool:
                counters = site.client.get("/api/v1/halls/1/queue").json()["counters"]
                return any(c["number"] == 1 and c.get("current") for c in counters)

            _until(called, "the ticket called at counter 1")

            # The console's commands to the wired strip, with their outcome; what does not fit is refused.
            token = site.login("technician")
            commands = f"{DEVICES}/xh-led-1/commands"
            for name, args in (("brightness", {"percent": 60}), ("clear", {}), ("show", {})):
                sent = site.post(commands, token, {"name": name, "args": args})
                assert (sent.status_code, sent.json()["status"]) == (200, "succeeded"), (name, sent.text)
            assert led.Brightness(60) in strip.shown[1] and led.Clear(led.ALL_AREAS) in strip.shown[1]
            too_bright = site.post(commands, token, {"name": "brightness", "args": {"percent": 101}})
            assert (too_bright.status_code, too_bright.json()["field"]) == (422, "percent")
            assert "0" in too_bright.json()["message"] and "100" in too_bright.json()["message"]
            assert site.post(commands, token, {"name": "reboot"}).json()["field"] == "name"
            assert site.post(f"{DEVICES}/xh-c1-pad/commands", token, {"name": "clear"}).json()["field"] == "name"
            recent = site.client.get(commands).json()["recent"]
            assert {c["name"] for c in recent} == {"brightness", "clear", "show"}
        finally:

            async def unplug() -> None:
                for wire, end in ((pty, far), (strip_pty, strip_far)):
                    await end.stop()
                    wire.unplug()
                await asyncio.sleep(0)

            portal.call(unplug)
