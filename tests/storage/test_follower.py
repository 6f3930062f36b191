"""The log follower: every writer's events reach each process's sinks once, in order, with no gap."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import select, text

from hall.kernel.events import Event
from hall.storage.follower import Follower
from hall.storage.tables import hall_heads
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.conftest import Database
from tests.factories import add_staff, command
from tests.timing import MS


class Seen:
    """A sink that records what it got and is its follower's position, as the hub is."""

    def __init__(self, heads: dict[int, int]) -> None:
        self.heads = dict(heads)
        self.events: list[Event] = []

    def head(self, hall_id: int) -> int:
        return self.heads.get(hall_id, 0)

    def __call__(self, events: Sequence[Event]) -> None:
        for event in events:
            assert event.seq == self.head(event.hall_id) + 1, f"out of order: {event.seq} after {self.heads}"
            self.heads[event.hall_id] = event.seq
            self.events.append(event)


async def _heads(database: Database) -> dict[int, int]:
    async with database.engines[0].connect() as conn:
        return {r.hall_id: int(r.last_seq) for r in await conn.execute(select(hall_heads))}


async def test_events_of_another_writer_come_first_when_they_are_older(
    database: Database, halls: dict[str, int]
) -> None:
    """This process's commit that follows another's is held back until the other's events, read
    from the log, are delivered before it."""
    hall = halls["xh"]
    alice, bob = await add_staff(database.engines[0], hall, 2)
    seen = Seen(await _heads(database))
    start = seen.head(hall)
    follower = Follower(database.engine(), seen.head)
    follower.add_sink(seen)
    async with Writer(database.engine(), [QueueDomain()]) as ours, Writer(database.engine(), [QueueDomain()]) as theirs:
        ours.add_listener(follower.offer)
        assert (await ours.submit(command(hall, "counter.open", alice, 1))).ok
        assert [e.seq for e in seen.events] == [start + 1]  # our own: delivered at once
        assert (await theirs.submit(command(hall, "counter.open", bob, 2))).ok
        assert (await ours.submit(command(hall, "counter.close", alice, 1))).ok
        assert [e.seq for e in seen.events] == [start + 1]  # held back: theirs is older
        await follower.catch_up()
        assert (await ours.submit(command(hall, "counter.open", alice, 3))).ok
    assert [e.seq for e in seen.events] == [start + 1, start + 2, start + 3, start + 4]
    assert [e.type for e in seen.events] == ["counter.opened", "counter.opened", "counter.closed", "counter.opened"]


async def test_several_writers_one_follower_each_every_follower_sees_the_whole_log(
    database: Database, halls: dict[str, int]
) -> None:
    """Three writers (three processes) commit at once; each one's follower delivers every event of
    the hall exactly once, in sequence order."""
    hall = halls["xh"]
    clerks = await add_staff(database.engines[0], hall, 6)
    heads = await _heads(database)
    writers = [Writer(database.engine(), [QueueDomain()], batch_max=5) for _ in range(3)]
    seens = [Seen(heads) for _ in writers]
    followers = []
    for writer, seen in zip(writers, seens, strict=True):
        follower = Follower(database.engine(), seen.head)
        follower.add_sink(seen)
        writer.add_listener(follower.offer)
        followers.append(follower)

    async def clerk(writer: Writer, who: int, counter: int) -> None:
        for i in range(10):
            name = "counter.open" if i % 2 == 0 else "counter.close"
            assert (await writer.submit(command(hall, name, who, counter))).ok

    async with writers[0], writers[1], writers[2]:
        await asyncio.gather(*(clerk(writers[i % 3], who, i + 1) for i, who in enumerate(clerks)))
    for follower in followers:
        await follower.catch_up()
    expected = list(range(heads[hall] + 1, heads[hall] + 61))
    for seen in seens:
        assert [e.seq for e in seen.events if e.hall_id == hall] == expected


# LISTEN/NOTIFY is PostgreSQL's; on SQLite there is one server process and no follower.
@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_notification_at_commit_wakes_the_follower_of_another_process(
    database: Database, halls: dict[str, int]
) -> None:
    """With no periodic catch-up due for an hour, only the writer's notification can bring another
    process's events."""
    hall = halls["xh"]
    (alice,) = await add_staff(database.engines[0], hall, 1)
    seen = Seen(await _heads(database))
    start = seen.head(hall)
    follower = Follower(database.engine(), seen.head, catch_up=3600)
    follower.add_sink(seen)
    running = asyncio.create_task(follower.run())
    try:
        # The first catch-up runs as the follower starts listening; wait for it to listen.
        async with asyncio.timeout(5000 * MS):
            while follower._listening is None:
                await asyncio.sleep(0.01)
        async with Writer(database.engine(), [QueueDomain()]) as theirs:
            assert (await theirs.submit(command(hall, "counter.open", alice, 1))).ok
            assert (await theirs.submit(command(hall, "counter.close", alice, 1))).ok
        async with asyncio.timeout(5000 * MS):
            while seen.head(hall) < start + 2:
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert [e.type for e in seen.events] == ["counter.opened", "counter.closed"]
    assert follower.notifications >= 1


@pytest.mark.postgres
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_lost_listening_connection_only_delays(database: Database, halls: dict[str, int]) -> None:
    """The database ends the listening session: what is committed meanwhile still arrives (by the
    periodic catch-up), and the follower listens again on a new connection."""
    hall = halls["xh"]
    (alice,) = await add_staff(database.engines[0], hall, 1)
    seen = Seen(await _heads(database))
    start = seen.head(hall)
    follower = Follower(database.engine(), seen.head, catch_up=0.05)
    follower.add_sink(seen)
    running = asyncio.create_task(follower.run())

    async def listening_pid() -> int:
        async with asyncio.timeout(5000 * MS):
            while follower._listening is None:
                await asyncio.sleep(0.01)
        raw = await follower._listening.get_raw_connection()
        return int(raw.driver_connection.get_server_pid())  # type: ignore[union-attr]

    try:
        first = await listening_pid()
        async with database.engines[0].connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        async with Writer(database.engine(), [QueueDomain()]) as theirs:
            assert (await theirs.submit(command(hall, "counter.open", alice, 1))).ok
        async with asyncio.timeout(5000 * MS):
            while seen.head(hall) < start + 1:
                await asyncio.sleep(0.01)
            while (pid := await listening_pid()) == first:
                await asyncio.sleep(0.01)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert pid != first
    assert [e.type for e in seen.events] == ["counter.opened"]
