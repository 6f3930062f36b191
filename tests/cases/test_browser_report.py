"""In a real browser: a supervisor opens the district's monthly report (月度工作简报) for November
2026, filled through the writer with tickets and cases at known times in October and November at
the district centre and its community station: the month against October, a row per hall, the
charts drawn as SVG, the worst items and counters, and the residents' online ratings of the cases;
then the same page as it prints on A4.

Screenshots go to test-artifacts/screenshots/ (report-a4, report-print).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cases.catalog_io import sample_catalog
from cases.store import CasesDomain, actor_args
from hall.kernel.events import Command
from hall.storage.database import create_engine
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.browsing import Screens, shoot
from tests.conftest import StepClock
from tests.queueing.test_browser_counter import open_all_week
from tests.serverproc import ServerProcess

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CATALOG = sample_catalog()
APPLICANT = {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"}
DISTRICT, COMMUNITY = 1, 3
# Working weeks clear of holidays: Monday 19 October and Monday 16 November 2026.
WEEKS = {"2026-10": datetime(2026, 10, 19), "2026-11": datetime(2026, 11, 16)}


def local(day: datetime, hour: int, minute: int = 0) -> datetime:
    """A Beijing wall-clock time on ``day``, as UTC."""
    return (day + timedelta(hours=hour - 8, minutes=minute)).replace(tzinfo=UTC)


def _materials(code: str) -> list[str]:
    item = CATALOG.get(code)
    assert item is not None
    return [m.name for m in item.required_materials]


Step = tuple[datetime, int, str, Callable[[], Awaitable[None]]]


class Filler:
    """Commands for one writer over the server's database before it starts, gathered first and
    then sent in the order of their times, the clock set to each: a hall's days as they happened."""

    def __init__(self, writer: Writer, clock: StepClock, staff: dict[str, int]) -> None:
        self.writer, self.clock, self.staff = writer, clock, staff
        self.steps: list[Step] = []
        self.found: dict[str, str] = {}

    def at(
        self,
        when: datetime,
        hall: int,
        name: str,
        actor: str,
        args: Callable[[], dict[str, Any]],
        *,
        keep: str = "",
        also: tuple[int, ...] = (),
    ) -> None:
        async def send() -> None:
            self.clock.now = when
            command = Command(uuid.uuid4().hex, hall, name, actor, args(), also=also)
            outcome = await self.writer.submit(command)
            assert outcome.ok, (when, name, command.args, outcome.result)
            if keep:
                result = outcome.result
                self.found[keep] = str(result["ticket"]["id"] if "ticket" in result else result["case"]["number"])

        self.steps.append((when, len(self.steps), name, send))

    async def run(self) -> None:
        for _when, _n, _name, send in sorted(self.steps, key=lambda step: step[:2]):
            await send()

    def serve(
        self, hall: int, counter: int, service: str, day: datetime, start: int, waits: list[int], level: int
    ) -> None:
        """Tickets issued from ``start`` o'clock every 10 minutes, each called after its wait in
        minutes (or once the one before is done), served 7 minutes and rated ``level``."""
        clerk = self.staff[f"clerk{hall}-{counter}"]
        here = {"counter": counter, "clerk": clerk}
        actor = f"staff:{clerk}"
        self.at(local(day, start) - timedelta(minutes=1), hall, "counter.open", actor, lambda: here)
        free = local(day, start)
        for n, wait in enumerate(waits):
            label = f"{hall}-{counter}-{day:%m%d}-{n}"
            issued = local(day, start, n * 10)
            self.at(issued, hall, "ticket.issue", "staff:0", lambda: {"service": service}, keep=label)
            called = max(free, issued + timedelta(minutes=wait))
            self.at(called, hall, "ticket.call_next", actor, lambda: here)
            self.at(called + timedelta(minutes=1), hall, "ticket.start", actor, lambda: here)
            free = called + timedelta(minutes=8)
            self.at(free, hall, "ticket.finish", actor, lambda: here)

            def rating(label: str = label) -> dict[str, Any]:
                return {"ticket": self.found[label], "service": service, "level": level}

            self.at(free + timedelta(seconds=5), hall, "rating.submit", "staff:0", rating)
        self.at(free + timedelta(minutes=1), hall, "counter.close", actor, lambda: here)

    def case(
        self, hall: int, item: str, at: datetime, steps: list[tuple[datetime, str]], rating: tuple[int, str] | None
    ) -> None:
        """A case accepted at ``hall`` and taken through ``steps`` by the admin of each hall, then
        rated by its applicant online an hour after the last step, when ``rating`` (level, comment)."""
        everywhere = (1, 2, 3)
        label = f"case-{len(self.steps)}"

        def by(where: int) -> dict[str, Any]:
            return actor_args(self.staff[f"admin{where}"], ["admin"], where)

        def accept() -> dict[str, Any]:
            return {"item": item, "applicant": APPLICANT, "materials": _materials(item), "by": by(hall)}

        self.at(at, DISTRICT, "case.accept", "staff:0", accept, keep=label, also=everywhere)
        for when, action in steps:
            where = hall if action == "collect" else DISTRICT

            def act(action: str = action, where: int = where) -> dict[str, Any]:
                return {"number": self.found[label], "action": action, "remark": "依法审查", "by": by(where)}

            self.at(when, DISTRICT, "case.act", "staff:0", act, also=everywhere)
        if rating is not None:
            level, comment = rating

            def rate() -> dict[str, Any]:
                return {"number": self.found[label], "phone_tail": "8000", "level": level, "comment": comment}

            rated_at = steps[-1][0] + timedelta(hours=1)
            self.at(rated_at, DISTRICT, "case.rate", "public:track", rate, also=everywhere)


