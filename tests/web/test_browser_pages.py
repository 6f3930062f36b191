"""The pages in a real browser: home and its language switch, staff login, the live wallboard.

A real ``hall serve`` process and headless Chromium. The wallboard test also stops and restarts the
server to see the page show the lost link, reconnect on its own and catch up.

Screenshots of every screen go to test-artifacts/screenshots/. With HALL_UPDATE_SCREENSHOT=1 the
wallboard is also saved to docs/screenshot.png for the README.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browsing import Screens
from tests.serverproc import ServerProcess, login
from tests.timing import MS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
README_SHOT = ROOT / "docs" / "screenshot.png"

# The reconnect wait covers the client's backoff (up to 15 s, jittered); ordinary waits are the screens'.
RECONNECT_WAIT = int(30_000 * MS * 1000)

# Clerks of hall 1 (xh): username, display name, counter they take on the wallboard.
CLERKS = [("clerk1", "王晓梅", 3), ("clerk2", "李建国", 1), ("clerk3", "张丽华", 5), ("clerk4", "刘洋", 8)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("browser"))
    proc.init()
    proc.add_staff("sup", "supervisor", name="陈志强")
    for username, name, _number in CLERKS:
        proc.add_staff(username, "clerk", name=name)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


class Clerk:
    """A clerk driving counters through the HTTP API, as the counter console would."""

    def __init__(self, server: ServerProcess, username: str) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=10)
        self.token = login(self.client, username, server.passwords[username])

    def act(self, number: int, action: str, *, via: str = "", **body: str) -> None:
        done = self.client.post(
            f"{via}/api/v1/halls/1/counters/{number}/{action}", json=body, headers={"X-CSRF-Token": self.token}
        )
        assert done.status_code == 200, done.text

    def close(self) -> None:
        self.client.close()


def counter(page: Any, number: int) -> Any:
    return page.locator(f'#counters li[data-number="{number}"]')


def test_home_is_chinese_first_and_switches_to_english(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    page = screens.open("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_title(re.compile("首页"))
    expect(page.locator("h1")).to_have_text("政务服务大厅")
    cards = page.locator("section.hall-card")
    expect(cards).to_have_count(3)
    for name in ("星河区政务服务中心", "和平街道便民服务中心", "柳荫社区党群服务站"):
        expect(cards.filter(has_text=name)).to_have_count(1)
    for hall_id in (1, 2, 3):
        link = page.locator(f'a[href="/wallboard/{hall_id}"]')
        expect(link).to_have_text("监察大屏")
    shoot(page, "home-zh")

    page.click("text=English")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_title(re.compile("Home"))
    expect(page.locator("h1")).to_have_text("Government Service Hall")
    expect(page.locator('a[href="/wallboard/1"]')).to_have_text("Wallboard")
    # The choice is kept in a cookie: a plain load of the page is still in English.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Government Service Hall")
    shoot(page, "home-en")

    page.click("text=中文")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("政务服务大厅")


def test_wallboard_asks_for_login_and_refuses_a_wrong_password(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    page = screens.open("/wallboard/1")
    expect(page).to_have_url(f"{server.url}/login?next=/wallboard/1")
    expect(page.locator("h1")).to_have_text("工作人员登录")

    screens.allow(r"status of 400 .*/login\)$")  # the form is answered 400, with the reason
    screens.fill_login(page, "sup", "not-the-password")
    expect(page.locator("p.alert")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(f"{server.url}/login")
    expect(page.locator("#username")).to_have_value("sup")
    shoot(page, "login-error")

    screens.fill_login(page, "sup", server.passwords["sup"])
    expect(page).to_have_url(f"{server.url}/wallboard/1")
    expect(page.locator("h1")).to_contain_text("星河区政务服务中心")
    expect(page.locator(".topbar .who")).to_contain_text("陈志强")


def test_wallboard_is_live_resumes_after_a_restart_and_logs_out(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    # At the wall screen's size: the README shows the board as the hall's wall shows it.
    page = screens.open("/wallboard/1", role="supervisor", width=1920, height=1080)
    link = page.locator("#link-state")
    expect(link).to_have_text("实时")
    expect(page.locator("#counters li")).to_have_count(12)
    expect(page.locator("#counters li.status-closed")).to_have_count(12)
    expect(counter(page, 3).locator(".state")).to_have_text("关闭")

    clerks = {username: Clerk(server, username) for username, _name, _number in CLERKS}
    try:
        # Changes made elsewhere reach the open page without a reload.
        page.evaluate("window.__sameDocument = true")
        clerks["clerk1"].act(3, "open")
        expect(counter(page, 3).locator(".state")).to_have_text("开放")
        expect(counter(page, 3).locator(".clerk")).to_contain_text("王晓梅")
        expect(counter(page, 3)).to_have_class(re.compile(r"\bstatus-open\b"))
        clerks["clerk1"].act(3, "pause", reason="午休")
        expect(counter(page, 3).locator(".state")).to_have_text("暂停 · 午休")
        expect(counter(page, 3)).to_have_class(re.compile(r"\bstatus-paused\b"))

        # A few more counters, so the board looks like a working morning.
        clerks["clerk2"].act(1, "open")
        clerks["clerk3"].act(5, "open")
        clerks["clerk3"].act(5, "pause", reason="外出取件")
        clerks["clerk4"].act(8, "open")
        expect(counter(page, 8).locator(".clerk")).to_contain_text("刘洋")
        expect(page.locator("#summary")).to_have_text("开放：2 · 暂停：2 · 关闭：8")
        expect(page.locator("#events li")).to_have_count(6)
        assert page.evaluate("window.__sameDocument") is True
        page.evaluate("document.activeElement && document.activeElement.blur()")
        shoot(page, "wallboard-live")
        if os.environ.get("HALL_UPDATE_SCREENSHOT") == "1":
            README_SHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(README_SHOT))

        # The server goes away: the page says so, and keeps what it had.
        screens.allow(r"WebSocket connection to .* failed")
        server.stop()
        expect(link).to_have_class(re.compile(r"\boffline\b"))
        expect(link).to_have_text("连接中断，正在重连…")
        expect(counter(page, 3).locator(".state")).to_have_text("暂停 · 午休")
        shoot(page, "wallboard-offline")

        # Meanwhile the counter closes: another server on the same database stands in, so the page
        # (still knocking on the stopped server's port) misses the event.
        stand_in = ServerProcess(server.workdir, server.db_url)
        stand_in.start()
        try:
            clerks["clerk1"].act(3, "close", via=stand_in.url)
        finally:
            stand_in.stop()
        expect(counter(page, 3).locator(".state")).to_have_text("暂停 · 午休")

        # Back on the same database and port: the page reconnects by itself, sends the last sequence
        # it saw and gets exactly the missed event (one new line in the log, nothing twice).
        server.start()
        expect(link).to_have_text("实时", timeout=RECONNECT_WAIT)
        expect(link).not_to_have_class(re.compile(r"\boffline\b"))
        expect(counter(page, 3).locator(".state")).to_have_text("关闭", timeout=RECONNECT_WAIT)
        expect(counter(page, 3).locator(".clerk")).to_have_text("—")
        expect(page.locator("#events li")).to_have_count(7)
        expect(page.locator("#events li").first).to_have_attribute("data-type", "counter.closed")
        expect(page.locator("#events li").first).to_contain_text("3 号窗口关闭")
        expect(counter(page, 5).locator(".state")).to_have_text("暂停 · 外出取件")
        expect(page.locator("#summary")).to_have_text("开放：2 · 暂停：1 · 关闭：9")

        # And live events flow again on the new connection.
        clerks["clerk2"].act(1, "pause", reason="会议")
        expect(counter(page, 1).locator(".state")).to_have_text("暂停 · 会议")
        expect(page.locator("#events li")).to_have_count(8)
        expect(page.locator("#summary")).to_have_text("开放：1 · 暂停：2 · 关闭：9")
        assert page.evaluate("window.__sameDocument") is True
    finally:
        for clerk in clerks.values():
            clerk.close()

    # Logging out from the header ends the session: the wallboard asks for a login again.
    page.click(".topbar form button")
    expect(page).to_have_url(f"{server.url}/")
    expect(page.locator(".topbar")).to_contain_text("工作人员登录")
    page.goto("/wallboard/1")
    expect(page).to_have_url(f"{server.url}/login?next=/wallboard/1")
