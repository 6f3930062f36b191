"""The queue display's sound in a real browser: headless Chromium keeps a page silent until someone
clicks it, unless it is started with ``--autoplay-policy=no-user-gesture-required`` (a wall
screen's kiosk browser, docs/displays.md). The display says on screen when sound is blocked or
fails, plays calls when it may, and reports its sound to the technicians' device console.
Screenshots go to test-artifacts/screenshots/display-voice-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.brokers import Broker, _broker_for
from tests.browsing import CHROMIUM_ARGS, Screens, wait_until
from tests.peers import CHROMIUM
from tests.queueing.test_public_pages import open_hall_all_week
from tests.serverproc import ServerProcess, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
DISPLAY = "qd-hall"
# Every sound a page plays to its end, by URL: <audio> elements the page makes outside the document.
COUNT_PLAYS = """
window.__played = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () {
  const started = play.call(this);
  started.then(() => this.addEventListener("ended", () => window.__played.push(this.src), { once: true }), () => {});
  return started;
};
"""


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    made = _broker_for(tmp_path_factory.mktemp("mosquitto"), anonymous=True)
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, broker: Broker) -> Iterator[ServerProcess]:
    """A hall with a device bus, a technician, a clerk and a registered queue display."""
    proc = ServerProcess(tmp_path_factory.mktemp("voice"))
    proc.env["HALL_MQTT_URL"] = broker.url
    proc.init()
    proc.add_staff("zhao", "technician", name="赵工")
    for clerk, name in (("clerk1", "王晓梅"), ("clerk2", "李建国"), ("clerk3", "张丽")):
        proc.add_staff(clerk, "clerk", name=name)
    open_hall_all_week(proc.db_url)
    proc.start()
    with httpx.Client(base_url=proc.url, timeout=10) as api:
        token = login(api, "zhao", proc.passwords["zhao"])
        made = api.post(
            "/api/v1/halls/1/devices",
            json={"device": DISPLAY, "kind": "queue_display"},
            headers={"X-CSRF-Token": token},
        )
        assert made.status_code == 201, made.text
        # The address the console gives for the display's own screen, with its key.
        listed = api.get("/api/v1/halls/1/devices").json()["devices"]
        proc.display_url = next(d["screen_url"] for d in listed if d["id"] == DISPLAY)  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def kiosk_browser(browser: Any) -> Iterator[Any]:
    """Chromium as a wall screen runs it: sound allowed without a click (from the same driver as
    the usual one: one Playwright per thread)."""
    launched = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, AUTOPLAY])
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture
def wall_screens(kiosk_browser: Any, server: ServerProcess) -> Iterator[Screens]:
    opened = Screens(kiosk_browser, server)
    try:
        yield opened
    finally:
        opened.close()
    opened.check()


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"display-voice-{name}.png"))


def _wall(screens: Screens, path: str) -> Any:
    context = screens.context(width=1920, height=1080)
    context.add_init_script(COUNT_PLAYS)
    page = context.new_page()
    page.goto(path)
    return page


def _call(server: ServerProcess, clerk: str, counter: int) -> str:
    """A resident takes a social-security ticket and ``clerk`` opens ``counter`` and calls it; the
    ticket's number. (A clerk holds one counter: each test has its own.)"""
    with httpx.Client(base_url=server.url, timeout=10) as api:
        taken = api.get("/kiosk/1")
        token = re.search(r'name="csrf-token" content="([^"]+)"', taken.text)
        assert token is not None
        ticket = api.post("/api/v1/halls/1/tickets", json={"service": "soc"}, headers={"X-CSRF-Token": token[1]})
        assert ticket.status_code in (200, 201), ticket.text
        number = str(ticket.json()["ticket"]["number"])
    with httpx.Client(base_url=server.url, timeout=10) as api:
        token = login(api, clerk, server.passwords[clerk])
        for action in ("open", "call-next"):
            done = api.post(f"/api/v1/halls/1/counters/{counter}/{action}", json={}, headers={"X-CSRF-Token": token})
            assert done.status_code == 200, done.text
    return number


