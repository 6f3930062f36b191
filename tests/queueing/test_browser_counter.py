"""The counter console and its citizen screen (一机双屏) in a real browser, against a real server.

A clerk logs in, opens the console and, in a second window of the same browser, the citizen
screen. Tickets taken at the "kiosk" (the public API) appear live; the clerk works with the
keyboard; the citizen screen follows and, after the service is finished, asks for a rating in
the five levels of GB/T 39734-2020.

Screenshots go to test-artifacts/screenshots/ (counter-console, citizen-serving, citizen-rating).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browsing import Screens
from tests.helpers import csrf_of
from tests.serverproc import ServerProcess
from tests.timing import MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
WAIT = int(10_000 * MS * 1000)
# The citizen screen thanks the resident for 8 s before it returns to its idle screen.
THANKS_WAIT = int(20_000 * MS * 1000)
LEVELS = ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


def open_all_week(db_url: str) -> None:
    """Every service takes tickets day and night, holidays too, so the test runs at any hour.
    Done before the server starts: its writer caches the hall's state once loaded."""
    path = db_url.split("///", 1)[1]
    week = json.dumps({str(day): ["00:00", "23:59"] for day in range(7)})
    with sqlite3.connect(path) as db:
        db.execute("update queue_services set week = ?, open_on_holidays = 1", (week,))
    db.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("counter"))
    proc.init()
    # The citizen screen shows the clerk's staff number (工号), so this clerk has one.
    proc.add_staff("clerk1", "clerk", "xh", "李建国", staff_no="XH0107")
    # A second clerk, for a second counter.
    proc.add_staff("clerk2", "clerk", "xh", "赵敏", staff_no="XH0212")
    proc.add_staff("clerk3", "clerk", "xh", "孙丽", staff_no="XH0315")
    open_all_week(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class Kiosk:
    """A ticket machine: the public API, with the CSRF cookie and token a browser page gets."""

    def __init__(self, server: ServerProcess) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=10)
        self.token = csrf_of(self.client.get("/login").text)

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(path, json=body, headers={"X-CSRF-Token": self.token})

    def take(self, service: str) -> str:
        answer = self.post("/api/v1/halls/1/tickets", {"service": service})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["ticket"]["number"])


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_clerk_serves_from_the_console_and_the_resident_rates_on_the_second_screen(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    context = screens.context(width=1280, height=800)
    kiosk = Kiosk(server)
    try:
        console = screens.open("/counter/1/1", role="clerk", context=context)
        expect(console.locator("h1")).to_have_text("1号窗口 · 星河区政务服务中心")
        expect(console.locator("#link-state")).to_have_text("实时")
        status = console.locator("#counter-status")
        expect(status).to_have_text("关闭")

        # The second window, on the monitor that faces the resident.
        citizen = screens.open("/counter/1/1/citizen", context=context)
        expect(citizen.locator(".topbar")).to_be_hidden()  # no logout button for residents
        expect(citizen.locator("#link-state")).to_have_text("实时")
        expect(citizen.locator("#idle")).to_contain_text("请取号等候")
        expect(citizen.locator("#counter-status")).to_have_text("窗口关闭")
        expect(citizen.locator("#clerk")).to_be_hidden()
        expect(citizen.locator("#intake-panel")).to_be_hidden()

        # Open, pause for lunch (a quick choice), resume with the keyboard.
        console.get_by_role("button", name="开放窗口").click()
        expect(status).to_have_text("开放")
        expect(console.locator("#counter-holder")).to_contain_text("李建国")
        expect(citizen.locator("#clerk-name")).to_have_text("李建国")
        expect(citizen.locator("#clerk-no")).to_have_text("工号 XH0107")
        console.get_by_role("button", name="暂停 P").click()
        expect(console.locator("#pause-dialog")).to_be_visible()
        console.locator("#pause-dialog").get_by_role("button", name="午休").click()
        expect(status).to_have_text("暂停 · 午休")
        expect(citizen.locator("#counter-status")).to_have_text("暂停服务")
        shoot(citizen, "citizen-paused")
        console.keyboard.press("p")
        expect(status).to_have_text("开放")
        expect(citizen.locator("#counter-status")).to_have_text("欢迎光临")

        # Tickets taken at the kiosk appear in the console's waiting list without a reload.
        console.evaluate("window.__sameDocument = true")
        assert [kiosk.take("soc"), kiosk.take("soc"), kiosk.take("fund")] == ["A001", "A002", "B001"]
        rows = console.locator("#waiting tbody tr[data-ticket]")
        expect(rows).to_have_count(2)  # counter 1 serves social security only
        expect(rows.nth(0)).to_contain_text("A001")
        expect(rows.nth(0)).to_contain_text("社会保障")
        expect(rows.nth(1)).to_contain_text("A002")
        expect(console.locator("#waiting-total")).to_have_text("(2 人等候)")

        # N calls the next ticket; both screens show it.
        console.keyboard.press("n")
        expect(console.locator("#current-number")).to_have_text("A001")
        expect(console.locator("#current-state")).to_have_text("已呼叫")
        expect(citizen.locator("#serving-line")).to_have_text("请 A001 号到本窗口办理")
        expect(rows).to_have_count(1)
        console.keyboard.press("r")
        expect(console.locator("#current-recalls")).to_have_text("已重呼 1 次")
        console.keyboard.press("s")
        expect(console.locator("#current-state")).to_have_text("办理中")
        expect(citizen.locator("#serving-line")).to_have_text("正在为 A001 号办理")
        expect(citizen.locator("#serving-service")).to_have_text("社会保障")
        expect(console.locator("#notice")).to_contain_text("开始办理")
        console.evaluate("document.activeElement && document.activeElement.blur()")
        shoot(console, "counter-console")
        shoot(citizen, "citizen-serving")

        # F finishes; the citizen screen asks for a rating in the five levels.
        console.keyboard.press("f")
        expect(console.locator("#no-current")).to_be_visible()
        expect(console.locator("#current")).to_be_hidden()
        rating = citizen.locator("#rating")
        expect(rating).to_be_visible()
        expect(citizen.locator("#rating-ticket")).to_have_text("A001 号 · 社会保障")
        expect(rating.locator(".level-word")).to_have_text(LEVELS)
        expect(rating.locator("button.level")).to_have_count(5)
        citizen.evaluate("document.activeElement && document.activeElement.blur()")
        shoot(citizen, "citizen-rating")

        # The resident rates; the screen thanks them, then returns to its idle screen.
        rating.get_by_role("button", name="非常满意").click()
        expect(citizen.locator("#thanks")).to_be_visible()
        expect(citizen.locator("#thanks")).to_have_text("感谢您的评价！")
        shoot(citizen, "citizen-thanks")
        expect(citizen.locator("#idle")).to_be_visible(timeout=THANKS_WAIT)

        # Transfer A002 to the housing fund: it leaves this counter's line.
        console.keyboard.press("n")
        expect(console.locator("#current-number")).to_have_text("A002")
        console.keyboard.press("t")
        dialog = console.locator("#transfer-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#transfer-service").select_option("fund")
        shoot(console, "counter-transfer")
        dialog.get_by_role("button", name="转移").click()
        expect(console.locator("#no-current")).to_be_visible()
        expect(console.locator("#waiting tbody")).to_contain_text("暂无等候")

        # A refused action is shown as an alert, with the server's reason.
        screens.allow(r"status of 409 .*/counters/1/call-next\)$")
        alert = console.get_by_role("alert")
        expect(alert).to_be_hidden()
        console.keyboard.press("n")
        expect(alert).to_be_visible()
        # The headline and the server's own words, both in Chinese (no English refusal on the page).
        expect(alert).to_have_text("⚠ 无人可叫：1 号窗口没有等候的群众")
        assert console.evaluate("window.__sameDocument") is True
    finally:
        kiosk.client.close()
    screens.check()


def _log_in_as(screens: Screens, server: ServerProcess, path: str, username: str, context: Any) -> Any:
    page = context.new_page()
    page.goto(path)
    screens.fill_login(page, username, server.passwords[username])
    page.wait_for_url(f"{server.url}{path}")
    return page


def test_what_the_clerk_types_is_mirrored_on_the_citizen_screen_for_the_ticket_served_and_masked(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    context = screens.context(width=1366, height=768)
    kiosk = Kiosk(server)
    console = _log_in_as(screens, server, "/counter/1/2", "clerk2", context)
    citizen = screens.open("/counter/1/2/citizen", context=context)
    panel = citizen.locator("#intake-panel")
    blur = "document.activeElement && document.activeElement.blur()"
    expect(panel).to_be_hidden()
    console.get_by_role("button", name="开放窗口").click()
    expect(console.locator("#counter-status")).to_have_text("开放")
    first, second = kiosk.take("soc"), kiosk.take("soc")
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text(first)
    console.keyboard.press("s")
    expect(citizen.locator("#serving-line")).to_have_text(f"正在为 {first} 号办理")

    console.fill("#intake-name", "王秀英")
    console.fill("#intake-id", "110105194912310021")  # wrong check digit
    expect(console.locator("#intake-id-state")).to_have_text("✗ 身份证号码无效")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("请核对")
    expect(panel.locator("dd").nth(0)).to_have_text("王秀英")
    expect(panel).to_contain_text("✗ 身份证号码无效")

    console.fill("#intake-id", "11010519491231002X")
    console.fill("#intake-phone", "13812345678")
    console.fill("#intake-note", "灵活就业社保参保登记")
    expect(console.locator("#intake-id-state")).to_have_text("✓ 校验通过")
    expect(panel).to_contain_text("110***********002X")
    expect(panel).to_contain_text("✓ 校验通过")
    # The phone as every public screen shows it, never as typed.
    expect(panel).to_contain_text("138****5678")
    expect(panel).to_contain_text("灵活就业社保参保登记")
    html = citizen.content()
    assert "11010519491231002X" not in html and "13812345678" not in html
    shoot(console, "counter-intake")
    shoot(citizen, "citizen-intake")

    # A citizen screen opened later shows what is on the form at once.
    late = context.new_page()
    late.goto("/counter/1/2/citizen")
    expect(late.locator("#intake-panel")).to_contain_text("王秀英")
    late.close()

    # The service ends: the resident rates, and nothing of the data entered stays on their screen.
    console.evaluate(blur)
    console.keyboard.press("f")
    expect(console.locator("#no-current")).to_be_visible()
    expect(citizen.locator("#rating")).to_be_visible()
    expect(panel).to_be_hidden()
    assert "王秀英" not in citizen.content()

    # The clerk calls the next resident and starts entering them while the first is still rating:
    # the rating stays alone on the screen, with no one else's data above it.
    console.evaluate(blur)
    console.keyboard.press("n")
    expect(console.locator("#current-number")).to_have_text(second)
    expect(console.locator("#intake-name")).to_have_value("")  # the form was the last resident's
    console.fill("#intake-name", "李四海")
    console.fill("#intake-phone", "13900001111")
    console.wait_for_timeout(500)
    expect(citizen.locator("#rating")).to_be_visible()
    expect(panel).to_be_hidden()
    assert "李四海" not in citizen.content() and "139****1111" not in citizen.content()
    shoot(citizen, "citizen-rating-next-called")

    # Once the next resident's service starts, their data is theirs to check.
    console.evaluate(blur)
    console.keyboard.press("s")
    expect(citizen.locator("#serving-line")).to_have_text(f"正在为 {second} 号办理")
    expect(panel).to_contain_text("李四海")
    expect(panel).to_contain_text("139****1111")

    # Transferred to another service, the ticket leaves the counter, and its data the screen.
    console.keyboard.press("t")
    dialog = console.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#transfer-service").select_option("fund")
    dialog.get_by_role("button", name="转移").click()
    expect(console.locator("#no-current")).to_be_visible()
    expect(panel).to_be_hidden()
    assert "李四海" not in citizen.content()
    kiosk.client.close()
    screens.check()


# The citizen screen's sizes: a counter's second monitor (1366×768) and a wall-sized one (1920×1080).
CITIZEN_SIZES = [(1920, 1080), (1366, 768)]


def test_the_rating_buttons_are_in_full_view_when_a_rating_is_asked(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    width, height = CITIZEN_SIZES[0]
    context = screens.context(width=width, height=height)
    kiosk = Kiosk(server)
    try:
        console = _log_in_as(screens, server, "/counter/1/3", "clerk3", context)
        citizen = screens.open("/counter/1/3/citizen", context=context)
        console.get_by_role("button", name="开放窗口").click()
        expect(console.locator("#counter-status")).to_have_text("开放")
        number = kiosk.take("info")
        console.keyboard.press("n")
        expect(console.locator("#current-number")).to_have_text(number)
        console.keyboard.press("s")
        expect(citizen.locator("#serving-line")).to_have_text(f"正在为 {number} 号办理")
        # Data entered during the service sat above the rating once, pushing its buttons down.
        console.fill("#intake-name", "周玉兰")
        expect(citizen.locator("#intake-panel")).to_be_visible()
        console.evaluate("document.activeElement && document.activeElement.blur()")
        console.keyboard.press("f")
        rating = citizen.locator("#rating")
        expect(rating).to_be_visible()
        # This hall scores aspects too (the sample district hall asks three): the most there is to fit.
        expect(rating.locator(".aspect")).to_have_count(3)
        citizen.evaluate("document.activeElement && document.activeElement.blur()")
        for width, height in CITIZEN_SIZES:
            citizen.set_viewport_size({"width": width, "height": height})
            citizen.wait_for_timeout(200)  # the layout settles
            shoot(citizen, f"citizen-rating-{width}x{height}")
            buttons = rating.locator("button.level")
            expect(buttons).to_have_count(5)
            for index in range(5):
                box = buttons.nth(index).bounding_box()
                assert box is not None
                # Fully in the viewport as the page opens: nothing to scroll for.
                assert box["x"] >= 0 and box["y"] >= 0, (width, height, index, box)
                assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (
                    width,
                    height,
                    index,
                    box,
                )
            assert citizen.evaluate("window.scrollY") == 0
    finally:
        kiosk.client.close()
    screens.check()