async def fill(db_url: str, staff: dict[str, int]) -> None:
    engine = create_engine(db_url)
    clock = StepClock(local(WEEKS["2026-10"], 8))
    writer = Writer(engine, [QueueDomain(), CasesDomain(CATALOG)], clock=clock)
    filler = Filler(writer, clock, staff)
    for month, monday in WEEKS.items():
        busier = 2 if month == "2026-11" else 0
        for offset in range(5):
            day = monday + timedelta(days=offset)
            # The centre's counter 1 keeps its waits short and is rated 非常满意; its counter 4 runs
            # late and is rated 不满意 or 基本满意; the station's counter 1 sits between.
            filler.serve(DISTRICT, 1, "soc", day, 9, [3, 8, 12, 15, 9, 4][: 4 + busier], 5)
            filler.serve(DISTRICT, 4, "fund", day, 9, [25, 31, 18, 40][: 2 + busier], 2 + offset % 2)
            filler.serve(COMMUNITY, 1, "soc", day, 9, [5, 22, 11][: 1 + busier], 4)
            # Each day a 10-day MZ-006 accepted at the station and completed two days later, rated
            # 满意 online; an instant MZ-004 at the centre, completed that afternoon (not rated), or
            # late the next morning on Tuesdays and Thursdays, and rated 不满意.
            two_days = local(day + timedelta(days=2), 10)
            steps = [(local(day, 15), "review"), (local(day, 16), "approve"), (two_days, "complete")]
            filler.case(COMMUNITY, "MZ-006", local(day, 14), steps, (4, ""))
            finish = local(day + timedelta(days=1), 10) if offset % 2 else local(day, 16, 30)
            steps = [(local(day, 15, 10), "review"), (local(day, 15, 20), "approve"), (finish, "complete")]
            filler.case(DISTRICT, "MZ-004", local(day, 14, 30), steps, (2, "等了一上午") if offset % 2 else None)
    try:
        async with writer:
            await filler.run()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("report"))
    proc.init()
    open_all_week(proc.db_url)
    proc.add_staff("chen", "supervisor", name="陈志强")
    for hall, counter, code in ((1, 1, "xh"), (1, 4, "xh"), (3, 1, "xh-hp-ly")):
        proc.add_staff(f"clerk{hall}-{counter}", "clerk", code, name=f"窗口{hall}-{counter}")
    for hall, code in ((1, "xh"), (2, "xh-hp"), (3, "xh-hp-ly")):
        proc.add_staff(f"admin{hall}", "admin", code, name=f"管理{hall}")
    path = proc.db_url.split("///", 1)[1]
    with sqlite3.connect(path) as db:
        staff = dict(db.execute("select username, id from staff").fetchall())
    # The browser's own event loop runs in this thread: the filling gets a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(fill(proc.db_url, staff))).result()
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def test_the_districts_monthly_report_prints_on_a4(screens: Screens) -> None:
    from playwright.sync_api import expect

    # About the width of an A4 sheet at 96 dpi (210 mm ≈ 794 px) with the page's margin around it.
    page = screens.open("/reports/1/2026-11", role="supervisor", width=900, height=1270)
    expect(page.locator("h1")).to_contain_text("2026年11月 月度工作简报")
    summary = page.locator("#summary-table")
    # November against October: 5 days of 6 + 4 tickets at the centre and 3 at the station,
    # against 4 + 2 and 1; 10 cases each month, 2 of them late.
    expect(summary.locator("tr", has_text="取号量")).to_contain_text("65")
    expect(summary.locator("tr", has_text="取号量")).to_contain_text("35")
    expect(summary.locator("tr", has_text="取号量")).to_contain_text("+30")
    expect(summary.locator("tr", has_text="受理件数")).to_contain_text("10")
    expect(summary.locator("tr", has_text="按时办结率")).to_contain_text("80.0%")
    # Residents rated 7 cases online, 5 of them 满意: 5 / 7.
    expect(summary.locator("tr", has_text="办件评价数")).to_contain_text("7")
    expect(summary.locator("tr", has_text="办件满意率")).to_contain_text("71.4%")
    halls = page.locator("#halls-table tbody tr")
    expect(halls).to_have_count(3)
    expect(halls.nth(2)).to_contain_text("柳荫社区党群服务站")
    # Each rating counts at the hall that accepted the case: the station's all 满意.
    expect(page.locator("#halls-table thead")).to_contain_text("办件满意率")
    expect(halls.nth(2).locator("td").last).to_have_text("100.0%")
    expect(halls.nth(0).locator("td").last).to_have_text("0.0%")
    # The instant item is the one completed late; counter 4 of the centre waits longest.
    expect(page.locator("#worst-items tbody tr").first).to_contain_text("MZ-004")
    expect(page.locator("#worst-items tbody tr").first).to_contain_text("60.0%")
    expect(page.locator("#worst-counters tbody tr").first).to_contain_text("星河区政务服务中心 4号窗口")
    for chart in ("queue", "cases", "items"):
        expect(page.locator(f"#{chart}-chart svg")).to_have_count(1)
    # Each daily chart has its table, a row for each of November's 30 days; the month is over, so
    # it is compared with the whole of October, with no month-to-date note.
    for table in ("queue-days", "cases-days"):
        expect(page.locator(f"#{table} tbody tr")).to_have_count(30)
    expect(page.locator("#cases-days tbody tr", has_text="11-16")).to_contain_text("2")
    expect(page.locator("#report-to-date")).to_have_count(0)
    # The on-time chart names its items, not their codes; its table gives both.
    expect(page.locator("#items-chart svg")).to_contain_text("八十周岁")
    expect(page.locator("#items-chart svg")).not_to_contain_text("MZ-006")
    expect(page.locator("#items-on-time tbody tr")).to_have_count(2)
    expect(page.locator(".report-tools")).to_be_visible()
    shoot(page, "report-a4")

    page.emulate_media(media="print")
    expect(page.locator(".report-tools")).to_be_hidden()
    expect(page.locator("#cases-days")).to_be_visible()
    shoot(page, "report-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF")


