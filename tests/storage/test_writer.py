"""The writer: one ordered, gapless log per hall, committed with the state, answered after commit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hall.kernel.errors import WriterClosed
from hall.kernel.events import Command, Event
from hall.storage.tables import commands, counters, events, hall_heads
from hall.storage.writer import Writer
from queueing.store import QueueDomain
from tests.conftest import Database, StepClock
from tests.factories import add_staff, command
from tests.site import open_all_week


async def _log(engine: AsyncEngine, hall_id: int) -> list[tuple[int, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(events.c.seq, events.c.type).where(events.c.hall_id == hall_id).order_by(events.c.seq)
        )
        return [(r.seq, r.type) for r in rows]


async def _head(engine: AsyncEngine, hall_id: int) -> int:
    async with engine.connect() as conn:
        return int(
            (await conn.execute(select(hall_heads.c.last_seq).where(hall_heads.c.hall_id == hall_id))).scalar_one()
        )


async def test_a_command_is_answered_with_its_committed_events(
    database: Database, halls: dict[str, int], clock: StepClock
) -> None:
    engine = database.engines[0]
    hall = halls["xh"]
    (clerk,) = await add_staff(engine, hall, 1)
    before = await _head(engine, hall)
    writer = Writer(engine, [QueueDomain()], clock=clock)
    seen: list[Event] = []
    writer.add_listener(seen.extend)
    async with writer:
        outcome = await writer.submit(command(hall, "counter.open", clerk, 3))
    assert outcome.ok
    assert outcome.result["counter"]["status"] == "open"
    assert [(e.seq, e.type) for e in outcome.events] == [(before + 1, "counter.opened")]
    assert seen == list(outcome.events)
    assert outcome.events[0].at == clock.now
    assert (await _log(engine, hall))[-1] == (before + 1, "counter.opened")
    async with engine.connect() as conn:
        row = (await conn.execute(select(counters).where(counters.c.hall_id == hall, counters.c.number == 3))).one()
    assert (row.status, row.clerk_id) == ("open", clerk)


async def test_a_repeated_command_id_returns_the_first_result_and_changes_nothing(
    database: Database, halls: dict[str, int]
) -> None:
    engine = database.engines[0]
    hall = halls["xh"]
    (clerk,) = await add_staff(engine, hall, 1)
    async with Writer(engine, [QueueDomain()]) as writer:
        first = await writer.submit(command(hall, "counter.open", clerk, 2, command_id="press-0001"))
        head = await _head(engine, hall)
        # The same id twice in one batch and once more later: one effect.
        again = await asyncio.gather(
            writer.submit(command(hall, "counter.open", clerk, 2, command_id="press-0001")),
            writer.submit(command(hall, "counter.open", clerk, 2, command_id="press-0001")),
        )
        later = await writer.submit(command(hall, "counter.open", clerk, 2, command_id="press-0001"))
    assert first.ok and not first.duplicate
    for outcome in [*again, later]:
        assert outcome.duplicate and outcome.ok
        assert outcome.result == first.result
        assert outcome.events == ()
    assert await _head(engine, hall) == head


async def test_a_repeat_is_only_a_repeat_of_ones_own_command(database: Database, halls: dict[str, int]) -> None:
    engine = database.engines[0]
    hall = halls["xh"]
    first_clerk, second_clerk = await add_staff(engine, hall, 2)
    async with Writer(engine, [QueueDomain()]) as writer:
        mine = await writer.submit(command(hall, "counter.open", first_clerk, 2, command_id="shared-id-01"))
        theirs = await writer.submit(command(hall, "counter.open", second_clerk, 3, command_id="shared-id-01"))
        closing = await writer.submit(command(hall, "counter.close", first_clerk, 2, command_id="shared-id-01"))
        again = await writer.submit(command(hall, "counter.open", first_clerk, 2, command_id="shared-id-01"))
    assert mine.ok and not mine.duplicate
    assert theirs.ok and not theirs.duplicate and theirs.result != mine.result
    assert closing.ok and not closing.duplicate  # another command under the same id: its own
    assert again.duplicate and again.result == mine.result


async def test_a_refused_command_changes_nothing_and_is_answered_with_the_reason(
    database: Database, halls: dict[str, int]
) -> None:
    engine = database.engines[0]
    hall = halls["xh"]
    (clerk,) = await add_staff(engine, hall, 1)
    async with Writer(engine, [QueueDomain()]) as writer:
        head = await _head(engine, hall)
        closed = await writer.submit(command(hall, "counter.pause", clerk, 1, reason="午休"))
        missing = await writer.submit(command(hall, "counter.open", clerk, 99))
        unknown = await writer.submit(command(hall, "counter.explode", clerk, 1))
        no_hall = await writer.submit(command(9999, "counter.open", clerk, 1))
    assert closed.result["error"] == "bad_transition"
    assert "'closed' to 'paused'" in closed.result["message"]
    assert missing.result["error"] == "not_found"
    assert unknown.result["error"] == "not_found"
    assert no_hall.result["error"] == "not_found"
    assert not any(o.ok for o in (closed, missing, unknown, no_hall))
    assert [o.result["code"] for o in (closed, missing, unknown, no_hall)] == [
        "bad_transition",
        "not_found",
        "not_found",
        "not_found",
    ]
    assert await _head(engine, hall) == head


async def test_sequences_stay_gapless_and_unique_with_several_concurrent_writers(
    database: Database, halls: dict[str, int]
) -> None:
    """Three writers on their own engines (as three server processes would be) share one hall."""
    hall = halls["xh"]
    base = database.engines[0]
    clerks = await add_staff(base, hall, 9)
    head = await _head(base, hall)
    writers = [Writer(database.engine(), [QueueDomain()], batch_max=20) for _ in range(3)]

    async def clerk_at_counter(writer: Writer, clerk: int, counter: int) -> int:
        done = 0
        for i in range(12):
            name = "counter.open" if i % 2 == 0 else "counter.close"
            outcome = await writer.submit(command(hall, name, clerk, counter))
            assert outcome.ok, outcome.result
            done += len(outcome.events)
        return done

    async with writers[0], writers[1], writers[2]:
        counts = await asyncio.gather(
            *(clerk_at_counter(writers[i % 3], clerk, i + 1) for i, clerk in enumerate(clerks))
        )
    log = await _log(base, hall)
    new = [seq for seq, _ in log if seq > head]
    assert sum(counts) == 9 * 12
    assert new == list(range(head + 1, head + 1 + 9 * 12))
    assert await _head(base, hall) == head + 9 * 12
    async with base.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(commands))).scalar_one() == 9 * 12


async def test_a_writer_reloads_state_that_another_writer_changed(database: Database, halls: dict[str, int]) -> None:
    hall = halls["xh"]
    base = database.engines[0]
    alice, bob = await add_staff(base, hall, 2)
    async with (
        Writer(database.engine(), [QueueDomain()]) as first,
        Writer(database.engine(), [QueueDomain()]) as second,
    ):
        assert (await first.submit(command(hall, "counter.open", alice, 4))).ok  # first caches counter 4 open
        assert (await second.submit(command(hall, "counter.close", alice, 4))).ok
        # first must see the close by second, so bob may open the counter now.
        reopened = await first.submit(command(hall, "counter.open", bob, 4))
    assert reopened.ok, reopened.result


async def test_many_waiting_commands_share_one_transaction(database: Database, halls: dict[str, int]) -> None:
    hall = halls["xh"]
    engine = database.engines[0]
    clerks = await add_staff(engine, hall, 10)
    async with Writer(engine, [QueueDomain()]) as writer:
        outcomes = await asyncio.gather(
            *(writer.submit(command(hall, "counter.open", clerk, i + 1)) for i, clerk in enumerate(clerks))
        )
    assert all(o.ok for o in outcomes)
    assert writer.committed == 10
    assert writer.batches < 10


async def test_state_of_the_rules_survives_a_new_writer(database: Database, halls: dict[str, int]) -> None:
    hall = halls["xh"]
    engine = database.engines[0]
    (clerk,) = await add_staff(engine, hall, 1)
    async with Writer(engine, [QueueDomain()]) as writer:
        await writer.submit(command(hall, "counter.open", clerk, 5))
        await writer.submit(command(hall, "counter.pause", clerk, 5, reason="系统维护"))
    async with Writer(database.engine(), [QueueDomain()]) as fresh:
        refused = await fresh.submit(command(hall, "counter.pause", clerk, 5, reason="again"))
        resumed = await fresh.submit(command(hall, "counter.resume", clerk, 5))
    assert refused.result["error"] == "bad_transition"
    assert resumed.ok


async def test_a_writer_used_with_async_with_is_stopped_when_the_block_ends(
    database: Database, halls: dict[str, int]
) -> None:
    engine = database.engines[0]
    hall = halls["xh"]
    (clerk,) = await add_staff(engine, hall, 1)
    async with Writer(engine, [QueueDomain()]) as writer:
        assert (await writer.submit(command(hall, "counter.open", clerk, 6))).ok
    with pytest.raises(WriterClosed):
        await writer.submit(command(hall, "counter.close", clerk, 6))


async def test_a_command_that_cannot_be_stored_fails_alone_in_its_batch(
    database: Database, halls: dict[str, int]
) -> None:
    hall = halls["xh"]
    engine = database.engines[0]
    clerks = await add_staff(engine, hall, 10)
    async with Writer(engine, [QueueDomain()]) as writer:
        # A hall id beyond 64 bits reaches the database as an overflow: the whole transaction fails.
        poisoned = command(2**70, "counter.open", clerks[0], 1)
        batch = [command(hall, "counter.open", clerk, i + 1) for i, clerk in enumerate(clerks)]
        batch.insert(5, poisoned)
        answers = await asyncio.gather(*(writer.submit(c) for c in batch), return_exceptions=True)
    assert writer.split_batches >= 1  # they shared a batch, which was committed again in parts
    failed = answers.pop(5)
    assert isinstance(failed, Exception)
    assert all(not isinstance(a, BaseException) and a.ok for a in answers), answers
    assert writer.committed == 10
    assert [t for _, t in await _log(engine, hall)].count("counter.opened") == 10
    assert await _head(engine, hall) == len(await _log(engine, hall))


async def test_one_command_id_sent_to_several_writers_at_once_is_acted_on_once(
    database: Database, halls: dict[str, int]
) -> None:
    """A device resends an event its first server has not answered yet, and the resend reaches
    another server process: both writers hold the same command id at once. One acts; the other
    answers with the first result, never with a second ticket or an error."""
    hall = halls["xh"]
    base = database.engines[0]
    await open_all_week(base)
    head = await _head(base, hall)
    writers = [Writer(database.engine(), [QueueDomain()], batch_max=1) for _ in range(3)]
    presses = [
        Command(f"dev:kiosk-1:press-{i:03d}", hall, "ticket.issue", "device:kiosk-1", {"service": "soc"})
        for i in range(40)
    ]
    async with writers[0], writers[1], writers[2]:
        outcomes = await asyncio.gather(*(w.submit(press) for press in presses for w in writers))
    assert all(outcome.ok for outcome in outcomes), [o.result for o in outcomes if not o.ok][:1]
    by_press = [outcomes[i * 3 : i * 3 + 3] for i in range(len(presses))]
    for answers in by_press:
        assert sum(not a.duplicate for a in answers) == 1
        assert len({a.result["ticket"]["id"] for a in answers}) == 1
    log = await _log(base, hall)
    assert [t for seq, t in log if seq > head] == ["ticket.issued"] * len(presses)
