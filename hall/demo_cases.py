"""The demo's case register: cases of the last four weeks, accepted at the community, street and
district halls and moved along by the district office, so ``hall demo`` opens on to-do lists,
green, yellow and red lights and a 督办 board with something on it.

Each case is written through the writer with its clock set to the moment the step happened,
exactly as a clerk would have made it then; nothing is written around the rules."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from cases.catalog import Catalog, Level
from cases.deadlines import DEFAULT_HOURS, UnknownCalendarYear
from cases.store import CasesDomain, actor_args
from devices.residents import make_resident
from hall.kernel.events import Command
from hall.storage.case_tables import cases, notifications
from hall.storage.tables import staff
from hall.storage.writer import Writer

# Who works the demo's cases: accepting clerks by hall code, and the district office.
ACCEPTING = {"xh-hp-ly": "community1", "xh-hp": "street1", "xh": "clerk1"}
DISTRICT_CLERK, DISTRICT_SUPERVISOR = "clerk2", "supervisor"
_LEVELS = {"xh-hp-ly": Level.COMMUNITY, "xh-hp": Level.STREET, "xh": Level.DISTRICT}


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _working_moment(rng: random.Random, now: datetime, days_back: int) -> datetime:
    """A moment within working hours on a working day, about ``days_back`` days before ``now``, and
    never after ``now``: today's cases fall between the opening and now, and before today's opening
    they fall on the working day before."""
    hours = DEFAULT_HOURS
    day = hours.local(now).date() - timedelta(days=days_back)
    while not hours.is_working_day(day) or hours.opening(day) + timedelta(minutes=1) > now:
        day -= timedelta(days=1)
    opening = hours.opening(day)
    minutes_open = int((now - opening).total_seconds() // 60)
    return opening + timedelta(minutes=rng.randrange(0, min(7 * 60, minutes_open)))


async def seed_cases(
    engine: AsyncEngine, catalog: Catalog, ids: dict[str, int], now: datetime, *, count: int = 40, seed: int = 7
) -> int:
    """Write ``count`` demo cases unless the register holds some already; returns how many."""
    async with engine.connect() as conn:
        if (await conn.execute(select(func.count()).select_from(cases))).scalar_one():
            return 0
        people = {row.username: row.id for row in await conn.execute(select(staff.c.username, staff.c.id))}
    if not all(name in people for name in (*ACCEPTING.values(), DISTRICT_CLERK, DISTRICT_SUPERVISOR)):
        return 0
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, nothing secret
    clock = _Clock(now)
    writer = Writer(engine, [CasesDomain(catalog)], clock=clock)
    root = ids["xh"]
    all_halls = tuple(sorted(ids[code] for code in ACCEPTING))
    district_items = [item for item in catalog if item.decide_level is Level.DISTRICT and item.time_limit_days > 0]
    steps: list[tuple[datetime, str, dict[str, Any]]] = []
    made = 0
    await writer.start()
    try:
        planned = []
        for _ in range(count):
            code = rng.choice(list(ACCEPTING))
            choices = [item for item in district_items if _LEVELS[code] in item.accept_levels]
            item = rng.choice(choices)
            # Spread over about twice the item's time limit, so some cases run late.
            planned.append((_working_moment(rng, now, rng.randrange(0, max(2, item.time_limit_days * 2))), code, item))
        # In time order: numbers count up through each day, as they did at the counter.
        planned.sort(key=lambda p: p[0])
        for index, (accepted_at, code, item) in enumerate(planned):
            resident = make_resident(rng, today=accepted_at.date())
            clerk = people[ACCEPTING[code]]
            args = {
                "item": item.code,
                "applicant": {
                    "name": resident.name,
                    "id_number": resident.id_number,
                    "phone": f"13{rng.randrange(10**9):09d}",
                },
                "materials": [m.name for m in item.required_materials],
                "counter": 1,
                "by": actor_args(clerk, ["clerk"], ids[code]),
            }
            clock.now = accepted_at
            try:
                outcome = await writer.submit(
                    Command(f"demo-case-{seed}-{index}", root, "case.accept", f"staff:{clerk}", args, also=all_halls)
                )
            except UnknownCalendarYear:
                continue
            if not outcome.ok:
                continue
            made += 1
            number = outcome.result["case"]["number"]
            moment = accepted_at
            plan = rng.choice(
                [[], ["review"], ["review", "approve"], ["review", "approve", "complete"], ["supplement"]]
            )
            for action in plan:
                moment += timedelta(hours=rng.uniform(2, 60))
                if moment >= now:
                    break
                actor = DISTRICT_SUPERVISOR if action == "approve" else DISTRICT_CLERK
                role = "supervisor" if action == "approve" else "clerk"
                remark = "请补充近三个月收入证明" if action == "supplement" else ""
                steps.append(
                    (
                        moment,
                        number,
                        {
                            "number": number,
                            "action": action,
                            "remark": remark,
                            "by": actor_args(people[actor], [role], root),
                        },
                    )
                )
        # The steps in time order: a case's history is a timeline, and so is the log.
        for moment, _number, args in sorted(steps, key=lambda s: s[0]):
            clock.now = moment
            await writer.submit(
                Command(f"demo-step-{uuid.uuid4().hex}", root, "case.act", "system:demo", args, also=all_halls)
            )
        clock.now = now
        tick = Command(
            f"demo-tick-{uuid.uuid4().hex}", root, "case.tick", "system:demo", {}, record=False, also=all_halls
        )
        await writer.submit(tick)
    finally:
        await writer.stop()
    # The made-up applicants' phones belong to no one: their messages are kept, marked, never sent.
    async with engine.begin() as conn:
        await conn.execute(
            update(notifications)
            .where(notifications.c.status == "pending")
            .values(status="failed", last_error="demo data: not sent")
        )
    return made
