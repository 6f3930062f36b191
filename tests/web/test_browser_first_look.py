"""What a new user meets first, in a real browser against a real server: refusals in Chinese on a
Chinese page, times on the hall's clock whatever the browser's zone, an icon on every page, a way
from the home page to the case tracking page, and public pages that fit a phone.

The hall runs on Ürümqi time (HALL_TIMEZONE=Asia/Urumqi, UTC+6) and the browser on New York's,
so a time shown on either of the wrong clocks (the browser's, or Beijing's) differs from the hall's.
Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browsing import Screens, wait_until
from tests.helpers import csrf_of
from tests.queueing.test_public_pages import open_hall_all_week
from tests.serverproc import ServerProcess, login
from tests.timing import MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
HALL_ZONE = "Asia/Urumqi"
BROWSER_ZONE = "America/New_York"
PHONE = {"width": 390, "height": 844}
# Seconds a live page may take to hear an event on a machine busy with other tests.
LIVE_WAIT = 30_000 * MS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("first-look"))
    proc.env["HALL_TIMEZONE"] = HALL_ZONE
    proc.init()
    proc.add_staff("clerk1", "clerk", name="王晓梅")
    proc.add_staff("super1", "supervisor", name="赵敏")
    open_hall_all_week(proc.db_url)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class Staff:
    """A clerk's second session, over the API (the same account as the browser's)."""

    def __init__(self, server: ServerProcess, username: str) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=10)
        self.token = login(self.client, username, server.passwords[username])

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        done = self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.token})
        assert done.status_code == 200, done.text
        return dict(done.json())


@pytest.fixture
def clerk(server: ServerProcess) -> Iterator[Staff]:
    person = Staff(server, server.roles["clerk"])
    try:
        yield person
    finally:
        person.client.close()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _take_ticket(server: ServerProcess) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=10) as kiosk:
        token = csrf_of(kiosk.get("/login").text)
        taken = kiosk.post("/api/v1/halls/1/tickets", json={"service": "soc"}, headers={"X-CSRF-Token": token})
        assert taken.status_code == 200, taken.text
        return dict(taken.json()["ticket"])


def test_a_refusal_on_the_counter_console_reads_in_chinese(
    server: ServerProcess, screens: Screens, clerk: Staff
) -> None:
    from playwright.sync_api import expect

    clerk.post("/api/v1/halls/1/counters/1/open")
    try:
        context = screens.context(width=1366, height=768, timezone=BROWSER_ZONE)
        screens.allow(r"status of 409")
        page = screens.open("/counter/1/2", role="clerk", context=context)
        page.click('button[data-action="open"]')
        message = page.locator("#message")
        # Waits for the refusal's words, not only for the box (which may show before they are in).
        expect(message).to_contain_text("该工作人员已在 1 号窗口")
        assert "clerk" not in message.inner_text()
        shoot(page, "counter-refusal-zh")
    finally:
        clerk.post("/api/v1/halls/1/counters/1/close")


def test_times_on_the_counter_console_are_on_the_halls_clock(
    server: ServerProcess, screens: Screens, clerk: Staff
) -> None:
    _take_ticket(server)
    clerk.post("/api/v1/halls/1/counters/1/open")
    try:
        context = screens.context(width=1366, height=768, timezone=BROWSER_ZONE)
        page = screens.open("/counter/1/1", role="clerk", context=context)
        assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == BROWSER_ZONE
        assert page.locator('meta[name="hall-timezone"]').get_attribute("content") == HALL_ZONE
        clerk.post("/api/v1/halls/1/counters/1/call-next")
        before = datetime.now(UTC) + timedelta(minutes=30)
        held = clerk.post("/api/v1/halls/1/counters/1/hold", {"minutes": 30})["ticket"]
        after = datetime.now(UTC) + timedelta(minutes=30)
        # The hold ends 30 minutes on, shown as HH:MM on the hall's clock.
        expected = {f"{moment.astimezone(ZoneInfo(HALL_ZONE)):%H:%M}" for moment in (before, after)}
        wrong = {f"{before.astimezone(ZoneInfo(zone)):%H:%M}" for zone in (BROWSER_ZONE, "Asia/Shanghai", "UTC")}
        assert not expected & wrong
        from playwright.sync_api import expect

        shown = re.compile("^(" + "|".join(sorted(expected)) + ")$")
        cell = f'#held tr[data-ticket="{held["id"]}"] td.until'
        expect(page.locator(cell)).to_have_text(shown)  # live, from the ticket.held event
        page.reload()
        expect(page.locator(cell)).to_have_text(shown)  # and from the console's state, opened afresh
        shoot(page, "counter-held-hall-clock")
    finally:
        clerk.post("/api/v1/halls/1/counters/1/call", {"ticket": held["id"]})
        clerk.post("/api/v1/halls/1/counters/1/no-show")
        clerk.post("/api/v1/halls/1/counters/1/close")


def test_the_wallboard_log_shows_the_halls_clock(server: ServerProcess, screens: Screens, clerk: Staff) -> None:
    context = screens.context(width=1920, height=1080, timezone=BROWSER_ZONE)
    page = screens.open("/wallboard/1", role="supervisor", context=context)
    # The snapshot has drawn the counters: the page follows the hall's events from here on.
    wait_until(page, "() => document.querySelector('li.counter[data-number]') !== null", timeout=LIVE_WAIT)
    before = datetime.now(UTC)
    seq = clerk.post("/api/v1/halls/1/counters/3/open")["seq"]
    after = datetime.now(UTC)
    try:
        logged = "(seq) => document.querySelector(`#events li[data-seq='${seq}']`) !== null"
        wait_until(page, logged, seq, timeout=LIVE_WAIT)
        shown = page.locator(f"#events li[data-seq='{seq}']").inner_text().split(" ")[0]
        # The event's time to the minute on the hall's clock: between the moments before and after.
        hall = ZoneInfo(HALL_ZONE)
        assert f"{before.astimezone(hall):%H:%M}" <= shown <= f"{after.astimezone(hall):%H:%M}" or (
            before.astimezone(hall).date() != after.astimezone(hall).date()
        ), shown
        assert not shown.startswith(f"{before.astimezone(ZoneInfo(BROWSER_ZONE)):%H}:")
    finally:
        clerk.post("/api/v1/halls/1/counters/3/close")


def test_every_page_names_its_icon_and_the_home_page_leads_to_tracking(server: ServerProcess, screens: Screens) -> None:
    page = screens.open("/")
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/static/favicon.svg"
    icon = page.request.get("/static/favicon.svg")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    page.click('a[href="/track"]')
    page.wait_for_url("**/track")
    for path in ("/track", "/catalog", "/kiosk/1", "/display/1", "/login"):
        page.goto(path)
        assert page.locator('link[rel="icon"]').count() == 1, path


@pytest.mark.parametrize("path", ["/", "/catalog", "/catalog?lang=en", "/track", "ticket", "catalog-item"])
def test_the_public_pages_fit_a_phone(server: ServerProcess, screens: Screens, path: str) -> None:
    if path == "ticket":
        ticket = _take_ticket(server)
        path = f"/t/1/{ticket['id']}"
    elif path == "catalog-item":
        listing = httpx.get(f"{server.url}/api/v1/catalog", timeout=10).json()
        items = listing["items"] if isinstance(listing, dict) else listing
        path = f"/catalog/{items[0]['code']}"
    page = screens.open(path, width=PHONE["width"], height=PHONE["height"], mobile=True)
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    shoot(page, "phone" + re.sub(r"[^a-z0-9]+", "-", path.lower()).rstrip("-"))
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px phone"
