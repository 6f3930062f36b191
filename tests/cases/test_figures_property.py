"""The case figures the writer keeps are the figures of the event log: after any run of case
commands — 受理 at a community or the district, review, approval, 办结, 领取, 不予受理, 补正 asked
and answered, 退回, residents' online ratings (一事一评) at every level, refusals of steps and
ratings not allowed, and restarts of the writer among them — the table holds what a recount of
the root hall's events (written here afresh, from the events alone) says.

The one formula shared with the code is ``speed_up`` (提速率 of one case from its accepted time,
promise, pauses and completion); the hand-worked test (test_figures.py) checks that formula.
``hall figures rebuild`` (hall/figures/case_rebuild.py, its own recount) then writes the same rows again.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from cases.catalog_io import sample_catalog
from cases.deadlines import DEFAULT_HOURS, Pause
from cases.figures import BASIS, COUNTS, speed_up
from cases.statistics import case_statistics
from cases.store import CasesDomain, actor_args
from hall.figures.case_rebuild import rebuild
from hall.kernel.events import Command
from hall.storage.case_tables import case_figures, case_figures_daily, case_figures_monthly
from hall.storage.database import reading
from hall.storage.tables import events
from hall.storage.writer import Writer
from tests.conftest import Database, StepClock
from tests.factories import add_staff

CATALOG = sample_catalog()
APPLICANT = {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"}
# (item, where it is accepted): MZ-006 at the community, decided by the district; MZ-004 (即办) at
# the district.
ITEMS = (("MZ-006", "xh-hp-ly"), ("MZ-006", "xh-hp-ly"), ("MZ-004", "xh"))
ACTIONS = (
    "review",
    "approve",
    "complete",
    "complete",
    "collect",
    "refuse",
    "supplement",
    "supplement_received",
    "return",
)
# What a case's next step usually is, by its stage (and whether it waits for 补正).
NEXT = {
    ("accepted", False): ("review", "review", "supplement", "refuse"),
    ("accepted", True): ("supplement_received",),
    ("review", False): ("approve", "approve", "approve", "return"),
    ("approval", False): ("complete",),
    ("completed", False): ("collect",),
}
KINDS = ("accept", "act", "act", "act", "act", "act", "act", "rate", "restart")
Row = tuple[Any, ...]


def _materials(code: str) -> list[str]:
    item = CATALOG.get(code)
    assert item is not None
    return [m.name for m in item.required_materials]


def _day(at: datetime) -> date:
    return at.astimezone(DEFAULT_HOURS.tz).date()


def recount(rows: list[Any]) -> dict[Row, dict[str, int]]:
    """The figures of a register's log, from its events alone."""
    figures: dict[Row, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    pauses: dict[str, list[Pause]] = defaultdict(list)

    def add(data: dict[str, Any], at: datetime, hall_of: str, stage: str, **counts: int) -> None:
        cell = figures[(data[hall_of], _day(at), data["item"], data["department"], stage)]
        for name, value in counts.items():
            cell[name] += value

    for row in rows:
        data, at, kind = row.data, row.at, row.type.removeprefix("case.")
        if kind == "accepted":
            add(data, at, "accepted_hall", "accepted", accepted=1, entered=1)
        elif kind in ("reviewed", "approved"):
            add(data, at, "deciding_hall", data["to"], entered=1)
        elif kind == "returned":
            add(data, at, "deciding_hall", data["to"], entered=1, returned=1)
        elif kind == "refused":
            add(data, at, "deciding_hall", "refused", entered=1, refused=1)
        elif kind == "collected":
            add(data, at, "accepted_hall", "collected", entered=1, collected=1)
        elif kind == "supplement_requested":
            pauses[data["number"]].append(Pause(at))
            add(data, at, "deciding_hall", data["to"], supplements=1)
        elif kind == "supplement_received":
            pauses[data["number"]][-1] = Pause(pauses[data["number"]][-1].start, at)
        elif kind == "rated":
            # At the accepting hall, under 办结, satisfied from 基本满意 (3) up.
            add(data, at, "accepted_hall", "completed", rated=1, satisfied=int(data["level"] >= 3))
        elif kind == "completed":
            accepted = datetime.fromisoformat(data["accepted_at"])
            share, seconds = speed_up(accepted, data["time_limit_days"], pauses[data["number"]], at, DEFAULT_HOURS)
            late = at >= datetime.fromisoformat(data["due_at"])
            add(
                data,
                at,
                "deciding_hall",
                "completed",
                entered=1,
                completed=1,
                on_time=int(not late),
                late=int(late),
                work_sum=seconds,
                speed_count=int(share is not None),
                speed_sum=0 if share is None else round(share * BASIS),
            )
    return dict(figures)


async def stored(database: Database) -> dict[Row, dict[str, int]]:
    async with reading(database.engines[0]) as conn:
        rows = await conn.execute(select(case_figures))
        return {
            (r.hall_id, r.day, r.item, r.department, r.stage): {n: int(getattr(r, n)) for n in COUNTS} for r in rows
        }


async def recounted(database: Database, root: int) -> dict[Row, dict[str, int]]:
    async with reading(database.engines[0]) as conn:
        query = select(events).where(events.c.hall_id == root, events.c.type.like("case.%")).order_by(events.c.seq)
        rows = list(await conn.execute(query))
    return recount(rows)


class Hall:
    """The test's halls across examples: the clock only moves on, the staff stay."""

    def __init__(self) -> None:
        # Monday 2 November 2026, 08:00 in Beijing.
        self.clock = StepClock(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
        self.admins: dict[str, int] = {}
        self.numbers: list[str] = []
        self.stages: dict[str, tuple[str, bool]] = {}


_halls: dict[str, Hall] = {}

steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 50), st.integers(0, 90)),
    min_size=10,
    max_size=40,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=steps)
