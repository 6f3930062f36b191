"""The cases' figures, kept by the writer, and the KPIs read from them, on both backends: four cases
taken through the real writer at known times, and every KPI against the value worked out by hand.

The halls are the sample district (xh), its street (xh-hp) and community (xh-hp-ly), in Beijing
time (UTC+8), working 09:00–17:00. Monday 2026-11-23; no holiday falls in the fortnight after it.

- Case 1, MZ-006 (10 working days, decided by the district): accepted at the community on Monday
  09:30. Its clock promises the rest of Monday (7.5 h) and 10 working days (80 h): 87.5 h, due
  Monday 7 December 17:00. Reviewed and approved on Tuesday, completed Wednesday 09:30: 7.5 + 8 +
  0.5 = 16 h used, on time, 提速率 (87.5 − 16) / 87.5 = 0.81714 → 8171 basis points. Collected at the
  community on Thursday 10:00.
- Case 2, MZ-006: accepted at the community on Monday 10:00 (promise 7 + 80 = 87 h). 补正 asked on
  Tuesday 09:00, materials in on Thursday 09:00: 16 working hours paused, due pushed from 7 to 9
  December 17:00. Completed Thursday 10 December 10:00: 7 h on Monday, 12 working days of 8 h from
  24 November to 9 December, 1 h on the 10th, less the 16 h paused: 88 h. Late; 提速率
  (87 − 88) / 87 = −0.01149 → −115 basis points.
- Case 3, MZ-004 (即办, 0 days): accepted at the district on Monday 14:00, completed 15:00: due at
  17:00 that day, on time, 1 h used; no promise of working days, so no 提速率.
- Case 4, MZ-006: accepted at the community on Tuesday 10:00, refused by the district at 15:00.

Residents rate online (一事一评), and each rating counts at the hall that accepted the case, on the
local day it was given, as 满意 or not (基本满意 or better):

- case 3 is rated 2 不满意 at 00:30 on Tuesday 24 November, Beijing time (16:30 on Monday in UTC):
  the district centre's, a day of Tuesday, not satisfied;
- case 1 is rated 4 满意 on Thursday 26 November at 20:00, after its collection: the community's;
- case 2 is rated 3 基本满意 on 10 December at 18:00: the community's, satisfied, in December;
- a second rating of case 1 and a rating of the refused case 4 are refused and count nothing.

So 3 ratings, 2 satisfied: 办件满意率 2 / 3 = 0.6667; the community 2 of 2, the centre 0 of 1.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cases.catalog_io import sample_catalog
from cases.figures import kpis
from cases.statistics import CaseStats, case_statistics
from cases.store import CasesDomain, actor_args
from hall.kernel.events import Command
from hall.storage.case_tables import case_figures
from hall.storage.database import reading
from hall.storage.writer import Writer
from tests.conftest import Database, StepClock
from tests.factories import add_staff

CATALOG = sample_catalog()
APPLICANT = {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"}
HOUR = 3600


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A Beijing wall-clock time in November (or ``month``) 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def materials(code: str) -> list[str]:
    item = CATALOG.get(code)
    assert item is not None
    return [m.name for m in item.required_materials]


class Hall:
    """The writer, its clock and the staff who act, with one method per kind of step."""

    def __init__(self, engine: AsyncEngine, halls: dict[str, int], people: dict[str, int]) -> None:
        self.clock = StepClock(local(23, 9))
        self.writer = Writer(engine, [CasesDomain(CATALOG)], clock=self.clock)
        self.halls = halls
        self.people = people

    def _by(self, who: str) -> dict[str, Any]:
        hall, roles = {
            "community": ("xh-hp-ly", ["clerk"]),
            "district": ("xh", ["clerk"]),
            "supervisor": ("xh", ["supervisor"]),
        }[who]
        return actor_args(self.people[who], roles, self.halls[hall])

    async def _send(self, when: datetime, name: str, who: str, **args: Any) -> dict[str, Any]:
        self.clock.now = when
        command = Command(
            uuid.uuid4().hex,
            self.halls["xh"],
            name,
            f"staff:{self.people[who]}",
            {**args, "by": self._by(who)},
            also=tuple(self.halls.values()),
        )
        outcome = await self.writer.submit(command)
        assert outcome.ok, (when, name, args, outcome.result)
        return dict(outcome.result)

    async def accept(self, when: datetime, who: str, item: str) -> str:
        found = await self._send(when, "case.accept", who, item=item, applicant=APPLICANT, materials=materials(item))
        return str(found["case"]["number"])

    async def act(self, when: datetime, who: str, number: str, action: str, **args: Any) -> None:
        await self._send(when, "case.act", who, number=number, action=action, **args)

    async def rate(self, when: datetime, number: str, level: int, comment: str = "") -> bool:
        """The resident's online rating, as the tracking page sends it: whether it was taken."""
        self.clock.now = when
        args = {"number": number, "phone_tail": APPLICANT["phone"][-4:], "level": level, "comment": comment}
        command = Command(uuid.uuid4().hex, self.halls["xh"], "case.rate", "public:track", args, also=self.everywhere)
        return (await self.writer.submit(command)).ok

    @property
    def everywhere(self) -> tuple[int, ...]:
        return tuple(self.halls.values())


