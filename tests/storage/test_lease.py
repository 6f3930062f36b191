"""One process runs the case clock: on a shared PostgreSQL the lease is held by one at a time and
passes to another when its holder stops; on SQLite the one server process always holds it."""

from __future__ import annotations

from hall.storage.database import is_sqlite
from hall.storage.lease import CASE_CLOCK, Lease
from tests.conftest import Database


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
