"""The supervisor's wallboard in a real browser at the wall screen's size (1920×1080): it opens on
the open 一事一评 work orders and the services' targets, writes its latest events as sentences
(Chinese, English with ?lang=en), keeps today's KPI tiles live from the events, answers work orders
with its buttons, shows after a reload what it showed live; the counter console gives a supervisor
the same buttons; the case lights say what they are for. Screenshots go to
test-artifacts/screenshots/wallboard-*.png."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from hall.storage.database import create_engine
from hall.storage.queue_tables import work_orders
from tests.browsing import Screens
from tests.cases.late_stage import accept_late_case
from tests.helpers import csrf_of
from tests.peers import CHROMIUM, missing
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess, login
from tests.timing import MS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WALL = {"width": 1920, "height": 1080}
# Social security's waiting-time target, set by the admin before the day starts.
TARGET = 12
# What the board shows, read as text: the parts a snapshot and the live events both build.
PARTS = ("#summary", "#counters", "#lines tbody", "#orders tbody", "#events")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    if not Path(CHROMIUM).exists():
        missing("Chromium")
    proc = ServerProcess(tmp_path_factory.mktemp("wallboard"))
    proc.init()
    proc.add_staff("wang", "clerk", name="王晓梅")
    proc.add_staff("chen", "supervisor", name="陈志强")
    proc.add_staff("li", "clerk", hall="xh-hp-ly", name="李娜")
    open_all_week(proc.db_url)
    with sqlite3.connect(proc.db_url.split("///", 1)[1]) as db:
        db.execute("update queue_services set target_wait_minutes = ? where code = 'soc'", (TARGET,))
    db.close()
    # Playwright's loop runs in this thread already: the writer gets a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(accept_late_case(proc.db_url, "li"))).result()
        pool.submit(lambda: asyncio.run(_overdue_order(proc.db_url))).result()
    proc.start()
    try:
        with httpx.Client(base_url=proc.url) as kiosk, httpx.Client(base_url=proc.url) as clerk:
            kiosk_token = csrf_of(kiosk.get("/login").text)
            token = login(clerk, "wang", proc.passwords["wang"])
            _post(clerk, "/api/v1/halls/1/counters/2/open", token)
            # Two residents served at counter 2, both unhappy: two work orders.
            for level in (2, 1):
                ticket = _post(kiosk, "/api/v1/halls/1/tickets", kiosk_token, {"service": "soc"})["ticket"]
                for action in ("call-next", "start", "finish"):
                    _post(clerk, f"/api/v1/halls/1/counters/2/{action}", token)
                body = {"ticket": ticket["id"], "service": "soc", "level": level, "comment": "等太久"}
                _post(clerk, "/api/v1/halls/1/ratings", token, body)
        yield proc
    finally:
        proc.stop()


async def _overdue_order(db_url: str) -> None:
    """A work order from last week's unhappy resident at counter 3, never answered: due days ago."""
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            created = datetime.now(UTC) - timedelta(days=14)
            await conn.execute(
                insert(work_orders).values(
                    hall_id=1,
                    id="WO-OLD-A009:soc",
                    rating="OLD-A009:soc",
                    ticket="OLD-A009",
                    number="A009",
                    counter=3,
                    clerk=None,
                    level=1,
                    state="open",
                    due=(created + timedelta(days=7)).date(),
                    created_at=created,
                )
            )
    finally:
        await engine.dispose()


def _post(client: httpx.Client, path: str, token: str, body: dict[str, Any] | None = None) -> Any:
    answer = client.post(path, json=body or {}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"wallboard-{name}.png"), full_page=True)


# The board's text without what time alone moves (a counter's time in state, a line's longest wait).
_STILL = (
    "e => { const c = e.cloneNode(true); c.querySelectorAll('.ticking').forEach((t) => t.remove());"
    " return c.textContent; }"
)


def _shown(page: Any) -> dict[str, str]:
    return {part: page.locator(part).evaluate(_STILL) for part in PARTS}