async def people_of(engine: AsyncEngine, halls: dict[str, int]) -> dict[str, int]:
    """A clerk at the community, one at the district and the district's supervisor."""
    return {
        "community": (await add_staff(engine, halls["xh-hp-ly"], 1))[0],
        "district": (await add_staff(engine, halls["xh"], 1))[0],
        "supervisor": (await add_staff(engine, halls["xh"], 1, roles="supervisor", prefix="sup"))[0],
    }


async def play(engine: AsyncEngine, halls: dict[str, int]) -> None:
    hall = Hall(engine, halls, await people_of(engine, halls))
    async with hall.writer:
        one = await hall.accept(local(23, 9, 30), "community", "MZ-006")
        two = await hall.accept(local(23, 10), "community", "MZ-006")
        three = await hall.accept(local(23, 14), "district", "MZ-004")
        for minute, action in ((10, "review"), (20, "approve"), (60, "complete")):
            who = "supervisor" if action == "approve" else "district"
            await hall.act(local(23, 14) + timedelta(minutes=minute), who, three, action)
        wanted = materials("MZ-006")[:1]
        await hall.act(local(24, 9), "district", two, "supplement", remark="户口簿复印件不清", materials=wanted)
        await hall.act(local(24, 10), "district", one, "review")
        four = await hall.accept(local(24, 10, 30), "community", "MZ-006")
        await hall.act(local(24, 11), "supervisor", one, "approve")
        await hall.act(local(24, 15), "district", four, "refuse", remark="不符合申请条件")
        await hall.act(local(25, 9, 30), "district", one, "complete")
        await hall.act(local(26, 9), "community", two, "supplement_received", materials=wanted)
        await hall.act(local(26, 10), "community", one, "collect")
        await hall.act(local(1, 10, month=12), "district", two, "review")
        await hall.act(local(1, 11, month=12), "supervisor", two, "approve")
        await hall.act(local(10, 10, month=12), "district", two, "complete")
        assert await hall.rate(local(24, 0, 30), three, 2, "等候时间太长")
        assert await hall.rate(local(26, 20), one, 4)
        assert await hall.rate(local(10, 18, month=12), two, 3)
        assert not await hall.rate(local(27, 9), one, 5)
        assert not await hall.rate(local(27, 9), four, 5)


async def stats(engine: AsyncEngine, scope: list[int], group: str, by: str = "day") -> CaseStats:
    async with reading(engine) as conn:
        return await case_statistics(conn, scope, date(2026, 11, 1), date(2026, 12, 31), by=by, group=group)


def lines(found: CaseStats) -> dict[str, dict[str, object]]:
    return {line.key: kpis(line.sums) for line in found.groups}