def test_clerks_may_not_read_the_report_and_a_bad_month_is_named(screens: Screens) -> None:
    from playwright.sync_api import expect

    screens.allow(r"status of 40[34] ")
    page = screens.open("/reports/1/2026-13", role="supervisor", width=900, height=700)
    expect(page.locator("main")).to_contain_text("没有这个月份")
    page = screens.open("/reports/1/2026-11", role="clerk", width=900, height=700)
    expect(page.locator("main")).to_contain_text("您的角色无权使用此功能")
    expect(page.locator("#report")).to_have_count(0)


def test_the_statistics_page_charts_the_cases_beside_their_tables(screens: Screens) -> None:
    from playwright.sync_api import expect

    page = screens.open("/stats/1", role="supervisor", width=1366, height=768)
    section = page.locator("#case-stats")
    expect(section.locator("h2").first).to_contain_text("办件")
    form = page.locator("#case-stats-form")
    form.locator("input[name=from]").fill("2026-10-01")
    form.locator("input[name=to]").fill("2026-11-30")
    form.locator("select[name=by]").select_option("month")
    # Choosing a grouping asks again with the whole form: the period just typed included.
    form.locator("select[name=group]").select_option("item")
    expect(page.locator("#case-tiles")).to_contain_text("80.0%")
    # Two months of 7 online ratings, 5 of them 满意 each: 10 / 14.
    expect(page.locator("#case-tiles div", has_text="办件满意率")).to_contain_text("71.4%")
    expect(page.locator("#case-periods-table tbody tr")).to_have_count(2)
    expect(page.locator("#case-periods-table tbody tr").first).to_contain_text("2026-10-01")
    expect(page.locator("#case-rates-table tbody tr")).to_have_count(2)
    expect(page.locator("#case-rates-table")).to_contain_text("60.0%")
    for chart in ("case-periods", "case-rates"):
        expect(page.locator(f"#{chart}-chart canvas")).to_have_count(1)
    section.scroll_into_view_if_needed()
    shoot(page, "stats-cases-1366")

    form.locator("select[name=group]").select_option("stage")
    rows = page.locator("#case-groups-table tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("受理")
    expect(page.locator("#case-groups-table thead")).to_contain_text("办件满意率")
    expect(page.locator("#case-groups-table tfoot")).to_contain_text("合计")


def test_the_case_section_opens_on_the_pages_months_and_says_when_it_is_the_halls(screens: Screens) -> None:
    from playwright.sync_api import expect

    # The page asked by month: the 办件 section's table lists months, not days, untouched.
    page = screens.open("/stats/1", role="supervisor", width=1366, height=768)
    page.goto("/stats/1?from=2026-10-01&to=2026-11-30&by=month")
    rows = page.locator("#case-periods-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("2026-10-01")
    expect(page.locator("#case-stats-form select[name=by]")).to_have_value("month")
    expect(page.locator("#case-stats-scope")).to_have_count(0)
    # Narrowed to a counter: the cases' figures stay the hall's, and the section says so.
    page.goto("/stats/1?from=2026-10-01&to=2026-11-30&by=month&group=clerk&counter=1:4")
    expect(page.locator("#case-stats-scope")).to_be_visible()
    expect(page.locator("#case-stats-scope")).to_contain_text("未按本页所选的部门、窗口或人员筛选")
    expect(page.locator("#case-periods-table tbody tr")).to_have_count(2)
    page.locator("#case-stats").scroll_into_view_if_needed()
    shoot(page, "stats-cases-narrowed")
