"""The technician's device console in a real browser, with a real server and a real MQTT broker.

A display nobody registered connects to the hall's broker and announces itself; the technician
sees it appear as waiting for registration, registers it at a counter, is shown its secret once,
sees it in the device table, online when it comes back with its credentials, and pings it.
Screenshots go to test-artifacts/screenshots/devices-*.png.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.brokers import Broker
from tests.browsing import Screens
from tests.peers import CHROMIUM, missing
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


class BusDevice:
    """A device on the broker, as its firmware would be: it announces its state, reports telemetry
    and acknowledges every command it is sent (on paho's own network thread)."""

    def __init__(self, broker: Broker, device: str, kind: str, hall: str = "xh") -> None:
        import paho.mqtt.client as mqtt

        self.base = f"hall/{hall}/dev/{device}"
        self.kind = kind
        self.commands: list[str] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
        self.client.will_set(f"{self.base}/state", self._body(status="offline"), qos=1, retain=True)
        self.client.on_message = self._on_message
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(f"{self.base}/cmd", qos=1)
        assert self._subscribed.wait(10)

    @staticmethod
    def _body(**fields: Any) -> bytes:
        return json.dumps({"v": 1, **fields}).encode()

    def announce(self, firmware: str) -> None:
        self._publish("state", status="online", kind=self.kind, firmware=firmware, retain=True)

    def report(self, **values: Any) -> None:
        self._publish("tele", **values)

    def _publish(self, channel: str, *, retain: bool = False, **fields: Any) -> None:
        sent = self.client.publish(f"{self.base}/{channel}", self._body(**fields), qos=1, retain=retain)
        sent.wait_for_publish(10)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        command = json.loads(message.payload)
        self.commands.append(command["name"])
        ack = self._body(id=command["id"], ok=True, result={"pong": True} if command["name"] == "ping" else {})
        client.publish(f"{self.base}/ack", ack, qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def server(tmp_path: Path, open_broker: Broker) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        missing("Chromium")
    server = ServerProcess(tmp_path)
    server.env["HALL_MQTT_URL"] = open_broker.url
    server.init()
    server.add_staff("zhao", "technician", name="赵工")
    open_all_week(server.db_url)  # before the start: the writer caches the hall's state
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"devices-{name}.png"), full_page=True)


