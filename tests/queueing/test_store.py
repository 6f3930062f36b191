"""The queue through the writer and the database, on both backends: what is stored loads back
as the same state, and two clerks never call the same ticket, even through two writers."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.events import Command
from hall.storage.writer import Writer
from queueing.state import QueueState
from queueing.store import QueueDomain
from tests.conftest import Database, StepClock
from tests.factories import add_staff
from tests.site import open_all_week

MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def cmd(hall: int, name: str, actor: str = "staff:0", **args: Any) -> Command:
    return Command(uuid.uuid4().hex, hall, name, actor, args)


async def _ready(database: Database, halls: dict[str, int], clerks: int) -> tuple[AsyncEngine, int, list[int]]:
    engine = database.engines[0]
    await open_all_week(engine)
    hall = halls["xh"]
    return engine, hall, await add_staff(engine, hall, clerks)


def _comparable(state: QueueState) -> QueueState:
    # Service times are recomputed from stored spans (rounded the same way), the rest must match.
    return replace(state, changed=(), service_times={})


async def test_what_the_writer_stores_loads_back_as_the_same_state(database: Database, halls: dict[str, int]) -> None:
    engine, hall, (alice, bob) = await _ready(database, halls, 2)
    clock = StepClock(MONDAY)
    async with Writer(engine, [QueueDomain()], clock=clock) as writer:
        for name, args in [
            ("counter.open", {"counter": 1, "clerk": alice}),
            ("counter.open", {"counter": 4, "clerk": bob}),
            ("ticket.issue", {"service": "soc"}),
            ("ticket.issue", {"service": "soc", "priority": "elderly"}),
            ("ticket.issue", {"service": "fund"}),
            ("ticket.call_next", {"counter": 1, "clerk": alice}),
            ("ticket.start", {"counter": 1, "clerk": alice}),
            ("ticket.finish", {"counter": 1, "clerk": alice, "follow_on": "fund"}),
            ("ticket.call_next", {"counter": 4, "clerk": bob}),
            ("ticket.hold", {"counter": 4, "clerk": bob, "minutes": 5}),
            ("ticket.call_next", {"counter": 1, "clerk": alice}),
            ("ticket.no_show", {"counter": 1, "clerk": alice}),
            ("rating.submit", {"ticket": "20261123-A002", "service": "soc", "level": 2}),
        ]:
            clock.now += timedelta(minutes=1)
            outcome = await writer.submit(cmd(hall, name, **args))
            assert outcome.ok, (name, outcome.result)
        found = await writer.read_state(hall, "queue")
    assert found is not None
    cached = found[1]
    async with engine.connect() as conn:
        loaded = await QueueDomain().load(conn, hall)
    assert _comparable(loaded) == _comparable(cached)
    assert len(loaded.work_orders) == 1
    assert loaded.tickets["20261123-A002"].state.value == "held"


async def test_two_clerks_through_two_writers_never_call_the_same_ticket(
    database: Database, halls: dict[str, int]
) -> None:
    _, hall, clerks = await _ready(database, halls, 3)
    writers = [Writer(database.engine(), [QueueDomain()]) for _ in range(3)]
    async with writers[0], writers[1], writers[2]:
        for number, clerk in zip((1, 2, 3), clerks, strict=True):
            assert (await writers[0].submit(cmd(hall, "counter.open", counter=number, clerk=clerk))).ok
        for _ in range(5):
            assert (await writers[1].submit(cmd(hall, "ticket.issue", service="soc"))).ok
        calls: list[str] = []
        for _round in range(3):
            outcomes = await asyncio.gather(
                *(
                    writer.submit(cmd(hall, "ticket.call_next", counter=number, clerk=clerk))
                    for writer, number, clerk in zip(writers, (1, 2, 3), clerks, strict=True)
                )
            )
            calls += [o.result["ticket"]["number"] for o in outcomes if o.ok]
            for writer, number, clerk in zip(writers, (1, 2, 3), clerks, strict=True):
                await writer.submit(cmd(hall, "ticket.no_show", counter=number, clerk=clerk))
    assert len(calls) == len(set(calls)) == 5
    assert sorted(calls) == ["A001", "A002", "A003", "A004", "A005"]
