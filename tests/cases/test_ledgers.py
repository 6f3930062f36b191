"""Ledgers and queries (台帐): counts per clerk, counter, department and day with subtotals and a
total, a clerk's own cases, the supervisor's comprehensive query, and CSV a spreadsheet opens.

The first half reads a register written row by row, on SQLite and PostgreSQL, so the times can sit
either side of local midnight; the second half takes cases through the API as the halls do.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from cases import case_lists, ledger_csv, ledgers
from cases.catalog_io import sample_catalog
from cases.ledgers import CaseFilter, Period
from cases.web import ledgers as ledger_api
from hall.storage.case_tables import case_steps, cases
from hall.storage.database import create_engine as create_async_engine
from hall.storage.tables import staff
from hall.web import api
from tests.browsing import Screens
from tests.factories import add_staff
from tests.serverproc import ServerProcess, login
from tests.site import Site

SHANGHAI = ZoneInfo("Asia/Shanghai")

ID_NUMBER = "11010519491231002X"
MASKED_ID = "110***********002X"
PHONE = "13800138000"
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
CATALOG = sample_catalog()
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def period(first: str, last: str) -> Period:
    return Period(date.fromisoformat(first), date.fromisoformat(last), SHANGHAI)


# -- a register written row by row -----------------------------------------------------------------


class Register:
    """Six cases at the three sample halls, with the steps each person took on them."""

    def __init__(self, halls: dict[str, int], people: dict[str, int]) -> None:
        self.halls = halls
        self.people = people
        self.cases: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []

    def case(
        self,
        number: str,
        *,
        item: str,
        department: str,
        at: str,
        accepted_at: str,
        stage: str,
        counter: int | None,
        due_at: str,
        completed_at: str | None = None,
        closed_at: str | None = None,
        light: str = "green",
        paused_since: str | None = None,
        deciding: str = "xh",
    ) -> None:
        pauses = [{"start": utc(paused_since).isoformat(), "end": None}] if paused_since else []
        self.cases.append(
            {
                "number": number,
                "register_hall": self.halls["xh"],
                "accepted_hall": self.halls[at],
                "deciding_hall": self.halls[deciding],
                "counter": counter,
                "item": item,
                "department": department,
                "kind": "promised",
                "channel": "window",
                "stage": stage,
                "registered_by": self.people["cc" if at == "xh-hp-ly" else "sc" if at == "xh-hp" else "dc"],
                "assignee": None,
                "accepted_at": utc(accepted_at),
                "due_at": utc(due_at),
                "completed_at": utc(completed_at) if completed_at else None,
                "closed_at": utc(closed_at) if closed_at else None,
                "light": light,
                "phone_tail": PHONE[-4:],
                "rating": None,
                "record": {
                    "number": number,
                    "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": PHONE},
                    "pauses": pauses,
                },
            }
        )

    def step(self, number: str, action: str, who: str, at: str, hall: str) -> None:
        idx = sum(1 for s in self.steps if s["number"] == number)
        self.steps.append(
            {
                "number": number,
                "idx": idx,
                "action": action,
                "stage_from": None,
                "stage_to": "accepted",
                "actor": self.people[who],
                "hall_id": self.halls[hall],
                "at": utc(at),
                "remark": "",
            }
        )


MZ = "区民政局"
RS = "区人力资源和社会保障局"


@pytest.fixture
async def register(engine: AsyncEngine, halls: dict[str, int]) -> Register:
    people = {
        "cc": (await add_staff(engine, halls["xh-hp-ly"], 1, roles="clerk", prefix="cc"))[0],
        "sc": (await add_staff(engine, halls["xh-hp"], 1, roles="clerk", prefix="sc"))[0],
        "dc": (await add_staff(engine, halls["xh"], 1, roles="clerk", prefix="dc"))[0],
        "sup": (await add_staff(engine, halls["xh"], 1, roles="supervisor", prefix="sup"))[0],
    }
    book = Register(halls, people)
    # 23:59 on 22 November in Shanghai: the 22nd, though the 23rd began in no zone yet.
    book.case(
        "C1",
        item="MZ-006",
        department=MZ,
        at="xh-hp-ly",
        accepted_at="2026-11-22T15:59",
        stage="collected",
        counter=1,
        due_at="2026-11-30T09:00",
        completed_at="2026-11-25T09:00",
        closed_at="2026-11-25T09:00",
    )
    # 00:00 on 23 November in Shanghai, one minute later: the 23rd.
    book.case(
        "C2",
        item="MZ-006",
        department=MZ,
        at="xh-hp-ly",
        accepted_at="2026-11-22T16:00",
        stage="completed",
        counter=1,
        due_at="2026-11-24T09:00",
        completed_at="2026-11-26T09:00",
        closed_at="2026-11-26T09:00",
    )
    book.case(
        "C3",
        item="RS-003",
        department=RS,
        at="xh",
        accepted_at="2026-11-23T02:00",
        stage="review",
        counter=5,
        due_at="2026-11-25T09:00",
        light="red",
    )
    # Waiting on 补正 since before its due time: the clock stopped there, so it is not overdue.
    book.case(
        "C4",
        item="RS-003",
        department=RS,
        at="xh",
        accepted_at="2026-11-23T03:00",
        stage="accepted",
        counter=5,
        due_at="2026-11-25T09:00",
        paused_since="2026-11-24T02:00",
    )
    book.case(
        "C6",
        item="MZ-003",
        department=MZ,
        at="xh-hp",
        deciding="xh-hp",
        accepted_at="2026-11-24T01:00",
        stage="accepted",
        counter=2,
        due_at="2026-12-08T09:00",
    )
    # 00:30 on 1 December in Shanghai, still 30 November in UTC; accepted online, then refused.
    book.case(
        "C5",
        item="MZ-006",
        department=MZ,
        at="xh-hp-ly",
        accepted_at="2026-11-30T16:30",
        stage="refused",
        counter=None,
        due_at="2026-12-10T09:00",
        closed_at="2026-12-01T02:00",
    )
    for number, hall in (("C1", "xh-hp-ly"), ("C2", "xh-hp-ly"), ("C3", "xh"), ("C4", "xh"), ("C5", "xh-hp-ly")):
        accepted = next(c for c in book.cases if c["number"] == number)["accepted_at"]
        book.step(number, "accepted", "cc" if hall == "xh-hp-ly" else "dc", accepted.isoformat()[:16], hall)
    book.step("C6", "accepted", "sc", "2026-11-24T01:00", "xh-hp")
    book.step("C1", "reviewed", "dc", "2026-11-23T02:00", "xh")
    book.step("C1", "approved", "sup", "2026-11-24T02:00", "xh")
    book.step("C1", "completed", "dc", "2026-11-25T09:00", "xh")
    book.step("C1", "collected", "cc", "2026-11-27T02:00", "xh-hp-ly")
    book.step("C2", "reviewed", "dc", "2026-11-23T03:00", "xh")
    book.step("C2", "approved", "sup", "2026-11-24T03:00", "xh")
    book.step("C2", "completed", "dc", "2026-11-26T09:00", "xh")
    book.step("C3", "reviewed", "dc", "2026-11-24T01:00", "xh")
    book.step("C4", "supplement_requested", "dc", "2026-11-24T02:00", "xh")
    book.step("C5", "refused", "dc", "2026-12-01T02:00", "xh")
    async with engine.begin() as conn:
        await conn.execute(insert(cases), book.cases)
        await conn.execute(insert(case_steps), book.steps)
    return book


def whole(book: Register, first: str = "2026-11-22", last: str = "2026-12-01", at: str = "xh") -> CaseFilter:
    scope = {
        "xh": frozenset(book.halls.values()),
        "xh-hp": frozenset({book.halls["xh-hp"], book.halls["xh-hp-ly"]}),
        "xh-hp-ly": frozenset({book.halls["xh-hp-ly"]}),
    }[at]
    return CaseFilter(halls=scope, period=period(first, last))


def table(ledger: ledgers.Ledger) -> dict[str, dict[str, Any]]:
    """group key → its rows' values by row key, and its subtotal."""
    return {
        g.key: {"rows": {line.key: dict(line.values) for line in g.lines}, "subtotal": dict(g.subtotal)}
        for g in ledger.groups
    }