def test_a_technician_registers_a_device_that_announced_itself(
    server: ServerProcess, open_broker: Broker, screens: Screens
) -> None:
    from playwright.sync_api import expect

    # A kiosk registered earlier that has not connected since: listed, and offline.
    with httpx.Client(base_url=server.url, timeout=10) as api:
        token = login(api, "zhao", server.passwords["zhao"])
        earlier = api.post(
            "/api/v1/halls/1/devices", json={"device": "xh-kiosk-1", "kind": "kiosk"}, headers={"X-CSRF-Token": token}
        )
        assert earlier.status_code == 201, earlier.text

    display = stranger = None
    try:
        page = screens.open("/devices/1", role="technician", width=1366, height=900)
        expect(page.locator("h1")).to_contain_text("设备运维")
        expect(page.locator("#link-state")).to_have_text("实时")
        expect(page.locator("#bus")).to_contain_text("设备总线已连接")
        expect(page.locator("#no-pending")).to_be_visible()
        kiosk = page.locator('#table tr[data-device="xh-kiosk-1"]')
        expect(kiosk).to_contain_text("离线")
        expect(kiosk).to_contain_text("自助取号机")

        # Two devices nobody registered connect and say what they are; the page shows them live.
        display = BusDevice(open_broker, "xh-c3-window", "window")
        display.announce("2.0.1")
        stranger = BusDevice(open_broker, "xh-led-9", "led")
        stranger.announce("0.9")
        pending = page.locator('#pending tr[data-device="xh-c3-window"]')
        expect(pending).to_contain_text("窗口屏")
        expect(pending).to_contain_text("2.0.1")
        expect(page.locator('#pending tr[data-device="xh-led-9"]')).to_be_visible()
        expect(page.locator("#summary")).to_contain_text("待登记：2")

        # Registered at counter 3 (its claimed kind is preselected); the secret is shown once.
        expect(pending.locator("select[name=kind]")).to_have_value("window")
        pending.locator("select[name=counter]").select_option("3")
        pending.locator("button[type=submit]").click()
        dialog = page.locator("#secret-dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("仅显示这一次")
        expect(page.locator("#secret-user")).to_have_text("xh-c3-window")
        secret = page.locator("#secret-value").input_value()
        assert len(secret) >= 24
        _shoot(page, "secret")
        page.click("#secret-dialog button[value=ok]")
        expect(dialog).to_be_hidden()
        # The dialog's close event (queued after it hides) empties the field.
        expect(page.locator("#secret-value")).to_have_value("")

        row = page.locator('#table tr[data-device="xh-c3-window"]')
        expect(row).to_contain_text("已登记")
        expect(row).to_contain_text("3号窗口")
        expect(page.locator('#pending tr[data-device="xh-c3-window"]')).to_have_count(0)

        # Configured with its credentials, the display reports in: heard from, it is online.
        display.report(temperature=43.2, rssi=-58, uptime=5400)
        expect(row.locator(".presence")).to_have_text("在线")
        expect(row.locator(".telemetry")).to_contain_text("43.2 °C")

        # A ping from the command box, acknowledged by the device.
        row.locator("button").click()
        expect(page.locator("#detail")).to_be_visible()
        expect(page.locator("#detail-title")).to_contain_text("xh-c3-window")
        expect(page.locator('#command-buttons [data-command="paper_refill"]')).to_be_disabled()
        page.click('#command-buttons [data-command="ping"]')
        outcome = page.locator("#command-outcome")
        expect(outcome).to_contain_text("成功")
        expect(outcome).to_contain_text("尝试 1 次")
        expect(page.locator("#commands tbody tr").first).to_contain_text("连通测试")
        assert display.commands == ["ping"]
        _shoot(page, "console")

        # English second: the same console, kinds still named in both languages.
        page.goto("/devices/1?lang=en")
        expect(page.locator("h1")).to_contain_text("Device console")
        row = page.locator('#table tr[data-device="xh-c3-window"]')
        expect(row.locator(".presence")).to_have_text("Online")
        expect(row).to_contain_text("窗口屏")
        expect(row).to_contain_text("Counter display")
        _shoot(page, "console-en")
    finally:
        for device in (display, stranger):
            if device is not None:
                device.close()
    screens.check()


def test_a_resident_swipes_an_id_card_at_the_kiosk_and_takes_a_ticket_in_their_name(
    server: ServerProcess, open_broker: Broker, screens: Screens
) -> None:
    from playwright.sync_api import expect

    with httpx.Client(base_url=server.url, timeout=10) as api:
        token = login(api, "zhao", server.passwords["zhao"])
        made = api.post(
            "/api/v1/halls/1/devices",
            json={"device": "xh-kiosk-idr", "kind": "id_reader"},
            headers={"X-CSRF-Token": token},
        )
        assert made.status_code == 201, made.text
        # The console gives the technician the kiosk's own address, with the key binding the two.
        listed = api.get("/api/v1/halls/1/devices").json()["devices"]
        kiosk_url = next(d["screen_url"] for d in listed if d["id"] == "xh-kiosk-idr")
    path = server.db_url.split("///", 1)[1]
    reader = BusDevice(open_broker, "xh-kiosk-idr", "id_reader")
    try:
        page = screens.open(f"{kiosk_url}&print=off", width=1080, height=1500)
        state = page.locator("#card-state")
        expect(state).to_contain_text("将身份证放在读卡器上")
        card = {"name": "王秀英", "id_number": "11010519491231002X", "sex": "女"}
        reader._publish("evt", id="swipe-000001", type="card", data=card)
        expect(state).to_contain_text("已读取身份证：王*")
        _shoot(page, "kiosk-card-read")
        assert "11010519491231002X" not in page.content()
        page.locator('button.service[data-code="soc"]').click()
        expect(page.locator("#slip-number")).to_have_text("A001")
        expect(state).to_contain_text("将身份证放在读卡器上")  # the card is used once
        screens.check()
    finally:
        reader.close()
    with sqlite3.connect(path) as db:
        holders = db.execute("select applicant_name, applicant_id_number from tickets").fetchall()
    db.close()
    assert holders == [("王秀英", "11010519491231002X")]


def test_the_console_shows_presses_the_hall_refused_apart_from_faults(
    server: ServerProcess, open_broker: Broker, screens: Screens
) -> None:
    from playwright.sync_api import expect

    with httpx.Client(base_url=server.url, timeout=10) as api:
        token = login(api, "zhao", server.passwords["zhao"])
        made = api.post(
            "/api/v1/halls/1/devices",
            json={"device": "xh-c4-keypad", "kind": "keypad", "counter": 4},
            headers={"X-CSRF-Token": token},
        )
        assert made.status_code == 201, made.text
        keypad = BusDevice(open_broker, "xh-c4-keypad", "keypad")
        try:
            # Nobody opened counter 4: both presses are refused, and answered, as counter_closed.
            for n in range(2):
                keypad._publish("evt", id=f"press-00000{n}", type="call", data={})

            def refused() -> int:
                listed = api.get("/api/v1/halls/1/devices").json()["devices"]
                return int(next(d for d in listed if d["id"] == "xh-c4-keypad")["refused_total"])

            for _ in range(250):
                if refused() == 2:
                    break
                threading.Event().wait(0.02)
            assert refused() == 2
        finally:
            keypad.close()

    page = screens.open("/devices/1", role="technician", width=1366, height=900)
    row = page.locator('#table tr[data-device="xh-c4-keypad"]')
    expect(row.locator(".rejected")).to_contain_text("0")
    expect(row.locator(".rejected .refused")).to_have_text("业务规则拒绝： 2")
    expect(row.locator(".rejected .refused")).to_have_attribute("title", "counter_closed: 2")
    _shoot(page, "refused")
    screens.check()