def test_the_wallboard_opens_on_the_open_work_orders_the_targets_and_the_events_as_sentences(
    screens: Screens,
) -> None:
    from playwright.sync_api import expect

    page = screens.open("/wallboard/1", role="supervisor", **WALL)
    orders = page.locator("#orders tbody tr[data-order]")
    expect(orders).to_have_count(3)
    today = orders.filter(has_text="A001")
    expect(today).to_contain_text("王晓梅")
    expect(today.get_by_role("button", name="记录回访")).to_be_visible()
    expect(page.locator('#lines tr[data-code="soc"] .target')).to_have_text(f"{TARGET} 分钟")
    events = page.locator("#events")
    expect(events).to_contain_text("差评：A002 号评价 2 号窗口“非常不满意”，已生成工单")
    expect(events).to_contain_text("2 号窗口开放（王晓梅）")
    expect(events).not_to_contain_text("{")  # no raw JSON, no unfilled placeholder
    expect(events).not_to_contain_text("rating.alarm")
    # The case whose 审核 stage ran over: counted red, listed with what its light is for.
    expect(page.locator('#case-board [data-light="red"] .count')).to_have_text("1")
    expect(page.locator("#case-flagged li").first).to_contain_text("红灯 · 审核环节超时")
    expect(page.locator("#case-flagged li").first).to_contain_text("审核环节期限")
    expect(events).to_contain_text("亮灯：红灯 · 审核环节超时")
    _shoot(page, "opened")

    page.goto("/wallboard/1?lang=en")
    expect(page.locator("#events")).to_contain_text(
        "Unsatisfied rating: A002 at counter 2 (Very dissatisfied), work order opened"
    )
    expect(page.locator('#lines tr[data-code="soc"] .target')).to_have_text(f"{TARGET} min")
    expect(page.locator("#orders tbody tr[data-order]").first.get_by_role("button")).to_have_text("Record the callback")
    expect(page.locator("#case-flagged li").first).to_contain_text("Red · Review stage over its limit")
    _shoot(page, "english")
    page.goto("/wallboard/1?lang=zh-CN")
    screens.check()


def test_a_supervisor_answers_a_work_order_from_the_wallboard_and_a_reload_shows_the_same(
    screens: Screens,
) -> None:
    from playwright.sync_api import expect

    page = screens.open("/wallboard/1", role="supervisor", **WALL)
    row = page.locator("#orders tbody tr[data-order]", has_text="A001")
    row.get_by_role("button", name="记录回访").click()
    dialog = page.locator("#order-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea").fill("已电话回访，群众表示理解")
    dialog.get_by_role("button", name="保存").click()
    expect(page.locator("#order-notice")).to_contain_text("A001 号的回访已记录")
    expect(row.get_by_role("button")).to_have_text("记录整改")
    expect(page.locator("#events")).to_contain_text("A001 号的工单：已回访群众")
    _shoot(page, "called-back")
    live = _shown(page)
    page.reload()
    row = page.locator("#orders tbody tr[data-order]", has_text="A001")
    expect(row.get_by_role("button")).to_have_text("记录整改")
    assert _shown(page) == live

    row.get_by_role("button", name="记录整改").click()
    page.locator("#order-dialog textarea").fill("增开社保窗口，已整改")
    page.locator("#order-dialog").get_by_role("button", name="保存").click()
    expect(page.locator("#orders tbody tr[data-order]")).to_have_count(2)
    expect(page.locator("#events")).to_contain_text("A001 号的工单已整改办结")
    live = _shown(page)
    page.reload()
    expect(page.locator("#orders tbody tr[data-order]")).to_have_count(2)
    assert _shown(page) == live
    _shoot(page, "fixed")
    screens.check()


def test_a_supervisor_at_a_counter_follows_up_its_work_orders_and_a_clerk_does_not(screens: Screens) -> None:
    from playwright.sync_api import expect

    page = screens.open("/counter/1/2", role="supervisor", width=1366, height=768)
    card = page.locator("#work-orders")
    # Counter 2's orders only; the one still waiting for its callback (A002, whatever ran before).
    rows = card.locator("tbody tr[data-order]")
    expect(rows.first).to_be_visible()
    expect(card).to_contain_text("A002")
    waiting = rows.filter(has=page.get_by_role("button", name="记录回访")).last
    order = waiting.get_attribute("data-order")
    waiting.get_by_role("button", name="记录回访").click()
    page.locator("#counter-order-dialog textarea").fill("已回访")
    page.locator("#counter-order-dialog").get_by_role("button", name="保存").click()
    expect(page.locator("#notice")).to_contain_text("的回访已记录")
    expect(card.locator(f'tr[data-order="{order}"]').get_by_role("button")).to_have_text("记录整改")
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "wallboard-counter-orders.png"))
    clerk = screens.open("/counter/1/2", role="clerk", width=1366, height=768)
    expect(clerk.locator("#current-title")).to_be_visible()
    expect(clerk.locator("#work-orders")).to_have_count(0)
    screens.check()


