"""The device console's wired devices in a real browser, on a real server with no MQTT broker: a
keypad bus and an LED strip at the far ends of socat ptys. The technician sees each line's state,
its devices' presence, its good and bad frames (a corrupted one marked with its reason), wires the
strip through the form (a wrong port refused in Chinese, then the right one), and sets its
brightness and clears it from the command box.
Screenshots: test-artifacts/screenshots/devices-wired-1366x768.png and -1920x1080.png.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devices import keypad_protocol as keypad
from devices import led_protocol as led
from tests.browsing import Screens, shoot
from tests.devices.wired_peers import Displays, FarEnd, Keypads, PtyPair
from tests.peers import CHROMIUM, missing
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess, login
from tests.timing import MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Bench:
    """The far ends' own event loop, in a thread beside the synchronous browser test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=20_000 * MS)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        missing("Chromium")
    server = ServerProcess(tmp_path)
    server.env.pop("HALL_MQTT_URL", None)  # no broker: a hall of wired devices only
    server.init()
    server.add_staff("zhao", "technician", name="赵工")
    server.add_staff("li", "clerk", name="李娜")
    open_all_week(server.db_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _post(api: httpx.Client, token: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return api.post(f"/api/v1/halls/1{path}", json=body, headers={"X-CSRF-Token": token})


def test_a_technician_watches_wired_lines_and_wires_a_strip(
    tmp_path: Path, server: ServerProcess, screens: Screens
) -> None:
    from playwright.sync_api import expect

    bench = Bench()
    bus, strip_wire = PtyPair(tmp_path, "keypads"), PtyPair(tmp_path, "strip")
    pads, strip = Keypads([1]), Displays([1])
    pad_end = FarEnd(bus.device, keypad.KeypadDecoder(), pads.answer)
    strip_end = FarEnd(strip_wire.device, led.LedDecoder(), strip.answer)

    async def plug_in() -> None:
        for wire, end in ((bus, pad_end), (strip_wire, strip_end)):
            await wire.plug()
            end.start()

    bench.run(plug_in())
    try:
        with httpx.Client(base_url=server.url, timeout=10) as api:
            token = login(api, "zhao", server.passwords["zhao"])
            for body in (
                {"device": "xh-c1-pad", "kind": "keypad", "counter": 1},
                {"device": "xh-led-1", "kind": "led"},
            ):
                assert _post(api, token, "/devices", body).status_code == 201
            wired = _post(api, token, "/devices/xh-c1-pad/wire", {"wire": {"port": bus.host, "address": 1}})
            assert wired.status_code == 200, wired.text
        with httpx.Client(base_url=server.url, timeout=10) as clerk:
            token = login(clerk, "li", server.passwords["li"])
            assert _post(clerk, token, "/counters/1/open", {}).status_code == 200
            assert _post(clerk, token, "/tickets", {"service": "soc"}).status_code in (200, 201)

        page = screens.open("/devices/1", role="technician", width=1366, height=768)
        expect(page.locator("#link-state")).to_have_text("实时")
        expect(page.locator("#bus")).to_contain_text("未配置设备总线")
        keypads = page.locator(f'#lines .line[data-port="{bus.host}"]')
        expect(keypads.locator(".line-state")).to_have_text("线路已打开")
        expect(keypads).to_contain_text("呼叫器总线")
        expect(keypads).to_contain_text("9600 8N1")
        expect(keypads.locator('tr[data-device="xh-c1-pad"] .presence')).to_have_text("在线")
        expect(page.locator("#ports")).to_be_visible()

        # The clerk presses call; a burst of noise with a bad checksum comes down the bus too.
        broken = bytearray(keypad.encode(keypad.KeyPress(1, keypad.Key.TRANSFER, 9)))
        broken[-2] ^= 0x55
        pad_end.raw_out.append(bytes(broken))
        pads.press(keypad.KeyPress(1, keypad.Key.CALL))
        page.click("#wired-refresh")
        expect(keypads.locator(".frame-bad").first).to_contain_text("校验和错误")
        expect(keypads.locator(".count-bad")).to_contain_text("坏帧：1")
        page.click("#wired-refresh")
        expect(keypads.locator(".frames")).to_contain_text("key call")
        expect(keypads.locator(".frames")).to_contain_text("idle （×")
        expect(keypads.locator(".count-good")).not_to_have_text("好帧：0")

        # The strip is wired through the form: a wrong port is refused in Chinese, on its field.
        screens.allow(r"status of 422 .*/devices/xh-led-1/wire")
        page.locator('#table tr[data-device="xh-led-1"] button').click()
        block = page.locator("#wire-block")
        expect(block).to_be_visible()
        expect(block).to_contain_text("显示屏线路")
        form = page.locator("#wire-form")
        form.locator("input[name=port]").fill("/etc/passwd")
        form.locator("input[name=address]").fill("1")
        form.locator("button[type=submit]").click()
        expect(page.locator("#wire-error")).to_contain_text("串口")
        expect(form.locator("input[name=port]")).to_have_attribute("aria-invalid", "true")
        form.locator("input[name=port]").fill(strip_wire.host)
        form.locator("select[name=parity]").select_option("N")
        form.locator("button[type=submit]").click()
        expect(page.locator("#notice")).to_contain_text("已接入")
        expect(page.locator("#wire-error")).to_be_hidden()
        strips = page.locator(f'#lines .line[data-port="{strip_wire.host}"]')
        expect(strips).to_contain_text("显示屏线路")
        expect(strips.locator('tr[data-device="xh-led-1"] .presence')).to_have_text("在线")

        # Commands for a wired strip: brightness with its percent, and clear, through their lifecycle.
        expect(page.locator('#command-buttons [data-command="reboot"]')).to_be_hidden()
        page.fill("#brightness-percent", "60")
        page.click('#command-buttons [data-command="brightness"]')
        outcome = page.locator("#command-outcome")
        expect(outcome).to_contain_text("成功")
        page.click('#command-buttons [data-command="clear"]')
        expect(outcome).to_contain_text("清屏")
        expect(outcome).to_contain_text("成功")
        expect(page.locator("#commands tbody tr").first).to_contain_text("清屏")
        assert led.Brightness(60) in strip.shown[1] and led.Clear(led.ALL_AREAS) in strip.shown[1]
        page.click("#wired-refresh")
        expect(strips.locator(".frames")).to_contain_text("brightness")

        expect(page.locator('#table tr[data-device="xh-led-1"] .presence')).to_have_text("在线")
        expect(page.locator("#summary")).to_contain_text("离线：0")
        page.locator("#detail").scroll_into_view_if_needed()
        shoot(page, "devices-wired-1366x768")
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.click("#wired-refresh")
        expect(keypads.locator(".line-state")).to_have_text("线路已打开")
        shoot(page, "devices-wired-1920x1080")
        screens.check()
    finally:

        async def unplug() -> None:
            for wire, end in ((bus, pad_end), (strip_wire, strip_end)):
                await end.stop()
                wire.unplug()

        bench.run(unplug())
        bench.close()
