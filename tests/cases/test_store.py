"""The case register through the real writer, on SQLite and PostgreSQL: facts logged at the
accepting and the deciding hall and every hall above them, each with its own sequence; a light change is one event,
stored with the case, and never announced again by a restarted server; notices are queued in the
transaction of their event, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cases.catalog_io import sample_catalog
from cases.store import CasesDomain, actor_args
from hall.kernel.events import Command
from hall.storage.case_tables import cases, notifications
from hall.storage.tables import events
from hall.storage.writer import Writer
from tests.conftest import Database, StepClock
from tests.factories import add_staff

# Monday 2026-11-23 09:30 Beijing.
MONDAY = datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
CATALOG = sample_catalog()
MATERIALS = ["居民身份证", "居民户口簿", "本人社会保障卡或银行卡"]


def _writer(engine: AsyncEngine, clock: StepClock) -> Writer:
    return Writer(engine, [CasesDomain(CATALOG)], clock=clock)


async def _types(engine: AsyncEngine, hall: int) -> list[str]:
    """The case events of a hall's log, in order (the sample halls' own setup events left out)."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(events.c.type).where(events.c.hall_id == hall).order_by(events.c.seq))
        return [row.type for row in rows if row.type.startswith("case.")]


def _tick(halls: dict[str, int]) -> Command:
    return Command(
        f"tick-{uuid.uuid4().hex}",
        halls["xh"],
        "case.tick",
        "system:clock",
        {},
        record=False,
        also=tuple(halls.values()),
    )


async def _accept(writer: Writer, halls: dict[str, int], clerk: int, **args: Any) -> dict[str, Any]:
    community, district = halls["xh-hp-ly"], halls["xh"]
    body = {
        "item": "MZ-006",
        "applicant": {"name": "王秀英", "id_number": "11010519491231002X", "phone": "13800138000"},
        "materials": MATERIALS,
        "by": actor_args(clerk, ["clerk"], community),
        **args,
    }
    command = Command(
        f"accept-{uuid.uuid4().hex}", district, "case.accept", f"staff:{clerk}", body, also=tuple(halls.values())
    )
    outcome = await writer.submit(command)
    assert outcome.ok, outcome.result
    return dict(outcome.result["case"])


async def test_a_case_is_logged_at_every_hall_from_the_community_up_to_the_district(
    database: Database, halls: dict[str, int]
) -> None:
    engine = database.engines[0]
    clock = StepClock(MONDAY)
    (clerk,) = await add_staff(engine, halls["xh-hp-ly"], 1)
    async with _writer(engine, clock) as writer:
        case = await _accept(writer, halls, clerk)
    assert await _types(engine, halls["xh-hp-ly"]) == ["case.accepted"]
    assert await _types(engine, halls["xh"]) == ["case.accepted"]
    # The street between them watches its communities' cases too.
    assert await _types(engine, halls["xh-hp"]) == ["case.accepted"]
    async with engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.number == case["number"]))).one()
        queued = (await conn.execute(select(notifications.c.id, notifications.c.kind))).all()
    assert row.accepted_hall == halls["xh-hp-ly"] and row.deciding_hall == halls["xh"]
    assert row.record["applicant"]["id_number"] == "11010519491231002X"
    assert [(q.id, q.kind) for q in queued] == [(f"{case['number']}:accepted", "accepted")]


async def test_a_light_change_is_one_event_even_across_a_restart(database: Database, halls: dict[str, int]) -> None:
    engine = database.engines[0]
    clock = StepClock(MONDAY)
    (clerk,) = await add_staff(engine, halls["xh-hp-ly"], 1)
    async with _writer(engine, clock) as writer:
        case = await _accept(writer, halls, clerk)
        # MZ-006: 10 working days, its review stage 6: the stage runs over first.
        for _ in range(20):
            clock.now += timedelta(days=1)
            assert (await writer.submit(_tick(halls))).ok
    lights = [t for t in await _types(engine, halls["xh-hp-ly"]) if t == "case.light"]
    assert lights == ["case.light", "case.light"]  # yellow, then red

    async with _writer(engine, clock) as restarted:
        clock.now += timedelta(minutes=1)
        assert (await restarted.submit(_tick(halls))).ok
    assert [t for t in await _types(engine, halls["xh"]) if t == "case.light"] == lights
    async with engine.connect() as conn:
        stored = (await conn.execute(select(cases.c.light).where(cases.c.number == case["number"]))).scalar_one()
        kinds = sorted(row.kind for row in await conn.execute(select(notifications.c.kind)))
    assert stored == "red"
    assert kinds == ["accepted", "midway"]


async def test_cases_are_registered_at_the_root_only(database: Database, halls: dict[str, int]) -> None:
    engine = database.engines[0]
    clock = StepClock(MONDAY)
    (clerk,) = await add_staff(engine, halls["xh-hp-ly"], 1)
    async with _writer(engine, clock) as writer:
        command = Command(
            f"accept-{uuid.uuid4().hex}",
            halls["xh-hp-ly"],
            "case.accept",
            f"staff:{clerk}",
            {"item": "MZ-006", "by": actor_args(clerk, ["clerk"], halls["xh-hp-ly"])},
        )
        outcome = await writer.submit(command)
    assert not outcome.ok and outcome.result["code"] == "refused"
    assert "registered at hall" in outcome.result["message"]
    assert await _types(engine, halls["xh-hp-ly"]) == []


async def test_a_completed_case_rated_online_can_still_be_collected_after_a_restart(
    database: Database, halls: dict[str, int]
) -> None:
    engine = database.engines[0]
    clock = StepClock(MONDAY)
    (clerk,) = await add_staff(engine, halls["xh-hp-ly"], 1)
    (officer,) = await add_staff(engine, halls["xh"], 1)
    (boss,) = await add_staff(engine, halls["xh"], 1, roles="supervisor")
    reach = tuple(halls.values())

    def step(action: str, who: int, role: str, hall: int) -> Command:
        args = {"number": number, "action": action, "by": actor_args(who, [role], hall)}
        return Command(f"step-{uuid.uuid4().hex}", halls["xh"], "case.act", f"staff:{who}", args, also=reach)

    async with _writer(engine, clock) as writer:
        number = (await _accept(writer, halls, clerk))["number"]
        for action, who, role in (
            ("review", officer, "clerk"),
            ("approve", boss, "supervisor"),
            ("complete", officer, "clerk"),
        ):
            assert (await writer.submit(step(action, who, role, halls["xh"]))).ok
        rating = {"number": number, "phone_tail": "8000", "level": 5, "comment": ""}
        rated = await writer.submit(
            Command(f"rate-{uuid.uuid4().hex}", halls["xh"], "case.rate", "public:track", rating, also=reach)
        )
        assert rated.ok, rated.result
    async with _writer(engine, clock) as restarted:
        collected = await restarted.submit(step("collect", clerk, "clerk", halls["xh-hp-ly"]))
    assert collected.ok, collected.result