def test_a_light_says_it_is_for_a_stage_over_its_limit_on_the_board_and_in_the_lists(screens: Screens) -> None:
    from playwright.sync_api import expect

    board = screens.open("/supervision/1", role="supervisor", **WALL)
    badge = board.locator(".light.light-red").first
    expect(badge).to_contain_text("红灯 · 审核环节超时")
    expect(badge).to_contain_text("审核环节期限")
    _shoot(board, "supervision-stage-late")
    lists = screens.open("/cases/1?view=open", context=board.context)
    expect(lists.locator(".light.light-red").first).to_contain_text("红灯 · 审核环节超时")
    expect(lists.locator("tbody tr").first).to_have_class("light-row-red")
    _shoot(lists, "cases-stage-late")
    screens.check()


def test_a_work_order_past_its_due_day_is_escalated_on_the_clock_and_shown_on_the_board(screens: Screens) -> None:
    from playwright.sync_api import expect

    page = screens.open("/wallboard/1", role="supervisor", **WALL)
    late = page.locator("#orders tbody tr[data-order]", has_text="A009")
    # The queue's clock ticks every 15 s: the escalation is an event in the log, then on the board.
    wait = int(30_000 * MS * 1000)
    expect(late).to_contain_text("已超期 · 已升级", timeout=wait)
    expect(late).to_have_class("overdue")
    expect(page.locator("#events")).to_contain_text("A009 号的工单已超期", timeout=wait)
    _shoot(page, "overdue")
    screens.check()


def _tile(page: Any, name: str, part: str = ".value") -> Any:
    return page.locator(f'#tiles [data-tile="{name}"] {part}')


def _counts(text: str) -> tuple[int, int]:
    """(part, whole) of a tile's hint, "3 次等候中 3 次未超目标": the whole comes first in Chinese."""
    whole, part = (int(n) for n in re.findall(r"\d+", text))
    return part, whole


def test_todays_tiles_go_on_live_as_a_ticket_is_issued_called_and_served(
    screens: Screens, server: ServerProcess
) -> None:
    from playwright.sync_api import expect

    page = screens.open("/wallboard/1", role="supervisor", **WALL)
    expect(_tile(page, "arrived")).not_to_have_text("–")
    # The morning's two unhappy residents: every rating unsatisfied, said in a word with the colour.
    satisfaction = page.locator('#tiles [data-tile="satisfaction"]')
    expect(satisfaction).to_have_class(re.compile("mark-poor"))
    expect(satisfaction.locator(".mark")).to_have_text("告警")
    expect(satisfaction.locator(".value")).to_have_text("0%")
    arrived, served = int(_tile(page, "arrived").inner_text()), int(_tile(page, "served").inner_text())
    waiting = int(_tile(page, "waiting").inner_text())
    in_target, waits = _counts(_tile(page, "service_level", ".hint").inner_text())
    with httpx.Client(base_url=server.url) as kiosk, httpx.Client(base_url=server.url) as clerk:
        _post(kiosk, "/api/v1/halls/1/tickets", csrf_of(kiosk.get("/login").text), {"service": "soc"})
        expect(_tile(page, "arrived")).to_have_text(str(arrived + 1))
        expect(_tile(page, "waiting")).to_have_text(str(waiting + 1))
        token = login(clerk, "wang", server.passwords["wang"])
        _post(clerk, "/api/v1/halls/1/counters/2/call-next", token)
        # Called at once: a wait within social security's target, counted as it ends.
        expect(_tile(page, "service_level", ".hint")).to_have_text(f"{waits + 1} 次等候中 {in_target + 1} 次未超目标")
        expect(_tile(page, "waiting")).to_have_text(str(waiting))
        expect(_tile(page, "wait_mean_minutes")).to_have_text(re.compile(r"^\d+(\.\d)? 分钟$"))
        for action in ("start", "finish"):
            _post(clerk, f"/api/v1/halls/1/counters/2/{action}", token)
        expect(_tile(page, "served")).to_have_text(str(served + 1))
    # What the tiles show live, a reload shows from the kept figures.
    live = page.locator("#tiles").inner_text()
    page.reload()
    expect(_tile(page, "served")).to_have_text(str(served + 1))
    assert page.locator("#tiles").inner_text() == live
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "wallboard-tiles.png"))
    screens.check()