def _console_voice(screens: Screens, text: str) -> None:
    from playwright.sync_api import expect

    console = screens.open("/devices/1", role="technician", width=1366, height=900)
    row = console.locator(f'#table tr[data-device="{DISPLAY}"]')
    expect(row.locator(".voice")).to_have_text(text)
    console.close()


def test_a_wall_screen_whose_browser_blocks_sound_says_so(screens: Screens) -> None:
    from playwright.sync_api import expect

    display = _wall(screens, f"{screens.server.display_url}&autoplay=1")
    sign = display.locator("#voice-state")
    expect(sign).to_be_visible()
    expect(sign).to_contain_text("浏览器禁止了声音：叫号只显示，不播报")
    expect(sign).to_contain_text("The browser blocks sound: calls are shown, not spoken")
    # Nobody can click a wall screen: no button asks for it.
    expect(display.locator("#enable-voice")).to_have_count(0)
    _shoot(display, "blocked")
    # The device console hears it from the display.
    _console_voice(screens, "声音被浏览器禁止")

    # A call still shows, and is not spoken.
    number = _call(screens.server, "clerk1", 3)
    expect(display.locator("#call-zh")).to_contain_text(number)
    display.wait_for_timeout(500)
    assert display.evaluate("window.__played") == []
    expect(sign).to_be_visible()


def test_a_click_lets_an_attended_display_speak(screens: Screens) -> None:
    from playwright.sync_api import expect

    display = _wall(screens, "/display/1")
    sign = display.locator("#voice-state")
    enable = display.locator("#enable-voice")
    expect(sign).to_be_visible()
    expect(enable).to_be_visible()
    _shoot(display, "click-to-enable")
    enable.click()
    expect(sign).to_be_hidden()
    expect(enable).to_be_hidden()
    expect(display.locator("#display")).to_have_attribute("data-voice-state", "ok")


def test_a_wall_screen_started_with_the_autoplay_flag_speaks_without_a_click(wall_screens: Screens) -> None:
    from playwright.sync_api import expect

    display = _wall(wall_screens, f"{wall_screens.server.display_url}&autoplay=1")
    expect(display.locator("#display")).to_have_attribute("data-voice-state", "ok")
    expect(display.locator("#voice-state")).to_be_hidden()
    _console_voice(wall_screens, "语音正常")

    number = _call(wall_screens.server, "clerk2", 11)
    expect(display.locator("#call-zh")).to_contain_text(number)
    call = f"/voice/call.mp3?number={number}&counter=11&lang=zh_CN"
    # The chime, then the call twice, each played to its end.
    wait_until(display, "url => window.__played.filter(u => u.endsWith(url)).length === 2", call, timeout=30)
    played = display.evaluate("window.__played")
    assert played[-3].endswith("/voice/chime.wav") and played[-2].endswith(call), played
    expect(display.locator("#voice-state")).to_be_hidden()
    _shoot(display, "speaking")


def test_a_display_whose_voice_fails_says_so(wall_screens: Screens) -> None:
    from playwright.sync_api import expect

    display = _wall(wall_screens, f"{wall_screens.server.display_url}&autoplay=1")
    expect(display.locator("#display")).to_have_attribute("data-voice-state", "ok")
    wall_screens.allow(r"status of 503")
    display.route(
        "**/voice/call.mp3*",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"code":"voice_unavailable","message":"x"}'
        ),
    )
    number = _call(wall_screens.server, "clerk3", 12)
    expect(display.locator("#call-zh")).to_contain_text(number)
    sign = display.locator("#voice-state")
    expect(sign).to_be_visible()
    expect(sign).to_contain_text("语音播报不可用：叫号只显示，不播报")
    expect(sign).to_contain_text("Voice unavailable: calls are shown, not spoken")
    _shoot(display, "failed")
    _console_voice(wall_screens, "语音故障")
