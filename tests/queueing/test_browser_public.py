"""The public screens in a real browser: a resident takes a ticket at the kiosk, the queue display
shows the line grow and then the call, and the ticket's page on a phone follows it live.

A real ``hall serve`` process and headless Chromium. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browsing import WAIT, Screens, wait_until
from tests.queueing.test_public_pages import open_hall_all_week
from tests.serverproc import ServerProcess, login
from tests.timing import MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
RECONNECT_WAIT = int(30_000 * MS * 1000)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("public"))
    proc.init()
    proc.add_staff("clerk1", "clerk", name="王晓梅")
    proc.add_staff("clerk2", "clerk", name="李建国")
    open_hall_all_week(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class Clerk:
    def __init__(self, server: ServerProcess, username: str = "clerk1") -> None:
        self.client = httpx.Client(base_url=server.url, timeout=10)
        self.token = login(self.client, username, server.passwords[username])

    def act(self, number: int, action: str) -> dict[str, Any]:
        done = self.client.post(
            f"/api/v1/halls/1/counters/{number}/{action}", json={}, headers={"X-CSRF-Token": self.token}
        )
        assert done.status_code == 200, done.text
        return dict(done.json())

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def clerk(server: ServerProcess) -> Iterator[Clerk]:
    person = Clerk(server)
    try:
        yield person
    finally:
        person.close()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def service_button(page: Any, code: str) -> Any:
    return page.locator(f'#services button[data-code="{code}"]')


def line_tile(page: Any, code: str) -> Any:
    return page.locator(f'#lines li[data-code="{code}"]')


def ticket_id_on(kiosk: Any) -> str:
    src = kiosk.locator("#slip-qr").get_attribute("src")
    found = re.fullmatch(r"/t/1/(\d{8}-[A-Z]+\d+)/qr\.svg", src or "")
    assert found is not None, src
    return found.group(1)


def test_a_ticket_from_the_kiosk_to_the_call(screens: Screens, clerk: Clerk) -> None:
    from playwright.sync_api import expect

    display = screens.open("/display/1", width=1600, height=900)
    expect(line_tile(display, "soc").locator(".count")).to_contain_text("等候 0 人")
    expect(display.locator("#link-state")).to_be_hidden()

    kiosk = screens.open("/kiosk/1")
    soc = service_button(kiosk, "soc")
    expect(soc).to_have_attribute("aria-disabled", "false")
    expect(soc).to_contain_text("社会保障")
    expect(soc).to_contain_text("Social security")
    expect(soc.locator(".status")).to_contain_text("等候 0 人 · 暂无窗口开放")
    expect(kiosk.locator("#services button.service")).to_have_count(6)
    kiosk.locator("#clock").click()  # no focus ring in the picture
    shoot(kiosk, "kiosk")

    soc.click()
    expect(kiosk.locator("#ticket")).to_be_visible()
    expect(kiosk.locator("#start")).to_be_hidden()
    expect(kiosk.locator("#slip-number")).to_have_text("A001")
    expect(kiosk.locator("#slip-service")).to_contain_text("社会保障")
    expect(kiosk.locator("#slip-ahead")).to_contain_text("前面还有 0 人")
    expect(kiosk.locator("#slip-estimate")).to_contain_text("暂无窗口开放")
    # No counter is open yet: the hall's default issues the ticket, and says so plainly.
    expect(kiosk.locator("#slip-warning")).to_be_visible()
    expect(kiosk.locator("#slip-warning")).to_have_text(re.compile(r"⚠ 当前暂无窗口办理此业务\s*No counter handles"))
    expect(kiosk.locator("#slip-time")).to_contain_text(re.compile(r"取号时间 \d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(kiosk.locator("#slip-priority")).to_be_hidden()
    expect(kiosk.locator("#countdown")).to_contain_text("秒后返回首页")
    ticket = ticket_id_on(kiosk)
    wait_until(kiosk, "document.getElementById('slip-qr').naturalWidth > 0")
    # The browser printed the slip once, as soon as its QR code was there.
    wait_until(kiosk, "window.__prints === 1")
    shoot(kiosk, "kiosk-ticket")

    # The display's line grows without a reload.
    expect(line_tile(display, "soc").locator(".count")).to_contain_text("等候 1 人")
    expect(line_tile(display, "soc").locator(".count")).to_contain_text("Waiting: 1")

    # The QR code's page, on a phone: waiting, then called, live.
    phone = screens.open(f"/t/1/{ticket}", width=390, height=844, mobile=True)
    expect(phone.locator("#ticket-number")).to_have_text("A001")
    expect(phone.locator("#ticket-state")).to_contain_text("等候叫号中")
    expect(phone.locator("#ticket-ahead")).to_contain_text("前面还有 0 人")

    clerk.act(1, "open")
    clerk.act(1, "call-next")

    call = display.locator("#current-call")
    expect(display.locator("#call-zh")).to_have_text("请 A001 号到 1 号窗口办理")
    expect(display.locator("#call-en")).to_have_text("Number A001, please go to counter 1.")
    expect(call.locator("#call-zh .call-number")).to_have_text("A001")
    expect(call.locator("#call-zh .call-counter")).to_have_text("1")
    expect(call).to_have_class(re.compile(r"\bflash\b"))
    latest = display.locator("#recent-calls li").first
    expect(latest).to_have_class("latest")
    expect(latest).to_contain_text("A001")
    expect(latest).to_contain_text("1 号窗口")
    expect(line_tile(display, "soc").locator(".count")).to_contain_text("等候 0 人")
    display.wait_for_timeout(1600)  # the three flashes are over
    shoot(display, "display-call")

    expect(phone.locator("#ticket-state")).to_contain_text("请到 1 号窗口")
    expect(phone.locator("#ticket-state")).to_contain_text("Please go to counter 1")
    expect(phone.locator("#ticket-ahead")).to_be_hidden()
    expect(phone).to_have_title(re.compile("请到 1 号窗口"))
    shoot(phone, "ticket-status")

    # Served and finished: the page shows the ticket's end from its record.
    clerk.act(1, "start")
    expect(phone.locator("#ticket-state")).to_contain_text("正在 1 号窗口办理")
    screens.allow(r"status of 404 .*/api/v1/halls/1/tickets/\d{8}-A001\)$")  # a finished ticket is gone
    clerk.act(1, "finish")
    expect(phone.locator("#ticket-state")).to_contain_text("已完成，谢谢")

    # The kiosk returns to its start by itself.
    expect(kiosk.locator("#start")).to_be_visible(timeout=WAIT + 16_000)
    expect(kiosk.locator("#ticket")).to_be_hidden()
    expect(kiosk.locator("#slip-warning")).to_be_hidden()  # nothing of the last ticket stays

    # The print page prints itself.
    slip = screens.open(f"/t/1/{ticket}/print")
    expect(slip.locator(".slip-number")).to_have_text("A001")
    wait_until(slip, "window.__prints === 1")
    shoot(slip, "ticket-print")
    slip.emulate_media(media="print")
    shoot(slip, "ticket-print-media")


def test_the_kiosk_by_keyboard_with_priority_and_elderly_mode(screens: Screens) -> None:
    from playwright.sync_api import expect

    kiosk = screens.open("/kiosk/1?print=off")
    expect(kiosk.locator("#services button.service")).to_have_count(6)
    # Elderly mode: bigger type, two services to a row.
    kiosk.locator("#elderly-mode").focus()
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("html")).to_have_class(re.compile(r"\belderly\b"))
    expect(kiosk.locator("#elderly-mode")).to_have_attribute("aria-pressed", "true")
    columns = kiosk.locator("#services").evaluate("e => getComputedStyle(e).gridTemplateColumns.split(' ').length")
    assert columns == 2
    kiosk.locator("#clock").click()
    shoot(kiosk, "kiosk-elderly")

    # A priority by keyboard: the radio group, then the service, then Enter.
    kiosk.locator('input[name="priority"][value="normal"]').focus()
    kiosk.keyboard.press("ArrowRight")
    expect(kiosk.locator('input[name="priority"][value="elderly"]')).to_be_checked()
    requests: list[dict[str, Any]] = []
    kiosk.on(
        "request",
        lambda r: requests.append(json.loads(r.post_data)) if r.method == "POST" and "/tickets" in r.url else None,
    )
    service_button(kiosk, "fund").focus()
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^B\d{3}$"))
    expect(kiosk.locator("#slip-priority")).to_be_visible()
    expect(kiosk.locator("#slip-priority")).to_contain_text("优先号")
    assert requests[0]["service"] == "fund" and requests[0]["priority"] == "elderly"
    assert kiosk.evaluate("window.__prints") == 0  # ?print=off: the kiosk's own printer prints

    # Escape (or 完成) starts over for the next person: ordinary size, no priority.
    kiosk.keyboard.press("Escape")
    expect(kiosk.locator("#start")).to_be_visible()
    expect(kiosk.locator('input[name="priority"][value="normal"]')).to_be_checked()
    expect(kiosk.locator("html")).not_to_have_class(re.compile(r"\belderly\b"))


def refuse(status: int, body: dict[str, str]) -> Any:
    return lambda route: route.fulfill(status=status, json=body)


def test_the_kiosk_retries_with_the_same_command_and_explains_refusals(screens: Screens) -> None:
    from playwright.sync_api import expect

    kiosk = screens.open("/kiosk/1?print=off")
    sent: list[dict[str, Any]] = []

    # The first attempt gets no answer: the retry carries the same command id, so the server
    # would return the ticket of the first attempt had it arrived.
    def flaky(route: Any) -> None:
        sent.append(json.loads(route.request.post_data))
        if len(sent) == 1:
            route.abort()
        else:
            route.continue_()

    screens.allow(r"net::ERR_FAILED \(.*/api/v1/halls/1/tickets\)$")
    kiosk.route("**/api/v1/halls/1/tickets", flaky)
    service_button(kiosk, "info").click()
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^F\d{3}$"))
    assert len(sent) == 2
    assert sent[0]["command_id"] == sent[1]["command_id"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", sent[0]["command_id"])
    kiosk.locator("#done").click()
    kiosk.unroute("**/api/v1/halls/1/tickets")

    # A double press takes one ticket.
    sent.clear()
    kiosk.route("**/api/v1/halls/1/tickets", lambda route: (sent.append({}), route.continue_()))
    service_button(kiosk, "info").dblclick()
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^F\d{3}$"))
    kiosk.wait_for_timeout(500)
    assert len(sent) == 1
    kiosk.locator("#done").click()
    kiosk.unroute("**/api/v1/halls/1/tickets")

    # Refusals, in both languages.
    screens.allow(r"status of (429|409) .*/api/v1/halls/1/tickets\)$")
    answers = [
        (429, {"error": "rate_limited", "message": "x"}, "本机取号过于频繁", "Too many tickets from this machine"),
        (409, {"error": "sold_out", "message": "x"}, "今日号已取完", "All of today's tickets are taken"),
        (409, {"error": "closed", "message": "x"}, "该事项现在不能取号", "This service is not taking tickets now"),
    ]
    for status, body, chinese, english in answers:
        kiosk.route("**/api/v1/halls/1/tickets", refuse(status, body))
        service_button(kiosk, "soc").click()
        message = kiosk.locator("#message")
        expect(message).to_be_visible()
        expect(message).to_contain_text(chinese)
        expect(message).to_contain_text(english)
        if status == 429:
            shoot(kiosk, "kiosk-error")
        kiosk.locator("#message-ok").click()
        expect(message).to_be_hidden()
        kiosk.unroute("**/api/v1/halls/1/tickets")
    expect(kiosk.locator("#start")).to_be_visible()


def test_the_display_speaks_calls_one_after_another(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    display = screens.open("/display/1?english=1", width=1600, height=900)
    wanted: list[str] = []
    display.on("request", lambda r: wanted.append(r.url) if "/voice/" in r.url else None)
    enable = display.locator("#enable-voice")
    expect(enable).to_be_visible()
    expect(enable).to_contain_text("点击启用语音")
    enable.click()
    expect(enable).to_be_hidden()

    kiosk = screens.open("/kiosk/1?print=off")
    numbers = []
    for _ in range(2):
        service_button(kiosk, "soc").click()
        expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^A\d{3}$"))
        numbers.append(kiosk.locator("#slip-number").inner_text())
        kiosk.locator("#done").click()
        expect(kiosk.locator("#slip-number")).to_have_text("")
    clerk = Clerk(server, "clerk2")
    try:
        clerk.act(2, "open")
        clerk.act(2, "call-next")
        expect(display.locator("#call-zh")).to_have_text(f"请 {numbers[0]} 号到 2 号窗口办理")
        clerk.act(2, "no-show")
        clerk.act(2, "call-next")
    finally:
        clerk.close()
    expect(display.locator("#call-zh")).to_have_text(f"请 {numbers[1]} 号到 2 号窗口办理")
    expect(display.locator("#recent-calls li").nth(1)).to_contain_text(numbers[0])

    # Each call: the chime and the call in Chinese and English; the second call's voice is asked
    # for only when the first one has been said.
    def asked(number: str, lang: str) -> int:
        url = f"/voice/call.mp3?number={number}&counter=2&lang={lang}"
        return next(i for i, u in enumerate(wanted) if u.endswith(url))

    wait_until(
        display,
        "n => performance.getEntriesByType('resource').some(e => e.name.includes('number=' + n))",
        numbers[1],
        timeout=RECONNECT_WAIT / 1000,
    )
    assert any(u.endswith("/voice/chime.wav") for u in wanted)
    assert asked(numbers[0], "zh_CN") < asked(numbers[1], "zh_CN")
    assert asked(numbers[0], "en") < asked(numbers[1], "zh_CN")


def test_the_display_says_when_its_link_is_lost(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    display = screens.open("/display/1", width=1600, height=900)
    sign = display.locator("#link-state")
    expect(line_tile(display, "soc")).to_be_visible()
    expect(sign).to_be_hidden()
    screens.allow(r"WebSocket connection to .* failed")
    server.stop()
    try:
        expect(sign).to_be_visible()
        expect(sign).to_contain_text("连接中断，正在重连…")
        expect(sign).to_contain_text("Connection lost, reconnecting…")
        shoot(display, "display-offline")
    finally:
        server.start()
    expect(sign).to_be_hidden(timeout=RECONNECT_WAIT)