async def test_every_case_kpi_of_a_district_against_the_hand_worked_values(
    database: Database, halls: dict[str, int]
) -> None:
    engine = database.engines[0]
    await play(engine, halls)
    district = [halls["xh"], halls["xh-hp"], halls["xh-hp-ly"]]

    total = kpis((await stats(engine, district, "item")).total)
    assert total == {
        "accepted": 4,
        "entered": 4 + 3 + 3 + 3 + 1 + 1,
        "completed": 3,
        "on_time": 2,
        "late": 1,
        "on_time_rate": 0.6667,
        # (8171 − 115) / 2 basis points.
        "speed_up": 0.4028,
        # (16 + 88 + 1) working hours over 3 cases, in days of 8 hours: 4.375.
        "work_days_mean": round(105 / 3 / 8, 2),
        "refused": 1,
        "collected": 1,
        "supplements": 1,
        "returned": 0,
        "rated": 3,
        "satisfied": 2,
        "satisfaction": 0.6667,
    }

    by_item = lines(await stats(engine, district, "item"))
    assert (by_item["MZ-006"]["accepted"], by_item["MZ-006"]["completed"]) == (3, 2)
    assert (by_item["MZ-006"]["on_time_rate"], by_item["MZ-006"]["speed_up"]) == (0.5, 0.4028)
    assert (by_item["MZ-004"]["on_time_rate"], by_item["MZ-004"]["speed_up"]) == (1.0, None)
    assert by_item["MZ-004"]["work_days_mean"] == 0.12  # 1 h of an 8 h day
    assert (by_item["MZ-006"]["rated"], by_item["MZ-006"]["satisfaction"]) == (2, 1.0)
    assert (by_item["MZ-004"]["rated"], by_item["MZ-004"]["satisfaction"]) == (1, 0.0)

    # Both items belong to the civil affairs bureau.
    by_department = lines(await stats(engine, district, "department"))
    assert list(by_department) == ["区民政局"]
    assert (by_department["区民政局"]["accepted"], by_department["区民政局"]["on_time_rate"]) == (4, 0.6667)

    by_stage = lines(await stats(engine, district, "stage"))
    entered = {key: value["entered"] for key, value in by_stage.items()}
    assert entered == {"accepted": 4, "review": 3, "approval": 3, "completed": 3, "collected": 1, "refused": 1}
    # A rating is of a completed case and moves it nowhere.
    assert {key: value["rated"] for key, value in by_stage.items() if value["rated"]} == {"completed": 3}

    # 受理 and 领取 count at the accepting hall, the office's steps at the deciding one.
    by_hall = lines(await stats(engine, district, "hall"))
    community, centre = by_hall[str(halls["xh-hp-ly"])], by_hall[str(halls["xh"])]
    assert (community["accepted"], community["collected"], community["completed"]) == (3, 1, 0)
    assert (centre["accepted"], centre["completed"], centre["refused"], centre["supplements"]) == (1, 3, 1, 1)
    # Ratings count where the resident was served: the hall that accepted the case.
    assert (community["rated"], community["satisfied"], community["satisfaction"]) == (2, 2, 1.0)
    assert (centre["rated"], centre["satisfied"], centre["satisfaction"]) == (1, 0, 0.0)
    assert str(halls["xh-hp"]) not in by_hall

    months = {line.key: kpis(line.sums) for line in (await stats(engine, district, "item", by="month")).periods}
    assert (months["2026-11-01"]["completed"], months["2026-11-01"]["late"]) == (2, 0)
    assert (months["2026-12-01"]["completed"], months["2026-12-01"]["late"]) == (1, 1)
    assert (months["2026-11-01"]["rated"], months["2026-11-01"]["satisfaction"]) == (2, 0.5)
    assert (months["2026-12-01"]["rated"], months["2026-12-01"]["satisfaction"]) == (1, 1.0)
    days = {line.key: line.sums for line in (await stats(engine, district, "item")).periods}
    assert days["2026-11-23"]["accepted"] == 3 and days["2026-11-24"]["accepted"] == 1
    # Half past midnight in Beijing is Tuesday's, though still Monday in UTC.
    assert (days["2026-11-23"]["rated"], days["2026-11-24"]["rated"]) == (0, 1)

    # The street sees its community's figures and not the district office's.
    street = kpis((await stats(engine, [halls["xh-hp"], halls["xh-hp-ly"]], "item")).total)
    assert (street["accepted"], street["completed"], street["collected"]) == (3, 0, 1)
    assert (street["rated"], street["satisfaction"]) == (2, 1.0)


async def test_a_refused_command_adds_nothing_to_the_figures(database: Database, halls: dict[str, int]) -> None:
    engine = database.engines[0]
    (clerk,) = await add_staff(engine, halls["xh-hp-ly"], 1)
    clock = StepClock(local(23, 10))
    async with Writer(engine, [CasesDomain(CATALOG)], clock=clock) as writer:
        body = {"item": "MZ-006", "applicant": APPLICANT, "materials": materials("MZ-006")[:1]}
        body["by"] = actor_args(clerk, ["clerk"], halls["xh-hp-ly"])
        outcome = await writer.submit(Command(uuid.uuid4().hex, halls["xh"], "case.accept", f"staff:{clerk}", body))
    assert not outcome.ok
    async with reading(engine) as conn:
        assert (await conn.execute(select(case_figures))).all() == []
