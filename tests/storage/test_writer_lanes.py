"""A district of many halls on one PostgreSQL: halls commit side by side and never wait for each
other's locks; each hall's commands keep their order and its log stays gapless."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.storage.directory import create_counters, create_hall
from hall.storage.tables import events, hall_heads
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.conftest import Database
from tests.factories import add_staff, command

pytestmark = pytest.mark.parametrize("database", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)

HALLS = 120


async def _community_halls(engine: AsyncEngine, count: int) -> list[tuple[int, int]]:
    """``count`` community stations with one counter and one clerk each: (hall id, clerk id)."""
    now = datetime.now(UTC)
    made: list[int] = []
    async with engine.begin() as conn:
        for i in range(count):
            hall_id = await create_hall(
                conn, code=f"c{i:03d}", name=f"社区{i}", level="community", actor="test", now=now
            )
            await create_counters(conn, hall_id, [(1, "1号窗口")], actor="test", now=now)
            made.append(hall_id)
    return [(hall_id, (await add_staff(engine, hall_id, 1))[0]) for hall_id in made]


async def _log(engine: AsyncEngine, hall_id: int) -> list[tuple[int, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.seq, events.c.type).where(events.c.hall_id == hall_id).order_by(events.c.seq)
        )
        return [(r.seq, r.type) for r in rows]


class HeldHead:
    """Another process's transaction holding one hall's head row, as a long batch there would."""

    def __init__(self, engine: AsyncEngine, hall_id: int) -> None:
        self.engine = engine
        self.hall_id = hall_id

    async def __aenter__(self) -> HeldHead:
        self.conn = await self.engine.connect()
        await self.conn.begin()
        await self.conn.execute(
            select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == self.hall_id).with_for_update()
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.rollback()
        await self.conn.close()


async def test_a_hall_held_up_by_another_process_holds_up_no_other_hall(database: Database) -> None:
    base = database.engines[0]
    desks = await _community_halls(base, HALLS)
    (held, held_clerk), others = desks[0], desks[1:]
    async with Writer(database.engine(), [QueueDomain()], lanes=4) as writer:
        async with HeldHead(database.engine(), held):
            waiting = asyncio.create_task(writer.submit(command(held, "counter.open", held_clerk, 1)))
            outcomes = await asyncio.gather(
                *(writer.submit(command(hall, "counter.open", clerk, 1)) for hall, clerk in others)
            )
            assert all(o.ok for o in outcomes)
            assert not waiting.done(), "the held hall's command must wait for its head row"
        assert (await waiting).ok
    for hall, _ in desks:
        log = await _log(base, hall)
        assert [seq for seq, _ in log] == list(range(1, len(log) + 1))
        assert log[-1][1] == "counter.opened"


async def test_with_one_lane_every_hall_waits_behind_the_held_one(database: Database) -> None:
    """What the lanes are for: the single-lane writer (SQLite's) batches every hall together, so
    one held head row stops them all."""
    base = database.engines[0]
    (held, held_clerk), (other, other_clerk) = await _community_halls(base, 2)
    async with Writer(database.engine(), [QueueDomain()], lanes=1) as writer:
        async with HeldHead(database.engine(), held):
            first = asyncio.create_task(writer.submit(command(held, "counter.open", held_clerk, 1)))
            await asyncio.sleep(0.2)  # the held hall's batch is now waiting for the row
            second = asyncio.create_task(writer.submit(command(other, "counter.open", other_clerk, 1)))
            done, _ = await asyncio.wait({second}, timeout=1.0)
            assert not done, "one lane: the other hall's command waits behind the held hall"
        assert (await first).ok and (await second).ok


async def test_each_halls_commands_keep_their_order_across_lanes(database: Database) -> None:
    base = database.engines[0]
    desks = await _community_halls(base, 12)
    rounds = 10
    async with Writer(database.engine(), [QueueDomain()], lanes=3, batch_max=4) as writer:
        # Every hall opens and closes its counter ``rounds`` times; all halls at once, and each
        # hall's commands submitted without waiting, so only the writer keeps their order.
        pending = [
            writer.submit(command(hall, "counter.open" if i % 2 == 0 else "counter.close", clerk, 1))
            for i in range(rounds * 2)
            for hall, clerk in desks
        ]
        outcomes = await asyncio.gather(*pending)
    assert all(o.ok for o in outcomes), [o.result for o in outcomes if not o.ok][:3]
    for hall, _ in desks:
        kinds = [kind for _, kind in await _log(base, hall) if kind.startswith("counter.")]
        assert kinds[1:] == ["counter.opened", "counter.closed"] * rounds  # after counter.created


async def test_two_writers_with_lanes_keep_one_gapless_log_per_hall(database: Database) -> None:
    """Two processes' writers, each with lanes, on the same halls."""
    base = database.engines[0]
    desks = await _community_halls(base, 6)
    extra = {hall: await add_staff(base, hall, 1) for hall, _ in desks}
    async with (
        Writer(database.engine(), [QueueDomain()], lanes=4) as one,
        Writer(database.engine(), [QueueDomain()], lanes=4) as two,
    ):

        async def desk(writer: Writer, hall: int, clerk: int, counter: int) -> None:
            for i in range(8):
                outcome = await writer.submit(
                    command(hall, "counter.open" if i % 2 == 0 else "counter.close", clerk, counter)
                )
                assert outcome.ok, outcome.result

        async with base.begin() as conn:
            for hall, _ in desks:
                await create_counters(conn, hall, [(2, "2号窗口")], actor="test", now=datetime.now(UTC))
        await asyncio.gather(
            *(desk(one, hall, clerk, 1) for hall, clerk in desks),
            *(desk(two, hall, extra[hall][0], 2) for hall, _ in desks),
        )
    for hall, _ in desks:
        seqs = [seq for seq, _ in await _log(base, hall)]
        assert seqs == list(range(1, len(seqs) + 1))
        async with base.connect() as conn:
            head = (await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == hall))).scalar_one()
        assert head == seqs[-1]