async def test_days_are_the_halls_local_days_either_side_of_midnight(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        by_day = await ledgers.case_ledger(conn, "day", whole(register), NOW, CATALOG)
        only_23rd = await ledgers.case_ledger(conn, "day", whole(register, "2026-11-23", "2026-11-23"), NOW, CATALOG)
    found = table(by_day)
    assert list(found) == ["2026-11", "2026-12"]
    assert list(found["2026-11"]["rows"]) == ["2026-11-22", "2026-11-23", "2026-11-24"]
    assert found["2026-11"]["rows"]["2026-11-22"]["accepted"] == 1  # C1 at 23:59
    assert found["2026-11"]["rows"]["2026-11-23"]["accepted"] == 3  # C2 at 00:00, C3, C4
    # C5 was accepted on 30 November in UTC and on 1 December in the hall.
    assert found["2026-12"]["rows"] == {
        "2026-12-01": {
            "accepted": 1,
            "in_progress": 0,
            "completed": 0,
            "refused": 1,
            "overdue": 0,
            "mean_days": None,
        }
    }
    assert [line.key for g in only_23rd.groups for line in g.lines] == ["2026-11-23"]
    assert only_23rd.total["accepted"] == 3


async def test_a_case_ledger_counts_each_case_once_as_it_stands_now(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        by_day = await ledgers.case_ledger(conn, "day", whole(register), NOW, CATALOG)
    november = table(by_day)["2026-11"]
    # C2 was completed two days late; C3 is open past its due time; C4's clock stopped before it.
    assert november["rows"]["2026-11-23"] == {
        "accepted": 3,
        "in_progress": 2,
        "completed": 1,
        "refused": 0,
        "overdue": 2,
        "mean_days": 3.7,
    }
    assert november["subtotal"] == {
        "accepted": 5,
        "in_progress": 3,
        "completed": 2,
        "refused": 0,
        "overdue": 2,
        "mean_days": 3.2,  # of C1's 2.71 and C2's 3.71 days: the mean of the cases, not of the days
    }
    assert by_day.total == {
        "accepted": 6,
        "in_progress": 3,
        "completed": 2,
        "refused": 1,
        "overdue": 2,
        "mean_days": 3.2,
    }
    for values in [by_day.total, *(g.subtotal for g in by_day.groups)]:
        assert values["accepted"] == values["in_progress"] + values["completed"] + values["refused"]


async def test_counters_are_subtotalled_by_the_hall_they_stand_in(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        by_counter = await ledgers.case_ledger(conn, "counter", whole(register), NOW, CATALOG)
    halls = register.halls
    found = table(by_counter)
    assert list(found) == [str(halls["xh"]), str(halls["xh-hp"]), str(halls["xh-hp-ly"])]
    assert {k: v["accepted"] for k, v in found[str(halls["xh"])]["rows"].items()} == {"5": 2}
    # The refused case came in online: it stands apart from the community's counter 1, last.
    community = found[str(halls["xh-hp-ly"])]
    assert {k: v["accepted"] for k, v in community["rows"].items()} == {"1": 2, "none": 1}
    assert community["subtotal"]["accepted"] == 3
    labels = {line.key: line.label for g in by_counter.groups for line in g.lines}
    assert labels["1"] == ("1 号窗口", "Counter 1")
    assert labels["none"][0] == "非窗口受理"
    assert by_counter.groups[0].label == ("星河区政务服务中心", "Xinghe District Government Service Center")


async def test_items_are_subtotalled_by_department_in_catalog_order(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        by_department = await ledgers.case_ledger(conn, "department", whole(register), NOW, CATALOG)
    found = table(by_department)
    assert list(found) == [MZ, RS]
    assert {k: v["accepted"] for k, v in found[MZ]["rows"].items()} == {"MZ-003": 1, "MZ-006": 3}
    assert found[MZ]["subtotal"]["accepted"] == 4
    assert found[RS]["subtotal"] == {
        "accepted": 2,
        "in_progress": 2,
        "completed": 0,
        "refused": 0,
        "overdue": 1,
        "mean_days": None,
    }
    assert by_department.total["accepted"] == 6
    label = by_department.groups[0].lines[1].label
    assert label[0] == "MZ-006 八十周岁以上老年人高龄津贴申领"


async def test_a_hall_sees_its_own_cases_and_those_of_the_halls_below(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        community = await ledgers.case_ledger(conn, "department", whole(register, at="xh-hp-ly"), NOW, CATALOG)
        street = await ledgers.case_ledger(conn, "department", whole(register, at="xh-hp"), NOW, CATALOG)
        scope = await ledgers.hall_scope(conn, register.halls["xh-hp"])
    assert community.total["accepted"] == 3  # C1, C2, C5: accepted there, decided at the district
    assert street.total["accepted"] == 4  # and C6, the street's own
    assert scope == {register.halls["xh-hp"], register.halls["xh-hp-ly"]}


async def test_the_clerk_ledger_counts_the_steps_each_person_took(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        by_clerk = await ledgers.clerk_ledger(conn, whole(register))
        community = await ledgers.clerk_ledger(conn, whole(register, at="xh-hp-ly"))
    halls, people = register.halls, register.people
    found = table(by_clerk)
    district = found[str(halls["xh"])]
    assert district["rows"][str(people["dc"])] == {
        "accepted": 2,
        "reviewed": 3,
        "approved": 0,
        "completed": 2,
        "collected": 0,
        "refused": 1,
        "supplement": 1,
        "returned": 0,
        "completed_late": 1,
        "steps": 9,
    }
    assert district["rows"][str(people["sup"])]["approved"] == 2
    assert district["subtotal"]["steps"] == 11
    assert found[str(halls["xh-hp-ly"])]["rows"][str(people["cc"])]["collected"] == 1
    assert found[str(halls["xh-hp-ly"])]["subtotal"]["steps"] == 4
    assert by_clerk.total["steps"] == len(register.steps) == 16
    assert by_clerk.total["accepted"] == 6
    # A community sees the steps taken there, not the district's work on its cases.
    assert community.total["steps"] == 4
    assert [line.key for g in community.groups for line in g.lines] == [str(people["cc"])]


async def test_the_comprehensive_query_filters_and_masks(engine: AsyncEngine, register: Register) -> None:
    base = whole(register)
    people = register.people

    async def numbers(**narrow: Any) -> list[str]:
        async with engine.connect() as conn:
            page = await case_lists.query_cases(conn, CaseFilter(**{**base.__dict__, **narrow}), NOW, CATALOG, limit=50)
        return [line.number for line in page.lines]

    assert await numbers() == ["C1", "C2", "C3", "C4", "C6", "C5"]
    assert await numbers(items=frozenset({"RS-003"})) == ["C3", "C4"]
    assert await numbers(staff=frozenset({people["cc"]})) == ["C1", "C2", "C5"]
    assert await numbers(staff=frozenset({people["sup"]})) == ["C1", "C2"]
    assert await numbers(stages=frozenset({"refused", "review"})) == ["C3", "C5"]
    assert await numbers(lights=frozenset({"red"})) == ["C3"]
    assert await numbers(departments=frozenset({RS})) == ["C3", "C4"]
    async with engine.connect() as conn:
        page = await case_lists.query_cases(conn, base, NOW, CATALOG, limit=2, offset=1)
        too_many = await case_lists.query_cases(conn, base, NOW, CATALOG, limit=5, whole=True)
    assert page.total == 6 and [line.number for line in page.lines] == ["C2", "C3"]
    assert too_many.total == 6 and too_many.lines == ()
    c2 = page.lines[0]
    assert c2.applicant == {"name": "王**", "id_number": MASKED_ID, "phone": "138****8000"}
    assert c2.overdue and page.lines[1].overdue


async def test_personal_cases_are_those_the_person_took_a_step_on(engine: AsyncEngine, register: Register) -> None:
    people = register.people
    async with engine.connect() as conn:
        mine = await case_lists.personal_cases(
            conn, people["cc"], period("2026-11-22", "2026-12-01"), NOW, CATALOG, limit=50
        )
        late_month = await case_lists.personal_cases(
            conn, people["cc"], period("2026-11-26", "2026-11-30"), NOW, CATALOG, limit=50
        )
        approver = await case_lists.personal_cases(
            conn, people["sup"], period("2026-11-01", "2026-11-30"), NOW, CATALOG, limit=50
        )
        summary = await case_lists.personal_summary(conn, people["cc"], period("2026-11-22", "2026-12-01"))
    assert [line.number for line in mine.lines] == ["C1", "C2", "C5"]
    assert [action for action, _ in mine.lines[0].steps] == ["accepted", "collected"]
    # Only the collection of C1 on the 27th falls in these days.
    assert [(line.number, [a for a, _ in line.steps]) for line in late_month.lines] == [("C1", ["collected"])]
    assert [line.number for line in approver.lines] == ["C1", "C2"]
    assert summary == {"accepted": 3, "collected": 1}


async def test_the_csv_opens_in_a_spreadsheet_with_chinese_first(engine: AsyncEngine, register: Register) -> None:
    async with engine.connect() as conn:
        by_department = await ledgers.case_ledger(conn, "department", whole(register), NOW, CATALOG)
        page = await case_lists.query_cases(conn, whole(register), NOW, CATALOG, limit=50)
    body = ledger_csv.ledger_csv(by_department)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == [
        "实施部门 / Department",
        "事项 / Service item",
        "受理件数 / Cases accepted",
        "在办件数 / Cases in progress",
    ]
    assert rows[1][:3] == [MZ, f"MZ-003 {CATALOG['MZ-003'].name}", "1"]
    assert rows[3][:3] == [MZ, "小计", "4"]
    assert rows[-1][:3] == ["合计", "", "6"]
    assert rows[-1][-1] == "3.2"

    listed = ledger_csv.cases_csv(page.lines, SHANGHAI)
    text = listed.decode("utf-8-sig")
    assert ID_NUMBER not in text and PHONE not in text
    records = list(csv.reader(io.StringIO(text)))
    assert records[0][0] == "办件编号 / Case number"
    c1 = records[1]
    assert c1[0] == "C1" and MASKED_ID in c1 and "2026-11-22 23:59" in c1


def test_a_cell_that_looks_like_a_formula_stays_text() -> None:
    assert ledger_csv.formula_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert ledger_csv.formula_safe(-1) == -1  # numbers are numbers
    assert ledger_csv.formula_safe(True) == "是"


def test_a_period_is_at_most_366_days_and_never_ends_before_it_starts() -> None:
    assert period("2028-01-01", "2028-12-31").days == 366
    with pytest.raises(ValueError, match="366"):
        period("2026-01-01", "2027-01-02")
    with pytest.raises(ValueError, match="ends on or after"):
        period("2026-11-02", "2026-11-01")
    # Local midnight in Shanghai is 16:00 UTC the day before; the range is half-open.
    assert period("2026-11-23", "2026-11-23").start == utc("2026-11-22T16:00")
    assert period("2026-11-23", "2026-11-23").end == utc("2026-11-23T16:00")


def test_overdue_is_late_completion_or_an_open_clock_past_due() -> None:
    due = utc("2026-11-25T09:00")
    assert ledgers.is_overdue("completed", due, due + timedelta(minutes=1), NOW)
    assert not ledgers.is_overdue("collected", due, due, NOW)
    assert ledgers.is_overdue("review", due, None, NOW)
    assert not ledgers.is_overdue("review", due, None, due - timedelta(hours=1))
    assert not ledgers.is_overdue("accepted", due, None, NOW, paused=due - timedelta(days=1))
    assert ledgers.is_overdue("accepted", due, None, NOW, paused=due + timedelta(days=1))
    assert not ledgers.is_overdue("refused", due, None, NOW)


# -- through the API -----------------------------------------------------------------------------------

MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]


def _accept(site: Site, token: str, hall: int, item: str = "MZ-006", materials: list[str] = MATERIALS) -> str:
    body = {
        "item": item,
        "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "138-0013-8000"},
        "materials": materials,
        "counter": 1,
    }
    answer = site.post(f"/api/v1/halls/{hall}/cases", token, body)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["case"]["number"])


def _act(site: Site, token: str, hall: int, number: str, action: str, remark: str = "") -> None:
    answer = site.post(f"/api/v1/halls/{hall}/cases/{number}/{action}", token, {"remark": remark})
    assert answer.status_code == 200, answer.text


@pytest.fixture
def worked(site: Site) -> dict[str, str]:
    """Three cases accepted at the community and decided at the district — one collected, one
    waiting for 办结, one refused — and one accepted at the district, untouched since."""
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    token = site.login("community-clerk")
    done, waiting, refused = (_accept(site, token, community) for _ in range(3))
    token = site.login("clerk")
    own = _accept(site, token, district, item="RS-001", materials=["居民身份证"])
    _act(site, token, district, done, "review")
    _act(site, token, district, waiting, "review")
    _act(site, token, district, refused, "refuse", "不属于本辖区")
    token = site.login("supervisor")
    _act(site, token, district, done, "approve")
    _act(site, token, district, waiting, "approve")
    token = site.login("clerk")
    _act(site, token, district, done, "complete")
    token = site.login("community-clerk")
    _act(site, token, community, done, "collect")
    return {"done": done, "waiting": waiting, "refused": refused, "own": own}


def _community_supervisor(site: Site) -> None:
    url = str(site.client.app.state.hall.settings.db_url)  # type: ignore[attr-defined]

    async def add() -> str:
        engine = create_async_engine(url)
        try:
            (staff_id,) = await add_staff(engine, site.halls["xh-hp-ly"], 1, roles="supervisor", prefix="cs")
            async with engine.connect() as conn:
                return str((await conn.execute(select(staff.c.username).where(staff.c.id == staff_id))).scalar_one())
        finally:
            await engine.dispose()

    site.users["community-supervisor"] = asyncio.run(add())


def test_the_department_ledger_through_the_api(site: Site, worked: dict[str, str]) -> None:
    district = site.halls["xh"]
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/{district}/ledgers?by=department")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [c["key"] for c in found["columns"]] == [
        "accepted",
        "in_progress",
        "completed",
        "refused",
        "overdue",
        "mean_days",
    ]
    assert found["columns"][0]["label"] == "受理件数"
    assert [g["label"] for g in found["groups"]] == ["区民政局", "区人力资源和社会保障局"]
    civil = found["groups"][0]
    assert [r["key"] for r in civil["rows"]] == ["MZ-006"]
    counts = {k: v for k, v in civil["subtotal"].items() if k != "mean_days"}
    assert counts == {"accepted": 3, "in_progress": 1, "completed": 1, "refused": 1, "overdue": 0}
    assert found["total"]["accepted"] == 4 and found["total"]["in_progress"] == 2


def test_the_clerk_ledger_through_the_api(site: Site, worked: dict[str, str]) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    site.login("supervisor")
    found = site.client.get(f"/api/v1/halls/{district}/ledgers?by=clerk").json()
    groups = {g["key"]: g for g in found["groups"]}
    assert set(groups) == {str(district), str(community)}
    (clerk,) = groups[str(community)]["rows"]
    assert {k: v for k, v in clerk["values"].items() if v} == {"accepted": 3, "collected": 1, "steps": 4}
    assert clerk["label"] == "cc 0 N0000"
    assert groups[str(district)]["subtotal"]["steps"] == 7  # accepted 1, reviewed 2, refused 1, completed 1, approved 2
    assert found["total"]["steps"] == 11
    by_counter = site.client.get(f"/api/v1/halls/{district}/ledgers?by=counter&lang=en").json()
    assert by_counter["heads"] == {"group": "Hall", "row": "Counter"}
    assert by_counter["groups"][-1]["label"] == "Liuyin Community Service Station"
    assert by_counter["groups"][-1]["rows"][0]["label"] == "Counter 1"


def test_csv_exports_carry_a_bom_a_bilingual_header_and_no_full_id(site: Site, worked: dict[str, str]) -> None:
    district = site.halls["xh"]
    site.login("supervisor")
    ledger = site.client.get(f"/api/v1/halls/{district}/ledgers?by=department&format=csv")
    assert ledger.status_code == 200
    assert ledger.headers["content-type"].startswith("text/csv")
    assert ledger.headers["content-disposition"].startswith('attachment; filename="ledger-department-')
    assert ledger.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(ledger.content.decode("utf-8-sig"))))
    assert rows[0][2] == "受理件数 / Cases accepted"
    assert [r[1] for r in rows if r[1] == "小计"] == ["小计", "小计"]
    assert rows[-1][:3] == ["合计", "", "4"]

    listed = site.client.get(f"/api/v1/halls/{district}/cases/query?format=csv")
    assert listed.status_code == 200 and listed.content.startswith(b"\xef\xbb\xbf")
    text = listed.content.decode("utf-8-sig")
    assert ID_NUMBER not in text and "138-0013-8000" not in text
    assert text.count(MASKED_ID) == 4
    found = site.client.get(f"/api/v1/halls/{district}/cases/query?item=MZ-006&stage=refused").json()
    assert [c["number"] for c in found["cases"]] == [worked["refused"]]
    assert ID_NUMBER not in str(found)


def test_personal_query_shows_only_ones_own_cases(site: Site, worked: dict[str, str]) -> None:
    site.login("community-clerk")
    mine = site.client.get("/api/v1/me/cases").json()
    assert {c["number"] for c in mine["cases"]} == {worked["done"], worked["waiting"], worked["refused"]}
    assert mine["steps"] == {"accepted": 3, "collected": 1}
    done = next(c for c in mine["cases"] if c["number"] == worked["done"])
    assert [s["action"] for s in done["my_steps"]] == ["accepted", "collected"]
    assert [s["label"] for s in done["my_steps"]] == ["受理", "领取"]
    site.login("supervisor")
    approved = site.client.get("/api/v1/me/cases").json()
    assert {c["number"] for c in approved["cases"]} == {worked["done"], worked["waiting"]}
    exported = site.client.get("/api/v1/me/cases?format=csv")
    assert exported.content.startswith(b"\xef\xbb\xbf")
    assert "本人操作 / My steps" in exported.content.decode("utf-8-sig")
    site.login("technician")
    assert site.client.get("/api/v1/me/cases").status_code == 403


def test_a_community_cannot_read_the_districts_ledgers(site: Site, worked: dict[str, str]) -> None:
    community, district = site.halls["xh-hp-ly"], site.halls["xh"]
    _community_supervisor(site)
    site.login("community-supervisor")
    for path in (
        f"/api/v1/halls/{district}/ledgers?by=day",
        f"/api/v1/halls/{district}/cases/query",
        f"/ledgers/{district}",
    ):
        assert site.client.get(path).status_code == 403, path
    own = site.client.get(f"/api/v1/halls/{community}/ledgers?by=department").json()
    assert own["total"]["accepted"] == 3  # the district's own case is not the community's
    assert site.client.get(f"/ledgers/{community}").status_code == 200
    # Nor by naming the district as the part of the tree to look at.
    sideways = site.client.get(f"/api/v1/halls/{community}/cases/query?within={district}")
    assert sideways.status_code == 422 and sideways.json()["field"] == "within"
    # A clerk reads no hall's ledgers, even their own.
    site.login("community-clerk")
    assert site.client.get(f"/api/v1/halls/{community}/ledgers?by=day").status_code == 403
    # The district sees the community's.
    site.login("supervisor")
    below = site.client.get(f"/api/v1/halls/{district}/ledgers?by=department&within={community}").json()
    assert below["total"]["accepted"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("by=week", "by"),
        ("", "by"),
        ("by=day&from=2026-13-01", "from"),
        ("by=day&to=yesterday", "to"),
        ("by=day&from=2026-11-02&to=2026-11-01", "to"),
        ("by=day&from=2025-01-01&to=2026-01-02", "from"),
        ("by=day&item=NOPE-1", "item"),
        ("by=day&stage=lost", "stage"),
        ("by=day&light=blue", "light"),
        ("by=day&staff=me", "staff"),
        ("by=day&within=99999", "within"),
        ("by=day&format=xlsx", "format"),
    ],
)
def test_bad_ledger_parameters_are_named(site: Site, query: str, field: str) -> None:
    site.login("supervisor")
    answer = site.client.get(f"/api/v1/halls/{site.halls['xh']}/ledgers?{query}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field


def test_bad_query_parameters_are_named(site: Site) -> None:
    site.login("supervisor")
    district = site.halls["xh"]
    for query, field in (("limit=0", "limit"), ("offset=-1", "offset"), ("from=2026-02-30", "from")):
        answer = site.client.get(f"/api/v1/halls/{district}/cases/query?{query}")
        assert answer.status_code == 422 and answer.json()["field"] == field, query
    site.login("clerk")
    assert site.client.get("/api/v1/me/cases?from=2020-01-01&to=2026-01-01").status_code == 422


def test_the_ledger_page_is_the_supervisors(site: Site) -> None:
    district = site.halls["xh"]
    site.anonymous()
    assert site.client.get(f"/ledgers/{district}").headers["location"] == f"/login?next=/ledgers/{district}"
    assert f'href="/ledgers/{district}"' in site.client.get("/").text
    site.login("clerk")
    assert site.client.get(f"/ledgers/{district}").status_code == 403
    site.login("supervisor")
    page = site.client.get(f"/ledgers/{district}")
    assert page.status_code == 200
    html = page.text
    assert "台帐与查询" in html and "综合查询" in html
    assert f'action="/api/v1/halls/{district}/ledgers"' in html
    assert f'action="/api/v1/halls/{district}/cases/query"' in html
    assert 'value="csv"' in html and "/static/js/ledgers.js" in html
    assert "<style" not in html and " style=" not in html
    assert site.client.get("/static/js/ledgers.js").status_code == 200


def test_the_api_document_describes_the_ledgers() -> None:
    for endpoint in (ledger_api.hall_ledger, ledger_api.case_query, ledger_api.my_cases):
        described = api.schemas.parse_docstring(endpoint)
        assert described["summary"] and 200 in described["responses"] and 422 in described["responses"]


def test_a_case_record_is_still_found_beside_the_query_route(site: Site, worked: dict[str, str]) -> None:
    """/cases/query is matched before /cases/{number}; a case number still reaches its record."""
    site.login("clerk")
    district = site.halls["xh"]
    record = site.client.get(f"/api/v1/halls/{district}/cases/{worked['own']}")
    assert record.status_code == 200 and record.json()["number"] == worked["own"]


# -- in a browser ----------------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path)
    proc.init()
    proc.add_staff("sup", "supervisor", name="陈志强")
    proc.add_staff("cc", "clerk", hall="xh-hp-ly", name="赵敏")
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_the_ledger_page_draws_the_tables_and_offers_the_csv(screens: Screens, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    with httpx.Client(base_url=server.url, timeout=10) as client:
        token = login(client, "cc", server.passwords["cc"])
        community = next(h["id"] for h in client.get("/api/v1/halls").json() if h["code"] == "xh-hp-ly")
        body = {
            "item": "MZ-006",
            "applicant": {"name": "王秀英", "id_number": ID_NUMBER, "phone": "138-0013-8000"},
            "materials": MATERIALS,
            "counter": 1,
        }
        accepted = client.post(f"/api/v1/halls/{community}/cases", json=body, headers={"X-CSRF-Token": token})
        assert accepted.status_code == 200, accepted.text
    page = screens.open("/ledgers/1", role="supervisor", width=1280, height=900)
    ledger = page.locator("#ledger-table")
    # The page opens on the clerk ledger: the community clerk's 受理 under the community.
    expect(ledger.locator("tbody")).to_contain_text("柳荫社区党群服务站")
    expect(ledger.locator("tbody")).to_contain_text("赵敏")
    expect(ledger.locator("tfoot")).to_contain_text("合计")
    page.select_option("#ledger-form select[name=by]", "department")
    expect(ledger.locator("thead")).to_contain_text("受理件数")
    expect(ledger.locator("tbody")).to_contain_text("MZ-006")
    expect(ledger.locator("tbody tr.subtotal")).to_contain_text("小计")
    expect(page.locator("#ledger-note")).to_contain_text("超期")
    page.click("#query-form button.primary")
    expect(page.locator("#query-count")).to_have_text("共 1 件")
    expect(page.locator("#query-table tbody")).to_contain_text(MASKED_ID)
    assert ID_NUMBER not in page.content()
    with page.expect_download() as download:
        page.click("#ledger-form button[value=csv]")
    saved = Path(download.value.path()).read_bytes()
    assert saved.startswith(b"\xef\xbb\xbf") and b"MZ-006" in saved
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ledgers.png"), full_page=True)
    screens.check()
