"""An alarm that clears by itself, on the wall (1920×1080): counter 3 stays paused past the hall's
limit (one minute here, the least a hall may set) and its alarm comes up; nobody acknowledges it,
the clerk resumes, and at the queue clock's next look the wall lists it as cleared, with when, in
either language. Screenshot: test-artifacts/screenshots/wallboard-alarm-cleared.png."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.browsing import Screens
from tests.peers import CHROMIUM, missing
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WALL = {"width": 1920, "height": 1080}


def _pause_limit_one_minute(db_url: str) -> None:
    """Every hall's pause limit at one minute, before the server starts (its writer caches rules)."""
    with sqlite3.connect(db_url.split("///", 1)[1]) as db:
        for hall_id, rules in db.execute("select hall_id, rules from queue_rules").fetchall():
            db.execute(
                "update queue_rules set rules = ? where hall_id = ?",
                (json.dumps({**json.loads(rules), "pause_limit_minutes": 1}), hall_id),
            )
    db.close()


def _at_a_time(before: str, after: str) -> re.Pattern[str]:
    """A line with a clock time (HH:MM) between two texts."""
    return re.compile(rf"^{re.escape(before)}\d\d:\d\d{re.escape(after)}$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        missing("Chromium")
    proc = ServerProcess(tmp_path_factory.mktemp("alarm-clearing"))
    # The queue clock looks every two seconds instead of fifteen.
    proc.env["HALL_TICK_SECONDS"] = "2"
    proc.init()
    proc.add_staff("zhao", "clerk", name="赵建国", staff_no="0311")
    proc.add_staff("chen", "supervisor", name="陈志强")
    open_all_week(proc.db_url)
    _pause_limit_one_minute(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_a_pause_alarm_nobody_acknowledged_clears_when_the_clerk_resumes(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    wall = screens.open("/wallboard/1", role="supervisor", **WALL)
    with httpx.Client(base_url=server.url) as zhao:
        token = login(zhao, "zhao", server.passwords["zhao"])
        for action, body in (("open", {}), ("pause", {"reason": "午休"})):
            zhao.post(
                f"/api/v1/halls/1/counters/3/{action}", json=body, headers={"X-CSRF-Token": token}
            ).raise_for_status()
        alarm = wall.locator("#alarms li.alarm-open")
        expect(alarm).to_have_count(1, timeout=120_000)
        expect(alarm.locator(".text")).to_contain_text("3 号窗口已暂停")
        expect(wall.locator("#alarms-count")).to_have_text("1")
        zhao.post("/api/v1/halls/1/counters/3/resume", json={}, headers={"X-CSRF-Token": token}).raise_for_status()
    cleared = wall.locator("#alarms li.alarm-cleared")
    expect(cleared).to_have_count(1, timeout=30_000)
    expect(wall.locator("#alarms li.alarm-open")).to_have_count(0)
    expect(wall.locator("#alarms-count")).to_have_text("")
    expect(cleared.locator(".state")).to_have_text(_at_a_time("已于 ", " 自动解除"))
    expect(cleared.locator("button")).to_have_count(0)
    expect(wall.locator("#events")).to_contain_text("告警已自动解除：3 号窗口已暂停")
    SHOTS.mkdir(parents=True, exist_ok=True)
    wall.screenshot(path=str(SHOTS / "wallboard-alarm-cleared.png"))

    wall.goto("/wallboard/1?lang=en")
    expect(wall.locator("#alarms li.alarm-cleared .state")).to_have_text(_at_a_time("Cleared by itself at ", ""))
    screens.check()
