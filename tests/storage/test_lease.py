"""One process runs each piece of singleton work: on a shared PostgreSQL the lease is held by one at a time and
passes to another when its holder stops; on SQLite the one server process always holds it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from hall.storage.database import is_sqlite
from hall.storage.lease import CASE_CLOCK, OUTBOX, Lease, run_leased
from tests.conftest import Database
from tests.timing import MS


async def test_the_clock_lease_is_held_by_one_process_at_a_time(database: Database) -> None:
    engine = database.engines[0]
    first, second = Lease(engine, CASE_CLOCK), Lease(engine, CASE_CLOCK)
    try:
        assert await first.hold()
        if is_sqlite(engine):
            assert await second.hold()  # one server process: nothing to share
            return
        assert not await second.hold()
        assert await first.hold()  # still held, on the same session
        await first.release()
        assert await second.hold()
        assert not await first.hold()
    finally:
        await first.release()
        await second.release()


async def test_leased_work_runs_in_one_process_and_moves_when_its_holder_stops(database: Database) -> None:
    """Two processes' runners of one piece of work: one runs it; when that one stops (its session
    ends, as a killed process's does), the other takes it over at its next try."""
    if is_sqlite(database.engines[0]):
        return  # one server process: the lease is always its own
    running: list[str] = []

    def work(name: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def run() -> None:
            running.append(name)
            await asyncio.Event().wait()

        return run

    first = asyncio.create_task(run_leased(Lease(database.engine(), OUTBOX), work("first"), "outbox", retry=0.02))
    async with asyncio.timeout(5000 * MS):
        while not running:
            await asyncio.sleep(0.01)
    second = asyncio.create_task(run_leased(Lease(database.engine(), OUTBOX), work("second"), "outbox", retry=0.02))
    try:
        await asyncio.sleep(0.2)  # many tries of the second: none takes the lease
        assert running == ["first"]
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        async with asyncio.timeout(5000 * MS):
            while len(running) < 2:
                await asyncio.sleep(0.01)
        assert running == ["first", "second"]
    finally:
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)


async def test_a_holder_whose_session_check_fails_stops_its_work_at_once_and_takes_the_lease_again_later(
    database: Database,
) -> None:
    """A failed check of the holder's session means the lease may be gone: ``hold`` says so at once,
    without trying to take it again in the same call (a connect to a database out of reach can
    hang for a minute, all the while the work would run beside the process that took it over)."""
    engine = database.engines[0]
    if is_sqlite(engine):
        return  # one server process: the lease is always its own
    lease = Lease(engine, OUTBOX)
    try:
        assert await lease.hold()
        conn = lease._conn
        assert conn is not None
        raw = await conn.get_raw_connection()
        raw.driver_connection.terminate()  # type: ignore[union-attr]
        assert not await lease.hold()
        # A later round takes it again, once the database has ended the killed session's lock.
        async with asyncio.timeout(5000 * MS):
            while not await lease.hold():
                await asyncio.sleep(0.05)
    finally:
        await lease.release()


class LostAtTheSecondTry(Lease):
    """A lease held at the first try and lost at every later one."""

    def __init__(self) -> None:
        self.tries = 0

    async def hold(self) -> bool:
        self.tries += 1
        return self.tries == 1

    async def release(self) -> None:
        return None


async def test_a_runner_stopped_while_its_lost_work_winds_down_stops() -> None:
    """The lease is lost and the work takes a while to wind down (closing serial lines); the server
    stops meanwhile. The runner ends, instead of swallowing the stop with the work's own
    cancellation and trying the lease forever."""
    started = asyncio.Event()

    async def work() -> None:
        try:
            started.set()
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.3)

    runner = asyncio.create_task(run_leased(LostAtTheSecondTry(), work, "wired lines", retry=0.01))
    await started.wait()
    await asyncio.sleep(0.1)  # lost at the second try: the work is winding down now
    runner.cancel()
    async with asyncio.timeout(5000 * MS):
        await asyncio.gather(runner, return_exceptions=True)
    assert runner.cancelled()
