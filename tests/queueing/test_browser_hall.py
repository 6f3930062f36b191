"""One resident's whole visit through every screen of the hall, in a real browser and server.

The resident takes a ticket at the kiosk; the hall display shows it waiting; the clerk calls it
from the counter console; the display and the citizen screen show the call; the clerk finishes;
the resident rates the service on the citizen screen, and the supervisor's wallboard sees it.
Screenshots of each screen go to test-artifacts/screenshots/hall-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browsing import Screens, wait_until
from tests.peers import CHROMIUM, missing
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        missing("Chromium")
    server = ServerProcess(tmp_path)
    server.init()
    server.add_staff("wang", "clerk", name="王晓梅")
    server.add_staff("chen", "supervisor", name="陈志强")
    open_all_week(server.db_url)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"hall-{name}.png"), full_page=True)


def test_a_visit_from_the_kiosk_to_the_rating(screens: Screens) -> None:
    from playwright.sync_api import expect

    # Three browsers: the hall's public screens (the kiosk prints: counted, see COUNT_PRINTS), the
    # clerk's PC with its two monitors, the supervisor's.
    public, clerk = screens.context(), screens.context()
    display = screens.open("/display/1", context=public)
    kiosk = public.new_page()
    console = screens.open("/counter/1/2", role="clerk", context=clerk)
    citizen = screens.open("/counter/1/2/citizen", context=clerk)  # the second monitor of the clerk's own PC
    wallboard = screens.open("/wallboard/1", role="supervisor")
    console.get_by_role("button", name="开放窗口").click()
    expect(console.locator("#counter-status")).to_have_text("开放")
    expect(citizen.locator("#clerk-name")).to_have_text("王晓梅")

    # The kiosk: a ticket for social security, and the display's line grows.
    kiosk.goto("/kiosk/1")
    kiosk.locator('#services button[data-code="soc"]').click()
    expect(kiosk.locator("#slip-number")).to_have_text("A001")
    wait_until(kiosk, "window.__prints === 1")
    _shoot(kiosk, "kiosk")
    expect(display.locator('#lines li[data-code="soc"] .count')).to_contain_text("等候 1 人")
    _shoot(display, "display-waiting")
    expect(console.locator("#waiting tbody tr[data-ticket]")).to_have_count(1)

    # The clerk calls it from the console: the display and the citizen screen show the call.
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text("A001")
    expect(display.locator("#call-zh")).to_have_text("请 A001 号到 2 号窗口办理")
    expect(citizen.locator("#serving-line")).to_have_text("请 A001 号到本窗口办理")
    _shoot(display, "display-call")
    _shoot(console, "console")
    console.keyboard.press("s")
    expect(citizen.locator("#serving-line")).to_have_text("正在为 A001 号办理")
    _shoot(citizen, "citizen-serving")

    # Finished: the resident rates on the citizen screen; the wallboard raises the alarm.
    console.keyboard.press("f")
    rating = citizen.locator("#rating")
    expect(rating).to_be_visible()
    _shoot(citizen, "citizen-rating")
    rating.locator('.aspect[data-aspect="办事效率"] button[data-score="2"]').click()
    rating.get_by_role("button", name="不满意", exact=True).click()
    expect(citizen.locator("#thanks")).to_be_visible()
    expect(wallboard.locator("#alarm")).to_contain_text("A001")
    expect(wallboard.locator("#orders tbody")).to_contain_text("王晓梅")
    _shoot(wallboard, "wallboard")
    given = [
        e for e in wallboard.request.get("/api/v1/halls/1/events?limit=1000").json() if e["type"] == "rating.given"
    ]
    assert given[-1]["data"]["aspects"] == {"办事效率": 2}
    assert given[-1]["data"]["label"] == "不满意"
    screens.check()
