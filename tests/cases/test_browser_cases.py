"""The case pages in a real browser, against a real server: a case accepted at a community station
appears in the district clerk's 待办, live; the clerk opens its record and passes 审核, and the list
follows without a reload; the supervisor's board counts the open cases by light.

Screenshots go to test-artifacts/screenshots/ (cases-todo, case-record, supervision).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browsing import Screens
from tests.serverproc import ServerProcess, login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
ID_NUMBER = "11010519491231002X"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("cases"))
    proc.init()
    proc.add_staff("clerk1", "clerk", "xh", "李建国")
    proc.add_staff("cc1", "clerk", "xh-hp-ly", "赵小云")
    proc.add_staff("super1", "supervisor", "xh", "王监察")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class Community:
    """The community station's clerk, accepting cases through the API as the intake form does."""

    def __init__(self, server: ServerProcess) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=10)
        self.token = login(self.client, "cc1", server.passwords["cc1"])
        halls = self.client.get("/api/v1/halls").json()
        self.hall = next(h["id"] for h in halls if h["code"] == "xh-hp-ly")

    def __enter__(self) -> Community:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def accept(self, name: str) -> str:
        body = {
            "item": "MZ-006",
            "applicant": {"name": name, "id_number": ID_NUMBER, "phone": "13800138000"},
            "materials": ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"],
            "counter": 1,
        }
        answer = self.client.post(f"/api/v1/halls/{self.hall}/cases", json=body, headers={"X-CSRF-Token": self.token})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["case"]["number"])


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_district_clerk_reviews_a_community_case_from_the_to_do_list(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    community = Community(server)
    first = community.accept("王秀英")
    try:
        context = screens.context(width=1280, height=860)
        todo = screens.open("/cases/1", role="clerk", context=context)
        expect(todo.locator("h1")).to_have_text("星河区政务服务中心 · 办件")
        expect(todo.locator("#link-state")).to_have_text("实时")
        expect(todo.locator(".case-tab[aria-current=page]")).to_have_text("待办")
        row = todo.locator(f"tr[data-number='{first}']")
        expect(row).to_contain_text("八十周岁以上老年人高龄津贴申领")
        expect(row).to_contain_text("王**")
        expect(row).to_contain_text("110***********002X")
        expect(row).to_contain_text("已受理")
        expect(row).to_contain_text("● 绿灯 · 正常")
        expect(row).to_contain_text("审核 · 窗口人员 · 星河区政务服务中心")
        assert ID_NUMBER not in todo.content()

        # A case accepted while the list is open appears without a reload.
        second = community.accept("李桂兰")
        expect(todo.locator(f"tr[data-number='{second}']")).to_contain_text("李**")
        expect(todo.locator("#list tbody tr")).to_have_count(2)
        shoot(todo, "cases-todo")

        # The clerk opens the case in a second tab, keeping the list in view.
        link = row.get_by_role("link", name=first)
        expect(link).to_have_attribute("href", f"/cases/1/{first}")
        with context.expect_page() as opened:
            link.click(modifiers=["Control"])
        record = opened.value
        expect(record.locator("h1")).to_have_text(f"办件 {first}")
        expect(record.locator("#applicant-id")).to_have_text(ID_NUMBER)
        expect(record.locator("#waiting")).to_have_text("审核 · 窗口人员 · 星河区政务服务中心")
        expect(record.locator("#link-state")).to_have_text("实时")
        record.fill("#remark", "材料齐全，同意")
        shoot(record, "case-record")
        record.get_by_role("button", name="审核通过").click()
        expect(record.locator("#notice")).to_contain_text("已完成：审核通过")
        expect(record.locator("#history")).to_contain_text("材料齐全，同意")
        expect(record.locator("#waiting")).to_have_text("审批 · 监察人员 · 星河区政务服务中心")
        expect(record.locator("#steps")).to_contain_text("该办件当前无需您办理")

        # The to-do list in the other tab followed: the reviewed case waits on a supervisor now.
        expect(todo.locator(f"tr[data-number='{first}']")).to_have_count(0)
        expect(todo.locator("#list tbody tr")).to_have_count(1)

        # A refusal needs its reason: the page says so before anything is sent.
        record.goto(f"/cases/1/{second}")
        record.get_by_role("button", name="不予受理").click()
        expect(record.locator("#message")).to_have_text("⚠ 请填写原因。")
        expect(record.locator("#history tbody tr")).to_have_count(1)
        screens.check()
    finally:
        community.client.close()


def test_the_supervisor_sees_the_cases_by_light(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    page = screens.open("/supervision/1", role="supervisor", width=1280, height=860)
    expect(page.locator("h1")).to_have_text("星河区政务服务中心 · 督办")
    expect(page.locator("#link-state")).to_have_text("实时")
    green = page.locator("#counts [data-light=green]")
    expect(green).to_contain_text("绿灯")
    expect(green.locator(".count")).to_have_text("2")
    expect(page.locator("#counts [data-light=yellow] .count")).to_have_text("0")
    expect(page.locator("#counts [data-light=red] .count")).to_have_text("0")
    expect(page.locator("#no-flagged")).to_have_text("在办办件均在时限内。")
    expect(page.locator("#no-orders")).to_be_visible()
    # A third case, accepted now, is counted live.
    with Community(server) as community:
        community.accept("张建华")
    expect(green.locator(".count")).to_have_text("3")
    shoot(page, "supervision")

    # The supervisor's to-do holds the reviewed case, waiting for 审批.
    page.goto("/cases/1")
    expect(page.locator("#list tbody tr")).to_have_count(1)
    expect(page.locator("#list tbody tr")).to_contain_text("已审核")
    screens.check()


def test_the_counter_console_counts_the_clerks_to_do_live(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    community = Community(server)
    try:
        console = screens.open("/counter/1/2", role="clerk", width=1280, height=860)
        badge = console.locator("#todo-count")
        expect(badge).to_have_text(re.compile(r"^\d+ 件待办"))
        before = int(badge.inner_text().split(" ")[0])
        community.accept("周淑芬")  # decided by the district: it waits on this clerk's office
        expect(badge).to_have_text(re.compile(rf"^{before + 1} 件待办"))
        screens.check()
    finally:
        community.client.close()