async def test_the_case_figures_are_a_recount_of_the_events(
    database: Database, halls: dict[str, int], script: list[tuple[str, int, int]]
) -> None:
    engine = database.engines[0]
    hall = _halls.get(f"{database.url}#{database.schema}")
    if hall is None:
        hall = _halls[f"{database.url}#{database.schema}"] = Hall()
        for name in ("xh", "xh-hp-ly"):
            hall.admins[name] = (await add_staff(engine, halls[name], 1, roles="admin", prefix="adm"))[0]
    # Each example starts some hours after the last one ended, often on another day.
    hall.clock.now += timedelta(hours=14)
    writer = Writer(engine, [CasesDomain(CATALOG)], clock=hall.clock)
    await writer.start()

    async def send(name: str, where: str, **args: Any) -> bool:
        admin = hall.admins[where]
        if name == "case.rate":
            # The resident on the public tracking page: no staff member acts.
            body, actor = args, "public:track"
        else:
            body, actor = {**args, "by": actor_args(admin, ["admin"], halls[where])}, f"staff:{admin}"
        command = Command(uuid.uuid4().hex, halls["xh"], name, actor, body, also=tuple(halls.values()))
        outcome = await writer.submit(command)
        if name == "case.rate":
            return outcome.ok
        if outcome.ok and name == "case.accept":
            hall.numbers.append(str(outcome.result["case"]["number"]))
        if outcome.ok:
            case = outcome.result["case"]
            hall.stages[case["number"]] = (case["stage"], case["paused"])
        return outcome.ok

    try:
        for kind, choice, minutes in script:
            hall.clock.now += timedelta(minutes=minutes * 3)
            if kind == "restart":
                await writer.stop()
                writer = Writer(engine, [CasesDomain(CATALOG)], clock=hall.clock)
                await writer.start()
            elif kind == "rate" and hall.numbers:
                # Mostly a completed case, now and then any: the rules refuse one not completed or
                # rated already. Every level, the low ones with the comment they require.
                done = [n for n in hall.numbers if hall.stages[n][0] in ("completed", "collected")]
                pool = done if done and minutes % 4 else hall.numbers
                number = pool[-1 - choice % min(len(pool), 6)]
                level = 1 + minutes % 5
                tail = APPLICANT["phone"][-4:]
                await send("case.rate", "xh", number=number, phone_tail=tail, level=level, comment="等候太久")
            elif kind == "accept" or not hall.numbers:
                item, where = ITEMS[choice % len(ITEMS)]
                await send("case.accept", where, item=item, applicant=APPLICANT, materials=_materials(item))
            else:
                # Mostly the case's next step; now and then any step, which the rules may refuse
                # (and then it must add nothing).
                number = hall.numbers[-1 - choice % min(len(hall.numbers), 6)]
                usual = NEXT.get(hall.stages[number], ACTIONS)
                action = usual[minutes % len(usual)] if minutes % 5 else ACTIONS[choice % len(ACTIONS)]
                wanted = _materials("MZ-006")[:1]
                args: dict[str, Any] = {"number": number, "action": action, "remark": "理由"}
                if action in ("supplement", "supplement_received"):
                    args["materials"] = wanted
                await send("case.act", "xh", **args)
    finally:
        await writer.stop()
    kept, recount = await stored(database), await recounted(database, halls["xh"])
    assert kept, "the script accepted no case"
    differ = {k: (kept.get(k), recount.get(k)) for k in set(kept) | set(recount) if kept.get(k) != recount.get(k)}
    assert not differ, differ
    await _the_rollups_agree(database, halls)
    live = await every_table(database)
    # Wiped, as before the figures were kept: the rebuild writes every row again.
    async with engine.begin() as conn:
        for table in (case_figures, case_figures_daily, case_figures_monthly):
            await conn.execute(delete(table))
    await rebuild(engine, halls["xh"], DEFAULT_HOURS, until=date(2100, 1, 1))
    assert await every_table(database) == live


async def every_table(database: Database) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of the case figures and their two rollups."""
    async with reading(database.engines[0]) as conn:
        return {
            table.name: {tuple(row) for row in await conn.execute(select(table))}
            for table in (case_figures, case_figures_daily, case_figures_monthly)
        }


async def _the_rollups_agree(database: Database, halls: dict[str, int]) -> None:
    """The coarser sums equal the fine figures summed, and a view read through them equals the
    same view summed straight from the fine figures, over whole months and over odd days."""
    kept = await stored(database)
    by_day: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    by_month: dict[Row, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for (hall_id, day, item, department, stage), sums in kept.items():
        for name, value in sums.items():
            by_day[hall_id, day][name] += value
            by_month[hall_id, day.replace(day=1), item, department, stage][name] += value
    async with reading(database.engines[0]) as conn:
        daily = {
            (r.hall_id, r.day): {n: int(getattr(r, n)) for n in COUNTS}
            for r in await conn.execute(select(case_figures_daily))
        }
        monthly = {
            (r.hall_id, r.month, r.item, r.department, r.stage): {n: int(getattr(r, n)) for n in COUNTS}
            for r in await conn.execute(select(case_figures_monthly))
        }
        assert daily == dict(by_day)
        assert monthly == dict(by_month)
        days = sorted({day for _, day, *_ in kept})
        scope = list(halls.values())
        # Whole months with odd days at both ends, and a few odd days inside one month.
        for first, last in ((days[0] - timedelta(days=40), days[-1] + timedelta(days=40)), (days[0], days[-1])):
            for group in ("item", "department", "stage", "hall"):
                view = await case_statistics(conn, scope, first, last, by="week", group=group)
                wanted: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
                total = dict.fromkeys(COUNTS, 0)
                for (hall_id, day, item, department, stage), sums in kept.items():
                    if first <= day <= last:
                        key = {"item": item, "department": department, "stage": stage, "hall": str(hall_id)}[group]
                        for name, value in sums.items():
                            wanted[key][name] += value
                            total[name] += value
                assert {line.key: line.sums for line in view.groups} == dict(wanted)
                assert view.total == total
                assert sum(line.sums["accepted"] for line in view.periods) == total["accepted"]
